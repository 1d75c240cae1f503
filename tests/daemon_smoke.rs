//! The smallest end-to-end path: a real target goes down, the real daemon opens an incident
//! and pages the console, the target comes back and the incident resolves.

mod daemon_support;

use std::time::Duration;

use daemon_support::{Daemon, Target};

#[test]
fn target_down_opens_an_incident_and_recovery_resolves_it() {
    let target = Target::start();
    let d = Daemon::start(&daemon_support::web_to_console(&target.url(), 2));
    target.set_status(503);
    let id = d.wait_for("an open incident", Duration::from_secs(10), || {
        let s = d.json(&["status"]);
        s["incidents"][0]["id"].as_u64()
    });
    let show = d.json(&["show", &id.to_string()]);
    let kinds: Vec<&str> = show["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["kind"].as_str())
        .collect();
    assert!(kinds.contains(&"triggered"), "{show}");
    assert!(kinds.contains(&"paged"), "{show}");
    assert_eq!(d.cli(&["status"]).status.code(), Some(2));

    target.set_status(200);
    d.wait_for("auto-resolve", Duration::from_secs(10), || {
        let i = d.json(&["show", &id.to_string()]);
        (i["incident"]["state"] == "resolved").then_some(())
    });
    assert_eq!(d.cli(&["status"]).status.code(), Some(0));
}

#[test]
fn show_prints_times_in_the_configured_zone() {
    let d = Daemon::start_with_zone(
        r#"
[[check]]
name = "broken"
type = "command"
command = ["sh", "-c", "exit 2"]
interval = "1s"
retry_interval = "1s"
retries = 1

[notifiers.log]
type = "console"

[policies.default]
[[policies.default.steps]]
notify = ["notifier:log"]
"#,
        "Europe/Paris",
    );
    let id = d.wait_for("an open incident", Duration::from_secs(10), || {
        d.json(&["status"])["incidents"][0]["id"].as_u64()
    });
    // The client runs in UTC; the daemon is configured for Paris (CET in November).
    let out = std::process::Command::new(daemon_support::BIN)
        .args(["show", &id.to_string()])
        .env("ONCALLD_SOCKET", &d.socket)
        .env("TZ", "UTC")
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    assert!(text.contains(" CET"), "times not in Europe/Paris:\n{text}");
    assert!(
        !text.contains(" UTC"),
        "times in the client's zone:\n{text}"
    );
}
