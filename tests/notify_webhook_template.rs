//! The webhook's `body` template over real HTTP (a local receiver, tests/chat_support):
//! golden renderings for each event, the declared `Content-Type`, the signature over the
//! rendered bytes, and a hostile check message that cannot break the JSON.

mod chat_support;
mod support;

use std::collections::BTreeMap;
use std::time::Duration;

use chat_support::ChatServer;
use oncalld::config::WebhookNotifier as WebhookConfig;
use oncalld::core::model::{Page, PageEvent};
use oncalld::notify::Notifier;
use oncalld::notify::webhook::{WebhookNotifier, signature};
use serde_json::{Value, json};
use support::page;

fn notifier(url: String, body: &str, content_type: &str, secret: Option<&str>) -> WebhookNotifier {
    WebhookNotifier::new(&WebhookConfig {
        url,
        secret: secret.map(str::to_string),
        headers: BTreeMap::new(),
        body: Some(body.to_string()),
        content_type: content_type.to_string(),
        timeout: Duration::from_secs(3),
        ca_file: None,
    })
    .unwrap()
}

fn send(n: &WebhookNotifier, p: &Page) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(n.send(p)).unwrap();
}

/// A Mattermost-style body: the kind of receiver the template exists for.
const MATTERMOST: &str = r#"{"username": "oncalld", "text": {{ text }},
 "props": {"incident": {{ incident.id }}, "state": {{ incident.state }}, "step": {{ incident.step }},
           "key": {{ key }}, "to": {{ to }}, "opened_at": {{ incident.opened_at }}}}"#;

#[test]
fn golden_json_for_every_event() {
    let s = ChatServer::start();
    let n = notifier(s.url("/hook/mm"), MATTERMOST, "application/json", None);
    let cases = [
        (PageEvent::Triggered, "triggered"),
        (PageEvent::Escalated, "triggered"),
        (PageEvent::Acknowledged, "acknowledged"),
        (PageEvent::Resolved, "resolved"),
    ];
    for (event, state) in cases {
        let p = page(event, 17, 3, "alice", "mm");
        send(&n, &p);
        let r = s.last();
        assert_eq!(r.header("content-type"), Some("application/json"));
        let upper = event.as_str().to_uppercase();
        assert_eq!(
            String::from_utf8(r.body).unwrap(),
            format!(
                "{{\"username\": \"oncalld\", \"text\": \"{upper} #17 website: HTTP 500 from \
                 https://example.com/health\",\n \"props\": {{\"incident\": 17, \"state\": \
                 \"{state}\", \"step\": 1,\n           \"key\": \"oncalld:17:3:alice:mm\", \
                 \"to\": \"alice@example.com\", \"opened_at\": \"2026-11-25T21:00:00Z\"}}}}"
            )
        );
    }
}

#[test]
fn a_hostile_message_cannot_break_the_json() {
    let s = ChatServer::start();
    let n = notifier(s.url("/hook/mm"), MATTERMOST, "application/json", None);
    let mut p = page(PageEvent::Triggered, 17, 3, "alice", "mm");
    let hostile =
        "\"}, \"injected\": true, \"x\": {\"a\": \"</script><b>\\ \u{2028} *_~ @channel\n\x1b[2J";
    p.text = format!("TRIGGERED #17 website: {hostile}");
    p.summary = hostile.to_string();
    send(&n, &p);
    let v: Value = serde_json::from_slice(&s.last().body).expect("valid JSON");
    assert!(v.get("injected").is_none(), "{v}");
    let text = v["text"].as_str().unwrap();
    assert!(
        text.contains("\"}, \"injected\": true"),
        "kept as text: {text}"
    );
    assert!(!text.contains(['\x1b', '\n']), "{text:?}");
}

#[test]
fn text_bodies_have_no_escaping_and_their_own_content_type_and_signature() {
    let s = ChatServer::start();
    let t = "{{ event|upper }} #{{ incident.id }} {{ incident.check }}: {{ incident.summary }}";
    let n = notifier(
        s.url("/hook/sms"),
        t,
        "text/plain; charset=utf-8",
        Some("k3y"),
    );
    send(&n, &page(PageEvent::Resolved, 17, 3, "alice", "sms"));
    let r = s.last();
    let body = String::from_utf8(r.body.clone()).unwrap();
    assert_eq!(
        body,
        "RESOLVED #17 website: HTTP 500 from https://example.com/health"
    );
    assert_eq!(r.header("content-type"), Some("text/plain; charset=utf-8"));
    assert_eq!(
        r.header("x-oncalld-signature"),
        Some(signature(b"k3y", body.as_bytes()).as_str())
    );
    assert_eq!(r.header("idempotency-key"), Some("oncalld:17:3:alice:sms"));
}

#[test]
fn a_test_page_renders_and_the_default_body_is_unchanged() {
    let s = ChatServer::start();
    let n = notifier(s.url("/hook/mm"), MATTERMOST, "application/json", None);
    let mut p = page(PageEvent::Test, 0, 1, "alice", "mm");
    p.to = None;
    send(&n, &p);
    let v: Value = serde_json::from_slice(&s.last().body).unwrap();
    assert_eq!(v["props"]["to"], Value::Null);
    assert_eq!(v["props"]["state"], json!("triggered"));
}
