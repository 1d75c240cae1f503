//! Alertmanager as a source of incidents end to end (SPEC §11 "In"): the real daemon with
//! `daemon.listen` and `[sources.prom]`, Alertmanager's webhook payloads (version "4", the
//! captured format) posted with the real `curl`, pages seen by a real webhook receiver.

mod daemon_support;
#[path = "daemon_support/hook.rs"]
mod hook;
#[path = "daemon_support/small_disk.rs"]
mod small_disk;
mod support;

use std::process::Command;
use std::time::Duration;

use daemon_support::{Daemon, alice_then_bob_via_webhook};
use hook::Hook;
use small_disk::SmallDisk;

const TOKEN: &str = "am-s3cr3t-token-0123456789";

fn config(hook: &str) -> String {
    format!(
        r#"{}
[policies.db-oncall]
[[policies.db-oncall.steps]]
notify = ["person:bob"]
escalate_after = "1h"

[sources.prom]
type = "alertmanager"
token = "{TOKEN}"
policy = "default"
[[sources.prom.routes]]
match = {{ team = "db" }}
policy = "db-oncall"
"#,
        alice_then_bob_via_webhook(hook, "1h")
    )
}

/// An Alertmanager notification as it sends it (receiver, groupKey, ... are ignored).
fn payload(status: &str, fingerprint: &str, team: &str) -> String {
    format!(
        r#"{{"receiver":"oncalld","status":"{status}","version":"4",
"groupKey":"{{}}:{{alertname=\"DiskFull\"}}","truncatedAlerts":0,
"groupLabels":{{"alertname":"DiskFull"}},"commonLabels":{{"alertname":"DiskFull"}},
"commonAnnotations":{{}},"externalURL":"http://am:9093",
"alerts":[{{"status":"{status}","labels":{{"alertname":"DiskFull","instance":"db-1:9100","team":"{team}"}},
"annotations":{{"summary":"disk full on db-1"}},"startsAt":"2026-03-02T10:00:00.000Z",
"endsAt":"0001-01-01T00:00:00Z","generatorURL":"http://prom:9090/graph?g0.expr=disk",
"fingerprint":"{fingerprint}"}}]}}"#
    )
}

/// POST `body` (`@file` or text) with `token`; the HTTP status code.
fn post(url: &str, token: Option<&str>, body: &str) -> String {
    let mut cmd = Command::new("curl");
    cmd.args(["-sS", "-m", "20", "-o", "/dev/null", "-w", "%{http_code}"]);
    cmd.args(["-H", "Content-Type: application/json"]);
    if let Some(t) = token {
        cmd.args(["-H", &format!("Authorization: Bearer {t}")]);
    }
    let out = cmd
        .args(["--data-binary", body, url])
        .output()
        .expect("curl is installed");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn open_incidents(d: &Daemon) -> Vec<serde_json::Value> {
    d.json(&["status"])["incidents"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

fn start(hook: &Hook) -> (Daemon, u16) {
    let (mut d, port) = prepare(hook);
    let log = std::fs::File::create(&d.log).unwrap();
    d.spawn_with(log.into(), "debug");
    (d, port)
}

/// The files of [`start`], not started.
fn prepare(hook: &Hook) -> (Daemon, u16) {
    let d = Daemon::unstarted(&config(&hook.url()), "UTC");
    let port = support::free_port();
    let file = std::fs::read_to_string(&d.config).unwrap();
    let file = file.replacen(
        "time_zone = \"UTC\"\n",
        &format!("time_zone = \"UTC\"\nlisten = \"127.0.0.1:{port}\"\n"),
        1,
    );
    std::fs::write(&d.config, file).unwrap();
    (d, port)
}

#[test]
fn firing_pages_the_routed_policy_repeats_change_nothing_resolved_resolves() {
    let hook = Hook::start();
    let (mut d, port) = start(&hook);
    let url = format!("http://127.0.0.1:{port}/v1/alertmanager/prom");

    assert_eq!(
        post(&url, Some(TOKEN), &payload("firing", "f00d", "db")),
        "200"
    );
    // 200 only after the commit: the incident is there as soon as the answer is.
    let open = open_incidents(&d);
    assert_eq!(open.len(), 1, "{open:?}");
    assert_eq!(open[0]["check"], "prom/DiskFull");
    let id = open[0]["id"].as_u64().unwrap();
    let paged = d.wait_for("a page", Duration::from_secs(5), || {
        let p = hook.of(id, "triggered");
        (!p.is_empty()).then_some(p)
    });
    assert_eq!(paged[0].recipient, "bob", "routed to db-oncall");
    let shown = d.ok(&["show", &id.to_string()]);
    assert!(shown.contains("disk full on db-1"), "{shown}");
    assert!(
        shown.contains("generatorURL: http://prom:9090/graph"),
        "{shown}"
    );
    assert!(shown.contains("team=\"db\""), "{shown}");

    // A repeat (Alertmanager's repeat_interval) changes nothing.
    assert_eq!(
        post(&url, Some(TOKEN), &payload("firing", "f00d", "db")),
        "200"
    );
    assert_eq!(open_incidents(&d).len(), 1);

    // Another fingerprint without a route goes to the default policy (alice).
    assert_eq!(
        post(&url, Some(TOKEN), &payload("firing", "beef", "web")),
        "200"
    );
    assert_eq!(open_incidents(&d).len(), 2);
    d.wait_for("alice paged", Duration::from_secs(5), || {
        hook.pages()
            .iter()
            .any(|g| g.recipient == "alice" && g.event == "triggered")
            .then_some(())
    });

    assert_eq!(
        post(&url, Some(TOKEN), &payload("resolved", "f00d", "db")),
        "200"
    );
    let open = open_incidents(&d);
    assert_eq!(open.len(), 1);
    assert_ne!(open[0]["id"].as_u64(), Some(id));
    d.wait_for("resolved page", Duration::from_secs(5), || {
        (!hook.of(id, "resolved").is_empty()).then_some(())
    });
    assert_eq!(hook.of(id, "triggered").len(), 1, "the repeat paged nobody");

    // A restart keeps the fingerprint: the open alert's repeat opens nothing new.
    d.stop();
    d.spawn_with(std::fs::File::create(&d.log).unwrap().into(), "debug");
    assert_eq!(
        post(&url, Some(TOKEN), &payload("firing", "beef", "web")),
        "200"
    );
    assert_eq!(open_incidents(&d).len(), 1);
    d.stop();
    assert!(!d.log_text().contains(TOKEN), "the token was logged");
}

#[test]
fn bad_requests_are_refused_and_store_nothing() {
    let hook = Hook::start();
    let (mut d, port) = start(&hook);
    let url = format!("http://127.0.0.1:{port}/v1/alertmanager/prom");
    let good = payload("firing", "f00d", "db");

    assert_eq!(post(&url, None, &good), "401");
    assert_eq!(post(&url, Some("wrong-token-0123456789"), &good), "401");
    let other = format!("http://127.0.0.1:{port}/v1/alertmanager/nope");
    assert_eq!(post(&other, Some(TOKEN), &good), "404");
    assert_eq!(post(&url, Some(TOKEN), "{not json"), "400");
    let v3 = good.replace("\"version\":\"4\"", "\"version\":\"3\"");
    assert_eq!(post(&url, Some(TOKEN), &v3), "400");

    // 5 MB: refused whole (413), not cut like a ping's body.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("big.json");
    let mut big = good.clone().into_bytes();
    big.truncate(big.len() - 2);
    big.extend(std::iter::repeat_n(b' ', 5_000_000));
    big.extend(b"]}");
    std::fs::write(&file, &big).unwrap();
    assert_eq!(
        post(&url, Some(TOKEN), &format!("@{}", file.display())),
        "413"
    );

    assert!(open_incidents(&d).is_empty());
    assert_eq!(d.json(&["incidents", "--all"]), serde_json::json!([]));
    assert!(hook.pages().is_empty());
    // The daemon still works after all that.
    assert_eq!(post(&url, Some(TOKEN), &good), "200");
    assert_eq!(open_incidents(&d).len(), 1);
    d.stop();
}

/// The state dir on a real 4 MiB tmpfs, filled: the step cannot be saved, so the answer is 503
/// (Alertmanager retries) and nothing happened; once there is room, the retry lands once.
#[test]
fn store_not_durable_answers_503_and_the_retry_lands() {
    let hook = Hook::start();
    let (mut d, port) = prepare(&hook);
    let Some(disk) = SmallDisk::mount(&d.state, "4m") else {
        println!("SKIPPED: cannot mount a tmpfs here (not root?); the 503 path was not run");
        return;
    };
    d.spawn_with(std::fs::File::create(&d.log).unwrap().into(), "debug");
    let url = format!("http://127.0.0.1:{port}/v1/alertmanager/prom");
    disk.fill();

    assert_eq!(
        post(&url, Some(TOKEN), &payload("firing", "f00d", "db")),
        "503"
    );
    assert!(open_incidents(&d).is_empty(), "not saved, not applied");
    std::thread::sleep(std::time::Duration::from_millis(300));
    assert!(hook.pages().is_empty(), "{:?}", hook.pages());

    disk.free();
    // Alertmanager's retry of the same notification.
    let code = d.wait_for("a 200 once there is room", Duration::from_secs(10), || {
        let c = post(&url, Some(TOKEN), &payload("firing", "f00d", "db"));
        (c == "200").then_some(c)
    });
    assert_eq!(code, "200");
    let open = open_incidents(&d);
    assert_eq!(open.len(), 1, "{open:?}");
    let id = open[0]["id"].as_u64().unwrap();
    d.wait_for("the page", Duration::from_secs(5), || {
        (!hook.of(id, "triggered").is_empty()).then_some(())
    });
    std::thread::sleep(std::time::Duration::from_millis(300));
    assert_eq!(hook.pages().len(), 1, "paged once: {:?}", hook.pages());
    d.stop();
}
