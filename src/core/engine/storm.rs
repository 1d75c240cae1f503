//! Storms (SPEC §12): dependencies and flapping.
//!
//! # Rules
//!
//! - The engine keeps every check's state (UP, FAILING, DOWN) from the results and changes it
//!   is fed, and its last 21 results for flap detection ([`crate::core::flapping`]).
//! - **Dependencies.** An incident about to page from step 1 (a check going DOWN, a flapping
//!   check, an ack timeout, a silence ending) while one of its check's `depends_on` parents is
//!   not UP is held instead: `unreachable` event (`unreachable (gw is DOWN)`), the parents
//!   kept in `escalation.unreachable`, no page, no escalation. When a parent comes back UP and
//!   every parent of the child is UP, each held child incident gets a `reachable` event and,
//!   if its check is still DOWN (or flapping), is paged from step 1 (a silence may still hold
//!   it); if the check is UP again it is left for its recovery (or a human) to resolve.
//!   A child that recovers while unreachable resolves as usual, having paged nobody.
//! - **Flapping.** When a check starts flapping, its open incident is kept (or one is opened),
//!   `flapping` is recorded and one FLAPPING page goes to everyone paged for it so far (to
//!   step 1 if nobody was, unless unreachable or silenced): `FLAPPING #17 website: 9 state
//!   changes in the last 21 checks (43.2%)`. While it flaps, hard changes of the check neither
//!   resolve nor open incidents. When it stops (`flapping_stopped`): UP resolves the incident
//!   (with `auto_resolve`), DOWN continues it (or opens one if a human resolved it meanwhile).

use std::collections::HashMap;

use jiff::Timestamp;

use super::paging::{DAEMON, record};
use super::{Action, Engine};
use crate::config::Config;
use crate::core::check_state::{CheckState, Transition};
use crate::core::flapping::FlapHistory;
use crate::core::model::{EventKind, Incident, IncidentState, PageEvent};

/// What the engine remembers of one check between inputs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct CheckMemo {
    pub state: CheckState,
    pub flap: FlapHistory,
}

impl Default for CheckMemo {
    fn default() -> Self {
        CheckMemo {
            state: CheckState::Up,
            flap: FlapHistory::new(false),
        }
    }
}

/// The dependency graph, by check index (shared between clones of the engine).
#[derive(Debug, Default)]
pub(super) struct Graph {
    pub parents: Vec<Vec<usize>>,
    pub children: Vec<Vec<usize>>,
    /// Some check or source depends on this check: its coming back UP matters.
    pub watched: Vec<bool>,
    /// Some check is watched (any `depends_on` at all).
    pub any_watched: bool,
}

impl Graph {
    pub fn new(config: &Config, index: &HashMap<String, usize>) -> Self {
        let n = config.checks.len();
        let mut g = Graph {
            parents: vec![Vec::new(); n],
            children: vec![Vec::new(); n],
            watched: vec![false; n],
            any_watched: false,
        };
        for (i, c) in config.checks.iter().enumerate() {
            for p in &c.depends_on {
                if let Some(&j) = index.get(p)
                    && j != i
                {
                    g.parents[i].push(j);
                    g.children[j].push(i);
                    g.watched[j] = true;
                }
            }
        }
        for s in config.sources.values() {
            for p in &s.depends_on {
                if let Some(&j) = index.get(p) {
                    g.watched[j] = true;
                }
            }
        }
        g.any_watched = g.watched.iter().any(|w| *w);
        g
    }
}

/// What one probe result changed, for the engine to act on.
#[derive(Debug, Clone, Copy)]
pub(super) struct Seen {
    pub index: usize,
    /// Flapping started (`Some(true)`) or stopped (`Some(false)`).
    pub flap: Option<bool>,
    /// The check came (back) UP and has children.
    pub parent_up: bool,
}

impl Seen {
    /// Nothing for the engine to decide (beyond a hard change).
    pub fn is_quiet(&self) -> bool {
        self.flap.is_none() && !self.parent_up
    }
}

impl Engine {
    /// Remember a check's new state (a change fed without a result). Whether it is a parent
    /// that came back UP.
    pub(super) fn note_state(&mut self, index: usize, to: CheckState) -> bool {
        let Some(m) = self.memo.get_mut(index) else {
            return false;
        };
        let was = m.state;
        m.state = to;
        was != CheckState::Up && to == CheckState::Up && self.graph.watched[index]
    }

    /// Record one probe result: state and flap history. `None` for a check not configured.
    pub(super) fn observe(
        &mut self,
        check: &str,
        failed: bool,
        transition: Option<Transition>,
    ) -> Option<Seen> {
        let index = *self.checks.get(check)?;
        let thresholds = self.config.checks.get(index)?.flap;
        let parent_up = match transition {
            Some(t) => self.note_state(index, t.to),
            None => false,
        };
        let m = self.memo.get_mut(index)?;
        let flap = thresholds.and_then(|th| m.flap.observe(failed, th));
        Some(Seen {
            index,
            flap,
            parent_up,
        })
    }

    /// Act on one probe result (after [`Engine::observe`]).
    pub(super) fn probe_result(
        &mut self,
        check: &str,
        seen: Seen,
        transition: Option<Transition>,
        message: &str,
        now: Timestamp,
        out: &mut Vec<Action>,
    ) {
        if seen.flap == Some(true) {
            self.start_flapping(seen.index, message, now, out);
        }
        if let Some(t) = transition
            && t.is_hard()
            && !self.is_flapping(seen.index)
            && seen.flap != Some(false)
        {
            self.check_changed(check, t, message, now, out);
        }
        if seen.flap == Some(false) {
            self.stop_flapping(seen.index, message, now, out);
        }
        if seen.parent_up {
            self.parent_up(seen.index, now, out);
        }
    }

    pub(super) fn is_flapping(&self, index: usize) -> bool {
        self.memo.get(index).is_some_and(|m| m.flap.is_flapping())
    }

    /// The parents of `check` that are not UP, as the timeline says them (`gw is DOWN`).
    pub(super) fn blocking_parents(&self, check: &str) -> Vec<String> {
        let parents: Vec<usize> = match self.checks.get(check) {
            Some(&i) => self.graph.parents[i].clone(),
            // An alert's incident (`<source>/<alertname>`): the source's `depends_on`.
            None => check
                .split_once('/')
                .and_then(|(source, _)| self.config.sources.get(source))
                .map(|s| {
                    s.depends_on
                        .iter()
                        .filter_map(|p| self.checks.get(p).copied())
                        .collect()
                })
                .unwrap_or_default(),
        };
        parents
            .iter()
            .filter_map(|&p| {
                let state = self.memo.get(p)?.state;
                let name = &self.config.checks.get(p)?.name;
                (state != CheckState::Up).then(|| format!("{name} is {}", state.name()))
            })
            .collect()
    }

    /// Hold an incident as unreachable if a parent is not UP; whether it was.
    pub(super) fn hold_unreachable(
        &self,
        inc: &mut Incident,
        now: Timestamp,
        out: &mut Vec<Action>,
    ) -> bool {
        let blocking = self.blocking_parents(&inc.check);
        if blocking.is_empty() {
            if !inc.escalation.unreachable.is_empty() {
                // Paged for another reason (a silence ended) after its parents came back.
                let parents = std::mem::take(&mut inc.escalation.unreachable).join(", ");
                let msg = format!("{parents} UP again: paging");
                record(inc, EventKind::Reachable, DAEMON, msg, now, out);
            }
            return false;
        }
        let msg = format!("unreachable ({}): nobody paged", blocking.join(", "));
        inc.escalation.unreachable = blocking
            .iter()
            .map(|b| b.split(" is ").next().unwrap_or_default().to_string())
            .collect();
        inc.escalation.next_at = None;
        record(inc, EventKind::Unreachable, DAEMON, msg, now, out);
        true
    }

    /// A parent is UP again: page the held children whose parents are now all UP.
    fn parent_up(&mut self, parent: usize, now: Timestamp, out: &mut Vec<Action>) {
        // Alerts of sources behind this check.
        let alerts: Vec<_> = self
            .incidents
            .values()
            .filter(|i| i.fingerprint.is_some() && !i.escalation.unreachable.is_empty())
            .map(|i| i.id)
            .collect();
        for id in alerts {
            if let Some(mut inc) = self.incidents.remove(&id) {
                if self.release_unreachable(&mut inc, now, out) {
                    self.save(inc, out);
                } else {
                    self.insert(inc);
                }
            }
        }
        let children = self.graph.children[parent].clone();
        for child in children {
            let Some(name) = self.config.checks.get(child).map(|c| c.name.clone()) else {
                continue;
            };
            if let Some(&id) = self.by_check.get(&name)
                && let Some(mut inc) = self.incidents.remove(&id)
            {
                if self.release_unreachable(&mut inc, now, out) {
                    self.save(inc, out);
                } else {
                    self.insert(inc);
                }
            }
        }
    }

    /// If `inc` is held as unreachable and every parent is UP: `reachable`, then page from
    /// step 1 if the check is still DOWN (or flapping). Whether anything changed.
    pub(super) fn release_unreachable(
        &self,
        inc: &mut Incident,
        now: Timestamp,
        out: &mut Vec<Action>,
    ) -> bool {
        if inc.escalation.unreachable.is_empty()
            || inc.state != IncidentState::Triggered
            || !self.blocking_parents(&inc.check).is_empty()
        {
            return false;
        }
        let parents = std::mem::take(&mut inc.escalation.unreachable).join(", ");
        let index = self.checks.get(&inc.check).copied();
        // An alert's incident is open while the alert fires.
        let down = match index {
            Some(i) => {
                self.is_flapping(i)
                    || self
                        .memo
                        .get(i)
                        .is_some_and(|m| m.state == CheckState::Down)
            }
            None => inc.fingerprint.is_some(),
        };
        if down {
            let msg = format!(
                "{parents} UP again and {} still DOWN: paging from step 1",
                inc.check
            );
            record(inc, EventKind::Reachable, DAEMON, msg, now, out);
            let event = match inc.escalation.flapping {
                Some(_) => PageEvent::Flapping,
                None => PageEvent::Triggered,
            };
            self.page_or_hold(inc, event, now, out);
        } else {
            let msg = format!(
                "{parents} UP again and {} is not DOWN: nobody paged",
                inc.check
            );
            record(inc, EventKind::Reachable, DAEMON, msg, now, out);
        }
        true
    }

    fn start_flapping(
        &mut self,
        index: usize,
        message: &str,
        now: Timestamp,
        out: &mut Vec<Action>,
    ) {
        let Some(m) = self.memo.get(index) else {
            return;
        };
        let what = m.flap.describe();
        let Some(check) = self.config.checks.get(index) else {
            return;
        };
        let name = check.name.clone();
        let mut inc = match self
            .by_check
            .get(&name)
            .and_then(|id| self.incidents.remove(id))
        {
            Some(inc) => inc,
            None => {
                let summary = format!("flapping: {what}");
                let mut inc = self.new_incident(name, summary, check.policy.clone(), now);
                record(
                    &mut inc,
                    EventKind::Triggered,
                    DAEMON,
                    format!("flapping: {what} (last: {message})"),
                    now,
                    out,
                );
                inc
            }
        };
        inc.escalation.flapping = Some(what.clone());
        record(&mut inc, EventKind::Flapping, DAEMON, what, now, out);
        let held = !inc.escalation.unreachable.is_empty() || inc.escalation.silenced;
        if held {
            // Paged when the hold ends, with the FLAPPING text.
        } else if inc.escalation.paged.is_empty() && inc.state == IncidentState::Triggered {
            self.page_or_hold(&mut inc, PageEvent::Flapping, now, out);
        } else {
            self.notify_paged(&mut inc, PageEvent::Flapping, DAEMON, now, out);
        }
        self.save(inc, out);
    }

    fn stop_flapping(
        &mut self,
        index: usize,
        message: &str,
        now: Timestamp,
        out: &mut Vec<Action>,
    ) {
        let Some(check) = self.config.checks.get(index) else {
            return;
        };
        let (name, auto_resolve) = (check.name.clone(), check.auto_resolve);
        let down = self
            .memo
            .get(index)
            .is_some_and(|m| m.state == CheckState::Down);
        let what = self
            .memo
            .get(index)
            .map(|m| m.flap.describe())
            .unwrap_or_default();
        let Some(mut inc) = self
            .by_check
            .get(&name)
            .and_then(|id| self.incidents.remove(id))
        else {
            if down {
                self.open(index, message, now, out);
            }
            return;
        };
        inc.escalation.flapping = None;
        let state = if down { "DOWN" } else { "UP" };
        let msg = format!("stopped flapping, {state}: {what}");
        record(&mut inc, EventKind::FlappingStopped, DAEMON, msg, now, out);
        let id = inc.id;
        self.save(inc, out);
        if !down && auto_resolve {
            self.resolve(id, "auto", message, now, out);
        }
    }

    /// Rebuild the per-check memory for a new config, keeping what is known by name.
    pub(super) fn remap_memo(&mut self, old_index: &HashMap<String, usize>) {
        let old = std::mem::take(&mut self.memo);
        self.memo = self
            .config
            .checks
            .iter()
            .map(|c| {
                old_index
                    .get(&c.name)
                    .and_then(|&i| old.get(i).copied())
                    .unwrap_or_default()
            })
            .collect();
    }

    /// Tell the engine the checks' states at start-up (from the store): dependencies read them.
    /// Held incidents whose parents are all UP are released at the next input.
    pub fn seed_states(&mut self, states: impl IntoIterator<Item = (String, CheckState)>) {
        for (name, state) in states {
            let flapping = self.flapping_restored(&name);
            if let Some(&i) = self.checks.get(&name)
                && let Some(m) = self.memo.get_mut(i)
            {
                m.state = state;
                m.flap = FlapHistory::new(state == CheckState::Down);
                m.flap.set_flapping(flapping);
            }
        }
        self.recheck_unreachable();
    }

    fn flapping_restored(&self, check: &str) -> bool {
        self.by_check
            .get(check)
            .and_then(|id| self.incidents.get(id))
            .is_some_and(|i| i.escalation.flapping.is_some())
    }

    /// Schedule every held unreachable incident to be looked at (at the next input).
    pub(super) fn recheck_unreachable(&mut self) {
        let ids: Vec<_> = self
            .incidents
            .values()
            .filter(|i| !i.escalation.unreachable.is_empty())
            .map(|i| i.id)
            .collect();
        for id in ids {
            self.schedule(super::Due::Incident(id), Some(Timestamp::MIN));
        }
    }

    /// The percent state change of every flapping check, for `status` and `/metrics`.
    pub fn flapping(&self) -> impl Iterator<Item = (&str, f64)> {
        self.config
            .checks
            .iter()
            .zip(&self.memo)
            .filter(|(_, m)| m.flap.is_flapping())
            .map(|(c, m)| (c.name.as_str(), m.flap.percent()))
    }
}
