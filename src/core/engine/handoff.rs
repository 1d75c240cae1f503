//! Handoff notices in the engine (SPEC §13): each schedule with `handoff_notice = true` has
//! its next handoff ([`crate::core::handoff`]) as a deadline; when it comes, the person coming
//! on call is paged through each contact method (incident 0, no timeline), through the same
//! outbox as every page. Planned at the engine's first input and at each reload from `now`
//! on, so a handover that passed while the daemon was down is not announced late; one whose
//! shift is already over when the engine wakes (a suspend) is skipped.

use jiff::Timestamp;

use super::{Action, Due, Engine};
use crate::core::escalation::person_recipients;
use crate::core::handoff::{Handoff, next_handoff, notice_text};
use crate::core::model::{IncidentState, Page, PageEvent};

impl Engine {
    /// Each noticed schedule's first handoff after `now`.
    pub(super) fn plan_handoffs(&mut self, now: Timestamp) {
        self.handoffs.clear();
        let config = self.config.clone();
        for (name, s) in config.schedules.iter().filter(|(_, s)| s.handoff_notice) {
            if let Some(h) = next_handoff(s, now) {
                self.handoffs.insert(name.clone(), h);
            }
        }
        self.handoffs_planned = true;
        self.schedule_handoffs();
    }

    /// Page every handoff due at `now`, then plan the next ones.
    pub(super) fn fire_handoffs(&mut self, now: Timestamp, out: &mut Vec<Action>) {
        let config = self.config.clone();
        let due: Vec<String> = self
            .handoffs
            .iter()
            .filter(|(_, h)| h.at <= now)
            .map(|(n, _)| n.clone())
            .collect();
        for name in due {
            let Some(schedule) = config.schedules.get(&name) else {
                self.handoffs.remove(&name);
                continue;
            };
            while let Some(h) = self.handoffs.get(&name).cloned().filter(|h| h.at <= now) {
                if h.until.is_none_or(|u| u > now) {
                    let text = notice_text(&name, schedule, &h);
                    self.handoff_pages(&name, &h, text, now, out);
                }
                match next_handoff(schedule, h.at) {
                    Some(next) => self.handoffs.insert(name.clone(), next),
                    None => self.handoffs.remove(&name),
                };
            }
        }
        self.schedule_handoffs();
    }

    fn schedule_handoffs(&mut self) {
        let first = self.handoffs.values().map(|h| h.at).min();
        self.schedule(Due::Handoff, first);
    }

    /// One page per contact method, keyed `oncalld:handoff:<schedule>:<start>:<person>:<notifier>`
    /// (`:2`, `:3`... for a second method on the same notifier).
    fn handoff_pages(
        &self,
        schedule: &str,
        h: &Handoff,
        text: String,
        now: Timestamp,
        out: &mut Vec<Action>,
    ) {
        let mut recipients = Vec::new();
        person_recipients(&self.config, &h.person, &mut recipients);
        let seq = u32::try_from(h.at.as_second().max(0)).unwrap_or(u32::MAX);
        let mut used: Vec<String> = Vec::new();
        for r in recipients {
            let mut key = format!(
                "oncalld:handoff:{schedule}:{}:{}:{}",
                h.at, h.person, r.notifier
            );
            let n = used.iter().filter(|k| **k == key).count();
            used.push(key.clone());
            if n > 0 {
                key.push_str(&format!(":{}", n + 1));
            }
            out.push(Action::Page(Page {
                key,
                incident: 0,
                seq,
                event: PageEvent::Handoff,
                recipient: r.recipient,
                notifier: r.notifier,
                to: r.to,
                step: 0,
                check: schedule.to_string(),
                summary: text.clone(),
                incident_state: IncidentState::Triggered,
                opened_at: h.at,
                also_paged: Vec::new(),
                text: text.clone(),
                created_at: now,
                digest: Vec::new(),
            }));
        }
    }
}
