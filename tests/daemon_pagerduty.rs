//! PagerDuty end to end: the real daemon, a real HTTP target, and tests/pd_support — a local
//! stand-in for the internet service (PagerDuty cannot be reached from here) that implements
//! the documented Events API v2 contract. Target DOWN → `trigger`; `oncalld ack` →
//! `acknowledge`; target UP → `resolve`, all on one `dedup_key`; a 429 is retried after its
//! `Retry-After`; a 400 is failed for good on the timeline, never retried.

mod daemon_paging_support;
mod daemon_support;
mod pd_support;

use std::time::{Duration, Instant};

use daemon_paging_support::{messages, wait_incident};
use daemon_support::{Daemon, Target};
use pd_support::{Forced, PdReceiver};

const KEY: &str = "R0UT1NGK3Ys3cr3t0123456789abcdef";

/// One check `web` on `target`; notifier `pd` at `url` with `key`; step 1 pages `who`.
fn config(target: &str, url: &str, key: &str, who: &str) -> String {
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

[notifiers.pd]
type = "pagerduty"
routing_key = "{key}"
url = "{url}"
timeout = "2s"

[people.alice]
notify = [{{ via = "pd" }}]

[policies.default]
[[policies.default.steps]]
notify = ["{who}"]
escalate_after = "1h"
"#
    )
}

fn host() -> String {
    nix::unistd::gethostname().unwrap().into_string().unwrap()
}

fn deliveries(d: &Daemon) -> Vec<String> {
    messages(d, 1, "delivery")
}

#[test]
fn trigger_acknowledge_resolve_on_one_dedup_key() {
    let target = Target::start();
    let pd = PdReceiver::start();
    let d = Daemon::start(&config(&target.url(), &pd.url(), KEY, "notifier:pd"));
    target.set_status(503);
    assert_eq!(wait_incident(&d), 1);
    d.wait_for("the trigger", Duration::from_secs(10), || {
        (pd.accepted().len() == 1).then_some(())
    });
    d.ok(&["ack", "1"]);
    d.wait_for("the acknowledge", Duration::from_secs(10), || {
        (pd.accepted().len() == 2).then_some(())
    });
    target.set_status(200);
    d.wait_for("the resolve", Duration::from_secs(10), || {
        (pd.accepted().len() == 3).then_some(())
    });
    d.wait_for("three deliveries", Duration::from_secs(5), || {
        let done = deliveries(&d);
        (done.iter().filter(|m| m.ends_with("delivered")).count() == 3).then_some(())
    });

    let events = pd.events();
    let actions: Vec<_> = events.iter().map(|e| e.action()).collect();
    assert_eq!(actions, ["trigger", "acknowledge", "resolve"]);
    let dedup = format!("oncalld:{}:1", host());
    assert!(events.iter().all(|e| e.dedup_key() == dedup), "{events:?}");
    assert!(events.iter().all(|e| e.body["routing_key"] == KEY));
    let p = &events[0].body["payload"];
    assert_eq!(p["source"], host().as_str());
    assert_eq!(p["severity"], "critical");
    assert!(
        p["summary"].as_str().unwrap().starts_with("#1 web: "),
        "{p}"
    );
    assert!(p["summary"].as_str().unwrap().contains("503"), "{p}");
    let details = &p["custom_details"];
    assert_eq!(details["check"], "web");
    assert_eq!(details["target"], target.url().as_str());
    assert_eq!(details["recipient"], "pd");
    assert_eq!(details["step"], 1);
    assert_eq!(details["timeline"], "oncalld show 1");
    // The routing key is in no output: timeline, status, the log.
    let shown = d.ok(&["show", "1", "--json"]) + &d.ok(&["status", "--json"]);
    assert!(!shown.contains(KEY) && !d.log_text().contains(KEY));

    // A test page through a person: an alert of its own, never the incident's.
    let v = d.json(&["test-page", "person:alice"]);
    assert_eq!(v["deliveries"][0]["delivered"], true, "{v}");
    let test = pd.events().pop().unwrap();
    assert_eq!(test.action(), "trigger");
    let prefix = format!("oncalld:{}:test:", host());
    assert!(test.dedup_key().starts_with(&prefix), "{test:?}");
    let summary = test.body["payload"]["summary"].as_str().unwrap();
    assert!(summary.starts_with("TEST page from oncalld"), "{summary}");
}

#[test]
fn throttled_event_is_retried_after_retry_after() {
    let target = Target::start();
    let pd = PdReceiver::start();
    pd.force(Forced::TooMany("2".into()));
    let d = Daemon::start(&config(&target.url(), &pd.url(), KEY, "person:alice"));
    target.set_status(503);
    wait_incident(&d);
    d.wait_for("the retried trigger", Duration::from_secs(15), || {
        (pd.accepted().len() == 1).then_some(())
    });
    let events = pd.events();
    assert_eq!(events.len(), 2, "{events:?}");
    assert_eq!((events[0].status, events[1].status), (429, 202));
    assert_eq!(events[0].body, events[1].body, "the same event, retried");
    let gap = events[1].at.duration_since(events[0].at).unwrap();
    assert!(gap >= Duration::from_millis(1900), "retried after {gap:?}");
    let tries = d.wait_for("the delivery recorded", Duration::from_secs(5), || {
        let t = deliveries(&d);
        t.last()
            .is_some_and(|m| m.ends_with("delivered"))
            .then_some(t)
    });
    assert_eq!(tries.len(), 2, "{tries:?}");
    assert!(
        tries[0].starts_with("page to alice via pd (attempt 1): failed (pagerduty answered 429"),
        "{tries:?}"
    );
}

#[test]
fn refused_event_fails_for_good_and_is_not_retried() {
    let target = Target::start();
    let pd = PdReceiver::start();
    let bad_key = "s3cr3t-but-31-characters-long!!";
    let d = Daemon::start(&config(&target.url(), &pd.url(), bad_key, "person:alice"));
    target.set_status(503);
    wait_incident(&d);
    let tries = d.wait_for("the failure recorded", Duration::from_secs(10), || {
        let t = deliveries(&d);
        (!t.is_empty()).then_some(t)
    });
    assert_eq!(
        tries,
        [
            "page to alice via pd (attempt 1): failed for good (pagerduty answered 400 Bad \
          Request: Event object is invalid: Length of 'routing_key' is incorrect (should be 32 \
          characters))"
        ]
    );
    // A retry would come within the first backoff (at most 1 s): wait 2.5 s for none.
    let until = Instant::now() + Duration::from_millis(2500);
    while Instant::now() < until {
        assert_eq!(pd.events().len(), 1, "retried: {:?}", pd.events());
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(deliveries(&d).len(), 1);

    // `test-page` says why, and exits 1.
    let out = d.cli(&["test-page", "notifier:pd"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(
        text.contains("Length of 'routing_key' is incorrect"),
        "{text}"
    );
    assert!(!text.contains(bad_key) && !d.log_text().contains(bad_key));
}
