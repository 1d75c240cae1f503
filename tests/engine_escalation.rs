//! Scenario tests of the incident engine: the normal path, escalation, acks, resolve pages.
//! Every time is explicit; `Sim` ticks the engine at each deadline it reports.

mod engine_support;

use engine_support::*;
use oncalld::core::engine::{Action, Input};
use oncalld::core::model::{EventKind, IncidentState, PageEvent};

const T0: &str = "2026-03-02T10:00:00Z";

fn at(min: i64) -> jiff::Timestamp {
    ts(T0) + jiff::SignedDuration::from_mins(min)
}

#[test]
fn normal_path_trigger_ack_auto_resolve() {
    let mut sim = Sim::new(two_steps(None).build());
    let a = sim.at(at(0), down("website", "HTTP 500 in 12 ms"));
    assert_eq!(
        kinds(&a),
        [EventKind::Triggered, EventKind::Paged, EventKind::Paged]
    );
    let e = events(&a);
    assert_eq!(e[0].message, "HTTP 500 in 12 ms");
    assert_eq!((e[0].seq, e[1].seq, e[2].seq), (1, 2, 3));
    let p = pages(&a);
    assert_eq!(p.len(), 2);
    assert_eq!(p[0].text, "TRIGGERED #1 website: HTTP 500 in 12 ms");
    assert_eq!(p[0].key, "oncalld:1:2:alice:mail");
    assert_eq!(p[1].key, "oncalld:1:3:alice:sms");
    assert_eq!(p[1].to.as_deref(), Some("+33600000000"));
    assert_eq!((p[0].step, p[0].event), (1, PageEvent::Triggered));
    assert!(p[0].also_paged.is_empty());
    assert_eq!(sim.engine.next_deadline(), Some(at(15)));
    let Some(Action::SaveIncident(inc)) = a.last() else {
        panic!("no save")
    };
    assert_eq!(
        (inc.id, inc.state, inc.next_seq),
        (1, IncidentState::Triggered, 4)
    );
    assert_eq!(inc.escalation.next_at, Some(at(15)));

    let a = sim.at(at(5), ack(1, "alice (uid 1000)"));
    assert_eq!(kinds(&a)[0], EventKind::Acknowledged);
    let p = pages(&a);
    assert_eq!(p.len(), 2, "ack notice to each address paged");
    assert!(p.iter().all(|p| p.event == PageEvent::Acknowledged));
    assert_eq!(
        p[0].text,
        "ACKNOWLEDGED #1 website: HTTP 500 in 12 ms (by alice (uid 1000))"
    );
    assert_eq!(sim.engine.next_deadline(), None, "ack stops escalation");

    let a = sim.at(at(20), up("website", "HTTP 200 in 9 ms"));
    let e = events(&a);
    assert_eq!(
        (e[0].kind, e[0].actor.as_str()),
        (EventKind::Resolved, "auto")
    );
    assert_eq!(pages(&a).len(), 2);
    assert!(pages(&a).iter().all(|p| p.event == PageEvent::Resolved));
    assert_eq!(sim.engine.open_incidents().count(), 0);
    let Some(Action::SaveIncident(inc)) = a.last() else {
        panic!("no save")
    };
    assert_eq!(inc.state, IncidentState::Resolved);
    assert_eq!(inc.resolved_at, Some(at(20)));
}

#[test]
fn escalation_through_every_step_and_repeat() {
    let cfg = Cfg::new()
        .check("website", "default")
        .mailer("alice")
        .mailer("bob")
        .policy(
            "default",
            2,
            None,
            &[
                (&["person:alice"], "15m"),
                (&["person:bob", "notifier:ops-chat"], "30m"),
            ],
        );
    let mut sim = Sim::new(cfg.build());
    sim.at(at(0), down("website", "down"));
    sim.run_until(at(24 * 60));
    use PageEvent::{Escalated as E, Triggered as T};
    let s = |x: &str| x.to_string();
    let expected = vec![
        (0, T, s("alice"), s("mail")),
        (15, E, s("bob"), s("mail")),
        (15, E, s("ops-chat"), s("ops-chat")),
        (45, E, s("alice"), s("mail")),
        (60, E, s("bob"), s("mail")),
        (60, E, s("ops-chat"), s("ops-chat")),
        (90, E, s("alice"), s("mail")),
        (105, E, s("bob"), s("mail")),
        (105, E, s("ops-chat"), s("ops-chat")),
    ];
    assert_eq!(sim.log_pages(at(0)), expected);
    let exhausted: Vec<_> = sim
        .log
        .iter()
        .filter(|(_, a)| matches!(a, Action::Record(e) if e.kind == EventKind::EscalationExhausted))
        .map(|(t, _)| *t)
        .collect();
    assert_eq!(exhausted, [at(135)]);
    assert_eq!(
        sim.log_kinds()
            .iter()
            .filter(|k| **k == EventKind::Escalated)
            .count(),
        5
    );
    assert_eq!(sim.engine.next_deadline(), None);
    let inc = sim.engine.open_incidents().next().unwrap();
    assert!(inc.escalation.exhausted);
    assert_eq!((inc.escalation.step, inc.escalation.round), (1, 2));
}

#[test]
fn ack_before_escalation_pages_nobody_else() {
    let mut sim = Sim::new(two_steps(None).build());
    sim.at(at(0), down("website", "down"));
    sim.at(at(14), ack(1, "alice"));
    sim.run_until(at(600));
    let escalated = sim
        .log_pages(at(0))
        .iter()
        .filter(|p| p.1 == PageEvent::Escalated)
        .count();
    assert_eq!(escalated, 0);
    assert_eq!(sim.engine.next_deadline(), None);
}

#[test]
fn ack_after_escalation_notifies_every_step_paged() {
    let mut sim = Sim::new(two_steps(None).build());
    sim.at(at(0), down("website", "down"));
    let a = sim.at(at(20), ack(1, "bob"));
    let got: Vec<_> = pages(&a)
        .iter()
        .map(|p| (p.recipient.as_str(), p.notifier.as_str()))
        .collect();
    assert_eq!(
        got,
        [
            ("alice", "mail"),
            ("alice", "sms"),
            ("bob", "mail"),
            ("ops-chat", "ops-chat")
        ]
    );
    let p = pages(&a)[0];
    assert_eq!(p.also_paged, ["bob", "ops-chat"]);
    sim.run_until(at(600));
    assert_eq!(
        sim.log_pages(at(0)).len(),
        4 + 4,
        "4 pages, then 4 ack notices, nothing after"
    );
}

#[test]
fn ack_timeout_pages_again_from_step_one() {
    let mut sim = Sim::new(two_steps(Some("30m")).build());
    sim.at(at(0), down("website", "down"));
    sim.at(at(20), ack(1, "bob"));
    assert_eq!(sim.engine.next_deadline(), Some(at(50)));
    sim.run_until(at(50));
    let inc = sim.engine.open_incidents().next().unwrap();
    assert_eq!(inc.state, IncidentState::Triggered);
    assert_eq!((inc.acked_at, inc.acked_by.as_deref()), (None, None));
    let after: Vec<_> = sim
        .log_pages(at(0))
        .into_iter()
        .filter(|p| p.0 == 50)
        .collect();
    let who: Vec<_> = after.iter().map(|p| (p.1, p.2.as_str())).collect();
    assert_eq!(
        who,
        [
            (PageEvent::Triggered, "alice"),
            (PageEvent::Triggered, "alice")
        ]
    );
    assert!(sim.log_kinds().contains(&EventKind::AckTimedOut));
    assert_eq!(sim.engine.next_deadline(), Some(at(65)));
    // The acker is on step 2, paged again when it escalates.
    sim.run_until(at(65));
    assert!(
        sim.log_pages(at(0))
            .iter()
            .any(|p| p.0 == 65 && p.2 == "bob")
    );
}

#[test]
fn manual_escalate_at_the_last_step_starts_an_extra_pass() {
    let cfg = Cfg::new()
        .check("website", "default")
        .mailer("alice")
        .mailer("bob")
        .policy(
            "default",
            0,
            None,
            &[(&["person:alice"], "15m"), (&["person:bob"], "15m")],
        );
    let mut sim = Sim::new(cfg.build());
    sim.at(at(0), down("website", "down"));
    let a = sim.at(
        at(1),
        Input::Escalate {
            incident: 1,
            actor: "carol".into(),
        },
    );
    assert_eq!(
        pages(&a)
            .iter()
            .map(|p| p.recipient.as_str())
            .collect::<Vec<_>>(),
        ["bob"]
    );
    assert_eq!(events(&a)[0].actor, "carol");
    // At the last step of the last pass: step 1 again.
    let a = sim.at(
        at(2),
        Input::Escalate {
            incident: 1,
            actor: "carol".into(),
        },
    );
    let p = pages(&a);
    assert_eq!(
        (p[0].recipient.as_str(), p[0].step, p[0].event),
        ("alice", 1, PageEvent::Escalated)
    );
    assert_eq!(sim.engine.next_deadline(), Some(at(17)));
    // The extra pass runs its course, then escalation is exhausted.
    sim.run_until(at(600));
    assert_eq!(
        sim.log_pages(at(0)).iter().map(|p| p.0).collect::<Vec<_>>(),
        [0, 1, 2, 17]
    );
    assert_eq!(sim.engine.next_deadline(), None);
    // Once exhausted, escalate still pages (step 1 of another pass).
    let a = sim.at(
        at(700),
        Input::Escalate {
            incident: 1,
            actor: "carol".into(),
        },
    );
    assert_eq!(pages(&a)[0].recipient, "alice");
}

#[test]
fn manual_escalate_of_acknowledged_withdraws_the_ack() {
    let mut sim = Sim::new(two_steps(None).build());
    sim.at(at(0), down("website", "down"));
    sim.at(at(3), ack(1, "alice"));
    let a = sim.at(
        at(4),
        Input::Escalate {
            incident: 1,
            actor: "alice".into(),
        },
    );
    assert!(events(&a)[0].message.contains("acknowledgement withdrawn"));
    let inc = sim.engine.incident(1).unwrap();
    assert_eq!(inc.state, IncidentState::Triggered);
    assert_eq!(
        pages(&a)
            .iter()
            .map(|p| p.recipient.as_str())
            .collect::<Vec<_>>(),
        ["bob", "ops-chat"]
    );
    assert_eq!(sim.engine.next_deadline(), Some(at(34)));
}
