//! Grouping (SPEC §12 `group_wait`): the first page to a destination at once, the rest within
//! the window as one digest at its end; scenario and property tests.

mod engine_support;

use std::collections::{BTreeSet, HashMap};

use engine_support::*;
use jiff::{SignedDuration, Timestamp};
use oncalld::core::engine::{Action, Input};
use oncalld::core::model::{EventKind, PageEvent};
use proptest::prelude::*;

const T0: &str = "2026-03-02T10:00:00Z";

fn at_ms(ms: i64) -> Timestamp {
    ts(T0) + SignedDuration::from_millis(ms)
}

/// `n` checks c0..c(n-1) on policy p (alice by mail and sms, the ops-chat webhook),
/// group_wait 5 s.
fn fifty(n: usize, wait: &str) -> Cfg {
    let mut cfg = Cfg::new();
    for i in 0..n {
        cfg = cfg.check(&format!("c{i}"), "p");
    }
    cfg.person("alice", &[("mail", "alice@example.com"), ("sms", "+100")])
        .policy(
            "p",
            0,
            None,
            &[(&["person:alice", "notifier:ops-chat"], "15m")],
        )
        .group_wait("p", wait)
}

#[test]
fn fifty_downs_in_two_seconds_make_one_page_and_one_digest_per_destination() {
    let mut sim = Sim::new(fifty(50, "5s").build());
    for i in 0..50 {
        let a = sim.at(at_ms(i * 40), down(&format!("c{i}"), "refused"));
        if i == 0 {
            assert_eq!(
                pages(&a).len(),
                3,
                "first pages at once: mail, sms, ops-chat"
            );
        } else {
            assert!(pages(&a).is_empty(), "#{i} held");
            assert_eq!(
                kinds(&a),
                [
                    EventKind::Triggered,
                    EventKind::Grouped,
                    EventKind::Grouped,
                    EventKind::Grouped
                ]
            );
            assert!(
                events(&a)[1]
                    .message
                    .ends_with("-> grouped into digest oncalld:digest:1:2:alice:mail"),
                "{}",
                events(&a)[1].message
            );
        }
    }
    sim.run_until(at_ms(5_000));
    let mut per_dest: HashMap<(String, String), Vec<_>> = HashMap::new();
    for (at, a) in &sim.log {
        if let Action::Page(p) = a {
            per_dest
                .entry((p.recipient.clone(), p.notifier.clone()))
                .or_default()
                .push((*at, p.clone()));
        }
    }
    assert_eq!(per_dest.len(), 3);
    for (dest, list) in per_dest {
        assert_eq!(list.len(), 2, "{dest:?}: one page + one digest");
        let (first_at, first) = &list[0];
        assert_eq!(*first_at, at_ms(0));
        assert!(first.digest.is_empty());
        let (digest_at, digest) = &list[1];
        assert_eq!(*digest_at, at_ms(5_000), "at the end of the window");
        let named: Vec<u64> = digest.digest.iter().map(|i| i.incident).collect();
        assert_eq!(named, (2..=50).collect::<Vec<u64>>(), "the other 49");
        assert_eq!(
            digest.text,
            "TRIGGERED 49 incidents: c1, c2, c3, c4, c5, c6, c7, c8, c9, c10, … (+39 more)"
        );
        assert!(digest.key.starts_with("oncalld:digest:1:"));
    }
}

#[test]
fn a_page_after_the_window_opens_a_new_one() {
    let mut sim = Sim::new(fifty(3, "5s").build());
    sim.at(at_ms(0), down("c0", "x"));
    sim.at(at_ms(1_000), down("c1", "x"));
    let a = sim.at(at_ms(6_000), down("c2", "x"));
    assert_eq!(pages(&a).len(), 3, "window closed: at once");
    let digests = sim
        .log
        .iter()
        .filter(|(_, a)| matches!(a, Action::Page(p) if !p.digest.is_empty()))
        .count();
    assert_eq!(digests, 3, "c1's digest to each destination at 5 s");
}

#[test]
fn resolved_meanwhile_is_still_named_with_its_state() {
    let mut sim = Sim::new(fifty(2, "5s").build());
    sim.at(at_ms(0), down("c0", "x"));
    sim.at(at_ms(100), down("c1", "x"));
    sim.at(at_ms(200), up("c1", "ok"));
    sim.run_until(at_ms(5_000));
    let digest = sim
        .log
        .iter()
        .find_map(|(_, a)| match a {
            Action::Page(p) if !p.digest.is_empty() && p.event == PageEvent::Triggered => {
                Some(p.clone())
            }
            _ => None,
        })
        .unwrap();
    assert_eq!(digest.digest[0].incident, 2);
    assert_eq!(
        digest.digest[0].incident_state,
        oncalld::core::model::IncidentState::Resolved
    );
}

#[test]
fn a_restart_within_the_window_still_sends_the_digest() {
    let config = fifty(3, "5s").build();
    let mut sim = Sim::new(config.clone());
    sim.at(at_ms(0), down("c0", "x"));
    let a = sim.at(at_ms(1_000), down("c1", "x"));
    assert!(pages(&a).is_empty());
    let held = sim
        .engine
        .open_incidents()
        .find(|i| i.check == "c1")
        .unwrap()
        .escalation
        .grouped
        .len();
    assert_eq!(held, 3, "the held pages are saved with the incident");
    // The daemon restarts from what the store kept.
    let open: Vec<_> = sim.engine.open_incidents().cloned().collect();
    let mut engine = oncalld::core::engine::Engine::restore(config, open, Vec::new(), 4, 1);
    assert_eq!(engine.next_deadline(), Some(at_ms(5_000)));
    let a = engine.handle(Input::Tick, at_ms(5_000)).unwrap();
    let digests: Vec<_> = pages(&a)
        .into_iter()
        .filter(|p| !p.digest.is_empty())
        .collect();
    assert_eq!(digests.len(), 3);
    assert!(digests.iter().all(|d| d.digest[0].check == "c1"));
    let cleared = a.iter().any(|x| {
        matches!(x, Action::SaveIncident(i) if i.check == "c1" && i.escalation.grouped.is_empty())
    });
    assert!(cleared, "sent digests leave the incident");
}

#[derive(Debug, Clone)]
enum Op {
    Down(usize),
    Up(usize),
    Ack(u64),
    Tick,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        5 => (0..6usize).prop_map(Op::Down),
        3 => (0..6usize).prop_map(Op::Up),
        1 => (1..20u64).prop_map(Op::Ack),
        2 => Just(Op::Tick),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]
    /// A digest never delays a first page; every held page's incident is named in exactly
    /// one digest, to the same destination, at most `group_wait` later.
    #[test]
    fn digests_never_delay_first_pages_nor_lose_incidents(
        steps in prop::collection::vec((0..4_000i64, op()), 1..80)
    ) {
        let mut sim = Sim::new(fifty(6, "5s").build());
        let mut now = at_ms(0);
        for (gap, op) in steps {
            now += SignedDuration::from_millis(gap);
            let input = match op {
                Op::Down(c) => down(&format!("c{c}"), "x"),
                Op::Up(c) => up(&format!("c{c}"), "ok"),
                Op::Ack(id) => ack(id, "t"),
                Op::Tick => Input::Tick,
            };
            sim.run_until(now);
            if let Ok(a) = sim.engine.handle(input, now) {
                sim.log.extend(a.into_iter().map(|a| (now, a)));
            }
        }
        sim.run_until(now + SignedDuration::from_secs(10));
        // (dest, event) -> when the last page that went out at once went.
        let mut held: Vec<(Timestamp, u64, String, PageEvent, String)> = Vec::new();
        let mut named: Vec<(Timestamp, u64, String, PageEvent, String)> = Vec::new();
        let mut sent_at_once: Vec<(Timestamp, String, PageEvent)> = Vec::new();
        for (at, a) in &sim.log {
            match a {
                Action::Record(e) if e.kind == EventKind::Grouped => {
                    let key = e.message.rsplit(' ').next().unwrap().to_string();
                    let who = e.message.split(' ').nth(1).unwrap().to_string();
                    let via = e.message.split(' ').nth(3).unwrap().to_string();
                    let event = if e.message.contains(", triggered)") {
                        PageEvent::Triggered
                    } else if e.message.contains(", resolved)") {
                        PageEvent::Resolved
                    } else {
                        PageEvent::Acknowledged
                    };
                    held.push((*at, e.incident, format!("{who}:{via}"), event, key));
                }
                Action::Page(p) if p.digest.is_empty() => {
                    sent_at_once.push((*at, format!("{}:{}", p.recipient, p.notifier), p.event));
                }
                Action::Page(p) => {
                    for i in &p.digest {
                        named.push((*at, i.incident, format!("{}:{}", p.recipient, p.notifier), p.event, p.key.clone()));
                    }
                }
                _ => {}
            }
        }
        // Every held page named once, in the digest its event announced, within 5 s.
        let mut seen = BTreeSet::new();
        for (at, inc, dest, event, key) in &held {
            let found: Vec<_> = named
                .iter()
                .filter(|n| n.1 == *inc && n.2 == *dest && n.3 == *event && n.4 == *key)
                .collect();
            prop_assert_eq!(found.len(), 1, "#{} {} {:?} in {}", inc, dest, event, key);
            prop_assert!(found[0].0 >= *at && found[0].0 <= *at + SignedDuration::from_secs(5));
            seen.insert((inc, dest.clone(), event.as_str(), key.clone()));
        }
        prop_assert_eq!(seen.len(), named.len(), "digests name only held pages");
        // A page goes at once unless a page of its kind went to that destination in the last
        // 5 s (the window it opened): never held otherwise.
        for (at, _, dest, event, _) in &held {
            let opener = sent_at_once.iter().any(|(t, d, e)| {
                d == dest && e == event && *t <= *at && *at < *t + SignedDuration::from_secs(5)
            });
            prop_assert!(opener, "held at {} with no window open for {} {:?}", at, dest, event);
        }
    }
}
