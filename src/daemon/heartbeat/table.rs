//! Every heartbeat check in one table: per check its pure [`Heartbeat`], its [`Rule`] and its
//! tracker, and one ordered set of [`Deadlines`] for all of them (no task, channel or timer
//! per check). Turns what the core decides on a ping or at a deadline into the
//! [`CheckReport`] the engine takes. No lock and no I/O here: [`super::Board`] holds the table
//! behind its lock and passes `now` in.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;

use crate::api::types::{Ping, PingKind, PingOutcome, PingTarget};
use crate::core::check_state::{CheckState, CheckTracker, Status, Transition};
use crate::core::heartbeat::{Change, Deadlines, HbState, Heartbeat, Rule};
use crate::daemon::scheduler::CheckReport;
use crate::probe::ProbeResult;
use crate::store::HeartbeatRow;

/// One heartbeat check.
pub(super) struct Slot {
    pub token: Arc<str>,
    pub rule: Rule,
    pub heartbeat: Heartbeat,
    pub tracker: CheckTracker,
    /// Its entry in the table's deadlines (what [`Deadlines::set`] moves it from).
    due: Option<Timestamp>,
    /// A routine ping changed it since its row was last handed to the store.
    dirty: bool,
}

/// A routine ping, taken: its result for the live view (`status`, `/metrics`).
#[derive(Debug, Clone)]
pub struct Routine {
    pub at: Timestamp,
    pub state: CheckState,
    pub status: Status,
    pub message: String,
}

#[derive(Default)]
pub(super) struct Table {
    /// Boxed: the map's spare capacity then costs a pointer per bucket, not a whole slot.
    checks: HashMap<Arc<str>, Box<Slot>>,
    /// token -> check name (the same `Arc`s as the slots').
    tokens: HashMap<Arc<str>, Arc<str>>,
    deadlines: Deadlines<Arc<str>>,
    /// Rows from the store, each taken when its check is first added.
    restored: HashMap<String, HeartbeatRow>,
    /// Checks changed by routine pings and not yet handed to the store (each once).
    dirty: Vec<Arc<str>>,
    /// When the oldest of them came: the flush is due [`super::FLUSH_AFTER`] later.
    dirty_since: Option<Timestamp>,
}

impl Table {
    pub fn restore(&mut self, rows: Vec<HeartbeatRow>) {
        self.restored = rows.into_iter().map(|r| (r.check.clone(), r)).collect();
    }

    pub fn get(&self, name: &str) -> Option<&Slot> {
        self.checks.get(name).map(|s| &**s)
    }

    pub fn iter(&self) -> impl Iterator<Item = (&Arc<str>, &Slot)> {
        self.checks.iter().map(|(n, s)| (n, &**s))
    }

    pub fn len(&self) -> usize {
        self.checks.len()
    }

    /// The heartbeat check a ping is for.
    pub fn find(&self, target: &PingTarget) -> Option<Arc<str>> {
        match target {
            PingTarget::Token(t) => self.tokens.get(t.as_str()).cloned(),
            PingTarget::Check(n) => self
                .checks
                .get_key_value(n.as_str())
                .map(|(k, _)| k.clone()),
        }
    }

    /// Add heartbeat check `name`, or update its token and rule (a reload). It keeps its
    /// memory when it is already here; else it resumes from its stored row (watched again from
    /// `now`), else it starts NEW. `tracker` is used for a check not already here.
    pub fn add(
        &mut self,
        name: &str,
        token: &str,
        rule: Rule,
        tracker: CheckTracker,
        now: Timestamp,
    ) {
        let name: Arc<str> = match self.checks.get_key_value(name) {
            Some((k, _)) => k.clone(),
            None => Arc::from(name),
        };
        let token: Arc<str> = Arc::from(token);
        let slot = match self.checks.remove(&name) {
            Some(mut slot) => {
                if slot.token != token {
                    self.tokens.remove(&slot.token);
                }
                slot.token = token.clone();
                slot.rule = rule;
                slot
            }
            None => Box::new(Slot {
                token: token.clone(),
                rule,
                heartbeat: match self.restored.remove(&*name) {
                    Some(row) => resume(row, now),
                    None => Heartbeat::new(now),
                },
                tracker,
                due: None,
                dirty: false,
            }),
        };
        self.tokens.insert(token, name.clone());
        self.checks.insert(name.clone(), slot);
        self.reschedule(&name, Timestamp::MIN);
    }

    /// A check removed from the config: its pings are refused from now on (a row not yet
    /// flushed is dropped with it).
    pub fn remove(&mut self, name: &str) -> Option<CheckTracker> {
        let (name, slot) = self.checks.remove_entry(name)?;
        self.tokens.remove(&slot.token);
        self.deadlines.set(name, slot.due, None);
        Some(slot.tracker)
    }

    /// Take `ping` at `now` if it is routine for its check ([`Heartbeat::is_routine`]): applied
    /// here only, its deadline moved at once (nothing goes late falsely), the check marked for
    /// the next flush. `None` (nothing done) for a ping that must go through the engine.
    /// `message` is the ping's first line, or `None` for none.
    pub fn ping_routine(
        &mut self,
        name: &Arc<str>,
        kind: PingKind,
        message: Option<&str>,
        now: Timestamp,
    ) -> Option<(PingOutcome, Routine)> {
        let slot = self.checks.get_mut(name)?;
        let state = tracker_state(slot.heartbeat.state);
        // The tracker always follows the heartbeat; should it not, the engine must hear it.
        if !slot.heartbeat.is_routine(kind) || slot.tracker.state != state {
            return None;
        }
        let message = match message {
            Some(m) => m.to_string(),
            None => default_message(kind),
        };
        let change = slot.heartbeat.ping(kind, &message, now);
        debug_assert!(change.is_none(), "a routine ping changed the state");
        let status = match slot.heartbeat.state {
            HbState::Down => Status::Critical,
            HbState::New | HbState::Up => Status::Ok,
        };
        let outcome = PingOutcome {
            check: name.to_string(),
            state: slot.heartbeat.state.as_str().to_string(),
        };
        if !slot.dirty {
            slot.dirty = true;
            self.dirty.push(name.clone());
            self.dirty_since.get_or_insert(now);
        }
        if kind == PingKind::Success {
            self.reschedule(name, Timestamp::MIN);
        }
        let routine = Routine {
            at: now,
            state,
            status,
            message,
        };
        Some((outcome, routine))
    }

    /// When the routine pings taken so far are due in the store.
    pub fn flush_due(&self) -> Option<Timestamp> {
        self.dirty_since.map(|t| t + super::FLUSH_AFTER)
    }

    /// The rows of every check changed by routine pings since the last call (as they are now),
    /// for the next commit.
    pub fn take_dirty(&mut self) -> Vec<HeartbeatRow> {
        self.dirty_since = None;
        let names = std::mem::take(&mut self.dirty);
        let mut rows = Vec::with_capacity(names.len());
        for name in names {
            if let Some(slot) = self.checks.get_mut(&name) {
                if std::mem::take(&mut slot.dirty) {
                    rows.push(slot.row(&name));
                }
            }
        }
        rows
    }

    /// A row on its way to the store from an engine step: if routine pings have changed the
    /// check since the row was made, and its newer row was flushed already (before this
    /// step), this older row would overwrite it; mark the check for the next flush again.
    pub fn settle(&mut self, row: &HeartbeatRow) {
        let Some((name, slot)) = self.checks.get_key_value(row.check.as_str()) else {
            return;
        };
        if slot.dirty || slot.heartbeat.last_ping == row.last_ping {
            return;
        }
        let name = name.clone();
        if let Some(slot) = self.checks.get_mut(&name) {
            slot.dirty = true;
        }
        self.dirty.push(name);
        self.dirty_since.get_or_insert(Timestamp::now());
    }

    /// Take a ping at `now`: the report for the engine and the answer for the caller.
    pub fn ping(
        &mut self,
        name: &Arc<str>,
        ping: Ping,
        now: Timestamp,
    ) -> Option<(CheckReport, PingOutcome)> {
        let slot = self.checks.get_mut(name)?;
        let first = ping.body.lines().next().unwrap_or_default().trim();
        let message = if first.is_empty() {
            default_message(ping.kind)
        } else {
            first.to_string()
        };
        let change = slot.heartbeat.ping(ping.kind, &message, now);
        let status = match ping.kind {
            PingKind::Fail { .. } => Status::Critical,
            _ if slot.heartbeat.state == HbState::Down => Status::Critical,
            _ => Status::Ok,
        };
        let detail = change.as_ref().and_then(|_| {
            let body = ping.body.trim_end();
            (body.contains('\n')).then(|| body.to_string())
        });
        let report = slot.report(name, now, status, message, change, detail);
        let outcome = PingOutcome {
            check: name.to_string(),
            state: slot.heartbeat.state.as_str().to_string(),
        };
        self.reschedule(name, Timestamp::MIN);
        Some((report, outcome))
    }

    /// The earliest deadline of any check.
    pub fn first_deadline(&self) -> Option<Timestamp> {
        self.deadlines.first()
    }

    /// Apply the next deadline due at `now`: the report of the first due check whose state it
    /// changes; `None` once nothing is due.
    pub fn fire(&mut self, now: Timestamp) -> Option<CheckReport> {
        while let Some((_, name)) = self.deadlines.pop_due(now) {
            let Some(slot) = self.checks.get_mut(&name) else {
                continue;
            };
            slot.due = None;
            let report = slot.tick(&name, now);
            // A due deadline always changes the state (the core guarantees it); should one
            // not, it is looked at again in a second rather than in a busy loop.
            let floor = match report {
                Some(_) => Timestamp::MIN,
                None => now + Duration::from_secs(1),
            };
            self.reschedule(&name, floor);
            if report.is_some() {
                return report;
            }
        }
        None
    }

    /// Put `name` at its next deadline, not before `floor`.
    fn reschedule(&mut self, name: &Arc<str>, floor: Timestamp) {
        let Some(slot) = self.checks.get_mut(name) else {
            return;
        };
        let next = slot
            .heartbeat
            .next_deadline(&slot.rule)
            .map(|d| d.max(floor));
        self.deadlines.set(name.clone(), slot.due, next);
        slot.due = next;
    }
}

impl Slot {
    fn tick(&mut self, name: &str, now: Timestamp) -> Option<CheckReport> {
        let change = self.heartbeat.tick(&self.rule, now)?;
        let message = match &change {
            Change::Late { message, .. } | Change::RunTimedOut { message, .. } => message.clone(),
            Change::Success { .. } | Change::Failed { .. } => String::new(),
        };
        Some(self.report(name, now, Status::Critical, message, Some(change), None))
    }

    /// The report of one event; the tracker follows the heartbeat (NEW counts as UP).
    fn report(
        &mut self,
        name: &str,
        now: Timestamp,
        status: Status,
        message: String,
        change: Option<Change>,
        detail: Option<String>,
    ) -> CheckReport {
        let to = tracker_state(self.heartbeat.state);
        let from = self.tracker.state;
        self.tracker = CheckTracker::new(to);
        let transition = (change.is_some() && from != to).then_some(Transition { from, to });
        // For flap detection: a change is a result (failed unless a success); a start or
        // log ping is none.
        let failed = change
            .as_ref()
            .map(|c| !matches!(c, Change::Success { .. }));
        let instant = tokio::time::Instant::now();
        // This row goes to the store now: a routine ping before it needs no flush of its own.
        self.dirty = false;
        CheckReport {
            check: name.to_string(),
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
            heartbeat: Some(self.row(name)),
            detail,
            committed: None,
        }
    }

    fn row(&self, name: &str) -> HeartbeatRow {
        let h = &self.heartbeat;
        HeartbeatRow {
            check: name.to_string(),
            state: h.state,
            last_ping: h.last_ping.clone(),
            last_success: h.last_success,
            started: h.started,
        }
    }
}

/// What the incident engine sees of a heartbeat's state: NEW counts as UP.
fn tracker_state(state: HbState) -> CheckState {
    match state {
        HbState::Down => CheckState::Down,
        HbState::New | HbState::Up => CheckState::Up,
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
