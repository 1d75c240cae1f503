//! Scenario tests: empty steps, silences, reload, restore, test pages, refused inputs.

mod engine_support;

use engine_support::*;
use jiff::{SignedDuration, Timestamp};
use oncalld::config::Target;
use oncalld::core::engine::{Action, Engine, EngineError, Input};
use oncalld::core::model::{EventKind, IncidentState, PageEvent};

const T0: &str = "2026-03-02T10:00:00Z";

fn at(min: i64) -> Timestamp {
    ts(T0) + SignedDuration::from_mins(min)
}

#[test]
fn empty_schedule_step_is_skipped_at_once() {
    let mut sim = Sim::new(empty_first().build());
    let a = sim.at(at(0), down("web-1", "x"));
    assert_eq!(
        kinds(&a),
        [
            EventKind::Triggered,
            EventKind::StepSkipped,
            EventKind::Paged
        ]
    );
    assert_eq!(
        (pages(&a)[0].recipient.as_str(), pages(&a)[0].step),
        ("bob", 2)
    );
    assert_eq!(sim.engine.next_deadline(), Some(at(30)));
    sim.run_until(at(600));
    // Pass 2: step 1 skipped again, bob at 30; exhausted at 60.
    assert_eq!(
        sim.log_pages(at(0)).iter().map(|p| p.0).collect::<Vec<_>>(),
        [0, 30]
    );
    let k = sim.log_kinds();
    assert_eq!(
        k.iter().filter(|k| **k == EventKind::StepSkipped).count(),
        2
    );
    assert_eq!(k.last(), Some(&EventKind::EscalationExhausted));
}

#[test]
fn every_step_empty_waits_instead_of_looping() {
    let cfg = empty_first().policy(
        "p",
        1000,
        None,
        &[(&["schedule:later"], "15m"), (&["schedule:later"], "5m")],
    );
    let mut sim = Sim::new(cfg.build());
    let a = sim.at(at(0), down("web-1", "x"));
    assert_eq!(
        kinds(&a),
        [
            EventKind::Triggered,
            EventKind::StepSkipped,
            EventKind::StepSkipped
        ]
    );
    assert!(pages(&a).is_empty());
    assert_eq!(
        sim.engine.next_deadline(),
        Some(at(5)),
        "waits at the last skipped step"
    );
}

#[test]
fn reload_keeps_incidents_and_position_and_resolves_removed_checks() {
    let three = |cfg: Cfg| {
        cfg.policy(
            "p",
            0,
            None,
            &[
                (&["person:alice"], "15m"),
                (&["person:bob"], "15m"),
                (&["person:alice"], "15m"),
            ],
        )
    };
    let mut sim = Sim::new(three(empty_first()).build());
    sim.at(at(0), down("web-1", "x"));
    sim.at(at(0), down("db", "y"));
    sim.run_until(at(31)); // both at step 3, deadline 45
    let new = Cfg::new()
        .check("web-1", "p")
        .mailer("alice")
        .mailer("bob")
        .policy(
            "p",
            0,
            None,
            &[(&["person:alice"], "15m"), (&["person:bob"], "15m")],
        )
        .build();
    let a = sim.at(at(32), Input::Reload(new));
    let resolved: Vec<_> = events(&a)
        .into_iter()
        .filter(|e| e.kind == EventKind::Resolved)
        .collect();
    assert_eq!(resolved.len(), 1);
    assert_eq!(
        (
            resolved[0].incident,
            resolved[0].actor.as_str(),
            resolved[0].message.as_str()
        ),
        (2, "oncalld", "check removed")
    );
    let inc = sim.engine.incident(1).unwrap();
    assert_eq!(
        (inc.escalation.step, inc.escalation.next_at),
        (1, Some(at(45))),
        "clamped, deadline kept"
    );
    assert_eq!(sim.engine.open_incidents().count(), 1);
    sim.run_until(at(45));
    assert!(sim.engine.incident(1).unwrap().escalation.exhausted);
}

#[test]
fn restore_rebuilds_deadlines_and_ids() {
    let cfg = empty_first().build();
    let mut sim = Sim::new(cfg.clone());
    sim.at(at(0), down("web-1", "x"));
    sim.at(at(1), silence("db", at(50)));
    let open: Vec<_> = sim.engine.open_incidents().cloned().collect();
    let silences: Vec<_> = sim.engine.silences().cloned().collect();
    let mut e = Engine::restore(cfg, open, silences, 2, 2);
    assert_eq!(e.next_deadline(), Some(at(30)));
    let a = e.handle(down("db", "y"), at(2)).unwrap();
    let Some(Action::SaveIncident(inc)) = a.last() else {
        panic!()
    };
    assert_eq!(inc.id, 2);
    assert!(inc.escalation.silenced);
    let a = e.handle(Input::Tick, at(50)).unwrap();
    assert!(kinds(&a).contains(&EventKind::Unsilenced));
}

#[test]
fn test_pages_go_to_each_contact_or_the_notifier() {
    let cfg = Cfg::new()
        .person("alice", &[("mail", "a@x"), ("mail", "a2@x")])
        .build();
    let mut e = Engine::new(cfg);
    let a = e
        .handle(
            Input::TestPage {
                target: target("person:alice"),
                actor: "root".into(),
            },
            at(0),
        )
        .unwrap();
    let p = pages(&a);
    assert_eq!(p.len(), 2);
    assert_ne!(
        p[0].key, p[1].key,
        "same notifier twice still gets distinct keys"
    );
    assert!(
        p.iter()
            .all(|p| p.incident == 0 && p.event == PageEvent::Test)
    );
    let a = e
        .handle(
            Input::TestPage {
                target: target("notifier:ops-chat"),
                actor: "root".into(),
            },
            at(0),
        )
        .unwrap();
    assert_eq!(
        (pages(&a)[0].recipient.as_str(), pages(&a)[0].to.clone()),
        ("ops-chat", None)
    );
}

#[test]
fn refused_inputs_change_nothing() {
    let mut sim = Sim::new(empty_first().build());
    sim.at(at(0), down("web-1", "x"));
    sim.at(at(1), down("db", "x"));
    sim.at(at(2), ack(2, "bob"));
    sim.at(
        at(3),
        Input::Resolve {
            incident: 2,
            actor: "bob".into(),
            message: None,
        },
    );
    sim.at(at(4), silence("zzz", at(100)));
    let cases: Vec<(Input, EngineError)> = vec![
        (ack(9, "x"), EngineError::UnknownIncident(9)),
        (ack(0, "x"), EngineError::UnknownIncident(0)),
        (
            ack(2, "x"),
            EngineError::WrongState {
                id: 2,
                state: IncidentState::Resolved,
                action: "acknowledge",
            },
        ),
        (
            Input::Resolve {
                incident: 2,
                actor: "x".into(),
                message: None,
            },
            EngineError::WrongState {
                id: 2,
                state: IncidentState::Resolved,
                action: "resolve",
            },
        ),
        (
            Input::Note {
                incident: 7,
                actor: "x".into(),
                text: "t".into(),
            },
            EngineError::UnknownIncident(7),
        ),
        (
            Input::Escalate {
                incident: 7,
                actor: "x".into(),
            },
            EngineError::UnknownIncident(7),
        ),
        (
            Input::Unsilence {
                id: 5,
                actor: "x".into(),
            },
            EngineError::UnknownSilence(5),
        ),
        (
            silence("[", at(100)),
            EngineError::BadPattern {
                pattern: "[".into(),
                reason: "invalid range pattern".into(),
            },
        ),
        (silence("*", at(5)), EngineError::SilenceInPast(at(5))),
        (
            Input::TestPage {
                target: Target::Person("nobody".into()),
                actor: "x".into(),
            },
            EngineError::BadTarget("person:nobody".into()),
        ),
        (
            Input::TestPage {
                target: Target::Schedule("later".into()),
                actor: "x".into(),
            },
            EngineError::BadTarget("schedule:later".into()),
        ),
    ];
    // Due at 30 (bob's step times out): a refused input at 31 must not fire it either.
    for (input, expected) in cases {
        let before = format!("{:?}", sim.engine);
        assert_eq!(
            sim.engine.handle(input.clone(), at(31)),
            Err(expected),
            "{input:?}"
        );
        assert_eq!(
            format!("{:?}", sim.engine),
            before,
            "{input:?} changed the engine"
        );
    }
    sim.at(at(5), ack(1, "bob"));
    let before = format!("{:?}", sim.engine);
    let r = sim.engine.handle(ack(1, "bob"), at(6));
    assert_eq!(
        r,
        Err(EngineError::WrongState {
            id: 1,
            state: IncidentState::Acknowledged,
            action: "acknowledge"
        })
    );
    assert_eq!(format!("{:?}", sim.engine), before);
    assert_eq!(
        r.unwrap_err().to_string(),
        "incident #1 is acknowledged: cannot acknowledge it"
    );
}
