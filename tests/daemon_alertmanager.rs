//! The alertmanager notifier end to end with REAL Alertmanager (Debian's
//! `prometheus-alertmanager`): two peers clustered on loopback, two real daemons watching the
//! same failing HTTP target and paging through both peers — Alertmanager's deduplication
//! gives exactly one firing notification, and one resolved after the target recovers. And
//! Alertmanager down while the page is posted: retried by the outbox, delivered once it is up;
//! then, acknowledged, kept firing by the notifier's re-sends.

mod am_support;
mod daemon_paging_support;
mod daemon_support;
mod support;

use std::time::{Duration, Instant};

use am_support::{Peer, Receiver};
use daemon_paging_support::{messages, wait_incident};
use daemon_support::{Daemon, Target};

/// One check `web` on `target`; notifier `am` posting to `urls`, re-sending every `resend`;
/// step 1 pages it directly.
fn config(target: &str, urls: &[String], resend: &str) -> String {
    let urls: Vec<String> = urls.iter().map(|u| format!("{u:?}")).collect();
    format!(
        r#"
[[check]]
name = "web"
type = "http"
url = "{target}"
interval = "1s"
retry_interval = "1s"
retries = 1
timeout = "1s"

[notifiers.am]
type = "alertmanager"
urls = [{}]
labels = {{ team = "ops" }}
resend = "{resend}"
timeout = "2s"

[policies.default]
[[policies.default.steps]]
notify = ["notifier:am"]
escalate_after = "1h"
"#,
        urls.join(", ")
    )
}

/// Polls `f` every 50 ms until it gives a value; panics after `limit` with `what`.
fn wait<T>(what: &str, limit: Duration, mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn delivered(d: &Daemon) -> bool {
    messages(d, 1, "delivery")
        .iter()
        .any(|m| m.ends_with("delivered"))
}

#[test]
fn two_hosts_two_peers_one_firing_one_resolved() {
    let hook = Receiver::start();
    let (mut a, mut b) = (Peer::planned(), Peer::planned());
    let (ca, cb) = (a.cluster, b.cluster);
    a.start(&hook.url(), &[cb]);
    b.start(&hook.url(), &[ca]);
    wait("the cluster to form", Duration::from_secs(10), || {
        (a.members() == 2 && b.members() == 2).then_some(())
    });
    let target = Target::start();
    let urls = [a.url(), b.url()];
    // A re-send by one host after the other resolved would fire the alert again (the alert is
    // shared, the latest post wins: README). 1 minute keeps re-sends out of this test.
    let host1 = Daemon::start(&config(&target.url(), &urls, "1m"));
    let host2 = Daemon::start(&config(&target.url(), &urls, "1m"));

    target.set_status(503);
    wait_incident(&host1);
    wait_incident(&host2);
    wait(
        "both hosts' pages delivered",
        Duration::from_secs(10),
        || (delivered(&host1) && delivered(&host2)).then_some(()),
    );
    let firing = wait("the firing notification", Duration::from_secs(10), || {
        hook.notifications().into_iter().next()
    });
    assert_eq!(firing["status"], "firing", "{firing}");
    let alert = &firing["alerts"][0];
    assert_eq!(alert["labels"]["alertname"], "web");
    assert_eq!(alert["labels"]["severity"], "critical");
    assert_eq!(alert["labels"]["team"], "ops");
    assert_eq!(alert["labels"].as_object().unwrap().len(), 3, "{alert}");
    assert_eq!(alert["annotations"]["incident"], "1");
    let host = nix::unistd::gethostname().unwrap().into_string().unwrap();
    assert_eq!(alert["annotations"]["instance"], host.as_str());
    assert!(
        alert["annotations"]["summary"]
            .as_str()
            .unwrap()
            .starts_with("web: ")
    );
    // Both peers hold the one alert, from both hosts.
    assert_eq!(a.alerts().len(), 1, "{:?}", a.alerts());
    assert_eq!(b.alerts().len(), 1, "{:?}", b.alerts());

    // Past the second peer's turn (peer timeout 1 s): it saw the first peer's notification
    // in the gossiped log and stayed quiet. (Recovering sooner would change the alert under
    // its feet, and it would rightly notify the firing state it has not seen sent.)
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(hook.statuses(), ["firing"]);

    target.set_status(200);
    wait("the resolved notification", Duration::from_secs(15), || {
        hook.statuses()
            .contains(&"resolved".to_string())
            .then_some(())
    });
    // Past the second peer's wait (peer timeout 1 s): no duplicate.
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(
        hook.statuses(),
        ["firing", "resolved"],
        "{:#?}",
        hook.notifications()
    );
    let resolved = &hook.notifications()[1]["alerts"][0];
    assert_eq!(resolved["status"], "resolved");
    assert_eq!(resolved["labels"], alert["labels"]);
}

#[test]
fn alertmanager_down_the_page_is_retried_and_delivered_when_it_is_back() {
    let hook = Receiver::start();
    let mut am = Peer::planned();
    let target = Target::start();
    let d = Daemon::start(&config(&target.url(), &[am.url()], "10s"));
    target.set_status(503);
    assert_eq!(wait_incident(&d), 1);
    let failed = d.wait_for("a failed attempt", Duration::from_secs(10), || {
        messages(&d, 1, "delivery")
            .into_iter()
            .find(|m| m.contains("retry at"))
    });
    assert!(failed.contains("no peer took the alert"), "{failed}");
    assert!(
        failed.contains(&format!("127.0.0.1:{}", am.web)),
        "{failed}"
    );
    assert!(hook.notifications().is_empty());

    am.start(&hook.url(), &[]);
    d.wait_for("the page delivered", Duration::from_secs(20), || {
        delivered(&d).then_some(())
    });
    let firing = wait("the firing notification", Duration::from_secs(10), || {
        hook.notifications().into_iter().next()
    });
    assert_eq!(firing["status"], "firing", "{firing}");
    assert_eq!(firing["alerts"][0]["labels"]["alertname"], "web");

    // Acknowledged, still firing: the notifier's own task re-sends it every `resend` (10 s),
    // pushing its end out by 4 × resend each time.
    d.ok(&["ack", "1"]);
    d.wait_for("the ack's page delivered", Duration::from_secs(10), || {
        let done = messages(&d, 1, "delivery");
        (done.iter().filter(|m| m.ends_with("delivered")).count() == 2).then_some(())
    });
    let ends = |am: &Peer| am.alerts().first().map(|a| a["endsAt"].to_string());
    let first_end = ends(&am).unwrap();
    wait("the re-send", Duration::from_secs(15), || {
        ends(&am).filter(|e| *e != first_end)
    });
    let alert = am.alerts().into_iter().next().unwrap();
    assert_eq!(alert["status"]["state"], "active", "{alert}");
    assert_eq!(hook.statuses(), ["firing"]);

    // A test page is an alert of its own, never the incident's.
    let v = d.json(&["test-page", "notifier:am"]);
    assert_eq!(v["deliveries"][0]["delivered"], true, "{v}");
    let names: Vec<_> = am
        .alerts()
        .iter()
        .map(|a| a["labels"]["alertname"].as_str().unwrap_or("").to_string())
        .collect();
    assert!(names.contains(&"oncalld_test".to_string()), "{names:?}");
    assert!(names.contains(&"web".to_string()), "{names:?}");
}

/// An open incident's alert is kept alive across a daemon restart: the notifier's re-send set
/// is rebuilt from the store at start (the latest page of each open incident) and re-sent at
/// once, with no new page. Without that, Alertmanager would time the alert out (4 × resend).
#[test]
fn open_incidents_alerts_are_re_sent_after_a_restart() {
    let hook = Receiver::start();
    let mut am = Peer::planned();
    am.start(&hook.url(), &[]);
    let target = Target::start();
    // 1 minute: no re-send before the restart, so a changed end can only come from the start.
    let mut d = Daemon::start(&config(&target.url(), &[am.url()], "1m"));
    target.set_status(503);
    assert_eq!(wait_incident(&d), 1);
    d.wait_for("the page delivered", Duration::from_secs(10), || {
        delivered(&d).then_some(())
    });
    let ends = |am: &Peer| am.alerts().first().map(|a| a["endsAt"].to_string());
    let before = wait("the alert in Alertmanager", Duration::from_secs(5), || {
        ends(&am)
    });

    d.stop();
    // Alertmanager's times are in milliseconds: the re-send must land on a later one.
    std::thread::sleep(Duration::from_millis(20));
    let restarted = Instant::now();
    d.spawn();
    let after = wait(
        "the re-send after the restart",
        Duration::from_secs(10),
        || ends(&am).filter(|e| *e != before),
    );
    assert!(after > before, "{before} → {after}");
    let secs = restarted.elapsed().as_secs_f64();
    let alerts = am.alerts();
    assert_eq!(alerts.len(), 1, "{alerts:?}");
    assert_eq!(alerts[0]["status"]["state"], "active");
    assert_eq!(alerts[0]["annotations"]["incident"], "1");
    // No page was made for it: the incident has its one delivered page.
    assert_eq!(
        messages(&d, 1, "delivery")
            .iter()
            .filter(|m| m.ends_with("delivered"))
            .count(),
        1
    );
    assert!(d.log_text().contains("alerts of open incidents restored"));
    println!("alert re-sent {secs:.2}s after the restart");
    d.stop();
}
