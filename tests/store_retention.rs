//! Retention: `Store::prune` deletes delivered and failed pages (and their attempts) past the
//! retention, keeps pending pages and the pages of open incidents, works in bounded batches,
//! and what it deleted stays deleted in the file.

mod store_support;

use std::time::Instant;

use jiff::SignedDuration;
use oncalld::core::model::{DeliveryOutcome, EventKind, IncidentId};
use oncalld::store::{Batch, PAGE_RETENTION, PRUNE_BATCH, PageStatus, Store, TimelineEntry};
use store_support::*;

const DAY: i64 = 86_400;

/// Incident `id` opened at `at` (seconds from `t(0)`), resolved a minute later, with its two
/// trigger pages (alice by mail and by hook) created at `at`.
fn resolved_incident(store: &mut Store, id: IncidentId, at: i64) -> Batch {
    let mut batch = trigger_batch(id, "website", at);
    batch.incidents = vec![resolved(incident(id, "website", at), at + 60)];
    store.commit(&batch).unwrap();
    batch
}

fn deliver(store: &mut Store, batch: &Batch, page: usize, at: i64) {
    let p = &batch.pages[page];
    store
        .record_attempt(&attempt(p, 1, at, DeliveryOutcome::Delivered), None)
        .unwrap();
}

fn fail(store: &mut Store, batch: &Batch, page: usize, at: i64) {
    let p = &batch.pages[page];
    let retry = DeliveryOutcome::Retrying {
        error: "HTTP 503".into(),
        retry_at: t(at + 5),
    };
    store
        .record_attempt(&attempt(p, 1, at, retry), None)
        .unwrap();
    let failed = DeliveryOutcome::Failed {
        error: "HTTP 400".into(),
    };
    store
        .record_attempt(&attempt(p, 2, at + 5, failed), None)
        .unwrap();
}

fn attempts_in_timeline(store: &Store, id: IncidentId) -> usize {
    store
        .timeline(id)
        .unwrap()
        .iter()
        .filter(|e| matches!(e, TimelineEntry::Attempt(_)))
        .count()
}

#[test]
fn old_finished_pages_go_pending_and_open_ones_stay() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open(&dir);
    let now = t(100 * DAY);

    // 100 days old, resolved: both pages go (one delivered, one failed after a retry).
    let old = resolved_incident(&mut store, 1, 0);
    deliver(&mut store, &old, 0, 1);
    fail(&mut store, &old, 1, 1);
    // 80 days old, resolved: kept.
    let recent = resolved_incident(&mut store, 2, 20 * DAY);
    deliver(&mut store, &recent, 0, 20 * DAY + 1);
    deliver(&mut store, &recent, 1, 20 * DAY + 1);
    // 100 days old but still open: kept, its timeline stays whole.
    let open_one = trigger_batch(3, "db", 0);
    store.commit(&open_one).unwrap();
    deliver(&mut store, &open_one, 0, 1);
    deliver(&mut store, &open_one, 1, 1);
    // 100 days old, resolved, one page delivered (goes) and one still pending (stays).
    let half = resolved_incident(&mut store, 4, 0);
    deliver(&mut store, &half, 0, 1);
    assert_eq!(attempts_in_timeline(&store, 1), 3);

    assert_eq!(store.prune(now, PAGE_RETENTION).unwrap(), 3);

    assert!(store.pages_for(1).unwrap().is_empty());
    assert_eq!(attempts_in_timeline(&store, 1), 0);
    // The incident and its events are not the outbox's to delete.
    let events = store.events(1).unwrap();
    assert!(events.iter().any(|e| e.kind == EventKind::Triggered));
    assert_eq!(store.pages_for(2).unwrap().len(), 2);
    assert_eq!(store.pages_for(3).unwrap().len(), 2);
    assert_eq!(attempts_in_timeline(&store, 3), 2);
    let left: Vec<PageStatus> = store
        .pages_for(4)
        .unwrap()
        .iter()
        .map(|r| r.status)
        .collect();
    assert_eq!(left, vec![PageStatus::Pending]);
    assert_eq!(store.pending_pages().unwrap().len(), 1);

    // Nothing more to do; and the deletions are in the file.
    assert_eq!(store.prune(now, PAGE_RETENTION).unwrap(), 0);
    drop(store);
    let store = open(&dir);
    let stats = store.outbox_stats().unwrap();
    let total: u64 = stats
        .iter()
        .map(|s| s.delivered + s.failed + s.pending)
        .sum();
    assert_eq!(total, 5);
    // A shorter retention reaches the 80-day-old pages too.
    let mut store = store;
    let keep = SignedDuration::from_secs(30 * DAY);
    assert_eq!(store.prune(now, keep).unwrap(), 2);
}

#[test]
fn a_long_history_is_pruned_in_batches() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open(&dir);
    let n = PRUNE_BATCH * 2 + 1;
    // One resolved incident a year ago with n pages, all delivered.
    let mut batch = trigger_batch(1, "website", 0);
    batch.incidents = vec![resolved(incident(1, "website", 0), 60)];
    batch.pages = (0..n)
        .map(|i| page(1, i as u32 + 1, "alice", "hook", 0))
        .collect();
    store.commit(&batch).unwrap();
    for p in batch.pages.iter().take(10) {
        store
            .record_attempt(&attempt(p, 1, 1, DeliveryOutcome::Delivered), None)
            .unwrap();
    }
    // The rest delivered in one statement: record_attempt fsyncs once per page.
    let db = rusqlite::Connection::open(dir.path().join(oncalld::store::DB_FILE)).unwrap();
    db.execute("UPDATE outbox SET status = 'delivered'", [])
        .unwrap();
    drop(db);

    let start = Instant::now();
    store.outbox_stats().unwrap();
    let stats_before = start.elapsed();
    let start = Instant::now();
    let pruned = store.prune(t(365 * DAY), PAGE_RETENTION).unwrap();
    let took = start.elapsed();
    let start = Instant::now();
    let after = store.outbox_stats().unwrap();
    let stats_after = start.elapsed();
    println!(
        "pruned {pruned} pages in {} ms ({} batches); outbox_stats {} us before, {} us after",
        took.as_millis(),
        n.div_ceil(PRUNE_BATCH),
        stats_before.as_micros(),
        stats_after.as_micros()
    );
    assert_eq!(pruned, n);
    assert!(after.is_empty(), "{after:?}");
    assert_eq!(attempts_in_timeline(&store, 1), 0);
}
