//! Paging end to end, the happy path: the real daemon, a real HTTP target, a real SMTP server
//! (aiosmtpd) and a real webhook receiver. Trigger -> step 1 by mail and webhook -> no ack ->
//! step 2 at its time -> recovery -> "resolved" pages to everyone paged, once each.

mod daemon_paging_support;
mod daemon_support;
mod support;

use std::time::Duration;

use daemon_paging_support::*;
use daemon_support::{Daemon, Target};
use support::{Answer, SmtpServer, WebhookReceiver};

#[test]
fn trigger_escalate_resolve_pages_everyone_by_mail_and_webhook() {
    let rt = runtime();
    let target = Target::start();
    let smtp = SmtpServer::start(None, None);
    let hook = rt.block_on(WebhookReceiver::start(Answer::Status(200)));
    let d = Daemon::start(&two_step_config(
        &target.url(),
        &smtp.url(),
        &hook.url(),
        "1500ms",
        "2s",
    ));
    target.set_status(503);
    let id = wait_incident(&d);
    assert_eq!(id, 1);

    // Step 1: alice by mail and by webhook.
    let alice = d.wait_for("alice's TRIGGERED mail", Duration::from_secs(10), || {
        mails_to(
            &smtp.messages(),
            "alice@example.com",
            "[oncalld] TRIGGERED #1 web: ",
        )
        .first()
        .cloned()
    });
    let subject = alice["headers"]["subject"][0].as_str().unwrap();
    assert!(subject.contains("HTTP 503"), "{subject}");
    let first_hook = d.wait_for("the webhook page", Duration::from_secs(10), || {
        hook.received().first().cloned()
    });
    let body = first_hook.json();
    assert_eq!(body["version"], 1, "{body}");
    assert_eq!(body["event"], "triggered", "{body}");
    assert_eq!(body["recipient"], "alice", "{body}");
    assert_eq!(body["incident"]["id"], 1, "{body}");
    assert_eq!(body["incident"]["check"], "web", "{body}");
    assert_eq!(body["incident"]["state"], "triggered", "{body}");
    assert_eq!(body["incident"]["step"], 1, "{body}");
    assert!(
        body["incident"]["summary"]
            .as_str()
            .unwrap()
            .contains("503")
    );
    assert!(
        body["incident"]["opened_at"]
            .as_str()
            .unwrap()
            .parse::<jiff::Timestamp>()
            .is_ok()
    );
    assert!(body["text"].as_str().unwrap().contains("#1 web"), "{body}");
    let key = first_hook.key();
    assert_eq!(body["key"], key.as_str());
    let parts: Vec<&str> = key.split(':').collect();
    assert_eq!(parts.len(), 5, "{key}");
    assert_eq!(
        (parts[0], parts[1], parts[3], parts[4]),
        ("oncalld", "1", "alice", "hook")
    );
    assert!(parts[2].parse::<u64>().is_ok(), "{key}");

    // Step 2 (bob) at its time: not before escalate_after, measured on the receiver's clock.
    let triggered = event_time(&d, id, "triggered", "").unwrap();
    let bob = d.wait_for("bob's step-2 mail", Duration::from_secs(10), || {
        mails_to(&smtp.messages(), "bob@example.com", "[oncalld] ")
            .first()
            .cloned()
    });
    let bob_at = ts_f64(bob["received_at"].as_f64().unwrap());
    let after = secs_between(triggered, bob_at);
    assert!(after >= 1.45, "step 2 paged {after:.3}s after the trigger");
    let escalated = event_time(&d, id, "escalated", "").unwrap();
    assert!(secs_between(triggered, escalated) >= 1.45);
    // Alice's pages came before the escalation.
    assert!(ts_f64(alice["received_at"].as_f64().unwrap()) < escalated);
    assert!(ts(first_hook.at) < escalated);

    // Recovery: resolved, and one "resolved" page to each of alice (mail, hook) and bob.
    target.set_status(200);
    d.wait_for("auto-resolve", Duration::from_secs(10), || {
        (d.json(&["show", "1"])["incident"]["state"] == "resolved").then_some(())
    });
    d.wait_for("resolved pages delivered", Duration::from_secs(10), || {
        let done = messages(&d, id, "delivery")
            .iter()
            .filter(|m| m.ends_with("delivered"))
            .count();
        (done >= 6).then_some(())
    });
    let mails = smtp.messages();
    assert_eq!(
        mails_to(&mails, "alice@example.com", "[oncalld] RESOLVED #1 web").len(),
        1
    );
    assert_eq!(
        mails_to(&mails, "bob@example.com", "[oncalld] RESOLVED #1 web").len(),
        1
    );
    assert_eq!(
        mails.len(),
        4,
        "two triggered/escalated and two resolved mails"
    );
    let hooks = hook.received();
    let resolved: Vec<_> = hooks
        .iter()
        .filter(|r| r.json()["event"] == "resolved")
        .collect();
    assert_eq!(
        resolved.len(),
        1,
        "{:?}",
        hooks.iter().map(|r| r.json()).collect::<Vec<_>>()
    );
    assert_eq!(resolved[0].json()["incident"]["state"], "resolved");
    assert_eq!(hooks.len(), 2);
    // Threading: the first and the resolved mail share the incident's thread root.
    let root = |m: &serde_json::Value| m["headers"]["references"][0].as_str().map(str::to_string);
    let resolved_mail = &mails_to(&mails, "alice@example.com", "[oncalld] RESOLVED")[0];
    let thread = root(resolved_mail).unwrap();
    assert!(thread.starts_with("<oncalld.1."), "{resolved_mail}");
    assert_eq!(
        resolved_mail["headers"]["in-reply-to"][0].as_str(),
        Some(thread.as_str())
    );
    assert_eq!(root(&alice).as_deref(), Some(thread.as_str()), "{alice}");
    assert_eq!(root(&bob).as_deref(), Some(thread.as_str()), "{bob}");
    // The timeline: each page queued, then delivered on the first attempt.
    let paged = messages(&d, id, "paged");
    assert_eq!(paged.len(), 6, "{paged:?}");
    let deliveries = messages(&d, id, "delivery");
    assert_eq!(deliveries.len(), 6, "{deliveries:?}");
    assert!(
        deliveries
            .iter()
            .all(|m| m.contains("(attempt 1): delivered")),
        "{deliveries:?}"
    );
}

#[test]
fn a_page_without_an_address_reads_without_to() {
    let target = Target::start();
    let d = Daemon::start(&format!(
        r#"
[[check]]
name = "web"
type = "http"
url = "{}"
interval = "1s"
retries = 1
timeout = "1s"

[notifiers.log]
type = "console"

[people.alice]
notify = [{{ via = "log" }}]

[policies.default]
[[policies.default.steps]]
notify = ["person:alice"]
escalate_after = "1h"
"#,
        target.url()
    ));
    target.set_status(503);
    let id = wait_incident(&d);
    let paged = d.wait_for("the paged event", Duration::from_secs(5), || {
        messages(&d, id, "paged").first().cloned()
    });
    assert_eq!(paged, "paged alice via log (step 1, triggered)");
    d.wait_for("the console page delivered", Duration::from_secs(5), || {
        messages(&d, id, "delivery")
            .iter()
            .any(|m| m == "page to alice via log (attempt 1): delivered")
            .then_some(())
    });
}
