//! The daemon logs the schedule lint's warnings (warn level, with file:line:col) at start and
//! at each reload, and runs anyway.

mod daemon_support;

use std::time::Duration;

use daemon_support::Daemon;

/// A policy paging alice by webhook; `extra` is a person no policy reaches.
fn config(extra: &str) -> String {
    format!(
        r#"
[notifiers.hook]
type = "webhook"
url = "http://127.0.0.1:9/hook"

[people.alice]
notify = [{{ via = "hook" }}]

[people.{extra}]
notify = [{{ via = "hook" }}]

[policies.default]
[[policies.default.steps]]
notify = ["person:alice"]
"#
    )
}

fn warning_lines(d: &Daemon, person: &str) -> Vec<String> {
    let needle = format!("people.{person}: person \"{person}\" is reached by no policy");
    d.log_text()
        .lines()
        .filter(|l| l.contains(&needle))
        .map(str::to_string)
        .collect()
}

#[test]
fn warnings_are_logged_at_start_and_at_reload() {
    let d = Daemon::start(&config("carol"));
    let lines = warning_lines(&d, "carol");
    assert_eq!(lines.len(), 1, "{}", d.log_text());
    assert!(lines[0].contains("WARN"), "{}", lines[0]);
    // The harness puts 5 lines of [daemon] first: carol's table is on line 14.
    let at = format!("{}:14:9: people.carol", d.config.display());
    assert!(lines[0].contains(&at), "{}\nexpected {at}", lines[0]);

    d.rewrite_config(&config("dave"));
    let text = d.ok(&["reload"]);
    assert!(text.starts_with("Reloaded"), "{text}");
    let lines = d.wait_for("dave's warning", Duration::from_secs(5), || {
        let lines = warning_lines(&d, "dave");
        (!lines.is_empty()).then_some(lines)
    });
    assert!(lines[0].contains("WARN"), "{}", lines[0]);
    assert_eq!(
        warning_lines(&d, "carol").len(),
        1,
        "carol's is not repeated"
    );
}
