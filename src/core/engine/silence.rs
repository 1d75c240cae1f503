//! Silences: maintenance windows over check names.
//!
//! # Rules
//!
//! - A silence is a glob over check names (`glob::Pattern`: `web-*`, `db-?`, `[ab]*`), active
//!   from its creation until `ends_at`.
//! - An incident whose check matches an active silence is still opened and recorded, but a
//!   `silenced` event holds its paging: nobody is paged and it does not escalate. A silence
//!   created while an incident is triggered holds that incident too (an acknowledged incident
//!   is left alone: its ack timeout, if it fires during the silence, holds it then).
//! - When the silence ends (its `ends_at` is a deadline) or is removed, every held incident
//!   that no other active silence matches is released: `unsilenced` event, then paging starts
//!   at step 1 of the first pass. An incident acknowledged meanwhile is no longer held.

use jiff::Timestamp;

use super::paging::{DAEMON, record};
use super::{Action, Due, Engine, EngineError};
use crate::core::model::{
    EventKind, Incident, IncidentId, IncidentState, PageEvent, Silence, SilenceId,
};

/// A silence with its compiled pattern.
#[derive(Debug, Clone)]
pub(super) struct ActiveSilence {
    pub silence: Silence,
    pattern: glob::Pattern,
}

impl ActiveSilence {
    pub fn new(silence: Silence) -> Result<Self, EngineError> {
        let pattern = compile(&silence.pattern)?;
        Ok(ActiveSilence { silence, pattern })
    }

    pub fn matches(&self, check: &str) -> bool {
        self.pattern.matches(check)
    }

    /// How the timeline names it: `silence #3 (web-*) by alice until 2026-03-01T10:00:00Z: deploy`.
    pub fn describe(&self) -> String {
        let s = &self.silence;
        format!(
            "silence #{} ({}) by {} until {}: {}",
            s.id, s.pattern, s.created_by, s.ends_at, s.message
        )
    }
}

/// Compile a silence pattern, or say why it is not one.
pub(super) fn compile(pattern: &str) -> Result<glob::Pattern, EngineError> {
    glob::Pattern::new(pattern).map_err(|e| EngineError::BadPattern {
        pattern: pattern.to_string(),
        reason: e.msg.to_string(),
    })
}

impl Engine {
    /// The active silence matching `check` at `now`, if any.
    pub(super) fn silence_for(&self, check: &str, now: Timestamp) -> Option<&ActiveSilence> {
        self.silences
            .values()
            .find(|s| s.silence.is_active(now) && s.matches(check))
    }

    pub(super) fn is_silenced(&self, check: &str, now: Timestamp) -> bool {
        self.silence_for(check, now).is_some()
    }

    pub(super) fn add_silence(
        &mut self,
        pattern: String,
        until: Timestamp,
        actor: String,
        message: String,
        now: Timestamp,
        out: &mut Vec<Action>,
    ) -> Result<(), EngineError> {
        let id = self.next_silence_id;
        let active = ActiveSilence::new(Silence {
            id,
            pattern,
            starts_at: now,
            ends_at: until,
            message,
            created_by: actor,
        })?;
        self.next_silence_id += 1;
        out.push(Action::SaveSilence(active.silence.clone()));
        self.schedule(Due::Silence(id), Some(until));
        let describe = active.describe();
        let held: Vec<IncidentId> = self
            .incidents
            .values()
            .filter(|i| {
                i.state == IncidentState::Triggered
                    && !i.escalation.silenced
                    && active.matches(&i.check)
            })
            .map(|i| i.id)
            .collect();
        self.silences.insert(id, active);
        for id in held {
            if let Some(mut inc) = self.incidents.remove(&id) {
                inc.escalation.silenced = true;
                inc.escalation.next_at = None;
                record(
                    &mut inc,
                    EventKind::Silenced,
                    DAEMON,
                    describe.clone(),
                    now,
                    out,
                );
                self.save(inc, out);
            }
        }
        Ok(())
    }

    /// End a silence early (`oncalld unsilence`): saved with `ends_at = now`.
    pub(super) fn remove_silence(
        &mut self,
        id: SilenceId,
        _actor: &str,
        now: Timestamp,
        out: &mut Vec<Action>,
    ) -> Result<(), EngineError> {
        let Some(mut active) = self.silences.remove(&id) else {
            return Err(EngineError::UnknownSilence(id));
        };
        self.schedule(Due::Silence(id), None);
        active.silence.ends_at = now;
        out.push(Action::SaveSilence(active.silence));
        self.release_all(now, out);
        Ok(())
    }

    /// A silence reached its end.
    pub(super) fn expire_silence(&mut self, id: SilenceId, now: Timestamp, out: &mut Vec<Action>) {
        self.silences.remove(&id);
        self.release_all(now, out);
    }

    /// Release every held incident no active silence matches any more.
    fn release_all(&mut self, now: Timestamp, out: &mut Vec<Action>) {
        let ids: Vec<IncidentId> = self
            .incidents
            .values()
            .filter(|i| i.state == IncidentState::Triggered && i.escalation.silenced)
            .filter(|i| !self.is_silenced(&i.check, now))
            .map(|i| i.id)
            .collect();
        for id in ids {
            if let Some(mut inc) = self.incidents.remove(&id) {
                self.release(&mut inc, now, out);
                self.save(inc, out);
            }
        }
    }

    /// `unsilenced`, then page from step 1.
    pub(super) fn release(&self, inc: &mut Incident, now: Timestamp, out: &mut Vec<Action>) {
        inc.escalation.silenced = false;
        let msg = "no silence matches any more: paging from step 1".to_string();
        record(inc, EventKind::Unsilenced, DAEMON, msg, now, out);
        self.page_or_hold(inc, PageEvent::Triggered, now, out);
    }
}
