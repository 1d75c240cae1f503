//! The chat presets over real HTTP against tests/chat_support, local stand-ins implementing
//! each service's documented request contract (Slack, Discord, Teams, Telegram, ntfy,
//! Pushover and Matrix cannot be reached from here). Table-driven: every preset, every
//! event, hostile and oversized messages, and each service's error answers.

mod chat_support;
mod support;

use std::time::Duration;

use chat_support::*;
use oncalld::config::{ChatKind, ChatNotifier as ChatConfig};
use oncalld::core::model::{Page, PageEvent};
use oncalld::notify::chat::ChatNotifier;
use oncalld::notify::{Notifier, NotifyError};
use support::page;

const EVENTS: [PageEvent; 5] = [
    PageEvent::Triggered,
    PageEvent::Escalated,
    PageEvent::Acknowledged,
    PageEvent::Resolved,
    PageEvent::Test,
];

/// `ChatKind` with the stand-in's URL, secret and recipient.
fn config(kind: ChatKind, server: &ChatServer) -> (ChatConfig, Option<&'static str>) {
    let (url, secret, to) = match kind {
        ChatKind::Slack => (server.url(SLACK_PATH), None, None),
        ChatKind::Discord => (server.url(DISCORD_PATH), None, None),
        ChatKind::Teams => (server.url(TEAMS_PATH), None, None),
        ChatKind::Telegram => (server.base(), Some(TELEGRAM_TOKEN), Some("-1001234567890")),
        ChatKind::Ntfy => (server.url("/oncall-alerts"), Some(NTFY_TOKEN), None),
        ChatKind::Pushover => (server.base(), Some(PUSHOVER_TOKEN), Some(PUSHOVER_USER)),
        ChatKind::Matrix => (server.base(), Some(MATRIX_TOKEN), Some(MATRIX_ROOM)),
    };
    let config = ChatConfig {
        kind,
        url,
        secret: secret.map(str::to_string),
        to: None,
        retry: Duration::from_secs(60),
        expire: Duration::from_secs(3600),
        timeout: Duration::from_secs(3),
    };
    (config, to)
}

fn chat_page(event: PageEvent, to: Option<&str>) -> Page {
    let mut p = page(event, 17, 3, "alice", "chat");
    p.to = to.map(str::to_string);
    p
}

fn send(n: &ChatNotifier, page: &Page) -> Result<(), NotifyError> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(n.send(page))
}

fn secret_of(kind: ChatKind) -> &'static str {
    match kind {
        ChatKind::Slack => "SLACKs3cr3tXYZ",
        ChatKind::Discord => "DISCORDs3cr3t-token",
        ChatKind::Teams => "TEAMSs3cr3tSIG",
        ChatKind::Telegram => TELEGRAM_TOKEN,
        ChatKind::Ntfy => NTFY_TOKEN,
        ChatKind::Pushover => PUSHOVER_TOKEN,
        ChatKind::Matrix => MATRIX_TOKEN,
    }
}

/// What a hostile probe can print: markup, markdown, mentions, a script end, quotes, line
/// breaks and terminal escapes.
pub const HOSTILE: &str = "<b>bold</b> *_~`|> @channel @everyone @room <!channel> <@123> \
                           </script> \"q\" 'a' & &amp;\nsecond line\r\n\x1b[2J\x1b]52;c;aGk=\x07 end";

#[test]
fn every_event_is_accepted_by_each_service_contract() {
    let server = ChatServer::start();
    for kind in ChatKind::ALL {
        let (cfg, to) = config(kind, &server);
        let n = ChatNotifier::new(&cfg).unwrap();
        for event in EVENTS {
            send(&n, &chat_page(event, to)).unwrap_or_else(|e| panic!("{kind:?} {event:?}: {e}"));
            let last = server.last();
            assert!(
                (200..300).contains(&last.status),
                "{kind:?} {event:?}: {last:?}"
            );
        }
    }
}

#[test]
fn hostile_and_huge_messages_are_accepted_and_leave_no_controls() {
    let server = ChatServer::start();
    let huge = "x<&*".repeat(30_000);
    for kind in ChatKind::ALL {
        let (cfg, to) = config(kind, &server);
        let n = ChatNotifier::new(&cfg).unwrap();
        for summary in [HOSTILE.to_string(), huge.clone()] {
            for event in EVENTS {
                let mut p = chat_page(event, to);
                p.summary = summary.clone();
                p.text = format!("TEST {summary}");
                send(&n, &p).unwrap_or_else(|e| panic!("{kind:?} {event:?}: {e}"));
                let body = String::from_utf8(server.last().body).unwrap();
                assert!(!body.contains(['\x1b', '\x07']), "{kind:?}: {body}");
                // JSON escapes of controls would smuggle them too.
                assert!(
                    !body.contains("\\u001b") && !body.contains("\\u0007"),
                    "{kind:?}"
                );
            }
        }
    }
}

#[test]
fn the_services_own_refusals_are_permanent_and_never_show_the_secret() {
    let server = ChatServer::start();
    for kind in ChatKind::ALL {
        let (mut cfg, to) = config(kind, &server);
        // A wrong secret, answered by the stand-in as the service documents it.
        match kind {
            ChatKind::Slack | ChatKind::Discord | ChatKind::Teams => {
                cfg.url = cfg.url.replace(secret_of(kind), "WRONG");
            }
            _ => cfg.secret = Some("WRONGt0ken".to_string()),
        }
        let n = ChatNotifier::new(&cfg).unwrap();
        let err = send(&n, &chat_page(PageEvent::Triggered, to)).unwrap_err();
        assert!(!err.is_retryable(), "{kind:?}: {err:?}");
        let status = server.last().status;
        assert!(
            err.message()
                .starts_with(&format!("{} answered {status}", kind.as_str())),
            "{kind:?}: {err:?}"
        );
        assert!(!err.message().contains("WRONG"), "{kind:?}: {err:?}");
    }
}

#[test]
fn forced_error_answers_are_classified() {
    let server = ChatServer::start();
    for kind in ChatKind::ALL {
        let (cfg, to) = config(kind, &server);
        let n = ChatNotifier::new(&cfg).unwrap();
        let p = chat_page(PageEvent::Triggered, to);
        for status in [400, 401, 403, 404, 413] {
            let quoted = format!("nope, {} is refused", secret_of(kind));
            server.force(
                status,
                &[],
                &serde_json::json!({"description": quoted}).to_string(),
            );
            let err = send(&n, &p).unwrap_err();
            assert!(!err.is_retryable(), "{kind:?} {status}: {err:?}");
            assert!(
                err.message().contains("nope, *** is refused"),
                "{kind:?}: {err:?}"
            );
            assert!(!err.message().contains(secret_of(kind)), "{kind:?}");
        }
        for status in [500, 502, 503, 408] {
            server.force(status, &[], "busy");
            let err = send(&n, &p).unwrap_err();
            assert!(err.is_retryable(), "{kind:?} {status}: {err:?}");
        }
        server.force(429, &[("retry-after", "7")], "slow down");
        match send(&n, &p).unwrap_err() {
            NotifyError::Retryable { retry_after, .. } => {
                assert_eq!(retry_after, Some(Duration::from_secs(7)), "{kind:?}")
            }
            e => panic!("{kind:?}: {e:?}"),
        }
    }
}

#[test]
fn rate_limits_honour_each_services_own_retry_hint() {
    let server = ChatServer::start();
    let cases = [
        (
            ChatKind::Discord,
            r#"{"message":"You are being rate limited.","retry_after":1.5,"global":false}"#,
            1500,
        ),
        (
            ChatKind::Telegram,
            r#"{"ok":false,"error_code":429,"description":"Too Many Requests: retry after 5","parameters":{"retry_after":5}}"#,
            5000,
        ),
        (
            ChatKind::Matrix,
            r#"{"errcode":"M_LIMIT_EXCEEDED","error":"Too many requests","retry_after_ms":2000}"#,
            2000,
        ),
    ];
    for (kind, answer, millis) in cases {
        let (cfg, to) = config(kind, &server);
        let n = ChatNotifier::new(&cfg).unwrap();
        server.force(429, &[], answer);
        match send(&n, &chat_page(PageEvent::Triggered, to)).unwrap_err() {
            NotifyError::Retryable {
                retry_after,
                message,
            } => {
                assert_eq!(retry_after, Some(Duration::from_millis(millis)), "{kind:?}");
                assert!(message.contains("429"), "{message}");
            }
            e => panic!("{kind:?}: {e:?}"),
        }
    }
}

#[test]
fn network_trouble_is_retryable_and_never_shows_the_url() {
    let port = support::free_port();
    let server = ChatServer::start();
    for kind in ChatKind::ALL {
        let (mut cfg, to) = config(kind, &server);
        cfg.url = cfg
            .url
            .replace(&server.addr.to_string(), &format!("127.0.0.1:{port}"));
        let n = ChatNotifier::new(&cfg).unwrap();
        let err = send(&n, &chat_page(PageEvent::Triggered, to)).unwrap_err();
        assert!(err.is_retryable(), "{kind:?}: {err:?}");
        assert!(
            !err.message().contains(secret_of(kind)),
            "{kind:?}: {err:?}"
        );
    }
}

#[test]
fn a_page_without_a_recipient_is_permanent_and_the_notifier_to_is_the_default() {
    let server = ChatServer::start();
    for kind in [ChatKind::Telegram, ChatKind::Pushover, ChatKind::Matrix] {
        let (mut cfg, to) = config(kind, &server);
        let n = ChatNotifier::new(&cfg).unwrap();
        let err = send(&n, &chat_page(PageEvent::Test, None)).unwrap_err();
        assert!(
            !err.is_retryable() && err.message().contains("needs a recipient"),
            "{err:?}"
        );
        cfg.to = to.map(str::to_string);
        let n = ChatNotifier::new(&cfg).unwrap();
        send(&n, &chat_page(PageEvent::Test, None)).unwrap();
        send(&n, &chat_page(PageEvent::Test, Some(""))).unwrap();
    }
}
