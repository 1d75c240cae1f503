//! Check states (to resume soft/hard counting after a restart) and recorded transitions.

use jiff::Timestamp;
use rusqlite::params;

use super::codec::{check_state, collect, from_ts, status, to_u32, to_u64, ts};
use super::{CheckStateRow, Store, StoreError};
use crate::core::check_state::CheckTracker;
use crate::core::model::CheckTransitionRecord;

impl Store {
    /// The last known state of every check, by name.
    pub fn check_states(&self) -> Result<Vec<CheckStateRow>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT check_name, state, recovering, last_status, last_message, last_duration_ms,
                 last_at, state_since FROM check_states ORDER BY check_name",
        )?;
        collect(&mut stmt, [], |r| {
            Ok(CheckStateRow {
                check: r.get(0)?,
                tracker: CheckTracker {
                    state: check_state(&r.get::<_, String>(1)?)?,
                    recovering: to_u32(r.get(2)?, "check_states.recovering")?,
                },
                last_status: status(&r.get::<_, String>(3)?)?,
                last_message: r.get(4)?,
                last_duration_ms: to_u64(r.get(5)?, "check_states.last_duration_ms")?,
                last_at: from_ts(r.get(6)?)?,
                state_since: from_ts(r.get(7)?)?,
            })
        })
    }

    /// Transitions at or after `since` (all if `None`), of one check or all, oldest first.
    /// Availability over a window needs the state at its start too: ask from a little earlier
    /// or use [`Store::last_transition_before`].
    pub fn transitions(
        &self,
        check: Option<&str>,
        since: Option<Timestamp>,
    ) -> Result<Vec<CheckTransitionRecord>, StoreError> {
        let since = since.map(ts).transpose()?.unwrap_or(i64::MIN);
        // Two statements so each uses its own index ((check_name, at) or (at)).
        match check {
            Some(check) => {
                let mut stmt = self.conn.prepare_cached(
                    "SELECT check_name, at, from_state, to_state, message FROM check_transitions
                     WHERE check_name = ?1 AND at >= ?2 ORDER BY at, id",
                )?;
                collect(&mut stmt, params![check, since], transition_from_row)
            }
            None => {
                let mut stmt = self.conn.prepare_cached(
                    "SELECT check_name, at, from_state, to_state, message FROM check_transitions
                     WHERE at >= ?1 ORDER BY at, id",
                )?;
                collect(&mut stmt, [since], transition_from_row)
            }
        }
    }

    /// When the oldest stored transition happened: where the status page's history starts.
    pub fn first_transition_at(&self) -> Result<Option<Timestamp>, StoreError> {
        let first: Option<i64> = self
            .conn
            .prepare_cached("SELECT MIN(at) FROM check_transitions")?
            .query_row([], |r| r.get(0))?;
        first.map(from_ts).transpose()
    }

    /// The last transition of `check` strictly before `at`: its state when a window opens.
    pub fn last_transition_before(
        &self,
        check: &str,
        at: Timestamp,
    ) -> Result<Option<CheckTransitionRecord>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT check_name, at, from_state, to_state, message FROM check_transitions
             WHERE check_name = ?1 AND at < ?2 ORDER BY at DESC, id DESC LIMIT 1",
        )?;
        let mut rows = stmt.query(params![check, ts(at)?])?;
        rows.next()?.map(transition_from_row).transpose()
    }
}

fn transition_from_row(r: &rusqlite::Row<'_>) -> Result<CheckTransitionRecord, StoreError> {
    Ok(CheckTransitionRecord {
        check: r.get(0)?,
        at: from_ts(r.get(1)?)?,
        from: check_state(&r.get::<_, String>(2)?)?,
        to: check_state(&r.get::<_, String>(3)?)?,
        message: r.get(4)?,
    })
}
