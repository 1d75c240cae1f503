//! The sd_notify protocol, end to end: the real `oncalld run` started the way systemd starts
//! it (`NOTIFY_SOCKET`, `WATCHDOG_USEC`, `STATE_DIRECTORY`, `RUNTIME_DIRECTORY`), with this
//! test bound to the notify socket in systemd's place.
//!
//! Waits are bounded (a hung daemon fails the test after `PATIENCE`), never asserted on.

use std::io::{Read, Write};
use std::os::unix::fs::MetadataExt;
use std::os::unix::net::{UnixDatagram, UnixStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

/// How long to wait for something the daemon should do at once, before failing.
const PATIENCE: Duration = Duration::from_secs(30);

/// A minimal config (SPEC §3): one `command` check of `true`, a console notifier.
const CONFIG: &str = r#"
[defaults]
interval = "1s"
retries = 1
policy = "default"

[[check]]
name = "truth"
type = "command"
command = ["/bin/true"]

[notifiers.log]
type = "console"

[people.alice]
notify = [{ via = "log", to = "alice" }]

[policies.default]
[[policies.default.steps]]
notify = ["person:alice"]
escalate_after = "15m"
"#;

/// One daemon under test, in its own temp dir, with the notify socket it reports to.
struct Daemon {
    child: Child,
    notify: UnixDatagram,
    dir: tempfile::TempDir,
    /// Every datagram received so far, in order.
    seen: Vec<String>,
}

impl Daemon {
    fn start() -> Self {
        Self::start_with(CONFIG, false)
    }

    /// With `journal`, `$JOURNAL_STREAM` names the daemon's stderr, as systemd sets it.
    fn start_with(config: &str, journal: bool) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path();
        for sub in ["state", "runtime", "home", "xdg", "cwd"] {
            std::fs::create_dir(p.join(sub)).unwrap();
        }
        std::fs::write(p.join("checks.toml"), config).unwrap();
        let notify = UnixDatagram::bind(p.join("notify.sock")).unwrap();
        notify
            .set_read_timeout(Some(Duration::from_millis(200)))
            .unwrap();
        let log = std::fs::File::create(p.join("daemon.log")).unwrap();
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_oncalld"));
        cmd.arg("run")
            .arg("-c")
            .arg(p.join("checks.toml"))
            .current_dir(p.join("cwd"))
            .env_clear()
            .env("PATH", "/usr/bin:/bin")
            .env("NOTIFY_SOCKET", p.join("notify.sock"))
            .env("WATCHDOG_USEC", "1000000")
            .env("STATE_DIRECTORY", p.join("state"))
            .env("RUNTIME_DIRECTORY", p.join("runtime"))
            .env("HOME", p.join("home"))
            .env("XDG_STATE_HOME", p.join("xdg"))
            .env("XDG_RUNTIME_DIR", p.join("xdg"))
            .env("ONCALLD_LOG", "debug");
        if journal {
            let meta = log.metadata().unwrap();
            cmd.env("JOURNAL_STREAM", format!("{}:{}", meta.dev(), meta.ino()));
        }
        let child = cmd
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap();
        Daemon {
            child,
            notify,
            dir,
            seen: Vec::new(),
        }
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    /// Receive datagrams until one satisfies `want`; returns it. Fails with everything seen
    /// (and the daemon's log) if it does not come within `PATIENCE` or the daemon exits.
    fn wait_for(&mut self, what: &str, want: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + PATIENCE;
        let mut buf = vec![0u8; 4096];
        while Instant::now() < deadline {
            match self.notify.recv(&mut buf) {
                Ok(n) => {
                    let msg = String::from_utf8_lossy(&buf[..n]).to_string();
                    self.seen.push(msg.clone());
                    if want(&msg) {
                        return msg;
                    }
                }
                Err(_) => {
                    if let Some(status) = self.child.try_wait().unwrap() {
                        self.fail(&format!("daemon exited ({status}) before {what}"));
                    }
                }
            }
        }
        self.fail(&format!("no {what} within {PATIENCE:?}"))
    }

    fn fail(&self, why: &str) -> ! {
        let log = std::fs::read_to_string(self.path("daemon.log")).unwrap_or_default();
        panic!("{why}\nnotifications: {:#?}\ndaemon log:\n{log}", self.seen)
    }

    fn signal(&self, signal: Signal) {
        let pid = Pid::from_raw(i32::try_from(self.child.id()).unwrap());
        kill(pid, signal).unwrap();
    }

    /// Wait (bounded) for the daemon to exit.
    fn wait_exit(&mut self) -> ExitStatus {
        let deadline = Instant::now() + PATIENCE;
        while Instant::now() < deadline {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        self.fail("the daemon did not exit")
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn is(state: &'static str) -> impl Fn(&str) -> bool {
    move |msg| msg.lines().any(|l| l == state)
}

/// A real request over the control socket; returns the status line.
fn get_status(socket: &Path) -> String {
    let mut stream = UnixStream::connect(socket).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    stream
        .write_all(b"GET /v1/status HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut response = String::new();
    let _ = stream.read_to_string(&mut response);
    response.lines().next().unwrap_or_default().to_string()
}

fn count(seen: &[String], state: &'static str) -> usize {
    seen.iter().filter(|m| is(state)(m)).count()
}

fn dir_is_empty(dir: &Path) -> bool {
    std::fs::read_dir(dir).unwrap().next().is_none()
}

#[test]
fn ready_comes_once_the_socket_serves_in_the_systemd_directories() {
    let mut d = Daemon::start();
    d.wait_for("READY=1", is("READY=1"));
    // At READY the socket in $RUNTIME_DIRECTORY already answers, and the database is open
    // in $STATE_DIRECTORY.
    let socket = d.path("runtime/oncalld.sock");
    let status_line = get_status(&socket);
    assert!(status_line.starts_with("HTTP/1.1 200"), "{status_line}");
    assert!(d.path("state/oncalld.db").is_file());
    // Nothing fell back to the user's own directories.
    assert!(dir_is_empty(&d.path("home")), "wrote under $HOME");
    assert!(dir_is_empty(&d.path("xdg")), "wrote under $XDG_*");
    assert!(
        dir_is_empty(&d.path("cwd")),
        "wrote in the working directory"
    );
    assert_eq!(count(&d.seen, "READY=1"), 1);
}

#[test]
fn watchdog_pings_keep_coming() {
    let mut d = Daemon::start();
    d.wait_for("READY=1", is("READY=1"));
    for n in 1..=3 {
        d.wait_for(&format!("WATCHDOG=1 #{n}"), is("WATCHDOG=1"));
    }
}

#[test]
fn sighup_is_bracketed_by_reloading_and_ready() {
    let mut d = Daemon::start();
    d.wait_for("READY=1", is("READY=1"));
    d.signal(Signal::SIGHUP);
    let reloading = d.wait_for("RELOADING=1", is("RELOADING=1"));
    let usec = reloading
        .lines()
        .find_map(|l| l.strip_prefix("MONOTONIC_USEC="))
        .unwrap_or_else(|| d.fail("RELOADING=1 without MONOTONIC_USEC"));
    assert!(usec.parse::<u64>().is_ok(), "{usec}");
    d.wait_for("READY=1 after the reload", is("READY=1"));
    // Still serving after the reload.
    let status_line = get_status(&d.path("runtime/oncalld.sock"));
    assert!(status_line.starts_with("HTTP/1.1 200"), "{status_line}");
}

#[test]
fn sigterm_sends_stopping_and_exits_zero() {
    let mut d = Daemon::start();
    d.wait_for("READY=1", is("READY=1"));
    d.signal(Signal::SIGTERM);
    d.wait_for("STOPPING=1", is("STOPPING=1"));
    let status = d.wait_exit();
    assert!(status.success(), "exit status {status}");
    // Exactly one READY=1 over the whole life, and the socket is cleaned up.
    assert_eq!(count(&d.seen, "READY=1"), 1, "{:#?}", d.seen);
    assert!(!d.path("runtime/oncalld.sock").exists());
}

#[test]
fn a_refused_reload_still_ends_with_ready() {
    let mut d = Daemon::start();
    d.wait_for("READY=1", is("READY=1"));
    std::fs::write(d.path("checks.toml"), "[[check]]\nname = 7\n").unwrap();
    d.signal(Signal::SIGHUP);
    d.wait_for("RELOADING=1", is("RELOADING=1"));
    // systemd keeps the unit "reloading" until READY=1: it is owed even for a refused file.
    let from = d.seen.len();
    d.wait_for("READY=1 after the refused reload", is("READY=1"));
    let refused = d.seen[from..]
        .iter()
        .any(|m| m.starts_with("STATUS=Reload refused"));
    assert!(refused, "no STATUS about the refusal: {:#?}", d.seen);
    let status_line = get_status(&d.path("runtime/oncalld.sock"));
    assert!(status_line.starts_with("HTTP/1.1 200"), "{status_line}");
}

#[test]
fn oncalld_reload_over_the_socket_is_bracketed_too() {
    let mut d = Daemon::start();
    d.wait_for("READY=1", is("READY=1"));
    let out = Command::new(env!("CARGO_BIN_EXE_oncalld"))
        .arg("reload")
        .arg("--socket")
        .arg(d.path("runtime/oncalld.sock"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    d.wait_for("RELOADING=1", is("RELOADING=1"));
    d.wait_for("READY=1 after the reload", is("READY=1"));
}

#[test]
fn under_the_journal_log_lines_carry_syslog_priorities() {
    let mut d = Daemon::start_with(CONFIG, true);
    d.wait_for("READY=1", is("READY=1"));
    d.signal(Signal::SIGTERM);
    assert!(d.wait_exit().success());
    let log = std::fs::read_to_string(d.path("daemon.log")).unwrap();
    let started = log.lines().find(|l| l.contains("oncalld started."));
    let started = started.unwrap_or_else(|| d.fail("no start-up line"));
    assert!(started.starts_with("<6>"), "{started}");
    for line in log.lines() {
        // sd-daemon(3) prefix, then the message: no timestamp of our own, no colour.
        let rest = line.strip_prefix('<').and_then(|l| l.get(2..));
        let rest = rest.unwrap_or_else(|| d.fail(&format!("no priority prefix: {line:?}")));
        assert!(!rest.starts_with(|c: char| c.is_ascii_digit()), "{line}");
        assert!(!line.contains('\u{1b}'), "colour in {line:?}");
    }
}

#[test]
fn the_installed_example_config_serves_from_the_systemd_directories() {
    // `make install` puts checks.example.toml in /etc/oncalld: it must leave `state_dir` and
    // `socket` to $STATE_DIRECTORY/$RUNTIME_DIRECTORY, or the unit's sandbox would refuse it.
    let example =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/checks.example.toml"))
            .unwrap();
    let mut d = Daemon::start_with(&example, false);
    d.wait_for("READY=1", is("READY=1"));
    let status_line = get_status(&d.path("runtime/oncalld.sock"));
    assert!(status_line.starts_with("HTTP/1.1 200"), "{status_line}");
    assert!(d.path("state/oncalld.db").is_file());
    d.signal(Signal::SIGTERM);
    assert!(d.wait_exit().success());
}
