//! Property tests of storms (SPEC §12): random probe results of a parent and its children
//! (fed as the scheduler does, through a real `CheckTracker`), acks, resolves, escalations,
//! silences and restarts at random times, with the dependency rules checked after every input.

mod engine_support;

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use engine_support::*;
use jiff::{SignedDuration, Timestamp};
use oncalld::config::Config;
use oncalld::core::check_state::{CheckState, CheckTracker};
use oncalld::core::engine::{Action, Engine, Input};
use oncalld::core::model::{EventKind, PageEvent};
use proptest::prelude::*;

const CHECKS: [&str; 4] = ["gw", "c1", "c2", "c3"];

fn config() -> Arc<Config> {
    Cfg::new()
        .check("gw", "p")
        .child("c1", "p", &["gw"])
        .child("c2", "p", &["gw"])
        .child("c3", "p", &["gw"])
        .mailer("a")
        .mailer("b")
        .policy(
            "p",
            1,
            Some("20m"),
            &[(&["person:a"], "5m"), (&["person:b"], "5m")],
        )
        .flap(20.0, 30.0)
        .build()
}

#[derive(Debug, Clone)]
enum Op {
    /// A probe result of check `.0` (failed or not); retries 2 for children, 1 for gw.
    Result(usize, bool),
    Ack(u64),
    Resolve(u64),
    Escalate(u64),
    Silence(i64),
    Tick,
    Restart,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        12 => (0..4usize, any::<bool>()).prop_map(|(c, f)| Op::Result(c, f)),
        2 => (1..12u64).prop_map(Op::Ack),
        1 => (1..12u64).prop_map(Op::Resolve),
        1 => (1..12u64).prop_map(Op::Escalate),
        1 => (1..30i64).prop_map(Op::Silence),
        3 => Just(Op::Tick),
        1 => Just(Op::Restart),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]
    #[test]
    fn unreachable_incidents_never_page_while_the_parent_is_down(
        steps in prop::collection::vec((0..90i64, op()), 1..120)
    ) {
        let cfg = config();
        let mut engine = Engine::new(cfg.clone());
        let mut trackers: Vec<CheckTracker> = vec![CheckTracker::default(); CHECKS.len()];
        // Incidents held as unreachable (from `unreachable` to `reachable` or a hand escalation).
        let mut held: HashSet<u64> = HashSet::new();
        let mut check_of: HashMap<u64, String> = HashMap::new();
        let mut now: Timestamp = "2026-03-02T10:00:00Z".parse().unwrap();
        let mut next_id = 1u64;
        for (gap, op) in steps {
            now += SignedDuration::from_secs(gap);
            let input = match &op {
                Op::Result(c, failed) => {
                    let retries = if *c == 0 { 1 } else { 2 };
                    let t = trackers[*c].observe(*failed, retries, 1);
                    probe(CHECKS[*c], *failed, t.map(|t| (t.from, t.to)))
                }
                Op::Ack(id) => ack(*id, "t"),
                Op::Resolve(id) => Input::Resolve { incident: *id, actor: "t".into(), message: None },
                Op::Escalate(id) => Input::Escalate { incident: *id, actor: "t".into() },
                Op::Silence(m) => silence("c*", now + SignedDuration::from_mins(*m)),
                Op::Tick | Op::Restart => Input::Tick,
            };
            if let Op::Restart = op {
                let mut e = Engine::restore(
                    cfg.clone(),
                    engine.open_incidents().cloned().collect(),
                    engine.silences().cloned().collect(),
                    next_id,
                    1,
                );
                e.seed_states(CHECKS.iter().zip(&trackers).map(|(n, t)| (n.to_string(), t.state)));
                engine = e;
            }
            let actions = match engine.handle(input, now) {
                Ok(a) => a,
                Err(_) => continue,
            };
            let gw_up = trackers[0].state == CheckState::Up;
            for a in &actions {
                match a {
                    Action::SaveIncident(i) => {
                        next_id = next_id.max(i.id + 1);
                        check_of.insert(i.id, i.check.clone());
                        prop_assert!(
                            i.escalation.unreachable.is_empty() || i.check != "gw",
                            "gw has no parent"
                        );
                    }
                    Action::Record(e) => match e.kind {
                        EventKind::Unreachable => {
                            prop_assert!(!gw_up, "held while gw is UP: {e:?}");
                            held.insert(e.incident);
                        }
                        EventKind::Reachable => {
                            prop_assert!(gw_up, "released while gw is not UP: {e:?}");
                            held.remove(&e.incident);
                        }
                        EventKind::Escalated if e.actor == "t" => {
                            held.remove(&e.incident);
                        }
                        _ => {}
                    },
                    Action::Page(p) => {
                        let kind_pages = matches!(
                            p.event,
                            PageEvent::Triggered | PageEvent::Escalated | PageEvent::Flapping
                        );
                        prop_assert!(
                            !(kind_pages && held.contains(&p.incident)),
                            "page for held incident #{}: {p:?}", p.incident
                        );
                    }
                    Action::SaveSilence(_) => {}
                }
            }
            // Whatever the engine holds is recorded as held, and only while gw is not UP
            // (a release waits for the input that brings gw back, or the next one after a
            // restart).
            for i in engine.open_incidents() {
                if !i.escalation.unreachable.is_empty() {
                    prop_assert!(held.contains(&i.id), "#{} held without an event", i.id);
                }
            }
        }
    }
}
