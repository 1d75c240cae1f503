//! The email notifier against a real SMTP server (aiosmtpd) on 127.0.0.1.

mod support;

use std::time::Duration;

use jiff::tz::TimeZone;
use oncalld::config::EmailNotifier as EmailConfig;
use oncalld::core::model::PageEvent;
use oncalld::notify::email::EmailNotifier;
use oncalld::notify::{Notifier, NotifyError};
use serde_json::Value;
use support::{SmtpServer, free_port, page};

fn notifier(smtp: String) -> EmailNotifier {
    let config = EmailConfig {
        smtp,
        from: "oncalld <oncalld@example.com>".to_string(),
        timeout: Duration::from_secs(5),
        ca_file: None,
    };
    EmailNotifier::new(&config, TimeZone::get("Europe/Paris").unwrap()).unwrap()
}

fn header<'a>(mail: &'a Value, name: &str) -> &'a str {
    let values = mail["headers"][name]
        .as_array()
        .unwrap_or_else(|| panic!("no {name}"));
    assert_eq!(values.len(), 1, "{name} appears once");
    values[0].as_str().unwrap()
}

#[tokio::test]
async fn trigger_and_resolve_mails_arrive_threaded() {
    let server = SmtpServer::start(None, None);
    let mail = notifier(server.url());
    let trigger = page(PageEvent::Triggered, 17, 1, "alice", "mail");
    let resolved = page(PageEvent::Resolved, 17, 9, "alice", "mail");
    mail.send(&trigger).await.unwrap();
    mail.send(&resolved).await.unwrap();

    let got = server.messages();
    assert_eq!(got.len(), 2);
    let (t, r) = (&got[0], &got[1]);
    assert_eq!(t["rcpt_tos"], serde_json::json!(["alice@example.com"]));
    assert_eq!(t["mail_from"], "oncalld@example.com");
    assert_eq!(header(t, "to"), "alice@example.com");
    assert_eq!(
        header(t, "subject"),
        "[oncalld] TRIGGERED #17 website: HTTP 500 from https://example.com/health"
    );
    assert_eq!(
        header(r, "subject"),
        "[oncalld] RESOLVED #17 website: HTTP 500 from https://example.com/health"
    );
    assert!(header(t, "user-agent").starts_with("oncalld/"));
    assert_eq!(header(t, "auto-submitted"), "auto-generated");
    assert_eq!(header(t, "x-oncalld-key"), "oncalld:17:1:alice:mail");

    // Threading: one root per incident, a distinct id per mail.
    let root = format!("<oncalld.17.{}@example.com>", trigger.opened_at.as_second());
    for m in [t, r] {
        assert_eq!(header(m, "in-reply-to"), root);
        assert_eq!(header(m, "references"), root);
    }
    assert_ne!(header(t, "message-id"), header(r, "message-id"));
    assert!(header(t, "message-id").contains("oncalld.17.1.alice.mail"));
}

#[tokio::test]
async fn body_says_what_failed_since_when_who_else_and_how_to_ack() {
    let server = SmtpServer::start(None, None);
    let targets = [(
        "website".to_string(),
        "https://example.com/health".to_string(),
    )];
    let mail = notifier(server.url()).with_targets(targets.into_iter().collect());
    mail.send(&page(PageEvent::Triggered, 17, 1, "alice", "mail"))
        .await
        .unwrap();
    let got = server.messages();
    let body = got[0]["body"].as_str().unwrap();
    for fact in [
        "check website (https://example.com/health)",
        "HTTP 500 from https://example.com/health",
        // opened_at 21:00Z shown in Europe/Paris, and as RFC 3339.
        "2026-11-25 22:00:00 CET",
        "2026-11-25T22:00:00+01:00",
        "Open for:     12m 30s",
        "Also paged:   bob, ops-chat",
        "oncalld ack 17",
        "oncalld:17:1:alice:mail",
    ] {
        assert!(body.contains(fact), "body lacks {fact:?}:\n{body}");
    }
}

/// SPEC §9: a plugin's escapes and bare CRs never reach the mail; every line ends in CRLF.
#[tokio::test]
async fn hostile_text_is_replaced_and_lines_end_in_crlf() {
    let server = SmtpServer::start(None, None);
    let targets = [(
        "website".to_string(),
        "http://webuser:***@example.com/x".to_string(),
    )];
    let mail = notifier(server.url()).with_targets(targets.into_iter().collect());
    let mut p = page(PageEvent::Triggered, 17, 1, "alice", "mail");
    p.summary = "CRITICAL - \x1b[2J\x1b]52;c;aGk=\x07 bad\r.\r".to_string();
    p.text = format!("TRIGGERED #17 website: {}", p.summary);
    mail.send(&p).await.unwrap();
    let got = server.messages();
    let body = got[0]["body"].as_str().unwrap();
    assert!(!body.contains(['\x1b', '\x07']), "{body:?}");
    assert!(body.contains("CRITICAL - \u{fffd}[2J"), "{body:?}");
    assert!(!body.contains("PASS"), "{body:?}");
    let subject = header(&got[0], "subject");
    assert!(!subject.contains(['\x1b', '\x07', '\r']), "{subject:?}");
    // The raw message as it crossed the wire: no bare CR, no bare LF anywhere.
    let raw = got[0]["raw"].as_str().unwrap().as_bytes();
    for (i, b) in raw.iter().enumerate() {
        match b {
            b'\r' => assert_eq!(raw.get(i + 1), Some(&b'\n'), "bare CR at {i}"),
            b'\n' => assert!(i > 0 && raw[i - 1] == b'\r', "bare LF at {i}"),
            _ => {}
        }
    }
}

#[tokio::test]
async fn retries_keep_the_same_message_id() {
    let server = SmtpServer::start(None, None);
    let mail = notifier(server.url());
    let p = page(PageEvent::Escalated, 5, 4, "bob", "mail");
    mail.send(&p).await.unwrap();
    mail.send(&p).await.unwrap();
    let got = server.messages();
    assert_eq!(got.len(), 2);
    assert_eq!(header(&got[0], "message-id"), header(&got[1], "message-id"));
}

#[tokio::test]
async fn test_pages_say_test() {
    let server = SmtpServer::start(None, None);
    let mail = notifier(server.url());
    let mut p = page(PageEvent::Test, 0, 0, "alice", "mail");
    p.text = "test page for alice via mail".to_string();
    mail.send(&p).await.unwrap();
    let got = server.messages();
    assert_eq!(
        header(&got[0], "subject"),
        "[oncalld] TEST test page for alice via mail"
    );
}

#[tokio::test]
async fn smtp_451_is_retryable() {
    let server = SmtpServer::start(Some("451 4.3.0 Try again later"), None);
    let err = notifier(server.url())
        .send(&page(PageEvent::Triggered, 1, 1, "alice", "mail"))
        .await
        .unwrap_err();
    assert!(err.is_retryable(), "{err:?}");
    assert!(
        err.message().contains("451") || err.message().contains("Try again"),
        "{err:?}"
    );
    assert!(server.messages().is_empty());
}

#[tokio::test]
async fn smtp_550_is_permanent() {
    let server = SmtpServer::start(None, Some("550 5.7.1 Message rejected"));
    let err = notifier(server.url())
        .send(&page(PageEvent::Triggered, 1, 1, "alice", "mail"))
        .await
        .unwrap_err();
    assert!(matches!(err, NotifyError::Permanent { .. }), "{err:?}");
}

#[tokio::test]
async fn server_down_is_retryable() {
    let url = format!("smtp://127.0.0.1:{}", free_port());
    let err = notifier(url)
        .send(&page(PageEvent::Triggered, 1, 1, "alice", "mail"))
        .await
        .unwrap_err();
    assert!(err.is_retryable(), "{err:?}");
}

#[tokio::test]
async fn missing_or_bad_address_is_permanent() {
    let mail = notifier(format!("smtp://127.0.0.1:{}", free_port()));
    let mut p = page(PageEvent::Triggered, 1, 1, "ops", "mail");
    p.to = None;
    assert!(!mail.send(&p).await.unwrap_err().is_retryable());
    p.to = Some("not an address".to_string());
    assert!(!mail.send(&p).await.unwrap_err().is_retryable());
}

#[tokio::test]
async fn tls_modes_of_the_url() {
    // aiosmtpd here offers no STARTTLS: `tls=none` and the default (STARTTLS when offered)
    // deliver in clear; `tls=required` refuses to, and says so as a retryable error.
    let server = SmtpServer::start(None, None);
    let p = page(PageEvent::Triggered, 2, 1, "alice", "mail");
    notifier(format!("{}?tls=none", server.url()))
        .send(&p)
        .await
        .unwrap();
    let err = notifier(format!("{}?tls=required", server.url()))
        .send(&p)
        .await
        .unwrap_err();
    assert!(err.is_retryable(), "{err:?}");
    assert_eq!(server.messages().len(), 1);
}
