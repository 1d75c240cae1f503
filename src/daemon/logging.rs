//! Logs that fit where they land.
//!
//! - Under systemd (`$JOURNAL_STREAM` names our stderr): the journal adds its own timestamps
//!   and understands sd-daemon(3) level prefixes, so each line is `<N>message fields` with N
//!   the syslog priority, no timestamp and no colour. `journalctl -p warning` then works.
//! - In a terminal: readable lines with timestamps, coloured unless `$NO_COLOR` is set.
//! - Anywhere else (a file, a pipe): the same lines without colour.
//!
//! The filter comes from `$ONCALLD_LOG`, else `$RUST_LOG` (EnvFilter syntax), default `info`.
//!
//! Whatever the target, lines are written by one thread behind a bounded queue
//! ([`super::log_writer`]): a full, unread or closed stderr drops lines (counted in
//! [`dropped_lines`]) and never blocks or panics the daemon.

use std::fmt;
use std::io::{IsTerminal, Write};
use std::os::fd::AsFd;
use std::os::unix::fs::MetadataExt;
use std::sync::OnceLock;
use std::time::Duration;

use tracing::{Event, Level, Subscriber};
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields, FormattedFields};
use tracing_subscriber::registry::LookupSpan;

use super::log_writer::{LogQueue, QUEUE_BYTES};

/// The daemon's log queue, started by the first [`init_logging`].
static QUEUE: OnceLock<LogQueue> = OnceLock::new();

/// How long [`flush_logs`] waits for queued lines at shutdown before giving up on them.
pub const FLUSH_BOUND: Duration = Duration::from_millis(200);

/// Where log lines go, which decides their shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogTarget {
    /// stderr is connected to the journal: priority prefixes, no timestamps, no colour.
    Journal,
    /// stderr is a terminal; `color` is false when `$NO_COLOR` is set.
    Terminal { color: bool },
    /// A file or pipe: timestamps, no colour.
    Plain,
}

/// Install the global subscriber for the daemon and return what was chosen. Safe to call
/// twice (the second call changes nothing). An invalid filter falls back to `info` and says so.
pub fn init_logging() -> LogTarget {
    let target = detect_target();
    let (filter, bad_filter) = filter_from_env();
    let queue = log_queue().clone();
    // Internal errors would be reported with eprintln!, which panics on a closed stderr; the
    // queue's writer never fails anyway (it drops and counts instead).
    let installed = match target {
        LogTarget::Journal => tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_writer(queue)
            .log_internal_errors(false)
            .with_ansi(false)
            .event_format(JournalFormat)
            .try_init(),
        LogTarget::Terminal { color } => tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_writer(queue)
            .log_internal_errors(false)
            .with_ansi(color)
            .with_target(false)
            .try_init(),
        LogTarget::Plain => tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_writer(queue)
            .log_internal_errors(false)
            .with_ansi(false)
            .with_target(false)
            .try_init(),
    };
    if let (Ok(()), Some((value, error))) = (installed, bad_filter) {
        tracing::warn!(message = "Invalid log filter, using info.", filter = %value, %error);
    }
    target
}

/// The queue in front of stderr, its writer thread started on first use.
fn log_queue() -> &'static LogQueue {
    QUEUE.get_or_init(|| {
        LogQueue::spawn(stderr_output(), QUEUE_BYTES).unwrap_or_else(|e| {
            let _ = writeln!(
                std::io::stderr(),
                "oncalld: cannot start the log writer ({e}); log lines will be dropped"
            );
            LogQueue::disconnected()
        })
    })
}

/// A descriptor of its own on stderr's file, so the writer thread never holds the lock of
/// `std::io::stderr()` while it is stuck on a full pipe. Falls back to `stderr()` itself.
fn stderr_output() -> Box<dyn Write + Send> {
    match std::io::stderr().as_fd().try_clone_to_owned() {
        Ok(fd) => Box::new(std::fs::File::from(fd)),
        Err(_) => Box::new(std::io::stderr()),
    }
}

/// Log lines dropped since start because stderr was full, unread or closed.
pub fn dropped_lines() -> u64 {
    QUEUE.get().map_or(0, LogQueue::dropped)
}

/// Give the queued log lines up to [`FLUSH_BOUND`] to reach stderr; never hangs.
pub fn flush_logs() -> bool {
    QUEUE.get().is_none_or(|q| q.flush(FLUSH_BOUND))
}

/// Decide the [`LogTarget`] from `$JOURNAL_STREAM`, stderr and `$NO_COLOR`.
pub fn detect_target() -> LogTarget {
    let stderr = std::io::stderr();
    let journal = std::env::var_os("JOURNAL_STREAM").is_some_and(|value| {
        fd_identity(stderr.as_fd())
            .is_some_and(|(dev, ino)| journal_stream_matches(&value.to_string_lossy(), dev, ino))
    });
    if journal {
        return LogTarget::Journal;
    }
    if stderr.is_terminal() {
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        return LogTarget::Terminal { color: !no_color };
    }
    LogTarget::Plain
}

/// Whether `$JOURNAL_STREAM` (`"<device>:<inode>"`, systemd.exec(5)) names the file stderr
/// is open on. Comparing matters: a child of a service inherits the variable even when its
/// stderr was redirected elsewhere.
pub fn journal_stream_matches(value: &str, dev: u64, ino: u64) -> bool {
    let Some((d, i)) = value.trim().split_once(':') else {
        return false;
    };
    matches!((d.parse::<u64>(), i.parse::<u64>()), (Ok(d), Ok(i)) if d == dev && i == ino)
}

/// Device and inode of an open file descriptor.
fn fd_identity(fd: std::os::fd::BorrowedFd<'_>) -> Option<(u64, u64)> {
    let file = std::fs::File::from(fd.try_clone_to_owned().ok()?);
    let meta = file.metadata().ok()?;
    Some((meta.dev(), meta.ino()))
}

/// `$ONCALLD_LOG`, else `$RUST_LOG`, else `info`; an invalid value gives `info` plus the
/// value and error to report once logging works.
fn filter_from_env() -> (EnvFilter, Option<(String, String)>) {
    let value = ["ONCALLD_LOG", "RUST_LOG"]
        .iter()
        .find_map(|k| std::env::var(k).ok().filter(|v| !v.trim().is_empty()));
    let Some(value) = value else {
        return (EnvFilter::new("info"), None);
    };
    match EnvFilter::try_new(&value) {
        Ok(filter) => (filter, None),
        Err(e) => (EnvFilter::new("info"), Some((value, e.to_string()))),
    }
}

/// The sd-daemon(3) prefix for a level: syslog's err, warning, info and debug.
pub fn syslog_priority(level: &Level) -> u8 {
    match *level {
        Level::ERROR => 3,
        Level::WARN => 4,
        Level::INFO => 6,
        Level::DEBUG | Level::TRACE => 7,
    }
}

/// Journal lines: `<prio>span{fields}: message key=value`. A multi-line message becomes
/// several lines, each with the prefix, since the journal stores one entry per line.
#[derive(Debug, Clone, Copy, Default)]
pub struct JournalFormat;

impl<S, N> FormatEvent<S, N> for JournalFormat
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let mut text = String::new();
        let mut w = Writer::new(&mut text);
        if let Some(scope) = ctx.event_scope() {
            for span in scope.from_root() {
                w.write_str(span.name())?;
                let ext = span.extensions();
                match ext.get::<FormattedFields<N>>() {
                    Some(fields) if !fields.is_empty() => write!(w, "{{{fields}}}")?,
                    _ => {}
                }
                w.write_str(": ")?;
            }
        }
        ctx.field_format().format_fields(w.by_ref(), event)?;
        let prio = syslog_priority(event.metadata().level());
        if text.is_empty() {
            return writeln!(writer, "<{prio}>");
        }
        for line in text.lines() {
            writeln!(writer, "<{prio}>{line}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    /// Collects what the subscriber writes, as the journal would read it from stderr.
    #[derive(Clone, Default)]
    struct Capture(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Capture {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    fn journal_output(log: impl FnOnce()) -> String {
        let capture = Capture::default();
        let writer = capture.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(Level::TRACE)
            .with_ansi(false)
            .with_writer(move || writer.clone())
            .event_format(JournalFormat)
            .finish();
        tracing::subscriber::with_default(subscriber, log);
        let bytes = capture.0.lock().unwrap().clone();
        String::from_utf8(bytes).unwrap()
    }

    #[test]
    fn each_level_gets_its_syslog_priority() {
        let out = journal_output(|| {
            tracing::error!("e");
            tracing::warn!("w");
            tracing::info!("i");
            tracing::debug!("d");
            tracing::trace!("t");
        });
        assert_eq!(out, "<3>e\n<4>w\n<6>i\n<7>d\n<7>t\n");
    }

    #[test]
    fn journal_lines_have_fields_and_spans_but_no_timestamp_or_colour() {
        let out = journal_output(|| {
            let span = tracing::info_span!("check", name = "website");
            let _g = span.enter();
            tracing::warn!(message = "Probe failed.", status = 500);
        });
        assert_eq!(
            out,
            "<4>check{name=\"website\"}: Probe failed. status=500\n"
        );
        assert!(!out.contains('\x1b'));
    }

    #[test]
    fn every_line_of_a_multi_line_message_is_prefixed() {
        let out = journal_output(|| tracing::error!("first\nsecond"));
        assert_eq!(out, "<3>first\n<3>second\n");
    }

    #[test]
    fn journal_stream_must_name_the_same_file() {
        let file = tempfile::tempfile().unwrap();
        let (dev, ino) = fd_identity(file.as_fd()).unwrap();
        assert!(journal_stream_matches(&format!("{dev}:{ino}"), dev, ino));
        let other = tempfile::tempfile().unwrap();
        let (odev, oino) = fd_identity(other.as_fd()).unwrap();
        assert!(!journal_stream_matches(&format!("{dev}:{ino}"), odev, oino));
        assert!(!journal_stream_matches("", dev, ino));
        assert!(!journal_stream_matches("garbage", dev, ino));
        assert!(!journal_stream_matches(&format!("{dev}:x"), dev, ino));
    }

    /// Runs only inside the child started by `run_logging_child`: the real `init_logging`.
    #[test]
    fn logging_child() {
        if std::env::var_os("ONCALLD_LOG_CHILD").is_none() {
            return;
        }
        let target = init_logging();
        tracing::warn!(message = "Disk almost full.", free = "4%");
        tracing::debug!("hidden at the default level");
        assert!(flush_logs());
        eprintln!("target={target:?}");
    }

    /// Re-run this test binary with stderr on a file; `journal` decides whether
    /// `$JOURNAL_STREAM` names that file (as systemd sets it) or another one.
    fn run_logging_child(journal: bool) -> String {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("stderr");
        let stderr = std::fs::File::create(&path).unwrap();
        let other = std::fs::File::create(dir.path().join("other")).unwrap();
        let named = if journal { &stderr } else { &other };
        let (dev, ino) = fd_identity(named.as_fd()).unwrap();
        let status = std::process::Command::new(std::env::current_exe().unwrap())
            .args([
                "--exact",
                "daemon::logging::tests::logging_child",
                "--nocapture",
            ])
            .env("ONCALLD_LOG_CHILD", "1")
            .env("JOURNAL_STREAM", format!("{dev}:{ino}"))
            .env_remove("ONCALLD_LOG")
            .env_remove("RUST_LOG")
            .stdout(std::process::Stdio::null())
            .stderr(stderr)
            .status()
            .unwrap();
        assert!(status.success());
        std::fs::read_to_string(&path).unwrap()
    }

    #[test]
    fn under_the_journal_lines_carry_priorities() {
        let out = run_logging_child(true);
        assert!(out.contains("<4>Disk almost full. free=\"4%\"\n"), "{out}");
        assert!(!out.contains("hidden"), "{out}");
        assert!(out.contains("target=Journal"), "{out}");
    }

    #[test]
    fn a_file_that_is_not_the_journal_gets_timestamps_and_no_prefix() {
        let out = run_logging_child(false);
        let line = out
            .lines()
            .find(|l| l.contains("Disk almost full."))
            .unwrap();
        assert!(!line.starts_with('<'), "{line}");
        assert!(line.contains("WARN"), "{line}");
        assert!(
            line.starts_with(|c: char| c.is_ascii_digit()),
            "timestamp: {line}"
        );
        assert!(!line.contains('\x1b'), "{line}");
        assert!(out.contains("target=Plain"), "{out}");
    }

    #[test]
    fn priorities_match_sd_daemon() {
        assert_eq!(syslog_priority(&Level::ERROR), 3);
        assert_eq!(syslog_priority(&Level::WARN), 4);
        assert_eq!(syslog_priority(&Level::INFO), 6);
        assert_eq!(syslog_priority(&Level::DEBUG), 7);
    }
}
