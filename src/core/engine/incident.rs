//! Incident life: open, acknowledge, resolve, escalate, ack timeout, reload.
//!
//! # Rules
//!
//! - A check going DOWN opens an incident (triggered) unless one is open for that check; the
//!   `triggered` event carries the probe's message, then step 1 is paged. Going DOWN again
//!   while one is open (possible with `auto_resolve = false`) records `check_changed`.
//! - Leaving DOWN resolves the open incident (actor `auto`, the probe's message), unless the
//!   check has `auto_resolve = false`: then `check_changed` is recorded and a human resolves.
//!   After a manual resolve while the check is still DOWN, nothing happens until the check
//!   recovers and goes DOWN again, which opens a new incident.
//! - Ack stops escalation; with `ack_timeout`, an incident still acknowledged at
//!   `acked_at + ack_timeout` goes back to triggered (`ack_timed_out`, the ack cleared) and is
//!   paged from step 1 of the first pass, the acker included.
//! - `escalate` pages the step after the one paged last (after the last step, step 1 of the
//!   next pass). It never refuses an open incident: past the end of the policy (or once
//!   escalation is exhausted) it starts one extra pass at step 1. On an acknowledged incident it
//!   withdraws the ack (back to triggered, the ack timeout dropped) and pages the next step: the
//!   acker asked for help. An incident held by a silence is refused (remove the silence first).
//! - Reload: an incident whose check is gone is resolved (actor `oncalld`, "check removed");
//!   otherwise it keeps its escalation position and deadlines, follows the check's policy
//!   (which may have been renamed) and has its step clamped to the steps that policy has now.

use std::sync::Arc;

use jiff::Timestamp;

use super::paging::{DAEMON, exhaust, record};
use super::{Action, Engine, EngineError, index_checks};
use crate::config::Config;
use crate::core::check_state::{CheckState, Transition};
use crate::core::escalation::{EscalationState, Position, after_duration};
use crate::core::model::{EventKind, Incident, IncidentId, IncidentState, PageEvent};

impl Engine {
    /// A hard transition of a check (soft ones and unknown checks change nothing).
    pub(super) fn check_changed(
        &mut self,
        check: &str,
        t: Transition,
        message: &str,
        now: Timestamp,
        out: &mut Vec<Action>,
    ) {
        if !t.is_hard() {
            return;
        }
        let Some(&index) = self.checks.get(check) else {
            return;
        };
        let open = self.by_check.get(check).copied();
        let Some(id) = open else {
            if t.to == CheckState::Down {
                self.open(index, message, now, out);
            }
            return;
        };
        let auto_resolve = self
            .config
            .checks
            .get(index)
            .is_some_and(|c| c.auto_resolve);
        if t.to != CheckState::Down && auto_resolve {
            self.resolve(id, "auto", message, now, out);
            return;
        }
        if let Some(mut inc) = self.incidents.remove(&id) {
            let msg = format!("{} -> {}: {message}", t.from, t.to);
            record(&mut inc, EventKind::CheckChanged, "auto", msg, now, out);
            self.save(inc, out);
        }
    }

    /// A triggered incident with the next id, nothing recorded or paged yet (checks and
    /// alerts open incidents the same way).
    pub(super) fn new_incident(
        &mut self,
        check: String,
        summary: String,
        policy: String,
        now: Timestamp,
    ) -> Incident {
        let id = self.next_incident_id;
        self.next_incident_id += 1;
        Incident {
            id,
            check,
            summary,
            state: IncidentState::Triggered,
            policy,
            opened_at: now,
            acked_at: None,
            acked_by: None,
            resolved_at: None,
            resolved_by: None,
            next_seq: 1,
            escalation: EscalationState::default(),
            fingerprint: None,
        }
    }

    pub(super) fn open(
        &mut self,
        index: usize,
        message: &str,
        now: Timestamp,
        out: &mut Vec<Action>,
    ) {
        let Some(check) = self.config.checks.get(index) else {
            return;
        };
        // A heartbeat's failure body may have many lines: the timeline keeps them all.
        let summary = message.lines().next().unwrap_or_default().to_string();
        let (name, policy) = (check.name.clone(), check.policy.clone());
        let mut inc = self.new_incident(name, summary, policy, now);
        record(
            &mut inc,
            EventKind::Triggered,
            DAEMON,
            message.to_string(),
            now,
            out,
        );
        self.page_or_hold(&mut inc, PageEvent::Triggered, now, out);
        self.save(inc, out);
    }

    /// Page from step 1 of the first pass, unless a parent is not UP (then hold as
    /// unreachable) or a silence matches (then hold).
    pub(super) fn page_or_hold(
        &self,
        inc: &mut Incident,
        event: PageEvent,
        now: Timestamp,
        out: &mut Vec<Action>,
    ) {
        inc.escalation.exhausted = false;
        if self.hold_unreachable(inc, now, out) {
            return;
        }
        if let Some(s) = self.silence_for(&inc.check, now) {
            let msg = s.describe();
            inc.escalation.silenced = true;
            inc.escalation.next_at = None;
            record(inc, EventKind::Silenced, DAEMON, msg, now, out);
        } else {
            inc.escalation.silenced = false;
            self.page_from(inc, Position::FIRST, event, now, out);
        }
    }

    pub(super) fn ack(
        &mut self,
        id: IncidentId,
        actor: &str,
        message: Option<&str>,
        now: Timestamp,
        out: &mut Vec<Action>,
    ) -> Result<(), EngineError> {
        let mut inc = self.take_open(id, "acknowledge")?;
        inc.state = IncidentState::Acknowledged;
        inc.acked_at = Some(now);
        inc.acked_by = Some(actor.to_string());
        inc.escalation.silenced = false;
        let timeout = self
            .config
            .policies
            .get(&inc.policy)
            .and_then(|p| p.ack_timeout);
        inc.escalation.next_at = timeout.map(|d| after_duration(now, d.max(ONE_SECOND)));
        let msg = message.unwrap_or_default().to_string();
        record(&mut inc, EventKind::Acknowledged, actor, msg, now, out);
        self.notify_paged(&mut inc, PageEvent::Acknowledged, actor, now, out);
        self.save(inc, out);
        Ok(())
    }

    /// Ack or resolve every selected open incident (see [`super::Input::Bulk`]).
    #[allow(clippy::too_many_arguments)]
    pub(super) fn bulk(
        &mut self,
        op: super::BulkOp,
        ids: &[IncidentId],
        check: Option<&str>,
        actor: &str,
        message: Option<&str>,
        now: Timestamp,
        out: &mut Vec<Action>,
    ) {
        let pattern = check.and_then(|p| glob::Pattern::new(p).ok());
        let mut selected: std::collections::BTreeSet<IncidentId> = ids.iter().copied().collect();
        if let Some(p) = &pattern {
            selected.extend(
                self.incidents
                    .values()
                    .filter(|i| p.matches(&i.check))
                    .map(|i| i.id),
            );
        }
        for id in selected {
            let Some(state) = self.incidents.get(&id).map(|i| i.state) else {
                continue;
            };
            // Refusals (already acknowledged) are skips here: nothing else to undo.
            let _ = match (op, state) {
                (super::BulkOp::Ack, IncidentState::Triggered) => {
                    self.ack(id, actor, message, now, out)
                }
                (super::BulkOp::Resolve, _) => self.resolve_by(id, actor, message, now, out),
                _ => Ok(()),
            };
        }
    }

    pub(super) fn resolve_by(
        &mut self,
        id: IncidentId,
        actor: &str,
        message: Option<&str>,
        now: Timestamp,
        out: &mut Vec<Action>,
    ) -> Result<(), EngineError> {
        self.open_incident(id, "resolve")?;
        self.resolve(id, actor, message.unwrap_or_default(), now, out);
        Ok(())
    }

    /// Resolve an open incident: `resolved` event, one `resolved` page per destination paged.
    pub(super) fn resolve(
        &mut self,
        id: IncidentId,
        actor: &str,
        message: &str,
        now: Timestamp,
        out: &mut Vec<Action>,
    ) {
        let Some(mut inc) = self.incidents.remove(&id) else {
            return;
        };
        inc.state = IncidentState::Resolved;
        inc.resolved_at = Some(now);
        inc.resolved_by = Some(actor.to_string());
        inc.escalation.next_at = None;
        record(
            &mut inc,
            EventKind::Resolved,
            actor,
            message.to_string(),
            now,
            out,
        );
        self.notify_paged(&mut inc, PageEvent::Resolved, actor, now, out);
        self.save(inc, out);
    }

    pub(super) fn escalate_by(
        &mut self,
        id: IncidentId,
        actor: &str,
        now: Timestamp,
        out: &mut Vec<Action>,
    ) -> Result<(), EngineError> {
        let mut inc = self.take_open(id, "escalate")?;
        let Some(policy) = self.config.policies.get(&inc.policy) else {
            let msg = format!("no escalation policy {:?}", inc.policy);
            exhaust(&mut inc, msg, now, out);
            self.save(inc, out);
            return Ok(());
        };
        let here = Position {
            step: inc.escalation.step,
            round: inc.escalation.round,
        };
        let next = here.next_or_extra_pass(policy);
        let mut msg = format!("escalated by hand to step {}", next.step + 1);
        if inc.state == IncidentState::Acknowledged {
            msg.push_str(" (acknowledgement withdrawn)");
            inc.state = IncidentState::Triggered;
            inc.acked_at = None;
            inc.acked_by = None;
        }
        inc.escalation.exhausted = false;
        if !inc.escalation.unreachable.is_empty() {
            // A human asked for pages: the incident is no longer held as unreachable.
            msg.push_str(" (was unreachable)");
            inc.escalation.unreachable.clear();
        }
        record(&mut inc, EventKind::Escalated, actor, msg, now, out);
        self.page_from(&mut inc, next, PageEvent::Escalated, now, out);
        self.save(inc, out);
        Ok(())
    }

    pub(super) fn note(
        &mut self,
        id: IncidentId,
        actor: &str,
        text: &str,
        now: Timestamp,
        out: &mut Vec<Action>,
    ) -> Result<(), EngineError> {
        let mut inc = self.take_open(id, "add a note to")?;
        record(&mut inc, EventKind::Note, actor, text.to_string(), now, out);
        self.save(inc, out);
        Ok(())
    }

    /// The incident's deadline came: release a hold, escalate, or end an acknowledgement.
    pub(super) fn fire_incident(&mut self, id: IncidentId, now: Timestamp, out: &mut Vec<Action>) {
        let Some(mut inc) = self.incidents.remove(&id) else {
            return;
        };
        match inc.state {
            IncidentState::Triggered if !inc.escalation.unreachable.is_empty() => {
                if self.release_unreachable(&mut inc, now, out) {
                    self.save(inc, out);
                    return;
                }
            }
            IncidentState::Triggered if inc.escalation.silenced => {
                if !self.is_silenced(&inc.check, now) {
                    self.release(&mut inc, now, out);
                    self.save(inc, out);
                    return;
                }
            }
            _ if inc.escalation.next_at.is_none_or(|at| at > now) => {}
            IncidentState::Triggered => {
                self.escalate_on_timeout(&mut inc, now, out);
                self.save(inc, out);
                return;
            }
            IncidentState::Acknowledged => {
                let by = inc.acked_by.take().unwrap_or_default();
                inc.state = IncidentState::Triggered;
                inc.acked_at = None;
                let msg = format!("still open after the ack timeout (acknowledged by {by})");
                record(&mut inc, EventKind::AckTimedOut, DAEMON, msg, now, out);
                self.page_or_hold(&mut inc, PageEvent::Triggered, now, out);
                self.save(inc, out);
                return;
            }
            IncidentState::Resolved => {}
        }
        // Still held (a parent not UP, a silence still matching): the hold ends by its own
        // input (the parent's UP, the silence's end), not by this deadline. Keeping a passed
        // deadline would fire it again at once, forever (fire_due needs each firing to move
        // its deadline past `now`).
        if inc.escalation.next_at.is_some_and(|at| at <= now) {
            inc.escalation.next_at = None;
        }
        self.insert(inc);
    }

    fn escalate_on_timeout(&self, inc: &mut Incident, now: Timestamp, out: &mut Vec<Action>) {
        let Some(policy) = self.config.policies.get(&inc.policy) else {
            exhaust(
                inc,
                format!("no escalation policy {:?}", inc.policy),
                now,
                out,
            );
            return;
        };
        let here = Position {
            step: inc.escalation.step,
            round: inc.escalation.round,
        };
        let Some(next) = here.next(policy) else {
            let msg = format!(
                "step {} of the last pass not acknowledged: nobody else will be paged",
                here.step + 1
            );
            exhaust(inc, msg, now, out);
            return;
        };
        let msg = format!(
            "step {} not acknowledged in time: escalating to step {} (pass {} of {})",
            here.step + 1,
            next.step + 1,
            next.round + 1,
            policy.repeat.saturating_add(1)
        );
        record(inc, EventKind::Escalated, DAEMON, msg, now, out);
        self.page_from(inc, next, PageEvent::Escalated, now, out);
    }

    /// Take a new config, keeping incidents of checks that still exist (see module docs).
    pub(super) fn reload(&mut self, config: Arc<Config>, now: Timestamp, out: &mut Vec<Action>) {
        self.config = config;
        let old_index = std::mem::replace(&mut self.checks, index_checks(&self.config));
        self.remap_memo(&old_index);
        self.graph = Arc::new(super::storm::Graph::new(&self.config, &self.checks));
        self.grouping = self
            .config
            .policies
            .values()
            .any(|p| p.group_wait.is_some());
        // A parent may have been removed or `depends_on` changed.
        self.recheck_unreachable();
        let ids: Vec<IncidentId> = self.incidents.keys().copied().collect();
        for id in ids {
            let Some(mut inc) = self.incidents.remove(&id) else {
                continue;
            };
            let before = (inc.policy.clone(), inc.escalation.step);
            let kept = if inc.fingerprint.is_some() {
                self.reload_alert(&mut inc)
                    .then_some(())
                    .ok_or("source removed")
            } else {
                self.reload_check(&mut inc).ok_or("check removed")
            };
            if let Err(why) = kept {
                self.incidents.insert(id, inc);
                self.resolve(id, DAEMON, why, now, out);
                continue;
            }
            if let Some(policy) = self.config.policies.get(&inc.policy) {
                let here = Position {
                    step: inc.escalation.step,
                    round: inc.escalation.round,
                };
                inc.escalation.step = here.clamp(policy).step;
            }
            if before != (inc.policy.clone(), inc.escalation.step) {
                self.save(inc, out);
            } else {
                self.insert(inc);
            }
        }
    }

    /// On reload: whether a check incident's check is kept, with its policy followed.
    fn reload_check(&self, inc: &mut Incident) -> Option<()> {
        let check = self.config.checks.get(*self.checks.get(&inc.check)?)?;
        inc.policy.clone_from(&check.policy);
        Some(())
    }

    /// Remove an open incident from the maps for changing (callers re-insert it via `save`).
    fn take_open(&mut self, id: IncidentId, action: &'static str) -> Result<Incident, EngineError> {
        self.open_incident(id, action)?;
        self.incidents
            .remove(&id)
            .ok_or(EngineError::UnknownIncident(id))
    }
}

const ONE_SECOND: std::time::Duration = std::time::Duration::from_secs(1);
