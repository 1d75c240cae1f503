//! The chat presets end to end: the real daemon and CLI, and tests/chat_support — local
//! stand-ins for Slack, Discord, Teams, Telegram, ntfy, Pushover and Matrix (none can be
//! reached from here) implementing each service's documented contract.
//! `oncalld test-page notifier:NAME` delivers through every preset; a refusal prints the
//! service's own answer and exits 1, with the secret in no output; an incident pages a
//! person through their `to`.

mod chat_support;
mod daemon_paging_support;
mod daemon_support;

use std::time::Duration;

use chat_support::*;
use daemon_paging_support::wait_incident;
use daemon_support::{Daemon, Target};

/// Every preset on `server`; `bad` gets a wrong secret. One check on `target` paging alice
/// through Telegram (her chat id in `to`) and Slack.
fn config(server: &ChatServer, target: &str, bad_telegram: bool) -> String {
    let tg_token = if bad_telegram {
        "999:WRONGs3cr3t"
    } else {
        TELEGRAM_TOKEN
    };
    format!(
        r#"
[[check]]
name = "web"
type = "http"
url = "{target}"
interval = "1s"
retry_interval = "1s"
retries = 1
timeout = "1s"

[notifiers.slack]
type = "slack"
url = "{slack}"

[notifiers.discord]
type = "discord"
url = "{discord}"

[notifiers.teams]
type = "teams"
url = "{teams}"

[notifiers.telegram]
type = "telegram"
url = "{base}"
bot_token = "{tg_token}"
to = "-1001234567890"

[notifiers.ntfy]
type = "ntfy"
url = "{base}/oncall-alerts"
token = "{NTFY_TOKEN}"

[notifiers.pushover]
type = "pushover"
url = "{base}"
token = "{PUSHOVER_TOKEN}"
to = "{PUSHOVER_USER}"

[notifiers.matrix]
type = "matrix"
url = "{base}"
access_token = "{MATRIX_TOKEN}"
to = "{MATRIX_ROOM}"

[people.alice]
notify = [{{ via = "telegram", to = "-1001234567890" }}, {{ via = "slack" }}]

[policies.default]
[[policies.default.steps]]
notify = ["person:alice"]
escalate_after = "1h"
"#,
        slack = server.url(SLACK_PATH),
        discord = server.url(DISCORD_PATH),
        teams = server.url(TEAMS_PATH),
        base = server.base(),
    )
}

#[test]
fn test_page_delivers_through_every_preset_and_an_incident_pages_alice() {
    let server = ChatServer::start();
    let target = Target::start();
    let d = Daemon::start(&config(&server, &target.url(), false));
    let check = d.cli(&["check-config", "-c", d.config.to_str().unwrap()]);
    assert!(
        check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stderr)
    );
    for name in [
        "slack", "discord", "teams", "telegram", "ntfy", "pushover", "matrix",
    ] {
        let out = d.cli(&["test-page", &format!("notifier:{name}")]);
        let text = String::from_utf8_lossy(&out.stdout);
        assert_eq!(out.status.code(), Some(0), "{name}: {text}");
        assert!(text.contains("delivered"), "{name}: {text}");
    }
    assert_eq!(server.received().len(), 7);

    target.set_status(503);
    wait_incident(&d);
    let (tg, slack) = d.wait_for("alice paged twice", Duration::from_secs(10), || {
        let r = server.received();
        let tg = r
            .iter()
            .skip(7)
            .find(|r| r.uri.starts_with("/bot"))?
            .clone();
        let slack = r
            .iter()
            .skip(7)
            .find(|r| r.uri.starts_with("/services"))?
            .clone();
        Some((tg, slack))
    });
    assert_eq!(tg.json()["chat_id"], "-1001234567890");
    assert!(
        tg.json()["text"]
            .as_str()
            .unwrap()
            .starts_with("<b>TRIGGERED #1 web</b>")
    );
    assert!(
        slack.json()["text"]
            .as_str()
            .unwrap()
            .starts_with("TRIGGERED #1 web: ")
    );
}

#[test]
fn a_refusal_prints_the_services_answer_and_never_the_token() {
    let server = ChatServer::start();
    let target = Target::start();
    let d = Daemon::start(&config(&server, &target.url(), true));
    let out = d.cli(&["test-page", "notifier:telegram"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(
        text.contains("telegram answered 401 Unauthorized: Unauthorized"),
        "{text}"
    );
    let shown = format!("{text}{}", d.log_text());
    assert!(!shown.contains("WRONGs3cr3t"), "{shown}");
}
