//! Shared by the end-to-end tests: the real `oncalld` binary run as a daemon in a temp dir
//! (its own state dir and socket), driven through its real CLI and socket, plus an HTTP
//! target on 127.0.0.1 whose answer the test flips.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU16, Ordering};
use std::time::{Duration, Instant};

use tempfile::TempDir;

pub const BIN: &str = env!("CARGO_BIN_EXE_oncalld");

/// A daemon under test. Dropping it kills the process.
pub struct Daemon {
    pub dir: TempDir,
    pub config: PathBuf,
    pub socket: PathBuf,
    pub state: PathBuf,
    pub log: PathBuf,
    /// The `[daemon] time_zone` written into the config (`UTC` unless started with a zone).
    pub zone: String,
    child: Option<Child>,
}

impl Daemon {
    /// Write `config_toml` (its `[daemon]` state_dir and socket are added here: do not set
    /// them) and start the daemon; returns once the socket answers `status`.
    pub fn start(config_toml: &str) -> Daemon {
        Daemon::start_with_zone(config_toml, "UTC")
    }

    /// [`Daemon::start`] with `[daemon] time_zone = zone` (an IANA name, e.g. `Europe/Paris`).
    pub fn start_with_zone(config_toml: &str, zone: &str) -> Daemon {
        let mut d = Daemon::unstarted(config_toml, zone);
        d.spawn();
        d
    }

    /// The files of [`Daemon::start_with_zone`], written but not started: the test can
    /// prepare the state dir (a small tmpfs, an outbox) before calling [`Daemon::spawn`].
    pub fn unstarted(config_toml: &str, zone: &str) -> Daemon {
        let dir = tempfile::tempdir().unwrap();
        let state = dir.path().join("state");
        let socket = dir.path().join("oncalld.sock");
        let config = dir.path().join("checks.toml");
        let log = dir.path().join("daemon.log");
        let full = with_daemon_section(config_toml, &state, &socket, zone);
        std::fs::write(&config, full).unwrap();
        Daemon {
            dir,
            config,
            socket,
            state,
            log,
            zone: zone.to_string(),
            child: None,
        }
    }

    /// Start (again) on the same files: the state dir and outbox survive.
    pub fn spawn(&mut self) {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .unwrap();
        self.spawn_with(log.into(), "info");
    }

    /// Start with `stderr` (a pipe, a file) and `$ONCALLD_LOG = level`; returns once the
    /// socket answers. `log_text` only sees what goes to `self.log`.
    pub fn spawn_with(&mut self, stderr: Stdio, level: &str) {
        let _ = std::fs::remove_file(&self.socket);
        let child = Command::new(BIN)
            .args(["run", "-c"])
            .arg(&self.config)
            .env("ONCALLD_LOG", level)
            .env("NO_COLOR", "1")
            .env_remove("NOTIFY_SOCKET")
            .env_remove("STATE_DIRECTORY")
            .env_remove("RUNTIME_DIRECTORY")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(stderr)
            .spawn()
            .unwrap();
        self.child = Some(child);
        self.wait_ready();
    }

    fn wait_ready(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            if let Some(status) = self
                .child
                .as_mut()
                .and_then(|c| c.try_wait().ok().flatten())
            {
                panic!("daemon exited early ({status}):\n{}", self.log_text());
            }
            if self.socket.exists()
                && self
                    .cli(&["status", "--json"])
                    .status
                    .code()
                    .is_some_and(|c| c != 1)
            {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "daemon not ready:\n{}",
                self.log_text()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Run the real CLI against this daemon's socket.
    pub fn cli(&self, args: &[&str]) -> Output {
        Command::new(BIN)
            .args(args)
            .env("ONCALLD_SOCKET", &self.socket)
            .env("NO_COLOR", "1")
            .output()
            .unwrap()
    }

    /// `cli(args)` that must exit 0; returns stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.cli(args);
        assert!(
            out.status.success(),
            "oncalld {args:?} failed: {}\n{}",
            String::from_utf8_lossy(&out.stderr),
            String::from_utf8_lossy(&out.stdout)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// `cli([args.., "--json"])` parsed (whatever the exit code).
    pub fn json(&self, args: &[&str]) -> serde_json::Value {
        let mut a = args.to_vec();
        a.push("--json");
        let out = self.cli(&a);
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
            panic!(
                "oncalld {a:?}: not JSON ({e}): {}\n{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            )
        })
    }

    /// Poll `f` every 20 ms until it returns Some, or panic after `limit` with the daemon log.
    pub fn wait_for<T>(&self, what: &str, limit: Duration, mut f: impl FnMut() -> Option<T>) -> T {
        let deadline = Instant::now() + limit;
        loop {
            if let Some(v) = f() {
                return v;
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {what}\n--- daemon log ---\n{}",
                self.log_text()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(|c| c.id())
    }

    /// SIGKILL, no chance to clean up (a crash).
    pub fn kill9(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// SIGTERM and wait; returns the exit code.
    pub fn stop(&mut self) -> Option<i32> {
        let mut c = self.child.take()?;
        unsafe { libc::kill(c.id() as i32, libc::SIGTERM) };
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Ok(Some(status)) = c.try_wait() {
                return status.code();
            }
            if Instant::now() > deadline {
                let _ = c.kill();
                panic!("daemon ignored SIGTERM:\n{}", self.log_text());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Send a signal (e.g. SIGHUP) to the running daemon.
    pub fn signal(&self, sig: i32) {
        if let Some(pid) = self.pid() {
            unsafe { libc::kill(pid as i32, sig) };
        }
    }

    /// Replace the config file (keeping the `[daemon]` section this harness adds).
    pub fn rewrite_config(&self, config_toml: &str) {
        std::fs::write(
            &self.config,
            with_daemon_section(config_toml, &self.state, &self.socket, &self.zone),
        )
        .unwrap();
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        self.kill9();
    }
}

fn with_daemon_section(config_toml: &str, state: &Path, socket: &Path, zone: &str) -> String {
    format!(
        "[daemon]\nstate_dir = {:?}\nsocket = {:?}\ntime_zone = {zone:?}\n\n{config_toml}",
        state.display().to_string(),
        socket.display().to_string()
    )
}

/// An HTTP server on 127.0.0.1 answering every request with the current status (200 at
/// start); `set_status` flips it. Runs on its own thread until the process ends.
#[derive(Clone)]
pub struct Target {
    pub port: u16,
    status: Arc<AtomicU16>,
}

impl Target {
    pub fn start() -> Target {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let status = Arc::new(AtomicU16::new(200));
        let s = status.clone();
        std::thread::spawn(move || {
            use std::io::{Read, Write};
            for conn in listener.incoming() {
                let Ok(mut conn) = conn else { continue };
                let code = s.load(Ordering::SeqCst);
                std::thread::spawn(move || {
                    let mut buf = [0u8; 4096];
                    let _ = conn.set_read_timeout(Some(Duration::from_secs(2)));
                    let _ = conn.read(&mut buf);
                    let body = format!("status {code}");
                    let _ = write!(
                        conn,
                        "HTTP/1.1 {code} X\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                        body.len()
                    );
                });
            }
        });
        Target { port, status }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}/", self.port)
    }

    pub fn set_status(&self, code: u16) {
        self.status.store(code, Ordering::SeqCst);
    }
}

/// A webhook notifier `hook` at `url`, people alice and bob reached through it, and a
/// `default` policy paging alice, then bob after `escalate_after` (the shape most end-to-end
/// tests need to see who was paged, and when).
pub fn alice_then_bob_via_webhook(url: &str, escalate_after: &str) -> String {
    format!(
        r#"
[notifiers.hook]
type = "webhook"
url = "{url}"

[people.alice]
notify = [{{ via = "hook", to = "alice" }}]
[people.bob]
notify = [{{ via = "hook", to = "bob" }}]

[policies.default]
[[policies.default.steps]]
notify = ["person:alice"]
escalate_after = "{escalate_after}"
[[policies.default.steps]]
notify = ["person:bob"]
escalate_after = "1h"
"#
    )
}

/// One HTTP check `web` on `url` (1 s probes, DOWN after `retries` failures) paging alice on the
/// console: the smallest config that opens an incident and pages.
pub fn web_to_console(url: &str, retries: u32) -> String {
    format!(
        r#"
[[check]]
name = "web"
type = "http"
url = "{url}"
interval = "1s"
retry_interval = "1s"
retries = {retries}
timeout = "1s"

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
