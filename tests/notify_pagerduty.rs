//! The PagerDuty notifier over real HTTP against tests/pd_support, a local stand-in for the
//! internet service that implements the documented Events API v2 contract (PagerDuty itself
//! cannot be reached from here): 202 delivered, 400 permanent with PagerDuty's errors, 429
//! and 5xx retryable with `Retry-After`, network trouble retryable, the key never shown.

mod pd_support;
mod support;

use std::time::Duration;

use oncalld::config::PagerDutyNotifier as PdConfig;
use oncalld::core::model::PageEvent;
use oncalld::notify::pagerduty::PagerDutyNotifier;
use oncalld::notify::{Notifier, NotifyError};
use pd_support::{Forced, PdReceiver, validate};
use serde_json::json;
use support::{free_port, page};

const KEY: &str = "R0UT1NGK3Ys3cr3t0123456789abcdef";

fn notifier(url: &str, key: &str) -> PagerDutyNotifier {
    let config = PdConfig {
        routing_key: key.to_string(),
        url: url.to_string(),
        severity: "warning".to_string(),
        timeout: Duration::from_secs(2),
        ca_file: None,
    };
    PagerDutyNotifier::new(&config, "web-1.example.com")
        .unwrap()
        .with_targets(
            [(
                "website".to_string(),
                "https://example.com/health".to_string(),
            )]
            .into(),
        )
}

fn send(n: &PagerDutyNotifier, event: PageEvent) -> Result<(), NotifyError> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(n.send(&page(event, 17, 3, "alice", "pd")))
}

#[test]
fn trigger_acknowledge_resolve_are_accepted_on_one_dedup_key() {
    let pd = PdReceiver::start();
    let n = notifier(&pd.url(), KEY);
    for event in [
        PageEvent::Triggered,
        PageEvent::Escalated,
        PageEvent::Acknowledged,
        PageEvent::Resolved,
    ] {
        send(&n, event).unwrap_or_else(|e| panic!("{event:?}: {e}"));
    }
    let events = pd.events();
    let actions: Vec<_> = events.iter().map(|e| e.action()).collect();
    assert_eq!(actions, ["trigger", "trigger", "acknowledge", "resolve"]);
    assert!(events.iter().all(|e| e.status == 202));
    assert!(
        events
            .iter()
            .all(|e| e.dedup_key() == "oncalld:web-1.example.com:17")
    );
    let p = &events[0].body["payload"];
    assert_eq!(p["source"], "web-1.example.com");
    assert_eq!(p["severity"], "warning");
    assert_eq!(p["custom_details"]["target"], "https://example.com/health");
    assert_eq!(p["custom_details"]["timeline"], "oncalld show 17");
}

#[test]
fn a_refused_event_is_permanent_with_pagerdutys_errors_and_no_key() {
    let pd = PdReceiver::start();
    let short_key = "s3cr3t-but-31-characters-long!!";
    assert_eq!(short_key.len(), 31);
    let err = send(&notifier(&pd.url(), short_key), PageEvent::Triggered).unwrap_err();
    assert!(!err.is_retryable(), "{err:?}");
    assert_eq!(
        err.message(),
        "pagerduty answered 400 Bad Request: Event object is invalid: Length of 'routing_key' \
         is incorrect (should be 32 characters)"
    );
    assert_eq!(pd.events().len(), 1);
}

#[test]
fn throttling_and_server_errors_are_retryable() {
    let pd = PdReceiver::start();
    let n = notifier(&pd.url(), KEY);
    pd.force(Forced::TooMany("7".into()));
    match send(&n, PageEvent::Triggered) {
        Err(NotifyError::Retryable {
            message,
            retry_after,
        }) => {
            assert_eq!(retry_after, Some(Duration::from_secs(7)));
            assert!(message.starts_with("pagerduty answered 429"), "{message}");
        }
        other => panic!("{other:?}"),
    }
    pd.force(Forced::Status(503));
    assert!(send(&n, PageEvent::Triggered).unwrap_err().is_retryable());
    send(&n, PageEvent::Triggered).unwrap();
    let statuses: Vec<_> = pd.events().iter().map(|e| e.status).collect();
    assert_eq!(statuses, [429, 503, 202]);
}

#[test]
fn network_trouble_is_retryable_and_does_not_show_the_key() {
    let url = format!("http://127.0.0.1:{}/v2/enqueue", free_port());
    let err = send(&notifier(&url, KEY), PageEvent::Triggered).unwrap_err();
    assert!(err.is_retryable(), "{err:?}");
    assert!(err.message().starts_with("pagerduty: "), "{err:?}");
    assert!(!err.message().contains(KEY));
}

#[test]
fn huge_probe_output_still_makes_a_valid_event() {
    let pd = PdReceiver::start();
    let n = notifier(&pd.url(), KEY);
    let mut p = page(PageEvent::Triggered, 17, 3, "alice", "pd");
    p.summary = "ü".repeat(600_000);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(n.send(&p)).unwrap();
    let summary = pd.accepted()[0].body["payload"]["summary"].clone();
    assert_eq!(summary.as_str().unwrap().chars().count(), 1024);
}

/// The stand-in is able to fail: it refuses what PagerDuty documents as invalid.
#[test]
fn the_stand_in_refuses_what_pagerduty_refuses() {
    let good = json!({"routing_key": KEY, "event_action": "trigger", "dedup_key": "k",
        "payload": {"summary": "s", "source": "h", "severity": "info"}});
    assert_eq!(validate(good.to_string().as_bytes(), &good), Ok(()));
    let bad = [
        ("/payload/summary", json!("x".repeat(1025))),
        ("/payload/source", json!("")),
        ("/payload/severity", json!("fatal")),
        ("/event_action", json!("snooze")),
        ("/dedup_key", json!("k".repeat(256))),
        ("/routing_key", json!("short")),
    ];
    for (path, value) in bad {
        let mut v = good.clone();
        *v.pointer_mut(path).unwrap() = value;
        assert!(validate(v.to_string().as_bytes(), &v).is_err(), "{path}");
    }
    let ack = json!({"routing_key": KEY, "event_action": "acknowledge"});
    assert!(
        validate(ack.to_string().as_bytes(), &ack).is_err(),
        "no dedup_key"
    );
    let big = vec![b' '; 512 * 1024 + 1];
    assert!(validate(&big, &good).is_err());
}
