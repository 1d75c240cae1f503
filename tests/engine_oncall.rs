//! On-call: rotations, DST on both 2026 transitions in Paris and New York, periods, overrides,
//! and an arithmetic-vs-brute-force property test of the shift index.

mod engine_support;

use engine_support::*;
use jiff::civil::{self, DateTime};
use jiff::{SignedDuration, Span, Timestamp};
use oncalld::config::{Period, Schedule, Window};
use oncalld::core::engine::{WhoError, who};
use oncalld::core::model::PageEvent;
use oncalld::core::oncall::on_call;
use proptest::prelude::*;
use std::collections::BTreeMap;

fn who_at(s: &Schedule, at: &str) -> Option<String> {
    on_call(s, &BTreeMap::new(), ts(at)).map(str::to_string)
}

/// (instant, expected person) rows.
fn check_table(s: &Schedule, rows: &[(&str, Option<&str>)]) {
    for (at, expected) in rows {
        assert_eq!(who_at(s, at).as_deref(), *expected, "at {at}");
    }
}

#[test]
fn paris_daily_0900_handover_stays_0900_across_both_transitions() {
    let s = rotation("Europe/Paris", &["a", "b"], "1d", "2026-03-20T09:00");
    check_table(
        &s,
        &[
            ("2026-03-20T07:59:59Z", None), // before start
            ("2026-03-20T08:00:00Z", Some("a")),
            ("2026-03-28T08:00:00Z", Some("a")), // 09:00 CET, day 8
            ("2026-03-29T06:59:59Z", Some("a")), // 08:59:59 CEST
            ("2026-03-29T07:00:00Z", Some("b")), // 09:00 CEST
            ("2026-03-30T07:00:00Z", Some("a")),
        ],
    );
    let s = rotation("Europe/Paris", &["a", "b"], "1d", "2026-10-20T09:00");
    check_table(
        &s,
        &[
            ("2026-10-24T06:59:59Z", Some("b")), // 08:59:59 CEST, day 3
            ("2026-10-24T07:00:00Z", Some("a")), // 09:00 CEST, day 4
            ("2026-10-25T07:59:59Z", Some("a")), // 08:59:59 CET
            ("2026-10-25T08:00:00Z", Some("b")), // 09:00 CET
        ],
    );
}

#[test]
fn new_york_daily_0900_handover_stays_0900_across_both_transitions() {
    let s = rotation("America/New_York", &["a", "b"], "1d", "2026-03-01T09:00");
    check_table(
        &s,
        &[
            ("2026-03-07T14:00:00Z", Some("a")), // 09:00 EST, day 6
            ("2026-03-08T12:59:59Z", Some("a")),
            ("2026-03-08T13:00:00Z", Some("b")), // 09:00 EDT
        ],
    );
    let s = rotation("America/New_York", &["a", "b"], "1d", "2026-10-25T09:00");
    check_table(
        &s,
        &[
            ("2026-10-31T12:59:59Z", Some("b")), // 08:59:59 EDT, day 5
            ("2026-10-31T13:00:00Z", Some("a")), // 09:00 EDT, day 6
            ("2026-11-01T13:59:59Z", Some("a")), // 08:59:59 EST
            ("2026-11-01T14:00:00Z", Some("b")), // 09:00 EST
        ],
    );
}

#[test]
fn handover_inside_the_gap_moves_forward_by_the_gap() {
    // 02:30 does not exist on the spring-forward day: the handover is at 03:30 summer time.
    let paris = rotation("Europe/Paris", &["a", "b"], "1d", "2026-03-28T02:30");
    check_table(
        &paris,
        &[
            ("2026-03-28T01:30:00Z", Some("a")),
            ("2026-03-29T01:29:59Z", Some("a")), // 03:29:59 CEST
            ("2026-03-29T01:30:00Z", Some("b")), // 03:30 CEST
        ],
    );
    let ny = rotation("America/New_York", &["a", "b"], "1d", "2026-03-07T02:30");
    check_table(
        &ny,
        &[
            ("2026-03-08T07:29:59Z", Some("a")),
            ("2026-03-08T07:30:00Z", Some("b")), // 03:30 EDT
        ],
    );
}

#[test]
fn handover_inside_the_fold_happens_once_at_the_first_occurrence() {
    // 02:30 happens twice in Paris on 2026-10-25 (00:30Z CEST, 01:30Z CET).
    let paris = rotation("Europe/Paris", &["a", "b"], "1d", "2026-10-24T02:30");
    assert_single_handover(
        &paris,
        "2026-10-24T23:00:00Z",
        "2026-10-25T03:00:00Z",
        "2026-10-25T00:30:00Z",
    );
    // 01:30 happens twice in New York on 2026-11-01 (05:30Z EDT, 06:30Z EST).
    let ny = rotation("America/New_York", &["a", "b"], "1d", "2026-10-31T01:30");
    assert_single_handover(
        &ny,
        "2026-11-01T04:00:00Z",
        "2026-11-01T08:00:00Z",
        "2026-11-01T05:30:00Z",
    );
}

/// Sampling every minute from `from` to `to`: `a` then `b`, one change exactly at `at`.
fn assert_single_handover(s: &Schedule, from: &str, to: &str, at: &str) {
    let (mut t, end, at) = (ts(from), ts(to), ts(at));
    let mut changes = Vec::new();
    let mut last = who_at(s, &t.to_string());
    while t <= end {
        let now = who_at(s, &t.to_string());
        if now != last {
            changes.push((t, now.clone()));
            last = now;
        }
        t += SignedDuration::from_mins(1);
    }
    assert_eq!(changes, [(at, Some("b".to_string()))]);
}

#[test]
fn fall_back_hour_is_neither_paged_twice_nor_skipped() {
    // (zone, rotation start, trigger instant = 30 min before the first occurrence of the
    // handover's local time in the fold)
    paged_across_fold("Europe/Paris", "2026-10-24T02:30", "2026-10-25T00:00:00Z");
    paged_across_fold(
        "America/New_York",
        "2026-10-31T01:30",
        "2026-11-01T05:00:00Z",
    );
}

/// Step 1 is the schedule, escalating every 15 minutes for two hours across the fold: one
/// page every 15 minutes, `a` until the handover (30 minutes in), then `b` throughout the
/// repeated hour, never handed over a second time.
fn paged_across_fold(zone: &str, start: &str, trigger: &str) {
    let sched = rotation(zone, &["a", "b"], "1d", start);
    let cfg = Cfg::new()
        .check("web", "p")
        .mailer("a")
        .mailer("b")
        .schedule("primary", sched)
        .policy("p", 20, None, &[(&["schedule:primary"], "15m")]);
    let mut sim = Sim::new(cfg.build());
    let t0 = ts(trigger);
    sim.at(t0, down("web", "x"));
    sim.run_until(t0 + SignedDuration::from_hours(2));
    let who: Vec<(i64, String)> = sim.log_pages(t0).into_iter().map(|p| (p.0, p.2)).collect();
    let expected: Vec<(i64, String)> = (0..=8)
        .map(|i| (i * 15, if i * 15 < 30 { "a" } else { "b" }.to_string()))
        .collect();
    assert_eq!(who, expected, "{zone}");
    let later = sim.log_pages(t0);
    assert!(later.iter().skip(1).all(|p| p.1 == PageEvent::Escalated));
}

#[test]
fn twelve_hour_shifts_are_absolute_time() {
    let s = rotation("Europe/Paris", &["a", "b"], "12h", "2026-03-28T08:00");
    check_table(
        &s,
        &[
            ("2026-03-28T06:59:59Z", None),
            ("2026-03-28T07:00:00Z", Some("a")),
            ("2026-03-28T19:00:00Z", Some("b")),
            ("2026-03-29T06:59:59Z", Some("b")),
            ("2026-03-29T07:00:00Z", Some("a")), // 09:00 local: 12 real hours later
        ],
    );
}

fn workhours() -> Period {
    Period {
        windows: vec![Window {
            days: [true, true, true, true, true, false, false],
            start: civil::time(9, 0, 0, 0),
            end: Some(civil::time(18, 0, 0, 0)),
        }],
    }
}

#[test]
fn period_restricts_on_call_to_its_windows() {
    let mut s = rotation("Europe/Paris", &["a"], "7d", "2026-03-02T00:00");
    s.period = Some("workhours".into());
    let periods = BTreeMap::from([("workhours".to_string(), workhours())]);
    for (at, expected) in [
        ("2026-03-02T07:59:59Z", None),      // Mon 08:59:59 CET
        ("2026-03-02T08:00:00Z", Some("a")), // Mon 09:00
        ("2026-03-02T16:59:59Z", Some("a")),
        ("2026-03-02T17:00:00Z", None),      // 18:00
        ("2026-03-07T10:00:00Z", None),      // Saturday
        ("2026-03-30T07:00:00Z", Some("a")), // Mon 09:00 CEST
        ("2026-03-30T06:59:00Z", None),
    ] {
        assert_eq!(on_call(&s, &periods, ts(at)), expected, "at {at}");
    }
}

#[test]
fn overrides_replace_the_rotation_last_listed_wins() {
    let s = rotation("Europe/Paris", &["a", "b"], "7d", "2026-03-02T09:00");
    let s = with_override(s, "carol", "2026-03-10T00:00", "2026-03-12T00:00");
    let s = with_override(s, "dave", "2026-03-11T12:00", "2026-03-11T13:00");
    let s = with_override(s, "erin", "2026-03-29T02:30", "2026-03-29T04:00"); // starts in the gap
    check_table(
        &s,
        &[
            ("2026-03-09T22:59:59Z", Some("b")),
            ("2026-03-09T23:00:00Z", Some("carol")),
            ("2026-03-11T11:00:00Z", Some("dave")),
            ("2026-03-11T12:00:00Z", Some("carol")),
            ("2026-03-11T23:00:00Z", Some("b")),
            ("2026-03-29T01:29:59Z", Some("b")),
            ("2026-03-29T01:30:00Z", Some("erin")), // 03:30 CEST
            ("2026-03-29T01:59:59Z", Some("erin")),
            ("2026-03-29T02:00:00Z", Some("b")), // 04:00 CEST, exclusive
        ],
    );
}

#[test]
fn who_lists_each_step() {
    let cfg = Cfg::new()
        .mailer("a")
        .schedule("primary", rotation("UTC", &["a"], "1d", "2027-01-01T00:00"))
        .policy(
            "p",
            0,
            None,
            &[
                (&["schedule:primary"], "5m"),
                (&["person:a", "notifier:ops-chat"], "10m"),
            ],
        )
        .build();
    let steps = who(&cfg, "p", ts("2026-06-01T00:00:00Z")).unwrap();
    assert_eq!(steps.len(), 2);
    assert_eq!(steps[0].targets[0].person, None, "schedule not started");
    assert!(steps[0].recipients.is_empty());
    assert_eq!(steps[1].recipients.len(), 2);
    assert_eq!(steps[1].escalate_after_secs, 600);
    assert_eq!(
        who(&cfg, "nope", ts("2026-06-01T00:00:00Z")),
        Err(WhoError::UnknownPolicy("nope".into()))
    );
}

/// Handover `k` computed independently with jiff's zoned arithmetic.
fn brute_force(s: &Schedule, at: Timestamp) -> Option<String> {
    let start = s.start.to_zoned(s.time_zone.clone()).unwrap();
    let days = (s.shift.as_secs() / 86_400) as i64;
    let mut k: i64 = -1;
    loop {
        let next = start.checked_add(Span::new().days((k + 1) * days)).unwrap();
        if next.timestamp() > at {
            break;
        }
        k += 1;
    }
    (k >= 0).then(|| s.rotation[(k as usize) % s.rotation.len()].clone())
}

proptest! {
    #[test]
    fn shift_index_matches_brute_force(
        zone in prop::sample::select(vec!["Europe/Paris", "America/New_York", "UTC", "Australia/Lord_Howe"]),
        days in 1u64..15,
        hour in 0i8..24,
        minute in prop::sample::select(vec![0i8, 30]),
        offset_mins in 0i64..(400 * 24 * 60),
    ) {
        let start = DateTime::constant(2026, 1, 1, hour, minute, 0, 0);
        let mut s = rotation(zone, &["a", "b", "c"], "1d", "2026-01-01T00:00");
        s.start = start;
        s.shift = std::time::Duration::from_secs(days * 86_400);
        let at = ts("2025-12-31T00:00:00Z") + SignedDuration::from_mins(offset_mins);
        prop_assert_eq!(on_call(&s, &BTreeMap::new(), at).map(str::to_string), brute_force(&s, at));
    }
}
