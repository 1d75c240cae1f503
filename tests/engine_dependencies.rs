//! Scenario tests of `depends_on` (SPEC §12): a child DOWN behind a parent that is not UP is
//! unreachable and pages nobody; the parent back with the child still DOWN pages it from
//! step 1.

mod engine_support;

use engine_support::*;
use jiff::{SignedDuration, Timestamp};
use oncalld::core::check_state::CheckState::{Down, Failing, Up};
use oncalld::core::engine::Action;
use oncalld::core::model::{EventKind, PageEvent};

const T0: &str = "2026-03-02T10:00:00Z";

fn at(sec: i64) -> Timestamp {
    ts(T0) + SignedDuration::from_secs(sec)
}

/// `gw` and children `c0..n` behind it, all paging alice.
fn behind_gw(n: usize) -> Cfg {
    let mut cfg = Cfg::new().check("gw", "p");
    for i in 0..n {
        cfg = cfg.child(&format!("c{i}"), "p", &["gw"]);
    }
    cfg.mailer("alice")
        .policy("p", 0, None, &[(&["person:alice"], "15m")])
}

fn triggered_pages(sim: &Sim) -> Vec<String> {
    sim.log
        .iter()
        .filter_map(|(_, a)| match a {
            Action::Page(p) if p.event == PageEvent::Triggered => Some(p.check.clone()),
            _ => None,
        })
        .collect()
}

#[test]
fn two_hundred_children_behind_a_dead_gateway_page_once() {
    let mut sim = Sim::new(behind_gw(200).build());
    sim.at(at(0), down("gw", "timeout"));
    for i in 0..200 {
        let a = sim.at(at(1), down(&format!("c{i}"), "connection refused"));
        assert_eq!(kinds(&a), [EventKind::Triggered, EventKind::Unreachable]);
        assert!(pages(&a).is_empty());
        assert_eq!(
            events(&a)[1].message,
            "unreachable (gw is DOWN): nobody paged"
        );
    }
    assert_eq!(triggered_pages(&sim), ["gw"]);
    let held = sim
        .engine
        .open_incidents()
        .filter(|i| i.escalation.unreachable == ["gw"])
        .count();
    assert_eq!(held, 200);
    // Held incidents do not escalate either.
    sim.run_until(at(3600));
    assert_eq!(
        triggered_pages(&sim),
        ["gw"],
        "nothing else paged in an hour"
    );

    // 197 children recover first (resolving with no page), then gw is back.
    for i in 3..200 {
        let a = sim.at(at(3700), up(&format!("c{i}"), "ok"));
        assert!(pages(&a).is_empty(), "nobody was paged, nobody hears of it");
    }
    let a = sim.at(at(3800), up("gw", "ok"));
    let paged: Vec<_> = pages(&a)
        .iter()
        .filter(|p| p.event == PageEvent::Triggered)
        .map(|p| p.check.clone())
        .collect();
    assert_eq!(paged, ["c0", "c1", "c2"], "exactly the 3 still DOWN");
    assert!(kinds(&a).contains(&EventKind::Reachable), "{:?}", kinds(&a));
    assert!(
        sim.engine
            .open_incidents()
            .all(|i| i.escalation.unreachable.is_empty())
    );
}

#[test]
fn a_failing_parent_is_not_up() {
    let mut sim = Sim::new(behind_gw(1).build());
    sim.at(at(0), soft("gw", Up, Failing { attempt: 1 }));
    let a = sim.at(at(1), down("c0", "x"));
    assert!(pages(&a).is_empty());
    assert_eq!(
        events(&a)[1].message,
        "unreachable (gw is FAILING): nobody paged"
    );
    // gw recovers without ever going DOWN: c0 is paged.
    let a = sim.at(at(2), soft("gw", Failing { attempt: 1 }, Up));
    assert_eq!(pages(&a).len(), 1);
    assert_eq!(pages(&a)[0].event, PageEvent::Triggered);
    assert_eq!(pages(&a)[0].check, "c0");
}

#[test]
fn a_child_paged_before_its_parent_fell_is_left_alone() {
    let mut sim = Sim::new(behind_gw(1).build());
    let a = sim.at(at(0), down("c0", "x"));
    assert_eq!(pages(&a).len(), 1);
    let a = sim.at(at(1), down("gw", "x"));
    assert_eq!(pages(&a).len(), 1, "gw's own page only");
    let a = sim.at(at(2), up("gw", "ok"));
    assert!(pages(&a).iter().all(|p| p.check == "gw"));
}

#[test]
fn every_parent_must_be_up() {
    let cfg = Cfg::new()
        .check("a", "p")
        .check("b", "p")
        .child("c", "p", &["a", "b"])
        .mailer("alice")
        .policy("p", 0, None, &[(&["person:alice"], "15m")]);
    let mut sim = Sim::new(cfg.build());
    sim.at(at(0), down("a", "x"));
    sim.at(at(0), down("b", "x"));
    let a = sim.at(at(1), down("c", "x"));
    assert_eq!(
        events(&a)[1].message,
        "unreachable (a is DOWN, b is DOWN): nobody paged"
    );
    let a = sim.at(at(2), up("a", "ok"));
    assert!(pages(&a).iter().all(|p| p.check == "a"), "b is still DOWN");
    let a = sim.at(at(3), up("b", "ok"));
    assert!(pages(&a).iter().any(|p| p.check == "c"));
}

#[test]
fn probe_results_carry_the_parent_state_too() {
    let mut sim = Sim::new(behind_gw(1).build());
    sim.at(at(0), probe("gw", true, Some((Up, Down))));
    let a = sim.at(at(1), probe("c0", true, Some((Up, Down))));
    assert!(pages(&a).is_empty());
    // Results that change nothing change nothing.
    assert!(sim.at(at(2), probe("gw", true, None)).is_empty());
    let a = sim.at(at(3), probe("gw", false, Some((Down, Up))));
    let checks: Vec<_> = pages(&a)
        .iter()
        .map(|p| (p.check.clone(), p.event))
        .collect();
    assert!(checks.contains(&("c0".to_string(), PageEvent::Triggered)));
}

#[test]
fn held_incidents_are_released_after_a_restart_if_the_parent_is_up() {
    let config = behind_gw(1).build();
    let mut sim = Sim::new(config.clone());
    sim.at(at(0), down("gw", "x"));
    sim.at(at(1), down("c0", "x"));
    let open: Vec<_> = sim.engine.open_incidents().cloned().collect();
    // The daemon restarts; meanwhile gw came back, c0 is still DOWN.
    let mut engine = oncalld::core::engine::Engine::restore(config, open, Vec::new(), 3, 1);
    engine.seed_states([("gw".to_string(), Up), ("c0".to_string(), Down)]);
    let a = engine
        .handle(oncalld::core::engine::Input::Tick, at(10))
        .unwrap();
    let checks: Vec<_> = pages(&a).iter().map(|p| p.check.clone()).collect();
    assert_eq!(checks, ["c0"]);
}

#[test]
fn silence_ending_while_the_parent_is_down_keeps_the_child_held() {
    let mut sim = Sim::new(behind_gw(1).build());
    sim.at(at(0), silence("c*", at(60)));
    sim.at(at(1), down("c0", "x"));
    sim.at(at(2), down("gw", "x"));
    sim.run_until(at(61));
    assert!(triggered_pages(&sim).iter().all(|c| c == "gw"));
    let held = sim
        .engine
        .open_incidents()
        .find(|i| i.check == "c0")
        .unwrap();
    assert_eq!(held.escalation.unreachable, ["gw"]);
    sim.at(at(100), up("gw", "ok"));
    assert!(triggered_pages(&sim).contains(&"c0".to_string()));
}
