//! The schedule lint (SPEC §9), with explicit `now`: gaps in schedules and steps over the next
//! 28 days, policies reaching only console notifiers, people no policy reaches. Each warning is
//! located like an error (line:col and key).

use std::path::Path;

use jiff::Timestamp;
use oncalld::config::{self, ConfigError};

/// `line:col: key: message` of every warning for `text` as of `now`.
fn warnings(text: &str, now: &str) -> Vec<String> {
    let now: Timestamp = now.parse().unwrap();
    let (_, warnings) = match config::parse_linted(text, Path::new("lint.toml"), now) {
        Ok(loaded) => loaded,
        Err(e) => panic!("unexpected errors:\n{e}"),
    };
    warnings.iter().map(shown).collect()
}

fn shown(w: &ConfigError) -> String {
    assert!(w.line > 0 && w.column > 0, "{w}");
    format!("{}:{}: {}: {}", w.line, w.column, w.key, w.message)
}

/// Alice by webhook, the "day" schedule of working hours, a policy paging it.
const DAY: &str = r#"
[notifiers.hook]
type = "webhook"
url = "https://hooks.example.com/x"

[people.alice]
notify = [{ via = "hook" }]

[periods.work]
windows = ["mon-fri 09:00-18:00"]

[schedules.day]
time_zone = "Europe/Paris"
rotation = ["alice"]
shift = "1w"
start = "2026-11-02T09:00"
period = "work"

[policies.default]
[[policies.default.steps]]
notify = ["schedule:day"]
"#;

#[test]
fn a_period_leaves_a_gap_in_the_schedule_and_its_step() {
    // Monday 30 November 2026, 10:00 in Paris: the first gap is that evening.
    let got = warnings(DAY, "2026-11-30T09:00:00Z");
    assert_eq!(
        got,
        [
            "12:12: schedules.day: schedule \"day\" has nobody on call from 2026-11-30 18:00 to \
             2026-12-01 09:00 (Europe/Paris)",
            "20:1: policies.default.steps[0]: step 1 of policy \"default\" pages nobody from \
             2026-11-30 18:00 to 2026-12-01 09:00 (Europe/Paris) (the step is skipped then)",
        ]
    );
    // On Friday night the gap starts now and lasts the weekend.
    let got = warnings(DAY, "2026-12-04T22:00:00Z");
    assert!(
        got[0].ends_with("from now to 2026-12-07 09:00 (Europe/Paris)"),
        "{got:?}"
    );
}

#[test]
fn a_second_target_covers_the_gap_of_the_step() {
    let text = DAY.replace(
        "notify = [\"schedule:day\"]",
        "notify = [\"schedule:day\", \"person:alice\"]",
    );
    let got = warnings(&text, "2026-11-30T09:00:00Z");
    assert_eq!(got.len(), 1, "{got:?}");
    assert!(got[0].starts_with("12:12: schedules.day: "), "{got:?}");
}

/// A rotation that starts later, covered in part by an override.
const LATE: &str = r#"
[notifiers.hook]
type = "webhook"
url = "https://hooks.example.com/x"

[people.alice]
notify = [{ via = "hook" }]

[people.bob]
notify = [{ via = "hook" }]

[schedules.main]
time_zone = "UTC"
rotation = ["alice", "bob"]
shift = "1d"
start = "2026-12-10T09:00"

[[schedules.main.overrides]]
person = "bob"
from = "2026-12-01T00:00"
until = "2026-12-03T12:30"

[policies.default]
[[policies.default.steps]]
notify = ["schedule:main"]
"#;

#[test]
fn the_hole_between_an_override_and_the_first_handover_is_named() {
    let got = warnings(LATE, "2026-12-01T00:00:00Z");
    assert_eq!(got.len(), 2, "{got:?}");
    assert_eq!(
        got[0],
        "12:12: schedules.main: schedule \"main\" has nobody on call from 2026-12-03 12:30 to \
         2026-12-10 09:00 (UTC)"
    );
    // Once the rotation runs there is someone at every instant: no gap, no warning.
    assert_eq!(warnings(LATE, "2026-12-10T09:00:00Z"), Vec::<String>::new());
}

#[test]
fn a_gap_past_the_horizon_says_how_far_it_was_checked() {
    let text = LATE.replace("2026-12-10T09:00", "2027-06-01T00:00");
    let got = warnings(&text, "2026-12-01T00:00:00Z");
    assert!(
        got[0].ends_with(
            "from 2026-12-03 12:30 until at least 2026-12-29 00:00 (UTC), the end of the 28 days \
             checked"
        ),
        "{got:?}"
    );
}

#[test]
fn a_full_week_period_has_no_gap_across_a_dst_change() {
    // Paris springs forward on Sunday 28 March 2027 at 02:00.
    let text = DAY.replace("mon-fri 09:00-18:00", "daily 00:00-24:00");
    assert_eq!(
        warnings(&text, "2027-03-20T00:00:00Z"),
        Vec::<String>::new()
    );
    // A window opening at 02:30, in the hour Paris skips: it is open from the jump, 03:00.
    let text = DAY.replace("mon-fri 09:00-18:00", "daily 02:30-23:00");
    let got = warnings(&text, "2027-03-27T22:30:00Z");
    assert!(
        got[0].ends_with("from now to 2027-03-28 03:00 (Europe/Paris)"),
        "{got:?}"
    );
    // A night window that opens at 02:30, an hour Paris skips on the 28th: it opens at 03:00
    // that day, so the first gap is the ordinary one of the 29th, not one on the 28th.
    let text = DAY.replace("mon-fri 09:00-18:00", "daily 02:30-02:00");
    let got = warnings(&text, "2027-03-27T12:00:00Z");
    assert_eq!(got.len(), 2, "{got:?}");
    assert!(
        got[0].ends_with("from 2027-03-29 02:00 to 2027-03-29 02:30 (Europe/Paris)"),
        "{got:?}"
    );
}

#[test]
fn a_policy_to_console_only_is_named_per_check() {
    let text = r#"
[notifiers.log]
type = "console"

[people.alice]
notify = [{ via = "log" }]

[policies.quiet]
[[policies.quiet.steps]]
notify = ["person:alice", "notifier:log"]

[[check]]
name = "web"
type = "tcp"
address = "127.0.0.1:9"
policy = "quiet"
"#;
    assert_eq!(
        warnings(text, "2026-12-01T00:00:00Z"),
        [
            "16:10: check[0].policy: check \"web\": its policy \"quiet\" reaches only console \
          notifiers (log): its pages go to the daemon's log and wake nobody"
        ]
    );
}

#[test]
fn a_person_no_policy_reaches_is_named() {
    let text = format!(
        "{DAY}\n[people.carol]\nnotify = [{{ via = \"hook\" }}]\n\n[people.dave]\nnotify = [{{ via = \"hook\" }}]\n"
    );
    let text = text.replace("period = \"work\"\n", "");
    let text = text.replace("rotation = [\"alice\"]", "rotation = [\"alice\", \"dave\"]");
    assert_eq!(
        warnings(&text, "2026-12-01T00:00:00Z"),
        [
            "22:9: people.carol: person \"carol\" is reached by no policy: no step names them and \
          no schedule a step pages has them"
        ]
    );
}

#[test]
fn a_step_of_two_schedules_reaches_nobody_only_where_both_gaps_meet() {
    let text = DAY
        .replace(
            "[policies.default]",
            "[periods.evening]\nwindows = [\"daily 17:00-23:00\"]\n\n[schedules.late]\n\
             time_zone = \"Europe/Paris\"\nrotation = [\"alice\"]\nshift = \"1d\"\n\
             start = \"2026-11-02T17:00\"\nperiod = \"evening\"\n\n[policies.default]",
        )
        .replace(
            "notify = [\"schedule:day\"]",
            "notify = [\"schedule:day\", \"schedule:late\"]",
        );
    let got = warnings(&text, "2026-11-30T09:00:00Z");
    let step: Vec<&String> = got.iter().filter(|w| w.contains("steps[0]")).collect();
    assert_eq!(step.len(), 1, "{got:?}");
    assert!(
        step[0].contains("pages nobody from 2026-11-30 23:00 to 2026-12-01 09:00 (Europe/Paris)"),
        "{got:?}"
    );
    // The core agrees: nobody at 23:30 Paris, someone at 22:30.
    let config = config::parse(&text, Path::new("lint.toml")).unwrap();
    let step = &config.policies["default"].steps[0];
    let at = |s: &str| s.parse::<Timestamp>().unwrap();
    let recipients = oncalld::core::escalation::step_recipients;
    assert!(recipients(&config, step, at("2026-11-30T22:30:00Z")).is_empty());
    assert!(!recipients(&config, step, at("2026-11-30T21:30:00Z")).is_empty());
}

/// 50 schedules with 10 windows and 20 overrides each, 50 policies of 3 steps naming 3
/// schedules, 250 checks: the lint stays well under the 2 s the fuzz test allows a case (about
/// 0.45 s in a debug build; 200 schedules take 1.4 s).
#[test]
fn a_large_config_is_linted_quickly() {
    let mut text = String::from(
        "[notifiers.hook]\ntype = \"webhook\"\nurl = \"https://h.example.com/\"\n\n\
         [people.alice]\nnotify = [{ via = \"hook\" }]\n\n[periods.shifts]\nwindows = [",
    );
    let windows: Vec<String> = (0..10)
        .map(|h| format!("\"mon-fri {:02}:00-{:02}:30\"", 8 + h, 8 + h))
        .collect();
    text.push_str(&windows.join(", "));
    text.push_str("]\n\n");
    for s in 0..50 {
        text.push_str(&format!(
            "[schedules.s{s}]\ntime_zone = \"Europe/Paris\"\nrotation = [\"alice\"]\n\
             shift = \"1d\"\nstart = \"2026-01-01T09:00\"\nperiod = \"shifts\"\n"
        ));
        for o in 0..20 {
            text.push_str(&format!(
                "[[schedules.s{s}.overrides]]\nperson = \"alice\"\n\
                 from = \"2026-12-{:02}T01:00\"\nuntil = \"2026-12-{:02}T02:00\"\n",
                1 + o,
                1 + o
            ));
        }
    }
    for p in 0..50 {
        text.push_str(&format!("[policies.p{p}]\n"));
        for k in 0..3 {
            let (a, b, c) = ((p + k) % 50, (p + k + 1) % 50, (p + k + 2) % 50);
            text.push_str(&format!(
                "[[policies.p{p}.steps]]\nnotify = [\"schedule:s{a}\", \"schedule:s{b}\", \
                 \"schedule:s{c}\"]\n"
            ));
        }
    }
    for c in 0..250 {
        text.push_str(&format!(
            "[[check]]\nname = \"c{c}\"\ntype = \"tcp\"\naddress = \"127.0.0.1:9\"\n\
             policy = \"p{}\"\n",
            c % 50
        ));
    }
    let config = config::parse(&text, Path::new("lint.toml")).unwrap();
    let started = std::time::Instant::now();
    let got = config::lint::lint(&config, "2026-11-30T09:00:00Z".parse().unwrap());
    let took = started.elapsed();
    assert_eq!(
        got.len(),
        50 + 150,
        "every schedule and every step has gaps"
    );
    eprintln!("{} bytes linted in {took:?}", text.len());
    assert!(took < std::time::Duration::from_secs(2), "{took:?}");
}

/// The lint's first gap is the one a brute-force walk finds, asking the core who is on call
/// every quarter of an hour for 28 days (every edge here falls on a quarter hour, as do the
/// zones' offset changes, Lord Howe's half-hour one included).
mod against_brute_force {
    use super::*;
    use jiff::SignedDuration;
    use oncalld::core::oncall::on_call;
    use proptest::prelude::*;

    const ZONES: [&str; 4] = [
        "UTC",
        "Europe/Paris",
        "America/New_York",
        "Australia/Lord_Howe",
    ];
    const DAYS: [&str; 5] = ["daily", "mon-fri", "sat,sun", "fri", "tue-thu"];
    const SHIFTS: [&str; 4] = ["15m", "12h", "1d", "1w"];

    /// Quarter hours from 2026-09-01T00:00 local, as `YYYY-MM-DDTHH:MM`.
    fn local(quarters: i64) -> String {
        let start = jiff::civil::date(2026, 9, 1).at(0, 0, 0, 0);
        let dt = start
            .checked_add(SignedDuration::from_mins(15 * quarters))
            .unwrap();
        dt.strftime("%Y-%m-%dT%H:%M").to_string()
    }

    fn hhmm(quarters: u32) -> String {
        format!("{:02}:{:02}", quarters / 4, 15 * (quarters % 4))
    }

    prop_compose! {
        fn schedule_text()(
            zone in 0..ZONES.len(),
            shift in 0..SHIFTS.len(),
            start in 0i64..30_000,
            windows in prop::collection::vec((0..DAYS.len(), 0u32..96, 1u32..97), 0..3),
            overrides in prop::collection::vec((0i64..30_000, 1i64..500), 0..3),
        ) -> String {
            let mut text = String::from(
                "[notifiers.hook]\ntype = \"webhook\"\nurl = \"https://h.example.com/\"\n\n\
                 [people.alice]\nnotify = [{ via = \"hook\" }]\n\n"
            );
            if !windows.is_empty() {
                let list: Vec<String> = windows
                    .iter()
                    .map(|(d, from, to)| format!("\"{} {}-{}\"", DAYS[*d], hhmm(*from), hhmm(*to)))
                    .collect();
                text.push_str(&format!("[periods.p]\nwindows = [{}]\n\n", list.join(", ")));
            }
            text.push_str(&format!(
                "[schedules.s]\ntime_zone = \"{}\"\nrotation = [\"alice\"]\nshift = \"{}\"\n\
                 start = \"{}\"\n",
                ZONES[zone], SHIFTS[shift], local(start)
            ));
            if !windows.is_empty() {
                text.push_str("period = \"p\"\n");
            }
            for (from, len) in overrides {
                text.push_str(&format!(
                    "[[schedules.s.overrides]]\nperson = \"alice\"\nfrom = \"{}\"\nuntil = \"{}\"\n",
                    local(from),
                    local(from + len)
                ));
            }
            text
        }
    }

    /// `2026-12-05 18:00` in the schedule's zone.
    fn shown(t: Timestamp, tz: &jiff::tz::TimeZone) -> String {
        tz.to_datetime(t).strftime("%Y-%m-%d %H:%M").to_string()
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 150, failure_persistence: None, ..ProptestConfig::default() })]

        #[test]
        fn the_first_gap_matches_a_quarter_hour_walk(text in schedule_text(), now in 0i64..24_000) {
            // `now` on a quarter hour, September 2026 to April 2027 (both DST changes).
            let now = Timestamp::from_second(1_788_220_800 + 900 * now).unwrap();
            let config = config::parse(&text, Path::new("lint.toml")).unwrap();
            let schedule = &config.schedules["s"];
            let tz = &schedule.time_zone;
            let nobody = |t: Timestamp| on_call(schedule, &config.periods, t).is_none();
            let times: Vec<Timestamp> = (0..28 * 96)
                .map(|q| now + SignedDuration::from_mins(15 * q))
                .collect();
            let expected = times.iter().position(|t| nobody(*t)).map(|i| {
                let from = if i == 0 { "now".to_string() } else { shown(times[i], tz) };
                let zone = tz.iana_name().unwrap();
                match times[i..].iter().find(|t| !nobody(**t)) {
                    Some(until) => format!("from {from} to {} ({zone})", shown(*until, tz)),
                    None => format!("from {from} until at least"),
                }
            });
            let findings = config::lint::lint(&config, now);
            let got = findings
                .iter()
                .find(|f| f.key() == "schedules.s")
                .map(|f| f.message.clone());
            match (expected, got) {
                (None, None) => {}
                (Some(e), Some(g)) => prop_assert!(g.contains(&e), "{g}\nexpected: {e}\n{text}"),
                (e, g) => prop_assert!(false, "expected {e:?}, got {g:?}\n{text}"),
            }
        }
    }
}
