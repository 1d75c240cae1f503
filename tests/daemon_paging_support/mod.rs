//! Shared by the paging end-to-end tests (tests/daemon_paging_*.rs): the config they run, a
//! tokio runtime for the webhook receiver, and readers for the timeline of `show --json`.
#![allow(dead_code)]

use std::time::{Duration, SystemTime};

use jiff::Timestamp;
use serde_json::Value;

use crate::daemon_support::Daemon;

/// A runtime kept alive for the whole test: the webhook receiver runs on its workers while the
/// test thread drives the daemon with blocking calls.
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// One check `web` on `target_url` (DOWN at the first failure), an email notifier `mail`, a
/// webhook notifier `hook`; step 1 pages alice by mail and by webhook, step 2 (after
/// `escalate_after`) pages bob by mail. `hook_timeout` bounds one webhook attempt.
pub fn two_step_config(
    target_url: &str,
    smtp_url: &str,
    hook_url: &str,
    escalate_after: &str,
    hook_timeout: &str,
) -> String {
    format!(
        r#"
[[check]]
name = "web"
type = "http"
url = "{target_url}"
interval = "1s"
retry_interval = "1s"
retries = 1
timeout = "1s"

[notifiers.mail]
type = "email"
smtp = "{smtp_url}"
from = "oncalld <oncalld@example.com>"
timeout = "2s"

[notifiers.hook]
type = "webhook"
url = "{hook_url}"
timeout = "{hook_timeout}"

[people.alice]
notify = [{{ via = "mail", to = "alice@example.com" }}, {{ via = "hook", to = "alice-hook" }}]

[people.bob]
notify = [{{ via = "mail", to = "bob@example.com" }}]

[policies.default]
[[policies.default.steps]]
notify = ["person:alice"]
escalate_after = "{escalate_after}"
[[policies.default.steps]]
notify = ["person:bob"]
escalate_after = "1h"
"#
    )
}

/// The id of the first open incident, once there is one.
pub fn wait_incident(d: &Daemon) -> u64 {
    d.wait_for("an open incident", Duration::from_secs(10), || {
        d.json(&["status"])["incidents"][0]["id"].as_u64()
    })
}

/// The whole timeline of incident `id` (`show --json`).
pub fn timeline(d: &Daemon, id: u64) -> Vec<Value> {
    d.json(&["show", &id.to_string()])["timeline"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

/// Timeline messages of one kind (`paged`, `delivery`, `escalated`, ...).
pub fn messages(d: &Daemon, id: u64, kind: &str) -> Vec<String> {
    timeline(d, id)
        .iter()
        .filter(|e| e["kind"] == kind)
        .filter_map(|e| e["message"].as_str().map(str::to_string))
        .collect()
}

/// The time of the first timeline event of `kind` whose message contains `needle`.
pub fn event_time(d: &Daemon, id: u64, kind: &str, needle: &str) -> Option<Timestamp> {
    timeline(d, id)
        .iter()
        .find(|e| e["kind"] == kind && e["message"].as_str().unwrap_or("").contains(needle))
        .and_then(|e| e["at"].as_str()?.parse().ok())
}

/// A wall-clock time as a jiff timestamp, to compare with the daemon's stored times.
pub fn ts(at: SystemTime) -> Timestamp {
    Timestamp::try_from(at).unwrap()
}

/// Seconds from `a` to `b` (negative when `b` is earlier).
pub fn secs_between(a: Timestamp, b: Timestamp) -> f64 {
    b.duration_since(a).as_secs_f64()
}

/// A float seconds timestamp (aiosmtpd's `received_at`) as a jiff timestamp.
pub fn ts_f64(secs: f64) -> Timestamp {
    Timestamp::from_microsecond((secs * 1e6) as i64).unwrap()
}

/// Mails whose subject starts with `prefix` and that went to `rcpt`.
pub fn mails_to(mails: &[Value], rcpt: &str, prefix: &str) -> Vec<Value> {
    mails
        .iter()
        .filter(|m| {
            m["rcpt_tos"]
                .as_array()
                .is_some_and(|r| r.iter().any(|x| x == rcpt))
                && m["headers"]["subject"][0]
                    .as_str()
                    .is_some_and(|s| s.starts_with(prefix))
        })
        .cloned()
        .collect()
}
