//! Escalation through a policy's steps: who a step pages, where paging goes next, and when.
//!
//! # Rules
//!
//! - Step 1 is paged at trigger. A step not acknowledged within its `escalate_after` pages the
//!   next one. After the last step the list starts again from step 1, `repeat` times (so there
//!   are `repeat + 1` passes); when the last step of the last pass times out, escalation is
//!   exhausted and nobody else is paged (until an ack timeout or a manual `escalate`).
//! - A step whose targets reach nobody at that instant (an empty schedule, a period outside its
//!   windows) is skipped at once. If every step of the policy is empty at that instant, the
//!   walk stops after one whole pass of skips and waits at the last skipped step for its
//!   `escalate_after` as if it had been paged, so passes still run out in time and the engine
//!   never loops.
//! - Deadlines are absolute instants stored in [`EscalationState`], so they survive a restart.
//!   A deadline that passed while the daemon was down fires once when it is next handled, and
//!   the next step's clock starts then (a long outage does not burst through every step).
//! - `escalate_after` is taken as at least one second, so a zero delay cannot spin.

use std::time::Duration;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::oncall::on_call;
use crate::config::{Config, Policy, Step, Target};

/// Where an incident's paging stands. Stored with the incident (as JSON), so deadlines are
/// absolute times and survive a restart.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct EscalationState {
    /// 0-based index of the step paged (or skipped-to) last.
    pub step: usize,
    /// 0-based pass through the steps (0 on the first pass, up to `repeat`).
    pub round: u32,
    /// When the engine must act next for this incident: while triggered, when the current step
    /// times out; while acknowledged, the ack timeout. `None`: nothing scheduled.
    pub next_at: Option<Timestamp>,
    /// Every step and pass has timed out: no more pages until a re-trigger.
    #[serde(default)]
    pub exhausted: bool,
    /// Paging is held by a silence matching the check (it starts at step 1 when released).
    #[serde(default)]
    pub silenced: bool,
    /// Everyone paged so far (distinct), for the "acknowledged" and "resolved" pages.
    pub paged: Vec<Recipient>,
    /// Paging is held because these parents (`depends_on`) were not UP (SPEC §12): the
    /// incident is unreachable and pages nobody until they are all UP again.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unreachable: Vec<String>,
    /// The check is flapping (SPEC §12): what the FLAPPING page said; the incident neither
    /// resolves nor re-opens until it stops.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub flapping: Option<String>,
    /// Pages of this incident held for a digest not yet sent (`group_wait`), with the digest
    /// they wait for: kept with the incident so a restart still sends the digest.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub grouped: Vec<HeldPage>,
}

/// A page held for a digest (SPEC §12 `group_wait`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HeldPage {
    /// The digest's idempotency key.
    pub digest: String,
    /// When the digest goes out.
    pub until: Timestamp,
    /// The policy whose window holds it.
    pub policy: String,
    pub page: crate::core::model::Page,
}

/// One destination of a page: a person (or a `notifier:` target's name) through a notifier.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Recipient {
    /// The person's name, or the notifier's name for a `notifier:` target.
    pub recipient: String,
    pub notifier: String,
    /// The person's address for that notifier; `None` for `notifier:` targets.
    pub to: Option<String>,
}

/// A place in a policy: a step of a pass.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Position {
    pub step: usize,
    pub round: u32,
}

impl Position {
    pub const FIRST: Position = Position { step: 0, round: 0 };

    /// The step after this one: the next step, or step 1 of the next pass; `None` after the
    /// last step of the last pass.
    pub fn next(self, policy: &Policy) -> Option<Position> {
        if self.step + 1 < policy.steps.len() {
            Some(Position {
                step: self.step + 1,
                round: self.round,
            })
        } else if self.round < policy.repeat {
            Some(Position {
                step: 0,
                round: self.round + 1,
            })
        } else {
            None
        }
    }

    /// Like `next`, but never refuses: past the end of the policy it starts one extra pass
    /// (used by a manual `escalate`, which always pages someone if anyone can be paged).
    pub fn next_or_extra_pass(self, policy: &Policy) -> Position {
        self.next(policy).unwrap_or(Position {
            step: 0,
            round: self.round.saturating_add(1),
        })
    }

    /// This position with a step index that exists in `policy` (after a reload).
    pub fn clamp(self, policy: &Policy) -> Position {
        Position {
            step: self.step.min(policy.steps.len().saturating_sub(1)),
            round: self.round,
        }
    }
}

/// Where a walk through the steps stopped.
#[derive(Debug, Clone, PartialEq)]
pub enum WalkEnd {
    /// This step reaches these recipients: page them.
    Page(Position, Vec<Recipient>),
    /// Every step was empty: wait at this (skipped) step for its `escalate_after`.
    Idle(Position),
    /// The policy ran out of steps and passes.
    Exhausted,
}

/// The result of [`walk`]: steps skipped on the way, then where it ended.
#[derive(Debug, Clone, PartialEq)]
pub struct Walk {
    pub skipped: Vec<Position>,
    pub end: WalkEnd,
}

/// From `start`, find the first step that reaches somebody at `now`, skipping empty ones.
/// Bounded: it examines at most one whole pass of steps.
pub fn walk(config: &Config, policy: &Policy, start: Position, now: Timestamp) -> Walk {
    let mut skipped = Vec::new();
    let mut pos = Some(start);
    while let Some(p) = pos {
        let Some(step) = policy.steps.get(p.step) else {
            break;
        };
        let recipients = step_recipients(config, step, now);
        if !recipients.is_empty() {
            return Walk {
                skipped,
                end: WalkEnd::Page(p, recipients),
            };
        }
        skipped.push(p);
        if skipped.len() >= policy.steps.len() {
            return Walk {
                skipped,
                end: WalkEnd::Idle(p),
            };
        }
        pos = p.next(policy);
    }
    Walk {
        skipped,
        end: WalkEnd::Exhausted,
    }
}

/// When a step paged (or skipped to) at `now` times out.
pub fn step_deadline(policy: &Policy, pos: Position, now: Timestamp) -> Timestamp {
    let after = policy
        .steps
        .get(pos.step)
        .map_or(Duration::from_secs(1), |s| s.escalate_after)
        .max(Duration::from_secs(1));
    after_duration(now, after)
}

/// `now + d`, saturating at the end of time.
pub fn after_duration(now: Timestamp, d: Duration) -> Timestamp {
    now.saturating_add(d).unwrap_or(Timestamp::MAX)
}

/// Every page a step sends at `now`: the on-call person of each schedule, each named person,
/// each notifier; one page per contact method of a person; identical destinations once.
pub fn step_recipients(config: &Config, step: &Step, now: Timestamp) -> Vec<Recipient> {
    let mut out: Vec<Recipient> = Vec::new();
    for target in &step.notify {
        let person = match target {
            Target::Schedule(name) => config
                .schedules
                .get(name)
                .and_then(|s| on_call(s, &config.periods, now)),
            Target::Person(name) => Some(name.as_str()),
            Target::Notifier(name) => {
                push_unique(
                    &mut out,
                    Recipient {
                        recipient: name.clone(),
                        notifier: name.clone(),
                        to: None,
                    },
                );
                None
            }
        };
        if let Some(name) = person {
            person_recipients(config, name, &mut out);
        }
    }
    out
}

/// The pages one person gets: one per contact method.
pub fn person_recipients(config: &Config, name: &str, out: &mut Vec<Recipient>) {
    let Some(person) = config.people.get(name) else {
        return;
    };
    for method in &person.notify {
        push_unique(
            out,
            Recipient {
                recipient: name.to_string(),
                notifier: method.via.clone(),
                to: Some(method.to.clone()),
            },
        );
    }
}

/// Append unless already there (lists are a handful long; order is kept for readable pages).
pub fn push_unique(out: &mut Vec<Recipient>, r: Recipient) -> bool {
    if out.contains(&r) {
        false
    } else {
        out.push(r);
        true
    }
}
