//! Heartbeat checks in the daemon (SPEC §10): the [`Board`] that routes a ping to its check's
//! task and shows each check's heartbeat, and the task itself ([`HeartbeatRun`]).
//!
//! A heartbeat check has no probe. Its task, spawned by the scheduler like a probe task,
//! waits for a ping or the core's next deadline, whichever comes first, and turns what the
//! pure [`Heartbeat`] decides into a [`CheckReport`] with a hard transition, so the engine
//! opens, pages and resolves incidents exactly as for a probed check. Every ping also carries
//! a [`HeartbeatRow`] that the engine task commits in its step (the last ping survives a
//! `kill -9`).

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use jiff::Timestamp;
use jiff::tz::TimeZone;
use tokio::sync::{mpsc, oneshot};

use crate::api::backend::{ApiError, ApiResult};
use crate::api::types::{Ping, PingOutcome, PingTarget};
use crate::config::{CheckConfig, ProbeConfig};
use crate::core::check_state::CheckTracker;
use crate::core::heartbeat::{Heartbeat, Rule};
use crate::daemon::scheduler::CheckReport;
use crate::store::HeartbeatRow;

mod run;

pub(crate) use run::HeartbeatRun;

/// The most of a ping's body that is kept (SPEC §10); the rest is cut.
pub const MAX_BODY: usize = 10_000;
/// Pings queued for one check before the sender waits (a flood slows its sender only).
const QUEUE: usize = 64;
/// How long a ping waits for its step to be saved before answering 503.
const SAVE_WAIT: std::time::Duration = std::time::Duration::from_secs(10);

/// A ping on its way to a check's task, with where to answer.
pub struct PingRequest {
    pub ping: Ping,
    /// The outcome, and what is notified once the ping's step is saved.
    pub reply: oneshot::Sender<(PingOutcome, std::sync::Arc<tokio::sync::Notify>)>,
}

/// One heartbeat check as the rest of the daemon sees it.
#[derive(Clone)]
pub struct Entry {
    pub token: String,
    pub rule: Rule,
    /// The latest state of the check's task.
    pub heartbeat: Heartbeat,
    tx: mpsc::Sender<PingRequest>,
}

#[derive(Default)]
struct Inner {
    checks: HashMap<String, Entry>,
    /// token -> check name.
    tokens: HashMap<String, String>,
    /// Rows from the store, each taken by its check's first task.
    restored: HashMap<String, HeartbeatRow>,
}

/// The running heartbeat checks, shared by the scheduler (which adds and removes them), the
/// API backend (which routes pings) and the views (`status`, `/metrics`). Cheap to clone.
#[derive(Clone)]
pub struct Board {
    inner: Arc<RwLock<Inner>>,
    zone: Arc<RwLock<TimeZone>>,
}

impl Board {
    /// `zone` is the daemon's `time_zone` (cron expressions are read in it).
    pub fn new(zone: TimeZone) -> Board {
        Board {
            inner: Arc::default(),
            zone: Arc::new(RwLock::new(zone)),
        }
    }

    /// Rows read from the store at start-up; each check's first task resumes from its row.
    pub fn restore(&self, rows: Vec<HeartbeatRow>) {
        let mut inner = self.write();
        inner.restored = rows.into_iter().map(|r| (r.check.clone(), r)).collect();
    }

    pub fn set_zone(&self, zone: TimeZone) {
        match self.zone.write() {
            Ok(mut z) => *z = zone,
            Err(p) => *p.into_inner() = zone,
        }
    }

    /// The heartbeat of `check`, when it is a running heartbeat check.
    pub fn get(&self, check: &str) -> Option<Entry> {
        self.read().checks.get(check).cloned()
    }

    /// Every running heartbeat check (for `/metrics`).
    pub fn all(&self) -> Vec<(String, Entry)> {
        let inner = self.read();
        let mut all: Vec<_> = inner
            .checks
            .iter()
            .map(|(n, e)| (n.clone(), e.clone()))
            .collect();
        all.sort_by(|a, b| a.0.cmp(&b.0));
        all
    }

    /// Send `ping` to its check's task and answer with the state after it.
    pub async fn ping(&self, target: PingTarget, mut ping: Ping) -> ApiResult<PingOutcome> {
        let tx = {
            let inner = self.read();
            let name = match &target {
                PingTarget::Token(t) => inner.tokens.get(t).cloned().ok_or_else(|| {
                    ApiError::not_found("no heartbeat check has this token".to_string())
                })?,
                PingTarget::Check(n) => n.clone(),
            };
            match inner.checks.get(&name) {
                Some(e) => e.tx.clone(),
                None => {
                    return Err(ApiError::not_found(format!(
                        "no heartbeat check {name:?} (unknown check, or not type = \"heartbeat\")"
                    )));
                }
            }
        };
        cut(&mut ping.body, MAX_BODY);
        // Outside text: a password in a URL is starred where it enters, as for probe output
        // (SPEC §9), so the message, the timeline, pages and logs never carry it.
        if let std::borrow::Cow::Owned(shown) = crate::redact::redact_urls(&ping.body) {
            ping.body = shown;
        }
        let (reply, answer) = oneshot::channel();
        let gone = || ApiError::new(503, "the check is being reloaded; ping again");
        tx.send(PingRequest { ping, reply })
            .await
            .map_err(|_| gone())?;
        let (outcome, committed) = answer.await.map_err(|_| gone())?;
        // Answer only once the ping is saved: a ping answered OK survives a kill -9.
        tokio::time::timeout(SAVE_WAIT, committed.notified())
            .await
            .map_err(|_| ApiError::new(503, "the ping was not saved in time; ping again"))?;
        Ok(outcome)
    }

    /// Register the task of a heartbeat check; returns where its pings arrive and the memory
    /// it starts from: its previous task's (a reload), its stored row (a start), or new.
    fn register(
        &self,
        check: &CheckConfig,
        token: &str,
        rule: Rule,
        now: Timestamp,
    ) -> (mpsc::Receiver<PingRequest>, Heartbeat) {
        let (tx, rx) = mpsc::channel(QUEUE);
        let mut inner = self.write();
        let heartbeat = match inner.checks.get(&check.name) {
            Some(e) => e.heartbeat.clone(),
            None => match inner.restored.remove(&check.name) {
                Some(row) => resume(row, now),
                None => Heartbeat::new(now),
            },
        };
        if let Some(old) = inner.checks.get(&check.name) {
            let old_token = old.token.clone();
            inner.tokens.remove(&old_token);
        }
        inner.tokens.insert(token.to_string(), check.name.clone());
        inner.checks.insert(
            check.name.clone(),
            Entry {
                token: token.to_string(),
                rule,
                heartbeat: heartbeat.clone(),
                tx,
            },
        );
        (rx, heartbeat)
    }

    /// A check removed from the config: its pings are refused from now on.
    pub fn remove(&self, check: &str) {
        let mut inner = self.write();
        if let Some(e) = inner.checks.remove(check) {
            inner.tokens.remove(&e.token);
        }
    }

    pub(crate) fn update(&self, check: &str, heartbeat: &Heartbeat) {
        if let Some(e) = self.write().checks.get_mut(check) {
            e.heartbeat = heartbeat.clone();
        }
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Inner> {
        match self.inner.read() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        }
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Inner> {
        match self.inner.write() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        }
    }

    fn zone(&self) -> TimeZone {
        match self.zone.read() {
            Ok(z) => z.clone(),
            Err(p) => p.into_inner().clone(),
        }
    }

    /// The task of heartbeat check `check`; for a probed check, `stop` back.
    pub(crate) fn task(
        &self,
        check: &Arc<CheckConfig>,
        tracker: CheckTracker,
        tx: mpsc::Sender<CheckReport>,
        stop: oneshot::Receiver<()>,
    ) -> Result<HeartbeatRun, oneshot::Receiver<()>> {
        let ProbeConfig::Heartbeat(hb) = &check.probe else {
            return Err(stop);
        };
        let rule = Rule {
            expect: hb.expect.clone(),
            grace: hb.grace,
            zone: self.zone(),
        };
        let (pings, heartbeat) = self.register(check, &hb.token, rule.clone(), Timestamp::now());
        Ok(HeartbeatRun {
            name: check.name.clone(),
            rule,
            heartbeat,
            tracker,
            pings,
            tx,
            stop,
            board: self.clone(),
        })
    }
}

/// A stored row, watched again from `now` (nothing is late before `grace` from now).
fn resume(row: HeartbeatRow, now: Timestamp) -> Heartbeat {
    Heartbeat {
        state: row.state,
        last_ping: row.last_ping,
        last_success: row.last_success,
        started: row.started,
        watch_from: now,
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

    fn heartbeat_check(name: &str, token: &str) -> Arc<CheckConfig> {
        Arc::new(CheckConfig {
            name: name.into(),
            probe: ProbeConfig::Heartbeat(HeartbeatProbe {
                token: token.into(),
                expect: Expect::Period(std::time::Duration::from_secs(3600)),
                grace: std::time::Duration::from_secs(60),
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
        })
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
        let (_stop, stop_rx) = oneshot::channel();
        let check = heartbeat_check("backup", "backup-token-0123456789");
        let Ok(run) = board.task(&check, CheckTracker::default(), tx, stop_rx) else {
            panic!("a heartbeat check gets a task");
        };
        tokio::spawn(run.run());
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
        assert_eq!(out.map(|o| o.state).ok().as_deref(), Some("UP"));
        let report = reports.recv().await.expect("a report");
        assert_eq!(report.result.message.len(), MAX_BODY, "cut to 10,000 bytes");
        assert!(report.transition.is_none(), "NEW -> UP is no hard change");
        let fail = ping(PingKind::Fail { exit_code: Some(2) }, "bad\nmore".into());
        let out = board.ping(PingTarget::Check("backup".into()), fail).await;
        assert_eq!(out.map(|o| o.state).ok().as_deref(), Some("DOWN"));
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
