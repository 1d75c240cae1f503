//! End to end, real daemon: `silence`, `silences`, `unsilence`. A silence holds paging (the
//! webhook receiver gets nothing for the silenced check while an unsilenced one is paged and
//! escalated); unsilence pages the held incident from step 1.

mod daemon_support;
#[path = "daemon_support/hook.rs"]
mod hook;
mod support;

use std::time::{Duration, Instant};

use daemon_support::{Daemon, Target};
use hook::Hook;

fn config(target: &Target, hook: &Hook) -> String {
    format!(
        r#"
[defaults]
interval = "1s"
retry_interval = "1s"
retries = 1
timeout = "1s"

[[check]]
name = "web-a"
type = "http"
url = "{url}"

[[check]]
name = "db"
type = "http"
url = "{url}"

{people}"#,
        url = target.url(),
        people = daemon_support::alice_then_bob_via_webhook(&hook.url(), "1s"),
    )
}

fn incident_of(d: &Daemon, check: &str) -> Option<u64> {
    let s = d.json(&["status"]);
    s["incidents"]
        .as_array()?
        .iter()
        .find(|i| i["check"] == check)
        .and_then(|i| i["id"].as_u64())
}

fn kinds(d: &Daemon, id: u64) -> Vec<String> {
    d.json(&["show", &id.to_string()])["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn silence_holds_pages_and_unsilence_pages_from_step_one() {
    let target = Target::start();
    let hook = Hook::start();
    let d = Daemon::start(&config(&target, &hook));

    assert_eq!(d.ok(&["silences"]), "No silences.\n");
    let text = d.ok(&["silence", "web-*", "--for", "1h", "-m", "deploy"]);
    assert!(
        text.starts_with("Silenced web-* until ") && text.ends_with("(#1).\n"),
        "{text}"
    );
    let list = d.json(&["silences"]);
    assert_eq!(list.as_array().unwrap().len(), 1, "{list}");
    assert_eq!(list[0]["pattern"], "web-*");
    assert_eq!(list[0]["message"], "deploy");
    assert_eq!(list[0]["active"], true);
    let table = d.ok(&["silences"]);
    assert!(
        table.contains("web-*") && table.contains("active") && table.contains("deploy"),
        "{table}"
    );
    let status = d.ok(&["status"]);
    assert!(status.contains("UP (silenced)"), "{status}");

    target.set_status(503);
    let (a, db) = d.wait_for("both incidents", Duration::from_secs(10), || {
        Some((incident_of(&d, "web-a")?, incident_of(&d, "db")?))
    });
    let opened = Instant::now();
    // The control: db is paged, then escalated after 1 s. web-a is held meanwhile.
    d.wait_for("db's escalation to bob", Duration::from_secs(10), || {
        (!hook.of(db, "escalated").is_empty()).then_some(())
    });
    if let Some(rest) = Duration::from_millis(1500).checked_sub(opened.elapsed()) {
        std::thread::sleep(rest);
    }
    let held: Vec<_> = hook
        .pages()
        .into_iter()
        .filter(|g| g.incident == a)
        .collect();
    assert!(held.is_empty(), "pages for the silenced check: {held:?}");
    let k = kinds(&d, a);
    assert!(k.contains(&"silenced".to_string()), "{k:?}");
    assert!(!k.contains(&"paged".to_string()), "{k:?}");

    // Ending the silence pages web-a from step 1 (alice), not from where it would have been.
    let text = d.ok(&["unsilence", "1"]);
    assert_eq!(text, "Ended silence #1 (web-*).\n");
    let first = d.wait_for(
        "web-a's page after unsilence",
        Duration::from_secs(10),
        || hook.pages().into_iter().find(|g| g.incident == a),
    );
    assert_eq!(
        (first.event.as_str(), first.step, first.recipient.as_str()),
        ("triggered", 1, "alice")
    );
    let k = kinds(&d, a);
    assert!(k.contains(&"unsilenced".to_string()), "{k:?}");
    let list = d.json(&["silences"]);
    assert_eq!(list[0]["active"], false, "{list}");

    // Errors: exit 1, nothing changed.
    assert_eq!(d.cli(&["unsilence", "1"]).status.code(), Some(1));
    assert_eq!(d.cli(&["unsilence", "99"]).status.code(), Some(1));
    assert_eq!(
        d.cli(&["silence", "x", "--for", "soon"]).status.code(),
        Some(1)
    );
    assert_eq!(
        d.cli(&["silence", "[", "--for", "1h"]).status.code(),
        Some(1)
    );
    let v = d.json(&["silence", "db", "--for", "30m"]);
    assert_eq!(
        (v["id"].as_u64(), v["active"].as_bool()),
        (Some(2), Some(true)),
        "{v}"
    );
    assert_eq!(d.json(&["unsilence", "2"])["active"], false);
}
