//! Scenario tables for [`super::Heartbeat`]: each row is an event at an explicit time and the
//! state expected after it.

use super::*;

fn at(s: &str) -> Timestamp {
    s.parse().expect("valid timestamp")
}

fn paris() -> TimeZone {
    TimeZone::get("Europe/Paris").expect("tzdb has Europe/Paris")
}

fn period(secs: u64, grace: u64) -> Rule {
    Rule {
        expect: Expect::Period(Duration::from_secs(secs)),
        grace: Duration::from_secs(grace),
        zone: TimeZone::UTC,
    }
}

fn cron(expr: &str, grace: u64) -> Rule {
    Rule {
        expect: Expect::Cron(CronExpr::parse(expr).expect("valid cron")),
        grace: Duration::from_secs(grace),
        zone: paris(),
    }
}

#[derive(Clone, Copy)]
enum Ev {
    Ping(PingKind),
    Tick,
}

const TICK: Ev = Ev::Tick;
const OK: Ev = Ev::Ping(PingKind::Success);
const START: Ev = Ev::Ping(PingKind::Start);
const LOG: Ev = Ev::Ping(PingKind::Log);
const FAIL: Ev = Ev::Ping(PingKind::Fail { exit_code: None });
const EXIT2: Ev = Ev::Ping(PingKind::Fail { exit_code: Some(2) });

/// Run `rows` (time, event, state after) from a check created at `t0`; every change is
/// returned with its time for the caller to inspect.
fn run(rule: &Rule, t0: &str, rows: &[(&str, Ev, HbState)]) -> Vec<(Timestamp, Change)> {
    let mut hb = Heartbeat::new(at(t0));
    let mut changes = Vec::new();
    for (i, (t, ev, want)) in rows.iter().enumerate() {
        let now = at(t);
        let change = match ev {
            Ev::Ping(kind) => hb.ping(*kind, "msg", now),
            Ev::Tick => hb.tick(rule, now),
        };
        if let Some(c) = change {
            assert_ne!(c.from(), hb.state, "row {i}: a change changes the state");
            changes.push((now, c));
        }
        assert_eq!(hb.state, *want, "row {i} at {t}");
        if let Some(d) = hb.next_deadline(rule) {
            assert!(d > now, "row {i}: a deadline due now was not applied");
        }
    }
    changes
}

#[test]
fn period_success_keeps_up_and_a_missed_ping_is_late() {
    let rule = period(3600, 300);
    use HbState::*;
    let changes = run(
        &rule,
        "2026-12-01T00:00:00Z",
        &[
            ("2026-12-01T00:00:00Z", TICK, New),
            // NEW never pages, however long it waits.
            ("2026-12-20T00:00:00Z", TICK, New),
            ("2026-12-20T00:00:00Z", OK, Up),
            ("2026-12-20T01:00:00Z", OK, Up),
            ("2026-12-20T02:04:59Z", TICK, Up),
            ("2026-12-20T02:05:00Z", TICK, Down),
            ("2026-12-20T02:06:00Z", LOG, Down),
            ("2026-12-20T02:07:00Z", OK, Up),
        ],
    );
    assert_eq!(changes.len(), 3);
    let Change::Late { message, .. } = &changes[1].1 else {
        panic!("late expected: {changes:?}");
    };
    assert_eq!(
        message,
        "no ping since 2026-12-20 01:00 (1h 5m ago); expected every 1h"
    );
}

#[test]
fn failures_are_down_at_once_and_start_needs_a_finish() {
    let rule = period(86_400, 3600);
    use HbState::*;
    run(
        &rule,
        "2026-12-01T00:00:00Z",
        &[
            ("2026-12-01T00:00:00Z", FAIL, Down),
            ("2026-12-01T00:01:00Z", OK, Up),
            ("2026-12-01T00:02:00Z", EXIT2, Down),
            ("2026-12-01T00:03:00Z", OK, Up),
            ("2026-12-01T01:00:00Z", START, Up),
            ("2026-12-01T01:59:59Z", TICK, Up),
            ("2026-12-01T02:00:00Z", TICK, Down),
            // A start followed by its success within grace stays UP.
            ("2026-12-01T03:00:00Z", OK, Up),
            ("2026-12-01T04:00:00Z", START, Up),
            ("2026-12-01T04:30:00Z", OK, Up),
            ("2026-12-01T06:00:00Z", TICK, Up),
        ],
    );
}

#[test]
fn a_start_on_a_new_check_must_finish() {
    let rule = period(86_400, 60);
    use HbState::*;
    run(
        &rule,
        "2026-12-01T00:00:00Z",
        &[
            ("2026-12-01T00:00:00Z", LOG, New),
            ("2026-12-01T00:10:00Z", START, New),
            ("2026-12-01T00:11:00Z", TICK, Down),
        ],
    );
}

#[test]
fn after_a_restart_nothing_is_late_before_grace() {
    let rule = period(3600, 600);
    // Last success long before the restart at 12:00: late only at 12:10.
    let mut hb = Heartbeat::new(at("2026-12-01T12:00:00Z"));
    hb.state = HbState::Up;
    hb.last_success = Some(at("2026-12-01T06:00:00Z"));
    assert_eq!(hb.next_deadline(&rule), Some(at("2026-12-01T12:10:00Z")));
    assert_eq!(hb.tick(&rule, at("2026-12-01T12:09:59Z")), None);
    assert!(matches!(
        hb.tick(&rule, at("2026-12-01T12:10:00Z")),
        Some(Change::Late { .. })
    ));
}

#[test]
fn cron_expectations_across_the_2026_paris_dst_days() {
    // A nightly job at 03:30 local, an hour of grace. Times in UTC: 03:30 CET = 02:30Z,
    // 03:30 CEST = 01:30Z.
    let rule = cron("30 3 * * *", 3600);
    use HbState::*;
    let rows = [
        // Spring forward (2026-03-29): the job ran 03:31 CET on the 28th; next expected
        // 03:30 CEST on the 29th (01:30Z), late from 02:30Z.
        ("2026-03-28T02:31:00Z", OK, Up),
        ("2026-03-29T01:29:00Z", TICK, Up),
        // It ran at 03:31 CEST (01:31Z); next expected 2026-03-30 01:30Z, late from 02:30Z.
        ("2026-03-29T01:31:00Z", OK, Up),
        ("2026-03-30T02:29:59Z", TICK, Up),
        ("2026-03-30T02:30:00Z", TICK, Down),
    ];
    run(&rule, "2026-03-28T00:00:00Z", &rows);
    let mut hb = Heartbeat::new(at("2026-03-28T00:00:00Z"));
    hb.ping(PingKind::Success, "", at("2026-03-28T02:31:00Z"));
    assert_eq!(hb.expected_next(&rule), Some(at("2026-03-29T01:30:00Z")));
    assert_eq!(hb.next_deadline(&rule), Some(at("2026-03-29T02:30:00Z")));
    // Fall back (2026-10-25): 03:30 CET is 02:30Z, late from 03:30Z.
    let mut hb = Heartbeat::new(at("2026-10-24T00:00:00Z"));
    hb.ping(PingKind::Success, "", at("2026-10-24T01:31:00Z"));
    assert_eq!(hb.expected_next(&rule), Some(at("2026-10-25T02:30:00Z")));
    assert_eq!(hb.next_deadline(&rule), Some(at("2026-10-25T03:30:00Z")));
    assert_eq!(hb.tick(&rule, at("2026-10-25T03:29:59Z")), None);
    let Some(Change::Late { message, .. }) = hb.tick(&rule, at("2026-10-25T03:30:00Z")) else {
        panic!("late expected");
    };
    // Shown in local time (CEST at the time of the ping).
    assert_eq!(
        message,
        "no ping since 2026-10-24 03:31 (1d 1h 59m ago); expected at \"30 3 * * *\""
    );
}

#[test]
fn deadlines_fire_earliest_first_and_move_with_the_check() {
    let t = |s: u64| at("2026-12-01T00:00:00Z") + Duration::from_secs(s);
    let mut d: Deadlines<&str> = Deadlines::default();
    d.set("a", None, Some(t(30)));
    d.set("b", None, Some(t(10)));
    d.set("c", None, Some(t(20)));
    d.set("d", None, None);
    assert_eq!(d.len(), 3);
    assert_eq!(d.first(), Some(t(10)));
    // A ping moves b later; c is removed (DOWN: no deadline); nothing is due before 10 s.
    d.set("b", Some(t(10)), Some(t(40)));
    d.set("c", Some(t(20)), None);
    d.set("a", Some(t(30)), Some(t(30)));
    assert_eq!(d.len(), 2);
    assert_eq!(d.pop_due(t(29)), None);
    assert_eq!(d.pop_due(t(100)), Some((t(30), "a")));
    assert_eq!(d.pop_due(t(100)), Some((t(40), "b")));
    assert_eq!(d.pop_due(t(100)), None);
    assert!(d.is_empty());
    // Same instant, several checks: each fires once.
    for k in ["x", "y", "z"] {
        d.set(k, None, Some(t(5)));
    }
    let fired: Vec<_> = std::iter::from_fn(|| d.pop_due(t(5)))
        .map(|(_, k)| k)
        .collect();
    assert_eq!(fired, ["x", "y", "z"]);
}

/// A routine ping changes nothing but the last ping (and, for a success, the last success):
/// the state and the run in progress stay as they were, and the core reports no change.
#[test]
fn routine_pings_change_nothing_but_the_last_ping() {
    let rule = period(60, 30);
    let t0 = at("2026-12-02T10:00:00Z");
    let kinds = [
        PingKind::Success,
        PingKind::Start,
        PingKind::Log,
        PingKind::Fail { exit_code: None },
        PingKind::Fail { exit_code: Some(3) },
    ];
    // Every state a check can be in: NEW, UP, UP with a run started, DOWN, NEW with a run.
    let mut states = Vec::new();
    let new = Heartbeat::new(t0);
    states.push(new.clone());
    let mut up = new.clone();
    up.ping(PingKind::Success, "", t0);
    states.push(up.clone());
    let mut running = up.clone();
    running.ping(PingKind::Start, "", t0 + Duration::from_secs(1));
    states.push(running);
    let mut down = up.clone();
    down.ping(
        PingKind::Fail { exit_code: None },
        "",
        t0 + Duration::from_secs(1),
    );
    states.push(down);
    let mut new_running = new.clone();
    new_running.ping(PingKind::Start, "", t0);
    states.push(new_running);
    let later = t0 + Duration::from_secs(20);
    for before in &states {
        for kind in kinds {
            let mut after = before.clone();
            let change = after.ping(kind, "m", later);
            let only_last_ping = change.is_none()
                && after.state == before.state
                && after.started == before.started
                && (after.last_success == before.last_success
                    || (kind == PingKind::Success && before.state == HbState::Up));
            // Sound: a routine ping never changes what a restart resumes from. (Not every
            // such ping is routine: a repeated /fail on a DOWN check is saved first, as any
            // failure.)
            assert!(
                !before.is_routine(kind) || only_last_ping,
                "{kind:?} on {before:?}"
            );
            if before.is_routine(kind) {
                assert_eq!(after.last_ping.as_ref().map(|p| p.at), Some(later));
                // Late detection sees the routine ping at once: the deadline moves with it.
                if kind == PingKind::Success {
                    assert_eq!(
                        after.next_deadline(&rule),
                        Some(later + Duration::from_secs(90))
                    );
                }
            }
        }
    }
    assert!(states[1].is_routine(PingKind::Success));
    assert!(
        !states[0].is_routine(PingKind::Success),
        "NEW -> UP is saved first"
    );
    assert!(
        !states[2].is_routine(PingKind::Success),
        "it finishes a run"
    );
    assert!(
        !states[3].is_routine(PingKind::Success),
        "DOWN -> UP resolves"
    );
    assert!(states[3].is_routine(PingKind::Log));
    assert!(states.iter().all(|s| s.is_routine(PingKind::Log)));
    for s in &states {
        assert!(!s.is_routine(PingKind::Start));
        assert!(!s.is_routine(PingKind::Fail { exit_code: None }));
        assert!(!s.is_routine(PingKind::Fail { exit_code: Some(3) }));
    }
}
