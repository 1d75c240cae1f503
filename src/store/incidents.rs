//! Incidents and their timelines: restart, the API/CLI views, and the report queries.

use jiff::Timestamp;
use rusqlite::{Row, params};

use super::codec::{collect, event_kind, from_json, from_opt_ts, from_ts, id, incident_state};
use super::codec::{to_u32, to_u64, ts};
use super::outbox::attempt_from_row;
use super::{IncidentFilter, Store, StoreError, TimelineEntry};
use crate::core::model::{EventKind, Incident, IncidentId, TimelineEvent};

const INCIDENT_COLS: &str = "id, check_name, summary, state, policy, opened_at, acked_at, \
     acked_by, resolved_at, resolved_by, next_seq, escalation, fingerprint";

const EVENT_COLS: &str = "incident, seq, at, kind, actor, message";

impl Store {
    /// Incidents not yet resolved, oldest first: what the engine resumes after a restart.
    pub fn open_incidents(&self) -> Result<Vec<Incident>, StoreError> {
        let sql =
            format!("SELECT {INCIDENT_COLS} FROM incidents WHERE state <> 'resolved' ORDER BY id");
        collect(&mut self.conn.prepare_cached(&sql)?, [], incident_from_row)
    }

    /// The id the next incident takes: one more than any stored, so ids are never reused.
    pub fn next_incident_id(&self) -> Result<IncidentId, StoreError> {
        let max: i64 =
            self.conn
                .query_row("SELECT coalesce(max(id), 0) FROM incidents", [], |r| {
                    r.get(0)
                })?;
        Ok(to_u64(max, "incidents.id")? + 1)
    }

    pub fn incident(&self, incident: IncidentId) -> Result<Option<Incident>, StoreError> {
        let sql = format!("SELECT {INCIDENT_COLS} FROM incidents WHERE id = ?1");
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let mut rows = stmt.query([id(incident)?])?;
        rows.next()?.map(incident_from_row).transpose()
    }

    /// Incidents for `oncalld incidents` and the API, newest first.
    pub fn incidents(&self, filter: IncidentFilter) -> Result<Vec<Incident>, StoreError> {
        // Without `since`, the open ones come off the partial `incidents_open` index; with it,
        // off `incidents_opened_at`. The order is the same: ids grow with opening time.
        let (cond, order) = match (filter.open_only, filter.since.is_some()) {
            (true, false) => ("state <> 'resolved' AND ?1 IS NULL", "id DESC"),
            (true, true) => (
                "opened_at >= ?1 AND state <> 'resolved'",
                "opened_at DESC, id DESC",
            ),
            (false, true) => ("opened_at >= ?1", "opened_at DESC, id DESC"),
            (false, false) => ("?1 IS NULL", "opened_at DESC, id DESC"),
        };
        let sql = format!("SELECT {INCIDENT_COLS} FROM incidents WHERE {cond} ORDER BY {order}");
        let since = filter.since.map(ts).transpose()?;
        collect(
            &mut self.conn.prepare_cached(&sql)?,
            [since],
            incident_from_row,
        )
    }

    /// Incidents open at any time in `[from, to)` — opened before `to` and resolved after
    /// `from` or not at all — oldest first. Reports pick MTTA/MTTR (opened in the window) and
    /// availability (overlapping it) from these.
    pub fn incidents_in(
        &self,
        from: Timestamp,
        to: Timestamp,
    ) -> Result<Vec<Incident>, StoreError> {
        let sql = format!(
            "SELECT {INCIDENT_COLS} FROM incidents
             WHERE opened_at < ?2 AND (resolved_at IS NULL OR resolved_at > ?1)
             ORDER BY opened_at, id"
        );
        let mut stmt = self.conn.prepare_cached(&sql)?;
        collect(&mut stmt, params![ts(from)?, ts(to)?], incident_from_row)
    }

    /// Events of one incident, in order.
    pub fn events(&self, incident: IncidentId) -> Result<Vec<TimelineEvent>, StoreError> {
        let sql = format!("SELECT {EVENT_COLS} FROM events WHERE incident = ?1 ORDER BY seq");
        collect(
            &mut self.conn.prepare_cached(&sql)?,
            [id(incident)?],
            event_from_row,
        )
    }

    /// An incident's events and page delivery attempts merged in time order (an event before
    /// an attempt at the same instant: the page is queued before it is tried).
    pub fn timeline(&self, incident: IncidentId) -> Result<Vec<TimelineEntry>, StoreError> {
        let events = self.events(incident)?;
        let mut stmt = self.conn.prepare_cached(
            "SELECT key, incident, recipient, notifier, attempt, at, outcome, error, retry_at
             FROM page_attempts WHERE incident = ?1 ORDER BY at, key, attempt",
        )?;
        let attempts = collect(&mut stmt, [id(incident)?], attempt_from_row)?;
        let mut out = Vec::with_capacity(events.len() + attempts.len());
        let mut attempts = attempts.into_iter().peekable();
        for e in events {
            while let Some(a) = attempts.next_if(|a| a.at < e.at) {
                out.push(TimelineEntry::Attempt(a));
            }
            out.push(TimelineEntry::Event(e));
        }
        out.extend(attempts.map(TimelineEntry::Attempt));
        Ok(out)
    }

    /// Every event with `from <= at < to`, in time order.
    pub fn events_in(
        &self,
        from: Timestamp,
        to: Timestamp,
    ) -> Result<Vec<TimelineEvent>, StoreError> {
        let sql = format!(
            "SELECT {EVENT_COLS} FROM events WHERE at >= ?1 AND at < ?2
             ORDER BY at, incident, seq"
        );
        let mut stmt = self.conn.prepare_cached(&sql)?;
        collect(&mut stmt, params![ts(from)?, ts(to)?], event_from_row)
    }

    /// Events of one kind with `from <= at < to` (e.g. every acknowledgement, for who acked
    /// what), in time order; served by the `(kind, at)` index.
    pub fn events_of_kind_in(
        &self,
        kind: EventKind,
        from: Timestamp,
        to: Timestamp,
    ) -> Result<Vec<TimelineEvent>, StoreError> {
        let sql = format!(
            "SELECT {EVENT_COLS} FROM events WHERE kind = ?1 AND at >= ?2 AND at < ?3
             ORDER BY at, incident, seq"
        );
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let p = params![kind.as_str(), ts(from)?, ts(to)?];
        collect(&mut stmt, p, event_from_row)
    }

    /// Acknowledgements with `from <= at < to`.
    pub fn acks_in(
        &self,
        from: Timestamp,
        to: Timestamp,
    ) -> Result<Vec<TimelineEvent>, StoreError> {
        self.events_of_kind_in(EventKind::Acknowledged, from, to)
    }
}

fn incident_from_row(r: &Row<'_>) -> Result<Incident, StoreError> {
    let escalation: String = r.get(11)?;
    Ok(Incident {
        id: to_u64(r.get(0)?, "incidents.id")?,
        check: r.get(1)?,
        summary: r.get(2)?,
        state: incident_state(&r.get::<_, String>(3)?)?,
        policy: r.get(4)?,
        opened_at: from_ts(r.get(5)?)?,
        acked_at: from_opt_ts(r.get(6)?)?,
        acked_by: r.get(7)?,
        resolved_at: from_opt_ts(r.get(8)?)?,
        resolved_by: r.get(9)?,
        next_seq: to_u32(r.get(10)?, "incidents.next_seq")?,
        escalation: from_json(&escalation, "incidents.escalation")?,
        fingerprint: r.get(12)?,
    })
}

fn event_from_row(r: &Row<'_>) -> Result<TimelineEvent, StoreError> {
    Ok(TimelineEvent {
        incident: to_u64(r.get(0)?, "events.incident")?,
        seq: to_u32(r.get(1)?, "events.seq")?,
        at: from_ts(r.get(2)?)?,
        kind: event_kind(&r.get::<_, String>(3)?)?,
        actor: r.get(4)?,
        message: r.get(5)?,
    })
}
