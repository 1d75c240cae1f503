//! Issue 11's reproductions of hostile or careless clients, against the real daemon binary on
//! its real socket (SPEC §9): silence floods with 32,000-character globs, the 1,001st silence,
//! a 4 KiB+ note, ids past 2^63, and 500 trickling plus 70 slow-body clients while
//! `oncalld status` must still answer in under a second. Each prints what it measured.

mod abuse_support;
mod daemon_support;

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use abuse_support::{Crowd, raise_fd_limit};
use daemon_support::{Daemon, Target};

fn config(target: &Target) -> String {
    daemon_support::web_to_console(&target.url(), 1)
}

/// One request on a fresh connection; (status, body). Bounded in time.
fn request(socket: &Path, method: &str, uri: &str, body: &str) -> (u16, String) {
    let mut s = UnixStream::connect(socket).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(15))).unwrap();
    s.set_write_timeout(Some(Duration::from_secs(15))).unwrap();
    let head = format!(
        "{method} {uri} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    let _ = s.write_all(head.as_bytes());
    let _ = s.write_all(body.as_bytes());
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    let text = String::from_utf8_lossy(&out).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    (status, body.to_string())
}

/// The daemon's resident set, in KiB.
fn rss_kib(d: &Daemon) -> u64 {
    let pid = d.pid().expect("daemon running");
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .expect("VmRSS in /proc/PID/status")
}

fn silence(pattern: &str) -> String {
    serde_json::json!({ "pattern": pattern, "for": "1h" }).to_string()
}

#[test]
fn silence_floods_are_refused_and_memory_stays_flat() {
    let target = Target::start();
    let d = Daemon::start(&config(&target));
    let before = rss_kib(&d);
    let glob = "*a".repeat(16_000);
    for i in 0..50 {
        let (st, body) = request(&d.socket, "POST", "/v1/silences", &silence(&glob));
        assert_eq!(st, 413, "POST {i} of a 32,000-char pattern: {body}");
    }
    let growth = rss_kib(&d).saturating_sub(before);
    println!("50 silence POSTs with 32,000-char patterns: RSS growth {growth} KiB");
    assert!(growth < 8 * 1024, "RSS grew {growth} KiB");

    for i in 0..1000 {
        let (st, body) = request(
            &d.socket,
            "POST",
            "/v1/silences",
            &silence(&format!("x{i}")),
        );
        assert_eq!(st, 201, "silence {i}: {body}");
    }
    let (st, body) = request(&d.socket, "POST", "/v1/silences", &silence("one-more"));
    assert_eq!(st, 409, "the 1,001st silence: {body}");
    assert!(body.contains("too many active silences"), "{body}");
    let listed = d.json(&["silences"]);
    let active = listed
        .as_array()
        .map_or(0, |a| a.iter().filter(|s| s["active"] == true).count());
    assert_eq!(active, 1000, "nothing stored beyond the limit");
}

#[test]
fn long_note_on_ack_is_refused_and_the_incident_not_acked() {
    let target = Target::start();
    let d = Daemon::start(&config(&target));
    target.set_status(500);
    let id = d.wait_for("an incident", Duration::from_secs(15), || {
        d.json(&["status"])["incidents"][0]["id"].as_u64()
    });
    let note = "n".repeat(4097);
    let ack = serde_json::json!({ "message": note }).to_string();
    let (st, body) = request(&d.socket, "POST", &format!("/v1/incidents/{id}/ack"), &ack);
    assert!(st == 413 || st == 400, "{st} {body}");
    let text = serde_json::json!({ "text": note }).to_string();
    let (st, body) = request(
        &d.socket,
        "POST",
        &format!("/v1/incidents/{id}/notes"),
        &text,
    );
    assert!(st == 413 || st == 400, "{st} {body}");
    let detail = d.json(&["show", &id.to_string()]);
    assert_eq!(detail["incident"]["state"], "triggered", "{detail}");
    let timeline = detail["timeline"].to_string();
    assert!(!timeline.contains("nnnn"), "nothing of the note stored");
}

#[test]
fn ids_past_2_pow_63_are_400() {
    let target = Target::start();
    let d = Daemon::start(&config(&target));
    for id in ["18446744073709551615", "9223372036854775808", "0"] {
        for (method, uri) in [
            ("GET", format!("/v1/incidents/{id}")),
            ("POST", format!("/v1/incidents/{id}/ack")),
            ("DELETE", format!("/v1/silences/{id}")),
        ] {
            let (st, body) = request(&d.socket, method, &uri, "");
            assert_eq!(st, 400, "{method} {uri}: {body}");
            assert!(body.contains("bad id"), "{body}");
        }
    }
    let out = d.cli(&["ack", "18446744073709551615"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("bad id"));
}

#[test]
fn slow_crowd_does_not_starve_status() {
    raise_fd_limit(4096);
    let target = Target::start();
    let d = Daemon::start(&config(&target));
    for _ in 0..3 {
        d.ok(&["status"]);
    }
    let before = rss_kib(&d);
    let socket: PathBuf = d.socket.clone();
    let crowd = Crowd::start(&socket, 500, 70);
    crowd.wait_connected(570, Duration::from_secs(20));
    // Probe through two rounds of the 10 s deadline, while the crowd reconnects.
    let mut worst = Duration::ZERO;
    let mut peak = before;
    let until = Instant::now() + Duration::from_secs(14);
    while Instant::now() < until {
        let t = Instant::now();
        let out = d.cli(&["status"]);
        let took = t.elapsed();
        assert!(
            matches!(out.status.code(), Some(0 | 2)),
            "status under the crowd: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        worst = worst.max(took);
        peak = peak.max(rss_kib(&d));
        std::thread::sleep(Duration::from_millis(500));
    }
    let closes = crowd.stop();
    let growth = peak.saturating_sub(before);
    println!(
        "500 trickling + 70 slow-body clients: slowest `oncalld status` {} ms, \
         daemon RSS {before} KiB -> peak {peak} KiB (growth {} KiB); slow bodies closed after \
         {:?} (first) .. {:?} (last)",
        worst.as_millis(),
        growth,
        closes.first(),
        closes.last(),
    );
    assert!(worst < Duration::from_secs(1), "status took {worst:?}");
    assert!(growth < 20 * 1024, "RSS grew {growth} KiB");
    assert!(!closes.is_empty(), "slow-body clients were closed");
    assert!(
        closes.iter().all(|c| *c < Duration::from_secs(13)),
        "a stalled body is closed by the 10 s deadline: {closes:?}"
    );
}
