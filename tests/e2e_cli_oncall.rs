//! End to end, real daemon: `who [POLICY] [--at]` across a handover, `test-page` through a
//! live webhook (exit 0) and a dead one (exit 1), and `completions`.

mod daemon_support;
#[path = "daemon_support/hook.rs"]
mod hook;
mod support;

use std::process::Command;

use daemon_support::{BIN, Daemon};
use hook::Hook;

/// alice then bob, one-hour shifts from 2026-11-25 00:00 UTC. carol's channel is dead.
fn config(hook: &Hook, dead_port: u16) -> String {
    format!(
        r#"
[notifiers.hook]
type = "webhook"
url = "{hook}"

[notifiers.dead]
type = "webhook"
url = "http://127.0.0.1:{dead_port}/hook"

[people.alice]
notify = [{{ via = "hook", to = "alice" }}]
[people.bob]
notify = [{{ via = "hook", to = "bob" }}]
[people.carol]
notify = [{{ via = "dead", to = "carol" }}]

[schedules.primary]
time_zone = "UTC"
rotation = ["alice", "bob"]
shift = "1h"
start = "2026-11-25T00:00"

[policies.default]
[[policies.default.steps]]
notify = ["schedule:primary"]
escalate_after = "15m"
[[policies.default.steps]]
notify = ["person:carol", "notifier:hook"]
escalate_after = "30m"

[policies.night]
[[policies.night.steps]]
notify = ["person:bob"]
"#,
        hook = hook.url(),
    )
}

/// Who step 1 of `policy` reaches at `at` (RFC 3339), through `who --json`.
fn step1(d: &Daemon, policy: &str, at: &str) -> Vec<String> {
    let v = d.json(&["who", policy, "--at", at]);
    assert_eq!(v.as_array().unwrap().len(), 1, "{v}");
    v[0]["steps"][0]["targets"][0]["recipients"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r.as_str().unwrap().to_string())
        .collect()
}

#[test]
fn who_across_a_handover() {
    let hook = Hook::start();
    let d = Daemon::start(&config(&hook, support::free_port()));

    assert_eq!(step1(&d, "default", "2026-11-25T00:30:00Z"), ["alice"]);
    assert_eq!(step1(&d, "default", "2026-11-25T00:59:59Z"), ["alice"]);
    assert_eq!(step1(&d, "default", "2026-11-25T01:00:00Z"), ["bob"]);
    assert_eq!(step1(&d, "default", "2026-11-25T02:00:00Z"), ["alice"]);
    assert!(
        step1(&d, "default", "2026-11-24T23:00:00Z").is_empty(),
        "nobody before the schedule starts"
    );
    // An offset is honoured: 02:30+01:00 is 01:30 UTC, bob's shift.
    assert_eq!(step1(&d, "default", "2026-11-25T02:30:00+01:00"), ["bob"]);

    // A civil time is read in the client's zone (TZ).
    let out = Command::new(BIN)
        .args(["who", "default", "--at", "2026-11-25T01:30", "--json"])
        .env("ONCALLD_SOCKET", &d.socket)
        .env("TZ", "UTC")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        v[0]["steps"][0]["targets"][0]["recipients"][0], "bob",
        "{v}"
    );
    assert_eq!(v[0]["at"], "2026-11-25T01:30:00Z", "{v}");

    // Human form: both steps, every target, the one it reaches.
    let text = d.ok(&["who", "default", "--at", "2026-11-25T01:00:00Z"]);
    assert!(text.starts_with("Policy default at "), "{text}");
    for needle in [
        "STEP",
        "schedule:primary",
        "bob",
        "person:carol",
        "carol",
        "notifier:hook",
        "15m",
        "30m",
    ] {
        assert!(text.contains(needle), "{needle:?} missing:\n{text}");
    }
    assert!(!text.contains("alice"), "{text}");
    let text = d.ok(&["who", "default", "--at", "2026-11-24T23:00:00Z"]);
    assert!(text.contains("nobody (step skipped)"), "{text}");

    // No policy: every policy, now.
    let all = d.json(&["who"]);
    let names: Vec<&str> = all
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["policy"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["default", "night"], "{all}");
    let text = d.ok(&["who"]);
    assert!(
        text.contains("Policy default at ") && text.contains("Policy night at "),
        "{text}"
    );

    assert_eq!(d.cli(&["who", "nosuch"]).status.code(), Some(1));
    assert_eq!(d.cli(&["who", "--at", "yesterday"]).status.code(), Some(1));
}

#[test]
fn test_page_reports_delivery_and_exits_by_it() {
    let hook = Hook::start();
    let d = Daemon::start(&config(&hook, support::free_port()));

    // A live channel: delivered, exit 0, the receiver got a "test" page for alice.
    let out = d.cli(&["test-page", "person:alice"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        text.contains("alice") && text.contains("hook") && text.contains("delivered"),
        "{text}"
    );
    let got = hook.pages();
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(
        (got[0].event.as_str(), got[0].recipient.as_str()),
        ("test", "alice")
    );

    let v = d.json(&["test-page", "notifier:hook"]);
    assert_eq!(v["deliveries"][0]["delivered"], true, "{v}");
    assert_eq!(hook.pages().len(), 2);

    // A dead channel (nothing listens on its port): not delivered, exit 1, the error shown.
    let out = d.cli(&["test-page", "person:carol"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains("carol") && text.contains("failed"), "{text}");
    let out = d.cli(&["test-page", "notifier:dead", "--json"]);
    assert_eq!(out.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["deliveries"][0]["delivered"], false, "{v}");
    assert!(
        v["deliveries"][0]["error"]
            .as_str()
            .is_some_and(|e| !e.is_empty()),
        "{v}"
    );

    // Unknown or malformed targets: exit 1 with the daemon's one-line error.
    for bad in ["person:nobody", "notifier:nothing", "alice", ""] {
        let out = d.cli(&["test-page", bad]);
        assert_eq!(out.status.code(), Some(1), "{bad:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.starts_with("oncalld: "), "{bad:?}: {err}");
    }
    assert_eq!(hook.pages().len(), 2, "no stray pages");
}

#[test]
fn completions_for_each_shell() {
    for (shell, marker) in [
        ("bash", "_oncalld()"),
        ("zsh", "#compdef oncalld"),
        ("fish", "complete -c oncalld"),
    ] {
        let out = Command::new(BIN)
            .args(["completions", shell])
            .output()
            .unwrap();
        assert!(out.status.success(), "{shell}");
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.contains(marker), "{shell}: {marker:?} missing");
        for sub in ["status", "ack", "test-page", "unsilence"] {
            assert!(text.contains(sub), "{shell}: {sub} missing");
        }
    }
    let out = Command::new(BIN)
        .args(["completions", "tcsh"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "clap's usage error");
}
