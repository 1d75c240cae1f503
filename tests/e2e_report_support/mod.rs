//! Shared by the `e2e_report*` tests: a config for one HTTP check against a [`Target`], the
//! incident timeline read back through `oncalld show --json`, and the figures a postmortem or
//! report should show, computed here from that timeline (not by the code under test).
#![allow(dead_code)]

use std::time::Duration;

use jiff::Timestamp;
use jiff::tz::TimeZone;

use crate::daemon_support::{Daemon, Target};

/// The six postmortem sections, in their required order (SPEC §7).
pub const SECTIONS: [&str; 6] = [
    "## Issue Summary",
    "## Timeline",
    "## Root Cause and Resolution",
    "## Corrective and Preventative Measures",
    "## Lessons Learned",
    "## Conclusion",
];

/// One check `web` on `target` (probed every 100 ms, DOWN after 2 failures, UP after 1
/// success); alice is paged first, bob after `escalate_after` without an ack.
pub fn config(target: &Target, escalate_after: &str) -> String {
    format!(
        r#"
[[check]]
name = "web"
type = "http"
url = "{}"
interval = "1s"
retry_interval = "1s"
retries = 2
recoveries = 1
timeout = "1s"

[notifiers.log]
type = "console"

[people.alice]
notify = [{{ via = "log", to = "alice@example.org" }}]
[people.bob]
notify = [{{ via = "log", to = "bob@example.org" }}]

[policies.default]
[[policies.default.steps]]
notify = ["person:alice"]
escalate_after = "{escalate_after}"
[[policies.default.steps]]
notify = ["person:bob"]
escalate_after = "1h"
"#,
        target.url()
    )
}

/// `alice (uid 1000)`: how the daemon names the user running these tests (SO_PEERCRED).
pub fn me() -> String {
    let uid = nix::unistd::getuid();
    match nix::unistd::User::from_uid(uid).ok().flatten() {
        Some(u) => format!("{} (uid {})", u.name, uid.as_raw()),
        None => format!("uid {}", uid.as_raw()),
    }
}

/// One timeline line from `show --json`.
#[derive(Debug, Clone)]
pub struct Item {
    pub at: Timestamp,
    pub kind: String,
    pub actor: String,
    pub message: String,
}

/// An incident as `show --json` gives it.
#[derive(Debug, Clone)]
pub struct Shown {
    pub state: String,
    pub opened_at: Timestamp,
    pub resolved_at: Option<Timestamp>,
    pub timeline: Vec<Item>,
}

fn ts(v: &serde_json::Value) -> Option<Timestamp> {
    v.as_str().map(|s| s.parse().unwrap())
}

pub fn show(d: &Daemon, id: u64) -> Shown {
    let v = d.json(&["show", &id.to_string()]);
    let inc = &v["incident"];
    let timeline = v["timeline"]
        .as_array()
        .unwrap_or_else(|| panic!("no timeline: {v}"))
        .iter()
        .map(|e| Item {
            at: ts(&e["at"]).unwrap(),
            kind: e["kind"].as_str().unwrap().to_string(),
            actor: e["actor"].as_str().unwrap().to_string(),
            message: e["message"].as_str().unwrap().to_string(),
        })
        .collect();
    Shown {
        state: inc["state"].as_str().unwrap().to_string(),
        opened_at: ts(&inc["opened_at"]).unwrap(),
        resolved_at: ts(&inc["resolved_at"]),
        timeline,
    }
}

impl Shown {
    pub fn of_kind(&self, kind: &str) -> Vec<&Item> {
        self.timeline.iter().filter(|e| e.kind == kind).collect()
    }

    pub fn first(&self, kind: &str) -> Option<&Item> {
        self.timeline.iter().find(|e| e.kind == kind)
    }

    /// Pages made: one `paged` event each.
    pub fn pages(&self) -> usize {
        self.of_kind("paged").len()
    }

    /// Pages to `person` (the `paged` event names the recipient first).
    pub fn pages_to(&self, person: &str) -> Vec<&Item> {
        let head = format!("paged {person} via ");
        self.timeline
            .iter()
            .filter(|e| e.kind == "paged" && e.message.starts_with(&head))
            .collect()
    }

    /// Delivery attempts that delivered.
    pub fn delivered(&self) -> usize {
        self.timeline
            .iter()
            .filter(|e| e.kind == "delivery" && e.message.ends_with(": delivered"))
            .count()
    }
}

/// The id of an open incident other than those in `not`, once the status shows one.
pub fn wait_open_incident(d: &Daemon, not: &[u64]) -> u64 {
    d.wait_for("a new open incident", Duration::from_secs(10), || {
        let s = d.json(&["status"]);
        s["incidents"]
            .as_array()?
            .iter()
            .filter_map(|i| i["id"].as_u64())
            .find(|id| !not.contains(id))
    })
}

/// Waits until incident `id` is resolved and every page of it has been delivered.
pub fn wait_resolved_and_delivered(d: &Daemon, id: u64) -> Shown {
    d.wait_for("resolve and deliveries", Duration::from_secs(10), || {
        let s = show(d, id);
        (s.state == "resolved" && s.delivered() == s.pages()).then_some(s)
    })
}

/// `2026-11-20 14:03:07 CET`, computed with jiff's own zone abbreviation.
pub fn local(at: Timestamp, zone: &TimeZone) -> String {
    at.to_zoned(zone.clone())
        .strftime("%Y-%m-%d %H:%M:%S %Z")
        .to_string()
}

/// Whole seconds from `a` to `b`.
pub fn secs_between(a: Timestamp, b: Timestamp) -> i64 {
    ((b.as_nanosecond() - a.as_nanosecond()) / 1_000_000_000) as i64
}

/// Milliseconds from `a` to `b` as seconds (the report's precision).
pub fn ms_between(a: Timestamp, b: Timestamp) -> f64 {
    (b.as_millisecond() - a.as_millisecond()) as f64 / 1000.0
}

/// `1h 4m 12s`, zero units left out, `0s` for nothing.
pub fn human(secs: i64) -> String {
    if secs <= 0 {
        return "0s".into();
    }
    let parts = [
        (secs / 86_400, "d"),
        (secs % 86_400 / 3_600, "h"),
        (secs % 3_600 / 60, "m"),
        (secs % 60, "s"),
    ];
    let out: Vec<String> = parts
        .iter()
        .filter(|(n, _)| *n > 0)
        .map(|(n, unit)| format!("{n}{unit}"))
        .collect();
    out.join(" ")
}

/// Each section heading appears exactly once, in order, and no other `## ` heading exists.
pub fn assert_sections(md: &str) {
    let headings: Vec<&str> = md.lines().filter(|l| l.starts_with("## ")).collect();
    assert_eq!(headings, SECTIONS, "section headings:\n{md}");
}

/// The text of one section: from its heading to the next `## `.
pub fn section<'a>(md: &'a str, heading: &str) -> &'a str {
    let start = md
        .find(&format!("{heading}\n"))
        .unwrap_or_else(|| panic!("no {heading}:\n{md}"));
    let body = &md[start + heading.len()..];
    match body.find("\n## ") {
        Some(end) => &body[..end],
        None => body,
    }
}

/// `a` and `b` equal within `eps`.
pub fn close(a: f64, b: f64, eps: f64) -> bool {
    (a - b).abs() <= eps
}
