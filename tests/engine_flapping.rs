//! Flap detection (SPEC §12): Nagios' percent state change checked against values worked out
//! by hand from the formula, and the engine's one FLAPPING page instead of a pair per flip.

mod engine_support;

use engine_support::*;
use jiff::{SignedDuration, Timestamp};
use oncalld::config::FlapThresholds;
use oncalld::core::check_state::CheckState::{Down, Up};
use oncalld::core::check_state::CheckTracker;
use oncalld::core::engine::Action;
use oncalld::core::flapping::FlapHistory;
use oncalld::core::model::{EventKind, IncidentState, PageEvent};

const T0: &str = "2026-03-02T10:00:00Z";

fn at(sec: i64) -> Timestamp {
    ts(T0) + SignedDuration::from_secs(sec)
}

/// Pair x (1 = oldest of the 20 pairs in 21 results) weighs 0.75 + (x - 1) * 0.5 / 19.
fn weight(x: u32) -> f64 {
    0.75 + f64::from(x - 1) * 0.5 / 19.0
}

fn close(a: f64, b: f64) {
    assert!((a - b).abs() < 1e-9, "{a} != {b}");
}

#[test]
fn percent_state_change_matches_the_formula_by_hand() {
    let steady = [false; 21];
    close(FlapHistory::from_results(&steady).percent(), 0.0);

    // 20 UP then one failure: only the newest pair changed, weight 1.25 -> 1.25 * 100 / 20.
    let mut one = [false; 21];
    one[20] = true;
    close(FlapHistory::from_results(&one).percent(), 6.25);

    // The oldest pair only: 0.75 * 100 / 20.
    let mut oldest = [true; 21];
    oldest[0] = false;
    close(FlapHistory::from_results(&oldest).percent(), 3.75);

    // Alternating: all 20 pairs; the weights average 1.0 -> 100%.
    let alternating: Vec<bool> = (0..21).map(|i| i % 2 == 1).collect();
    close(FlapHistory::from_results(&alternating).percent(), 100.0);

    // 16 UP, then F O F O F: pairs 16..=20 changed.
    // (1.144737 + 1.171053 + 1.197368 + 1.223684 + 1.25) * 5 = 29.934211 %: just under 30.
    let mut five: Vec<bool> = vec![false; 16];
    five.extend([true, false, true, false, true]);
    let by_hand = (16..=20).map(weight).sum::<f64>() * 100.0 / 20.0;
    close(by_hand, 29.934_210_526_315_788);
    close(FlapHistory::from_results(&five).percent(), by_hand);
    assert_eq!(FlapHistory::from_results(&five).changes(), 5);

    // One more flip: pair 15 joins, 1.118421 -> 35.526316 %.
    let mut six: Vec<bool> = vec![false; 15];
    six.extend([true, false, true, false, true, false]);
    close(
        FlapHistory::from_results(&six).percent(),
        35.526_315_789_473_685,
    );
}

#[test]
fn hysteresis_starts_at_high_and_stops_at_low() {
    let th = FlapThresholds::default();
    let mut h = FlapHistory::new(false);
    let mut changes = Vec::new();
    for i in 0..6 {
        changes.push(h.observe(i % 2 == 0, th));
    }
    // 29.9% after 5 flips: not yet; 35.5% after 6: flapping.
    assert_eq!(changes, [None, None, None, None, None, Some(true)]);
    // Steady results: the percent falls as flips age out, slowly (old pairs weigh less).
    let mut stopped_after = None;
    for n in 1..=21 {
        if h.observe(false, th) == Some(false) {
            stopped_after = Some(n);
            break;
        }
        assert!(h.is_flapping());
        assert!(h.percent() > th.low, "still above low after {n}");
    }
    let n = stopped_after.expect("stops once at or below 20%");
    assert!(h.percent() <= 20.0);
    // Between the thresholds it keeps flapping (not stopped at the first drop below 30).
    assert!(n > 1, "{n}");
}

/// A check with `retries` that flips every probe, for `results` probes, fed as the scheduler
/// does (every result, with the change it made).
fn flip(sim: &mut Sim, check: &str, retries: u32, results: i64) {
    let mut tracker = CheckTracker::new(Up);
    for i in 0..results {
        let failed = i % 2 == 0;
        let t = tracker.observe(failed, retries, 1);
        sim.at(at(i), probe(check, failed, t.map(|t| (t.from, t.to))));
    }
}

fn one_check() -> Cfg {
    Cfg::new()
        .check("website", "p")
        .mailer("alice")
        .policy("p", 0, None, &[(&["person:alice"], "15m")])
        .flap(20.0, 30.0)
}

fn page_events(sim: &Sim) -> Vec<PageEvent> {
    sim.log
        .iter()
        .filter_map(|(_, a)| match a {
            Action::Page(p) => Some(p.event),
            _ => None,
        })
        .collect()
}

#[test]
fn flipping_for_three_minutes_pages_once_as_flapping() {
    // retries = 2: single failures never make DOWN; without flap detection nobody would hear
    // of it, with it one FLAPPING page.
    let mut sim = Sim::new(one_check().build());
    flip(&mut sim, "website", 2, 180);
    assert_eq!(page_events(&sim), [PageEvent::Flapping]);
    let page = sim
        .log
        .iter()
        .find_map(|(_, a)| match a {
            Action::Page(p) => Some(p.clone()),
            _ => None,
        })
        .unwrap();
    assert_eq!(
        page.text,
        "FLAPPING #1 website: 6 state changes in the last 21 checks (35.5%)"
    );
    let open: Vec<_> = sim.engine.open_incidents().collect();
    assert_eq!(open.len(), 1);
    assert!(open[0].escalation.flapping.is_some());
    assert_eq!(sim.engine.flapping().count(), 1);
}

#[test]
fn hard_flips_stop_churning_once_flapping() {
    // retries = 1: every failure is DOWN, every success UP. Before the 6th result the usual
    // pages go out (as in Nagios); from then on one incident stays open, no churn.
    let mut sim = Sim::new(one_check().build());
    flip(&mut sim, "website", 1, 180);
    let events = page_events(&sim);
    let flapping = events.iter().filter(|e| **e == PageEvent::Flapping).count();
    assert_eq!(flapping, 1, "{events:?}");
    let before: Vec<_> = events
        .iter()
        .take_while(|e| **e != PageEvent::Flapping)
        .collect();
    assert_eq!(
        before,
        [
            &PageEvent::Triggered,
            &PageEvent::Resolved,
            &PageEvent::Triggered,
            &PageEvent::Resolved,
            &PageEvent::Triggered,
        ]
    );
    assert_eq!(events.len(), before.len() + 1, "nothing after FLAPPING");
}

#[test]
fn stopping_up_resolves_and_stopping_down_continues() {
    for (last_down, expect) in [
        (false, IncidentState::Resolved),
        (true, IncidentState::Triggered),
    ] {
        let mut sim = Sim::new(one_check().build());
        flip(&mut sim, "website", 2, 8);
        assert_eq!(sim.engine.flapping().count(), 1);
        let mut tracker = CheckTracker::new(Up);
        let mut stopped = false;
        for i in 0..30 {
            let t = tracker.observe(last_down, 2, 1);
            let a = sim.at(
                at(100 + i),
                probe("website", last_down, t.map(|t| (t.from, t.to))),
            );
            if kinds(&a).contains(&EventKind::FlappingStopped) {
                stopped = true;
                break;
            }
        }
        assert!(stopped);
        let state = sim
            .engine
            .open_incidents()
            .next()
            .map_or(IncidentState::Resolved, |i| i.state);
        assert_eq!(state, expect, "last results failed: {last_down}");
        if last_down {
            assert_eq!(sim.engine.open_incidents().count(), 1, "no second incident");
        }
    }
}

#[test]
fn flap_detection_off_changes_nothing() {
    let cfg = Cfg::new().check("website", "p").mailer("alice").policy(
        "p",
        0,
        None,
        &[(&["person:alice"], "15m")],
    );
    let mut sim = Sim::new(cfg.build());
    flip(&mut sim, "website", 1, 20);
    let events = page_events(&sim);
    assert_eq!(events.len(), 20, "a pair per flip: {events:?}");
    let _ = Down;
}
