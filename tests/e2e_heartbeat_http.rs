//! Heartbeat checks pinged over HTTP end to end (SPEC §10): the real daemon with
//! `daemon.listen`, pinged with the real `curl` the way a crontab line does it.
//!
//! Needs `type = "heartbeat"` checks in the build; where the config refuses them, the test
//! prints a note and returns (the listener alone is covered by tests/daemon_listen.rs).

mod daemon_support;
mod support;

use std::process::Command;
use std::time::Duration;

use daemon_support::{BIN, Daemon};
use serde_json::Value;

const JOB_TOKEN: &str = "job-token-0123456789";

fn config() -> String {
    format!(
        r#"
[[check]]
name = "job"
type = "heartbeat"
token = "{JOB_TOKEN}"
period = "1h"
grace = "1h"

[notifiers.log]
type = "console"

[people.alice]
notify = [{{ via = "log" }}]

[policies.default]
[[policies.default.steps]]
notify = ["person:alice"]
escalate_after = "1h"
"#
    )
}

/// `curl -fsS -m 10 --retry 5 [extra..] URL`: stdout, or a panic.
fn curl_ok(extra: &[&str], url: &str) -> String {
    let out = Command::new("curl")
        .args(["-fsS", "-m", "10", "--retry", "5"])
        .args(extra)
        .arg(url)
        .output()
        .expect("curl is installed");
    assert!(
        out.status.success(),
        "curl {url}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn code(url: &str) -> String {
    let out = Command::new("curl")
        .args([
            "-sS",
            "-m",
            "10",
            "-o",
            "/dev/null",
            "-w",
            "%{http_code}",
            url,
        ])
        .output()
        .expect("curl is installed");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn job(d: &Daemon) -> Value {
    let status = d.json(&["status"]);
    status["checks"]
        .as_array()
        .and_then(|a| a.iter().find(|c| c["name"] == "job"))
        .cloned()
        .unwrap_or_else(|| panic!("no check job in {status}"))
}

fn open_incident(d: &Daemon) -> Option<u64> {
    let status = d.json(&["status"]);
    status["incidents"]
        .as_array()?
        .iter()
        .find(|i| i["check"] == "job")
        .and_then(|i| i["id"].as_u64())
}

/// Whether this build knows heartbeat checks (`check-config` accepts the file).
fn heartbeats_supported(d: &Daemon) -> bool {
    let out = Command::new(BIN)
        .args(["check-config", "-c"])
        .arg(&d.config)
        .output()
        .unwrap();
    out.status.success()
}

#[test]
fn curl_pings_drive_a_heartbeat_check() {
    let mut d = Daemon::unstarted(&config(), "UTC");
    if !heartbeats_supported(&d) {
        println!("NOTE: this build has no heartbeat checks; test skipped");
        return;
    }
    let port = support::free_port();
    let file = std::fs::read_to_string(&d.config).unwrap();
    let file = file.replacen(
        "time_zone = \"UTC\"\n",
        &format!("time_zone = \"UTC\"\nlisten = \"127.0.0.1:{port}\"\n"),
        1,
    );
    std::fs::write(&d.config, file).unwrap();
    let log = std::fs::File::create(&d.log).unwrap();
    d.spawn_with(log.into(), "debug");
    let url = |suffix: &str| format!("http://127.0.0.1:{port}/ping/{JOB_TOKEN}{suffix}");
    assert_eq!(job(&d)["state"], "NEW");

    assert_eq!(curl_ok(&[], &url("")), "OK");
    assert_eq!(job(&d)["state"], "UP");

    // Exit code 2 with the job's output: DOWN at once, the first line the summary.
    let mut body = b"disk full\nrsync: error 23\n".to_vec();
    body.resize(20_000, b'x');
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("out.log");
    std::fs::write(&file, &body).unwrap();
    let data = format!("@{}", file.display());
    assert_eq!(curl_ok(&["--data-binary", &data], &url("/2")), "OK");
    let id = d.wait_for("an incident", Duration::from_secs(3), || open_incident(&d));
    let shown = d.json(&["show", &id.to_string()]);
    assert_eq!(shown["incident"]["summary"], "disk full", "{shown}");
    assert!(d.ok(&["show", &id.to_string()]).contains("rsync: error 23"));

    // HEAD /0 is a success: resolved.
    let head = curl_ok(&["-I"], &url("/0"));
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    d.wait_for("resolved", Duration::from_secs(3), || {
        open_incident(&d).is_none().then_some(())
    });

    // A run with its id: start, then success; /log changes nothing.
    let rid = "?rid=4b1a3b8c-9d0e-4f5a-8b6c-7d8e9f0a1b2c";
    assert_eq!(curl_ok(&[], &url(&format!("/start{rid}"))), "OK");
    assert_eq!(curl_ok(&[], &url(rid)), "OK");
    assert_eq!(curl_ok(&["--data-binary", "note"], &url("/log")), "OK");
    assert_eq!(job(&d)["state"], "UP");
    assert_eq!(open_incident(&d), None);

    let other = format!("http://127.0.0.1:{port}/ping/no-such-token-0123456789");
    assert_eq!(code(&other), "404");
    assert_eq!(code(&url("/256")), "400");
    d.stop();
    let log = d.log_text();
    assert!(!log.contains(JOB_TOKEN), "a token was logged:\n{log}");
    assert!(!log.contains("no-such-token"), "a token was logged:\n{log}");
}

/// `n` pings `GET /ping/burst-token-NN-0123456789` sent at the same instant over `n`
/// connections; every answer must be 200.
fn burst(port: u16, n: usize) {
    use std::io::{Read, Write};
    let gate = std::sync::Arc::new(std::sync::Barrier::new(n));
    let threads: Vec<_> = (0..n)
        .map(|i| {
            let gate = gate.clone();
            std::thread::spawn(move || {
                let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
                s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
                gate.wait();
                let req = format!(
                    "GET /ping/burst-token-{i:02}-0123456789 HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"
                );
                s.write_all(req.as_bytes()).unwrap();
                let mut answer = String::new();
                s.read_to_string(&mut answer).unwrap();
                answer
            })
        })
        .collect();
    for t in threads {
        let answer = t.join().unwrap();
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    }
}

/// Each `bNN` check's `last_ping` in `status`.
fn last_pings(d: &Daemon, n: usize) -> Vec<Value> {
    let status = d.json(&["status"]);
    let checks = status["checks"].as_array().unwrap();
    (0..n)
        .map(|i| {
            let name = format!("b{i:02}");
            let c = checks.iter().find(|c| c["name"] == name.as_str()).unwrap();
            assert_eq!(c["state"], "UP", "{name}: {c}");
            assert!(c["last_ping"].is_string(), "{name}: {c}");
            c["last_ping"].clone()
        })
        .collect()
}

/// The `last_ping_at` of every `heartbeats` row of the store (read-only, beside the daemon).
fn stored_pings(d: &Daemon) -> Vec<(String, Option<i64>)> {
    let db = d.state.join("oncalld.db");
    let conn =
        rusqlite::Connection::open_with_flags(&db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .unwrap();
    let mut stmt = conn
        .prepare("SELECT check_name, last_ping_at FROM heartbeats ORDER BY check_name")
        .unwrap();
    stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

/// 50 heartbeat checks pinged at the same instant over 50 connections, twice, each time with a
/// `kill -9` right after the last answer.
/// - The first pings (NEW -> UP, state changes) are answered only once saved: the kill loses
///   none of them.
/// - The second (UP -> UP, routine) are answered at once and reach the store with the next
///   commit, at most ~1 s later (`FLUSH_AFTER`): a kill -9 within that second may lose their
///   last-ping times (harmless: nothing is late before `grace` after a start), one after it
///   loses none.
///
/// (Pings that arrive together share commits; how many is a speed figure, measured in
/// bench/heartbeat.sh, not asserted here.)
#[test]
fn a_burst_of_pings_is_answered_only_once_saved() {
    let n = 50;
    let mut toml = config();
    for i in 0..n {
        toml.push_str(&format!(
            "\n[[check]]\nname = \"b{i:02}\"\ntype = \"heartbeat\"\ntoken = \"burst-token-{i:02}-0123456789\"\nperiod = \"1h\"\n"
        ));
    }
    let mut d = Daemon::unstarted(&toml, "UTC");
    if !heartbeats_supported(&d) {
        println!("NOTE: this build has no heartbeat checks; test skipped");
        return;
    }
    let port = support::free_port();
    let file = std::fs::read_to_string(&d.config).unwrap();
    let file = file.replacen(
        "time_zone = \"UTC\"\n",
        &format!("time_zone = \"UTC\"\nlisten = \"127.0.0.1:{port}\"\n"),
        1,
    );
    std::fs::write(&d.config, file).unwrap();
    d.spawn();
    let commits = || -> u64 {
        let text = curl_ok(&[], &format!("http://127.0.0.1:{port}/metrics"));
        text.lines()
            .find_map(|l| l.strip_prefix("oncalld_store_commits_total "))
            .and_then(|v| v.trim().parse().ok())
            .expect("/metrics has oncalld_store_commits_total")
    };
    let before = commits();
    burst(port, n);
    let used = commits() - before;
    assert!(
        (1..=n as u64).contains(&used),
        "{used} commits for {n} pings"
    );
    d.kill9();
    d.spawn();
    let first = last_pings(&d, n);

    // Routine pings: answered before they are stored, stored within the flush interval.
    std::thread::sleep(Duration::from_millis(50));
    let stored_before = stored_pings(&d);
    burst(port, n);
    let second = last_pings(&d, n);
    assert!(
        first.iter().zip(&second).all(|(a, b)| a != b),
        "every check took its second ping"
    );
    let waited = std::time::Instant::now();
    loop {
        let stored = stored_pings(&d);
        let changed = stored
            .iter()
            .zip(&stored_before)
            .filter(|(a, b)| a.0.starts_with('b') && a != b)
            .count();
        if changed == n {
            break;
        }
        assert!(
            waited.elapsed() < Duration::from_secs(5),
            "{changed} of {n} routine pings stored after {:?}",
            waited.elapsed()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let flushed = waited.elapsed();
    d.kill9();
    d.spawn();
    assert_eq!(
        last_pings(&d, n),
        second,
        "routine pings lost after their flush"
    );
    println!("routine pings of the burst all stored {flushed:?} after their answers");
    d.stop();
}
