//! The report queries return exactly the rows of their window.

mod store_support;

use oncalld::core::model::{DeliveryOutcome, EventKind, IncidentId};
use oncalld::store::{Batch, IncidentFilter, Store};
use store_support::*;

/// Incidents: 1 opened -100 resolved -50 (before the window), 2 opened -10 resolved 20
/// (overlaps its start), 3 opened 50 acked 60 resolved 90, 4 opened 150 still open,
/// 5 opened 300 (after the window). The window is [0, 200).
fn seed(store: &mut Store) {
    let specs: [(IncidentId, i64, Option<i64>, Option<i64>); 5] = [
        (1, -100, None, Some(-50)),
        (2, -10, Some(5), Some(20)),
        (3, 50, Some(60), Some(90)),
        (4, 150, None, None),
        (5, 300, Some(310), None),
    ];
    for (id, opened, ack, resolve) in specs {
        let mut i = incident(id, if id % 2 == 0 { "db" } else { "website" }, opened);
        let mut events = vec![event(id, 1, opened, EventKind::Triggered)];
        let mut pages = vec![page(id, 1, "alice", "mail", opened)];
        if let Some(a) = ack {
            i = acked(i, a, "bob");
            events.push(event(id, 2, a, EventKind::Acknowledged));
            pages.push(page(id, 2, "alice", "hook", a));
        }
        if let Some(r) = resolve {
            i = resolved(i, r);
            events.push(event(id, 3, r, EventKind::Resolved));
        }
        store
            .commit(&Batch {
                incidents: vec![i],
                events,
                pages,
                ..Batch::default()
            })
            .unwrap();
    }
}

fn ids<T>(rows: &[T], f: impl Fn(&T) -> u64) -> Vec<u64> {
    rows.iter().map(f).collect()
}

#[test]
fn incidents_in_a_window_are_those_open_during_it() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open(&dir);
    seed(&mut store);
    let rows = store.incidents_in(t(0), t(200)).unwrap();
    assert_eq!(ids(&rows, |i| i.id), vec![2, 3, 4]);
    // Resolved exactly when the window starts: it was not open during the window.
    let window = |a, b| ids(&store.incidents_in(t(a), t(b)).unwrap(), |i| i.id);
    assert_eq!(window(-51, -49), vec![1]);
    assert_eq!(window(-50, -49), Vec::<u64>::new());
    assert_eq!(
        ids(&store.incidents_in(t(-49), t(-11)).unwrap(), |i| i.id),
        Vec::<u64>::new()
    );

    let newest_first = store.incidents(IncidentFilter::default()).unwrap();
    assert_eq!(ids(&newest_first, |i| i.id), vec![5, 4, 3, 2, 1]);
    let open_only = IncidentFilter {
        open_only: true,
        since: None,
    };
    assert_eq!(
        ids(&store.incidents(open_only).unwrap(), |i| i.id),
        vec![5, 4]
    );
    let since = IncidentFilter {
        open_only: false,
        since: Some(t(-10)),
    };
    assert_eq!(
        ids(&store.incidents(since).unwrap(), |i| i.id),
        vec![5, 4, 3, 2]
    );
    let open_since = IncidentFilter {
        open_only: true,
        since: Some(t(0)),
    };
    assert_eq!(
        ids(&store.incidents(open_since).unwrap(), |i| i.id),
        vec![5, 4]
    );
}

#[test]
fn events_acks_and_pages_in_a_window() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open(&dir);
    seed(&mut store);
    let events = store.events_in(t(0), t(200)).unwrap();
    let got: Vec<(u64, &str)> = events
        .iter()
        .map(|e| (e.incident, e.kind.as_str()))
        .collect();
    assert_eq!(
        got,
        [
            (2, "acknowledged"),
            (2, "resolved"),
            (3, "triggered"),
            (3, "acknowledged"),
            (3, "resolved"),
            (4, "triggered")
        ]
    );
    let acks = store.acks_in(t(0), t(200)).unwrap();
    assert_eq!(ids(&acks, |e| e.incident), vec![2, 3]);
    assert!(acks.iter().all(|e| e.kind == EventKind::Acknowledged));
    let resolves = store
        .events_of_kind_in(EventKind::Resolved, t(-1000), t(1000))
        .unwrap();
    assert_eq!(ids(&resolves, |e| e.incident), vec![1, 2, 3]);

    // Deliver one page in the window so `delivered` is checked both ways.
    let p = page(3, 1, "alice", "mail", 50);
    store
        .record_attempt(&attempt(&p, 1, 51, DeliveryOutcome::Delivered), None)
        .unwrap();
    let pages = store.pages_in(t(0), t(200)).unwrap();
    let got: Vec<(u64, &str, &str, bool)> = pages
        .iter()
        .map(|p| {
            (
                p.incident,
                p.recipient.as_str(),
                p.notifier.as_str(),
                p.delivered(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            (2, "alice", "hook", false),
            (3, "alice", "mail", true),
            (3, "alice", "hook", false),
            (4, "alice", "mail", false)
        ]
    );
    assert_eq!(pages[1].created_at, t(50));
    assert_eq!(pages[1].check, "website");
}
