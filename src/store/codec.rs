//! Conversions between model values and SQLite columns.
//!
//! Times are stored as INTEGER nanoseconds since the Unix epoch (UTC): exact round trips, cheap
//! range scans over indexes, and readable with `sqlite3` through the `v_*` views or
//! `datetime(at / 1e9, 'unixepoch')`. Enums are stored as their lowercase names.

use jiff::Timestamp;

use super::StoreError;
use crate::core::check_state::{CheckState, Status};
use crate::core::model::{EventKind, IncidentState, PageEvent};

pub(crate) fn ts(t: Timestamp) -> Result<i64, StoreError> {
    i64::try_from(t.as_nanosecond()).map_err(|_| StoreError::TimeOutOfRange(t))
}

pub(crate) fn opt_ts(t: Option<Timestamp>) -> Result<Option<i64>, StoreError> {
    t.map(ts).transpose()
}

pub(crate) fn from_ts(ns: i64) -> Result<Timestamp, StoreError> {
    Timestamp::from_nanosecond(i128::from(ns))
        .map_err(|e| StoreError::Corrupt(format!("time {ns}: {e}")))
}

pub(crate) fn from_opt_ts(ns: Option<i64>) -> Result<Option<Timestamp>, StoreError> {
    ns.map(from_ts).transpose()
}

/// Small integers (seq, attempt, step) come back as i64; a negative or huge one is corruption.
pub(crate) fn to_u32(v: i64, what: &str) -> Result<u32, StoreError> {
    u32::try_from(v).map_err(|_| StoreError::Corrupt(format!("{what} = {v}")))
}

pub(crate) fn to_u64(v: i64, what: &str) -> Result<u64, StoreError> {
    u64::try_from(v).map_err(|_| StoreError::Corrupt(format!("{what} = {v}")))
}

pub(crate) fn id(v: u64) -> Result<i64, StoreError> {
    i64::try_from(v).map_err(|_| StoreError::Corrupt(format!("id {v} is too large")))
}

fn parse_enum<T: Copy>(
    all: &[T],
    name: fn(T) -> &'static str,
    s: &str,
    what: &str,
) -> Result<T, StoreError> {
    all.iter()
        .copied()
        .find(|v| name(*v) == s)
        .ok_or_else(|| StoreError::Corrupt(format!("unknown {what} {s:?}")))
}

pub(crate) fn incident_state(s: &str) -> Result<IncidentState, StoreError> {
    use IncidentState::*;
    parse_enum(
        &[Triggered, Acknowledged, Resolved],
        IncidentState::as_str,
        s,
        "incident state",
    )
}

pub(crate) fn event_kind(s: &str) -> Result<EventKind, StoreError> {
    use EventKind::*;
    let all = [
        Triggered,
        CheckChanged,
        Paged,
        Escalated,
        EscalationExhausted,
        StepSkipped,
        Acknowledged,
        AckTimedOut,
        Note,
        Resolved,
        Silenced,
        Unsilenced,
        Unreachable,
        Reachable,
        Flapping,
        FlappingStopped,
        Grouped,
    ];
    parse_enum(&all, EventKind::as_str, s, "event kind")
}

pub(crate) fn page_event(s: &str) -> Result<PageEvent, StoreError> {
    use PageEvent::*;
    let all = [Triggered, Escalated, Acknowledged, Resolved, Flapping, Test];
    parse_enum(&all, PageEvent::as_str, s, "page event")
}

pub(crate) fn status(s: &str) -> Result<Status, StoreError> {
    use Status::*;
    parse_enum(
        &[Ok, Warning, Critical, Unknown],
        Status::as_str,
        s,
        "status",
    )
}

/// `UP`, `DOWN`, `FAILING(2)`: the same text as logs and `oncalld status` show.
pub(crate) fn check_state_text(s: CheckState) -> String {
    s.to_string()
}

pub(crate) fn check_state(s: &str) -> Result<CheckState, StoreError> {
    match s {
        "UP" => Ok(CheckState::Up),
        "DOWN" => Ok(CheckState::Down),
        _ => s
            .strip_prefix("FAILING(")
            .and_then(|rest| rest.strip_suffix(')'))
            .and_then(|n| n.parse().ok())
            .map(|attempt| CheckState::Failing { attempt })
            .ok_or_else(|| StoreError::Corrupt(format!("unknown check state {s:?}"))),
    }
}

pub(crate) fn json<T: serde::Serialize>(v: &T) -> Result<String, StoreError> {
    serde_json::to_string(v).map_err(|e| StoreError::Corrupt(format!("cannot encode JSON: {e}")))
}

pub(crate) fn from_json<T: serde::de::DeserializeOwned>(
    s: &str,
    what: &str,
) -> Result<T, StoreError> {
    serde_json::from_str(s).map_err(|e| StoreError::Corrupt(format!("{what}: {e}")))
}

/// Runs a query and decodes every row with `f`, stopping at the first bad row.
pub(crate) fn collect<T, P: rusqlite::Params>(
    stmt: &mut rusqlite::CachedStatement<'_>,
    params: P,
    f: impl Fn(&rusqlite::Row<'_>) -> Result<T, StoreError>,
) -> Result<Vec<T>, StoreError> {
    let mut rows = stmt.query(params)?;
    let mut out = Vec::new();
    while let Some(row) = rows.next()? {
        out.push(f(row)?);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn check_states_round_trip() {
        for s in [
            CheckState::Up,
            CheckState::Down,
            CheckState::Failing { attempt: 3 },
        ] {
            assert_eq!(check_state(&check_state_text(s)).unwrap(), s);
        }
        assert!(check_state("FAILING(x)").is_err());
        assert!(check_state("up").is_err());
    }

    #[test]
    fn times_keep_nanoseconds() {
        let t: Timestamp = "2026-11-25T21:15:17.123456789Z".parse().unwrap();
        assert_eq!(from_ts(ts(t).unwrap()).unwrap(), t);
        let far: Timestamp = "9000-01-01T00:00:00Z".parse().unwrap();
        assert!(matches!(ts(far), Err(StoreError::TimeOutOfRange(_))));
    }
}
