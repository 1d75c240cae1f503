//! `oncalld simulate CHECK [--at TIME]` (SPEC §13): if CHECK went DOWN at TIME and nobody
//! acknowledged, who would be paged when, through every step and repeat, with the skips and
//! their reasons.
//!
//! It is the engine itself, not a second implementation: a fresh [`Engine`] on the config and
//! the silences in force (a clone of the state that matters, without the open incidents, so
//! an incident already open for CHECK does not hide the answer) is given the synthetic hard
//! transition to DOWN at TIME, then a [`Input::Tick`] at each of its deadlines, and what it
//! decides for that incident is the prediction. Pure: the caller passes the config, silences
//! and instant.

use std::sync::Arc;

use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

use super::check_state::{CheckState, Transition};
use super::engine::{Action, Engine, Input};
use super::model::{EventKind, IncidentId, Silence};
use crate::config::Config;

/// How far ahead a simulation looks; a policy with a silence that ends later is cut there.
pub const HORIZON: SignedDuration = SignedDuration::from_hours(31 * 24);
/// Most engine steps run (100 repeats of a few steps is well under it).
const MAX_STEPS: usize = 10_000;

/// What would happen, in order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Simulation {
    pub check: String,
    pub policy: String,
    pub at: Timestamp,
    /// The zones to read the times in: the daemon's, then each of the policy's schedules'
    /// (IANA names; a zone without one is left out).
    pub zones: Vec<String>,
    pub events: Vec<Predicted>,
    /// False when the walk was cut at [`HORIZON`] with paging still going on.
    pub complete: bool,
}

/// One decision the engine would take.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Predicted {
    pub at: Timestamp,
    /// The timeline kind: `paged`, `step_skipped`, `escalated`, `escalation_exhausted`,
    /// `silenced`, `unsilenced`.
    pub kind: String,
    /// 1-based step of a page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub step: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recipient: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notifier: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
    /// The engine's own words (the timeline message): the reason of a skip, a silence.
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SimulateError {
    #[error("no check named {0:?}")]
    UnknownCheck(String),
}

/// Run the engine on `config` and `silences` as if `check` went DOWN at `at`.
pub fn simulate(
    config: Arc<Config>,
    silences: Vec<Silence>,
    check: &str,
    at: Timestamp,
) -> Result<Simulation, SimulateError> {
    let policy = config
        .check(check)
        .map(|c| c.policy.clone())
        .ok_or_else(|| SimulateError::UnknownCheck(check.to_string()))?;
    let zones = zones(&config, &policy);
    let mut engine = Engine::restore(config, Vec::new(), silences, 1, 1);
    let down = Input::Check {
        check: check.to_string(),
        transition: Transition {
            from: CheckState::Up,
            to: CheckState::Down,
        },
        message: "simulated DOWN".to_string(),
    };
    let mut out = Simulation {
        check: check.to_string(),
        policy,
        at,
        zones,
        events: Vec::new(),
        complete: true,
    };
    // A fresh engine refuses nothing a check transition can carry.
    let actions = engine.handle(down, at).unwrap_or_default();
    let Some(id) = actions.iter().find_map(|a| match a {
        Action::SaveIncident(i) => Some(i.id),
        _ => None,
    }) else {
        return Ok(out);
    };
    collect(id, actions, &mut out.events);
    let end = at.checked_add(HORIZON).unwrap_or(Timestamp::MAX);
    for _ in 0..MAX_STEPS {
        let Some(inc) = engine.incident(id) else {
            break;
        };
        if inc.escalation.exhausted {
            break;
        }
        let Some(next) = engine.next_deadline() else {
            break;
        };
        if next > end {
            out.complete = false;
            break;
        }
        let actions = engine.handle(Input::Tick, next).unwrap_or_default();
        collect(id, actions, &mut out.events);
    }
    Ok(out)
}

/// The daemon's zone, then those of the policy's schedules, once each.
fn zones(config: &Config, policy: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut add = |tz: &jiff::tz::TimeZone| {
        if let Some(name) = tz.iana_name()
            && !out.iter().any(|z| z == name)
        {
            out.push(name.to_string());
        }
    };
    add(&config.daemon.time_zone);
    let steps = config.policies.get(policy).map(|p| p.steps.as_slice());
    for target in steps.unwrap_or_default().iter().flat_map(|s| &s.notify) {
        if let crate::config::Target::Schedule(name) = target
            && let Some(s) = config.schedules.get(name)
        {
            add(&s.time_zone);
        }
    }
    out
}

/// The incident's decisions among `actions`: its timeline events, pages merged into theirs.
fn collect(id: IncidentId, actions: Vec<Action>, out: &mut Vec<Predicted>) {
    let mut pending: Option<Predicted> = None;
    for a in actions {
        match a {
            Action::Record(e) if e.incident == id => {
                if e.kind == EventKind::Triggered {
                    continue;
                }
                if let Some(p) = pending.take() {
                    out.push(p);
                }
                pending = Some(Predicted {
                    at: e.at,
                    kind: e.kind.as_str().to_string(),
                    step: None,
                    recipient: None,
                    notifier: None,
                    to: None,
                    message: e.message,
                });
            }
            Action::Page(p) if p.incident == id => {
                if let Some(ev) = pending.as_mut().filter(|ev| ev.kind == "paged") {
                    ev.step = Some(p.step);
                    ev.recipient = Some(p.recipient);
                    ev.notifier = Some(p.notifier);
                    ev.to = p.to;
                }
            }
            _ => {}
        }
    }
    if let Some(p) = pending {
        out.push(p);
    }
}
