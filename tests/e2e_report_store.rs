//! The report's store queries (src/store/reports.rs) against a real SQLite file: incidents of
//! a window, each one's *first* ack across an ack timeout and a re-ack, transitions between two
//! times; and `report::gather::report` over them.

mod store_support;

use oncalld::core::check_state::CheckState;
use oncalld::core::model::{EventKind, IncidentState};
use oncalld::store::reports::IncidentSummary;
use oncalld::store::{Batch, Store};
use store_support::*;

/// 1: opened -100 (before the window); 2: opened 10, acked 20, ack timed out at 80 (the row's
/// ack cleared), acked again 90, resolved 100; 3: opened 50, acked 60 and re-acked 70 by
/// someone else (the row keeps 70); 4: opened 150, never acked, open; 5: opened 200 (after).
/// The window is [0, 200).
fn seed(store: &mut Store) {
    let mut b = Batch::default();
    let ack = |id, seq, at| event(id, seq, at, EventKind::Acknowledged);
    b.incidents.push(resolved(incident(1, "web", -100), -50));
    b.events.push(ack(1, 2, -90));
    b.incidents
        .push(resolved(acked(incident(2, "db", 10), 90, "bob"), 100));
    b.events.extend([
        ack(2, 2, 20),
        event(2, 3, 80, EventKind::AckTimedOut),
        ack(2, 4, 90),
    ]);
    b.incidents.push(acked(incident(3, "web", 50), 70, "carol"));
    b.events.extend([ack(3, 2, 60), ack(3, 3, 70)]);
    b.incidents.push(incident(4, "web", 150));
    b.incidents.push(incident(5, "web", 200));
    let (up, down) = (CheckState::Up, CheckState::Down);
    b.transitions.extend([
        transition("web", -1, up, down),
        transition("web", 0, down, up),
        transition("db", 10, up, down),
        transition("web", 199, up, down),
        transition("web", 200, down, up),
    ]);
    store.commit(&b).unwrap();
}

#[test]
fn incident_summaries_are_those_opened_in_the_window() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open(&dir);
    seed(&mut store);
    let rows = store.incident_summaries(t(0), t(200)).unwrap();
    let ids: Vec<u64> = rows.iter().map(|i| i.id).collect();
    assert_eq!(ids, [2, 3, 4]);
    let full = store.incident(3).unwrap().unwrap();
    assert_eq!(rows[1], IncidentSummary::from(&full));
    assert_eq!(rows[1].acked_at, Some(t(70)));
    assert_eq!(rows[2].state, IncidentState::Triggered);
    assert!(store.incident_summaries(t(201), t(300)).unwrap().is_empty());
}

#[test]
fn first_acks_survive_an_ack_timeout_and_a_re_ack() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open(&dir);
    seed(&mut store);
    let acks = store.first_acks(t(0)).unwrap();
    let mut got: Vec<(u64, jiff::Timestamp)> = acks.into_iter().collect();
    got.sort();
    // Not the rows' acked_at (90 and 70): the first acknowledgement events.
    assert_eq!(got, [(2, t(20)), (3, t(60))]);
    assert_eq!(store.first_acks(t(-1000)).unwrap()[&1], t(-90));
}

#[test]
fn transitions_between_two_times() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open(&dir);
    seed(&mut store);
    let at = |rows: Vec<oncalld::core::model::CheckTransitionRecord>| -> Vec<(String, i64)> {
        rows.iter()
            .map(|r| (r.check.clone(), r.at.duration_since(t(0)).as_secs()))
            .collect()
    };
    let all = store.transitions_between(None, t(0), t(200)).unwrap();
    assert_eq!(
        at(all),
        [("web".into(), 0), ("db".into(), 10), ("web".into(), 199)]
    );
    let web = store
        .transitions_between(Some("web"), t(-1), t(200))
        .unwrap();
    assert_eq!(
        at(web),
        [("web".into(), -1), ("web".into(), 0), ("web".into(), 199)]
    );
}

#[test]
fn gathered_report_uses_first_acks_and_the_window() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open(&dir);
    seed(&mut store);
    let cfg = oncalld::config::parse(
        r#"
[daemon]
time_zone = "UTC"
[[check]]
name = "web"
type = "tcp"
address = "127.0.0.1:9"
[[check]]
name = "db"
type = "tcp"
address = "127.0.0.1:9"
[notifiers.log]
type = "console"
[people.alice]
notify = [{ via = "log" }]
[policies.default]
[[policies.default.steps]]
notify = ["person:alice"]
"#,
        std::path::Path::new("/tmp/oncalld-test.toml"),
    )
    .unwrap();
    let r = oncalld::report::gather::report(&store, &cfg, t(0), t(200)).unwrap();
    assert_eq!(
        (r.total.incidents, r.total.acked, r.total.never_acked),
        (3, 2, 1)
    );
    // First acks: #2 after 10 s, #3 after 10 s (not 80 s and 20 s from the rows).
    assert_eq!(r.total.mtta.mean_seconds, Some(10.0));
    assert_eq!(r.total.mttr.mean_seconds, Some(90.0));
    // web: DOWN from before the window until 0 (nothing inside it), then 199..200; db: DOWN
    // from 10 to the end.
    let web = &r.checks.iter().find(|c| c.check == "web").unwrap().figures;
    assert_eq!(web.down_seconds, 1.0);
    let db = &r.checks.iter().find(|c| c.check == "db").unwrap().figures;
    assert_eq!(db.down_seconds, 190.0);
}

#[test]
fn report_pages_and_transitions_are_the_windows_rows() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open(&dir);
    seed(&mut store);
    let mut to_hook = page(2, 5, "ops", "hook", 30);
    to_hook.to = None;
    store
        .commit(&Batch {
            pages: vec![
                page(2, 2, "alice", "mail", 10),
                to_hook,
                page(4, 2, "bob", "mail", 150),
                page(5, 2, "alice", "mail", 200),
            ],
            ..Batch::default()
        })
        .unwrap();
    let mut pages: Vec<(String, i64, bool)> = store
        .report_pages(t(0), t(200))
        .unwrap()
        .into_iter()
        .map(|p| {
            (
                p.recipient,
                p.created_at.duration_since(t(0)).as_secs(),
                p.to_person,
            )
        })
        .collect();
    pages.sort_by_key(|p| p.1);
    assert_eq!(
        pages,
        [
            ("alice".into(), 10, true),
            ("ops".into(), 30, false),
            ("bob".into(), 150, true)
        ]
    );
    let mut got: Vec<(String, i64, CheckState)> = store
        .report_transitions(t(0), t(200))
        .unwrap()
        .into_iter()
        .map(|r| (r.check, r.at.duration_since(t(0)).as_secs(), r.to))
        .collect();
    got.sort_by_key(|r| r.1);
    assert_eq!(
        got,
        [
            ("web".into(), 0, CheckState::Up),
            ("db".into(), 10, CheckState::Down),
            ("web".into(), 199, CheckState::Down)
        ]
    );
}
