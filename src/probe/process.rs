//! `type = "process"`: are at least `min_count` processes running, matched by name or by a
//! substring of the command line? All process checks share one [`ProcessTable`] snapshot,
//! refreshed at most once a second, so a hundred process checks read /proc once.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use sysinfo::{
    ProcessRefreshKind, ProcessStatus, ProcessesToUpdate, System, ThreadKind, UpdateKind,
};

use super::{PerfDatum, Probe, ProbeFuture, Verdict};
use crate::config::ProcessMatch;

/// How old a snapshot may be before a probe refreshes it.
const MAX_AGE: Duration = Duration::from_secs(1);

/// Linux truncates a process name (comm) to this many bytes.
const COMM_LEN: usize = 15;

/// One running process, as the checks look at it.
#[derive(Debug, Clone)]
struct Proc {
    name: String,
    cmdline: String,
}

/// The shared process table: sysinfo's state (kept across refreshes, so command lines are
/// read once per process) and the last snapshot with the instant it was taken.
#[derive(Default)]
pub(super) struct ProcessTable {
    snapshot: tokio::sync::Mutex<Option<(Instant, Arc<Vec<Proc>>)>>,
    system: Arc<Mutex<Option<System>>>,
}

impl ProcessTable {
    /// A snapshot at most [`MAX_AGE`] old. Concurrent callers wait for one refresh (the async
    /// mutex), which runs on the blocking pool since it reads /proc.
    async fn snapshot(&self) -> Result<Arc<Vec<Proc>>, String> {
        let mut guard = self.snapshot.lock().await;
        if let Some((taken, procs)) = guard.as_ref() {
            if taken.elapsed() < MAX_AGE {
                return Ok(procs.clone());
            }
        }
        let system = self.system.clone();
        let procs = tokio::task::spawn_blocking(move || refresh(&system))
            .await
            .map_err(|e| format!("process table refresh failed: {e}"))?;
        let procs = Arc::new(procs);
        *guard = Some((Instant::now(), procs.clone()));
        Ok(procs)
    }
}

/// Every live process except threads and zombies. oncalld itself is included, on purpose:
/// a check that oncalld is running (as in checks.example.toml) must see the daemon.
fn refresh(system: &Mutex<Option<System>>) -> Vec<Proc> {
    let mut guard = match system.lock() {
        Ok(g) => g,
        Err(poisoned) => poisoned.into_inner(),
    };
    let sys = guard.get_or_insert_with(|| {
        // sysinfo otherwise keeps every /proc/PID/stat open between refreshes.
        sysinfo::set_open_files_limit(0);
        System::new()
    });
    sys.refresh_processes_specifics(
        ProcessesToUpdate::All,
        true,
        ProcessRefreshKind::nothing().with_cmd(UpdateKind::OnlyIfNotSet),
    );
    sys.processes()
        .values()
        .filter(|p| p.thread_kind() != Some(ThreadKind::Userland))
        .filter(|p| !matches!(p.status(), ProcessStatus::Zombie | ProcessStatus::Dead))
        .map(|p| Proc {
            name: p.name().to_string_lossy().into_owned(),
            cmdline: p
                .cmd()
                .iter()
                .map(|a| a.to_string_lossy())
                .collect::<Vec<_>>()
                .join(" "),
        })
        .collect()
}

pub(super) struct ProcessCheck {
    process: String,
    match_on: ProcessMatch,
    min_count: u32,
    table: Arc<ProcessTable>,
}

impl ProcessCheck {
    pub(super) fn new(
        process: &str,
        match_on: ProcessMatch,
        min_count: u32,
        table: Arc<ProcessTable>,
    ) -> Self {
        ProcessCheck {
            process: process.to_string(),
            match_on,
            min_count: min_count.max(1),
            table,
        }
    }

    fn matches(&self, p: &Proc) -> bool {
        match self.match_on {
            ProcessMatch::Cmdline => p.cmdline.contains(&self.process),
            // comm is cut at 15 bytes: a longer configured name matches its first 15 bytes.
            ProcessMatch::Name => {
                p.name == self.process
                    || (self.process.len() > COMM_LEN
                        && p.name.len() == COMM_LEN
                        && self.process.as_bytes().starts_with(p.name.as_bytes()))
            }
        }
    }

    async fn run(&self) -> Verdict {
        let procs = match self.table.snapshot().await {
            Ok(p) => p,
            Err(e) => return Verdict::unknown(e),
        };
        let count = procs.iter().filter(|p| self.matches(p)).count();
        let what = match self.match_on {
            ProcessMatch::Name => format!("named {:?}", self.process),
            ProcessMatch::Cmdline => format!("with {:?} in the command line", self.process),
        };
        let noun = if count == 1 { "process" } else { "processes" };
        let message = format!("{count} {noun} {what}");
        let perf = vec![PerfDatum {
            crit: Some(format!("{}:", self.min_count)),
            min: Some(0.0),
            ..PerfDatum::new("procs", count as f64, "")
        }];
        if (count as u64) < u64::from(self.min_count) {
            return Verdict::critical(format!("{message} (min {})", self.min_count))
                .with_perfdata(perf);
        }
        Verdict::ok(message).with_perfdata(perf)
    }
}

impl Probe for ProcessCheck {
    fn check(&self, _timeout: Duration) -> ProbeFuture<'_> {
        Box::pin(self.run())
    }
}
