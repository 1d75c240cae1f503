//! The one-transaction write of an engine step.

use rusqlite::{Connection, params};

use super::codec::{check_state_text, id, json, opt_ts, ts};
use super::{Batch, CheckStateRow, Store, StoreError};
use crate::core::model::{CheckTransitionRecord, Incident, Page, Silence, TimelineEvent};

impl Store {
    /// Writes a whole engine step atomically: either every row of `batch` lands or none does.
    /// Returns only once the transaction is durable (see `synchronous` in [`Store::open`]).
    pub fn commit(&mut self, batch: &Batch) -> Result<(), StoreError> {
        if batch.is_empty() {
            return Ok(());
        }
        // BEGIN and COMMIT as cached statements: `Connection::transaction` parses both on
        // every call, which was a third of the store's CPU for a one-row step (a ping).
        let conn = &self.conn;
        conn.prepare_cached("BEGIN IMMEDIATE")?.execute([])?;
        let written = write_batch(conn, batch)
            .and_then(|()| Ok(conn.prepare_cached("COMMIT")?.execute([]).map(|_| ())?));
        if written.is_err() && !conn.is_autocommit() {
            // Nothing of the step lands. (An error may already have rolled it back.)
            let _ = conn
                .prepare_cached("ROLLBACK")
                .and_then(|mut s| s.execute([]));
        }
        written
    }
}

fn write_batch(tx: &Connection, batch: &Batch) -> Result<(), StoreError> {
    for i in &batch.incidents {
        upsert_incident(tx, i)?;
    }
    for e in &batch.events {
        insert_event(tx, e)?;
    }
    for p in &batch.pages {
        insert_page(tx, p)?;
    }
    for s in &batch.silences {
        upsert_silence(tx, s)?;
    }
    for t in &batch.transitions {
        insert_transition(tx, t)?;
    }
    for c in &batch.check_states {
        upsert_check_state(tx, c)?;
    }
    for h in &batch.heartbeats {
        super::heartbeats::upsert(tx, h)?;
    }
    Ok(())
}

fn upsert_incident(tx: &Connection, i: &Incident) -> Result<(), StoreError> {
    tx.prepare_cached(
        "INSERT INTO incidents (id, check_name, summary, state, policy, opened_at, acked_at,
             acked_by, resolved_at, resolved_by, next_seq, escalation, fingerprint)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)
         ON CONFLICT (id) DO UPDATE SET check_name = excluded.check_name,
             summary = excluded.summary, state = excluded.state, policy = excluded.policy,
             opened_at = excluded.opened_at, acked_at = excluded.acked_at,
             acked_by = excluded.acked_by, resolved_at = excluded.resolved_at,
             resolved_by = excluded.resolved_by, next_seq = excluded.next_seq,
             escalation = excluded.escalation, fingerprint = excluded.fingerprint",
    )?
    .execute(params![
        id(i.id)?,
        i.check,
        i.summary,
        i.state.as_str(),
        i.policy,
        ts(i.opened_at)?,
        opt_ts(i.acked_at)?,
        i.acked_by,
        opt_ts(i.resolved_at)?,
        i.resolved_by,
        i.next_seq,
        json(&i.escalation)?,
        i.fingerprint,
    ])?;
    Ok(())
}

fn insert_event(tx: &Connection, e: &TimelineEvent) -> Result<(), StoreError> {
    tx.prepare_cached(
        "INSERT INTO events (incident, seq, at, kind, actor, message)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?
    .execute(params![
        id(e.incident)?,
        e.seq,
        ts(e.at)?,
        e.kind.as_str(),
        e.actor,
        e.message
    ])?;
    Ok(())
}

fn insert_page(tx: &Connection, p: &Page) -> Result<(), StoreError> {
    let created = ts(p.created_at)?;
    tx.prepare_cached(
        "INSERT INTO outbox (key, incident, seq, event, recipient, notifier, to_addr, step,
             check_name, summary, incident_state, opened_at, also_paged, text, created_at,
             status, attempts, next_attempt_at, digest)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15,
             'pending', 0, ?15, ?16)
         ON CONFLICT (key) DO NOTHING",
    )?
    .execute(params![
        p.key,
        id(p.incident)?,
        p.seq,
        p.event.as_str(),
        p.recipient,
        p.notifier,
        p.to,
        p.step,
        p.check,
        p.summary,
        p.incident_state.as_str(),
        ts(p.opened_at)?,
        json(&p.also_paged)?,
        p.text,
        created,
        if p.digest.is_empty() {
            None
        } else {
            Some(json(&p.digest)?)
        },
    ])?;
    Ok(())
}

fn upsert_silence(tx: &Connection, s: &Silence) -> Result<(), StoreError> {
    tx.prepare_cached(
        "INSERT INTO silences (id, pattern, starts_at, ends_at, message, created_by)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)
         ON CONFLICT (id) DO UPDATE SET pattern = excluded.pattern,
             starts_at = excluded.starts_at, ends_at = excluded.ends_at,
             message = excluded.message, created_by = excluded.created_by",
    )?
    .execute(params![
        id(s.id)?,
        s.pattern,
        ts(s.starts_at)?,
        ts(s.ends_at)?,
        s.message,
        s.created_by
    ])?;
    Ok(())
}

fn insert_transition(tx: &Connection, t: &CheckTransitionRecord) -> Result<(), StoreError> {
    tx.prepare_cached(
        "INSERT INTO check_transitions (check_name, at, from_state, to_state, message)
         VALUES (?1, ?2, ?3, ?4, ?5)",
    )?
    .execute(params![
        t.check,
        ts(t.at)?,
        check_state_text(t.from),
        check_state_text(t.to),
        t.message
    ])?;
    Ok(())
}

fn upsert_check_state(tx: &Connection, c: &CheckStateRow) -> Result<(), StoreError> {
    let duration = i64::try_from(c.last_duration_ms).unwrap_or(i64::MAX);
    tx.prepare_cached(
        "INSERT INTO check_states (check_name, state, recovering, last_status, last_message,
             last_duration_ms, last_at, state_since)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
         ON CONFLICT (check_name) DO UPDATE SET state = excluded.state,
             recovering = excluded.recovering, last_status = excluded.last_status,
             last_message = excluded.last_message, last_duration_ms = excluded.last_duration_ms,
             last_at = excluded.last_at, state_since = excluded.state_since",
    )?
    .execute(params![
        c.check,
        check_state_text(c.tracker.state),
        c.tracker.recovering,
        c.last_status.as_str(),
        c.last_message,
        duration,
        ts(c.last_at)?,
        ts(c.state_since)?,
    ])?;
    Ok(())
}
