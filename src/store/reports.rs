//! Slim queries for `oncalld report`: a year of history is ~100,000 incidents and a million
//! events, so the report reads only the columns it counts with (no escalation JSON, no event
//! messages) and lets SQLite find each incident's first acknowledgement.

use std::collections::HashMap;

use jiff::Timestamp;
use rusqlite::params;

use super::codec::{
    check_state, collect, from_opt_ts, from_ts, incident_state, page_event, to_u64, ts,
};
use super::{Store, StoreError};
use crate::core::model::{
    CheckTransitionRecord, EventKind, Incident, IncidentId, IncidentState, PageEvent,
};

/// One incident as a report counts it: when it opened, was acked and resolved.
#[derive(Debug, Clone, PartialEq)]
pub struct IncidentSummary {
    pub id: IncidentId,
    pub check: String,
    pub state: IncidentState,
    pub opened_at: Timestamp,
    /// The *current* acknowledgement (cleared by an ack timeout, replaced by a re-ack); the
    /// first one is in the events, see [`Store::first_acks`].
    pub acked_at: Option<Timestamp>,
    pub resolved_at: Option<Timestamp>,
}

impl From<&Incident> for IncidentSummary {
    fn from(i: &Incident) -> Self {
        IncidentSummary {
            id: i.id,
            check: i.check.clone(),
            state: i.state,
            opened_at: i.opened_at,
            acked_at: i.acked_at,
            resolved_at: i.resolved_at,
        }
    }
}

/// One page as a report counts it: to whom, when, and whether it went to a person.
#[derive(Debug, Clone, PartialEq)]
pub struct ReportPage {
    pub recipient: String,
    pub event: PageEvent,
    pub created_at: Timestamp,
    /// False for a page to a `notifier:` target (no person, no address).
    pub to_person: bool,
}

impl Store {
    /// Spans during which an incident was held as unreachable (SPEC §12), for reports: from
    /// each `unreachable` event to the incident's next `reachable`, `resolved` or hand
    /// `escalated` event (`None`: still held), for spans that may overlap `[from, to)`.
    pub fn unreachable_spans(
        &self,
        from: Timestamp,
        to: Timestamp,
    ) -> Result<Vec<(String, Timestamp, Option<Timestamp>)>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT i.check_name, u.at,
                    (SELECT min(e.at) FROM events e
                     WHERE e.incident = u.incident AND e.seq > u.seq
                       AND e.kind IN ('reachable', 'resolved', 'escalated')) AS until
             FROM events u JOIN incidents i ON i.id = u.incident
             WHERE u.kind = 'unreachable' AND u.at < ?2
               AND (i.resolved_at IS NULL OR i.resolved_at > ?1)",
        )?;
        let rows = stmt.query_map(params![ts(from)?, ts(to)?], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, i64>(1)?,
                r.get::<_, Option<i64>>(2)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (check, at, until) = row?;
            out.push((check, from_ts(at)?, from_opt_ts(until)?));
        }
        Ok(out)
    }

    /// Pages created in `[from, to)`, in no particular order: four columns, no sort, so a
    /// year of pages (300,000 rows) reads in tens of milliseconds.
    pub fn report_pages(
        &self,
        from: Timestamp,
        to: Timestamp,
    ) -> Result<Vec<ReportPage>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT recipient, event, created_at, to_addr IS NOT NULL FROM outbox
             WHERE created_at >= ?1 AND created_at < ?2",
        )?;
        collect(&mut stmt, params![ts(from)?, ts(to)?], |r| {
            Ok(ReportPage {
                recipient: r.get(0)?,
                event: page_event(&r.get::<_, String>(1)?)?,
                created_at: from_ts(r.get(2)?)?,
                to_person: r.get(3)?,
            })
        })
    }

    /// Transitions with `from <= at < to` of every check, in no particular order and
    /// *without their messages* (left empty): availability needs only when each check went
    /// DOWN and came back.
    pub fn report_transitions(
        &self,
        from: Timestamp,
        to: Timestamp,
    ) -> Result<Vec<CheckTransitionRecord>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT check_name, at, from_state, to_state FROM check_transitions
             WHERE at >= ?1 AND at < ?2",
        )?;
        collect(&mut stmt, params![ts(from)?, ts(to)?], |r| {
            Ok(CheckTransitionRecord {
                check: r.get(0)?,
                at: from_ts(r.get(1)?)?,
                from: check_state(&r.get::<_, String>(2)?)?,
                to: check_state(&r.get::<_, String>(3)?)?,
                message: String::new(),
            })
        })
    }

    /// Incidents opened in `[from, to)`, oldest first (off the `opened_at` index).
    pub fn incident_summaries(
        &self,
        from: Timestamp,
        to: Timestamp,
    ) -> Result<Vec<IncidentSummary>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT id, check_name, state, opened_at, acked_at, resolved_at FROM incidents
             WHERE opened_at >= ?1 AND opened_at < ?2 ORDER BY opened_at, id",
        )?;
        let mut rows = stmt.query(params![ts(from)?, ts(to)?])?;
        let mut out = Vec::new();
        while let Some(r) = rows.next()? {
            out.push(IncidentSummary {
                id: to_u64(r.get(0)?, "incidents.id")?,
                check: r.get(1)?,
                state: incident_state(&r.get::<_, String>(2)?)?,
                opened_at: from_ts(r.get(3)?)?,
                acked_at: from_opt_ts(r.get(4)?)?,
                resolved_at: from_opt_ts(r.get(5)?)?,
            });
        }
        Ok(out)
    }

    /// The first acknowledgement of every incident acked at or after `since`:
    /// `MIN(at) ... GROUP BY incident` over the `acknowledged` events, read off the
    /// `(kind, at)` index. `incidents.acked_at` is not enough: an ack timeout or an escalation
    /// by hand clears it and a later ack replaces it, while MTTA counts the first one.
    pub fn first_acks(
        &self,
        since: Timestamp,
    ) -> Result<HashMap<IncidentId, Timestamp>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT incident, MIN(at) FROM events WHERE kind = ?1 AND at >= ?2 GROUP BY incident",
        )?;
        let mut rows = stmt.query(params![EventKind::Acknowledged.as_str(), ts(since)?])?;
        let mut out = HashMap::new();
        while let Some(r) = rows.next()? {
            out.insert(to_u64(r.get(0)?, "events.incident")?, from_ts(r.get(1)?)?);
        }
        Ok(out)
    }

    /// Transitions with `from <= at < to`, of one check or of all, oldest first: a postmortem
    /// reads its check's around the incident, a report those of its window (off the
    /// `(check_name, at)` or `(at)` index; never the history after the window).
    pub fn transitions_between(
        &self,
        check: Option<&str>,
        from: Timestamp,
        to: Timestamp,
    ) -> Result<Vec<CheckTransitionRecord>, StoreError> {
        let cols = "SELECT check_name, at, from_state, to_state, message FROM check_transitions";
        let range = params![ts(from)?, ts(to)?];
        let decode = |r: &rusqlite::Row<'_>| {
            Ok(CheckTransitionRecord {
                check: r.get(0)?,
                at: from_ts(r.get(1)?)?,
                from: check_state(&r.get::<_, String>(2)?)?,
                to: check_state(&r.get::<_, String>(3)?)?,
                message: r.get(4)?,
            })
        };
        match check {
            Some(check) => {
                let sql = format!(
                    "{cols} WHERE check_name = ?3 AND at >= ?1 AND at < ?2 ORDER BY at, id"
                );
                let p = params![ts(from)?, ts(to)?, check];
                collect(&mut self.conn.prepare_cached(&sql)?, p, decode)
            }
            None => {
                let sql = format!("{cols} WHERE at >= ?1 AND at < ?2 ORDER BY at, id");
                collect(&mut self.conn.prepare_cached(&sql)?, range, decode)
            }
        }
    }
}
