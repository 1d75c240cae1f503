//! The incident engine: a pure state machine over incidents, silences and escalation.
//!
//! The daemon owns one [`Engine`] and feeds it [`Input`]s, each with the current time; the
//! engine answers with [`Action`]s for the daemon to carry out in order (store rows, timeline
//! events, pages for the outbox) and with [`Engine::next_deadline`], the instant it must be
//! woken with [`Input::Tick`]. It never reads the clock and does no I/O, so every rule is
//! tested with explicit times. The rules live beside the code that applies them:
//! [`incident`] (open, ack, resolve, escalate, ack timeout, reload), [`silence`],
//! [`paging`] (who gets which page), [`crate::core::escalation`] and [`crate::core::oncall`].
//!
//! Every input first fires the deadlines that are due at `now` (so the engine is never behind
//! the clock whatever the daemon's wake-up accuracy), then applies the input. An input that
//! returns an error is checked before anything happens: the engine is left exactly as it was.

mod alert;
mod grouping;
mod incident;
mod input;
mod paging;
mod silence;
mod storm;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use jiff::Timestamp;

use super::check_state::CheckState;
use super::model::{Incident, IncidentId, IncidentState, Silence, SilenceId};
use crate::config::Config;
use silence::ActiveSilence;

pub use super::oncall::{StepOnCall, TargetOnCall, WhoError, who};
pub use alert::Alert;
pub use input::{Action, BulkOp, EngineError, Input};

/// Something the engine must do at an instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Due {
    Incident(IncidentId),
    Silence(SilenceId),
    /// A `group_wait` window ends: its digest goes out.
    Window(u64),
}

/// The incident engine. See the module documentation. Cloned by the engine task before a
/// step of socket commands, to roll back if the step cannot be saved.
#[derive(Debug, Clone)]
pub struct Engine {
    config: Arc<Config>,
    /// Check name -> index in `config.checks` (the hot path must not scan 10,000 checks).
    checks: HashMap<String, usize>,
    /// Per check (by index): its state and flap history (SPEC §12).
    memo: Vec<storm::CheckMemo>,
    /// `depends_on`, by index, both ways.
    graph: Arc<storm::Graph>,
    incidents: BTreeMap<IncidentId, Incident>,
    by_check: HashMap<String, IncidentId>,
    /// `(source, fingerprint)` -> the open incident of that alert (SPEC §11).
    by_alert: HashMap<(String, String), IncidentId>,
    silences: BTreeMap<SilenceId, ActiveSilence>,
    deadlines: BTreeSet<(Timestamp, Due)>,
    due_at: HashMap<Due, Timestamp>,
    next_incident_id: IncidentId,
    next_silence_id: SilenceId,
    test_seq: u32,
    /// Some policy has `group_wait` (else grouping is skipped outright).
    grouping: bool,
    /// Open `group_wait` windows, by id, and the open window of each key.
    windows: BTreeMap<u64, grouping::Window>,
    window_of: HashMap<grouping::WindowKey, u64>,
    next_window: u64,
}

impl Engine {
    /// A fresh engine: no incidents, no silences, ids from 1.
    pub fn new(config: Arc<Config>) -> Self {
        Engine::restore(config, Vec::new(), Vec::new(), 1, 1)
    }

    /// Rebuild after a restart from the store's open incidents and silences. Deadlines that
    /// passed while the daemon was down fire at the next input. A silence whose pattern no
    /// longer compiles is dropped; an incident held by a silence that is gone is released.
    pub fn restore(
        config: Arc<Config>,
        open: Vec<Incident>,
        silences: Vec<Silence>,
        next_incident_id: IncidentId,
        next_silence_id: SilenceId,
    ) -> Self {
        let checks = index_checks(&config);
        let mut engine = Engine {
            memo: vec![storm::CheckMemo::default(); config.checks.len()],
            graph: Arc::new(storm::Graph::new(&config, &checks)),
            checks,
            config,
            incidents: BTreeMap::new(),
            by_check: HashMap::new(),
            by_alert: HashMap::new(),
            silences: BTreeMap::new(),
            deadlines: BTreeSet::new(),
            due_at: HashMap::new(),
            next_incident_id: next_incident_id.max(1),
            next_silence_id: next_silence_id.max(1),
            test_seq: 0,
            grouping: false,
            windows: BTreeMap::new(),
            window_of: HashMap::new(),
            next_window: 1,
        };
        engine.grouping = engine
            .config
            .policies
            .values()
            .any(|p| p.group_wait.is_some());
        for s in silences {
            if let Ok(active) = ActiveSilence::new(s) {
                engine.schedule(
                    Due::Silence(active.silence.id),
                    Some(active.silence.ends_at),
                );
                engine.next_silence_id = engine.next_silence_id.max(active.silence.id + 1);
                engine.silences.insert(active.silence.id, active);
            }
        }
        for inc in open.into_iter().filter(|i| i.state.is_open()) {
            engine.next_incident_id = engine.next_incident_id.max(inc.id + 1);
            let held_by_nothing =
                inc.escalation.silenced && !engine.silences.values().any(|s| s.matches(&inc.check));
            let id = inc.id;
            engine.insert(inc);
            if held_by_nothing {
                engine.schedule(Due::Incident(id), Some(Timestamp::MIN));
            }
        }
        // Until `seed_states` says otherwise every check is UP: a held incident is looked at
        // again at the first input.
        engine.recheck_unreachable();
        engine.restore_windows();
        engine
    }

    /// Apply one input at `now`. On error nothing has changed.
    pub fn handle(&mut self, input: Input, now: Timestamp) -> Result<Vec<Action>, EngineError> {
        // The hot path: most probe results change nothing but the check's memory.
        if let Input::Probe {
            check,
            failed,
            transition,
            message,
        } = input
        {
            let Some(seen) = self.observe(&check, failed, transition) else {
                return Ok(Vec::new());
            };
            let hard = transition.is_some_and(|t| t.is_hard());
            if !hard && seen.is_quiet() && !self.is_due(now) {
                return Ok(Vec::new());
            }
            let mut out = Vec::new();
            self.fire_due(now, &mut out);
            self.probe_result(&check, seen, transition, &message, now, &mut out);
            self.group_pages(now, &mut out);
            return Ok(out);
        }
        // A change without a result: soft ones change nothing but the state dependencies read.
        if let Input::Check {
            check, transition, ..
        } = &input
            && !transition.is_hard()
        {
            // Soft states matter only to dependencies: without any, nothing to remember.
            if !self.graph.any_watched && !self.is_due(now) {
                return Ok(Vec::new());
            }
            let index = self.checks.get(check).copied();
            let parent_up = index.is_some_and(|i| {
                transition.to == CheckState::Up
                    && self.memo.get(i).is_some_and(|m| m.state != CheckState::Up)
                    && self.graph.watched[i]
            });
            if !parent_up && !self.is_due(now) {
                if let Some(i) = index {
                    self.note_state(i, transition.to);
                }
                return Ok(Vec::new());
            }
        }
        self.validate(&input, now)?;
        let mut out = Vec::new();
        self.fire_due(now, &mut out);
        self.apply(input, now, &mut out)?;
        self.group_pages(now, &mut out);
        Ok(out)
    }

    /// Whether `input` at `now` would change nothing and page nobody: nothing is due, and it
    /// is a source's notification whose alerts are all repeats (firing with their incident
    /// open, resolved with none) — what Alertmanager sends most. The daemon answers those
    /// without a step (no rollback copy, no commit). Anything else: `false`.
    pub fn changes_nothing(&self, input: &Input, now: Timestamp) -> bool {
        match input {
            Input::Alerts { source, alerts } => {
                !self.is_due(now) && self.alerts_change_nothing(source, alerts)
            }
            _ => false,
        }
    }

    /// When the engine must next be handled (with [`Input::Tick`]): the earliest escalation,
    /// ack timeout or silence end. `None`: nothing is scheduled.
    pub fn next_deadline(&self) -> Option<Timestamp> {
        self.deadlines.first().map(|(at, _)| *at)
    }

    /// The open incidents, by id.
    pub fn open_incidents(&self) -> impl Iterator<Item = &Incident> {
        self.incidents.values()
    }

    /// One open incident.
    pub fn incident(&self, id: IncidentId) -> Option<&Incident> {
        self.incidents.get(&id)
    }

    /// The silences not yet ended (as of the last input), by id.
    pub fn silences(&self) -> impl Iterator<Item = &Silence> {
        self.silences.values().map(|s| &s.silence)
    }

    /// The config in force.
    pub fn config(&self) -> &Arc<Config> {
        &self.config
    }

    /// Refuse the input, changing nothing, if it cannot apply.
    fn validate(&self, input: &Input, now: Timestamp) -> Result<(), EngineError> {
        match input {
            Input::Ack { incident, .. } => {
                let inc = self.open_incident(*incident, "acknowledge")?;
                if inc.state != IncidentState::Triggered {
                    return Err(wrong_state(inc, "acknowledge"));
                }
            }
            Input::Resolve { incident, .. } => {
                self.open_incident(*incident, "resolve")?;
            }
            Input::Bulk { ids, check, .. } => {
                if let Some(p) = check {
                    silence::compile(p)?;
                }
                if let Some(&id) = ids
                    .iter()
                    .find(|&&id| id == 0 || id >= self.next_incident_id)
                {
                    return Err(EngineError::UnknownIncident(id));
                }
            }
            Input::Note { incident, .. } => {
                self.open_incident(*incident, "add a note to")?;
            }
            Input::Escalate { incident, .. } => {
                let inc = self.open_incident(*incident, "escalate")?;
                if inc.escalation.silenced && self.is_silenced(&inc.check, now) {
                    return Err(EngineError::Silenced(inc.id));
                }
            }
            Input::Silence { pattern, until, .. } => {
                silence::compile(pattern)?;
                if *until <= now {
                    return Err(EngineError::SilenceInPast(*until));
                }
            }
            Input::Unsilence { id, .. } => match self.silences.get(id) {
                Some(s) if s.silence.ends_at > now => {}
                _ => return Err(EngineError::UnknownSilence(*id)),
            },
            Input::TestPage { target, .. } => {
                if self.test_recipients(target).is_empty() {
                    return Err(EngineError::BadTarget(target.to_string()));
                }
            }
            Input::Check { .. }
            | Input::Probe { .. }
            | Input::Alerts { .. }
            | Input::Tick
            | Input::Reload(_) => {}
        }
        Ok(())
    }

    fn apply(
        &mut self,
        input: Input,
        now: Timestamp,
        out: &mut Vec<Action>,
    ) -> Result<(), EngineError> {
        match input {
            Input::Check {
                check,
                transition,
                message,
            } => {
                let seen = self.checks.get(&check).copied().map(|index| storm::Seen {
                    index,
                    flap: None,
                    parent_up: self.note_state(index, transition.to),
                });
                if let Some(seen) = seen {
                    self.probe_result(&check, seen, Some(transition), &message, now, out);
                }
            }
            Input::Probe {
                check,
                failed,
                transition,
                message,
            } => {
                if let Some(seen) = self.observe(&check, failed, transition) {
                    self.probe_result(&check, seen, transition, &message, now, out);
                }
            }
            Input::Ack {
                incident,
                actor,
                message,
            } => self.ack(incident, &actor, message.as_deref(), now, out)?,
            Input::Resolve {
                incident,
                actor,
                message,
            } => self.resolve_by(incident, &actor, message.as_deref(), now, out)?,
            Input::Bulk {
                op,
                ids,
                check,
                actor,
                message,
            } => self.bulk(
                op,
                &ids,
                check.as_deref(),
                &actor,
                message.as_deref(),
                now,
                out,
            ),
            Input::Escalate { incident, actor } => self.escalate_by(incident, &actor, now, out)?,
            Input::Note {
                incident,
                actor,
                text,
            } => self.note(incident, &actor, &text, now, out)?,
            Input::Silence {
                pattern,
                until,
                actor,
                message,
            } => self.add_silence(pattern, until, actor, message, now, out)?,
            Input::Unsilence { id, actor } => self.remove_silence(id, &actor, now, out)?,
            Input::Alerts { source, alerts } => self.alerts(&source, alerts, now, out),
            Input::Tick => {}
            Input::Reload(config) => self.reload(config, now, out),
            Input::TestPage { target, actor } => self.test_page(&target, &actor, now, out),
        }
        Ok(())
    }

    /// Whether some deadline is at or before `now`.
    fn is_due(&self, now: Timestamp) -> bool {
        self.deadlines.first().is_some_and(|(at, _)| *at <= now)
    }

    /// Fire every deadline at or before `now`, earliest first. Each firing schedules its next
    /// deadline strictly after `now` (delays are at least a second), so this ends.
    fn fire_due(&mut self, now: Timestamp, out: &mut Vec<Action>) {
        while let Some(&(at, due)) = self.deadlines.first() {
            if at > now {
                break;
            }
            self.deadlines.pop_first();
            self.due_at.remove(&due);
            match due {
                Due::Incident(id) => self.fire_incident(id, now, out),
                Due::Silence(id) => self.expire_silence(id, now, out),
                Due::Window(id) => self.fire_window(id, now, out),
            }
        }
    }

    /// Set (or clear, with `None`) the deadline of `due`.
    fn schedule(&mut self, due: Due, at: Option<Timestamp>) {
        if let Some(old) = self.due_at.remove(&due) {
            self.deadlines.remove(&(old, due));
        }
        if let Some(at) = at {
            self.deadlines.insert((at, due));
            self.due_at.insert(due, at);
        }
    }

    /// Track an open incident (and its deadline); a resolved one is forgotten.
    fn insert(&mut self, inc: Incident) {
        let due = Due::Incident(inc.id);
        let alert_key = alert::source_of(&inc).map(|(s, fp)| (s.to_string(), fp.to_string()));
        if inc.state.is_open() {
            self.schedule(due, inc.escalation.next_at);
            match alert_key {
                Some(key) => self.by_alert.insert(key, inc.id),
                None => self.by_check.insert(inc.check.clone(), inc.id),
            };
            self.incidents.insert(inc.id, inc);
        } else {
            self.schedule(due, None);
            match alert_key {
                Some(key) if self.by_alert.get(&key) == Some(&inc.id) => {
                    self.by_alert.remove(&key);
                }
                Some(_) => {}
                None if self.by_check.get(&inc.check) == Some(&inc.id) => {
                    self.by_check.remove(&inc.check);
                }
                None => {}
            }
            self.incidents.remove(&inc.id);
        }
    }

    /// Track the incident and tell the store.
    fn save(&mut self, inc: Incident, out: &mut Vec<Action>) {
        out.push(Action::SaveIncident(inc.clone()));
        self.insert(inc);
    }

    /// The open incident `id`, or why it cannot be acted on.
    fn open_incident(
        &self,
        id: IncidentId,
        action: &'static str,
    ) -> Result<&Incident, EngineError> {
        match self.incidents.get(&id) {
            Some(inc) => Ok(inc),
            // Ids are handed out in order, so a lower id that is not open was resolved.
            None if id >= 1 && id < self.next_incident_id => Err(EngineError::WrongState {
                id,
                state: IncidentState::Resolved,
                action,
            }),
            None => Err(EngineError::UnknownIncident(id)),
        }
    }
}

fn wrong_state(inc: &Incident, action: &'static str) -> EngineError {
    EngineError::WrongState {
        id: inc.id,
        state: inc.state,
        action,
    }
}

fn index_checks(config: &Config) -> HashMap<String, usize> {
    config
        .checks
        .iter()
        .enumerate()
        .map(|(i, c)| (c.name.clone(), i))
        .collect()
}
