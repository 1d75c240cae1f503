//! End to end, real daemon: the socket as any HTTP client sees it. curl works; garbage,
//! invalid JSON, a huge body and a crowd of idle connections are answered or dropped and
//! `status` is still served; `/metrics` on the socket and on `metrics_listen`.

mod daemon_support;
mod support;

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::process::{Command, Output};
use std::time::Duration;

use daemon_support::{Daemon, Target};

fn config(target: &Target) -> String {
    daemon_support::web_to_console(&target.url(), 1)
}

fn curl(args: &[&str]) -> Output {
    Command::new("curl")
        .args(["-sS", "--max-time", "20"])
        .args(args)
        .output()
        .expect("curl (installed by .ci/setup)")
}

fn text(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Send raw bytes on a fresh connection; whatever comes back before the daemon closes it
/// (or 15 s pass: the request deadline is 10 s).
fn raw(d: &Daemon, bytes: &[u8]) -> String {
    let mut s = UnixStream::connect(&d.socket).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(15))).unwrap();
    s.set_write_timeout(Some(Duration::from_secs(5))).unwrap();
    // The daemon may answer (413) and close before reading everything: that is fine.
    let _ = s.write_all(bytes);
    let mut answer = Vec::new();
    let _ = s.read_to_end(&mut answer);
    String::from_utf8_lossy(&answer).into_owned()
}

fn assert_still_serving(d: &Daemon) {
    let out = d.cli(&["status", "--json"]);
    assert!(
        matches!(out.status.code(), Some(0 | 2)),
        "status after abuse: {}\n{}",
        String::from_utf8_lossy(&out.stderr),
        d.log_text()
    );
}

#[test]
fn curl_reads_and_acts_over_the_socket() {
    let target = Target::start();
    let d = Daemon::start(&config(&target));
    let sock = d.socket.to_str().unwrap();

    let out = curl(&["--unix-socket", sock, "http://localhost/v1/status"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["checks"][0]["name"], "web", "{v}");

    target.set_status(500);
    let id = d.wait_for("an incident", Duration::from_secs(10), || {
        d.json(&["status"])["incidents"][0]["id"].as_u64()
    });
    let out = curl(&[
        "--unix-socket",
        sock,
        "-d",
        r#"{"message":"via curl"}"#,
        &format!("http://localhost/v1/incidents/{id}/ack"),
    ]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["state"], "acknowledged", "{v}");
    assert!(
        v["acked_by"].as_str().unwrap().contains("(uid "),
        "the actor comes from SO_PEERCRED: {v}"
    );
    let out = curl(&[
        "--unix-socket",
        sock,
        "-w",
        "%{http_code}",
        "-o",
        "/dev/null",
        "http://localhost/v1/incidents/999",
    ]);
    assert_eq!(text(&out), "404");
}

#[test]
fn abuse_is_answered_or_dropped_and_status_still_served() {
    let target = Target::start();
    let d = Daemon::start(&config(&target));

    // Garbage bytes: a 400, or the connection dropped; nothing else.
    let answer = raw(&d, b"\x00\xff\xfe garbage \x01\x02\r\n\r\n");
    assert!(
        answer.is_empty() || answer.starts_with("HTTP/1.1 400"),
        "{answer:?}"
    );
    assert_still_serving(&d);

    // Invalid JSON: 400 with {"error": ...}; nothing changed.
    let body = "{not json";
    let answer = raw(
        &d,
        format!(
            "POST /v1/silences HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n\
             content-length: {}\r\nconnection: close\r\n\r\n{body}",
            body.len()
        )
        .as_bytes(),
    );
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
    assert!(answer.contains(r#"{"error":"#), "{answer}");
    assert_eq!(d.json(&["silences"]), serde_json::json!([]));

    // A huge body (1 MiB, over the 64 KiB cap): 413 or dropped, and nothing changed.
    let huge = format!(
        r#"{{"pattern":"*","for":"1h","message":"{}"}}"#,
        "x".repeat(1 << 20)
    );
    let answer = raw(
        &d,
        format!(
            "POST /v1/silences HTTP/1.1\r\nhost: x\r\ncontent-length: {}\r\n\
             connection: close\r\n\r\n{huge}",
            huge.len()
        )
        .as_bytes(),
    );
    assert!(
        answer.is_empty() || answer.starts_with("HTTP/1.1 413"),
        "{}",
        &answer[..answer.len().min(300)]
    );
    assert_eq!(d.json(&["silences"]), serde_json::json!([]));
    let big = d.dir.path().join("big.json");
    std::fs::write(&big, &huge).unwrap();
    let out = curl(&[
        "--unix-socket",
        d.socket.to_str().unwrap(),
        "-w",
        "%{http_code}",
        "-o",
        "/dev/null",
        "-H",
        "content-type: application/json",
        "--data-binary",
        &format!("@{}", big.display()),
        "http://localhost/v1/silences",
    ]);
    assert_eq!(text(&out), "413");
    assert_still_serving(&d);

    // Unknown endpoint and wrong method: JSON errors.
    let answer = raw(
        &d,
        b"GET /nope HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n",
    );
    assert!(answer.starts_with("HTTP/1.1 404"), "{answer}");
    let answer = raw(
        &d,
        b"DELETE /v1/status HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n",
    );
    assert!(answer.starts_with("HTTP/1.1 405"), "{answer}");

    // 100 idle connections and one that sends half a request head (more than the 64 served
    // at once): the daemon drops them after its header timeout and `status` gets through.
    let mut idle: Vec<UnixStream> = (0..100)
        .map(|_| UnixStream::connect(&d.socket).unwrap())
        .collect();
    let mut slow = UnixStream::connect(&d.socket).unwrap();
    slow.write_all(b"GET /v1/status HTTP/1.1\r\nhost: x\r\n")
        .unwrap();
    idle.push(slow);
    assert_still_serving(&d);
    for mut c in idle.into_iter().take(10) {
        c.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
        let mut buf = Vec::new();
        // Closed by the daemon (EOF or reset), or answered: never left hanging.
        let r = c.read_to_end(&mut buf);
        assert!(
            r.is_ok()
                || r.as_ref()
                    .is_err_and(|e| e.kind() == std::io::ErrorKind::ConnectionReset),
            "{r:?}"
        );
    }
    assert_still_serving(&d);
}

#[test]
fn metrics_on_the_socket_and_on_metrics_listen() {
    let target = Target::start();
    let mut d = Daemon::start(&config(&target));
    // metrics_listen goes in the [daemon] section the harness writes: add it and restart.
    let port = support::free_port();
    let file = std::fs::read_to_string(&d.config).unwrap();
    let file = file.replacen(
        "time_zone = \"UTC\"\n",
        &format!("time_zone = \"UTC\"\nmetrics_listen = \"127.0.0.1:{port}\"\n"),
        1,
    );
    d.stop();
    std::fs::write(&d.config, file).unwrap();
    d.spawn();

    let metrics = || {
        text(&curl(&[
            "--unix-socket",
            d.socket.to_str().unwrap(),
            "http://localhost/metrics",
        ]))
    };
    d.wait_for("an OK probe counted", Duration::from_secs(10), || {
        metrics()
            .contains("oncalld_probes_total{check=\"web\",result=\"OK\"}")
            .then_some(())
    });
    target.set_status(500);
    d.wait_for("an incident paged", Duration::from_secs(10), || {
        let m = text(&curl(&[
            "--unix-socket",
            d.socket.to_str().unwrap(),
            "http://localhost/metrics",
        ]));
        m.contains("oncalld_pages{notifier=\"log\",status=\"delivered\"} 1")
            .then_some(())
    });
    let unix = text(&curl(&[
        "--unix-socket",
        d.socket.to_str().unwrap(),
        "http://localhost/metrics",
    ]));
    let tcp_out = curl(&[&format!("http://127.0.0.1:{port}/metrics")]);
    assert!(
        tcp_out.status.success(),
        "{}",
        String::from_utf8_lossy(&tcp_out.stderr)
    );
    let tcp = text(&tcp_out);
    for m in [&unix, &tcp] {
        for needle in [
            "oncalld_build_info{version=\"",
            "oncalld_probes_total{check=\"web\",result=\"OK\"} ",
            "oncalld_probes_total{check=\"web\",result=\"CRITICAL\"} ",
            "oncalld_probe_duration_seconds_count{check=\"web\"} ",
            "oncalld_check_state{check=\"web\"} 2",
            "oncalld_open_incidents 1",
            "oncalld_pages{notifier=\"log\",status=\"delivered\"} 1",
            "oncalld_pages{notifier=\"log\",status=\"pending\"} 0",
            "oncalld_outbox_oldest_pending_seconds{notifier=\"log\"} ",
            "# TYPE oncalld_probes_total counter",
        ] {
            assert!(m.contains(needle), "{needle:?} missing:\n{m}");
        }
    }
    // Only /metrics on TCP: no API there (it has no peer credentials).
    let out = curl(&[
        "-w",
        "%{http_code}",
        "-o",
        "/dev/null",
        &format!("http://127.0.0.1:{port}/v1/status"),
    ]);
    assert_eq!(text(&out), "404");
}

#[test]
fn a_missing_daemon_is_one_line_naming_the_socket() {
    let dir = tempfile::tempdir().unwrap();
    let sock = dir.path().join("nobody.sock");
    let out = Command::new(daemon_support::BIN)
        .args(["status", "--socket", sock.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains(sock.to_str().unwrap()), "{err}");
}
