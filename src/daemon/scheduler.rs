//! The scheduler: one tokio task per probed check, each sleeping until its next due time, then
//! running its probe (bounded by the check's `timeout`) and feeding the result to the check's
//! [`CheckTracker`]. Every result goes out on a channel as a [`CheckReport`]; what happens
//! next (logging, incidents, storage) is the receiver's business. Heartbeat checks have no
//! task: they go on the [`Board`] (one table), whose one timer task the scheduler runs and
//! whose reports go out on the same channel.
//!
//! - Interval while UP or DOWN, `retry_interval` while FAILING (Nagios soft state).
//! - First runs are spread over the interval by a hash of the check's name, so a restart does
//!   not fire every probe at once, and a check keeps its phase across restarts.
//! - A global [`Semaphore`] caps concurrent probes. It is taken *after* the due time, per
//!   probe, and every probe is bounded by its timeout, so a hanging target holds one permit
//!   for at most its timeout and never delays another check's task.
//! - The check tasks run on their own single-threaded runtime, on one "oncalld-probes" thread.
//!   A probe is mostly waiting on sockets, and keeping every wake-up on one thread avoids the
//!   cross-thread hand-offs of a work-stealing runtime: about 35% less CPU per HTTP probe in
//!   `bench/` (the caller's runtime is used if that thread cannot be started).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{Semaphore, mpsc, oneshot};
use tokio::task::JoinHandle;
use tokio::time::{Instant, sleep_until};

use crate::config::CheckConfig;
use crate::core::check_state::{CheckState, CheckTracker, Transition};
use crate::daemon::heartbeat::Board;
use crate::probe::{Probe, ProbeResult, Probes, run_probe};
use crate::store::HeartbeatRow;

/// Probes running at once, at most. High enough that it only bites when targets hang en
/// masse; each permit is held for at most one probe's timeout.
pub const MAX_CONCURRENT_PROBES: usize = 512;

/// One probe run of one check, and what it did to the check's state.
#[derive(Debug, Clone)]
pub struct CheckReport {
    pub check: String,
    /// When the result came in.
    pub at: jiff::Timestamp,
    /// When the probe should have started.
    pub due: Instant,
    /// When it did start (after waiting for a permit).
    pub started: Instant,
    pub result: ProbeResult,
    /// The check's state after this result.
    pub state: CheckState,
    /// Set when this result changed the state.
    pub transition: Option<Transition>,
    /// Whether this is a result that failed (`Some`), for flap detection; `None` for a report
    /// that is not a result (a heartbeat's start or log ping).
    pub failed: Option<bool>,
    /// A heartbeat check's memory after a ping or a deadline, to store in the step.
    pub heartbeat: Option<HeartbeatRow>,
    /// The whole ping body (at most 10,000 bytes) when it has more than one line: what the
    /// timeline gets on a change of state (`result.message` is its first line).
    pub detail: Option<String>,
    /// A ping waiting for its answer: notified once the step holding this report was handed to
    /// the store, so a `200 OK` means the ping is saved (or held, SPEC §9), not just received.
    pub committed: Option<std::sync::Arc<tokio::sync::Notify>>,
}

impl CheckReport {
    /// How late the probe started against its due time.
    pub fn lag(&self) -> Duration {
        self.started.saturating_duration_since(self.due)
    }
}

/// The running checks. Dropping it stops every check task (their stop channels close).
pub struct Scheduler {
    /// The origin of every check's phase.
    epoch: Instant,
    runtime: tokio::runtime::Handle,
    /// Dropping it ends the probe thread (after the tasks, which stop with their senders).
    _end_runtime: Option<oneshot::Sender<()>>,
    probes: Probes,
    permits: Arc<Semaphore>,
    tx: mpsc::Sender<CheckReport>,
    tasks: HashMap<String, Task>,
    /// Heartbeat checks: no task each, but one table on the board (shared with the API) and
    /// its one timer task.
    board: Board,
    timer: Option<(oneshot::Sender<()>, JoinHandle<()>)>,
}

enum Task {
    /// A probed check's task.
    Probe {
        config: Arc<CheckConfig>,
        stop: oneshot::Sender<()>,
        handle: JoinHandle<CheckTracker>,
    },
    /// A heartbeat check: no task and no copy of its config (its state is on the board).
    Heartbeat,
}

impl Task {
    /// Stop the task (cancelling a running probe) and get check `name`'s tracker back.
    async fn stop(self, board: &Board, name: &str) -> CheckTracker {
        match self {
            Task::Probe { stop, handle, .. } => {
                let _ = stop.send(());
                handle.await.unwrap_or_default()
            }
            Task::Heartbeat => board.tracker(name).unwrap_or_default(),
        }
    }
}

impl Scheduler {
    /// Start one task per check. `initial` carries trackers from before (a restart or a
    /// reload); checks missing from it start UP.
    pub fn start(
        checks: &[CheckConfig],
        initial: HashMap<String, CheckTracker>,
        tx: mpsc::Sender<CheckReport>,
    ) -> Scheduler {
        let board = Board::new(jiff::tz::TimeZone::UTC);
        Scheduler::start_with(checks, initial, board, tx)
    }

    /// [`Scheduler::start`] with the board heartbeat checks register on (and resume from).
    pub fn start_with(
        checks: &[CheckConfig],
        initial: HashMap<String, CheckTracker>,
        board: Board,
        tx: mpsc::Sender<CheckReport>,
    ) -> Scheduler {
        let (runtime, end) = match probe_runtime() {
            Ok((handle, end)) => (handle, Some(end)),
            Err(e) => {
                tracing::warn!(error = %e, "Cannot start the probe thread; probing on the main runtime.");
                (tokio::runtime::Handle::current(), None)
            }
        };
        board.attach(tx.clone());
        let (stop_timer, stop_rx) = oneshot::channel();
        let timer = runtime.spawn(board.clone().run_timer(tx.clone(), stop_rx));
        let mut scheduler = Scheduler {
            epoch: Instant::now(),
            runtime,
            _end_runtime: end,
            probes: Probes::new(),
            permits: Arc::new(Semaphore::new(MAX_CONCURRENT_PROBES)),
            tx,
            tasks: HashMap::new(),
            board,
            timer: Some((stop_timer, timer)),
        };
        for check in checks {
            let tracker = initial.get(&check.name).copied().unwrap_or_default();
            scheduler.spawn(check, tracker);
        }
        scheduler
    }

    /// Names of the checks being run.
    pub fn checks(&self) -> impl Iterator<Item = &str> {
        self.tasks.keys().map(String::as_str)
    }

    /// Apply a new list of checks. A check whose whole config is unchanged keeps running
    /// untouched; one that changed is restarted with its tracker (a check keeps its state
    /// across a reload when its name is unchanged); removed ones stop; new ones start UP.
    pub async fn reload(&mut self, checks: &[CheckConfig]) {
        let wanted: HashMap<&str, &CheckConfig> =
            checks.iter().map(|c| (c.name.as_str(), c)).collect();
        let names: Vec<String> = self.tasks.keys().cloned().collect();
        for name in names {
            if !wanted.contains_key(name.as_str()) {
                if let Some(task) = self.tasks.remove(&name) {
                    task.stop(&self.board, &name).await;
                }
                self.board.remove(&name);
            }
        }
        for check in checks {
            let tracker = match self.tasks.get(&check.name) {
                Some(Task::Probe { config, .. }) if same_config(config, check) => continue,
                // A heartbeat check is added again: it takes its new token and rule and keeps
                // its state.
                Some(_) => match self.tasks.remove(&check.name) {
                    Some(task) => task.stop(&self.board, &check.name).await,
                    None => CheckTracker::default(),
                },
                None => CheckTracker::default(),
            };
            self.spawn(check, tracker);
        }
    }

    /// Stop every check (running probes are cancelled, plugin process groups killed) and
    /// return each check's tracker, e.g. to persist it.
    pub async fn shutdown(mut self) -> HashMap<String, CheckTracker> {
        let mut trackers = HashMap::new();
        if let Some((stop, timer)) = self.timer.take() {
            let _ = stop.send(());
            let _ = timer.await;
        }
        self.board.detach();
        for (name, task) in std::mem::take(&mut self.tasks) {
            let tracker = task.stop(&self.board, &name).await;
            trackers.insert(name, tracker);
        }
        trackers
    }

    fn spawn(&mut self, check: &CheckConfig, tracker: CheckTracker) {
        // A heartbeat check waits for pings, not for a due time: it goes on the board.
        if self.board.add(check, tracker) {
            self.tasks.insert(check.name.clone(), Task::Heartbeat);
            return;
        }
        let config = Arc::new(check.clone());
        // Not (or no longer, after a reload) a heartbeat check: pings to it are refused.
        self.board.remove(&check.name);
        let (stop_tx, stop_rx) = oneshot::channel();
        let step = step(&config, &tracker);
        // Offsets count from the scheduler's start, so checks share the SLOT grid; a check
        // added by a reload takes its first slot from now on.
        let first_due = self.epoch + spread(&config.name, step);
        let now = Instant::now();
        let first_due = if first_due >= now {
            first_due
        } else {
            next_due(first_due, step, now)
        };
        let run = CheckRun {
            config: config.clone(),
            probe: self.probes.build(&config.probe),
            tracker,
            permits: self.permits.clone(),
            tx: self.tx.clone(),
            stop: stop_rx,
        };
        let handle = self.runtime.spawn(run.run(first_due));
        self.tasks.insert(
            check.name.clone(),
            Task::Probe {
                config,
                stop: stop_tx,
                handle,
            },
        );
    }
}

/// A current-thread runtime driven by its own thread until the returned sender is dropped
/// or fired. It then shuts down without waiting for blocking work (a statvfs stuck on a dead
/// mount must not hang the daemon's exit).
fn probe_runtime() -> std::io::Result<(tokio::runtime::Handle, oneshot::Sender<()>)> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let handle = rt.handle().clone();
    let (end_tx, end_rx) = oneshot::channel::<()>();
    std::thread::Builder::new()
        .name("oncalld-probes".into())
        .spawn(move || {
            rt.block_on(async {
                let _ = end_rx.await;
            });
            rt.shutdown_background();
        })?;
    Ok((handle, end_tx))
}

/// Config equality without requiring `PartialEq` on every config type: the derived `Debug`
/// output covers every field.
fn same_config(a: &CheckConfig, b: &CheckConfig) -> bool {
    format!("{a:?}") == format!("{b:?}")
}

/// The wait before the next probe: `retry_interval` while FAILING, else `interval`.
fn step(config: &CheckConfig, tracker: &CheckTracker) -> Duration {
    let d = if tracker.is_retrying() {
        config.retry_interval
    } else {
        config.interval
    };
    d.max(Duration::from_millis(1))
}

/// Due times of checks with intervals of 2 s or more fall on this grid, so the checks due in
/// the same 250 ms share one wake-up of the probe thread (fewer context switches per probe).
const SLOT: Duration = Duration::from_millis(250);

/// A fixed offset in `[0, interval)` from the name (FNV-1a): spread, and stable; on the
/// [`SLOT`] grid for intervals of 2 s and more.
fn spread(name: &str, interval: Duration) -> Duration {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in name.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    let nanos = interval.as_nanos().max(1);
    let mut offset = u128::from(h) % nanos;
    if interval >= 20 * SLOT {
        offset -= offset % SLOT.as_nanos();
    }
    Duration::from_nanos(offset as u64)
}

/// The next due time after `due`: one step later, skipping slots already past (a probe that
/// overran its interval does not trigger a burst of catch-up runs).
fn next_due(due: Instant, step: Duration, now: Instant) -> Instant {
    let next = due + step;
    if next > now {
        return next;
    }
    let behind = now.duration_since(next).as_nanos();
    let skips = behind / step.as_nanos().max(1) + 1;
    next + step * u32::try_from(skips).unwrap_or(u32::MAX)
}

/// One check's task state.
struct CheckRun {
    config: Arc<CheckConfig>,
    probe: Arc<dyn Probe>,
    tracker: CheckTracker,
    permits: Arc<Semaphore>,
    tx: mpsc::Sender<CheckReport>,
    stop: oneshot::Receiver<()>,
}

impl CheckRun {
    /// Loop until stopped (or the report channel closes); returns the tracker.
    async fn run(mut self, first_due: Instant) -> CheckTracker {
        let mut due = first_due;
        loop {
            tokio::select! {
                biased;
                _ = &mut self.stop => return self.tracker,
                _ = sleep_until(due) => {}
            }
            let permit = tokio::select! {
                biased;
                _ = &mut self.stop => return self.tracker,
                p = self.permits.acquire() => match p {
                    Ok(p) => p,
                    Err(_) => return self.tracker,
                },
            };
            let started = Instant::now();
            let result = tokio::select! {
                biased;
                _ = &mut self.stop => return self.tracker,
                r = run_probe(self.probe.as_ref(), self.config.timeout) => r,
            };
            drop(permit);
            let failed = result.status.is_failure(self.config.page_on);
            let c = &self.config;
            let transition = self.tracker.observe(failed, c.retries, c.recoveries);
            let report = CheckReport {
                check: c.name.clone(),
                at: jiff::Timestamp::now(),
                due,
                started,
                result,
                state: self.tracker.state,
                transition,
                failed: Some(failed),
                heartbeat: None,
                detail: None,
                committed: None,
            };
            due = next_due(due, step(c, &self.tracker), Instant::now());
            tokio::select! {
                biased;
                _ = &mut self.stop => return self.tracker,
                sent = self.tx.send(report) => if sent.is_err() { return self.tracker },
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spread_is_stable_and_within_interval() {
        let i = Duration::from_secs(10);
        assert_eq!(spread("web", i), spread("web", i));
        assert_ne!(spread("web", i), spread("web2", i));
        for n in 0..1000 {
            let d = spread(&format!("check-{n}"), i);
            assert!(d < i);
            assert_eq!(d.as_nanos() % SLOT.as_nanos(), 0, "on the grid");
        }
        // Short intervals (tests, fast checks) are not put on the grid.
        let short = Duration::from_millis(200);
        assert!((0..50).any(|n| spread(&format!("c{n}"), short).as_nanos() % 1_000_000 != 0));
    }

    #[test]
    fn next_due_skips_missed_slots() {
        let t0 = Instant::now();
        let s = Duration::from_secs(10);
        assert_eq!(next_due(t0, s, t0 + Duration::from_secs(1)), t0 + s);
        assert_eq!(next_due(t0, s, t0 + Duration::from_secs(25)), t0 + 3 * s);
        assert_eq!(next_due(t0, s, t0 + Duration::from_secs(20)), t0 + 3 * s);
    }
}
