//! `[notifiers.NAME] type = "pagerduty"` and `[daemon] instance`: defaults, errors with
//! file:line:col, and the routing key kept out of every error and `Debug`.

use std::path::Path;
use std::time::Duration;

use oncalld::config::{self, Config, NotifierConfig, PAGERDUTY_URL};

const KEY: &str = "R0UT1NGK3Ys3cr3t0123456789abcdef";

fn parse(text: &str) -> Result<Config, String> {
    config::parse(text, Path::new("/etc/oncalld/checks.toml")).map_err(|e| e.to_string())
}

fn pd(config: &Config, name: &str) -> config::PagerDutyNotifier {
    match config.notifiers.get(name) {
        Some(NotifierConfig::PagerDuty(p)) => p.clone(),
        other => panic!("{name}: {other:?}"),
    }
}

#[test]
fn defaults_and_every_key() {
    let c = parse(&format!(
        r#"
[daemon]
instance = "web-1.example.com"

[notifiers.pd]
type = "pagerduty"
routing_key = "{KEY}"

[notifiers.pd_eu]
type = "pagerduty"
routing_key = "{KEY}"
url = "https://events.eu.pagerduty.com/v2/enqueue"
severity = "warning"
timeout = "3s"

[people.alice]
notify = [{{ via = "pd" }}, {{ via = "pd_eu", to = "ignored" }}]
"#
    ))
    .unwrap();
    assert_eq!(c.daemon.instance, "web-1.example.com");
    let p = pd(&c, "pd");
    assert_eq!(
        (p.routing_key.as_str(), p.url.as_str(), p.severity.as_str()),
        (KEY, PAGERDUTY_URL, "critical")
    );
    assert_eq!(p.timeout, Duration::from_secs(10));
    let eu = pd(&c, "pd_eu");
    assert_eq!(eu.url, "https://events.eu.pagerduty.com/v2/enqueue");
    assert_eq!(eu.severity, "warning");
    assert_eq!(eu.timeout, Duration::from_secs(3));
    let shown = format!("{c:?}");
    assert!(!shown.contains(KEY), "Debug shows the routing key");
    assert!(shown.contains("routing_key: \"***\""), "{shown}");
}

#[test]
fn instance_defaults_to_the_host_name() {
    let host = nix::unistd::gethostname().unwrap().into_string().unwrap();
    assert_eq!(parse("").unwrap().daemon.instance, host);
    assert_eq!(parse("[daemon]\n").unwrap().daemon.instance, host);
}

#[test]
fn errors_say_where_and_never_quote_the_key() {
    let text = format!(
        r#"[daemon]
instance = ""

[notifiers.a]
type = "pagerduty"

[notifiers.b]
type = "pagerduty"
routing_key = "{KEY} x"
severity = "fatal"
url = "ftp://example.com/"
rate = 3
"#
    );
    let err = parse(&text).unwrap_err();
    let want = [
        "/etc/oncalld/checks.toml:2:12: daemon.instance: instance must not be empty",
        "notifiers.a.routing_key: missing required key",
        "/etc/oncalld/checks.toml:9:15: notifiers.b.routing_key: routing_key must be printable \
         ASCII without spaces",
        "/etc/oncalld/checks.toml:10:12: notifiers.b.severity: unknown severity \"fatal\" \
         (expected one of: critical, error, warning, info)",
        "/etc/oncalld/checks.toml:11:7: notifiers.b.url: URL \"ftp://example.com/\" must start \
         with http:// or https://",
        "notifiers.b.rate",
    ];
    for w in want {
        assert!(err.contains(w), "missing {w:?} in:\n{err}");
    }
    assert!(!err.contains("R0UT1NG"), "{err}");
}

#[test]
fn a_long_or_multi_line_instance_is_refused() {
    let long = format!("[daemon]\ninstance = \"{}\"\n", "h".repeat(201));
    let err = parse(&long).unwrap_err();
    assert!(err.contains("longer than 200 characters"), "{err}");
    let err = parse("[daemon]\ninstance = \"a\\nb\"\n").unwrap_err();
    assert!(err.contains("control characters"), "{err}");
    let ok = format!("[daemon]\ninstance = \"{}\"\n", "h".repeat(200));
    assert!(parse(&ok).is_ok());
}
