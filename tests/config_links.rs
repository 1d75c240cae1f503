//! `[daemon] public_url` and `handoff_notice` (SPEC §13): values, defaults, and errors with
//! file:line:col and key.

use std::path::Path;

use oncalld::config::{self, Config};

fn parse(text: &str) -> Result<Config, String> {
    config::parse(text, Path::new("/etc/oncalld/checks.toml")).map_err(|e| e.to_string())
}

const SCHEDULE: &str = r#"
[people.alice]
notify = [{ via = "log" }]
[notifiers.log]
type = "console"
[schedules.primary]
rotation = ["alice"]
shift = "1w"
start = "2026-01-05T09:00"
"#;

#[test]
fn public_url_is_kept_without_its_trailing_slash_and_defaults_to_none() {
    assert_eq!(parse("").unwrap().daemon.public_url, None);
    let c = parse("[daemon]\npublic_url = \"https://oncall.example.com/\"\n").unwrap();
    assert_eq!(
        c.daemon.public_url.as_deref(),
        Some("https://oncall.example.com")
    );
    let c = parse("[daemon]\npublic_url = \"https://example.com/oncall\"\n").unwrap();
    assert_eq!(
        c.daemon.public_url.as_deref(),
        Some("https://example.com/oncall")
    );
}

#[test]
fn a_bad_public_url_is_refused_where_it_is_written() {
    for (value, want) in [
        ("ftp://x.example", "must start with http:// or https://"),
        (
            "https://x.example/?a=1",
            "must not have a query or fragment",
        ),
        (
            "https://u:secret@x.example",
            "must not carry a user or password",
        ),
        ("", "must not be empty"),
    ] {
        let err = parse(&format!("[daemon]\npublic_url = \"{value}\"\n")).unwrap_err();
        assert!(
            err.contains("/etc/oncalld/checks.toml:2:14: daemon.public_url: "),
            "{err}"
        );
        assert!(err.contains(want), "{value}: {err}");
        assert!(!err.contains("secret"), "{err}");
    }
}

#[test]
fn handoff_notice_is_a_boolean_off_by_default() {
    let c = parse(SCHEDULE).unwrap();
    assert!(!c.schedules["primary"].handoff_notice);
    let c = parse(&format!("{SCHEDULE}handoff_notice = true\n")).unwrap();
    assert!(c.schedules["primary"].handoff_notice);
    let err = parse(&format!("{SCHEDULE}handoff_notice = \"yes\"\n")).unwrap_err();
    assert!(err.contains("schedules.primary.handoff_notice"), "{err}");
}
