//! Fault injection against the real binary (SPEC §9, issue 10): a full disk under the state
//! dir, a page older than 24 h in the outbox at start, a notifier that disappears after a
//! restart. Each prints its figures (`cargo test -- --nocapture` shows them).
//!
//! The full disk is a real 4 MiB tmpfs mounted on the state dir, which needs root (CI runs as
//! root). Where mounting is impossible the disk test says so and skips the fault instead of
//! passing silently.

mod daemon_paging_support;
mod daemon_support;
#[path = "daemon_support/hook.rs"]
mod hook;
#[path = "daemon_support/small_disk.rs"]
mod small_disk;
mod support;

use std::io::{Read, Write};
use std::time::{Duration, Instant};

use daemon_paging_support::{messages, timeline, wait_incident};
use daemon_support::{Daemon, Target};
use hook::Hook;
use small_disk::SmallDisk;

/// `GET /metrics` over the daemon's control socket.
fn metrics(d: &Daemon) -> String {
    let mut s = std::os::unix::net::UnixStream::connect(&d.socket).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    s.write_all(b"GET /metrics HTTP/1.1\r\nHost: oncalld\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut out = String::new();
    let _ = s.read_to_string(&mut out);
    out
}

fn metric(d: &Daemon, name: &str) -> Option<f64> {
    metrics(d).lines().find_map(|l| {
        let (k, v) = l.split_once(' ')?;
        (k == name).then(|| v.trim().parse().ok())?
    })
}

fn one_check_config(target: &str, hook: &str, notifier: &str) -> String {
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

[notifiers.{notifier}]
type = "webhook"
url = "{hook}"
timeout = "2s"

[people.alice]
notify = [{{ via = "{notifier}", to = "alice" }}]

[policies.default]
[[policies.default.steps]]
notify = ["person:alice"]
escalate_after = "1h"
"#
    )
}

#[test]
fn disk_full_pages_anyway_refuses_commands_and_catches_up_when_freed() {
    let target = Target::start();
    let hook = Hook::start();
    let mut d = Daemon::unstarted(&one_check_config(&target.url(), &hook.url(), "hook"), "UTC");
    let Some(disk) = SmallDisk::mount(&d.state, "4m") else {
        println!("SKIPPED: cannot mount a tmpfs here (not root?); the disk-full fault was not run");
        return;
    };
    d.spawn();
    d.wait_for("web UP", Duration::from_secs(10), || {
        let s = d.json(&["status"]);
        (s["checks"][0]["state"] == "UP").then_some(())
    });
    let filled = disk.fill();

    let down_at = Instant::now();
    target.set_status(503);
    // The page goes out although its step cannot be saved.
    let page = d.wait_for(
        "the page while the disk is full",
        Duration::from_secs(10),
        || hook.of(1, "triggered").first().cloned(),
    );
    let page_secs = down_at.elapsed().as_secs_f64();
    // The daemon says its state is not durable: status (first line, exit 2) and metrics.
    let out = d.wait_for("status saying not durable", Duration::from_secs(10), || {
        let out = d.cli(&["status"]);
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        text.starts_with("STATE NOT DURABLE").then_some(out)
    });
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(metric(&d, "oncalld_store_ok"), Some(0.0));
    assert!(metric(&d, "oncalld_store_errors_total").unwrap_or(0.0) >= 1.0);
    assert!(d.log_text().contains("State is NOT durable"));

    // An ack while the disk is full is refused and does not happen.
    let ack = d.cli(&["ack", "1"]);
    assert!(!ack.status.success(), "ack succeeded on a full disk");
    let stderr = String::from_utf8_lossy(&ack.stderr);
    assert!(stderr.contains("nothing was changed"), "{stderr}");
    let s = d.json(&["status"]);
    assert_eq!(s["incidents"][0]["state"], "triggered", "{s}");

    // Space comes back: the held step lands, in order, and commands work again.
    disk.free();
    let freed_at = Instant::now();
    d.wait_for("durable again", Duration::from_secs(10), || {
        (metric(&d, "oncalld_store_ok") == Some(1.0)).then_some(())
    });
    let durable_secs = freed_at.elapsed().as_secs_f64();
    let id = wait_incident(&d);
    assert_eq!(id, 1);
    // The held step is on the timeline: the incident opened and alice was paged.
    assert_eq!(
        messages(&d, id, "triggered").len(),
        1,
        "{:?}",
        timeline(&d, id)
    );
    assert_eq!(messages(&d, id, "paged").len(), 1, "{:?}", timeline(&d, id));
    d.wait_for(
        "the delivery on the timeline",
        Duration::from_secs(10),
        || {
            messages(&d, id, "delivery")
                .iter()
                .any(|m| m.contains("delivered"))
                .then_some(())
        },
    );
    d.ok(&["ack", "1"]);
    assert_eq!(hook.of(1, "triggered").len(), 1, "{:?}", hook.pages());
    println!(
        "disk full ({filled} bytes of filler): page sent {page_secs:.2}s after DOWN, key {}; \
         durable {durable_secs:.2}s after the space was freed; pages lost: 0",
        page.key
    );
    d.stop();
}

#[test]
fn stale_and_orphaned_outbox_pages_are_recorded_not_sent() {
    use jiff::{Timestamp, ToSpan};
    use oncalld::core::model::{IncidentState, Page, PageEvent};

    let target = Target::start();
    let hook = Hook::start();
    let mut d = Daemon::unstarted(&one_check_config(&target.url(), &hook.url(), "hook"), "UTC");
    let now = Timestamp::now();
    let page = |n: u64, notifier: &str, created_at: Timestamp| Page {
        key: Page::idempotency_key(n, 1, "alice", notifier),
        incident: n,
        seq: 1,
        event: PageEvent::Triggered,
        recipient: "alice".into(),
        notifier: notifier.into(),
        to: Some("alice".into()),
        step: 1,
        check: "web".into(),
        summary: "HTTP 503".into(),
        incident_state: IncidentState::Triggered,
        opened_at: created_at,
        also_paged: vec![],
        text: format!("TRIGGERED #{n} web: HTTP 503"),
        created_at,
        digest: Vec::new(),
    };
    let stale = page(1, "hook", now.checked_sub(25.hours()).unwrap());
    let orphan = page(2, "gone", now.checked_sub(1.minute()).unwrap());
    {
        let mut store = oncalld::store::Store::open(&d.state).unwrap();
        let batch = oncalld::store::Batch {
            pages: vec![stale.clone(), orphan.clone()],
            ..Default::default()
        };
        store.commit(&batch).unwrap();
    }
    let started = Instant::now();
    d.spawn();
    let outcome = |n: u64| {
        let store = oncalld::store::Store::open(&d.state).unwrap();
        store.pages_for(n).unwrap()
    };
    let stale_rec = d.wait_for("the stale page recorded", Duration::from_secs(10), || {
        outcome(1)
            .into_iter()
            .find(|p| p.status.as_str() == "failed")
    });
    let orphan_rec = d.wait_for("the orphan page recorded", Duration::from_secs(10), || {
        outcome(2)
            .into_iter()
            .find(|p| p.status.as_str() == "failed")
    });
    let secs = started.elapsed().as_secs_f64();
    let stale_err = stale_rec.last_error.clone().unwrap_or_default();
    let orphan_err = orphan_rec.last_error.clone().unwrap_or_default();
    assert!(stale_err.starts_with("expired"), "{stale_err}");
    assert_eq!(orphan_err, "notifier gone was removed");
    std::thread::sleep(Duration::from_millis(300));
    assert!(hook.pages().is_empty(), "sent: {:?}", hook.pages());
    println!(
        "stale page (25h old) at start: recorded {stale_err:?}, not sent; page to a removed \
         notifier: {orphan_err:?} ({secs:.2}s after start)"
    );
    d.stop();
}

/// Routine heartbeat pings (a success on an UP check) are answered before they are stored; on
/// a full disk their flush is held and retried like any step (SPEC §9): the ping is still
/// answered, the daemon says it is not durable, and once space is back the last ping lands
/// and survives a `kill -9`.
#[test]
fn disk_full_holds_the_flush_of_routine_pings() {
    let toml = r#"
[[check]]
name = "job"
type = "heartbeat"
token = "job-token-0123456789"
period = "1h"
grace = "1h"

[notifiers.log]
type = "console"

[people.alice]
notify = [{ via = "log" }]

[policies.default]
[[policies.default.steps]]
notify = ["person:alice"]
escalate_after = "1h"
"#;
    let mut d = Daemon::unstarted(toml, "UTC");
    let Some(disk) = SmallDisk::mount(&d.state, "4m") else {
        println!("SKIPPED: cannot mount a tmpfs here (not root?); the disk-full fault was not run");
        return;
    };
    d.spawn();
    // NEW -> UP: saved before its answer.
    d.ok(&["ping", "job"]);
    let last_ping = |d: &Daemon| d.json(&["status"])["checks"][0]["last_ping"].clone();
    let first = last_ping(&d);
    let filled = disk.fill();
    // Routine: answered although nothing can be saved.
    std::thread::sleep(Duration::from_millis(20));
    d.ok(&["ping", "job", "-m", "routine while full"]);
    let routine = last_ping(&d);
    assert_ne!(routine, first);
    d.wait_for("status saying not durable", Duration::from_secs(10), || {
        let out = d.cli(&["status"]);
        String::from_utf8_lossy(&out.stdout)
            .starts_with("STATE NOT DURABLE")
            .then_some(())
    });
    assert_eq!(metric(&d, "oncalld_store_ok"), Some(0.0));
    disk.free();
    let freed_at = Instant::now();
    d.wait_for("durable again", Duration::from_secs(10), || {
        (metric(&d, "oncalld_store_ok") == Some(1.0)).then_some(())
    });
    let durable_secs = freed_at.elapsed().as_secs_f64();
    d.kill9();
    d.spawn();
    assert_eq!(last_ping(&d), routine, "the held flush landed");
    println!(
        "disk full ({filled} bytes of filler): routine ping answered, flush held; durable \
         {durable_secs:.2}s after the space was freed, last ping kept across kill -9"
    );
    d.stop();
}
