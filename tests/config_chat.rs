//! `[notifiers.NAME]` of the chat presets and the webhook's `body` template: defaults, every
//! key, errors with file:line:col (a template error points into the template), and secrets
//! (tokens, webhook URLs) kept out of every error and `Debug`.

use std::path::Path;
use std::time::Duration;

use oncalld::config::{self, ChatKind, Config, NotifierConfig};

fn parse(text: &str) -> Result<Config, String> {
    config::parse(text, Path::new("/etc/oncalld/checks.toml")).map_err(|e| e.to_string())
}

fn chat(config: &Config, name: &str) -> config::ChatNotifier {
    match config.notifiers.get(name) {
        Some(NotifierConfig::Chat(c)) => c.clone(),
        other => panic!("{name}: {other:?}"),
    }
}

const SLACK: &str = "https://hooks.slack.com/services/T0/B0/SLACKs3cr3t";

#[test]
fn every_preset_with_defaults_and_every_key() {
    let c = parse(&format!(
        r#"
[notifiers.slack]
type = "slack"
url = "{SLACK}"

[notifiers.discord]
type = "discord"
url = "https://discord.com/api/webhooks/1/DISCORDs3cr3t"
timeout = "5s"

[notifiers.teams]
type = "teams"
url = "https://prod.westeurope.logic.azure.com/workflows/x/triggers/manual/paths/invoke?sig=S1G"

[notifiers.telegram]
type = "telegram"
bot_token = "123456:TGs3cr3t"

[notifiers.ntfy]
type = "ntfy"
url = "https://ntfy.sh/oncall-alerts"

[notifiers.ntfy_private]
type = "ntfy"
url = "https://ntfy.example.com/ops"
token = "tk_NTFYs3cr3t"

[notifiers.pushover]
type = "pushover"
token = "azGDORePK8gMaC0QOYAMyEEuzJnyUi"
retry = "30s"
expire = "2h"

[notifiers.matrix]
type = "matrix"
url = "https://matrix.example.org"
access_token = "syt_MATRIXs3cr3t"
to = "!ops:example.org"

[people.alice]
notify = [
  {{ via = "telegram", to = "-1001234567890" }},
  {{ via = "telegram", to = "@ops_channel" }},
  {{ via = "pushover", to = "uQiRzpo4DXghDmr9QzzfQu27cmVRsG" }},
  {{ via = "matrix", to = "!alice:example.org" }},
  {{ via = "slack" }},
]
"#
    ))
    .unwrap();
    let s = chat(&c, "slack");
    assert_eq!(
        (s.kind, s.url.as_str(), s.secret.clone()),
        (ChatKind::Slack, SLACK, None)
    );
    assert_eq!(s.timeout, Duration::from_secs(10));
    assert_eq!(chat(&c, "discord").timeout, Duration::from_secs(5));
    let t = chat(&c, "telegram");
    assert_eq!(t.url, "https://api.telegram.org");
    assert_eq!(t.secret.as_deref(), Some("123456:TGs3cr3t"));
    let p = chat(&c, "pushover");
    assert_eq!(p.url, "https://api.pushover.net");
    assert_eq!(
        (p.retry, p.expire),
        (Duration::from_secs(30), Duration::from_secs(7200))
    );
    assert_eq!(chat(&c, "ntfy").secret, None);
    assert_eq!(chat(&c, "matrix").to.as_deref(), Some("!ops:example.org"));
    let shown = format!("{c:?}");
    for secret in [
        "SLACKs3cr3t",
        "DISCORDs3cr3t",
        "S1G",
        "TGs3cr3t",
        "NTFYs3cr3t",
        "azGDOR",
        "MATRIXs3cr3t",
    ] {
        assert!(!shown.contains(secret), "Debug shows {secret}: {shown}");
    }
    assert!(shown.contains("<hooks.slack.com/***>"), "{shown}");
}

#[test]
fn errors_say_where_and_never_quote_a_secret() {
    let text = r##"[notifiers.a]
type = "slack"

[notifiers.b]
type = "telegram"
bot_token = "12:TG s3cr3t"
token = "x"

[notifiers.c]
type = "discord"
url = "ftp://discord.com/api/webhooks/1/DISCORDs3cr3t"

[notifiers.d]
type = "pushover"
token = "azGDORePK8gMaC0QOYAMyEEuzJnyUi"
retry = "5s"
expire = "1d"

[notifiers.e]
type = "matrix"
url = "https://matrix.example.org"
access_token = "syt_x"
to = "#ops:example.org"

[notifiers.f]
type = "ntfy"
url = "https://ntfy.sh/x"
to = "alice"

[people.alice]
notify = [{ via = "d", to = "not-a-key" }, { via = "b", to = "alice" }]
"##;
    let err = parse(text).unwrap_err();
    let want = [
        "notifiers.a.url: missing required key",
        "/etc/oncalld/checks.toml:6:13: notifiers.b.bot_token: bot_token must be printable \
         ASCII without spaces, '/', '?' or '#'",
        "/etc/oncalld/checks.toml:7:1: notifiers.b.token: unknown key",
        "/etc/oncalld/checks.toml:11:7: notifiers.c.url: URL must start with http:// or https://",
        "/etc/oncalld/checks.toml:16:9: notifiers.d.retry:",
        "/etc/oncalld/checks.toml:17:10: notifiers.d.expire:",
        "/etc/oncalld/checks.toml:23:6: notifiers.e.to: invalid matrix recipient \
         \"#ops:example.org\" (expected a room id such as !abcdef:example.org)",
        "/etc/oncalld/checks.toml:28:1: notifiers.f.to: unknown key",
        "people.alice.notify[0].to: invalid pushover recipient \"not-a-key\"",
        "people.alice.notify[1].to: invalid telegram recipient \"alice\"",
    ];
    for w in want {
        assert!(err.contains(w), "missing {w:?} in:\n{err}");
    }
    for secret in ["TG s3cr3t", "DISCORDs3cr3t", "azGDOR", "syt_x"] {
        assert!(!err.contains(secret), "{secret} in {err}");
    }
}

#[test]
fn webhook_body_template_and_content_type() {
    let c = parse(
        r#"
[notifiers.hook]
type = "webhook"
url = "https://hooks.example.com/in"
content_type = "application/json; charset=utf-8"
body = '''
{"msg": {{ text }}, "incident": {{ incident.id }}, "state": {{ incident.state }}}
'''

[notifiers.plain]
type = "webhook"
url = "https://hooks.example.com/sms"
content_type = "text/plain"
body = "{{ event|upper }} #{{ incident.id }} {{ incident.check }}: {{ incident.summary }}"
"#,
    )
    .unwrap();
    match c.notifiers.get("hook") {
        Some(NotifierConfig::Webhook(w)) => {
            assert_eq!(w.content_type, "application/json; charset=utf-8");
            assert!(w.body.as_deref().unwrap().contains("{{ text }}"));
        }
        other => panic!("{other:?}"),
    }
    match c.notifiers.get("plain") {
        Some(NotifierConfig::Webhook(w)) => assert_eq!(w.content_type, "text/plain"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn template_errors_point_into_the_template() {
    let text = r#"[notifiers.a]
type = "webhook"
url = "https://h.example.com/"
body = '{"x": {{ incident.nope }}}'

[notifiers.b]
type = "webhook"
url = "https://h.example.com/"
body = '''
{"ok": 1,
 "x": {{ text | nosuchfilter }}}
'''

[notifiers.c]
type = "webhook"
url = "https://h.example.com/"
body = '{"x": "{{ text|safe }}"}'

[notifiers.d]
type = "webhook"
url = "https://h.example.com/"
body = "{% for x in y %}"
content_type = "text/plain"
"#;
    let err = parse(text).unwrap_err();
    let want = [
        // At `incident.nope`, inside the TOML string.
        "/etc/oncalld/checks.toml:4:18: notifiers.a.body: template error on template line 1: \
         undefined value",
        // At `nosuchfilter`, the template's second line (the line break after the opening
        // triple quote is trimmed by TOML).
        "/etc/oncalld/checks.toml:11:17: notifiers.b.body: template error on template line 2: \
         filter nosuchfilter is unknown",
        "/etc/oncalld/checks.toml:17:8: notifiers.c.body: the template does not render valid JSON",
        "/etc/oncalld/checks.toml:22:23: notifiers.d.body: template error on template line 1: \
         unexpected end of input",
    ];
    for w in want {
        assert!(err.contains(w), "missing {w:?} in:\n{err}");
    }
}

#[test]
fn check_config_finds_a_template_error_with_file_line_col() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("checks.toml");
    let text = "[notifiers.hook]\ntype = \"webhook\"\nurl = \"https://h.example.com/\"\n\
                body = '{\"t\": {{ incident.summry }}}'\n";
    std::fs::write(&path, text).unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_oncalld"))
        .args(["check-config", "-c", path.to_str().unwrap()])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    let want = format!(
        "{}:4:18: notifiers.hook.body: template error on template line 1: undefined value",
        path.display()
    );
    assert!(err.contains(&want), "{err}");
}

#[test]
fn a_recipient_is_required_where_the_service_needs_one() {
    let text = r#"[notifiers.tg]
type = "telegram"
bot_token = "1:x"

[notifiers.tg_ops]
type = "telegram"
bot_token = "1:x"
to = "-100200"

[people.alice]
notify = [{ via = "tg" }, { via = "tg_ops" }]

[people.bob]
notify = [{ via = "tg", to = "-100300" }]

[policies.default]
[[policies.default.steps]]
notify = ["notifier:tg", "notifier:tg_ops", "person:bob"]
"#;
    let err = parse(text).unwrap_err();
    let want = [
        "/etc/oncalld/checks.toml:11:11: people.alice.notify[0].to: missing required key `to`: \
         notifier \"tg\" needs a recipient (a chat id such as -1001234567890 or @channelname) \
         and has no `to` of its own",
        "/etc/oncalld/checks.toml:18:11: policies.default.steps[0].notify[0]: notifier \"tg\" \
         needs a recipient and has no `to` of its own",
    ];
    for w in want {
        assert!(err.contains(w), "missing {w:?} in:\n{err}");
    }
    assert_eq!(err.lines().count(), 2, "{err}");
}
