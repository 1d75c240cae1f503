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
