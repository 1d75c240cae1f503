//! Heartbeat checks in the daemon (SPEC §10): the [`Board`] that holds every heartbeat check,
//! takes its pings, fires its deadlines and shows its heartbeat.
//!
//! A heartbeat check has no probe and no task of its own. All of them live in one [`Table`]
//! behind one lock: per check the pure [`Heartbeat`], and one ordered set of deadlines for all
//! checks. A ping is applied in the caller's task; one timer task ([`Board::run_timer`])
//! sleeps until the earliest deadline and applies what is due. Either way what the core
//! decides goes to the engine task as a [`CheckReport`] with a hard transition, so the engine
//! opens, pages and resolves incidents exactly as for a probed check, and the report carries
//! the check's [`HeartbeatRow`], which the engine commits in its step (the last ping survives
//! a `kill -9`). Reports queued while the engine commits are folded into its next step (one
//! commit for a burst of pings); each such ping is answered once its own step is saved.
//!
//! A *routine* ping ([`Heartbeat::is_routine`]: a success on a check already UP with no run
//! to finish, or a `/log`) changes nothing the engine or a restart needs but the last ping.
//! It is applied to the table (its deadline moved at once) and answered in the caller's task:
//! no engine step, no commit, no other thread woken (but the engine task, once per flush).
//! The engine task takes the rows of the checks such pings changed ([`Board::take_dirty`])
//! into its next commit, or commits them alone [`FLUSH_AFTER`] after the first of them
//! ([`Board::flush_wanted`], [`Board::flush_due`]).
//! A `kill -9` loses at most that last second of last-ping times, and nothing is late before
//! `grace` after a start, so no check goes DOWN for it.

use std::sync::{Arc, Mutex, RwLock};

use jiff::Timestamp;
use jiff::tz::TimeZone;
use tokio::sync::{Notify, mpsc, oneshot};

use crate::api::backend::{ApiError, ApiResult};
use crate::api::types::{Ping, PingOutcome, PingTarget};
use crate::config::{CheckConfig, ProbeConfig};
use crate::core::check_state::CheckTracker;
use crate::core::heartbeat::{Heartbeat, Rule};
use crate::daemon::clock::sleep_until;
use crate::daemon::scheduler::CheckReport;
use crate::store::HeartbeatRow;

mod table;

use table::Table;

/// The most of a ping's body that is kept (SPEC §10); the rest is cut.
pub const MAX_BODY: usize = 10_000;
/// Routine pings are in the store at most this long after the first of them was answered.
pub const FLUSH_AFTER: std::time::Duration = std::time::Duration::from_secs(1);
/// How long a ping waits for its step to be saved before answering 503.
const SAVE_WAIT: std::time::Duration = std::time::Duration::from_secs(10);

/// A ping, answered: the state after it; for a routine ping, what the live view records (for
/// a ping through the engine, the engine task records it).
pub struct Pinged {
    pub outcome: PingOutcome,
    pub routine: Option<table::Routine>,
}

/// One heartbeat check as the rest of the daemon sees it (a copy).
#[derive(Clone)]
pub struct Entry {
    pub token: String,
    pub rule: Rule,
    /// The check's state now.
    pub heartbeat: Heartbeat,
}

struct Hub {
    table: Mutex<Table>,
    /// Where reports go: the scheduler's report channel, once [`Board::attach`]ed.
    out: Mutex<Option<mpsc::Sender<CheckReport>>>,
    /// Wakes the timer task when the earliest deadline moved earlier.
    timer: Notify,
    /// Wakes the engine task when a routine ping made a flush due (once per flush).
    flush: Notify,
    zone: RwLock<TimeZone>,
}

/// The heartbeat checks, shared by the scheduler (which adds and removes them), the API
/// backend (which routes pings) and the views (`status`, `/metrics`). Cheap to clone.
#[derive(Clone)]
pub struct Board {
    hub: Arc<Hub>,
}

impl Board {
    /// `zone` is the daemon's `time_zone` (cron expressions are read in it).
    pub fn new(zone: TimeZone) -> Board {
        Board {
            hub: Arc::new(Hub {
                table: Mutex::default(),
                out: Mutex::default(),
                timer: Notify::new(),
                flush: Notify::new(),
                zone: RwLock::new(zone),
            }),
        }
    }

    /// Rows read from the store at start-up; each check resumes from its row when added.
    pub fn restore(&self, rows: Vec<HeartbeatRow>) {
        self.table().restore(rows);
    }

    pub fn set_zone(&self, zone: TimeZone) {
        match self.hub.zone.write() {
            Ok(mut z) => *z = zone,
            Err(p) => *p.into_inner() = zone,
        }
    }

    /// The heartbeat of `check`, when it is a heartbeat check.
    pub fn get(&self, check: &str) -> Option<Entry> {
        self.table().get(check).map(entry)
    }

    /// Every heartbeat check, by name (for `/metrics`).
    pub fn all(&self) -> Vec<(String, Entry)> {
        let table = self.table();
        let mut all: Vec<_> = table
            .iter()
            .map(|(n, s)| (n.to_string(), entry(s)))
            .collect();
        all.sort_by(|a, b| a.0.cmp(&b.0));
        all
    }

    /// How many heartbeat checks there are.
    pub fn len(&self) -> usize {
        self.table().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Apply `ping` to its check and answer with the state after it: at once for a routine
    /// ping (stored by a later commit, at most [`FLUSH_AFTER`] later), else once the step
    /// holding it is saved.
    pub async fn ping(&self, target: PingTarget, mut ping: Ping) -> ApiResult<Pinged> {
        let gone = || ApiError::new(503, "the check is being reloaded; ping again");
        self.table()
            .find(&target)
            .ok_or_else(|| not_found(&target))?;
        let out = self.sender().ok_or_else(gone)?;
        cut(&mut ping.body, MAX_BODY);
        // Outside text: a password in a URL is starred where it enters, as for probe output
        // (SPEC §9), so the message, the timeline, pages and logs never carry it.
        if let std::borrow::Cow::Owned(shown) = crate::redact::redact_urls(&ping.body) {
            ping.body = shown;
        }
        // A routine ping: done here, in the caller's task.
        let first = ping
            .body
            .lines()
            .next()
            .map(str::trim)
            .filter(|l| !l.is_empty());
        let (routine, wake) = {
            let mut table = self.table();
            // Again, under this lock: a reload may have removed the check or its token.
            let name = table.find(&target).ok_or_else(|| not_found(&target))?;
            let idle = table.flush_due().is_none();
            let routine = table.ping_routine(&name, ping.kind, first, Timestamp::now());
            let wake = idle && routine.is_some();
            (routine, wake)
        };
        if let Some((outcome, routine)) = routine {
            if wake {
                // The first since the last flush: the engine task learns when to flush.
                self.hub.flush.notify_one();
            }
            return Ok(Pinged {
                outcome,
                routine: Some(routine),
            });
        }
        // Room in the engine's queue first: a flood waits here (it slows its senders only).
        let permit = out.reserve().await.map_err(|_| gone())?;
        let committed = Arc::new(Notify::new());
        let outcome = {
            let mut table = self.table();
            // Again: the check may have been removed while this ping waited.
            let name = table.find(&target).ok_or_else(|| not_found(&target))?;
            let before = table.first_deadline();
            let (mut report, outcome) = table
                .ping(&name, ping, Timestamp::now())
                .ok_or_else(|| not_found(&target))?;
            report.committed = Some(committed.clone());
            // Sent under the lock: a check's reports reach the engine in the order decided.
            permit.send(report);
            self.wake_timer(before, table.first_deadline());
            outcome
        };
        // Answer only once the ping is saved: a ping answered OK survives a kill -9.
        tokio::time::timeout(SAVE_WAIT, committed.notified())
            .await
            .map_err(|_| ApiError::new(503, "the ping was not saved in time; ping again"))?;
        Ok(Pinged {
            outcome,
            routine: None,
        })
    }

    /// When the routine pings taken so far are due in the store (`None`: none is waiting).
    pub fn flush_due(&self) -> Option<Timestamp> {
        self.table().flush_due()
    }

    /// Resolves when a routine ping made a flush due (the engine task then reads
    /// [`Board::flush_due`] again).
    pub async fn flush_wanted(&self) {
        self.hub.flush.notified().await
    }

    /// The rows routine pings changed since the last call, for the commit being made.
    pub fn take_dirty(&self) -> Vec<HeartbeatRow> {
        self.table().take_dirty()
    }

    /// `row` (made by a ping or deadline through the engine) is being committed: should
    /// routine pings have changed its check since, and been flushed already, flush them again
    /// so the store ends with the newest.
    pub fn settle(&self, row: &HeartbeatRow) {
        self.table().settle(row);
    }

    /// Reports go to `tx` (the scheduler's report channel) from now on.
    pub(crate) fn attach(&self, tx: mpsc::Sender<CheckReport>) {
        *lock(&self.hub.out) = Some(tx);
    }

    /// No more reports (the scheduler stopped): pings are answered 503 from now on.
    pub(crate) fn detach(&self) {
        *lock(&self.hub.out) = None;
    }

    /// Add heartbeat check `check` (or take its new token and rule, keeping its memory); false
    /// for a probed check. `tracker`: its state before (a restart), for a check not yet here.
    pub(crate) fn add(&self, check: &CheckConfig, tracker: CheckTracker) -> bool {
        let ProbeConfig::Heartbeat(hb) = &check.probe else {
            return false;
        };
        let rule = Rule {
            expect: hb.expect.clone(),
            grace: hb.grace,
            zone: self.zone(),
        };
        let mut table = self.table();
        let before = table.first_deadline();
        table.add(&check.name, &hb.token, rule, tracker, Timestamp::now());
        self.wake_timer(before, table.first_deadline());
        true
    }

    /// A check removed from the config (or no longer a heartbeat check): its pings are
    /// refused from now on. Returns its tracker.
    pub fn remove(&self, check: &str) -> Option<CheckTracker> {
        self.table().remove(check)
    }

    /// The tracker of heartbeat check `check`.
    pub(crate) fn tracker(&self, check: &str) -> Option<CheckTracker> {
        self.table().get(check).map(|s| s.tracker)
    }

    /// The one timer of every heartbeat check: sleeps until the earliest deadline (or until
    /// one moves earlier) and sends the report of each check a due deadline changed, in
    /// order, through `out`. Ends when `stop` fires or is dropped, or `out` closes.
    pub(crate) async fn run_timer(
        self,
        out: mpsc::Sender<CheckReport>,
        mut stop: oneshot::Receiver<()>,
    ) {
        loop {
            let next = self.table().first_deadline();
            tokio::select! {
                biased;
                _ = &mut stop => return,
                _ = self.hub.timer.notified() => continue,
                _ = sleep_until(next) => {}
            }
            loop {
                let permit = tokio::select! {
                    biased;
                    _ = &mut stop => return,
                    p = out.reserve() => match p {
                        Ok(p) => p,
                        Err(_) => return,
                    },
                };
                match self.table().fire(Timestamp::now()) {
                    Some(report) => permit.send(report),
                    None => break,
                }
            }
        }
    }

    /// Wake the timer when the earliest deadline moved earlier than it sleeps for.
    fn wake_timer(&self, before: Option<Timestamp>, after: Option<Timestamp>) {
        if after.is_some_and(|a| before.is_none_or(|b| a < b)) {
            self.hub.timer.notify_one();
        }
    }

    fn sender(&self) -> Option<mpsc::Sender<CheckReport>> {
        lock(&self.hub.out).clone()
    }

    fn table(&self) -> std::sync::MutexGuard<'_, Table> {
        lock(&self.hub.table)
    }

    fn zone(&self) -> TimeZone {
        match self.hub.zone.read() {
            Ok(z) => z.clone(),
            Err(p) => p.into_inner().clone(),
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    match m.lock() {
        Ok(g) => g,
        Err(p) => p.into_inner(),
    }
}

fn entry(slot: &table::Slot) -> Entry {
    Entry {
        token: slot.token.to_string(),
        rule: slot.rule.clone(),
        heartbeat: slot.heartbeat.clone(),
    }
}

fn not_found(target: &PingTarget) -> ApiError {
    match target {
        PingTarget::Token(_) => {
            ApiError::not_found("no heartbeat check has this token".to_string())
        }
        PingTarget::Check(name) => ApiError::not_found(format!(
            "no heartbeat check {name:?} (unknown check, or not type = \"heartbeat\")"
        )),
    }
}

/// Cut `s` to at most `max` bytes, on a character boundary.
fn cut(s: &mut String, max: usize) {
    if s.len() > max {
        let mut end = max;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        s.truncate(end);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::types::PingKind;
    use crate::config::{HeartbeatProbe, PageOn};
    use crate::core::heartbeat::Expect;

    fn heartbeat_check(name: &str, token: &str, period: u64, grace: u64) -> CheckConfig {
        CheckConfig {
            name: name.into(),
            probe: ProbeConfig::Heartbeat(HeartbeatProbe {
                token: token.into(),
                expect: Expect::Period(std::time::Duration::from_secs(period)),
                grace: std::time::Duration::from_secs(grace),
            }),
            interval: std::time::Duration::from_secs(30),
            timeout: std::time::Duration::from_secs(10),
            retries: 3,
            retry_interval: std::time::Duration::from_secs(10),
            recoveries: 1,
            policy: "default".into(),
            auto_resolve: true,
            page_on: PageOn::Critical,
            depends_on: Vec::new(),
            flap: None,
        }
    }

    #[tokio::test]
    async fn pings_are_routed_by_token_or_name_and_bodies_cut() {
        let board = Board::new(TimeZone::UTC);
        let (tx, mut committed) = mpsc::channel::<CheckReport>(16);
        // The engine task's part: a ping is answered once its report's step is saved.
        let (fwd, mut reports) = mpsc::channel(16);
        tokio::spawn(async move {
            while let Some(report) = committed.recv().await {
                if let Some(n) = &report.committed {
                    n.notify_one();
                }
                let _ = fwd.send(report).await;
            }
        });
        board.attach(tx);
        let check = heartbeat_check("backup", "backup-token-0123456789", 3600, 60);
        assert!(board.add(&check, CheckTracker::default()));
        assert_eq!(
            board.get("backup").map(|e| e.heartbeat.state),
            Some(crate::core::heartbeat::HbState::New)
        );
        let ping = |kind, body: String| Ping {
            kind,
            body,
            rid: None,
        };
        let target = PingTarget::Token("backup-token-0123456789".into());
        let long = "x".repeat(20_000);
        let out = board.ping(target, ping(PingKind::Success, long)).await;
        assert_eq!(out.map(|o| o.outcome.state).ok().as_deref(), Some("UP"));
        let report = reports.recv().await.expect("a report");
        assert_eq!(report.result.message.len(), MAX_BODY, "cut to 10,000 bytes");
        assert!(report.transition.is_none(), "NEW -> UP is no hard change");
        let fail = ping(PingKind::Fail { exit_code: Some(2) }, "bad\nmore".into());
        let out = board.ping(PingTarget::Check("backup".into()), fail).await;
        assert_eq!(out.map(|o| o.outcome.state).ok().as_deref(), Some("DOWN"));
        let report = reports.recv().await.expect("a report");
        assert!(report.transition.is_some_and(|t| t.is_hard()));
        assert_eq!(report.result.message, "bad");
        assert_eq!(report.detail.as_deref(), Some("bad\nmore"));
        for target in [
            PingTarget::Token("nope-nope-nope-nope".into()),
            PingTarget::Check("other".into()),
        ] {
            let err = board
                .ping(target, ping(PingKind::Success, String::new()))
                .await;
            assert_eq!(err.err().map(|e| e.status), Some(404));
        }
        board.remove("backup");
        let gone = PingTarget::Token("backup-token-0123456789".into());
        let err = board
            .ping(gone, ping(PingKind::Success, String::new()))
            .await;
        assert_eq!(err.err().map(|e| e.status), Some(404));
    }

    /// The one timer: of 1,000 checks pinged once, the one with a 1 s period goes DOWN when
    /// late (a report with a hard transition), the others keep their later deadlines; the
    /// removed check's deadline is gone with it. (`grace` 0: no start-up floor to wait out.)
    #[tokio::test]
    async fn one_timer_fires_the_due_check_only() {
        let board = Board::new(TimeZone::UTC);
        let (tx, mut reports) = mpsc::channel::<CheckReport>(4096);
        board.attach(tx.clone());
        let (stop, stop_rx) = oneshot::channel();
        let timer = tokio::spawn(board.clone().run_timer(tx, stop_rx));
        for i in 0..1000 {
            let period = if i == 7 { 1 } else { 3600 };
            let check = heartbeat_check(
                &format!("c{i}"),
                &format!("token-{i:04}-0123456789"),
                period,
                0,
            );
            assert!(board.add(&check, CheckTracker::default()));
        }
        let gone = heartbeat_check("gone", "token-gone-0123456789", 1, 0);
        assert!(board.add(&gone, CheckTracker::default()));
        // The engine's part, in the background: answer each ping once "saved".
        let (fwd, mut seen) = mpsc::channel(4096);
        tokio::spawn(async move {
            while let Some(r) = reports.recv().await {
                if let Some(n) = &r.committed {
                    n.notify_one();
                }
                let _ = fwd.send(r).await;
            }
        });
        // c7 last, so it is late only after every other ping.
        let names = (0..1000).filter(|i| *i != 7).map(|i| format!("c{i}"));
        for name in names.chain(["gone".to_string(), "c7".to_string()]) {
            let ping = Ping {
                kind: PingKind::Success,
                body: String::new(),
                rid: None,
            };
            let out = board.ping(PingTarget::Check(name), ping).await;
            assert_eq!(out.map(|o| o.outcome.state).ok().as_deref(), Some("UP"));
        }
        assert_eq!(
            board.remove("gone").map(|t| t.state),
            Some(crate::core::check_state::CheckState::Up)
        );
        for _ in 0..1001 {
            let r = seen.recv().await.expect("the ping reports");
            assert!(r.transition.is_none(), "NEW -> UP is no hard change");
        }
        let late = tokio::time::timeout(std::time::Duration::from_secs(5), seen.recv())
            .await
            .expect("the late check is reported within its period")
            .expect("a report");
        assert_eq!(late.check, "c7");
        assert!(late.transition.is_some_and(|t| t.is_hard()));
        assert!(
            late.result.message.starts_with("no ping since"),
            "{}",
            late.result.message
        );
        assert_eq!(
            board.get("c7").map(|e| e.heartbeat.state),
            Some(crate::core::heartbeat::HbState::Down)
        );
        assert_eq!(
            board
                .table()
                .first_deadline()
                .map(|d| d > Timestamp::now() + std::time::Duration::from_secs(3000)),
            Some(true)
        );
        let quiet = tokio::time::timeout(std::time::Duration::from_millis(1500), seen.recv()).await;
        assert!(quiet.is_err(), "nothing else is due");
        let _ = stop.send(());
        timer.await.expect("the timer ends when stopped");
    }

    /// A routine ping (a success on an UP check, a log) is answered without a report to the
    /// engine: applied to the table (its deadline moved at once) and its row handed out by
    /// the next `take_dirty`, due `FLUSH_AFTER` after the first. A start, the success that
    /// finishes it, and a failure go through the engine. An older row committed after a
    /// flush marks the check again.
    #[tokio::test]
    async fn routine_pings_skip_the_engine_and_are_flushed_later() {
        let board = Board::new(TimeZone::UTC);
        let (tx, mut reports) = mpsc::channel::<CheckReport>(16);
        board.attach(tx);
        let (fwd, mut seen) = mpsc::channel(16);
        tokio::spawn(async move {
            while let Some(r) = reports.recv().await {
                if let Some(n) = &r.committed {
                    n.notify_one();
                }
                let _ = fwd.send(r).await;
            }
        });
        assert!(board.add(
            &heartbeat_check("job", "job-token-0123456789", 3600, 60),
            CheckTracker::default()
        ));
        let ping = |kind, body: &str| Ping {
            kind,
            body: body.to_string(),
            rid: None,
        };
        let job = || PingTarget::Check("job".into());
        let routine = |p: &ApiResult<Pinged>| p.as_ref().map(|p| p.routine.is_some()).ok();
        // NEW -> UP: through the engine, saved before the answer.
        let first = board.ping(job(), ping(PingKind::Success, "")).await;
        assert_eq!(routine(&first), Some(false));
        let first_report = seen.recv().await.expect("a report");
        assert_eq!(board.flush_due(), None);
        let deadline = board.table().first_deadline().expect("UP has a deadline");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        // UP -> UP: routine, no report; the deadline moves with it.
        let before = Timestamp::now();
        let again = board
            .ping(job(), ping(PingKind::Success, "all good\nmore"))
            .await;
        assert_eq!(routine(&again), Some(true));
        let r = again.ok().and_then(|p| p.routine).expect("routine");
        assert_eq!(r.message, "all good");
        assert_eq!(r.status, crate::core::check_state::Status::Ok);
        assert!(board.table().first_deadline().expect("a deadline") > deadline);
        let due = board.flush_due().expect("a flush is due");
        assert!(due >= before + FLUSH_AFTER && due <= Timestamp::now() + FLUSH_AFTER);
        let log = board.ping(job(), ping(PingKind::Log, "")).await;
        assert_eq!(routine(&log), Some(true));
        assert!(
            seen.try_recv().is_err(),
            "the engine heard of a routine ping"
        );
        let rows = board.take_dirty();
        assert_eq!(rows.len(), 1, "one row per check, however many pings");
        let last = rows[0].last_ping.as_ref().expect("a last ping");
        assert_eq!(
            (last.kind, last.message.as_str()),
            (PingKind::Log, "log ping")
        );
        assert_eq!(rows[0].last_success.map(|t| t >= before), Some(true));
        assert_eq!(board.flush_due(), None);
        assert!(board.take_dirty().is_empty());
        // The first report's row is older than what was flushed: committed after it, it
        // would win, so the check is flushed again.
        board.settle(first_report.heartbeat.as_ref().expect("a row"));
        assert!(board.flush_due().is_some());
        let rows = board.take_dirty();
        assert_eq!(rows.first().and_then(|r| r.last_ping.as_ref()), Some(last));
        // A start, the success that finishes it, and a failure are saved first.
        for kind in [
            PingKind::Start,
            PingKind::Success,
            PingKind::Fail { exit_code: Some(2) },
            PingKind::Success,
        ] {
            let out = board.ping(job(), ping(kind, "")).await;
            assert_eq!(routine(&out), Some(false), "{kind:?}");
            let r = seen.recv().await.expect("a report");
            board.settle(r.heartbeat.as_ref().expect("a row"));
        }
        assert_eq!(board.flush_due(), None, "those rows went with their steps");
        let out = board.ping(job(), ping(PingKind::Success, "")).await;
        assert_eq!(routine(&out), Some(true), "UP again: routine again");
    }

    #[test]
    fn cut_keeps_whole_characters() {
        let mut s = "ab\u{e9}".to_string();
        cut(&mut s, 3);
        assert_eq!(s, "ab");
        let mut s = "x".repeat(20_000);
        cut(&mut s, 10_000);
        assert_eq!(s.len(), 10_000);
    }
}
