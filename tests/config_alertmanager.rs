//! `[notifiers.NAME] type = "alertmanager"`: defaults, every key, and errors with
//! file:line:col.

use std::path::Path;
use std::time::Duration;

use oncalld::config::{self, AlertmanagerNotifier, Config, NotifierConfig};

fn parse(text: &str) -> Result<Config, String> {
    config::parse(text, Path::new("/etc/oncalld/checks.toml")).map_err(|e| e.to_string())
}

fn am(config: &Config, name: &str) -> AlertmanagerNotifier {
    match config.notifiers.get(name) {
        Some(NotifierConfig::Alertmanager(a)) => a.clone(),
        other => panic!("{name}: {other:?}"),
    }
}

#[test]
fn defaults_and_every_key() {
    let c = parse(
        r#"
[notifiers.fleet]
type = "alertmanager"
urls = ["http://am1:9093"]

[notifiers.full]
type = "alertmanager"
urls = ["http://am1:9093", "https://user:pw@am2.example.com/am/"]
labels = { team = "ops", severity = "warning", _x9 = "" }
resend = "10s"
timeout = "3s"
"#,
    )
    .unwrap();
    let a = am(&c, "fleet");
    assert_eq!(a.urls, ["http://am1:9093"]);
    assert!(a.labels.is_empty());
    assert_eq!(
        (a.resend, a.timeout),
        (Duration::from_secs(60), Duration::from_secs(10))
    );
    let f = am(&c, "full");
    assert_eq!(f.urls.len(), 2);
    assert_eq!(f.labels["team"], "ops");
    assert_eq!(f.labels["severity"], "warning");
    assert_eq!(f.resend, Duration::from_secs(10));
    assert_eq!(f.timeout, Duration::from_secs(3));
    let shown = format!("{c:?}");
    assert!(
        !shown.contains(":pw@"),
        "Debug shows a URL password: {shown}"
    );
    // The notifier builds (URLs checked again at build).
    assert!(oncalld::notify::Notifiers::build(&c).is_ok());
}

#[test]
fn errors_say_where() {
    let text = r#"[notifiers.a]
type = "alertmanager"

[notifiers.b]
type = "alertmanager"
urls = []

[notifiers.c]
type = "alertmanager"
urls = ["http://ok:9093", "ftp://am:9093"]
labels = { alertname = "x", "9lives" = "y", __meta = "z", team = 3 }
resend = "5s"

[notifiers.d]
type = "alertmanager"
urls = ["http://am:9093"]
resend = "2h"
routing_key = "k"
"#;
    let err = parse(text).unwrap_err();
    let want = [
        "notifiers.a.urls: missing required key",
        "/etc/oncalld/checks.toml:6:8: notifiers.b.urls: must not be empty",
        "/etc/oncalld/checks.toml:10:8: notifiers.c.urls: URL \"ftp://am:9093\" must start with \
         http:// or https://",
        "/etc/oncalld/checks.toml:11:12: notifiers.c.labels.alertname: label \"alertname\" is \
         reserved",
        "notifiers.c.labels.9lives: invalid label name \"9lives\"",
        "notifiers.c.labels.__meta: label \"__meta\" is reserved",
        "notifiers.c.labels.team: expected a string",
        "/etc/oncalld/checks.toml:12:10: notifiers.c.resend: \"5s\" is out of range",
        "notifiers.d.resend:",
        "notifiers.d.routing_key",
    ];
    for w in want {
        assert!(err.contains(w), "missing {w:?} in:\n{err}");
    }
}
