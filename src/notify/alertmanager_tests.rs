//! The page → Alertmanager alert mapping and the re-send rules, with the clock given (the
//! HTTP side and a real Alertmanager cluster are in tests/daemon_alertmanager.rs).

use super::*;
use crate::core::model::IncidentState;
use crate::notify::alertmanager_alerts::RESOLVED_FOR;

fn ctx() -> AlertContext {
    AlertContext {
        labels: [("team".to_string(), "ops".to_string())].into(),
        instance: "web-1.example.com".to_string(),
    }
}

fn at(s: &str) -> Timestamp {
    s.parse().unwrap()
}

fn page(event: PageEvent, incident: u64, summary: &str) -> Page {
    let opened = at("2026-11-25T21:00:00Z");
    Page {
        key: Page::idempotency_key(incident, 4, "alice", "am"),
        incident,
        seq: 4,
        event,
        recipient: "alice".into(),
        notifier: "am".into(),
        to: None,
        step: 2,
        check: "website".into(),
        summary: summary.to_string(),
        incident_state: IncidentState::Triggered,
        opened_at: opened,
        also_paged: vec![],
        text: format!("{} #17 website: {summary}", event.as_str().to_uppercase()),
        created_at: opened,
        digest: Vec::new(),
    }
}

fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

#[test]
fn incident_alert_labels_and_annotations() {
    let alert = incident_alert(&page(PageEvent::Triggered, 17, "HTTP 500"), &ctx());
    let body = alert.body(at("2026-11-25T21:04:00Z"));
    let labels = body["labels"].as_object().unwrap();
    assert_eq!(labels.len(), 3, "{body}");
    assert_eq!(body["labels"]["alertname"], "website");
    assert_eq!(body["labels"]["severity"], "critical");
    assert_eq!(body["labels"]["team"], "ops");
    assert_eq!(body["annotations"]["summary"], "website: HTTP 500");
    assert_eq!(body["annotations"]["incident"], "17");
    assert_eq!(body["annotations"]["instance"], "web-1.example.com");
    assert_eq!(body["startsAt"], "2026-11-25T21:00:00.000Z");
    assert_eq!(body["endsAt"], "2026-11-25T21:04:00.000Z");
    assert!(body.get("generatorURL").is_none());
}

#[test]
fn every_page_of_an_incident_has_the_same_labels_and_hosts_agree() {
    let first = incident_alert(&page(PageEvent::Triggered, 17, "HTTP 500"), &ctx());
    for event in [
        PageEvent::Escalated,
        PageEvent::Acknowledged,
        PageEvent::Resolved,
    ] {
        let other = incident_alert(&page(event, 17, "HTTP 503"), &ctx());
        assert_eq!(other.labels, first.labels, "{event:?}");
    }
    // Another host, another incident number: the same alert for Alertmanager.
    let host2 = AlertContext {
        instance: "web-2".to_string(),
        ..ctx()
    };
    let there = incident_alert(&page(PageEvent::Triggered, 3, "HTTP 500"), &host2);
    assert_eq!(there.labels, first.labels);
}

#[test]
fn configured_severity_wins_alertname_does_not_move() {
    let mut c = ctx();
    c.labels.insert("severity".into(), "warning".into());
    let alert = incident_alert(&page(PageEvent::Triggered, 1, "x"), &c);
    assert_eq!(alert.labels["severity"], "warning");
    assert_eq!(alert.labels["alertname"], "website");
}

#[test]
fn summary_is_one_line_and_bounded() {
    let long = format!("line1\nline2 {}", "é".repeat(5000));
    let alert = incident_alert(&page(PageEvent::Triggered, 1, &long), &ctx());
    let s = &alert.annotations["summary"];
    assert!(!s.contains('\n'), "{s}");
    assert!(s.chars().count() <= MAX_SUMMARY_CHARS + 1, "{}", s.len());
    assert!(s.ends_with('…'));
}

#[test]
fn test_page_is_an_alert_of_its_own() {
    let now = at("2026-11-25T22:00:00Z");
    let alert = test_alert(&page(PageEvent::Test, 0, ""), &ctx(), now);
    assert_eq!(alert.labels["alertname"], TEST_ALERTNAME);
    assert_eq!(alert.labels["instance"], "web-1.example.com");
    assert_eq!(alert.starts_at, now);
    assert!(alert.annotations["summary"].starts_with("TEST"));
}

#[test]
fn open_alert_ends_four_resends_ahead_and_is_resent_every_resend() {
    let mut tr = Tracker::new(secs(60));
    let t0 = at("2026-11-25T21:00:10Z");
    let a = incident_alert(&page(PageEvent::Triggered, 17, "HTTP 500"), &ctx());
    let body = tr.record(17, a, false, t0);
    assert_eq!(body["endsAt"], "2026-11-25T21:04:10.000Z");
    assert!(tr.due(at("2026-11-25T21:01:09Z")).is_empty());
    let again = tr.due(at("2026-11-25T21:01:10Z"));
    assert_eq!(again.len(), 1);
    assert_eq!(again[0]["endsAt"], "2026-11-25T21:05:10.000Z");
    assert_eq!(again[0]["startsAt"], "2026-11-25T21:00:00.000Z");
    assert!(tr.due(at("2026-11-25T21:01:30Z")).is_empty());
    // An ack keeps it firing.
    let ack = incident_alert(&page(PageEvent::Acknowledged, 17, "HTTP 500"), &ctx());
    let body = tr.record(17, ack, false, at("2026-11-25T21:02:00Z"));
    assert_eq!(body["endsAt"], "2026-11-25T21:06:00.000Z");
}

#[test]
fn resolved_alert_ends_now_is_resent_for_five_minutes_then_forgotten() {
    let mut tr = Tracker::new(secs(60));
    let page17 = |e| incident_alert(&page(e, 17, "HTTP 500"), &ctx());
    tr.record(
        17,
        page17(PageEvent::Triggered),
        false,
        at("2026-11-25T21:00:00Z"),
    );
    let resolved_at = at("2026-11-25T21:00:30Z");
    let body = tr.record(17, page17(PageEvent::Resolved), true, resolved_at);
    assert_eq!(body["endsAt"], "2026-11-25T21:00:30.000Z");
    let mut resent = 0;
    let mut now = resolved_at;
    for _ in 0..10 {
        now = now.checked_add(secs(60)).unwrap();
        for b in tr.due(now) {
            assert_eq!(b["endsAt"], "2026-11-25T21:00:30.000Z");
            resent += 1;
        }
    }
    assert_eq!(resent, 4, "re-sent within {RESOLVED_FOR:?} only");
    assert!(tr.is_empty());
}

#[test]
fn a_late_firing_page_after_the_resolve_posts_the_resolved_alert() {
    let mut tr = Tracker::new(secs(60));
    let page17 = |e| incident_alert(&page(e, 17, "HTTP 500"), &ctx());
    tr.record(
        17,
        page17(PageEvent::Resolved),
        true,
        at("2026-11-25T21:00:30Z"),
    );
    let body = tr.record(
        17,
        page17(PageEvent::Escalated),
        false,
        at("2026-11-25T21:00:40Z"),
    );
    assert_eq!(body["endsAt"], "2026-11-25T21:00:30.000Z");
}

#[test]
fn peers_endpoint_keeps_a_path_prefix_and_stars_passwords() {
    let p = peer("http://am1:9093").unwrap();
    assert_eq!(p.endpoint.as_str(), "http://am1:9093/api/v2/alerts");
    let p = peer("https://u:pw@proxy/alertmanager/").unwrap();
    assert_eq!(p.endpoint.path(), "/alertmanager/api/v2/alerts");
    assert!(!p.shown.contains("pw"), "{}", p.shown);
    assert!(peer("ftp://x").is_err());
}

#[test]
fn a_round_fails_for_good_only_when_every_peer_refused() {
    let peers = vec![
        peer("http://am1:9093").unwrap(),
        peer("http://am2:9093").unwrap(),
    ];
    let bad = PeerFailure::Status(StatusCode::BAD_REQUEST);
    let down = PeerFailure::Network("connection refused".into());
    let busy = PeerFailure::Status(StatusCode::TOO_MANY_REQUESTS);
    let e = round_error(&peers, &[(0, bad.clone()), (1, bad.clone())]);
    assert!(!e.is_retryable());
    let e = round_error(&peers, &[(0, bad.clone()), (1, down)]);
    assert!(e.is_retryable());
    assert!(e.message().contains("am1:9093 answered 400"), "{e}");
    assert!(e.message().contains("am2:9093: connection refused"), "{e}");
    assert!(round_error(&peers, &[(0, busy), (1, bad)]).is_retryable());
}

/// Polls until the runtime has `want` live tasks; false after 5 s.
async fn alive_tasks_become(want: usize) -> bool {
    let metrics = tokio::runtime::Handle::current().metrics();
    for _ in 0..100 {
        if metrics.num_alive_tasks() == want {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    false
}

#[tokio::test]
async fn a_reload_takes_over_the_alerts_and_the_replaced_task_ends() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .unwrap()
        .port();
    let config = AlertmanagerConfig {
        urls: vec![format!("http://127.0.0.1:{port}")],
        labels: BTreeMap::new(),
        resend: secs(10),
        timeout: secs(1),
        ca_file: None,
    };
    let name = "am_reload_unit_test";
    let metrics = tokio::runtime::Handle::current().metrics();
    let before = metrics.num_alive_tasks();
    let first = AlertmanagerNotifier::new(name, &config, "h1").unwrap();
    assert_eq!(metrics.num_alive_tasks(), before, "no task before a page");
    let err = first
        .send(&page(PageEvent::Triggered, 17, "HTTP 500"))
        .await
        .unwrap_err();
    assert!(err.is_retryable(), "{err}");
    assert!(err.message().contains("no peer took the alert"), "{err}");
    assert_eq!(
        (first.tracked(), metrics.num_alive_tasks()),
        (1, before + 1)
    );

    // A reload: the new notifier holds the same alert and re-sends it from now on.
    let second = AlertmanagerNotifier::new(name, &config, "h1").unwrap();
    assert_eq!(second.tracked(), 1);
    assert_eq!(metrics.num_alive_tasks(), before + 2);
    drop(first);
    assert!(
        alive_tasks_become(before + 1).await,
        "the replaced task lives on"
    );
    assert_eq!(second.tracked(), 1);
    drop(second);
    assert!(
        alive_tasks_become(before).await,
        "a task outlives its notifier"
    );
    // Nothing left to take over.
    let third = AlertmanagerNotifier::new(name, &config, "h1").unwrap();
    assert_eq!(third.tracked(), 0);
}

#[test]
fn a_restored_alert_is_due_at_once_then_every_resend_and_a_known_one_is_kept() {
    let mut t = Tracker::new(secs(60));
    let start = at("2026-11-26T08:00:00Z");
    t.restore(
        17,
        incident_alert(&page(PageEvent::Acknowledged, 17, "HTTP 500"), &ctx()),
        start,
    );
    let due = t.due(start);
    assert_eq!(due.len(), 1, "due at the first tick");
    assert_eq!(due[0]["endsAt"], "2026-11-26T08:04:00.000Z");
    assert_eq!(
        due[0]["startsAt"], "2026-11-25T21:00:00.000Z",
        "the incident's opening"
    );
    assert!(t.due(at("2026-11-26T08:00:59Z")).is_empty());
    assert_eq!(t.due(at("2026-11-26T08:01:00Z")).len(), 1);

    // Restoring an incident already tracked (a page came first) changes nothing.
    let later = at("2026-11-26T08:01:10Z");
    t.record(
        18,
        incident_alert(&page(PageEvent::Triggered, 18, "x"), &ctx()),
        true,
        later,
    );
    t.restore(
        18,
        incident_alert(&page(PageEvent::Triggered, 18, "x"), &ctx()),
        later,
    );
    let due = t.due(at("2026-11-26T08:02:10Z"));
    let resolved: Vec<_> = due
        .iter()
        .filter(|b| b["annotations"]["incident"] == "18")
        .collect();
    assert_eq!(
        resolved[0]["endsAt"], "2026-11-26T08:01:10.000Z",
        "still resolved"
    );
}
