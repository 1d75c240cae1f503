//! Heartbeat checks (SPEC §10) as a pure state machine: a cron job or agent pings, and the
//! check goes DOWN when it does not (a dead man's switch). No I/O, no clock reads.
//!
//! - NEW until the first ping; a NEW check is shown and never paged (nothing is late yet).
//! - A success ping: UP. A failure (`/fail`, exit code 1..255): DOWN at once, no retries.
//! - `/start` opens a run: without a success or failure within `grace`, DOWN.
//! - No success by the expected time (last success + `period`, or the first cron time after
//!   it) + `grace`: DOWN, with a message saying when the last ping came.
//! - `/log`: recorded only.
//! - After a start-up (`watch_from`), nothing is declared late before `grace` has passed:
//!   pings sent while the daemon was down were refused, not missed.

use std::collections::BTreeSet;
use std::time::Duration;

use jiff::Timestamp;
use jiff::tz::TimeZone;

use crate::api::types::PingKind;
use crate::core::cron::CronExpr;

/// When successes are expected.
#[derive(Debug, Clone, PartialEq)]
pub enum Expect {
    /// At most this long between successes.
    Period(Duration),
    /// At the expression's times, read in the daemon's `time_zone`.
    Cron(CronExpr),
}

/// A heartbeat check's timing rules.
#[derive(Debug, Clone)]
pub struct Rule {
    pub expect: Expect,
    /// How late a ping may be (and how long a started run may take).
    pub grace: Duration,
    pub zone: TimeZone,
}

/// The heartbeat's own state; `New` counts as UP for the incident engine (never pages).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HbState {
    New,
    Up,
    Down,
}

impl HbState {
    pub fn as_str(self) -> &'static str {
        match self {
            HbState::New => "NEW",
            HbState::Up => "UP",
            HbState::Down => "DOWN",
        }
    }
}

/// The last ping of any kind.
#[derive(Debug, Clone, PartialEq)]
pub struct LastPing {
    pub at: Timestamp,
    pub kind: PingKind,
    /// Its first line (may be empty).
    pub message: String,
}

/// Why the state changed; the variant is what the log and timeline say.
#[derive(Debug, Clone, PartialEq)]
pub enum Change {
    /// A success ping.
    Success { from: HbState },
    /// `/fail` or a non-zero exit code.
    Failed { from: HbState },
    /// No success in time.
    Late { from: HbState, message: String },
    /// A `/start` without a finish within `grace`.
    RunTimedOut { from: HbState, message: String },
}

impl Change {
    pub fn from(&self) -> HbState {
        match self {
            Change::Success { from }
            | Change::Failed { from }
            | Change::Late { from, .. }
            | Change::RunTimedOut { from, .. } => *from,
        }
    }
}

/// One heartbeat check's memory: what survives restarts (all but `watch_from`).
#[derive(Debug, Clone, PartialEq)]
pub struct Heartbeat {
    pub state: HbState,
    pub last_ping: Option<LastPing>,
    pub last_success: Option<Timestamp>,
    /// A `/start` not yet followed by a success or failure.
    pub started: Option<Timestamp>,
    /// When watching began (the daemon's start): the earliest a deadline counts from.
    pub watch_from: Timestamp,
}

impl Heartbeat {
    /// A check never pinged, watched from `now`.
    pub fn new(now: Timestamp) -> Heartbeat {
        Heartbeat {
            state: HbState::New,
            last_ping: None,
            last_success: None,
            started: None,
            watch_from: now,
        }
    }

    /// Take a ping at `now`; `message` is its first line. Returns the change it made.
    pub fn ping(&mut self, kind: PingKind, message: &str, now: Timestamp) -> Option<Change> {
        self.last_ping = Some(LastPing {
            at: now,
            kind,
            message: message.to_string(),
        });
        let from = self.state;
        match kind {
            PingKind::Log => None,
            PingKind::Start => {
                self.started = Some(now);
                None
            }
            PingKind::Success => {
                self.started = None;
                self.last_success = Some(now);
                self.state = HbState::Up;
                (from != HbState::Up).then_some(Change::Success { from })
            }
            PingKind::Fail { .. } => {
                self.started = None;
                self.state = HbState::Down;
                (from != HbState::Down).then_some(Change::Failed { from })
            }
        }
    }

    /// Whether a ping of `kind` would change nothing but the last ping: a success on a check
    /// that is UP with no `/start` to finish, or a `/log` (which never changes the state and
    /// writes no timeline). Such a ping is *routine*: the daemon applies it in memory and
    /// answers at once, and stores the last ping with a later commit (at most ~1 s later); a
    /// `kill -9` in between loses only that last-ping time, which is harmless because nothing
    /// is late before `grace` after a start. Every other ping changes what a restart must
    /// resume from (the state, a run in progress) and is saved before it is answered.
    pub fn is_routine(&self, kind: PingKind) -> bool {
        match kind {
            PingKind::Success => self.state == HbState::Up && self.started.is_none(),
            PingKind::Log => true,
            PingKind::Start | PingKind::Fail { .. } => false,
        }
    }

    /// Apply the deadlines due at `now`.
    pub fn tick(&mut self, rule: &Rule, now: Timestamp) -> Option<Change> {
        if self.state == HbState::Down {
            return None;
        }
        let from = self.state;
        if let Some(started) = self.started {
            if self.floor(rule, started + rule.grace) <= now {
                self.started = None;
                self.state = HbState::Down;
                let message = format!(
                    "run started {} and did not finish within {}",
                    when(started, rule, now),
                    short(rule.grace)
                );
                return Some(Change::RunTimedOut { from, message });
            }
        }
        let late = self.late_deadline(rule)?;
        if late > now {
            return None;
        }
        self.state = HbState::Down;
        let since = match &self.last_ping {
            Some(p) => format!("no ping since {}", when(p.at, rule, now)),
            None => "no ping yet".to_string(),
        };
        let expected = match &rule.expect {
            Expect::Period(p) => format!("expected every {}", short(*p)),
            Expect::Cron(c) => format!("expected at \"{}\"", c.as_str()),
        };
        let message = format!("{since}; {expected}");
        Some(Change::Late { from, message })
    }

    /// When a success is next expected (without grace); `None` before the first success.
    pub fn expected_next(&self, rule: &Rule) -> Option<Timestamp> {
        let last = self.last_success?;
        match &rule.expect {
            Expect::Period(p) => Some(last + *p),
            Expect::Cron(c) => c.next_after(last, &rule.zone),
        }
    }

    /// The next instant [`Heartbeat::tick`] may change something; `None` when nothing can
    /// happen without a ping (NEW, DOWN).
    pub fn next_deadline(&self, rule: &Rule) -> Option<Timestamp> {
        if self.state == HbState::Down {
            return None;
        }
        let run = self.started.map(|s| self.floor(rule, s + rule.grace));
        match (run, self.late_deadline(rule)) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    fn late_deadline(&self, rule: &Rule) -> Option<Timestamp> {
        if self.state == HbState::New {
            return None;
        }
        let expected = self.expected_next(rule)?;
        Some(self.floor(rule, expected + rule.grace))
    }

    /// Nothing is due before `grace` after watching began.
    fn floor(&self, rule: &Rule, at: Timestamp) -> Timestamp {
        at.max(self.watch_from + rule.grace)
    }
}

/// The deadlines of every heartbeat check, earliest first: one ordered set for all checks
/// (the daemon's one timer task sleeps until [`Deadlines::first`]), not a timer per check.
/// Each check has at most one entry: the caller keeps a check's current deadline (the
/// `old` of [`Deadlines::set`]), e.g. next to its [`Heartbeat`].
#[derive(Debug, Clone)]
pub struct Deadlines<K: Ord> {
    queue: BTreeSet<(Timestamp, K)>,
}

impl<K: Ord> Default for Deadlines<K> {
    fn default() -> Self {
        Deadlines {
            queue: BTreeSet::new(),
        }
    }
}

impl<K: Ord> Deadlines<K> {
    /// Move `key` from its deadline `old` to `new` (either may be `None`: none).
    pub fn set(&mut self, key: K, old: Option<Timestamp>, new: Option<Timestamp>) {
        if old == new {
            return;
        }
        if let Some(old) = old {
            // The key is moved out and back in: no clone needed.
            let mut entry = (old, key);
            if let Some(taken) = self.queue.take(&entry) {
                entry = taken;
            }
            if let Some(new) = new {
                self.queue.insert((new, entry.1));
            }
        } else if let Some(new) = new {
            self.queue.insert((new, key));
        }
    }

    /// The earliest deadline.
    pub fn first(&self) -> Option<Timestamp> {
        self.queue.first().map(|(at, _)| *at)
    }

    /// The earliest key due at `now` (deadline <= `now`), taken out.
    pub fn pop_due(&mut self, now: Timestamp) -> Option<(Timestamp, K)> {
        if self.first()? > now {
            return None;
        }
        self.queue.pop_first()
    }

    pub fn len(&self) -> usize {
        self.queue.len()
    }

    pub fn is_empty(&self) -> bool {
        self.queue.is_empty()
    }
}

/// `2026-12-02 03:31 (3h ago)`, local in the rule's zone.
fn when(at: Timestamp, rule: &Rule, now: Timestamp) -> String {
    let local = rule.zone.to_datetime(at).strftime("%Y-%m-%d %H:%M");
    let ago = crate::report::human_seconds(now.duration_since(at).as_secs());
    format!("{local} ({ago} ago)")
}

fn short(d: Duration) -> String {
    crate::report::human_seconds(i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

#[cfg(test)]
#[path = "heartbeat_tests.rs"]
mod tests;
