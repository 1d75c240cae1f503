//! Heartbeat checks end to end (SPEC §10): the real daemon, pinged with the real
//! `oncalld ping` over its socket, paging a real webhook receiver through the usual policy.

mod daemon_support;
#[path = "daemon_support/hook.rs"]
mod hook;
mod support;

use std::time::{Duration, Instant};

use daemon_support::{Daemon, alice_then_bob_via_webhook};
use hook::Hook;
use jiff::Timestamp;
use serde_json::Value;

fn config(hook_url: &str, job: &str) -> String {
    format!(
        r#"{}
[[check]]
name = "job"
type = "heartbeat"
token = "job-token-0123456789"
{job}

[[check]]
name = "fresh"
type = "heartbeat"
token = "fresh-token-0123456789"
period = "2s"
grace = "1s"

[[check]]
name = "runner"
type = "heartbeat"
token = "runner-token-0123456789"
period = "1h"
grace = "1s"

[[check]]
name = "local"
type = "command"
command = ["/bin/true"]
interval = "1h"
"#,
        alice_then_bob_via_webhook(hook_url, "1h")
    )
}

fn check<'a>(status: &'a Value, name: &str) -> &'a Value {
    status["checks"]
        .as_array()
        .and_then(|a| a.iter().find(|c| c["name"] == name))
        .unwrap_or_else(|| panic!("no check {name} in {status}"))
}

/// The open incident of `name`, if any.
fn incident_of(d: &Daemon, name: &str) -> Option<u64> {
    let status = d.json(&["status"]);
    status["incidents"]
        .as_array()?
        .iter()
        .find(|i| i["check"] == name)
        .and_then(|i| i["id"].as_u64())
}

fn wait_open(d: &Daemon, name: &str, limit: Duration) -> u64 {
    d.wait_for(&format!("an incident on {name}"), limit, || {
        incident_of(d, name)
    })
}

fn wait_closed(d: &Daemon, name: &str) {
    d.wait_for(&format!("{name} resolved"), Duration::from_secs(5), || {
        incident_of(d, name).is_none().then_some(())
    });
}

#[test]
fn pings_keep_up_late_fail_exit_start_page_and_success_resolves() {
    let hook = Hook::start();
    let d = Daemon::start(&config(&hook.url(), "period = \"2s\"\ngrace = \"1s\""));
    let status = d.json(&["status"]);
    assert_eq!(check(&status, "job")["state"], "NEW");
    assert_eq!(check(&status, "job")["type"], "heartbeat");

    // Success keeps UP: a ping every 0.5 s for 4 s (longer than period + grace).
    let out = d.ok(&["ping", "job"]);
    assert_eq!(out.trim(), "Recorded: job is UP.");
    let until = Instant::now() + Duration::from_secs(4);
    let mut last = Instant::now();
    while Instant::now() < until {
        std::thread::sleep(Duration::from_millis(500));
        d.ok(&["ping", "job", "-m", "backup done"]);
        last = Instant::now();
    }
    assert_eq!(incident_of(&d, "job"), None, "pinged in time: no incident");
    let status = d.json(&["status"]);
    let job = check(&status, "job");
    assert_eq!(job["state"], "UP");
    assert!(job["last_ping"].is_string() && job["expected_next"].is_string());
    assert_eq!(job["last_message"], "backup done");

    // Missed: pages within period + grace + 1 s of the last ping.
    let id = wait_open(&d, "job", Duration::from_secs(6));
    let late = last.elapsed();
    assert!(
        late <= Duration::from_secs(4),
        "paged {late:?} after the last ping"
    );
    assert!(late >= Duration::from_millis(2900), "paged early: {late:?}");
    d.wait_for("alice paged", Duration::from_secs(5), || {
        (!hook.of(id, "triggered").is_empty()).then_some(())
    });
    let summary = d.json(&["show", &id.to_string()])["incident"]["summary"].clone();
    let summary = summary.as_str().unwrap_or_default().to_string();
    assert!(summary.starts_with("no ping since "), "{summary}");
    assert!(summary.ends_with("; expected every 2s"), "{summary}");

    // A success resolves.
    d.ok(&["ping", "job"]);
    wait_closed(&d, "job");
    d.wait_for("the resolved page", Duration::from_secs(5), || {
        (!hook.of(id, "resolved").is_empty()).then_some(())
    });

    // --fail pages at once, the whole body in the timeline, its first line the summary.
    let out = d.ok(&[
        "ping",
        "runner",
        "--fail",
        "-m",
        "disk full\nrsync: error 23 at rsync://backup:hunter2@nas/x",
    ]);
    assert_eq!(out.trim(), "Recorded: runner is DOWN.");
    let id = wait_open(&d, "runner", Duration::from_secs(2));
    let shown = d.ok(&["show", &id.to_string()]);
    assert!(shown.contains("disk full"), "{shown}");
    assert!(shown.contains("rsync: error 23"), "{shown}");
    // A password in the body is starred where the ping enters: not shown, not logged.
    assert!(shown.contains("rsync://backup:***@nas/x"), "{shown}");
    assert!(!shown.contains("hunter2") && !d.log_text().contains("hunter2"));
    assert_eq!(
        d.json(&["show", &id.to_string()])["incident"]["summary"],
        "disk full"
    );
    d.ok(&["ping", "runner", "--exit", "0"]);
    wait_closed(&d, "runner");

    // --exit 2 pages at once too.
    d.ok(&["ping", "runner", "--exit", "2"]);
    let id = wait_open(&d, "runner", Duration::from_secs(2));
    assert_eq!(
        d.json(&["show", &id.to_string()])["incident"]["summary"],
        "exit code 2"
    );
    d.ok(&["ping", "runner"]);
    wait_closed(&d, "runner");

    // --start without a finish pages after grace (1 s).
    let started = Instant::now();
    d.ok(&["ping", "runner", "--start"]);
    wait_open(&d, "runner", Duration::from_secs(3));
    assert!(started.elapsed() >= Duration::from_secs(1));

    // NEW never pages, however long it waits (it has been more than period + grace).
    let status = d.json(&["status"]);
    assert_eq!(check(&status, "fresh")["state"], "NEW");
    assert_eq!(incident_of(&d, "fresh"), None);

    // Unknown check, or not a heartbeat: exit 1 with a reason.
    for name in ["nope", "local"] {
        let out = d.cli(&["ping", name]);
        assert_eq!(out.status.code(), Some(1), "{name}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("no heartbeat check"), "{err}");
    }
    // --json answers the outcome.
    let v = d.json(&["ping", "job", "--log", "-m", "note"]);
    assert_eq!(v["check"], "job");
    // The token is shown nowhere.
    let text = String::from_utf8_lossy(&d.cli(&["status"]).stdout).into_owned();
    assert!(
        text.contains("never pinged") && text.contains("last ping "),
        "{text}"
    );
    let all = format!("{text}{}", d.json(&["status"]));
    assert!(!all.contains("token-0123456789"), "{all}");
    // /metrics has the last ping of the checks pinged, not of the NEW one.
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let client = oncalld::api::client::Client::new(&d.socket);
    let metrics = rt.block_on(client.get_text("/metrics")).unwrap();
    let line = metrics
        .lines()
        .find(|l| l.starts_with("oncalld_heartbeat_last_ping_timestamp_seconds{check=\"job\"}"))
        .unwrap_or_else(|| panic!("{metrics}"));
    let secs: i64 = line.rsplit(' ').next().unwrap().parse().unwrap();
    assert!((Timestamp::now().as_second() - secs).abs() < 60, "{line}");
    assert!(!metrics.contains("last_ping_timestamp_seconds{check=\"fresh\"}"));
}

/// The `heartbeats` row of `check` has its last ping stored.
fn stored_ping(d: &Daemon, check: &str) -> Option<i64> {
    let db = d.state.join("oncalld.db");
    let conn =
        rusqlite::Connection::open_with_flags(&db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .ok()?;
    conn.query_row(
        "SELECT last_ping_at FROM heartbeats WHERE check_name = ?1",
        [check],
        |r| r.get::<_, Option<i64>>(0),
    )
    .ok()
    .flatten()
}

#[test]
fn kill9_and_restart_keep_the_last_ping_and_do_not_page_early() {
    let hook = Hook::start();
    let mut d = Daemon::start(&config(&hook.url(), "period = \"1s\"\ngrace = \"2s\""));
    d.ok(&["ping", "job", "-m", "nightly ok"]);
    // Answered only once saved: it is on disk the moment `ping` returns.
    assert!(
        stored_ping(&d, "job").is_some(),
        "the ping was answered before it was saved"
    );
    let before = d.json(&["status"]);
    let pinged = check(&before, "job")["last_ping"].clone();
    d.kill9();
    // Down for longer than period + grace: the ping is overdue when the daemon comes back.
    std::thread::sleep(Duration::from_millis(3500));
    let restarted = Timestamp::now();
    d.spawn();
    let after = d.json(&["status"]);
    let job = check(&after, "job");
    assert_eq!(job["last_ping"], pinged, "last ping kept");
    assert_eq!(job["state"], "UP");
    assert_eq!(
        job["last_message"],
        Value::Null,
        "no probe result since the restart"
    );
    // Not late before grace (2 s) has passed since the start...
    std::thread::sleep(Duration::from_millis(1200));
    assert_eq!(incident_of(&d, "job"), None, "paged early after a restart");
    // ...and late soon after.
    let id = wait_open(&d, "job", Duration::from_secs(4));
    let waited = Timestamp::now().duration_since(restarted);
    assert!(waited.as_secs_f64() >= 2.0, "{waited:?}");
    let summary = d.json(&["show", &id.to_string()])["incident"]["summary"].clone();
    assert!(
        summary
            .as_str()
            .unwrap_or_default()
            .starts_with("no ping since "),
        "{summary}"
    );
}

#[test]
fn reload_adds_updates_and_removes_heartbeat_checks_keeping_the_last_ping() {
    let hook = Hook::start();
    let d = Daemon::start(&config(&hook.url(), "period = \"1h\""));
    d.ok(&["ping", "job", "-m", "first"]);
    let pinged = check(&d.json(&["status"]), "job")["last_ping"].clone();
    // `job` changes (grace, token), `extra` is new, `fresh` and `runner` go.
    let new_config = format!(
        r#"{}
[[check]]
name = "job"
type = "heartbeat"
token = "job-token-changed-0123"
period = "1h"
grace = "10m"

[[check]]
name = "extra"
type = "heartbeat"
token = "extra-token-0123456789"
cron = "0 4 * * *"
"#,
        alice_then_bob_via_webhook(&hook.url(), "1h")
    );
    d.rewrite_config(&new_config);
    d.ok(&["reload"]);
    let status = d.json(&["status"]);
    let job = check(&status, "job");
    assert_eq!(job["last_ping"], pinged, "kept across the reload");
    assert_eq!(job["state"], "UP");
    assert_eq!(check(&status, "extra")["state"], "NEW");
    assert!(
        check(&status, "extra")["target"]
            .as_str()
            .is_some_and(|t| t.contains("0 4 * * *"))
    );
    assert_eq!(d.ok(&["ping", "extra"]).trim(), "Recorded: extra is UP.");
    assert_eq!(d.cli(&["ping", "runner"]).status.code(), Some(1), "removed");
    assert_eq!(incident_of(&d, "job"), None);
}
