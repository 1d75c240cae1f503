//! Probes: one file per probe type behind the [`Probe`] trait, built from a
//! [`ProbeConfig`] by one [`Probes::build`] match. A probe answers in the Nagios vocabulary
//! ([`Status`]) with a one-line message and optional perfdata.
//!
//! Adding a probe type is one `ProbeConfig` variant, one arm in [`Probes::build`], one file.

mod command;
mod disk;
mod http;
mod http_plain;
pub mod perfdata;
mod process;
mod tcp;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::{Serialize, Serializer};

pub use crate::core::check_state::Status;
pub use perfdata::PerfDatum;

use crate::config::ProbeConfig;

/// The future a probe returns. Boxed so that [`Probe`] is dyn-compatible: the scheduler keeps
/// one `Arc<dyn Probe>` per check and the probe types stay in their own files. One small
/// allocation per probe run is nothing next to the syscalls a probe makes.
pub type ProbeFuture<'a> = Pin<Box<dyn Future<Output = Verdict> + Send + 'a>>;

/// One probe type, ready to run (its config parsed and its shared resources attached).
pub trait Probe: Send + Sync {
    /// Look at the target once. `timeout` bounds the whole look; a probe that can say more
    /// than "timed out" (HTTP, command) enforces it itself, the rest rely on [`run_probe`].
    fn check(&self, timeout: Duration) -> ProbeFuture<'_>;
}

/// What a probe concludes, before [`run_probe`] stamps its duration.
#[derive(Debug, Clone, PartialEq)]
pub struct Verdict {
    pub status: Status,
    /// One line: what was seen.
    pub message: String,
    pub perfdata: Vec<PerfDatum>,
}

impl Verdict {
    pub fn new(status: Status, message: impl Into<String>) -> Self {
        Verdict {
            status,
            // A plugin or an HTTP error may echo a URL with its password: starred here, so
            // neither the store nor any view ever holds it.
            message: crate::redact::redact_urls(&one_line(&message.into())).into_owned(),
            perfdata: Vec::new(),
        }
    }

    pub fn ok(message: impl Into<String>) -> Self {
        Verdict::new(Status::Ok, message)
    }

    pub fn critical(message: impl Into<String>) -> Self {
        Verdict::new(Status::Critical, message)
    }

    pub fn unknown(message: impl Into<String>) -> Self {
        Verdict::new(Status::Unknown, message)
    }

    pub fn with_perfdata(mut self, perfdata: Vec<PerfDatum>) -> Self {
        self.perfdata = perfdata;
        self
    }
}

/// One run of a check: the verdict and how long the probe took. This is what the scheduler
/// reports, `oncalld probe` prints, and (later) the store keeps as "last result".
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProbeResult {
    pub status: Status,
    pub message: String,
    #[serde(rename = "duration_ms", serialize_with = "as_millis")]
    pub duration: Duration,
    pub perfdata: Vec<PerfDatum>,
}

impl std::fmt::Display for ProbeResult {
    /// Nagios plugin output: `CRITICAL - message | perfdata`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} - {}", self.status, self.message)?;
        for (i, p) in self.perfdata.iter().enumerate() {
            f.write_str(if i == 0 { " | " } else { " " })?;
            write!(f, "{p}")?;
        }
        Ok(())
    }
}

fn as_millis<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64(d.as_secs_f64() * 1000.0)
}

/// Run one probe with its timeout and time it. The outer bound is the timeout plus a short
/// grace, so a probe that enforces its own timeout (and says so better) gets to answer first,
/// while one stuck in a syscall (statvfs on a dead NFS mount) still ends.
pub async fn run_probe(probe: &dyn Probe, timeout: Duration) -> ProbeResult {
    const GRACE: Duration = Duration::from_millis(500);
    let start = Instant::now();
    let verdict = match tokio::time::timeout(timeout + GRACE, probe.check(timeout)).await {
        Ok(v) => v,
        Err(_) => Verdict::critical(timed_out(timeout)),
    };
    ProbeResult {
        status: verdict.status,
        message: verdict.message,
        duration: start.elapsed(),
        perfdata: verdict.perfdata,
    }
}

/// The resources probes share, and the factory that builds them: one HTTP client per
/// `tls_verify` setting (built on first use), one process table for all process checks, and
/// the paths whose `statvfs` still hangs (at most one call per path, across reloads).
/// Cheap to clone.
#[derive(Clone, Default)]
pub struct Probes {
    http: Arc<http::Clients>,
    processes: Arc<process::ProcessTable>,
    disks: Arc<disk::InFlightPaths>,
}

impl Probes {
    pub fn new() -> Self {
        Probes::default()
    }

    /// Build the probe for one check. Invalid settings have been refused by `config::load`;
    /// whatever still cannot be set up (e.g. a URL reqwest rejects) becomes a probe that
    /// answers UNKNOWN with the reason, so one bad check never stops the others.
    pub fn build(&self, config: &ProbeConfig) -> Arc<dyn Probe> {
        match config {
            ProbeConfig::Http(h) => http::HttpCheck::build(h, &self.http),
            ProbeConfig::Tcp { address } => Arc::new(tcp::TcpCheck::new(address)),
            ProbeConfig::Process {
                process,
                match_on,
                min_count,
            } => Arc::new(process::ProcessCheck::new(
                process,
                *match_on,
                *min_count,
                self.processes.clone(),
            )),
            ProbeConfig::Disk { path, min_free } => {
                Arc::new(disk::DiskCheck::new(path, *min_free, self.disks.clone()))
            }
            ProbeConfig::Command { command } => Arc::new(command::CommandCheck::new(command)),
            ProbeConfig::Heartbeat(_) => Arc::new(Broken(
                "a heartbeat check is pushed, not probed: see `oncalld ping`".to_string(),
            )),
        }
    }
}

/// A probe that always answers UNKNOWN: what [`Probes::build`] returns for a check it cannot
/// set up.
struct Broken(String);

impl Probe for Broken {
    fn check(&self, _timeout: Duration) -> ProbeFuture<'_> {
        Box::pin(async move { Verdict::unknown(self.0.clone()) })
    }
}

/// "timed out after 2s", with humantime's units.
pub(crate) fn timed_out(timeout: Duration) -> String {
    format!("timed out after {}", humantime::format_duration(timeout))
}

/// Whole milliseconds, as messages show them ("in 12 ms").
pub(crate) fn millis(d: Duration) -> u128 {
    d.as_millis()
}

/// The first line of `s`, trimmed: messages are one line.
pub(crate) fn one_line(s: &str) -> String {
    s.lines().next().unwrap_or("").trim().to_string()
}

/// The innermost cause of an error chain, which is the part that says what happened
/// ("Connection refused (os error 111)" rather than "error sending request").
pub(crate) fn root_cause<'a>(
    err: &'a (dyn std::error::Error + 'static),
) -> &'a (dyn std::error::Error + 'static) {
    let mut e = err;
    while let Some(next) = e.source() {
        e = next;
    }
    e
}

/// "connection refused" for the common socket errors, else the OS's words.
pub(crate) fn describe_io(err: &std::io::Error) -> String {
    use std::io::ErrorKind::*;
    match err.kind() {
        ConnectionRefused => "connection refused".into(),
        ConnectionReset => "connection reset".into(),
        HostUnreachable => "host unreachable".into(),
        NetworkUnreachable => "network unreachable".into(),
        TimedOut => "connection timed out".into(),
        _ => err.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verdicts_keep_one_line_and_star_url_passwords() {
        let v = Verdict::critical("cannot fetch http://u:pw@h/x\nsecond line");
        assert_eq!(v.message, "cannot fetch http://u:***@h/x");
    }
}
