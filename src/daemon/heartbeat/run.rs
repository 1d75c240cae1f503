//! The task of one heartbeat check: waits for a ping or the next deadline, and reports what
//! the pure [`Heartbeat`] decided as a [`CheckReport`].

use std::time::Duration;

use jiff::Timestamp;
use tokio::sync::{mpsc, oneshot};

use super::{Board, PingRequest};
use crate::api::types::{PingKind, PingOutcome};
use crate::core::check_state::{CheckState, CheckTracker, Status, Transition};
use crate::core::heartbeat::{Change, HbState, Heartbeat, Rule};
use crate::daemon::clock::sleep_until;
use crate::daemon::scheduler::CheckReport;
use crate::probe::ProbeResult;
use crate::store::HeartbeatRow;

/// One heartbeat check's task.
pub(crate) struct HeartbeatRun {
    pub(super) name: String,
    pub(super) rule: Rule,
    pub(super) heartbeat: Heartbeat,
    pub(super) tracker: CheckTracker,
    pub(super) pings: mpsc::Receiver<PingRequest>,
    pub(super) tx: mpsc::Sender<CheckReport>,
    pub(super) stop: oneshot::Receiver<()>,
    pub(super) board: Board,
}

impl HeartbeatRun {
    /// Loop until stopped (or the report channel closes); returns the tracker.
    pub(crate) async fn run(mut self) -> CheckTracker {
        loop {
            let deadline = self.heartbeat.next_deadline(&self.rule);
            let report = tokio::select! {
                biased;
                _ = &mut self.stop => return self.tracker,
                req = self.pings.recv() => match req {
                    Some(req) => self.on_ping(req),
                    None => return self.tracker,
                },
                _ = sleep_until(deadline) => self.on_tick(),
            };
            let Some(report) = report else { continue };
            tokio::select! {
                biased;
                _ = &mut self.stop => return self.tracker,
                sent = self.tx.send(report) => if sent.is_err() { return self.tracker },
            }
        }
    }

    fn on_ping(&mut self, req: PingRequest) -> Option<CheckReport> {
        let now = Timestamp::now();
        let PingRequest { ping, reply } = req;
        let first = ping.body.lines().next().unwrap_or_default().trim();
        let message = if first.is_empty() {
            default_message(ping.kind)
        } else {
            first.to_string()
        };
        let change = self.heartbeat.ping(ping.kind, &message, now);
        let status = match ping.kind {
            PingKind::Fail { .. } => Status::Critical,
            _ if self.heartbeat.state == HbState::Down => Status::Critical,
            _ => Status::Ok,
        };
        let detail = change.as_ref().and_then(|_| {
            let body = ping.body.trim_end();
            (body.contains('\n')).then(|| body.to_string())
        });
        let mut report = self.report(now, status, message, change, detail);
        let committed = std::sync::Arc::new(tokio::sync::Notify::new());
        report.committed = Some(committed.clone());
        let outcome = PingOutcome {
            check: self.name.clone(),
            state: self.heartbeat.state.as_str().to_string(),
        };
        let _ = reply.send((outcome, committed));
        Some(report)
    }

    fn on_tick(&mut self) -> Option<CheckReport> {
        let now = Timestamp::now();
        let change = self.heartbeat.tick(&self.rule, now)?;
        let message = match &change {
            Change::Late { message, .. } | Change::RunTimedOut { message, .. } => message.clone(),
            Change::Success { .. } | Change::Failed { .. } => String::new(),
        };
        Some(self.report(now, Status::Critical, message, Some(change), None))
    }

    /// The report of one event; the tracker follows the heartbeat (NEW counts as UP).
    fn report(
        &mut self,
        now: Timestamp,
        status: Status,
        message: String,
        change: Option<Change>,
        detail: Option<String>,
    ) -> CheckReport {
        self.board.update(&self.name, &self.heartbeat);
        let to = match self.heartbeat.state {
            HbState::Down => CheckState::Down,
            HbState::New | HbState::Up => CheckState::Up,
        };
        let from = self.tracker.state;
        self.tracker = CheckTracker::new(to);
        let transition = (change.is_some() && from != to).then_some(Transition { from, to });
        let failed = change
            .as_ref()
            .map(|c| !matches!(c, Change::Success { .. }));
        let instant = tokio::time::Instant::now();
        let h = &self.heartbeat;
        CheckReport {
            check: self.name.clone(),
            at: now,
            due: instant,
            started: instant,
            result: ProbeResult {
                status,
                message,
                duration: Duration::ZERO,
                perfdata: Vec::new(),
            },
            state: to,
            transition,
            failed,
            heartbeat: Some(HeartbeatRow {
                check: self.name.clone(),
                state: h.state,
                last_ping: h.last_ping.clone(),
                last_success: h.last_success,
                started: h.started,
            }),
            detail,
            committed: None,
        }
    }
}

fn default_message(kind: PingKind) -> String {
    match kind {
        PingKind::Success => "success ping".to_string(),
        PingKind::Start => "run started".to_string(),
        PingKind::Fail { exit_code: None } => "failure ping".to_string(),
        PingKind::Fail {
            exit_code: Some(code),
        } => format!("exit code {code}"),
        PingKind::Log => "log ping".to_string(),
    }
}
