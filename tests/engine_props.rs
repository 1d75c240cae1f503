//! Property tests, state-machine style: random sequences of inputs at non-decreasing times,
//! with the engine's invariants checked after every input.

mod engine_support;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

use engine_support::*;
use jiff::civil;
use jiff::{SignedDuration, Timestamp};
use oncalld::config::{Config, Period, Window};
use oncalld::core::engine::{Action, Engine, Input};
use oncalld::core::model::{EventKind, IncidentState, PageEvent};
use proptest::prelude::*;

const CHECKS: [&str; 3] = ["web-1", "web-2", "db"];

fn config(alternative: bool) -> Arc<Config> {
    let mut rot = rotation("UTC", &["a", "b"], "1h", "2026-03-02T00:00");
    rot.period = Some("half".into());
    let mut cfg = Cfg::new()
        .check("web-1", "p")
        .check_no_auto_resolve("web-2", "p")
        .mailer("a")
        .person("b", &[("mail", "b@x"), ("sms", "+1")])
        .schedule("rot", rot);
    cfg = if alternative {
        cfg.policy("p", 0, None, &[(&["schedule:rot"], "5m")])
    } else {
        cfg.check("db", "p").policy(
            "p",
            1,
            Some("30m"),
            &[
                (&["schedule:rot"], "10m"),
                (&["person:b", "notifier:ops-chat"], "20m"),
            ],
        )
    };
    // On call only in the first 40 minutes of each hour, so steps are sometimes empty.
    let windows = (0..24)
        .map(|h| Window {
            days: [true; 7],
            start: civil::time(h, 0, 0, 0),
            end: Some(civil::time(h, 40, 0, 0)),
        })
        .collect();
    cfg.0.periods = BTreeMap::from([("half".to_string(), Period { windows })]);
    cfg.build()
}

#[derive(Debug, Clone)]
enum Op {
    Down(usize),
    Up(usize),
    Ack(u64),
    Resolve(u64),
    Escalate(u64),
    Note(u64),
    Silence(usize, i64),
    Unsilence(u64),
    Tick,
    Reload(bool),
    /// The daemon restarts: a new engine from the open incidents and silences it saved.
    Restart,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (0..3usize).prop_map(Op::Down),
        3 => (0..3usize).prop_map(Op::Up),
        2 => (1..8u64).prop_map(Op::Ack),
        1 => (1..8u64).prop_map(Op::Resolve),
        1 => (1..8u64).prop_map(Op::Escalate),
        1 => (1..8u64).prop_map(Op::Note),
        1 => (0..3usize, 1..120i64).prop_map(|(p, m)| Op::Silence(p, m)),
        1 => (1..4u64).prop_map(Op::Unsilence),
        4 => Just(Op::Tick),
        1 => any::<bool>().prop_map(Op::Reload),
        1 => Just(Op::Restart),
    ]
}

fn input(op: &Op, now: Timestamp) -> Input {
    let actor = || "tester".to_string();
    match op {
        Op::Down(c) => down(CHECKS[*c], "down"),
        Op::Up(c) => up(CHECKS[*c], "up"),
        Op::Ack(id) => ack(*id, "tester"),
        Op::Resolve(id) => Input::Resolve {
            incident: *id,
            actor: actor(),
            message: None,
        },
        Op::Escalate(id) => Input::Escalate {
            incident: *id,
            actor: actor(),
        },
        Op::Note(id) => Input::Note {
            incident: *id,
            actor: actor(),
            text: "n".into(),
        },
        Op::Silence(p, mins) => Input::Silence {
            pattern: ["web-*", "db", "*"][*p].into(),
            until: now + SignedDuration::from_mins(*mins),
            actor: actor(),
            message: "m".into(),
        },
        Op::Unsilence(id) => Input::Unsilence {
            id: *id,
            actor: actor(),
        },
        Op::Tick => Input::Tick,
        Op::Reload(alt) => Input::Reload(config(*alt)),
        Op::Restart => Input::Tick,
    }
}

/// What the test has seen of each incident, from the actions alone.
#[derive(Default)]
struct Observed {
    acked: HashSet<u64>,
    resolved: HashSet<u64>,
    keys: HashSet<String>,
    max_incident: u64,
    max_silence: u64,
}

/// What the daemon does after a restart: restore from what the store kept.
fn restart(engine: &Engine, seen: &Observed) -> Engine {
    Engine::restore(
        engine.config().clone(),
        engine.open_incidents().cloned().collect(),
        engine.silences().cloned().collect(),
        seen.max_incident + 1,
        seen.max_silence + 1,
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]
    #[test]
    fn engine_invariants(steps in prop::collection::vec((0..40i64, op()), 1..60)) {
        let mut engine = Engine::new(config(false));
        let mut now = ts("2026-03-02T00:00:00Z");
        let mut seen = Observed::default();
        for (delta, op) in steps {
            now += SignedDuration::from_mins(delta);
            if let Op::Restart = op {
                let restored = restart(&engine, &seen);
                prop_assert_eq!(restored.next_deadline(), engine.next_deadline());
                engine = restored;
            }
            let input = input(&op, now);
            let before = format!("{engine:?}");
            let snapshot: HashMap<u64, (IncidentState, Option<Timestamp>, bool)> = engine
                .open_incidents()
                .map(|i| (i.id, (i.state, i.escalation.next_at, i.escalation.silenced)))
                .collect();
            let manual = match &op { Op::Escalate(id) => Some(*id), _ => None };
            match engine.handle(input, now) {
                // A refused input changes nothing, not even due deadlines (the daemon's next
                // wake-up at `next_deadline()`, then in the past, fires them at once).
                Err(_) => prop_assert_eq!(format!("{engine:?}"), before, "an error changed the engine"),
                Ok(actions) => {
                    check_actions(&actions, &snapshot, manual, now, &mut seen)?;
                    // The next deadline is never in the past after handling.
                    if let Some(d) = engine.next_deadline() {
                        prop_assert!(d > now, "deadline {} <= now {}", d, now);
                    }
                }
            }
            // At most one open incident per check.
            let mut checks = HashSet::new();
            for inc in engine.open_incidents() {
                prop_assert!(checks.insert(inc.check.clone()), "two open incidents for {}", inc.check);
                prop_assert!(inc.state.is_open());
            }
        }
    }
}

fn check_actions(
    actions: &[Action],
    snapshot: &HashMap<u64, (IncidentState, Option<Timestamp>, bool)>,
    manual: Option<u64>,
    now: Timestamp,
    seen: &mut Observed,
) -> Result<(), TestCaseError> {
    for a in actions {
        match a {
            Action::Record(e) => match e.kind {
                EventKind::Acknowledged => {
                    seen.acked.insert(e.incident);
                }
                EventKind::AckTimedOut => {
                    seen.acked.remove(&e.incident);
                }
                EventKind::Escalated if e.actor != "oncalld" => {
                    seen.acked.remove(&e.incident);
                }
                EventKind::Resolved => {
                    prop_assert!(seen.resolved.insert(e.incident), "resolved twice");
                }
                // The `paged` events of the resolved notices follow the `resolved` event.
                EventKind::Paged => {}
                _ => prop_assert!(!seen.resolved.contains(&e.incident), "event after resolve"),
            },
            Action::Page(p) => {
                prop_assert!(seen.keys.insert(p.key.clone()), "duplicate key {}", p.key);
                if matches!(p.event, PageEvent::Triggered | PageEvent::Escalated) {
                    prop_assert!(
                        !seen.acked.contains(&p.incident),
                        "paged #{} while acked",
                        p.incident
                    );
                    prop_assert!(
                        !seen.resolved.contains(&p.incident),
                        "paged #{} after resolve",
                        p.incident
                    );
                    check_due(p.incident, p.event, snapshot, manual, now)?;
                }
            }
            Action::SaveIncident(i) => seen.max_incident = seen.max_incident.max(i.id),
            Action::SaveSilence(s) => seen.max_silence = seen.max_silence.max(s.id),
        }
    }
    Ok(())
}

/// A page of an incident that already existed is never earlier than the deadline that made it.
fn check_due(
    id: u64,
    event: PageEvent,
    snapshot: &HashMap<u64, (IncidentState, Option<Timestamp>, bool)>,
    manual: Option<u64>,
    now: Timestamp,
) -> Result<(), TestCaseError> {
    let Some((state, next_at, silenced)) = snapshot.get(&id) else {
        return Ok(()); // opened by this input
    };
    if manual == Some(id) || (*silenced && event == PageEvent::Triggered) {
        return Ok(()); // escalated by hand, or released from a silence
    }
    prop_assert!(
        next_at.is_some_and(|t| t <= now),
        "page for #{} ({:?}, {:?}) at {} before its deadline {:?}",
        id,
        state,
        event,
        now,
        next_at
    );
    Ok(())
}
