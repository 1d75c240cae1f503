//! Storms end to end (SPEC §12): the real daemon, real HTTP targets on 127.0.0.1 and a real
//! webhook receiver. 200 checks behind a dead gateway page once; 50 checks down together
//! with `group_wait` page once plus one digest per destination and are acked in one step; a
//! flipping target pages once as FLAPPING.

mod daemon_support;
#[path = "daemon_support/hook.rs"]
mod hook;
mod support;

use std::fmt::Write as _;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use daemon_support::{Daemon, Target};
use hook::Hook;
use serde_json::Value;

fn hook_people(url: &str, group_wait: Option<&str>) -> String {
    let wait = group_wait
        .map(|w| format!("group_wait = \"{w}\"\n"))
        .unwrap_or_default();
    format!(
        r#"
[notifiers.hook]
type = "webhook"
url = "{url}"

[people.alice]
notify = [{{ via = "hook", to = "alice" }}]
[people.bob]
notify = [{{ via = "hook", to = "bob" }}]

[policies.default]
{wait}[[policies.default.steps]]
notify = ["person:alice", "person:bob"]
escalate_after = "1h"
"#
    )
}

fn http_check(out: &mut String, name: &str, url: &str, retries: u32, parents: &[&str]) {
    let deps = if parents.is_empty() {
        String::new()
    } else {
        let list: Vec<String> = parents.iter().map(|p| format!("{p:?}")).collect();
        format!("depends_on = [{}]\n", list.join(", "))
    };
    let _ = write!(
        out,
        r#"
[[check]]
name = "{name}"
type = "http"
url = "{url}"
interval = "1s"
retry_interval = "1s"
retries = {retries}
timeout = "1s"
{deps}"#
    );
}

fn open_incidents(d: &Daemon) -> Vec<Value> {
    d.json(&["incidents"])
        .as_array()
        .cloned()
        .unwrap_or_default()
}

fn events(hook: &Hook, event: &str) -> Vec<Value> {
    hook.bodies()
        .into_iter()
        .filter(|b| b["event"] == event)
        .collect()
}

#[test]
fn two_hundred_children_behind_a_dead_gateway_page_once() {
    let hook = Hook::start();
    let (gw, most, three) = (Target::start(), Target::start(), Target::start());
    let mut cfg = hook_people(&hook.url(), None);
    http_check(&mut cfg, "gw", &gw.url(), 1, &[]);
    for i in 0..200 {
        let url = if i < 197 { most.url() } else { three.url() };
        http_check(&mut cfg, &format!("c{i}"), &url, 1, &["gw"]);
    }
    let d = Daemon::start(&cfg);
    let long = Duration::from_secs(30);

    // The gateway dies, then everything behind it.
    gw.set_status(503);
    d.wait_for("gw DOWN", long, || {
        open_incidents(&d)
            .iter()
            .any(|i| i["check"] == "gw")
            .then_some(())
    });
    most.set_status(503);
    three.set_status(503);
    let open = d.wait_for("201 incidents", long, || {
        let open = open_incidents(&d);
        (open.len() == 201).then_some(open)
    });
    let unreachable = open
        .iter()
        .filter(|i| i["unreachable"] == serde_json::json!(["gw"]))
        .count();
    assert_eq!(unreachable, 200, "every child is recorded as unreachable");
    // `explain` says why nobody was paged for a child (SPEC §13).
    let child = open
        .iter()
        .find(|i| i["check"] == "c0")
        .expect("c0's incident");
    let why = d.ok(&["explain", &child["id"].as_u64().unwrap().to_string()]);
    assert!(why.contains("nobody paged: parent gw DOWN"), "{why}");
    // `status` exits non-zero while something is DOWN: read its output.
    let status = String::from_utf8_lossy(&d.cli(&["status"]).stdout).into_owned();
    assert!(status.contains("UNREACHABLE"), "{status}");
    // Probes keep running a little: still only gw's page (to alice and bob).
    std::thread::sleep(Duration::from_secs(2));
    let triggered: Vec<String> = events(&hook, "triggered")
        .iter()
        .map(|b| b["incident"]["check"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        triggered,
        ["gw", "gw"],
        "one trigger page per person, for gw"
    );

    // 197 children recover, gw comes back, 3 children stay DOWN: exactly those 3 paged.
    most.set_status(200);
    d.wait_for("197 resolved", long, || {
        (open_incidents(&d).len() == 4).then_some(())
    });
    gw.set_status(200);
    let paged = d.wait_for("the 3 children paged", long, || {
        let mut checks: Vec<String> = events(&hook, "triggered")
            .iter()
            .map(|b| b["incident"]["check"].as_str().unwrap().to_string())
            .filter(|c| c != "gw")
            .collect();
        checks.sort();
        (checks.len() >= 6).then_some(checks)
    });
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(
        paged,
        ["c197", "c197", "c198", "c198", "c199", "c199"],
        "exactly the 3 still DOWN, to alice and bob"
    );
    assert_eq!(events(&hook, "triggered").len(), 8, "nothing else");
}

#[test]
fn fifty_downs_make_one_page_and_one_digest_then_one_ack_step() {
    let hook = Hook::start();
    let target = Target::start();
    let mut cfg = hook_people(&hook.url(), Some("5s"));
    for i in 0..50 {
        http_check(&mut cfg, &format!("c{i}"), &target.url(), 1, &[]);
    }
    let d = Daemon::start(&cfg);
    let long = Duration::from_secs(30);
    target.set_status(503);
    d.wait_for("50 incidents", long, || {
        (open_incidents(&d).len() == 50).then_some(())
    });
    let bodies = d.wait_for("the digests", long, || {
        let b = events(&hook, "triggered");
        (b.len() >= 4).then_some(b)
    });
    std::thread::sleep(Duration::from_secs(1));
    assert_eq!(events(&hook, "triggered").len(), 4, "2 per person");
    for who in ["alice", "bob"] {
        let mine: Vec<&Value> = bodies.iter().filter(|b| b["recipient"] == who).collect();
        assert_eq!(mine.len(), 2, "{who}: one page + one digest");
        assert!(
            mine[0].get("incidents").is_none(),
            "the first page is a single one"
        );
        let listed = mine[1]["incidents"].as_array().expect("a digest");
        assert_eq!(listed.len(), 49, "{who}: the digest names the other 49");
        let first = mine[0]["incident"]["id"].as_u64().unwrap();
        // `explain` of a grouped incident names the digest its page went into (SPEC §13).
        let grouped = listed[0]["id"].as_u64().unwrap().to_string();
        let why = d.ok(&["explain", &grouped]);
        let key = mine[1]["key"].as_str().unwrap();
        assert!(
            why.contains("page held: grouped into digest oncalld:digest:"),
            "{why}"
        );
        assert!(why.contains(key), "{who}'s digest {key}: {why}");
        assert!(listed.iter().all(|i| i["id"].as_u64() != Some(first)));
        assert!(
            mine[1]["text"]
                .as_str()
                .unwrap()
                .starts_with("TRIGGERED 49 incidents: ")
        );
        assert!(
            mine[1]["key"]
                .as_str()
                .unwrap()
                .starts_with("oncalld:digest:")
        );
    }

    // One command, one step: every ack event at the same instant.
    let out = d.ok(&["ack", "--check", "c*", "-m", "storm"]);
    assert!(out.contains("50 incidents in one step"), "{out}");
    let open = open_incidents(&d);
    assert!(
        open.iter().all(|i| i["state"] == "acknowledged"),
        "{open:?}"
    );
    let mut ack_times = std::collections::BTreeSet::new();
    for i in &open {
        let id = i["id"].as_u64().unwrap().to_string();
        let detail = d.json(&["show", &id]);
        for e in detail["timeline"].as_array().unwrap() {
            if e["kind"] == "acknowledged" {
                ack_times.insert(e["at"].as_str().unwrap().to_string());
            }
        }
    }
    assert_eq!(ack_times.len(), 1, "one engine step: {ack_times:?}");
    // Several ids work too (and a second ack of the same ones is a skip, not an error).
    let again = d.ok(&["ack", "1", "2", "3"]);
    assert!(
        again.contains("Skipped #1: already acknowledged"),
        "{again}"
    );
    let resolved = d.ok(&["resolve", "1", "2", "3"]);
    assert!(resolved.contains("3 incidents in one step"), "{resolved}");
}

/// An HTTP target that answers 200 and 503 in turn, one per request.
fn flipping_target() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let n = Arc::new(AtomicU32::new(0));
    std::thread::spawn(move || {
        use std::io::{Read, Write};
        for conn in listener.incoming() {
            let Ok(mut conn) = conn else { continue };
            let code = if n.fetch_add(1, Ordering::SeqCst) % 2 == 0 {
                503
            } else {
                200
            };
            let mut buf = [0u8; 4096];
            let _ = conn.set_read_timeout(Some(Duration::from_secs(2)));
            let _ = conn.read(&mut buf);
            let _ = write!(
                conn,
                "HTTP/1.1 {code} X\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok"
            );
        }
    });
    format!("http://127.0.0.1:{port}/")
}

#[test]
fn a_flipping_target_pages_once_as_flapping() {
    let hook = Hook::start();
    let url = flipping_target();
    let mut cfg = hook_people(&hook.url(), None);
    http_check(&mut cfg, "website", &url, 2, &[]);
    let d = Daemon::start(&cfg);
    let flapping = d.wait_for("FLAPPING page", Duration::from_secs(30), || {
        let f = events(&hook, "flapping");
        (!f.is_empty()).then_some(f)
    });
    assert!(
        flapping[0]["text"]
            .as_str()
            .unwrap()
            .contains("state changes in the last 21 checks"),
        "{flapping:?}"
    );
    // `status` exits non-zero while something is DOWN: read its output.
    let status = String::from_utf8_lossy(&d.cli(&["status"]).stdout).into_owned();
    assert!(status.contains("FLAPPING"), "{status}");
    // It keeps flipping: no further pages (20 more probes).
    std::thread::sleep(Duration::from_secs(20));
    let all = hook.bodies();
    let count = |e: &str| all.iter().filter(|b| b["event"] == e).count();
    assert_eq!(count("flapping"), 2, "one FLAPPING page per person");
    assert!(count("triggered") <= 2, "at most one trigger per person");
    assert_eq!(count("resolved"), 0, "no resolve churn");
}
