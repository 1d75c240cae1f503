//! Who gets which page, and how each page is recorded.
//!
//! # Rules
//!
//! - Every page is also a `paged` timeline event; the page's `seq` (and so its idempotency key
//!   `oncalld:<incident>:<seq>:<recipient>:<notifier>`) is that event's, unique per page even
//!   when one person has two addresses on the same notifier.
//! - Paging a step pages every destination of [`step_recipients`] at that instant; each
//!   destination joins the incident's `paged` list (distinct).
//! - An acknowledgement sends an `acknowledged` page to everyone paged so far (the acker
//!   included), so the people still being woken know someone took it. A resolve sends one
//!   `resolved` page to every distinct destination paged for the incident.
//! - Page text reads `TRIGGERED #17 website: HTTP 500 in 12 ms` (event upper-case, id, check,
//!   summary); acknowledged and resolved pages add `(by alice)`. `also_paged` names everyone
//!   else paged for the incident so far.
//!
//! [`step_recipients`]: crate::core::escalation::step_recipients

use jiff::Timestamp;

use super::{Action, Engine};
use crate::config::Target;
use crate::core::escalation::{
    Position, Recipient, WalkEnd, person_recipients, push_unique, step_deadline, walk,
};
use crate::core::model::{EventKind, Incident, IncidentState, Page, PageEvent, TimelineEvent};

/// The actor of the engine's own decisions.
pub(super) const DAEMON: &str = "oncalld";

/// Append a timeline event to `inc` and return its seq.
pub(super) fn record(
    inc: &mut Incident,
    kind: EventKind,
    actor: &str,
    message: String,
    now: Timestamp,
    out: &mut Vec<Action>,
) -> u32 {
    let seq = inc.next_seq.max(1);
    inc.next_seq = seq + 1;
    out.push(Action::Record(TimelineEvent {
        incident: inc.id,
        seq,
        at: now,
        kind,
        actor: actor.to_string(),
        message,
    }));
    seq
}

impl Engine {
    /// Page from `start` on, skipping empty steps; set the step's deadline. `event` is the
    /// reason the pages give (triggered or escalated).
    pub(super) fn page_from(
        &self,
        inc: &mut Incident,
        start: Position,
        event: PageEvent,
        now: Timestamp,
        out: &mut Vec<Action>,
    ) {
        let Some(policy) = self.config.policies.get(&inc.policy) else {
            let msg = format!("no escalation policy {:?}: nobody can be paged", inc.policy);
            exhaust(inc, msg, now, out);
            return;
        };
        let w = walk(&self.config, policy, start, now);
        for p in &w.skipped {
            let msg = format!("step {} skipped: nobody on call", p.step + 1);
            record(inc, EventKind::StepSkipped, DAEMON, msg, now, out);
        }
        match w.end {
            WalkEnd::Page(pos, recipients) => {
                set_position(inc, pos);
                inc.escalation.next_at = Some(step_deadline(policy, pos, now));
                for r in &recipients {
                    push_unique(&mut inc.escalation.paged, r.clone());
                }
                for r in recipients {
                    send(inc, r, event, DAEMON, now, out);
                }
            }
            WalkEnd::Idle(pos) => {
                set_position(inc, pos);
                inc.escalation.next_at = Some(step_deadline(policy, pos, now));
            }
            WalkEnd::Exhausted => {
                let msg = "every step and repeat has been paged: nobody else will be paged";
                exhaust(inc, msg.to_string(), now, out);
            }
        }
    }

    /// Send `event` (acknowledged, resolved) to everyone paged for the incident, once each.
    pub(super) fn notify_paged(
        &self,
        inc: &mut Incident,
        event: PageEvent,
        actor: &str,
        now: Timestamp,
        out: &mut Vec<Action>,
    ) {
        for r in inc.escalation.paged.clone() {
            send(inc, r, event, actor, now, out);
        }
    }

    /// The destinations of a test page (empty if the target cannot take one).
    pub(super) fn test_recipients(&self, target: &Target) -> Vec<Recipient> {
        let mut out = Vec::new();
        match target {
            Target::Person(name) => person_recipients(&self.config, name, &mut out),
            Target::Notifier(name) if self.config.notifiers.contains_key(name) => {
                out.push(Recipient {
                    recipient: name.clone(),
                    notifier: name.clone(),
                    to: None,
                });
            }
            Target::Notifier(_) | Target::Schedule(_) => {}
        }
        out
    }

    /// Test pages: incident 0, no timeline. Each page takes its own seq, never lower than the
    /// Unix second of `now`, so keys stay unique across restarts (the counter is not stored).
    pub(super) fn test_page(
        &mut self,
        target: &Target,
        actor: &str,
        now: Timestamp,
        out: &mut Vec<Action>,
    ) {
        for r in self.test_recipients(target) {
            let clock = u32::try_from(now.as_second().max(0)).unwrap_or(u32::MAX);
            self.test_seq = self.test_seq.saturating_add(1).max(clock);
            let seq = self.test_seq;
            out.push(Action::Page(Page {
                key: Page::idempotency_key(0, seq, &r.recipient, &r.notifier),
                incident: 0,
                seq,
                event: PageEvent::Test,
                recipient: r.recipient,
                notifier: r.notifier,
                to: r.to,
                step: 0,
                check: String::new(),
                summary: "test page".to_string(),
                incident_state: IncidentState::Triggered,
                opened_at: now,
                also_paged: Vec::new(),
                text: format!("TEST page from oncalld, sent by {actor}"),
                created_at: now,
                digest: Vec::new(),
            }));
        }
    }
}

fn set_position(inc: &mut Incident, pos: Position) {
    inc.escalation.step = pos.step;
    inc.escalation.round = pos.round;
}

/// Nobody else will be paged: record why and drop the deadline.
pub(super) fn exhaust(inc: &mut Incident, message: String, now: Timestamp, out: &mut Vec<Action>) {
    inc.escalation.exhausted = true;
    inc.escalation.next_at = None;
    record(
        inc,
        EventKind::EscalationExhausted,
        DAEMON,
        message,
        now,
        out,
    );
}

/// Record one `paged` event and emit its page.
fn send(
    inc: &mut Incident,
    r: Recipient,
    event: PageEvent,
    actor: &str,
    now: Timestamp,
    out: &mut Vec<Action>,
) {
    let step = inc.escalation.step as u32 + 1;
    let to =
        r.to.as_deref()
            .filter(|t| !t.trim().is_empty())
            .map(|t| format!(" to {t}"))
            .unwrap_or_default();
    let msg = format!(
        "paged {} via {}{to} (step {step}, {})",
        r.recipient,
        r.notifier,
        event.as_str()
    );
    let seq = record(inc, EventKind::Paged, DAEMON, msg, now, out);
    let mut also_paged: Vec<String> = Vec::new();
    for p in &inc.escalation.paged {
        if p.recipient != r.recipient && !also_paged.contains(&p.recipient) {
            also_paged.push(p.recipient.clone());
        }
    }
    let by = match event {
        PageEvent::Acknowledged | PageEvent::Resolved => format!(" (by {actor})"),
        _ => String::new(),
    };
    // A FLAPPING page says how it flaps: `FLAPPING #17 website: 9 state changes in ...`.
    let what = match (event, &inc.escalation.flapping) {
        (PageEvent::Flapping, Some(f)) => f,
        _ => &inc.summary,
    };
    let text = format!(
        "{} #{} {}: {what}{by}",
        event.as_str().to_uppercase(),
        inc.id,
        inc.check,
    );
    out.push(Action::Page(Page {
        key: Page::idempotency_key(inc.id, seq, &r.recipient, &r.notifier),
        incident: inc.id,
        seq,
        event,
        recipient: r.recipient,
        notifier: r.notifier,
        to: r.to,
        step,
        check: inc.check.clone(),
        summary: inc.summary.clone(),
        incident_state: inc.state,
        opened_at: inc.opened_at,
        also_paged,
        text,
        created_at: now,
        digest: Vec::new(),
    }));
}
