//! End to end, real daemon over its real socket: the incident commands (status, incidents,
//! show, ack, note, escalate, resolve, postmortem, report) in human and `--json` form, with
//! a real HTTP target and the real webhook receiver proving which pages arrived.

mod daemon_support;
#[path = "daemon_support/hook.rs"]
mod hook;
mod support;

use std::time::{Duration, Instant};

use daemon_support::{Daemon, Target};
use hook::Hook;

/// Two HTTP checks on one target; alice at step 1, bob at step 2, both through the webhook.
fn config(target: &Target, hook: &Hook, escalate_after: &str) -> String {
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
name = "web-b"
type = "http"
url = "{url}"

{people}"#,
        url = target.url(),
        people = daemon_support::alice_then_bob_via_webhook(&hook.url(), escalate_after),
    )
}

/// `name (uid N)` of the user running the tests, as the daemon must record it.
fn me() -> String {
    let uid = nix::unistd::getuid();
    match nix::unistd::User::from_uid(uid).ok().flatten() {
        Some(u) => format!("{} (uid {uid})", u.name),
        None => format!("uid {uid}"),
    }
}

fn stdout(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Open incidents' ids by check name.
fn open_ids(d: &Daemon) -> Vec<(String, u64)> {
    let s = d.json(&["status"]);
    s["incidents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                i["check"].as_str().unwrap().to_string(),
                i["id"].as_u64().unwrap(),
            )
        })
        .collect()
}

fn id_of(ids: &[(String, u64)], check: &str) -> u64 {
    ids.iter().find(|(c, _)| c == check).unwrap().1
}

fn timeline_kinds(d: &Daemon, id: u64) -> Vec<(String, String, String)> {
    let show = d.json(&["show", &id.to_string()]);
    show["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["kind"].as_str().unwrap().to_string(),
                e["actor"].as_str().unwrap().to_string(),
                e["message"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
fn status_incidents_show_ack_note_escalate_resolve() {
    let target = Target::start();
    let hook = Hook::start();
    let d = Daemon::start(&config(&target, &hook, "1h"));

    // Nothing open: exit 0, both checks listed.
    let out = d.cli(&["status"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("web-a") && text.contains("web-b"), "{text}");
    assert!(text.contains("No open incidents."), "{text}");
    let out = d.cli(&["status", "--json"]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(d.json(&["incidents"]), serde_json::json!([]));

    target.set_status(503);
    let ids = d.wait_for("two incidents", Duration::from_secs(10), || {
        let ids = open_ids(&d);
        (ids.len() == 2).then_some(ids)
    });
    let a = id_of(&ids, "web-a");
    let b = id_of(&ids, "web-b");
    d.wait_for("step-1 pages", Duration::from_secs(10), || {
        (hook.of(a, "triggered").len() == 1 && hook.of(b, "triggered").len() == 1).then_some(())
    });

    // status: exit 2 in both forms; the human form lists the incident with its `#id`.
    let out = d.cli(&["status"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("Open incidents:"), "{text}");
    assert!(
        text.contains(&format!("#{a}")) && text.contains("DOWN"),
        "{text}"
    );
    assert_eq!(d.cli(&["status", "--json"]).status.code(), Some(2));
    let s = d.json(&["status"]);
    assert_eq!(s["checks"].as_array().unwrap().len(), 2, "{s}");
    assert_eq!(s["checks"][0]["state"], "DOWN", "{s}");

    // incidents: open ones; human table with ids.
    let text = d.ok(&["incidents"]);
    assert!(
        text.contains(&format!("#{a}")) && text.contains(&format!("#{b}")),
        "{text}"
    );
    assert!(text.contains("triggered"), "{text}");
    assert_eq!(d.json(&["incidents"]).as_array().unwrap().len(), 2);

    // ack -m: the actor is the real Unix user, the message is on the timeline.
    let text = d.ok(&["ack", &a.to_string(), "-m", "on it"]);
    assert_eq!(text, format!("Acknowledged #{a} (web-a).\n"));
    let acked = timeline_kinds(&d, a)
        .into_iter()
        .find(|(k, _, _)| k == "acknowledged")
        .unwrap();
    assert_eq!(acked.1, me(), "the ack's actor: {acked:?}");
    assert_eq!(acked.2, "on it");
    let v = d.json(&["ack", &b.to_string(), "-m", "me too"]);
    assert_eq!(v["state"], "acknowledged", "{v}");
    assert_eq!(v["acked_by"], me().as_str(), "{v}");
    // Acking an acknowledged incident is a wrong state: exit 1, the daemon's reason.
    let again = d.cli(&["ack", &b.to_string()]);
    assert_eq!(again.status.code(), Some(1), "{}", stdout(&again));
    assert!(
        stderr(&again).contains("acknowledged"),
        "{}",
        stderr(&again)
    );

    // note: on the timeline, shown by `show` in both forms.
    let text = d.ok(&["note", &a.to_string(), "root cause: disk full"]);
    assert_eq!(text, format!("Noted on #{a} (web-a).\n"));
    let v = d.json(&["note", &format!("#{a}"), "todo: alert on disk"]);
    assert_eq!(v["id"], a, "{v}");
    let show = d.ok(&["show", &a.to_string()]);
    // The whole timeline: one table row per entry of the JSON form, after the header block.
    let entries = d.json(&["show", &a.to_string()])["timeline"]
        .as_array()
        .unwrap()
        .len();
    let rows = show.lines().skip_while(|l| !l.starts_with("TIME ")).count();
    assert_eq!(rows, entries + 1, "{show}");
    assert!(
        show.starts_with(&format!("#{a} web-a  acknowledged\n")),
        "{show}"
    );
    for needle in [
        "triggered",
        "paged",
        "delivery",
        "acknowledged",
        "root cause: disk full",
        "todo: alert on disk",
        &me(),
    ] {
        assert!(
            show.contains(needle),
            "{needle:?} missing from show:\n{show}"
        );
    }

    // escalate: step 2 (bob) is paged now, the ack is withdrawn.
    let text = d.ok(&["escalate", &a.to_string()]);
    assert_eq!(text, format!("Escalated #{a} (web-a): now at step 2.\n"));
    d.wait_for("bob's escalated page", Duration::from_secs(10), || {
        hook.of(a, "escalated")
            .iter()
            .any(|g| g.recipient == "bob" && g.step == 2)
            .then_some(())
    });
    let v = d.json(&["escalate", &b.to_string()]);
    assert_eq!(v["step"], 2, "{v}");
    assert_eq!(v["state"], "triggered", "{v}");

    // resolve -m: resolved pages to everyone paged (alice and bob).
    let text = d.ok(&["resolve", &a.to_string(), "-m", "cleaned /var/log"]);
    assert_eq!(text, format!("Resolved #{a} (web-a).\n"));
    let v = d.json(&["resolve", &b.to_string()]);
    assert_eq!(v["state"], "resolved", "{v}");
    assert_eq!(v["resolved_by"], me().as_str(), "{v}");
    d.wait_for("resolved pages", Duration::from_secs(10), || {
        let mut who: Vec<String> = hook
            .of(a, "resolved")
            .into_iter()
            .map(|g| g.recipient)
            .collect();
        who.sort();
        (who == ["alice", "bob"]).then_some(())
    });
    let resolved = timeline_kinds(&d, a)
        .into_iter()
        .find(|(k, _, _)| k == "resolved")
        .unwrap();
    assert_eq!(
        (resolved.1.as_str(), resolved.2.as_str()),
        (me().as_str(), "cleaned /var/log")
    );

    // Wrong states and unknown ids: exit 1, one line naming the problem, nothing changed.
    let out = d.cli(&["ack", &a.to_string()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).starts_with("oncalld: "), "{}", stderr(&out));
    assert_eq!(d.cli(&["resolve", &a.to_string()]).status.code(), Some(1));
    assert_eq!(d.cli(&["escalate", &a.to_string()]).status.code(), Some(1));
    let out = d.cli(&["show", "999"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("999"), "{}", stderr(&out));
    assert_eq!(d.cli(&["ack", "999"]).status.code(), Some(1));
    assert_eq!(d.cli(&["note", "999", "x"]).status.code(), Some(1));
    assert_eq!(d.cli(&["show", "abc"]).status.code(), Some(1));
    assert_eq!(
        d.json(&["show", &a.to_string()])["incident"]["state"],
        "resolved"
    );
}

#[test]
fn history_notes_after_resolution_postmortem_and_report() {
    let target = Target::start();
    let hook = Hook::start();
    let mut d = Daemon::start(&config(&target, &hook, "1h"));
    target.set_status(503);
    let ids = d.wait_for("two incidents", Duration::from_secs(10), || {
        let ids = open_ids(&d);
        (ids.len() == 2).then_some(ids)
    });
    let a = id_of(&ids, "web-a");
    d.ok(&["resolve", &a.to_string(), "-m", "by hand"]);

    // incidents: open only by default; --all includes the resolved one; --since filters.
    let open: Vec<u64> = d
        .json(&["incidents"])
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_u64().unwrap())
        .collect();
    assert!(!open.contains(&a), "{open:?}");
    let all = d.json(&["incidents", "--all"]);
    assert!(
        all.as_array()
            .unwrap()
            .iter()
            .any(|i| i["id"] == a && i["state"] == "resolved"),
        "{all}"
    );
    let text = d.ok(&["incidents", "--all"]);
    assert!(
        text.contains("RESOLVED") && text.contains(&format!("#{a}")),
        "{text}"
    );
    assert_eq!(
        d.json(&["incidents", "--all", "--since", "1h"])
            .as_array()
            .unwrap()
            .len(),
        2
    );
    std::thread::sleep(Duration::from_millis(20));
    assert_eq!(
        d.json(&["incidents", "--all", "--since", "1ms"]),
        serde_json::json!([])
    );
    assert_eq!(
        d.ok(&["incidents", "--since", "1ms"]),
        "No open incidents.\n"
    );
    assert_eq!(
        d.cli(&["incidents", "--since", "soon"]).status.code(),
        Some(1)
    );

    // A note on a RESOLVED incident is accepted and durable (the backend writes it to the
    // store itself): still there after a crash and restart.
    let text = d.ok(&["note", &a.to_string(), "resolution: rotated the logs"]);
    assert_eq!(text, format!("Noted on #{a} (web-a).\n"));
    d.kill9();
    d.spawn();
    let notes: Vec<_> = timeline_kinds(&d, a)
        .into_iter()
        .filter(|(k, _, _)| k == "note")
        .collect();
    assert_eq!(notes.len(), 1, "{notes:?}");
    assert_eq!(
        (notes[0].1.as_str(), notes[0].2.as_str()),
        (me().as_str(), "resolution: rotated the logs")
    );
    let v = d.json(&["show", &a.to_string()]);
    assert_eq!(v["incident"]["state"], "resolved", "{v}");

    // postmortem: to stdout, as JSON, and to a file.
    let md = d.ok(&["postmortem", &a.to_string()]);
    for section in [
        "## Issue Summary",
        "## Timeline",
        "## Root Cause and Resolution",
        "## Conclusion",
    ] {
        assert!(md.contains(section), "{section} missing:\n{md}");
    }
    assert!(md.contains("rotated the logs"), "{md}");
    let v = d.json(&["postmortem", &a.to_string()]);
    assert_eq!(v["markdown"].as_str().unwrap(), md, "{v}");
    let file = d.dir.path().join("pm.md");
    let text = d.ok(&["postmortem", &a.to_string(), "-o", file.to_str().unwrap()]);
    assert!(
        text.starts_with(&format!("Wrote the postmortem draft of #{a} to ")),
        "{text}"
    );
    assert_eq!(std::fs::read_to_string(&file).unwrap(), md);
    assert_eq!(d.cli(&["postmortem", "999"]).status.code(), Some(1));

    // report: human text and JSON, both mentioning the checks.
    let text = d.ok(&["report", "--since", "1h"]);
    assert!(text.contains("web-a"), "{text}");
    let v = d.json(&["report", "--since", "1h"]);
    assert!(v.to_string().contains("web-a"), "{v}");
    assert_eq!(
        d.cli(&["report", "--since", "never"]).status.code(),
        Some(1)
    );
}

#[test]
fn ack_stops_escalation_and_an_unacked_incident_escalates() {
    let target = Target::start();
    let hook = Hook::start();
    // 2 s leaves ample time to ack web-b before its own step 2 would be due.
    let d = Daemon::start(&config(&target, &hook, "2s"));
    target.set_status(503);
    let ids = d.wait_for("two incidents", Duration::from_secs(10), || {
        let ids = open_ids(&d);
        (ids.len() == 2).then_some(ids)
    });
    let (a, b) = (id_of(&ids, "web-a"), id_of(&ids, "web-b"));
    d.wait_for("step-1 pages", Duration::from_secs(10), || {
        (!hook.of(b, "triggered").is_empty()).then_some(())
    });
    d.ok(&["ack", &b.to_string(), "-m", "mine"]);
    let acked = Instant::now();

    // The control: web-a, not acked, reaches bob at step 2 after escalate_after (2 s).
    d.wait_for("web-a's step 2", Duration::from_secs(10), || {
        hook.of(a, "escalated")
            .iter()
            .any(|g| g.recipient == "bob")
            .then_some(())
    });
    // Give web-b well over escalate_after since its ack: no step-2 page may come.
    let window = Duration::from_millis(3000);
    if let Some(rest) = window.checked_sub(acked.elapsed()) {
        std::thread::sleep(rest);
    }
    let b_pages = hook
        .pages()
        .into_iter()
        .filter(|g| g.incident == b)
        .collect::<Vec<_>>();
    assert!(
        b_pages
            .iter()
            .all(|g| g.step == 1 && g.recipient == "alice"),
        "{b_pages:?}"
    );
    assert!(hook.of(b, "escalated").is_empty(), "{b_pages:?}");
    let kinds = timeline_kinds(&d, b);
    assert!(!kinds.iter().any(|(k, _, _)| k == "escalated"), "{kinds:?}");
    let v = d.json(&["show", &b.to_string()]);
    assert_eq!(
        (
            v["incident"]["state"].as_str(),
            v["incident"]["step"].as_u64()
        ),
        (Some("acknowledged"), Some(1))
    );
}
