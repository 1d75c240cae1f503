//! `type = "heartbeat"` checks: keys, defaults, ranges and errors with their positions.

use std::path::Path;
use std::time::Duration;

use oncalld::config::{self, Expect, ProbeConfig};

const HEAD: &str = r#"
[notifiers.console]
type = "console"
[policies.default]
steps = [{ notify = ["notifier:console"] }]
"#;

fn parse(checks: &str) -> Result<config::Config, String> {
    let text = format!("{HEAD}{checks}");
    config::parse(&text, Path::new("/etc/oncalld/checks.toml")).map_err(|e| e.to_string())
}

#[test]
fn period_cron_and_default_grace() {
    let c = parse(
        r#"
[[check]]
name = "backup"
type = "heartbeat"
token = "b9f0c6d2a1e84c57"
period = "1d"
grace = "1h"

[[check]]
name = "certs"
type = "heartbeat"
token = "abc_DEF-0123456789"
cron = "30 3 * * *"
"#,
    )
    .expect("valid");
    let ProbeConfig::Heartbeat(b) = &c.checks[0].probe else {
        panic!("heartbeat expected")
    };
    assert_eq!(b.expect, Expect::Period(Duration::from_secs(86_400)));
    assert_eq!(b.grace, Duration::from_secs(3600));
    let ProbeConfig::Heartbeat(certs) = &c.checks[1].probe else {
        panic!("heartbeat expected")
    };
    assert!(matches!(&certs.expect, Expect::Cron(e) if e.as_str() == "30 3 * * *"));
    assert_eq!(certs.grace, Duration::from_secs(300), "default grace 5m");
    // The token is shown nowhere: not in the target, not in Debug.
    for shown in [c.checks[0].probe.target(), format!("{:?}", c.checks[0])] {
        assert!(!shown.contains("b9f0c6d2a1e84c57"), "{shown}");
    }
    assert_eq!(c.checks[1].probe.target(), "cron \"30 3 * * *\" (grace 5m)");
}

#[test]
fn errors_are_located() {
    let cases = [
        // (check body, expected piece of the error)
        (
            "token = \"short\"\nperiod = \"1d\"",
            "check[0].token: token must be 16 to 128",
        ),
        (
            "token = \"b9f0c6d2a1e84c5/\"\nperiod = \"1d\"",
            "may only use",
        ),
        ("token = \"b9f0c6d2a1e84c57\"", "needs `period`"),
        (
            "token = \"b9f0c6d2a1e84c57\"\nperiod = \"1d\"\ncron = \"* * * * *\"",
            "not both",
        ),
        (
            "token = \"b9f0c6d2a1e84c57\"\ncron = \"30 3 * *\"",
            "expected 5 fields",
        ),
        (
            "token = \"b9f0c6d2a1e84c57\"\ncron = \"0 0 31 2 *\"",
            "never matches",
        ),
        (
            "token = \"b9f0c6d2a1e84c57\"\nperiod = \"367d\"",
            "check[0].period",
        ),
        (
            "token = \"b9f0c6d2a1e84c57\"\nperiod = \"500ms\"",
            "check[0].period",
        ),
        (
            "token = \"b9f0c6d2a1e84c57\"\nperiod = \"1d\"\ngrace = \"8d\"",
            "check[0].grace",
        ),
    ];
    for (body, want) in cases {
        let text = format!("[[check]]\nname = \"hb\"\ntype = \"heartbeat\"\n{body}\n");
        let err = parse(&text).expect_err(body);
        assert!(err.contains(want), "{body:?}: {err}");
        assert!(err.contains("checks.toml:"), "located: {err}");
        assert!(!err.contains("b9f0c6d2a1e84c5"), "token quoted: {err}");
    }
}

#[test]
fn tokens_are_unique_across_checks() {
    let err = parse(
        r#"
[[check]]
name = "a"
type = "heartbeat"
token = "b9f0c6d2a1e84c57"
period = "1d"

[[check]]
name = "b"
type = "heartbeat"
token = "b9f0c6d2a1e84c57"
period = "1h"
"#,
    )
    .expect_err("duplicate token");
    assert!(err.contains("check[1].token"), "{err}");
    assert!(err.contains("already used by check[0]"), "{err}");
}
