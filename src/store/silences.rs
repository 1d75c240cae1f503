//! Silences (maintenance windows).

use jiff::Timestamp;
use rusqlite::Row;

use super::codec::{collect, from_ts, id, to_u64, ts};
use super::{Store, StoreError};
use crate::core::model::{Silence, SilenceId};

const SILENCE_COLS: &str = "id, pattern, starts_at, ends_at, message, created_by";

impl Store {
    /// Silences in force at `now` or starting later (not yet ended), by id: what the engine
    /// reloads on start.
    pub fn active_silences(&self, now: Timestamp) -> Result<Vec<Silence>, StoreError> {
        let sql = format!("SELECT {SILENCE_COLS} FROM silences WHERE ends_at > ?1 ORDER BY id");
        collect(
            &mut self.conn.prepare_cached(&sql)?,
            [ts(now)?],
            silence_from_row,
        )
    }

    /// Every silence ever made, newest first (for `oncalld silences`).
    pub fn silences(&self) -> Result<Vec<Silence>, StoreError> {
        let sql = format!("SELECT {SILENCE_COLS} FROM silences ORDER BY id DESC");
        collect(&mut self.conn.prepare_cached(&sql)?, [], silence_from_row)
    }

    /// One more than any stored silence id, so ids are never reused.
    pub fn next_silence_id(&self) -> Result<SilenceId, StoreError> {
        let max: i64 =
            self.conn
                .query_row("SELECT coalesce(max(id), 0) FROM silences", [], |r| {
                    r.get(0)
                })?;
        Ok(to_u64(max, "silences.id")? + 1)
    }

    pub fn silence(&self, silence: SilenceId) -> Result<Option<Silence>, StoreError> {
        let sql = format!("SELECT {SILENCE_COLS} FROM silences WHERE id = ?1");
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let mut rows = stmt.query([id(silence)?])?;
        rows.next()?.map(silence_from_row).transpose()
    }
}

fn silence_from_row(r: &Row<'_>) -> Result<Silence, StoreError> {
    Ok(Silence {
        id: to_u64(r.get(0)?, "silences.id")?,
        pattern: r.get(1)?,
        starts_at: from_ts(r.get(2)?)?,
        ends_at: from_ts(r.get(3)?)?,
        message: r.get(4)?,
        created_by: r.get(5)?,
    })
}
