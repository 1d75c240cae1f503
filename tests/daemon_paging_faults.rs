//! Paging when the far end misbehaves, end to end with the real daemon: SMTP down then up,
//! SMTP 550, a hanging webhook (no head-of-line blocking of the mail), webhook 429 with
//! `Retry-After`, webhook 400. Each attempt and its outcome is checked on the timeline.

mod daemon_paging_support;
mod daemon_support;
mod support;

use std::time::Duration;

use daemon_paging_support::*;
use daemon_support::{Daemon, Target};
use support::{Answer, SmtpServer, WebhookReceiver, free_port};

/// `delivery` timeline messages for one recipient and notifier, in order.
fn attempts(d: &Daemon, id: u64, who: &str, via: &str) -> Vec<String> {
    let prefix = format!("page to {who} via {via} (attempt ");
    messages(d, id, "delivery")
        .into_iter()
        .filter(|m| m.starts_with(&prefix))
        .collect()
}

#[test]
fn smtp_down_for_a_while_then_up_the_mail_arrives() {
    let rt = runtime();
    let target = Target::start();
    let hook = rt.block_on(WebhookReceiver::start(Answer::Status(200)));
    let smtp_port = free_port();
    let d = Daemon::start(&two_step_config(
        &target.url(),
        &format!("smtp://127.0.0.1:{smtp_port}"),
        &hook.url(),
        "1h",
        "1s",
    ));
    target.set_status(503);
    let id = wait_incident(&d);
    d.wait_for("two failed mail attempts", Duration::from_secs(10), || {
        (attempts(&d, id, "alice", "mail").len() >= 2).then_some(())
    });
    let smtp = SmtpServer::start_on(smtp_port, None, None);
    d.wait_for("alice's mail", Duration::from_secs(15), || {
        (!mails_to(
            &smtp.messages(),
            "alice@example.com",
            "[oncalld] TRIGGERED #1",
        )
        .is_empty())
        .then_some(())
    });
    let tries = d.wait_for("the delivery recorded", Duration::from_secs(5), || {
        let t = attempts(&d, id, "alice", "mail");
        t.last()
            .is_some_and(|m| m.ends_with("delivered"))
            .then_some(t)
    });
    assert!(tries.len() >= 3, "{tries:?}");
    let (last, failed) = tries.split_last().unwrap();
    assert!(
        last.contains(&format!("(attempt {})", tries.len())),
        "{tries:?}"
    );
    for (i, m) in failed.iter().enumerate() {
        assert!(
            m.contains(&format!("(attempt {}): failed (", i + 1)),
            "{tries:?}"
        );
        assert!(m.contains("retry at"), "{tries:?}");
    }
    // Backoff, not a busy loop: the retries are spread out (1 s, 2 s, ... with jitter).
    let times: Vec<jiff::Timestamp> = timeline(&d, id)
        .iter()
        .filter(|e| e["kind"] == "delivery")
        .filter(|e| {
            e["message"]
                .as_str()
                .unwrap()
                .starts_with("page to alice via mail")
        })
        .map(|e| e["at"].as_str().unwrap().parse().unwrap())
        .collect();
    assert!(secs_between(times[0], times[1]) >= 0.5, "{times:?}");
    assert_eq!(smtp.messages().len(), 1, "the mail arrived once");
}

#[test]
fn smtp_550_is_a_permanent_failure_and_escalation_goes_on() {
    let rt = runtime();
    let target = Target::start();
    let hook = rt.block_on(WebhookReceiver::start(Answer::Status(200)));
    let smtp = SmtpServer::start(Some("550 5.1.1 No such user"), None);
    let d = Daemon::start(&two_step_config(
        &target.url(),
        &smtp.url(),
        &hook.url(),
        "1500ms",
        "1s",
    ));
    target.set_status(503);
    let id = wait_incident(&d);
    let alice = d.wait_for("alice's mail attempt", Duration::from_secs(10), || {
        let t = attempts(&d, id, "alice", "mail");
        (!t.is_empty()).then_some(t)
    });
    assert!(
        alice[0].contains("(attempt 1): failed for good ("),
        "{alice:?}"
    );
    assert!(alice[0].contains("550"), "{alice:?}");
    // The escalation goes on: step 2 pages bob (his mail is refused the same way).
    let bob = d.wait_for("bob's mail attempt", Duration::from_secs(10), || {
        let t = attempts(&d, id, "bob", "mail");
        (!t.is_empty()).then_some(t)
    });
    assert!(bob[0].contains("failed for good"), "{bob:?}");
    assert_eq!(messages(&d, id, "escalated").len(), 1);
    // Not retried: still one attempt for alice's mail, well past a first retry's time.
    assert_eq!(attempts(&d, id, "alice", "mail").len(), 1);
    assert!(smtp.messages().is_empty());
}

#[test]
fn a_hanging_webhook_does_not_hold_back_the_mail() {
    let rt = runtime();
    let target = Target::start();
    let smtp = SmtpServer::start(None, None);
    let hook = rt.block_on(WebhookReceiver::start(Answer::Hang));
    let d = Daemon::start(&two_step_config(
        &target.url(),
        &smtp.url(),
        &hook.url(),
        "1h",
        "1s",
    ));
    target.set_status(503);
    let id = wait_incident(&d);
    let mail = d.wait_for("alice's mail", Duration::from_secs(10), || {
        mails_to(&smtp.messages(), "alice@example.com", "[oncalld] TRIGGERED")
            .first()
            .cloned()
    });
    let timed_out = d.wait_for(
        "the webhook attempt timing out",
        Duration::from_secs(10),
        || event_time(&d, id, "delivery", "via hook (attempt 1): failed"),
    );
    // The mail was in before the hanging webhook attempt gave up.
    let mail_at = ts_f64(mail["received_at"].as_f64().unwrap());
    assert!(
        mail_at < timed_out,
        "mail {mail_at}, webhook gave up {timed_out}"
    );
    let hook_try = &attempts(&d, id, "alice", "hook")[0];
    assert!(hook_try.contains("retry at"), "{hook_try}");
    assert!(!hook.received().is_empty());
}

#[test]
fn webhook_429_retry_after_is_honoured() {
    let rt = runtime();
    let target = Target::start();
    let smtp = SmtpServer::start(None, None);
    let hook = rt.block_on(WebhookReceiver::start(Answer::TooManyRequests("2".into())));
    let d = Daemon::start(&two_step_config(
        &target.url(),
        &smtp.url(),
        &hook.url(),
        "1h",
        "1s",
    ));
    target.set_status(503);
    let id = wait_incident(&d);
    d.wait_for("the first webhook attempt", Duration::from_secs(10), || {
        (!hook.received().is_empty()).then_some(())
    });
    hook.set_answer(Answer::Status(200));
    let tries = d.wait_for("the webhook delivered", Duration::from_secs(10), || {
        let t = attempts(&d, id, "alice", "hook");
        t.last()
            .is_some_and(|m| m.ends_with("delivered"))
            .then_some(t)
    });
    assert_eq!(tries.len(), 2, "{tries:?}");
    assert!(tries[0].contains("429"), "{tries:?}");
    let got = hook.received();
    assert_eq!(got.len(), 2);
    assert_eq!(got[0].key(), got[1].key());
    let gap = got[1].at.duration_since(got[0].at).unwrap();
    // Without Retry-After the first retry comes after about 1 s.
    assert!(gap >= Duration::from_millis(1900), "retried after {gap:?}");
}

#[test]
fn webhook_400_is_permanent_and_not_retried() {
    let rt = runtime();
    let target = Target::start();
    let smtp = SmtpServer::start(None, None);
    let hook = rt.block_on(WebhookReceiver::start(Answer::Status(400)));
    let d = Daemon::start(&two_step_config(
        &target.url(),
        &smtp.url(),
        &hook.url(),
        "1500ms",
        "1s",
    ));
    target.set_status(503);
    let id = wait_incident(&d);
    let tries = d.wait_for("the webhook attempt", Duration::from_secs(10), || {
        let t = attempts(&d, id, "alice", "hook");
        (!t.is_empty()).then_some(t)
    });
    assert!(
        tries[0].contains("(attempt 1): failed for good ("),
        "{tries:?}"
    );
    assert!(tries[0].contains("400"), "{tries:?}");
    // Past where a retry would have been (1 s), the escalation to bob happens; still one try.
    d.wait_for("bob's mail", Duration::from_secs(10), || {
        (!mails_to(&smtp.messages(), "bob@example.com", "[oncalld] ").is_empty()).then_some(())
    });
    assert_eq!(attempts(&d, id, "alice", "hook").len(), 1);
    assert_eq!(hook.received().len(), 1);
}
