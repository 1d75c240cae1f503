//! The last ping of each heartbeat check: written with every ping through the engine step's
//! [`super::Batch`], read once at start-up.

use rusqlite::{Connection, params};

use super::codec::{collect, from_opt_ts, opt_ts};
use super::{HeartbeatRow, Store, StoreError};
use crate::api::types::PingKind;
use crate::core::heartbeat::{HbState, LastPing};

impl Store {
    /// Every heartbeat check's last ping, by name.
    pub fn heartbeats(&self) -> Result<Vec<HeartbeatRow>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT check_name, state, last_ping_at, last_kind, last_exit_code, last_message,
                 last_success_at, started_at FROM heartbeats ORDER BY check_name",
        )?;
        collect(&mut stmt, [], |r| {
            let at = from_opt_ts(r.get(2)?)?;
            let kind: Option<String> = r.get(3)?;
            let exit: Option<i64> = r.get(4)?;
            let last_ping = match (at, kind) {
                (Some(at), Some(kind)) => Some(LastPing {
                    at,
                    kind: ping_kind(&kind, exit)?,
                    message: r.get(5)?,
                }),
                _ => None,
            };
            Ok(HeartbeatRow {
                check: r.get(0)?,
                state: hb_state(&r.get::<_, String>(1)?)?,
                last_ping,
                last_success: from_opt_ts(r.get(6)?)?,
                started: from_opt_ts(r.get(7)?)?,
            })
        })
    }
}

pub(super) fn upsert(tx: &Connection, h: &HeartbeatRow) -> Result<(), StoreError> {
    let (at, kind, exit, message) = match &h.last_ping {
        Some(p) => {
            let (kind, exit) = kind_text(p.kind);
            (Some(p.at), Some(kind), exit, p.message.as_str())
        }
        None => (None, None, None, ""),
    };
    tx.prepare_cached(
        "INSERT INTO heartbeats (check_name, state, last_ping_at, last_kind, last_exit_code,
             last_message, last_success_at, started_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
         ON CONFLICT (check_name) DO UPDATE SET state = excluded.state,
             last_ping_at = excluded.last_ping_at, last_kind = excluded.last_kind,
             last_exit_code = excluded.last_exit_code, last_message = excluded.last_message,
             last_success_at = excluded.last_success_at, started_at = excluded.started_at",
    )?
    .execute(params![
        h.check,
        h.state.as_str(),
        opt_ts(at)?,
        kind,
        exit,
        message,
        opt_ts(h.last_success)?,
        opt_ts(h.started)?,
    ])?;
    Ok(())
}

fn kind_text(kind: PingKind) -> (&'static str, Option<i64>) {
    match kind {
        PingKind::Success => ("success", None),
        PingKind::Start => ("start", None),
        PingKind::Fail { exit_code } => ("fail", exit_code.map(i64::from)),
        PingKind::Log => ("log", None),
    }
}

fn ping_kind(s: &str, exit: Option<i64>) -> Result<PingKind, StoreError> {
    Ok(match s {
        "success" => PingKind::Success,
        "start" => PingKind::Start,
        "fail" => PingKind::Fail {
            exit_code: exit.and_then(|e| u8::try_from(e).ok()),
        },
        "log" => PingKind::Log,
        other => {
            return Err(StoreError::Corrupt(format!(
                "heartbeats.last_kind {other:?}"
            )));
        }
    })
}

fn hb_state(s: &str) -> Result<HbState, StoreError> {
    Ok(match s {
        "NEW" => HbState::New,
        "UP" => HbState::Up,
        "DOWN" => HbState::Down,
        other => return Err(StoreError::Corrupt(format!("heartbeats.state {other:?}"))),
    })
}
