//! The page → Events API v2 mapping, as pure functions (the HTTP side is in
//! tests/notify_pagerduty.rs and tests/daemon_pagerduty.rs).

use super::*;
use crate::core::model::IncidentState;

const KEY: &str = "R0UT1NGK3Y0123456789abcdefABCDEF";

fn ctx() -> EventContext {
    EventContext {
        routing_key: KEY.to_string(),
        instance: "web-1.example.com".to_string(),
        severity: "error".to_string(),
        targets: [("website".to_string(), "http://u:***@h/health".to_string())].into(),
    }
}

fn page(event: PageEvent, summary: &str) -> Page {
    let at: Timestamp = "2026-11-25T21:00:00Z".parse().unwrap();
    Page {
        key: Page::idempotency_key(17, 4, "alice", "pd"),
        incident: 17,
        seq: 4,
        event,
        recipient: "alice".into(),
        notifier: "pd".into(),
        to: None,
        step: 2,
        check: "website".into(),
        summary: summary.to_string(),
        incident_state: IncidentState::Triggered,
        opened_at: at,
        also_paged: vec![],
        text: format!("{} #17 website: {summary}", event.as_str().to_uppercase()),
        created_at: at,
        digest: Vec::new(),
    }
}

#[test]
fn actions_and_one_dedup_key_per_incident() {
    let cases = [
        (PageEvent::Triggered, "trigger"),
        (PageEvent::Escalated, "trigger"),
        (PageEvent::Acknowledged, "acknowledge"),
        (PageEvent::Resolved, "resolve"),
        (PageEvent::Test, "trigger"),
    ];
    for (event, action) in cases {
        let body = event_body(&page(event, "HTTP 500"), &ctx());
        assert_eq!(body["event_action"], action, "{event:?}");
        assert_eq!(body["routing_key"], KEY);
        let want = if event == PageEvent::Test {
            "oncalld:web-1.example.com:test:4"
        } else {
            "oncalld:web-1.example.com:17"
        };
        assert_eq!(body["dedup_key"], want, "{event:?}");
        assert_eq!(body.get("payload").is_some(), action == "trigger", "{body}");
    }
}

#[test]
fn trigger_payload_fields() {
    let body = event_body(&page(PageEvent::Triggered, "HTTP 500 in 12 ms"), &ctx());
    let p = &body["payload"];
    assert_eq!(p["summary"], "#17 website: HTTP 500 in 12 ms");
    assert_eq!(p["source"], "web-1.example.com");
    assert_eq!(p["severity"], "error");
    assert_eq!(p["timestamp"], "2026-11-25T21:00:00.000Z");
    assert_eq!(p["component"], "website");
    let d = &p["custom_details"];
    assert_eq!(d["check"], "website");
    assert_eq!(d["target"], "http://u:***@h/health");
    assert_eq!(d["step"], 2);
    assert_eq!(d["recipient"], "alice");
    assert_eq!(d["incident"], 17);
    assert_eq!(d["timeline"], "oncalld show 17");
}

#[test]
fn summary_is_cut_on_a_char_boundary_and_one_line() {
    let long = "é".repeat(3000);
    let s = summary(&page(PageEvent::Triggered, &long));
    assert_eq!(s.chars().count(), MAX_SUMMARY_CHARS);
    assert!(s.starts_with("#17 website: é") && s.ends_with('…'));
    let s = summary(&page(PageEvent::Triggered, "a\nb\x1b[2Jc"));
    assert!(!s.contains(['\n', '\x1b']), "{s:?}");
    let exact = "x".repeat(MAX_SUMMARY_CHARS - "#17 website: ".len());
    let s = summary(&page(PageEvent::Triggered, &exact));
    assert_eq!(s.chars().count(), MAX_SUMMARY_CHARS);
    assert!(!s.ends_with('…'));
}

#[test]
fn huge_probe_output_keeps_the_event_small() {
    let body = event_body(&page(PageEvent::Triggered, &"y".repeat(1 << 20)), &ctx());
    let bytes = serde_json::to_vec(&body).unwrap();
    assert!(bytes.len() < 8 * 1024, "{}", bytes.len());
}

#[test]
fn answers_are_classified() {
    let err = classify(StatusCode::BAD_REQUEST, None, "Event object is invalid");
    assert!(!err.is_retryable());
    assert_eq!(
        err.message(),
        "pagerduty answered 400 Bad Request: Event object is invalid"
    );
    for s in [401, 403, 404, 413] {
        assert!(!classify(StatusCode::from_u16(s).unwrap(), None, "").is_retryable());
    }
    let hint = Some(Duration::from_secs(7));
    let err = classify(StatusCode::TOO_MANY_REQUESTS, hint, "");
    assert_eq!(
        err,
        NotifyError::Retryable {
            message: "pagerduty answered 429 Too Many Requests".into(),
            retry_after: hint,
        }
    );
    for s in [408, 500, 502, 503, 301] {
        assert!(classify(StatusCode::from_u16(s).unwrap(), None, "").is_retryable());
    }
}

#[test]
fn answer_text_quotes_errors_never_the_key() {
    let body = format!(
        r#"{{"status":"invalid event","message":"Event object is invalid",
            "errors":["'payload.severity' is missing","bad key {KEY}\n"]}}"#
    );
    let text = answer_text(body.as_bytes(), KEY);
    assert_eq!(
        text,
        "Event object is invalid: 'payload.severity' is missing; bad key *** "
    );
    assert_eq!(
        answer_text(b"\n upstream down \nmore", KEY),
        "upstream down"
    );
    assert_eq!(answer_text(b"", KEY), "");
    let long = format!(r#"{{"message":"{}"}}"#, "m".repeat(10_000));
    assert_eq!(
        answer_text(long.as_bytes(), KEY).chars().count(),
        MAX_ANSWER_CHARS
    );
}

#[test]
fn dedup_keys_fit_pagerdutys_255_characters() {
    let instance = "h".repeat(crate::config::MAX_INSTANCE);
    let mut p = page(PageEvent::Triggered, "x");
    p.incident = u64::MAX;
    assert!(dedup_key(&instance, &p).chars().count() <= 255);
    p.event = PageEvent::Test;
    p.seq = u32::MAX;
    assert!(dedup_key(&instance, &p).chars().count() <= 255);
}
