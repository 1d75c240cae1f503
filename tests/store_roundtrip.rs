//! Every model type survives a write, a close and a reopen unchanged.

mod store_support;

use oncalld::api::types::PingKind;
use oncalld::core::check_state::CheckState;
use oncalld::core::escalation::Recipient;
use oncalld::core::heartbeat::{HbState, LastPing};
use oncalld::core::model::{DeliveryOutcome, EventKind, IncidentState};
use oncalld::store::{Batch, HeartbeatRow, IncidentFilter, PageStatus, Store, TimelineEntry};
use store_support::*;

fn full_batch() -> Batch {
    let mut i2 = acked(incident(2, "db", 100), 160, "bob (uid 1001)");
    i2.escalation.round = 2;
    i2.escalation.paged.push(Recipient {
        recipient: "ops".into(),
        notifier: "hook".into(),
        to: None,
    });
    i2.escalation.exhausted = true;
    let mut p3 = page(2, 3, "ops", "hook", 150);
    p3.to = None;
    p3.also_paged = vec![];
    Batch {
        incidents: vec![
            incident(1, "website", 0),
            i2,
            resolved(incident(3, "dns", 50), 90),
        ],
        events: vec![
            event(1, 1, 0, EventKind::Triggered),
            event(2, 1, 100, EventKind::Triggered),
            event(2, 2, 160, EventKind::Acknowledged),
            event(3, 1, 50, EventKind::Triggered),
            event(3, 2, 90, EventKind::Resolved),
        ],
        pages: vec![page(1, 1, "alice", "mail", 0), p3],
        silences: vec![silence(1, -100, -10), silence(2, 0, 1000)],
        transitions: vec![
            transition(
                "website",
                0,
                CheckState::Up,
                CheckState::Failing { attempt: 1 },
            ),
            transition(
                "website",
                5,
                CheckState::Failing { attempt: 1 },
                CheckState::Down,
            ),
            transition("db", 100, CheckState::Up, CheckState::Down),
        ],
        check_states: vec![
            check_state_row("website", CheckState::Down, 5),
            check_state_row("db", CheckState::Failing { attempt: 2 }, 100),
        ],
        heartbeats: vec![
            HeartbeatRow {
                check: "backup".into(),
                state: HbState::Down,
                last_ping: Some(LastPing {
                    at: t(30),
                    kind: PingKind::Fail { exit_code: Some(2) },
                    message: "disk full".into(),
                }),
                last_success: Some(t(10)),
                started: Some(t(20)),
            },
            HeartbeatRow {
                check: "new".into(),
                state: HbState::New,
                last_ping: None,
                last_success: None,
                started: None,
            },
        ],
    }
}

#[test]
fn every_type_round_trips_across_a_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let batch = full_batch();
    {
        let mut store = open(&dir);
        store.commit(&batch).unwrap();
    }
    let store = open(&dir);
    let all = store.incidents(IncidentFilter::default()).unwrap();
    // Newest first: #2 opened at 100, #3 at 50, #1 at 0.
    let by_id = |id: u64| batch.incidents.iter().find(|i| i.id == id).unwrap().clone();
    assert_eq!(all, vec![by_id(2), by_id(3), by_id(1)]);
    assert_eq!(
        store.incident(2).unwrap().as_ref(),
        Some(&batch.incidents[1])
    );
    assert_eq!(store.incident(99).unwrap(), None);
    let open_ids: Vec<u64> = store
        .open_incidents()
        .unwrap()
        .iter()
        .map(|i| i.id)
        .collect();
    assert_eq!(open_ids, vec![1, 2]);
    assert_eq!(store.next_incident_id().unwrap(), 4);

    assert_eq!(store.events(2).unwrap(), batch.events[1..3].to_vec());
    let pages: Vec<_> = store
        .pages_for(2)
        .unwrap()
        .into_iter()
        .map(|r| r.page)
        .collect();
    assert_eq!(pages, vec![batch.pages[1].clone()]);

    let mut silences = store.silences().unwrap();
    silences.reverse();
    assert_eq!(silences, batch.silences);
    assert_eq!(
        store.active_silences(t(0)).unwrap(),
        vec![batch.silences[1].clone()]
    );
    assert_eq!(store.silence(1).unwrap().as_ref(), Some(&batch.silences[0]));
    assert_eq!(store.next_silence_id().unwrap(), 3);

    assert_eq!(store.transitions(None, None).unwrap(), batch.transitions);
    let website = store.transitions(Some("website"), Some(t(1))).unwrap();
    assert_eq!(website, vec![batch.transitions[1].clone()]);
    let before = store.last_transition_before("website", t(5)).unwrap();
    assert_eq!(before.as_ref(), Some(&batch.transitions[0]));

    let mut states = batch.check_states.clone();
    states.sort_by(|a, b| a.check.cmp(&b.check));
    assert_eq!(store.check_states().unwrap(), states);
    assert_eq!(store.heartbeats().unwrap(), batch.heartbeats);
}

#[test]
fn upserts_replace_whole_rows() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open(&dir);
    store.commit(&trigger_batch(1, "website", 0)).unwrap();
    let later = resolved(acked(incident(1, "website", 0), 10, "alice"), 20);
    let mut s = silence(1, 0, 10);
    let mut c = check_state_row("website", CheckState::Down, 0);
    store
        .commit(&Batch {
            silences: vec![s.clone()],
            check_states: vec![c.clone()],
            ..Batch::default()
        })
        .unwrap();
    s.ends_at = t(5);
    c.tracker.state = CheckState::Up;
    store
        .commit(&Batch {
            incidents: vec![later.clone()],
            silences: vec![s.clone()],
            check_states: vec![c.clone()],
            ..Batch::default()
        })
        .unwrap();
    assert_eq!(store.incident(1).unwrap(), Some(later));
    assert_eq!(
        store.incident(1).unwrap().unwrap().state,
        IncidentState::Resolved
    );
    assert!(store.open_incidents().unwrap().is_empty());
    assert_eq!(store.silences().unwrap(), vec![s]);
    assert_eq!(store.check_states().unwrap(), vec![c]);
}

#[test]
fn reopen_resumes_only_undelivered_pages() {
    let dir = tempfile::tempdir().unwrap();
    let batch = trigger_batch(1, "website", 0);
    {
        let mut store = open(&dir);
        store.commit(&batch).unwrap();
        let delivered = attempt(&batch.pages[0], 1, 1, DeliveryOutcome::Delivered);
        store.record_attempt(&delivered, None).unwrap();
        let retry = DeliveryOutcome::Retrying {
            error: "HTTP 500".into(),
            retry_at: t(3),
        };
        store
            .record_attempt(&attempt(&batch.pages[1], 1, 1, retry), None)
            .unwrap();
    }
    let store = open(&dir);
    let pending = store.pending_pages().unwrap();
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0].page, batch.pages[1]);
    assert_eq!(pending[0].attempts, 1);
    assert_eq!(pending[0].next_attempt_at, t(3));
    let statuses: Vec<PageStatus> = store
        .pages_for(1)
        .unwrap()
        .iter()
        .map(|r| r.status)
        .collect();
    assert!(statuses.contains(&PageStatus::Delivered) && statuses.contains(&PageStatus::Pending));
    let attempts = store
        .timeline(1)
        .unwrap()
        .into_iter()
        .filter(|e| matches!(e, TimelineEntry::Attempt(_)))
        .count();
    assert_eq!(attempts, 2);
}

#[test]
fn duplicate_page_key_is_ignored() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open(&dir);
    let batch = trigger_batch(1, "website", 0);
    store.commit(&batch).unwrap();
    let first = attempt(&batch.pages[0], 1, 1, DeliveryOutcome::Delivered);
    store.record_attempt(&first, None).unwrap();
    let mut again = batch.pages[0].clone();
    again.text = "a replayed step".into();
    again.created_at = t(50);
    store
        .commit(&Batch {
            pages: vec![again],
            ..Batch::default()
        })
        .unwrap();
    let records = store.pages_for(1).unwrap();
    assert_eq!(records.len(), 2);
    let mail = records
        .iter()
        .find(|r| r.page.key == batch.pages[0].key)
        .unwrap();
    assert_eq!(mail.page, batch.pages[0]);
    assert_eq!(mail.status, PageStatus::Delivered);
    assert_eq!(store.pending_pages().unwrap().len(), 1);
}

#[test]
fn empty_store_answers_sensibly() {
    let dir = tempfile::tempdir().unwrap();
    let mut store: Store = open(&dir);
    store.commit(&Batch::default()).unwrap();
    assert_eq!(store.next_incident_id().unwrap(), 1);
    assert_eq!(store.next_silence_id().unwrap(), 1);
    assert!(store.open_incidents().unwrap().is_empty());
    assert!(store.pending_pages().unwrap().is_empty());
    assert!(store.timeline(1).unwrap().is_empty());
    assert!(store.outbox_stats().unwrap().is_empty());
}

#[test]
fn awkward_text_round_trips() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open(&dir);
    let mut batch = trigger_batch(1, "web's \"main\"; DROP TABLE incidents;--", 0);
    batch.incidents[0].summary = "línea 1\nline 2\t✓ 🚨 \0 nul".into();
    batch.events[0].message = String::new();
    batch.events[0].actor = "alice (uid 1000)".into();
    batch.pages[0].also_paged = vec!["o'brien".into(), "\"quoted\"".into()];
    store.commit(&batch).unwrap();
    drop(store);
    let store = open(&dir);
    assert_eq!(
        store.incident(1).unwrap().as_ref(),
        Some(&batch.incidents[0])
    );
    assert_eq!(store.events(1).unwrap(), batch.events);
    let pages = store.pending_pages().unwrap();
    assert!(pages.iter().any(|p| p.page == batch.pages[0]));
}
