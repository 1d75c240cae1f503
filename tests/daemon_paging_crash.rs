//! Paging survives crashes and restarts: the real daemon is killed with SIGKILL (a) after the
//! incident opened while the webhook receiver is down, (b) between step 1 and step 2's
//! deadline; it is stopped with SIGTERM while a page hangs; and it refuses a corrupt database.

mod daemon_paging_support;
mod daemon_support;
mod support;

use std::time::{Duration, Instant};

use daemon_paging_support::*;
use daemon_support::{BIN, Daemon, Target};
use support::{Answer, SmtpServer, WebhookReceiver, free_port};

#[test]
fn kill9_while_the_receiver_is_down_then_every_page_arrives_with_its_key() {
    let rt = runtime();
    let target = Target::start();
    let smtp = SmtpServer::start(None, None);
    let hook_port = free_port();
    let hook_url = format!("http://127.0.0.1:{hook_port}/hook");
    let mut d = Daemon::start(&two_step_config(
        &target.url(),
        &smtp.url(),
        &hook_url,
        "1h",
        "1s",
    ));
    target.set_status(503);
    let id = wait_incident(&d);
    // The webhook page failed at least once (nothing listens) and waits for its retry.
    d.wait_for("a failed webhook attempt", Duration::from_secs(10), || {
        messages(&d, id, "delivery")
            .iter()
            .any(|m| m.contains("via hook (attempt 1): failed"))
            .then_some(())
    });
    d.kill9();

    let hook = rt.block_on(WebhookReceiver::start_on(hook_port, Answer::Status(200)));
    d.spawn();
    let got = d.wait_for(
        "the webhook page after restart",
        Duration::from_secs(15),
        || hook.received().first().cloned(),
    );
    let key = got.key();
    assert!(
        key.starts_with(&format!("oncalld:{id}:")) && key.ends_with(":alice:hook"),
        "{key}"
    );
    assert_eq!(got.json()["incident"]["id"], id);
    assert!(hook.received().iter().all(|r| r.key() == key));
    let alice = d.wait_for("alice's mail", Duration::from_secs(10), || {
        let m = mails_to(
            &smtp.messages(),
            "alice@example.com",
            "[oncalld] TRIGGERED #1 web",
        );
        (!m.is_empty()).then_some(m)
    });
    // A duplicate (sent again after the crash) would carry the same Message-ID and key.
    let ids: Vec<_> = alice
        .iter()
        .map(|m| m["headers"]["message-id"].clone())
        .collect();
    assert!(ids.iter().all(|i| *i == ids[0]), "{ids:?}");
    assert!(alice.iter().all(|m| {
        m["headers"]["x-oncalld-key"][0]
            .as_str()
            .is_some_and(|k| k.ends_with(":alice:mail"))
    }));
    // Same incident, no second one opened by the restart.
    let status = d.json(&["status"]);
    let ids: Vec<u64> = status["incidents"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|i| i["id"].as_u64())
        .collect();
    assert_eq!(ids, vec![id], "{status}\n{:#}", d.json(&["show", "1"]));
    d.wait_for(
        "the delivery on the timeline",
        Duration::from_secs(5),
        || {
            messages(&d, id, "delivery")
                .iter()
                .any(|m| m.contains("via hook") && m.ends_with("delivered"))
                .then_some(())
        },
    );
}

#[test]
fn kill9_mid_escalation_then_the_overdue_step_fires_once_after_restart() {
    let rt = runtime();
    let target = Target::start();
    let smtp = SmtpServer::start(None, None);
    let hook = rt.block_on(WebhookReceiver::start(Answer::Status(200)));
    let mut d = Daemon::start(&two_step_config(
        &target.url(),
        &smtp.url(),
        &hook.url(),
        "3s",
        "1s",
    ));
    target.set_status(503);
    let id = wait_incident(&d);
    d.wait_for("alice's step-1 mail", Duration::from_secs(10), || {
        (!mails_to(&smtp.messages(), "alice@example.com", "[oncalld] ").is_empty()).then_some(())
    });
    let triggered = event_time(&d, id, "triggered", "").unwrap();
    assert!(messages(&d, id, "escalated").is_empty(), "killed too late");
    d.kill9();
    // Stay down past step 2's deadline (trigger + 3 s).
    let deadline = triggered + jiff::SignedDuration::from_millis(3300);
    if let Ok(wait) = Duration::try_from(deadline.duration_since(jiff::Timestamp::now())) {
        std::thread::sleep(wait);
    }
    d.spawn();
    let restarted = jiff::Timestamp::now();
    d.wait_for("bob's overdue step-2 mail", Duration::from_secs(10), || {
        (!mails_to(&smtp.messages(), "bob@example.com", "[oncalld] ").is_empty()).then_some(())
    });
    d.wait_for("step 2's delivery recorded", Duration::from_secs(5), || {
        messages(&d, id, "delivery")
            .iter()
            .any(|m| m.starts_with("page to bob") && m.ends_with("delivered"))
            .then_some(())
    });
    let escalated = messages(&d, id, "escalated");
    assert_eq!(escalated.len(), 1, "{escalated:?}");
    let step2: Vec<_> = messages(&d, id, "paged")
        .into_iter()
        .filter(|m| m.contains("(step 2"))
        .collect();
    assert_eq!(step2.len(), 1, "{step2:?}");
    let bob = mails_to(&smtp.messages(), "bob@example.com", "[oncalld] ");
    assert_eq!(bob.len(), 1, "{bob:?}");
    // Fired by the restarted daemon (it was overdue while nobody ran).
    assert!(ts_f64(bob[0]["received_at"].as_f64().unwrap()) >= restarted);
    assert_eq!(d.json(&["show", &id.to_string()])["incident"]["id"], id);
}

#[test]
fn sigterm_with_a_page_in_flight_exits_0_and_the_page_resumes_on_restart() {
    let rt = runtime();
    let target = Target::start();
    let smtp = SmtpServer::start(None, None);
    let hook = rt.block_on(WebhookReceiver::start(Answer::Hang));
    let mut d = Daemon::start(&two_step_config(
        &target.url(),
        &smtp.url(),
        &hook.url(),
        "1h",
        "30s",
    ));
    target.set_status(503);
    let id = wait_incident(&d);
    d.wait_for(
        "the webhook page in flight",
        Duration::from_secs(10),
        || (!hook.received().is_empty()).then_some(()),
    );
    let asked = Instant::now();
    assert_eq!(d.stop(), Some(0), "{}", d.log_text());
    let took = asked.elapsed();
    assert!(took < Duration::from_secs(8), "SIGTERM took {took:?}");

    hook.set_answer(Answer::Status(200));
    d.spawn();
    d.wait_for(
        "the webhook page delivered after restart",
        Duration::from_secs(10),
        || {
            messages(&d, id, "delivery")
                .iter()
                .any(|m| m.contains("via hook") && m.ends_with("delivered"))
                .then_some(())
        },
    );
    let got = hook.received();
    assert!(got.len() >= 2, "{got:?}");
    assert!(got.iter().all(|r| r.key() == got[0].key()));
}

#[test]
fn a_corrupt_database_stops_start_up_with_a_one_line_error() {
    let mut d = Daemon::start(
        r#"
[notifiers.log]
type = "console"
"#,
    );
    assert_eq!(d.stop(), Some(0));
    for f in ["oncalld.db-wal", "oncalld.db-shm"] {
        let _ = std::fs::remove_file(d.state.join(f));
    }
    let garbage: Vec<u8> = (0..8192u32).map(|i| (i * 7 + 13) as u8).collect();
    std::fs::write(d.state.join("oncalld.db"), garbage).unwrap();
    let out = std::process::Command::new(BIN)
        .args(["run", "-c"])
        .arg(&d.config)
        .env("NO_COLOR", "1")
        .env_remove("ONCALLD_LOG")
        .env_remove("NOTIFY_SOCKET")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    let errors: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(errors.len(), 1, "{stderr}");
    assert!(errors[0].contains("oncalld.db"), "{stderr}");
    assert!(errors[0].contains("not an oncalld database"), "{stderr}");
}
