//! Handoff notices (SPEC §13) decided by the engine with explicit times: the Europe/Paris DST
//! weekends of 2026 (weekly 09:00 handovers and a daily 02:30 one that falls in the gap), an
//! override in the middle of a shift, and a shift an override covers whole.

mod engine_support;

use engine_support::*;
use jiff::Timestamp;
use oncalld::config::Schedule;
use oncalld::core::engine::{Action, Input};
use oncalld::core::model::PageEvent;

/// Every handoff page between `from` and `until`: (instant decided, recipient, text).
fn notices(s: Schedule, from: &str, until: &str) -> Vec<(String, String, String)> {
    let mut s = s;
    s.handoff_notice = true;
    let config = Cfg::new()
        .mailer("a")
        .mailer("b")
        .mailer("c")
        .mailer("carol")
        .schedule("primary", s)
        .build();
    let mut sim = Sim::new(config);
    sim.at(ts(from), Input::Tick);
    sim.run_until(ts(until));
    sim.log
        .iter()
        .filter_map(|(at, a)| match a {
            Action::Page(p) if p.event == PageEvent::Handoff => {
                Some((at.to_string(), p.recipient.clone(), p.text.clone()))
            }
            _ => None,
        })
        .collect()
}

fn row(at: &str, who: &str, text: &str) -> (String, String, String) {
    (at.to_string(), who.to_string(), text.to_string())
}

#[test]
fn weekly_0900_handovers_across_the_spring_forward_weekend() {
    let s = rotation("Europe/Paris", &["a", "b", "c"], "7d", "2026-03-23T09:00");
    let text = "ON CALL primary from Mon 09:00 until Mon 09:00 (Europe/Paris)";
    assert_eq!(
        notices(s, "2026-03-20T00:00:00Z", "2026-04-07T00:00:00Z"),
        vec![
            row("2026-03-23T08:00:00Z", "a", text), // 09:00 CET
            row("2026-03-30T07:00:00Z", "b", text), // 09:00 CEST, after 29 March
            row("2026-04-06T07:00:00Z", "c", text),
        ]
    );
}

#[test]
fn weekly_0900_handovers_across_the_fall_back_weekend() {
    let s = rotation("Europe/Paris", &["a", "b"], "7d", "2026-10-19T09:00");
    let text = "ON CALL primary from Mon 09:00 until Mon 09:00 (Europe/Paris)";
    // The engine starts after the first handover (07:00Z): that one is not announced late.
    assert_eq!(
        notices(s, "2026-10-19T07:30:00Z", "2026-11-03T00:00:00Z"),
        vec![
            row("2026-10-26T08:00:00Z", "b", text), // 09:00 CET, after 25 October
            row("2026-11-02T08:00:00Z", "a", text),
        ]
    );
}

#[test]
fn a_daily_handover_in_the_spring_gap_moves_to_0330_and_is_announced_once() {
    let s = rotation("Europe/Paris", &["a", "b"], "1d", "2026-03-27T02:30");
    let got = notices(s, "2026-03-27T00:00:00Z", "2026-03-31T00:00:00Z");
    let at: Vec<&str> = got.iter().map(|r| r.0.as_str()).collect();
    assert_eq!(
        at,
        [
            "2026-03-27T01:30:00Z",
            "2026-03-28T01:30:00Z",
            "2026-03-29T01:30:00Z", // 02:30 does not exist: 03:30 CEST
            "2026-03-30T00:30:00Z", // 02:30 CEST
        ]
    );
    assert_eq!(
        got[2].2,
        "ON CALL primary from Sun 03:30 until Mon 02:30 (Europe/Paris)"
    );
    let every_day: Vec<&str> = got.iter().map(|r| r.1.as_str()).collect();
    assert_eq!(every_day, ["a", "b", "a", "b"]);
}

#[test]
fn an_override_mid_shift_announces_its_person_then_the_rotation_again() {
    let s = rotation("Europe/Paris", &["a", "b"], "7d", "2026-06-01T09:00");
    let s = with_override(s, "carol", "2026-06-03T12:00", "2026-06-04T12:00");
    assert_eq!(
        notices(s, "2026-05-31T00:00:00Z", "2026-06-09T00:00:00Z"),
        vec![
            row(
                "2026-06-01T07:00:00Z",
                "a",
                "ON CALL primary from Mon 09:00 until Wed 12:00 (Europe/Paris)"
            ),
            row(
                "2026-06-03T10:00:00Z",
                "carol",
                "ON CALL primary from Wed 12:00 until Thu 12:00 (Europe/Paris)"
            ),
            row(
                "2026-06-04T10:00:00Z",
                "a",
                "ON CALL primary from Thu 12:00 until Mon 09:00 (Europe/Paris)"
            ),
            row(
                "2026-06-08T07:00:00Z",
                "b",
                "ON CALL primary from Mon 09:00 until Mon 09:00 (Europe/Paris)"
            ),
        ]
    );
}

#[test]
fn a_shift_an_override_covers_whole_announces_only_the_override() {
    let s = rotation("Europe/Paris", &["a", "b"], "7d", "2026-06-01T09:00");
    let s = with_override(s, "carol", "2026-06-08T09:00", "2026-06-15T09:00");
    let got = notices(s, "2026-06-02T00:00:00Z", "2026-06-16T00:00:00Z");
    let who: Vec<(&str, &str)> = got.iter().map(|r| (r.0.as_str(), r.1.as_str())).collect();
    assert_eq!(
        who,
        [
            ("2026-06-08T07:00:00Z", "carol"),
            ("2026-06-15T07:00:00Z", "a")
        ],
        "b's shift is wholly carol's: b gets no notice"
    );
}

#[test]
fn each_contact_method_is_paged_with_a_stable_key_and_no_notice_without_the_flag() {
    let mut s = rotation("UTC", &["alice"], "1d", "2026-06-01T09:00");
    s.handoff_notice = true;
    let config = Cfg::new()
        .person(
            "alice",
            &[
                ("mail", "alice@example.com"),
                ("sms", "+33600000000"),
                ("mail", "alice@home.example"),
            ],
        )
        .schedule("primary", s.clone())
        .build();
    let mut sim = Sim::new(config);
    sim.at(ts("2026-06-01T00:00:00Z"), Input::Tick);
    sim.run_until(ts("2026-06-03T00:00:00Z"));
    let keys: Vec<String> = sim
        .log
        .iter()
        .filter_map(|(_, a)| match a {
            Action::Page(p) => Some(p.key.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(
        keys,
        [
            "oncalld:handoff:primary:2026-06-01T09:00:00Z:alice:mail",
            "oncalld:handoff:primary:2026-06-01T09:00:00Z:alice:sms",
            "oncalld:handoff:primary:2026-06-01T09:00:00Z:alice:mail:2",
        ],
        "a one-person rotation hands over once"
    );
    s.handoff_notice = false;
    let config = Cfg::new().mailer("alice").schedule("primary", s).build();
    let mut sim = Sim::new(config);
    sim.at(ts("2026-06-01T00:00:00Z"), Input::Tick);
    assert_eq!(sim.engine.next_deadline(), None::<Timestamp>);
}
