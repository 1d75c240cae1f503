//! Scenario tests of silences: before a trigger, mid-incident, ending, removed.

mod engine_support;

use engine_support::*;
use jiff::{SignedDuration, Timestamp};
use oncalld::core::engine::{Action, EngineError, Input};
use oncalld::core::model::{EventKind, PageEvent};

const T0: &str = "2026-03-02T10:00:00Z";

fn at(min: i64) -> Timestamp {
    ts(T0) + SignedDuration::from_mins(min)
}

#[test]
fn silence_before_trigger_holds_paging_until_it_ends() {
    let mut sim = Sim::new(empty_first().build());
    let a = sim.at(at(0), silence("web-*", at(60)));
    let Some(Action::SaveSilence(s)) = a.first() else {
        panic!()
    };
    assert_eq!((s.id, s.starts_at, s.ends_at), (1, at(0), at(60)));
    let a = sim.at(at(10), down("web-1", "x"));
    assert_eq!(kinds(&a), [EventKind::Triggered, EventKind::Silenced]);
    assert!(
        events(&a)[1]
            .message
            .starts_with("silence #1 (web-*) by ops")
    );
    assert!(pages(&a).is_empty());
    let a = sim.at(at(11), down("db", "x"));
    assert_eq!(pages(&a).len(), 1, "db does not match the silence");
    sim.run_until(at(59));
    let web: Vec<_> = sim
        .log
        .iter()
        .filter(|(_, a)| matches!(a, Action::Page(p) if p.check == "web-1"))
        .collect();
    assert!(web.is_empty(), "web-1 stays quiet");
    sim.run_until(at(60));
    let last: Vec<_> = sim
        .log
        .iter()
        .filter(|(t, _)| *t == at(60))
        .map(|(_, a)| a.clone())
        .collect();
    assert_eq!(
        kinds(&last),
        [
            EventKind::Unsilenced,
            EventKind::StepSkipped,
            EventKind::Paged
        ]
    );
    assert_eq!(pages(&last)[0].event, PageEvent::Triggered);
    assert_eq!(sim.engine.silences().count(), 0);
}

#[test]
fn silence_mid_incident_stops_escalation_and_unsilence_restarts_at_step_one() {
    let cfg = empty_first().policy(
        "p",
        5,
        None,
        &[(&["person:alice"], "15m"), (&["person:bob"], "15m")],
    );
    let mut sim = Sim::new(cfg.build());
    sim.at(at(0), down("web-1", "x"));
    sim.run_until(at(20)); // bob paged at 15
    let a = sim.at(at(20), silence("web-?", at(600)));
    assert_eq!(kinds(&a), [EventKind::Silenced]);
    sim.run_until(at(100));
    assert_eq!(
        sim.log_pages(at(0)).len(),
        2,
        "no escalation while silenced"
    );
    let a = sim.at(
        at(100),
        Input::Unsilence {
            id: 1,
            actor: "ops".into(),
        },
    );
    let Some(Action::SaveSilence(s)) = a.first() else {
        panic!()
    };
    assert_eq!(s.ends_at, at(100));
    assert_eq!(kinds(&a), [EventKind::Unsilenced, EventKind::Paged]);
    assert_eq!(
        (pages(&a)[0].recipient.as_str(), pages(&a)[0].step),
        ("alice", 1)
    );
    assert_eq!(sim.engine.next_deadline(), Some(at(115)));
}

#[test]
fn acknowledged_while_silenced_is_not_paged_when_the_silence_ends() {
    let mut sim = Sim::new(empty_first().build());
    sim.at(at(0), silence("*", at(30)));
    sim.at(at(1), down("web-1", "x"));
    sim.at(at(2), ack(1, "alice"));
    sim.run_until(at(600));
    assert!(sim.log_pages(at(0)).is_empty());
    assert!(!sim.log_kinds().contains(&EventKind::Unsilenced));
}

#[test]
fn escalate_of_a_silenced_incident_is_refused() {
    let mut sim = Sim::new(empty_first().build());
    sim.at(at(0), silence("*", at(30)));
    sim.at(at(1), down("web-1", "x"));
    let r = sim.engine.handle(
        Input::Escalate {
            incident: 1,
            actor: "x".into(),
        },
        at(2),
    );
    assert_eq!(r, Err(EngineError::Silenced(1)));
}
