//! The webhook notifier against a real HTTP receiver on 127.0.0.1.

mod support;

use std::collections::BTreeMap;
use std::time::Duration;

use hmac::{Hmac, Mac};
use oncalld::config::WebhookNotifier as WebhookConfig;
use oncalld::core::model::PageEvent;
use oncalld::notify::webhook::WebhookNotifier;
use oncalld::notify::{Notifier, NotifyError};
use serde_json::json;
use sha2::Sha256;
use support::{Answer, WebhookReceiver, free_port, page};

fn notifier(url: String, secret: Option<&str>, timeout: Duration) -> WebhookNotifier {
    let mut headers = BTreeMap::new();
    headers.insert("Authorization".to_string(), "Bearer t0ken".to_string());
    WebhookNotifier::new(&WebhookConfig {
        url,
        secret: secret.map(str::to_string),
        headers,
        body: None,
        content_type: "application/json".to_string(),
        timeout,
        ca_file: None,
    })
    .unwrap()
}

const TIMEOUT: Duration = Duration::from_secs(5);

#[tokio::test]
async fn posts_the_spec_body_with_key_headers_and_signature() {
    let rx = WebhookReceiver::start(Answer::Status(200)).await;
    let hook = notifier(rx.url(), Some("s3cret"), TIMEOUT);
    let p = page(PageEvent::Triggered, 17, 1, "alice", "ops-chat");
    hook.send(&p).await.unwrap();

    let got = rx.received();
    assert_eq!(got.len(), 1);
    let req = &got[0];
    let body: serde_json::Value = serde_json::from_slice(&req.body).unwrap();
    assert_eq!(
        body,
        json!({
            "version": 1,
            "event": "triggered",
            "key": "oncalld:17:1:alice:ops-chat",
            "incident": {
                "id": 17,
                "check": "website",
                "state": "triggered",
                "summary": "HTTP 500 from https://example.com/health",
                "opened_at": "2026-11-25T21:00:00Z",
                "step": 1
            },
            "recipient": "alice",
            "text": "TRIGGERED #17 website: HTTP 500 from https://example.com/health"
        })
    );
    let h = |name: &str| req.headers.get(name).unwrap().to_str().unwrap().to_string();
    assert_eq!(h("idempotency-key"), "oncalld:17:1:alice:ops-chat");
    assert_eq!(h("authorization"), "Bearer t0ken");
    assert_eq!(h("content-type"), "application/json");
    assert_eq!(
        h("user-agent"),
        format!("oncalld/{}", env!("CARGO_PKG_VERSION"))
    );

    // The signature, checked independently over the exact bytes received.
    let mut mac = Hmac::<Sha256>::new_from_slice(b"s3cret").unwrap();
    mac.update(&req.body);
    let expected = format!("sha256={}", hex::encode(mac.finalize().into_bytes()));
    assert_eq!(h("x-oncalld-signature"), expected);
}

#[tokio::test]
async fn no_secret_no_signature() {
    let rx = WebhookReceiver::start(Answer::Status(204)).await;
    let p = page(PageEvent::Resolved, 3, 7, "ops-chat", "ops-chat");
    notifier(rx.url(), None, TIMEOUT).send(&p).await.unwrap();
    let got = rx.received();
    assert!(got[0].headers.get("x-oncalld-signature").is_none());
    let body: serde_json::Value = serde_json::from_slice(&got[0].body).unwrap();
    assert_eq!(body["event"], "resolved");
    assert_eq!(body["incident"]["state"], "resolved");
}

#[tokio::test]
async fn answers_are_classified() {
    let rx = WebhookReceiver::start(Answer::Status(500)).await;
    let hook = notifier(rx.url(), None, TIMEOUT);
    let p = page(PageEvent::Escalated, 2, 5, "bob", "ops-chat");

    let err = hook.send(&p).await.unwrap_err();
    assert!(err.is_retryable(), "500: {err:?}");
    assert!(err.message().contains("500"), "{err:?}");

    rx.set_answer(Answer::Status(408));
    assert!(hook.send(&p).await.unwrap_err().is_retryable());

    rx.set_answer(Answer::Status(400));
    let err = hook.send(&p).await.unwrap_err();
    assert!(matches!(err, NotifyError::Permanent { .. }), "400: {err:?}");
    assert!(err.message().contains("refused by the test"), "{err:?}");

    rx.set_answer(Answer::Status(404));
    assert!(!hook.send(&p).await.unwrap_err().is_retryable());

    rx.set_answer(Answer::Status(200));
    hook.send(&p).await.unwrap();
    // Every attempt carried the same key.
    let got = rx.received();
    assert_eq!(got.len(), 5);
    assert!(
        got.iter()
            .all(|r| r.headers["idempotency-key"] == "oncalld:2:5:bob:ops-chat")
    );
}

#[tokio::test]
async fn too_many_requests_honours_retry_after() {
    let rx = WebhookReceiver::start(Answer::TooManyRequests("42".to_string())).await;
    let hook = notifier(rx.url(), None, TIMEOUT);
    let p = page(PageEvent::Triggered, 1, 1, "alice", "ops-chat");
    match hook.send(&p).await.unwrap_err() {
        NotifyError::Retryable { retry_after, .. } => {
            assert_eq!(retry_after, Some(Duration::from_secs(42)));
        }
        other => panic!("429 should be retryable: {other:?}"),
    }

    // The HTTP-date form: a date in the past means "now".
    rx.set_answer(Answer::TooManyRequests(
        "Sun, 06 Nov 1994 08:49:37 GMT".to_string(),
    ));
    match hook.send(&p).await.unwrap_err() {
        NotifyError::Retryable { retry_after, .. } => {
            assert_eq!(retry_after, Some(Duration::ZERO));
        }
        other => panic!("429 should be retryable: {other:?}"),
    }
}

#[tokio::test]
async fn a_hanging_receiver_times_out_retryably() {
    let rx = WebhookReceiver::start(Answer::Hang).await;
    let hook = notifier(rx.url(), None, Duration::from_millis(300));
    let err = hook
        .send(&page(PageEvent::Triggered, 1, 1, "alice", "ops-chat"))
        .await
        .unwrap_err();
    assert!(err.is_retryable(), "{err:?}");
    assert!(err.message().contains("timed out"), "{err:?}");
    assert_eq!(rx.received().len(), 1);
}

#[tokio::test]
async fn nobody_listening_is_retryable() {
    let url = format!("http://127.0.0.1:{}/hook", free_port());
    let err = notifier(url, None, TIMEOUT)
        .send(&page(PageEvent::Triggered, 1, 1, "alice", "ops-chat"))
        .await
        .unwrap_err();
    assert!(err.is_retryable(), "{err:?}");
}

#[test]
fn bad_config_is_refused_at_build() {
    let base = WebhookConfig {
        url: "http://127.0.0.1/hook".to_string(),
        secret: None,
        headers: BTreeMap::new(),
        body: None,
        content_type: "application/json".to_string(),
        timeout: TIMEOUT,
        ca_file: None,
    };
    let mut bad_url = base.clone();
    bad_url.url = "not a url".to_string();
    assert!(WebhookNotifier::new(&bad_url).is_err());
    let mut ftp = base.clone();
    ftp.url = "ftp://example.com/".to_string();
    assert!(WebhookNotifier::new(&ftp).is_err());
    let mut bad_header = base.clone();
    bad_header
        .headers
        .insert("Bad Header".to_string(), "x".to_string());
    assert!(WebhookNotifier::new(&bad_header).is_err());
    let mut bad_template = base.clone();
    bad_template.body = Some("{{ nope".to_string());
    assert!(WebhookNotifier::new(&bad_template).is_err());
    let mut bad_type = base;
    bad_type.content_type = "text/plain\n".to_string();
    assert!(WebhookNotifier::new(&bad_type).is_err());
}

/// SPEC §9: a failed delivery's message (timeline, log) holds neither the URL's password nor
/// its path (chat webhooks carry a token there), nor the secret or the Authorization header.
#[tokio::test]
async fn errors_show_no_url_secret_or_token() {
    let url = format!(
        "http://hookuser:PASSW0RD@127.0.0.1:{}/services/T0KEN-IN-PATH",
        free_port()
    );
    let hook = notifier(url, Some("s3cret"), TIMEOUT);
    let err = hook
        .send(&page(PageEvent::Triggered, 1, 1, "alice", "ops-chat"))
        .await
        .unwrap_err();
    assert!(err.is_retryable(), "{err:?}");
    let shown = format!("{err} {err:?}");
    for secret in ["PASSW0RD", "T0KEN-IN-PATH", "s3cret", "t0ken"] {
        assert!(!shown.contains(secret), "{secret} in {shown}");
    }
    let config = WebhookConfig {
        url: "https://u:PASSW0RD@example.com/x".to_string(),
        secret: Some("s3cret".to_string()),
        headers: [("Authorization".to_string(), "Bearer t0ken".to_string())].into(),
        body: None,
        content_type: "application/json".to_string(),
        timeout: TIMEOUT,
        ca_file: None,
    };
    let debug = format!("{config:?}");
    for secret in ["PASSW0RD", "s3cret", "t0ken"] {
        assert!(!debug.contains(secret), "{secret} in {debug}");
    }
}
