//! The outbox: pages written with their engine step, then delivered (and retried) by the
//! notifiers, each attempt recorded beside the page.

use jiff::{SignedDuration, Timestamp};
use rusqlite::{Row, params};

use super::codec::{collect, from_json, from_opt_ts, from_ts, id, incident_state, opt_ts};
use super::codec::{page_event, to_u32, to_u64, ts};
use super::{OutboxStats, PageRecord, PageStatus, PageSummary, PendingPage, Store, StoreError};
use crate::core::model::{DeliveryOutcome, IncidentId, Page, PageAttempt};

const PAGE_COLS: &str = "key, incident, seq, event, recipient, notifier, to_addr, step, \
     check_name, summary, incident_state, opened_at, also_paged, text, created_at, \
     status, attempts, next_attempt_at, last_error, digest";

/// How long delivered and failed pages, with their attempts, are kept (the default for
/// [`Store::prune`]): long enough for a quarter's reports, short enough that a year of pages
/// never makes `/metrics` (a scan of the outbox) or a restart slow.
pub const PAGE_RETENTION: SignedDuration = SignedDuration::from_secs(90 * 24 * 3600);

/// Pages deleted per transaction by [`Store::prune`], so that pruning a long history never
/// holds the write lock for long (10,001 pages: 119 ms in 3 batches, debug build, here).
pub const PRUNE_BATCH: usize = 5_000;

impl Store {
    /// Delete delivered and failed pages created before `now - keep`, and their attempts,
    /// in transactions of at most [`PRUNE_BATCH`] pages; returns how many pages went.
    /// Pending pages are kept, and so are the pages of incidents still open (their timeline
    /// stays whole until they are resolved).
    pub fn prune(&mut self, now: Timestamp, keep: SignedDuration) -> Result<usize, StoreError> {
        let cutoff = ts(now.checked_sub(keep).unwrap_or(Timestamp::MIN))?;
        let mut total = 0;
        loop {
            let n = self.prune_batch(cutoff)?;
            total += n;
            if n < PRUNE_BATCH {
                return Ok(total);
            }
        }
    }

    /// One transaction of [`Store::prune`]: up to [`PRUNE_BATCH`] pages older than `cutoff`.
    fn prune_batch(&mut self, cutoff: i64) -> Result<usize, StoreError> {
        let tx = self.conn.transaction()?;
        let keys: Vec<String> = {
            let mut stmt = tx.prepare_cached(
                "SELECT key FROM outbox
                 WHERE status IN ('delivered', 'failed') AND created_at < ?1
                   AND incident NOT IN (SELECT id FROM incidents WHERE state <> 'resolved')
                 LIMIT ?2",
            )?;
            let limit = i64::try_from(PRUNE_BATCH).unwrap_or(i64::MAX);
            let rows = stmt.query_map(params![cutoff, limit], |r| r.get(0))?;
            rows.collect::<Result<_, _>>()?
        };
        {
            let mut attempts = tx.prepare_cached("DELETE FROM page_attempts WHERE key = ?1")?;
            let mut pages = tx.prepare_cached("DELETE FROM outbox WHERE key = ?1")?;
            for key in &keys {
                attempts.execute([key])?;
                pages.execute([key])?;
            }
        }
        tx.commit()?;
        Ok(keys.len())
    }

    /// Every undelivered page, oldest first: what delivery resumes after a restart.
    pub fn pending_pages(&self) -> Result<Vec<PendingPage>, StoreError> {
        let sql = format!(
            "SELECT {PAGE_COLS} FROM outbox WHERE status = 'pending'
             ORDER BY next_attempt_at, created_at, key"
        );
        collect(&mut self.conn.prepare_cached(&sql)?, [], pending_from_row)
    }

    /// Pending pages whose next attempt is due at `now`, most overdue first.
    pub fn due_pages(&self, now: Timestamp, limit: usize) -> Result<Vec<PendingPage>, StoreError> {
        let sql = format!(
            "SELECT {PAGE_COLS} FROM outbox WHERE status = 'pending' AND next_attempt_at <= ?1
             ORDER BY next_attempt_at, created_at, key LIMIT ?2"
        );
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let mut stmt = self.conn.prepare_cached(&sql)?;
        collect(&mut stmt, params![ts(now)?, limit], pending_from_row)
    }

    /// Records one delivery attempt and moves its page on, in one transaction: delivered,
    /// failed for good, or pending again at `next` (default: the outcome's `retry_at`).
    /// Recording the same attempt number twice keeps the last outcome.
    pub fn record_attempt(
        &mut self,
        attempt: &PageAttempt,
        next: Option<Timestamp>,
    ) -> Result<(), StoreError> {
        let (outcome, error, retry_at) = match &attempt.outcome {
            DeliveryOutcome::Delivered => ("delivered", None, None),
            DeliveryOutcome::Retrying { error, retry_at } => {
                ("retrying", Some(error.as_str()), Some(*retry_at))
            }
            DeliveryOutcome::Failed { error } => ("failed", Some(error.as_str()), None),
        };
        let (status, next_at) = match outcome {
            "retrying" => (PageStatus::Pending, next.or(retry_at)),
            "delivered" => (PageStatus::Delivered, None),
            _ => (PageStatus::Failed, None),
        };
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let changed = tx
            .prepare_cached(
                "UPDATE outbox SET status = ?1, attempts = max(attempts, ?2),
                     next_attempt_at = ?3, last_error = ?4 WHERE key = ?5",
            )?
            .execute(params![
                status.as_str(),
                attempt.attempt,
                opt_ts(next_at)?,
                error,
                attempt.key
            ])?;
        if changed == 0 {
            return Err(StoreError::UnknownPage(attempt.key.clone()));
        }
        tx.prepare_cached(
            "INSERT INTO page_attempts (key, attempt, incident, recipient, notifier, at, outcome,
                 error, retry_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
             ON CONFLICT (key, attempt) DO UPDATE SET at = excluded.at,
                 outcome = excluded.outcome, error = excluded.error, retry_at = excluded.retry_at",
        )?
        .execute(params![
            attempt.key,
            attempt.attempt,
            id(attempt.incident)?,
            attempt.recipient,
            attempt.notifier,
            ts(attempt.at)?,
            outcome,
            error,
            opt_ts(retry_at)?,
        ])?;
        tx.commit()?;
        Ok(())
    }

    /// Pending/delivered/failed counts per notifier, for `/metrics`.
    pub fn outbox_stats(&self) -> Result<Vec<OutboxStats>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT notifier, sum(status = 'pending'), sum(status = 'delivered'),
                 sum(status = 'failed'), min(CASE WHEN status = 'pending' THEN created_at END)
             FROM outbox GROUP BY notifier ORDER BY notifier",
        )?;
        collect(&mut stmt, [], |r| {
            Ok(OutboxStats {
                notifier: r.get(0)?,
                pending: to_u64(r.get(1)?, "pending count")?,
                delivered: to_u64(r.get(2)?, "delivered count")?,
                failed: to_u64(r.get(3)?, "failed count")?,
                oldest_pending: from_opt_ts(r.get(4)?)?,
            })
        })
    }

    /// Every page of one incident with its delivery state, in the order they were queued.
    pub fn pages_for(&self, incident: IncidentId) -> Result<Vec<PageRecord>, StoreError> {
        let sql = format!(
            "SELECT {PAGE_COLS} FROM outbox WHERE incident = ?1 ORDER BY created_at, seq, key"
        );
        collect(
            &mut self.conn.prepare_cached(&sql)?,
            [id(incident)?],
            record_from_row,
        )
    }

    /// Pages created in `[from, to)`, oldest first, without their bodies: for pages per person
    /// and night pages in reports.
    pub fn pages_in(&self, from: Timestamp, to: Timestamp) -> Result<Vec<PageSummary>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT incident, event, recipient, notifier, check_name, created_at, status, to_addr
             FROM outbox WHERE created_at >= ?1 AND created_at < ?2 ORDER BY created_at, key",
        )?;
        collect(&mut stmt, params![ts(from)?, ts(to)?], |r| {
            Ok(PageSummary {
                incident: to_u64(r.get(0)?, "outbox.incident")?,
                event: page_event(&r.get::<_, String>(1)?)?,
                recipient: r.get(2)?,
                notifier: r.get(3)?,
                check: r.get(4)?,
                created_at: from_ts(r.get(5)?)?,
                status: page_status(&r.get::<_, String>(6)?)?,
                to: r.get(7)?,
            })
        })
    }
}

fn page_status(s: &str) -> Result<PageStatus, StoreError> {
    match s {
        "pending" => Ok(PageStatus::Pending),
        "delivered" => Ok(PageStatus::Delivered),
        "failed" => Ok(PageStatus::Failed),
        _ => Err(StoreError::Corrupt(format!("unknown page status {s:?}"))),
    }
}

fn page_from_row(r: &Row<'_>) -> Result<Page, StoreError> {
    let also_paged: String = r.get(12)?;
    Ok(Page {
        key: r.get(0)?,
        incident: to_u64(r.get(1)?, "outbox.incident")?,
        seq: to_u32(r.get(2)?, "outbox.seq")?,
        event: page_event(&r.get::<_, String>(3)?)?,
        recipient: r.get(4)?,
        notifier: r.get(5)?,
        to: r.get(6)?,
        step: to_u32(r.get(7)?, "outbox.step")?,
        check: r.get(8)?,
        summary: r.get(9)?,
        incident_state: incident_state(&r.get::<_, String>(10)?)?,
        opened_at: from_ts(r.get(11)?)?,
        also_paged: from_json(&also_paged, "outbox.also_paged")?,
        text: r.get(13)?,
        created_at: from_ts(r.get(14)?)?,
        digest: match r.get::<_, Option<String>>(19)? {
            Some(d) => from_json(&d, "outbox.digest")?,
            None => Vec::new(),
        },
    })
}

fn pending_from_row(r: &Row<'_>) -> Result<PendingPage, StoreError> {
    let page = page_from_row(r)?;
    // A pending row always has a due time; fall back to its creation if hand-edited away.
    let next_attempt_at = from_opt_ts(r.get(17)?)?.unwrap_or(page.created_at);
    Ok(PendingPage {
        page,
        attempts: to_u32(r.get(16)?, "outbox.attempts")?,
        next_attempt_at,
    })
}

fn record_from_row(r: &Row<'_>) -> Result<PageRecord, StoreError> {
    Ok(PageRecord {
        page: page_from_row(r)?,
        status: page_status(&r.get::<_, String>(15)?)?,
        attempts: to_u32(r.get(16)?, "outbox.attempts")?,
        next_attempt_at: from_opt_ts(r.get(17)?)?,
        last_error: r.get(18)?,
    })
}

/// Decodes `key, incident, recipient, notifier, attempt, at, outcome, error, retry_at`.
pub(crate) fn attempt_from_row(r: &Row<'_>) -> Result<PageAttempt, StoreError> {
    let outcome: String = r.get(6)?;
    let error: Option<String> = r.get(7)?;
    let outcome = match (outcome.as_str(), error, from_opt_ts(r.get(8)?)?) {
        ("delivered", _, _) => DeliveryOutcome::Delivered,
        ("retrying", error, Some(retry_at)) => DeliveryOutcome::Retrying {
            error: error.unwrap_or_default(),
            retry_at,
        },
        ("failed", error, _) => DeliveryOutcome::Failed {
            error: error.unwrap_or_default(),
        },
        (other, _, _) => {
            return Err(StoreError::Corrupt(format!(
                "page attempt outcome {other:?}"
            )));
        }
    };
    Ok(PageAttempt {
        key: r.get(0)?,
        incident: to_u64(r.get(1)?, "page_attempts.incident")?,
        recipient: r.get(2)?,
        notifier: r.get(3)?,
        attempt: to_u32(r.get(4)?, "page_attempts.attempt")?,
        at: from_ts(r.get(5)?)?,
        outcome,
    })
}
