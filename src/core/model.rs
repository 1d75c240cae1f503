//! The data the engine decides about and the store keeps: incidents, timeline events, pages,
//! silences. Plain values, serialisable, no behaviour beyond naming.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::escalation::EscalationState;

/// Incident ids are small integers, shown `#17`.
pub type IncidentId = u64;
pub type SilenceId = u64;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum IncidentState {
    Triggered,
    Acknowledged,
    Resolved,
}

impl IncidentState {
    pub fn as_str(self) -> &'static str {
        match self {
            IncidentState::Triggered => "triggered",
            IncidentState::Acknowledged => "acknowledged",
            IncidentState::Resolved => "resolved",
        }
    }
    pub fn is_open(self) -> bool {
        self != IncidentState::Resolved
    }
}

/// One incident, as stored. The store writes the whole row on every `Action::SaveIncident`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Incident {
    pub id: IncidentId,
    pub check: String,
    /// The probe's message when the check went DOWN.
    pub summary: String,
    pub state: IncidentState,
    pub policy: String,
    pub opened_at: Timestamp,
    pub acked_at: Option<Timestamp>,
    pub acked_by: Option<String>,
    pub resolved_at: Option<Timestamp>,
    pub resolved_by: Option<String>,
    /// Sequence number the next timeline event of this incident takes (events start at 1).
    pub next_seq: u32,
    /// Where the escalation stands; deadlines in it are absolute times.
    pub escalation: EscalationState,
    /// For an incident opened by a source's alert (SPEC §11), the alert's fingerprint: the
    /// incident is that of `(<source>, fingerprint)`, the source being the check name's head.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fingerprint: Option<String>,
}

/// What happened, named so the variant reads well in logs, `oncalld show` and postmortems.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    /// The check went DOWN and the incident opened (details: the probe's message).
    Triggered,
    /// A check transition while the incident is open (e.g. UP again while `auto_resolve = false`).
    CheckChanged,
    /// A page was queued for a recipient (details: recipient, notifier, step, reason).
    Paged,
    /// Paging moved to the next step (timeout, or `oncalld escalate`).
    Escalated,
    /// Every step and repeat has been paged: nobody else will be paged until an ack timeout.
    EscalationExhausted,
    /// A step was skipped because nobody in it is on call.
    StepSkipped,
    Acknowledged,
    /// An acknowledged incident was still open after `ack_timeout`: paging starts again.
    AckTimedOut,
    Note,
    Resolved,
    /// Paging held back because a silence matches the check.
    Silenced,
    /// The silence ended with the incident still open.
    Unsilenced,
    /// Paging held: a parent (`depends_on`) is not UP. The message starts with
    /// `unreachable (` and names every such parent: `unreachable (gw is DOWN, core is FAILING)`.
    Unreachable,
    /// Every parent is UP again: the incident is paged from step 1 if its check is still DOWN.
    Reachable,
    /// The check started flapping (message: `9 state changes in the last 21 checks (43.2%)`).
    Flapping,
    /// The check stopped flapping: UP resolves the incident, DOWN continues it.
    FlappingStopped,
    /// A page held for a digest (`group_wait`): the message is the `paged` one followed by
    /// ` -> grouped into digest <key>` (the digest page's idempotency key).
    Grouped,
}

impl EventKind {
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::Triggered => "triggered",
            EventKind::CheckChanged => "check_changed",
            EventKind::Paged => "paged",
            EventKind::Escalated => "escalated",
            EventKind::EscalationExhausted => "escalation_exhausted",
            EventKind::StepSkipped => "step_skipped",
            EventKind::Acknowledged => "acknowledged",
            EventKind::AckTimedOut => "ack_timed_out",
            EventKind::Note => "note",
            EventKind::Resolved => "resolved",
            EventKind::Silenced => "silenced",
            EventKind::Unsilenced => "unsilenced",
            EventKind::Unreachable => "unreachable",
            EventKind::Reachable => "reachable",
            EventKind::Flapping => "flapping",
            EventKind::FlappingStopped => "flapping_stopped",
            EventKind::Grouped => "grouped",
        }
    }
}

/// One line of an incident's timeline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TimelineEvent {
    pub incident: IncidentId,
    pub seq: u32,
    pub at: Timestamp,
    pub kind: EventKind,
    /// `"oncalld"` for the daemon's own decisions, `"auto"` for automatic resolution, or the
    /// Unix user of a socket command, `"alice (uid 1000)"`.
    pub actor: String,
    /// Human one-liner (the note's text, the probe's message, "paged alice via mail (step 1)").
    pub message: String,
}

/// Why a page is sent; the webhook body's `event`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PageEvent {
    Triggered,
    Escalated,
    Acknowledged,
    Resolved,
    /// The check started flapping (SPEC §12): one page, then no resolve/re-open churn.
    Flapping,
    Test,
}

impl PageEvent {
    pub fn as_str(self) -> &'static str {
        match self {
            PageEvent::Triggered => "triggered",
            PageEvent::Escalated => "escalated",
            PageEvent::Acknowledged => "acknowledged",
            PageEvent::Resolved => "resolved",
            PageEvent::Flapping => "flapping",
            PageEvent::Test => "test",
        }
    }
}

/// One message to one recipient through one notifier. Written to the outbox before it is
/// sent; `key` is stable across retries and restarts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Page {
    /// `oncalld:<incident>:<event seq>:<recipient>:<notifier>`.
    pub key: String,
    pub incident: IncidentId,
    /// Seq of the timeline event that caused the page.
    pub seq: u32,
    pub event: PageEvent,
    /// A person's name, or the notifier's name for a `notifier:` target.
    pub recipient: String,
    pub notifier: String,
    /// The address (`to`) from the person's contact method; `None` for `notifier:` targets.
    pub to: Option<String>,
    /// 1-based escalation step.
    pub step: u32,
    pub check: String,
    pub summary: String,
    pub incident_state: IncidentState,
    pub opened_at: Timestamp,
    /// Everyone else paged for this incident so far (for the email body).
    pub also_paged: Vec<String>,
    /// Human one-liner, e.g. "TRIGGERED #17 website: HTTP 500 in 12 ms".
    pub text: String,
    pub created_at: Timestamp,
    /// A digest (SPEC §12 `group_wait`): every incident it stands for, in order; empty for a
    /// page about one incident. The page's own incident fields are those of the first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub digest: Vec<DigestItem>,
}

/// One incident named by a digest page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DigestItem {
    pub incident: IncidentId,
    pub check: String,
    pub summary: String,
    pub incident_state: IncidentState,
    pub opened_at: Timestamp,
    /// 1-based escalation step this incident's page was for.
    pub step: u32,
}

impl Page {
    pub fn idempotency_key(
        incident: IncidentId,
        seq: u32,
        recipient: &str,
        notifier: &str,
    ) -> String {
        format!("oncalld:{incident}:{seq}:{recipient}:{notifier}")
    }
}

/// A maintenance window: matching checks are recorded but page nobody.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Silence {
    pub id: SilenceId,
    /// A glob over check names (`web-*`).
    pub pattern: String,
    pub starts_at: Timestamp,
    pub ends_at: Timestamp,
    pub message: String,
    pub created_by: String,
}

impl Silence {
    pub fn is_active(&self, now: Timestamp) -> bool {
        self.starts_at <= now && now < self.ends_at
    }
}

/// How one delivery attempt of a page ended.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "lowercase")]
pub enum DeliveryOutcome {
    Delivered,
    /// Failed, will be tried again at `retry_at`.
    Retrying {
        error: String,
        retry_at: Timestamp,
    },
    /// Failed for good: permanent error, or the page is over 24 h old.
    Failed {
        error: String,
    },
}

/// One attempt to deliver one page; these go on the incident's timeline beside its events.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PageAttempt {
    pub key: String,
    pub incident: IncidentId,
    pub recipient: String,
    pub notifier: String,
    /// 1-based.
    pub attempt: u32,
    pub at: Timestamp,
    pub outcome: DeliveryOutcome,
}

/// A recorded change of a check's state (for `status`, availability and postmortems).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckTransitionRecord {
    pub check: String,
    pub at: Timestamp,
    pub from: super::check_state::CheckState,
    pub to: super::check_state::CheckState,
    /// The probe's message that caused it.
    pub message: String,
}
