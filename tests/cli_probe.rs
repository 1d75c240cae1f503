//! The real binary: `oncalld probe -c FILE NAME` exit codes and output, and `oncalld run`
//! logging a state change, then exiting 0 on SIGTERM.

use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_oncalld");

/// A config with its state and socket in `dir`, a console notifier and a one-step policy,
/// plus `checks`.
fn config(dir: &Path, checks: &str) -> PathBuf {
    let text = format!(
        r#"
[daemon]
state_dir = "{state}"
socket = "{socket}"

[notifiers.log]
type = "console"

[policies.default]
repeat = 0
[[policies.default.steps]]
notify = ["notifier:log"]
escalate_after = "15m"

{checks}
"#,
        state = dir.join("state").display(),
        socket = dir.join("oncalld.sock").display(),
    );
    let path = dir.join("checks.toml");
    std::fs::write(&path, text).unwrap();
    path
}

fn script(dir: &Path, name: &str, body: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path.to_str().unwrap().to_string()
}

fn probe(cfg: &Path, args: &[&str]) -> Output {
    Command::new(BIN)
        .arg("probe")
        .arg("-c")
        .arg(cfg)
        .args(args)
        .output()
        .unwrap()
}

/// An HTTP server answering every request with `status`, on a thread.
fn http_server(status: &'static str) -> String {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/", l.local_addr().unwrap());
    std::thread::spawn(move || {
        for mut s in l.incoming().flatten() {
            let mut buf = [0u8; 4096];
            let _ = s.read(&mut buf);
            let resp =
                format!("HTTP/1.1 {status}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
            let _ = s.write_all(resp.as_bytes());
        }
    });
    url
}

#[test]
fn probe_exit_codes_and_output() {
    let dir = tempfile::tempdir().unwrap();
    let ok = script(dir.path(), "ok", "echo 'all fine | x=1'; exit 0");
    let warn = script(dir.path(), "warn", "echo 'a bit off'; exit 1");
    let url = http_server("503 Service Unavailable");
    let cfg = config(
        dir.path(),
        &format!(
            r#"
[[check]]
name = "good"
type = "command"
command = ["{ok}"]

[[check]]
name = "meh"
type = "command"
command = ["{warn}"]

[[check]]
name = "website"
type = "http"
url = "{url}"
"#
        ),
    );
    let out = probe(&cfg, &["good"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert_eq!(stdout.trim_end(), "good: OK - all fine | x=1");

    let out = probe(&cfg, &["meh"]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim_end(),
        "meh: WARNING - a bit off"
    );

    let out = probe(&cfg, &["website"]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.starts_with("website: CRITICAL - HTTP 503 in "),
        "{stdout}"
    );
    assert!(stdout.contains("(expected 200)"), "{stdout}");

    let out = probe(&cfg, &["website", "--json"]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["check"], "website");
    assert_eq!(v["status"], "CRITICAL");
    assert_eq!(v["type"], "http");
    assert!(v["duration_ms"].as_f64().is_some(), "{v}");

    let out = probe(&cfg, &["nope"]);
    assert_eq!(out.status.code(), Some(3), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("no check named \"nope\""));
}

#[test]
fn probe_with_an_invalid_config_is_unknown() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("bad.toml");
    std::fs::write(&cfg, "[[check]]\nname = 1\n").unwrap();
    let out = probe(&cfg, &["x"]);
    assert_eq!(out.status.code(), Some(3), "{out:?}");
}

#[test]
fn run_logs_state_changes_and_exits_0_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let fail = script(dir.path(), "fail", "echo 'it broke'; exit 2");
    let cfg = config(
        dir.path(),
        &format!(
            r#"
[[check]]
name = "broken"
type = "command"
command = ["{fail}"]
interval = "1s"
retry_interval = "1s"
retries = 2
"#
        ),
    );
    let mut child = Command::new(BIN)
        .args(["run", "-c"])
        .arg(&cfg)
        .env("RUST_LOG", "info")
        .env("NO_COLOR", "1")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                return;
            }
        }
    });
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut log = Vec::new();
    let mut went_down = false;
    while Instant::now() < deadline && !went_down {
        if let Ok(line) = rx.recv_timeout(Duration::from_millis(100)) {
            went_down = line.contains("Check state changed.")
                && line.contains("check=broken")
                && line.contains("to=DOWN")
                && line.contains("it broke");
            log.push(line);
        }
    }
    assert!(went_down, "no DOWN transition logged:\n{}", log.join("\n"));
    assert!(
        log.iter()
            .any(|l| l.contains("Check state changed.") && l.contains("to=FAILING(1)"))
    );
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(child.id() as i32),
        nix::sys::signal::Signal::SIGTERM,
    )
    .unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(Instant::now() < deadline, "still running after SIGTERM");
        std::thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(status.code(), Some(0));
}

#[test]
fn run_refuses_an_invalid_config() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("bad.toml");
    std::fs::write(&cfg, "[[check]]\nname = 1\n").unwrap();
    let out = Command::new(BIN)
        .args(["run", "-c"])
        .arg(&cfg)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{out:?}");
}
