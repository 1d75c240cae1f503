//! Acting from the page (SPEC §13), end to end: the real daemon with `public_url` and a TCP
//! listener, a real HTTP target, a real SMTP server (aiosmtpd) and a real webhook receiver;
//! the links are followed with curl. GET changes nothing; POST acknowledges and escalation
//! stops (no step-2 mail); reuse, a damaged token, another incident's token and an expired
//! one are refused with what happened, and change nothing.

mod daemon_paging_support;
mod daemon_support;
mod support;

use std::os::unix::fs::PermissionsExt;
use std::process::Command;
use std::time::{Duration, Instant};

use daemon_paging_support::*;
use daemon_support::{Daemon, Target};
use oncalld::link::{Claims, LinkAction, LinkKey, sign};
use support::{Answer, SmtpServer, WebhookReceiver};

/// (status code, body) of `curl -sS [-X POST] URL`.
fn curl(method: &str, url: &str) -> (u16, String) {
    let out = Command::new("curl")
        .args(["-sS", "-m", "10", "-X", method, "-w", "\n%{http_code}", url])
        .output()
        .expect("curl is installed");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let (body, code) = text.rsplit_once('\n').unwrap_or(("", &text));
    (code.trim().parse().unwrap_or(0), body.to_string())
}

/// The daemon of [`two_step_config`] (step 2 after `escalate_after`) with `listen` and
/// `public_url` on a free port; returns it and the base URL.
fn start(
    target: &Target,
    smtp: &SmtpServer,
    hook: &WebhookReceiver,
    escalate_after: &str,
) -> (Daemon, String) {
    let mut d = Daemon::unstarted(
        &two_step_config(
            &target.url(),
            &smtp.url(),
            &hook.url(),
            escalate_after,
            "2s",
        ),
        "UTC",
    );
    let port = support::free_port();
    let base = format!("http://127.0.0.1:{port}");
    let file = std::fs::read_to_string(&d.config).unwrap();
    let file = file.replacen(
        "time_zone = \"UTC\"\n",
        &format!("time_zone = \"UTC\"\nlisten = \"127.0.0.1:{port}\"\npublic_url = \"{base}/\"\n"),
        1,
    );
    std::fs::write(&d.config, file).unwrap();
    d.spawn();
    (d, base)
}

fn state(d: &Daemon, id: u64) -> String {
    d.json(&["show", &id.to_string()])["incident"]["state"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

#[test]
fn ack_from_the_page_stops_escalation_and_links_cannot_be_reused_or_forged() {
    let rt = runtime();
    let target = Target::start();
    let smtp = SmtpServer::start(None, None);
    let hook = rt.block_on(WebhookReceiver::start(Answer::Status(200)));
    let (d, base) = start(&target, &smtp, &hook, "5s");
    let key_file = d.state.join("link.key");
    let mode = std::fs::metadata(&key_file).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "the key is private");
    target.set_status(503);
    let id = wait_incident(&d);
    let page = d.wait_for("alice's webhook page", Duration::from_secs(10), || {
        hook.received().first().map(|r| r.json())
    });
    let started = Instant::now();
    let ack = page["links"]["ack"].as_str().unwrap().to_string();
    let resolve = page["links"]["resolve"].as_str().unwrap().to_string();
    assert!(ack.starts_with(&format!("{base}/a/v1.{id}.a.")), "{ack}");
    assert!(
        resolve.starts_with(&format!("{base}/a/v1.{id}.r.")),
        "{resolve}"
    );

    // GET shows the incident and a button, and changes nothing.
    let (code, html) = curl("GET", &ack);
    assert_eq!(code, 200, "{html}");
    assert!(html.contains("<form method=\"post\">"), "{html}");
    assert!(html.contains(&format!("Acknowledge #{id}")), "{html}");
    assert!(html.contains("web"), "{html}");
    assert_eq!(state(&d, id), "triggered");
    assert!(messages(&d, id, "acknowledged").is_empty());

    // POST acknowledges, as alice (link), durably.
    let (code, html) = curl("POST", &ack);
    assert_eq!(code, 200, "{html}");
    assert!(html.contains("Acknowledged"), "{html}");
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "acked well before step 2 is due"
    );
    let shown = d.json(&["show", &id.to_string()]);
    assert_eq!(shown["incident"]["state"], "acknowledged", "{shown}");
    assert_eq!(shown["incident"]["acked_by"], "alice (link)", "{shown}");
    let acked = shown["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == "acknowledged")
        .cloned()
        .unwrap();
    assert_eq!(acked["actor"], "alice (link)");

    // Reuse says who did it and when; nothing changes.
    let (code, html) = curl("POST", &ack);
    assert_eq!(code, 409, "{html}");
    assert!(
        html.contains("already acknowledged by alice (link) at "),
        "{html}"
    );
    let (code, html) = curl("GET", &ack);
    assert_eq!(code, 409, "{html}");

    // One byte changed (in the MAC, in the incident), another incident's token, an expired
    // one: refused, nothing changed.
    let mut damaged = ack.clone().into_bytes();
    let last = damaged.len() - 1;
    damaged[last] = if damaged[last] == b'0' { b'1' } else { b'0' };
    let damaged = String::from_utf8(damaged).unwrap();
    let other_incident = ack.replacen(&format!("/a/v1.{id}."), &format!("/a/v1.{}.", id + 1), 1);
    for forged in [&damaged, &other_incident] {
        for method in ["GET", "POST"] {
            let (code, html) = curl(method, forged);
            assert_eq!(code, 403, "{method} {forged}: {html}");
            assert!(html.contains("not valid"), "{html}");
        }
    }
    let key_hex = std::fs::read_to_string(&key_file).unwrap();
    let key_bytes: [u8; 32] = hex::decode(key_hex.trim()).unwrap().try_into().unwrap();
    let key = LinkKey::from_bytes(key_bytes);
    let expired = sign(
        &key,
        &Claims {
            incident: id,
            action: LinkAction::Resolve,
            recipient: "alice".into(),
            expires: jiff::Timestamp::now() - jiff::SignedDuration::from_secs(60),
        },
    );
    let (code, html) = curl("POST", &format!("{base}/a/{expired}"));
    assert_eq!(code, 410, "{html}");
    assert!(html.contains("expired"), "{html}");
    assert_eq!(
        state(&d, id),
        "acknowledged",
        "refused links changed nothing"
    );

    // The mail carries the links too.
    let mail = d.wait_for("alice's mail", Duration::from_secs(10), || {
        mails_to(&smtp.messages(), "alice@example.com", "[oncalld] TRIGGERED")
            .first()
            .cloned()
    });
    let body = mail["body"].as_str().unwrap();
    assert!(
        body.contains(&format!("Acknowledge from a browser: {base}/a/v1.{id}.a.")),
        "{body}"
    );
    assert!(body.contains(&format!("{base}/a/v1.{id}.r.")), "{body}");

    // Escalation stopped: past step 2's time, bob got nothing.
    let until = Duration::from_millis(6500);
    std::thread::sleep(until.saturating_sub(started.elapsed()));
    assert!(
        mails_to(&smtp.messages(), "bob@example.com", "[oncalld]").is_empty(),
        "no step-2 page after the ack"
    );
    assert!(messages(&d, id, "escalated").is_empty());

    // The resolve link resolves; the ack link then says so.
    let (code, html) = curl("POST", &resolve);
    assert_eq!(code, 200, "{html}");
    assert!(html.contains("Resolved"), "{html}");
    let shown = d.json(&["show", &id.to_string()]);
    assert_eq!(shown["incident"]["state"], "resolved", "{shown}");
    assert_eq!(shown["incident"]["resolved_by"], "alice (link)", "{shown}");
    let (code, html) = curl("GET", &ack);
    assert_eq!(code, 409, "{html}");
    assert!(html.contains("already resolved by alice (link)"), "{html}");

    // The key never reaches the log.
    assert!(!d.log_text().contains(key_hex.trim()));
}

#[test]
fn link_requests_are_rate_limited_per_address() {
    let rt = runtime();
    let target = Target::start();
    let smtp = SmtpServer::start(None, None);
    let hook = rt.block_on(WebhookReceiver::start(Answer::Status(200)));
    let (_d, base) = start(&target, &smtp, &hook, "1h");
    let forged = format!("{base}/a/v1.1.a.9999999999.616c696365.{}", "0".repeat(64));
    let codes: Vec<u16> = (0..25).map(|_| curl("GET", &forged).0).collect();
    assert_eq!(codes[0], 403);
    assert!(codes.contains(&429), "{codes:?}");
    assert!(codes.iter().all(|c| *c == 403 || *c == 429), "{codes:?}");
}
