//! One batch is one transaction: a failure anywhere in it leaves nothing of it behind.

mod store_support;

use oncalld::core::check_state::CheckState;
use oncalld::core::model::EventKind;
use oncalld::store::{Batch, IncidentFilter, StoreError};
use store_support::*;

fn counts(store: &oncalld::store::Store) -> (usize, usize, usize, usize, usize) {
    (
        store.incidents(IncidentFilter::default()).unwrap().len(),
        store.pending_pages().unwrap().len(),
        store.silences().unwrap().len(),
        store.transitions(None, None).unwrap().len(),
        store.check_states().unwrap().len(),
    )
}

#[test]
fn a_failing_batch_lands_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open(&dir);
    store.commit(&trigger_batch(1, "website", 0)).unwrap();
    let before = counts(&store);
    let before_events = store.events(1).unwrap();

    // Incident 2, its event and pages are valid; the last event points at an incident that
    // does not exist (foreign key), so the whole step must roll back.
    let mut bad = trigger_batch(2, "db", 10);
    bad.events.push(event(1, 2, 10, EventKind::Note));
    bad.events.push(event(77, 1, 10, EventKind::Note));
    bad.silences.push(silence(1, 0, 100));
    bad.transitions
        .push(transition("db", 10, CheckState::Up, CheckState::Down));
    bad.check_states
        .push(check_state_row("db", CheckState::Down, 10));
    let mut updated = incident(1, "website", 0);
    updated.summary = "changed".into();
    bad.incidents.push(updated);
    let err = store.commit(&bad).unwrap_err();
    assert!(matches!(err, StoreError::Sqlite(_)), "{err:?}");

    assert_eq!(counts(&store), before);
    assert_eq!(store.incident(2).unwrap(), None);
    assert_eq!(
        store.incident(1).unwrap().unwrap().summary,
        incident(1, "website", 0).summary
    );
    assert_eq!(store.events(1).unwrap(), before_events);

    // Still usable, and nothing half-written reappears after a reopen.
    store.commit(&trigger_batch(2, "db", 10)).unwrap();
    drop(store);
    let store = open(&dir);
    assert_eq!(store.open_incidents().unwrap().len(), 2);
    assert!(store.silences().unwrap().is_empty());
    assert!(store.check_states().unwrap().is_empty());
    assert_eq!(store.events(1).unwrap(), before_events);
}

#[test]
fn a_duplicate_event_rolls_back_its_batch() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open(&dir);
    store.commit(&trigger_batch(1, "website", 0)).unwrap();
    let mut again = Batch {
        pages: vec![page(1, 2, "bob", "mail", 5)],
        ..Batch::default()
    };
    again.events.push(event(1, 1, 5, EventKind::Escalated));
    assert!(store.commit(&again).is_err());
    assert_eq!(store.pending_pages().unwrap().len(), 2);
    assert_eq!(store.events(1).unwrap()[0].kind, EventKind::Triggered);
}

#[test]
fn a_time_out_of_range_rolls_back_its_batch() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open(&dir);
    let mut batch = trigger_batch(1, "website", 0);
    batch
        .check_states
        .push(check_state_row("website", CheckState::Down, 0));
    batch.check_states[0].last_at = "9999-01-01T00:00:00Z".parse().unwrap();
    let err = store.commit(&batch).unwrap_err();
    assert!(matches!(err, StoreError::TimeOutOfRange(_)), "{err:?}");
    assert_eq!(counts(&store), (0, 0, 0, 0, 0));
}
