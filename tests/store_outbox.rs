//! The outbox: due pages, attempts moving pages between pending/delivered/failed, statistics,
//! and attempts merged into the timeline.

mod store_support;

use oncalld::core::model::{DeliveryOutcome, EventKind};
use oncalld::store::{Batch, PageStatus, StoreError, TimelineEntry};
use store_support::*;

fn retrying(at: i64) -> DeliveryOutcome {
    DeliveryOutcome::Retrying {
        error: "HTTP 503".into(),
        retry_at: t(at),
    }
}

#[test]
fn attempts_move_pages_through_their_states() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open(&dir);
    let batch = trigger_batch(1, "website", 0);
    store.commit(&batch).unwrap();
    let (mail, hook) = (&batch.pages[0], &batch.pages[1]);

    // New pages are due at their creation time.
    assert_eq!(store.due_pages(t(-1), 10).unwrap().len(), 0);
    let due = store.due_pages(t(0), 10).unwrap();
    assert_eq!(due.len(), 2);
    assert!(
        due.iter()
            .all(|p| p.attempts == 0 && p.next_attempt_at == t(0))
    );
    assert_eq!(store.due_pages(t(0), 1).unwrap().len(), 1);

    // hook: retry at 2 (from the outcome), then at 9 (explicit `next` wins), then fails.
    store
        .record_attempt(&attempt(hook, 1, 1, retrying(2)), None)
        .unwrap();
    let due: Vec<String> = store
        .due_pages(t(1), 10)
        .unwrap()
        .into_iter()
        .map(|p| p.page.key)
        .collect();
    assert_eq!(due, vec![mail.key.clone()]);
    let hook_due = &store.due_pages(t(2), 10).unwrap()[1];
    assert_eq!((hook_due.attempts, hook_due.next_attempt_at), (1, t(2)));
    store
        .record_attempt(&attempt(hook, 2, 2, retrying(4)), Some(t(9)))
        .unwrap();
    assert_eq!(store.due_pages(t(8), 10).unwrap().len(), 1);
    assert_eq!(store.due_pages(t(9), 10).unwrap().len(), 2);
    let failed = DeliveryOutcome::Failed {
        error: "HTTP 400".into(),
    };
    store
        .record_attempt(&attempt(hook, 3, 9, failed), None)
        .unwrap();
    store
        .record_attempt(&attempt(mail, 1, 9, DeliveryOutcome::Delivered), None)
        .unwrap();

    assert!(store.due_pages(t(1000), 10).unwrap().is_empty());
    assert!(store.pending_pages().unwrap().is_empty());
    let records = store.pages_for(1).unwrap();
    let hook_rec = records.iter().find(|r| r.page.key == hook.key).unwrap();
    assert_eq!(hook_rec.status, PageStatus::Failed);
    assert_eq!(hook_rec.attempts, 3);
    assert_eq!(hook_rec.last_error.as_deref(), Some("HTTP 400"));
    assert_eq!(hook_rec.next_attempt_at, None);
    let mail_rec = records.iter().find(|r| r.page.key == mail.key).unwrap();
    assert_eq!(
        (mail_rec.status, mail_rec.attempts),
        (PageStatus::Delivered, 1)
    );
}

#[test]
fn attempts_for_unknown_pages_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open(&dir);
    let p = page(1, 1, "alice", "mail", 0);
    let err = store.record_attempt(&attempt(&p, 1, 1, DeliveryOutcome::Delivered), None);
    assert!(matches!(err, Err(StoreError::UnknownPage(k)) if k == p.key));
    assert!(store.timeline(1).unwrap().is_empty());
}

#[test]
fn stats_count_per_notifier() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open(&dir);
    let mut batch = trigger_batch(1, "website", 10);
    batch.pages.push(page(1, 1, "bob", "mail", 5));
    batch.pages.push(page(1, 1, "carol", "mail", 20));
    store.commit(&batch).unwrap();
    let bob = &batch.pages[2];
    store
        .record_attempt(&attempt(bob, 1, 21, DeliveryOutcome::Delivered), None)
        .unwrap();
    let stats = store.outbox_stats().unwrap();
    assert_eq!(stats.len(), 2);
    assert_eq!(stats[0].notifier, "hook");
    assert_eq!(
        (stats[0].pending, stats[0].delivered, stats[0].failed),
        (1, 0, 0)
    );
    assert_eq!(stats[1].notifier, "mail");
    assert_eq!(
        (stats[1].pending, stats[1].delivered, stats[1].failed),
        (2, 1, 0)
    );
    // bob's page (the oldest, at 5) is delivered: the oldest pending mail is alice's at 10.
    assert_eq!(stats[1].oldest_pending, Some(t(10)));
}

#[test]
fn timeline_merges_events_and_attempts_in_time_order() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open(&dir);
    let batch = trigger_batch(1, "website", 0);
    store.commit(&batch).unwrap();
    // Attempts recorded out of time order, one at the same instant as a later event.
    store
        .record_attempt(&attempt(&batch.pages[1], 1, 30, retrying(40)), None)
        .unwrap();
    store
        .record_attempt(
            &attempt(&batch.pages[0], 1, 1, DeliveryOutcome::Delivered),
            None,
        )
        .unwrap();
    store
        .commit(&Batch {
            events: vec![
                event(1, 2, 30, EventKind::Acknowledged),
                event(1, 3, 60, EventKind::Note),
            ],
            ..Batch::default()
        })
        .unwrap();
    store
        .record_attempt(
            &attempt(&batch.pages[1], 2, 45, DeliveryOutcome::Delivered),
            None,
        )
        .unwrap();

    let got: Vec<String> = store
        .timeline(1)
        .unwrap()
        .iter()
        .map(|e| match e {
            TimelineEntry::Event(e) => format!(
                "{}@{}",
                e.kind.as_str(),
                e.at.as_second() - t(0).as_second()
            ),
            TimelineEntry::Attempt(a) => format!(
                "{}#{}@{}",
                a.notifier,
                a.attempt,
                a.at.as_second() - t(0).as_second()
            ),
        })
        .collect();
    assert_eq!(
        got,
        [
            "triggered@0",
            "mail#1@1",
            "acknowledged@30",
            "hook#1@30",
            "hook#2@45",
            "note@60"
        ]
    );
    let entries = store.timeline(1).unwrap();
    assert!(entries.windows(2).all(|w| w[0].at() <= w[1].at()));
    // The attempt round-trips whole, outcome included.
    assert_eq!(
        entries[3],
        TimelineEntry::Attempt(attempt(&batch.pages[1], 1, 30, retrying(40)))
    );
}

#[test]
fn a_digest_page_keeps_its_incidents() {
    use oncalld::core::model::{DigestItem, IncidentState};
    let dir = tempfile::tempdir().unwrap();
    let mut store = open(&dir);
    let mut batch = trigger_batch(1, "website", 0);
    let mut digest = batch.pages[0].clone();
    digest.key = "oncalld:digest:1:2:alice:mail".into();
    digest.digest = (2..=4)
        .map(|i| DigestItem {
            incident: i,
            check: format!("c{i}"),
            summary: "refused".into(),
            incident_state: IncidentState::Triggered,
            opened_at: t(0),
            step: 1,
        })
        .collect();
    batch.pages.push(digest.clone());
    store.commit(&batch).unwrap();
    let due = store.due_pages(t(0), 10).unwrap();
    let back = due.iter().find(|p| p.page.key == digest.key).unwrap();
    assert_eq!(back.page, digest);
    let single = due.iter().find(|p| p.page.key != digest.key).unwrap();
    assert!(single.page.digest.is_empty());
}
