//! The keys of a `type = "heartbeat"` check (SPEC §10): `token`, `period` or `cron`, `grace`.
//!
//! `interval`, `timeout`, `retries`, `retry_interval` and `recoveries` do not apply to a
//! check that is pushed: they are accepted (a `[defaults]` value reaches every check) and
//! ignored. A failure ping is DOWN at once and one success is UP again.

use std::collections::BTreeMap;
use std::time::Duration;

use super::limits::Bounds;
use super::reader::{Sink, Table};
use super::types::{HeartbeatProbe, ProbeConfig};
use crate::core::cron::CronExpr;
use crate::core::heartbeat::Expect;

const DAY: u64 = 86_400;
/// `period`: a second (tests, fast agents) to a year (a yearly job).
pub const PERIOD: Bounds = Bounds {
    min: Duration::from_secs(1),
    max: Some(Duration::from_secs(366 * DAY)),
};
/// `grace`: a second to a week.
pub const GRACE: Bounds = Bounds {
    min: Duration::from_secs(1),
    max: Some(Duration::from_secs(7 * DAY)),
};
/// `grace` when not given: enough for a cron job's start-up jitter and a slow network.
pub const DEFAULT_GRACE: Duration = Duration::from_secs(300);
/// Tokens are at least this long (they are the secret part of the ping URL).
pub const MIN_TOKEN: usize = 16;
/// And at most this long (they go into URLs and logs are kept free of them).
pub const MAX_TOKEN: usize = 128;

/// The keys this type reads, accepted (and ignored) when the type is unknown.
pub const KEYS: [&str; 4] = ["token", "period", "cron", "grace"];

/// Read a heartbeat check's keys.
pub fn heartbeat(t: &mut Table<'_>, sink: &mut Sink) -> Option<ProbeConfig> {
    let token = t.required(sink, "token").and_then(|n| {
        let s = n.str(sink)?;
        match token(s) {
            Ok(()) => Some(s.to_string()),
            Err(e) => {
                n.error(sink, e);
                None
            }
        }
    });
    let period = t.get("period");
    let cron = t.get("cron");
    let expect = match (period, cron) {
        (Some(p), None) => p.duration_in(sink, PERIOD).map(Expect::Period),
        (None, Some(c)) => c.str(sink).and_then(|s| match CronExpr::parse(s) {
            Ok(expr) => Some(Expect::Cron(expr)),
            Err(e) => {
                c.error(sink, e);
                None
            }
        }),
        (Some(_), Some(c)) => {
            c.error(sink, "set `period` or `cron`, not both");
            None
        }
        (None, None) => {
            sink.error(
                t.span.clone(),
                t.path.clone(),
                "a heartbeat check needs `period` (\"1d\") or `cron` (\"30 3 * * *\")",
            );
            None
        }
    };
    let grace = match t.get("grace") {
        None => Some(DEFAULT_GRACE),
        Some(n) => n.duration_in(sink, GRACE),
    };
    Some(ProbeConfig::Heartbeat(HeartbeatProbe {
        token: token?,
        expect: expect?,
        grace: grace?,
    }))
}

/// At least [`MIN_TOKEN`] characters of `[A-Za-z0-9_-]`. The token itself is never quoted
/// back: an error message may end up in a log.
fn token(s: &str) -> Result<(), String> {
    let len = s.chars().count();
    if !(MIN_TOKEN..=MAX_TOKEN).contains(&len) {
        return Err(format!(
            "token must be {MIN_TOKEN} to {MAX_TOKEN} characters (found {len})"
        ));
    }
    if !s
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    {
        return Err("token may only use A-Z, a-z, 0-9, '_' and '-'".to_string());
    }
    Ok(())
}

/// Two heartbeat checks with one token: the second is reported (`seen` maps tokens to the
/// first check's key path).
pub fn check_unique_token(
    probe: &ProbeConfig,
    t: &Table<'_>,
    seen: &mut BTreeMap<String, String>,
    sink: &mut Sink,
) {
    let ProbeConfig::Heartbeat(hb) = probe else {
        return;
    };
    if let Some(first) = seen.get(&hb.token) {
        sink.error(
            t.span.clone(),
            format!("{}.token", t.path),
            format!("this token is already used by {first}"),
        );
    } else {
        seen.insert(hb.token.clone(), t.path.clone());
    }
}

#[cfg(test)]
mod tests {
    use super::token;

    #[test]
    fn tokens() {
        assert!(token("b9f0c6d2a1e84c57").is_ok());
        assert!(token("abc_DEF-0123456789").is_ok());
        assert!(token("short").is_err());
        assert!(token("b9f0c6d2a1e84c5/").is_err());
        assert!(token("b9f0c6d2a1e84c5 ").is_err());
        assert!(token(&"a".repeat(129)).is_err());
    }
}
