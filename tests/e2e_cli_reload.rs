//! End to end, real daemon: `oncalld reload` and SIGHUP. A broken file changes nothing (the
//! CLI prints each error with file:line:col and exits 1; the old checks keep running); a good
//! one applies, new checks appear and the open incident of a kept check keeps its id.

mod daemon_support;

use std::time::Duration;

use daemon_support::{Daemon, Target};

const PEOPLE: &str = r#"
[notifiers.log]
type = "console"

[people.alice]
notify = [{ via = "log" }]

[policies.default]
[[policies.default.steps]]
notify = ["person:alice"]
escalate_after = "1h"
"#;

fn check(name: &str, url: &str, interval: &str) -> String {
    format!(
        "[[check]]\nname = \"{name}\"\ntype = \"http\"\nurl = \"{url}\"\ninterval = \"{interval}\"\n\
         retry_interval = \"1s\"\nretries = 1\ntimeout = \"1s\"\n\n"
    )
}

fn check_names(d: &Daemon) -> Vec<String> {
    d.json(&["status"])["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap().to_string())
        .collect()
}

fn open_incidents(d: &Daemon) -> Vec<(String, u64)> {
    d.json(&["status"])["incidents"]
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

fn last_at(d: &Daemon, name: &str) -> Option<String> {
    let s = d.json(&["status"]);
    s["checks"].as_array()?.iter().find(|c| c["name"] == name)?["last_at"]
        .as_str()
        .map(str::to_string)
}

#[test]
fn reload_broken_then_good_keeps_incidents() {
    let target = Target::start();
    let url = target.url();
    let d = Daemon::start(&format!("{}{PEOPLE}", check("web", &url, "1s")));
    target.set_status(503);
    let id = d.wait_for("web's incident", Duration::from_secs(10), || {
        open_incidents(&d).first().map(|(_, id)| *id)
    });

    // Broken: an unknown key in a new check. Exit 1, every error with file:line:col.
    let broken = format!(
        "{}{}bogus_key = 1\n\n{PEOPLE}",
        check("web", &url, "1s"),
        check("new", &url, "1s")
    );
    d.rewrite_config(&broken);
    let out = d.cli(&["reload"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    let file = d.config.display().to_string();
    let line = err
        .lines()
        .find(|l| l.starts_with(&format!("{file}:")))
        .unwrap_or_else(|| panic!("no file:line:col error in {err}"));
    let mut parts = line[file.len() + 1..].splitn(3, ':');
    let (l, c) = (parts.next().unwrap(), parts.next().unwrap());
    assert!(
        l.parse::<u32>().unwrap() > 0 && c.parse::<u32>().unwrap() > 0,
        "{line}"
    );
    assert!(line.contains("bogus_key"), "{line}");
    assert!(err.contains("still running the previous one"), "{err}");
    let out = d.cli(&["reload", "--json"]);
    assert_eq!(out.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["reloaded"], false, "{v}");
    assert!(!v["errors"].as_array().unwrap().is_empty(), "{v}");

    // The old config still runs: same checks, still probed, the incident untouched.
    assert_eq!(check_names(&d), ["web"]);
    let before = last_at(&d, "web");
    d.wait_for(
        "web probed after the refused reload",
        Duration::from_secs(5),
        || (last_at(&d, "web") != before).then_some(()),
    );
    assert_eq!(open_incidents(&d), [("web".to_string(), id)]);

    // Good: web's interval changes (its task restarts with its state), a new check appears.
    d.rewrite_config(&format!(
        "{}{}{PEOPLE}",
        check("web", &url, "2s"),
        check("new", "http://127.0.0.1:1/", "1s")
    ));
    let text = d.ok(&["reload"]);
    assert!(text.starts_with("Reloaded: 2 checks, 1 person"), "{text}");
    assert_eq!(check_names(&d), ["web", "new"]);
    let v = d.json(&["reload"]);
    assert_eq!(v["reloaded"], true, "{v}");
    // The new check runs (port 1 refuses) and opens its own incident; web's is the same one.
    let all = d.wait_for("new's incident", Duration::from_secs(10), || {
        let all = open_incidents(&d);
        all.iter().any(|(c, _)| c == "new").then_some(all)
    });
    assert!(all.contains(&("web".to_string(), id)), "{all:?}");
    assert_eq!(all.len(), 2, "{all:?}");
    let s = d.json(&["status"]);
    assert_eq!(s["checks"][0]["state"], "DOWN", "web kept its state: {s}");
    let kinds: Vec<String> = d.json(&["show", &id.to_string()])["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        kinds.iter().filter(|k| *k == "triggered").count(),
        1,
        "{kinds:?}"
    );
}

#[test]
fn sighup_applies_a_good_file_and_ignores_a_broken_one() {
    let target = Target::start();
    let url = target.url();
    let d = Daemon::start(&format!("{}{PEOPLE}", check("web", &url, "1s")));

    d.rewrite_config(&format!(
        "{}[[check]]\nname = 1\n{PEOPLE}",
        check("web", &url, "1s")
    ));
    d.signal(libc::SIGHUP);
    d.wait_for("the refusal in the log", Duration::from_secs(5), || {
        d.log_text().contains("Reload refused").then_some(())
    });
    assert_eq!(check_names(&d), ["web"]);

    d.rewrite_config(&format!(
        "{}{}{PEOPLE}",
        check("web", &url, "1s"),
        check("third", &url, "1s")
    ));
    d.signal(libc::SIGHUP);
    d.wait_for("third in status", Duration::from_secs(5), || {
        (check_names(&d) == ["web", "third"]).then_some(())
    });
    d.wait_for("third probed", Duration::from_secs(5), || {
        last_at(&d, "third")
    });
    assert_eq!(d.cli(&["status"]).status.code(), Some(0));
}
