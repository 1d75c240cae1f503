//! The sd_notify protocol (sd_notify(3)): tells the service manager when the daemon is ready,
//! reloading or stopping, and feeds the watchdog.
//!
//! Every function is a no-op when `$NOTIFY_SOCKET` is unset (a terminal, a test, another init
//! system) and none of them can panic: a service manager that went away must not take the
//! daemon with it. A failed send is logged at `warn` and otherwise ignored.
//!
//! [`NotifySocket`] carries the socket address explicitly so tests (and callers that captured
//! the environment once at startup) need not touch the process environment.

use std::ffi::{OsStr, OsString};
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::net::{SocketAddr, UnixDatagram};
use std::time::Duration;

/// Where notifications go: the datagram socket named by `$NOTIFY_SOCKET`.
///
/// A leading `@` names a Linux abstract socket, as systemd documents.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotifySocket {
    address: OsString,
}

impl NotifySocket {
    /// A socket at `address` (a path, or `@name` for an abstract socket).
    pub fn new(address: impl Into<OsString>) -> Self {
        Self {
            address: address.into(),
        }
    }

    /// The socket systemd gave us, if any (`$NOTIFY_SOCKET`, ignored when empty).
    pub fn from_env() -> Option<Self> {
        std::env::var_os("NOTIFY_SOCKET")
            .filter(|v| !v.is_empty())
            .map(Self::new)
    }

    /// Send one notification datagram, e.g. `"READY=1"` or `"STATUS=..."` (newline-separated
    /// assignments are allowed, as in sd_notify(3)).
    pub fn send(&self, message: &str) -> io::Result<()> {
        let socket = UnixDatagram::unbound()?;
        let addr = socket_addr(&self.address)?;
        let sent = socket.send_to_addr(message.as_bytes(), &addr)?;
        if sent != message.len() {
            return Err(io::Error::new(
                io::ErrorKind::WriteZero,
                "short write to NOTIFY_SOCKET",
            ));
        }
        Ok(())
    }

    /// `READY=1`: the daemon serves (database open, work resumed, socket accepting).
    pub fn ready(&self) -> io::Result<()> {
        self.send("READY=1")
    }

    /// `RELOADING=1` with `MONOTONIC_USEC=`: systemd >= 253 requires the timestamp to match
    /// the reload to the `ExecReload=` request; older versions ignore the extra field. Follow
    /// it with [`NotifySocket::ready`] once the new config is applied (or rejected).
    pub fn reloading(&self) -> io::Result<()> {
        self.send(&reloading_message(monotonic_usec()))
    }

    /// `STOPPING=1`: shutdown has begun, so systemd does not mistake it for a crash.
    pub fn stopping(&self) -> io::Result<()> {
        self.send("STOPPING=1")
    }

    /// `WATCHDOG=1`: the engine is alive. Must come more often than `WatchdogSec=`.
    pub fn watchdog(&self) -> io::Result<()> {
        self.send("WATCHDOG=1")
    }

    /// `STATUS=...`: one line shown by `systemctl status`.
    pub fn status(&self, text: &str) -> io::Result<()> {
        self.send(&status_message(text))
    }
}

/// Turn the `$NOTIFY_SOCKET` value into an address; `@name` is abstract (Linux only).
fn socket_addr(address: &OsStr) -> io::Result<SocketAddr> {
    let bytes = address.as_bytes();
    if let Some(name) = bytes.strip_prefix(b"@") {
        #[cfg(target_os = "linux")]
        {
            use std::os::linux::net::SocketAddrExt;
            return SocketAddr::from_abstract_name(name);
        }
        #[cfg(not(target_os = "linux"))]
        {
            let _ = name;
            return Err(io::Error::new(
                io::ErrorKind::Unsupported,
                "abstract NOTIFY_SOCKET needs Linux",
            ));
        }
    }
    SocketAddr::from_pathname(address)
}

/// The RELOADING datagram for a reload started at `monotonic_usec` (CLOCK_MONOTONIC, µs).
fn reloading_message(monotonic_usec: Option<u64>) -> String {
    match monotonic_usec {
        Some(usec) => format!("RELOADING=1\nMONOTONIC_USEC={usec}"),
        None => "RELOADING=1".to_string(),
    }
}

/// `STATUS=` takes one line: anything after a newline would be read as another assignment.
fn status_message(text: &str) -> String {
    let line: String = text
        .chars()
        .map(|c| if c == '\n' || c == '\r' { ' ' } else { c })
        .collect();
    format!("STATUS={line}")
}

/// CLOCK_MONOTONIC in microseconds, the clock systemd compares `MONOTONIC_USEC` against.
fn monotonic_usec() -> Option<u64> {
    match sd_notify::NotifyState::monotonic_usec_now() {
        Ok(sd_notify::NotifyState::MonotonicUsec(usec)) => u64::try_from(usec).ok(),
        _ => None,
    }
}

/// Send through `$NOTIFY_SOCKET` if set; log (never propagate) a failure.
fn send_from_env(what: &str, send: impl FnOnce(&NotifySocket) -> io::Result<()>) {
    let Some(socket) = NotifySocket::from_env() else {
        return;
    };
    if let Err(e) = send(&socket) {
        tracing::warn!(message = "Cannot notify the service manager.", what, error = %e);
    }
}

/// Tell systemd the daemon is ready (see [`NotifySocket::ready`]). No-op outside systemd.
pub fn notify_ready() {
    send_from_env("READY=1", NotifySocket::ready);
}

/// Tell systemd a reload started (see [`NotifySocket::reloading`]); call [`notify_ready`]
/// when it is over. No-op outside systemd.
pub fn notify_reloading() {
    send_from_env("RELOADING=1", NotifySocket::reloading);
}

/// Tell systemd the daemon is shutting down. No-op outside systemd.
pub fn notify_stopping() {
    send_from_env("STOPPING=1", NotifySocket::stopping);
}

/// Set the one-line status shown by `systemctl status oncalld`. No-op outside systemd.
pub fn notify_status(text: &str) {
    send_from_env("STATUS=", |s| s.status(text));
}

/// Ping the watchdog. Call it from the task that owns the engine, every
/// [`watchdog_interval`], so a wedged engine (not only a dead process) gets restarted.
pub fn notify_watchdog() {
    send_from_env("WATCHDOG=1", NotifySocket::watchdog);
}

/// How often to ping the watchdog: half of `$WATCHDOG_USEC` (sd_watchdog_enabled(3) advice),
/// or `None` when no watchdog is armed for this process (unset, zero, unparsable, or
/// `$WATCHDOG_PID` naming another process — e.g. a plugin that inherited our environment).
pub fn watchdog_interval() -> Option<Duration> {
    let usec = std::env::var("WATCHDOG_USEC").ok();
    let pid = std::env::var("WATCHDOG_PID").ok();
    parse_watchdog(usec.as_deref(), pid.as_deref(), std::process::id())
}

/// The pure part of [`watchdog_interval`]: values of `WATCHDOG_USEC` and `WATCHDOG_PID`, and
/// our own pid.
pub fn parse_watchdog(usec: Option<&str>, pid: Option<&str>, own_pid: u32) -> Option<Duration> {
    if let Some(pid) = pid {
        match pid.trim().parse::<u32>() {
            Ok(p) if p == own_pid => {}
            _ => return None,
        }
    }
    let usec: u64 = usec?.trim().parse().ok()?;
    if usec == 0 {
        return None;
    }
    Some(Duration::from_micros(usec / 2).max(Duration::from_millis(1)))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A real datagram socket in a temp dir, bound by the test, standing in for systemd.
    struct Listener {
        _dir: tempfile::TempDir,
        socket: UnixDatagram,
        path: std::path::PathBuf,
    }

    impl Listener {
        fn new() -> Self {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("notify.sock");
            let socket = UnixDatagram::bind(&path).unwrap();
            socket
                .set_read_timeout(Some(Duration::from_secs(5)))
                .unwrap();
            Self {
                _dir: dir,
                socket,
                path,
            }
        }

        fn notify_socket(&self) -> NotifySocket {
            NotifySocket::new(self.path.as_os_str())
        }

        fn recv(&self) -> String {
            let mut buf = [0u8; 4096];
            let n = self.socket.recv(&mut buf).unwrap();
            String::from_utf8(buf[..n].to_vec()).unwrap()
        }
    }

    #[test]
    fn each_state_arrives_as_its_own_datagram() {
        let l = Listener::new();
        let s = l.notify_socket();
        s.ready().unwrap();
        assert_eq!(l.recv(), "READY=1");
        s.stopping().unwrap();
        assert_eq!(l.recv(), "STOPPING=1");
        s.watchdog().unwrap();
        assert_eq!(l.recv(), "WATCHDOG=1");
        s.status("3 checks, 1 incident open").unwrap();
        assert_eq!(l.recv(), "STATUS=3 checks, 1 incident open");
    }

    #[test]
    fn reloading_carries_a_monotonic_timestamp() {
        let l = Listener::new();
        l.notify_socket().reloading().unwrap();
        let msg = l.recv();
        let mut lines = msg.lines();
        assert_eq!(lines.next(), Some("RELOADING=1"));
        let usec = lines
            .next()
            .unwrap()
            .strip_prefix("MONOTONIC_USEC=")
            .unwrap();
        assert!(usec.parse::<u64>().unwrap() > 0);
        assert_eq!(lines.next(), None);
    }

    #[test]
    fn status_stays_on_one_line() {
        let l = Listener::new();
        l.notify_socket().status("bad\nREADY=1").unwrap();
        assert_eq!(l.recv(), "STATUS=bad READY=1");
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn abstract_socket_addresses_work() {
        use std::os::linux::net::SocketAddrExt;
        let name = format!("oncalld-test-{}-{}", std::process::id(), fastrand::u64(..));
        let addr = SocketAddr::from_abstract_name(name.as_bytes()).unwrap();
        let socket = UnixDatagram::bind_addr(&addr).unwrap();
        socket
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        NotifySocket::new(format!("@{name}")).ready().unwrap();
        let mut buf = [0u8; 64];
        let n = socket.recv(&mut buf).unwrap();
        assert_eq!(&buf[..n], b"READY=1");
    }

    #[test]
    fn a_missing_socket_is_an_error_not_a_panic() {
        let dir = tempfile::tempdir().unwrap();
        let s = NotifySocket::new(dir.path().join("gone.sock").as_os_str());
        assert!(s.ready().is_err());
    }

    /// Runs only inside the child started by `env_functions_talk_to_notify_socket`: it uses
    /// the public env-driven functions exactly as the daemon does.
    #[test]
    fn env_child() {
        if std::env::var_os("ONCALLD_SD_CHILD").is_none() {
            return;
        }
        let watchdog = watchdog_interval().map(|d| d.as_millis());
        notify_status(&format!("watchdog={watchdog:?}"));
        notify_ready();
        notify_watchdog();
        notify_reloading();
        notify_stopping();
    }

    /// The test binary re-run as a child with `NOTIFY_SOCKET`/`WATCHDOG_*` set, so this
    /// process's environment is never mutated under the other tests.
    fn run_env_child(watchdog_pid: Option<&str>) -> Vec<String> {
        let l = Listener::new();
        let mut cmd = std::process::Command::new(std::env::current_exe().unwrap());
        cmd.args([
            "--exact",
            "daemon::systemd::tests::env_child",
            "--test-threads=1",
        ])
        .env("ONCALLD_SD_CHILD", "1")
        .env("NOTIFY_SOCKET", &l.path)
        .env("WATCHDOG_USEC", "3000000")
        .stdout(std::process::Stdio::null());
        if let Some(pid) = watchdog_pid {
            cmd.env("WATCHDOG_PID", pid);
        }
        let status = cmd.status().unwrap();
        assert!(status.success());
        (0..5).map(|_| l.recv()).collect()
    }

    #[test]
    fn env_functions_talk_to_notify_socket() {
        let got = run_env_child(None);
        assert_eq!(got[0], "STATUS=watchdog=Some(1500)");
        assert_eq!(&got[1..3], ["READY=1", "WATCHDOG=1"]);
        assert!(
            got[3].starts_with("RELOADING=1\nMONOTONIC_USEC="),
            "{}",
            got[3]
        );
        assert_eq!(got[4], "STOPPING=1");
    }

    #[test]
    fn watchdog_pid_of_another_process_disarms_the_watchdog() {
        let got = run_env_child(Some("1"));
        assert_eq!(got[0], "STATUS=watchdog=None");
    }

    #[test]
    fn watchdog_interval_is_half_of_watchdog_usec() {
        let half = parse_watchdog(Some("30000000"), None, 42);
        assert_eq!(half, Some(Duration::from_secs(15)));
        let own = parse_watchdog(Some("1000000"), Some("42"), 42);
        assert_eq!(own, Some(Duration::from_millis(500)));
    }

    #[test]
    fn watchdog_is_off_unless_armed_for_this_process() {
        assert_eq!(parse_watchdog(None, None, 42), None);
        assert_eq!(parse_watchdog(Some("0"), None, 42), None);
        assert_eq!(parse_watchdog(Some("soon"), None, 42), None);
        assert_eq!(parse_watchdog(Some("1000000"), Some("7"), 42), None);
        assert_eq!(parse_watchdog(Some("1000000"), Some("x"), 42), None);
    }

    #[test]
    fn reloading_without_a_clock_still_says_reloading() {
        assert_eq!(reloading_message(None), "RELOADING=1");
        assert_eq!(
            reloading_message(Some(12)),
            "RELOADING=1\nMONOTONIC_USEC=12"
        );
    }
}
