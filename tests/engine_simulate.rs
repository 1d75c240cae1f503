//! `simulate` agrees with reality: on random configs (schedules with periods, people with
//! several contact methods, empty steps, repeats), random other checks failing and random
//! silences, the pages the engine actually decides for a check that goes DOWN at T are, time
//! for time, the pages `simulate` predicted at T. Plus the skip reasons it names.

mod engine_support;

use engine_support::*;
use jiff::{SignedDuration, Timestamp};
use oncalld::config::{Period, parse_window};
use oncalld::core::engine::Action;
use oncalld::core::model::PageEvent;
use oncalld::core::simulate::{HORIZON, simulate};
use proptest::prelude::*;

/// (at, step, recipient, notifier, to) of a page.
type Row = (Timestamp, u32, String, String, Option<String>);

fn random_config(rng: &mut fastrand::Rng) -> Cfg {
    let mut c = Cfg::new();
    let people = ["p0", "p1", "p2", "p3"];
    for p in people {
        let mut contacts = vec![("mail", format!("{p}@example.com"))];
        if rng.bool() {
            contacts.push(("sms", format!("+3360000000{}", rng.u8(0..10))));
        }
        let refs: Vec<(&str, &str)> = contacts.iter().map(|(v, t)| (*v, t.as_str())).collect();
        c = c.person(p, &refs);
    }
    c.0.periods.insert(
        "workhours".into(),
        Period {
            windows: vec![parse_window("mon-fri 09:00-18:00").unwrap()],
        },
    );
    for s in ["s0", "s1"] {
        let n = rng.usize(1..4);
        let rot: Vec<&str> = (0..n).map(|_| people[rng.usize(0..4)]).collect();
        let shift = ["1h", "12h", "1d", "7d"][rng.usize(0..4)];
        let zone = ["UTC", "Europe/Paris", "America/New_York"][rng.usize(0..3)];
        let start = format!("2026-{:02}-{:02}T09:00", rng.u8(1..12), rng.u8(1..28));
        let mut sched = rotation(zone, &rot, shift, &start);
        if rng.bool() {
            sched.period = Some("workhours".into());
        }
        c = c.schedule(s, sched);
    }
    let targets = [
        "schedule:s0",
        "schedule:s1",
        "person:p0",
        "person:p3",
        "notifier:ops-chat",
    ];
    let steps: Vec<(Vec<&str>, String)> = (0..rng.usize(1..4))
        .map(|_| {
            let t: Vec<&str> = (0..rng.usize(1..3))
                .map(|_| targets[rng.usize(0..5)])
                .collect();
            (t, format!("{}m", rng.u32(1..180)))
        })
        .collect();
    let refs: Vec<(&[&str], &str)> = steps
        .iter()
        .map(|(t, a)| (t.as_slice(), a.as_str()))
        .collect();
    c.policy("default", rng.u32(0..3), None, &refs)
        .check("x", "default")
        .check("o1", "default")
        .check("o2", "default")
}

fn x_pages(log: &[(Timestamp, Action)], check: &str) -> Vec<Row> {
    let id = log.iter().find_map(|(_, a)| match a {
        Action::SaveIncident(i) if i.check == check => Some(i.id),
        _ => None,
    });
    log.iter()
        .filter_map(|(at, a)| match a {
            Action::Page(p) if Some(p.incident) == id && p.event != PageEvent::Handoff => Some((
                *at,
                p.step,
                p.recipient.clone(),
                p.notifier.clone(),
                p.to.clone(),
            )),
            _ => None,
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]
    #[test]
    fn simulate_predicts_the_pages_the_engine_decides(seed in any::<u64>()) {
        let mut rng = fastrand::Rng::with_seed(seed);
        let config = random_config(&mut rng).build();
        let t0 = ts("2026-01-01T00:00:00Z");
        let t = t0 + SignedDuration::from_secs(rng.i64(0..365 * 86_400));
        let mut sim = Sim::new(config.clone());
        // Other checks fail and recover around T; a silence may hold x or the others.
        let before = t - SignedDuration::from_secs(rng.i64(1..7200));
        sim.at(before, down("o1", "boom"));
        if rng.bool() {
            let pattern = if rng.bool() { "x" } else { "o*" };
            let until = t + SignedDuration::from_secs(rng.i64(1..20_000));
            sim.at(before, silence(pattern, until));
        }
        let silences: Vec<_> = sim.engine.silences().cloned().collect();
        let predicted = simulate(config.clone(), silences, "x", t).unwrap();
        sim.at(t, down("x", "real failure"));
        sim.at(t + SignedDuration::from_secs(rng.i64(1..3600)), down("o2", "later"));
        sim.run_until(t + HORIZON);
        let actual = x_pages(&sim.log, "x");
        let expected: Vec<Row> = predicted
            .events
            .iter()
            .filter(|e| e.kind == "paged")
            .map(|e| (
                e.at,
                e.step.unwrap(),
                e.recipient.clone().unwrap(),
                e.notifier.clone().unwrap(),
                e.to.clone(),
            ))
            .collect();
        prop_assert_eq!(actual, expected);
    }
}

#[test]
fn skips_name_their_reason_and_times_follow_the_steps() {
    let mut sched = rotation("Europe/Paris", &["alice"], "7d", "2026-01-05T09:00");
    sched.period = Some("workhours".into());
    let mut c = Cfg::new()
        .mailer("alice")
        .mailer("bob")
        .schedule("primary", sched)
        .schedule(
            "later",
            rotation("UTC", &["alice"], "1d", "2027-01-01T00:00"),
        )
        .policy(
            "default",
            1,
            None,
            &[
                (&["schedule:primary"], "10m"),
                (&["schedule:later"], "10m"),
                (&["person:bob"], "30m"),
            ],
        )
        .check("web", "default");
    c.0.periods.insert(
        "workhours".into(),
        Period {
            windows: vec![parse_window("mon-fri 09:00-18:00").unwrap()],
        },
    );
    // Saturday 03:00 in Paris: outside workhours.
    let at = ts("2026-12-05T02:00:00Z");
    let s = simulate(c.build(), Vec::new(), "web", at).unwrap();
    let lines: Vec<(String, String, String)> = s
        .events
        .iter()
        .map(|e| {
            (
                e.at.to_string(),
                e.kind.clone(),
                e.recipient.clone().unwrap_or_default(),
            )
        })
        .collect();
    let first = &s.events[0];
    assert!(
        first
            .message
            .contains("schedule primary: outside period workhours"),
        "{first:?}"
    );
    assert!(
        s.events[1]
            .message
            .contains("schedule later: before its start 2027-01-01T00:00"),
        "{:?}",
        s.events[1]
    );
    assert_eq!(
        lines
            .iter()
            .filter(|l| l.1 == "paged")
            .map(|l| (l.0.as_str(), l.2.as_str()))
            .collect::<Vec<_>>(),
        [
            ("2026-12-05T02:00:00Z", "bob"),
            ("2026-12-05T02:30:00Z", "bob"), // pass 2: steps 1 and 2 still empty
        ]
    );
    assert_eq!(lines.last().unwrap().1, "escalation_exhausted");
    assert!(s.complete);
    assert!(simulate(Cfg::new().build(), Vec::new(), "nope", at).is_err());
}
