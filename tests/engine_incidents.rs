//! Scenario tests of the incident engine: opening, resolving, notes, check transitions.

mod engine_support;

use engine_support::*;
use oncalld::core::engine::{Action, Input};
use oncalld::core::model::EventKind;

const T0: &str = "2026-03-02T10:00:00Z";

fn at(min: i64) -> jiff::Timestamp {
    ts(T0) + jiff::SignedDuration::from_mins(min)
}

#[test]
fn resolve_pages_each_destination_once() {
    let mut sim = Sim::new(two_steps(None).build());
    sim.at(at(0), down("website", "down"));
    sim.run_until(at(60)); // alice x2 at 0 and 45, bob + chat at 15
    let a = sim.at(
        at(61),
        Input::Resolve {
            incident: 1,
            actor: "bob".into(),
            message: Some("fixed".into()),
        },
    );
    let e = events(&a);
    assert_eq!(
        (e[0].kind, e[0].actor.as_str(), e[0].message.as_str()),
        (EventKind::Resolved, "bob", "fixed")
    );
    let mut got: Vec<_> = pages(&a)
        .iter()
        .map(|p| format!("{}/{}", p.recipient, p.notifier))
        .collect();
    got.sort();
    assert_eq!(
        got,
        ["alice/mail", "alice/sms", "bob/mail", "ops-chat/ops-chat"]
    );
    assert_eq!(pages(&a)[0].text, "RESOLVED #1 website: down (by bob)");
    assert_eq!(sim.engine.next_deadline(), None);
}

#[test]
fn manual_resolve_while_down_then_next_down_opens_a_new_incident() {
    let mut sim = Sim::new(two_steps(None).build());
    sim.at(at(0), down("website", "down"));
    sim.at(
        at(1),
        Input::Resolve {
            incident: 1,
            actor: "bob".into(),
            message: None,
        },
    );
    assert!(
        sim.at(at(2), up("website", "ok")).is_empty(),
        "no incident to resolve"
    );
    let a = sim.at(at(3), down("website", "down again"));
    let Some(Action::SaveIncident(inc)) = a.last() else {
        panic!()
    };
    assert_eq!((inc.id, inc.summary.as_str()), (2, "down again"));
}

#[test]
fn auto_resolve_off_keeps_the_incident_open() {
    let cfg = two_steps(None).check_no_auto_resolve("db", "default");
    let mut sim = Sim::new(cfg.build());
    sim.at(at(0), down("db", "down"));
    let a = sim.at(at(1), up("db", "ok"));
    assert_eq!(kinds(&a), [EventKind::CheckChanged]);
    assert_eq!(events(&a)[0].message, "DOWN -> UP: ok");
    let a = sim.at(at(2), down("db", "down again"));
    assert_eq!(kinds(&a), [EventKind::CheckChanged]);
    assert_eq!(sim.engine.open_incidents().count(), 1);
}

#[test]
fn one_person_on_two_steps_is_deduplicated_within_a_step() {
    let cfg = Cfg::new().check("website", "p").mailer("alice").policy(
        "p",
        0,
        None,
        &[(&["person:alice", "person:alice", "notifier:mail"], "5m")],
    );
    let mut sim = Sim::new(cfg.build());
    let a = sim.at(at(0), down("website", "x"));
    let got: Vec<_> = pages(&a).iter().map(|p| p.recipient.as_str()).collect();
    assert_eq!(got, ["alice", "mail"]);
}

#[test]
fn soft_transitions_and_unknown_checks_change_nothing() {
    use oncalld::core::check_state::{CheckState, Transition};
    let mut sim = Sim::new(two_steps(None).build());
    let soft = Input::Check {
        check: "website".into(),
        transition: Transition {
            from: CheckState::Up,
            to: CheckState::Failing { attempt: 1 },
        },
        message: "x".into(),
    };
    assert!(sim.at(at(0), soft).is_empty());
    assert!(sim.at(at(0), down("nope", "x")).is_empty());
    assert_eq!(sim.engine.open_incidents().count(), 0);
}

#[test]
fn notes_are_recorded() {
    let mut sim = Sim::new(two_steps(None).build());
    sim.at(at(0), down("website", "down"));
    let a = sim.at(
        at(1),
        Input::Note {
            incident: 1,
            actor: "bob".into(),
            text: "root cause: disk".into(),
        },
    );
    let e = events(&a);
    assert_eq!(
        (e[0].kind, e[0].seq, e[0].message.as_str()),
        (EventKind::Note, 4, "root cause: disk")
    );
}
