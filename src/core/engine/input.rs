//! What goes into the engine and what comes out of it.

use std::sync::Arc;

use jiff::Timestamp;

use crate::config::{Config, Target};
use crate::core::check_state::Transition;
use crate::core::model::{
    Incident, IncidentId, IncidentState, Page, Silence, SilenceId, TimelineEvent,
};

/// Everything that can happen to the engine.
#[derive(Debug, Clone)]
pub enum Input {
    /// From the scheduler: a check's hard/soft transition with the probe's message.
    /// Soft transitions (and checks the config no longer has) change nothing.
    Check {
        check: String,
        transition: Transition,
        message: String,
    },
    /// From the scheduler: one probe result of a check — whether it failed, and the change
    /// of state it made, if any (soft or hard). Every result feeds flap detection and the
    /// check states dependencies read (SPEC §12); hard changes then act as [`Input::Check`].
    Probe {
        check: String,
        failed: bool,
        transition: Option<Transition>,
        message: String,
    },
    Ack {
        incident: IncidentId,
        actor: String,
        message: Option<String>,
    },
    Resolve {
        incident: IncidentId,
        actor: String,
        message: Option<String>,
    },
    /// Acknowledge or resolve several incidents in one step (SPEC §12): the listed `ids` and
    /// the open incidents whose check matches the glob `check`, in id order. Incidents already
    /// in that state (acknowledged, for an ack) are skipped; an id that was never handed out
    /// refuses the whole input.
    Bulk {
        op: BulkOp,
        ids: Vec<IncidentId>,
        check: Option<String>,
        actor: String,
        message: Option<String>,
    },
    /// Page the next step now.
    Escalate {
        incident: IncidentId,
        actor: String,
    },
    Note {
        incident: IncidentId,
        actor: String,
        text: String,
    },
    /// A silence from now until `until` for checks whose name matches the glob `pattern`.
    Silence {
        pattern: String,
        until: Timestamp,
        actor: String,
        message: String,
    },
    Unsilence {
        id: SilenceId,
        actor: String,
    },
    /// One notification of a source (SPEC §11): its alerts, in order, in one step.
    Alerts {
        source: String,
        alerts: Vec<super::Alert>,
    },
    /// Time passed (the daemon sends this at `next_deadline()`).
    Tick,
    Reload(Arc<Config>),
    /// A test page to `person:NAME` (one page per contact method) or `notifier:NAME`.
    TestPage {
        target: Target,
        actor: String,
    },
}

/// What an [`Input::Bulk`] does to each incident it selects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BulkOp {
    Ack,
    Resolve,
}

/// What the daemon must do, in order, after an input.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// Insert or replace this incident row (state, escalation position with absolute deadlines).
    SaveIncident(Incident),
    /// Append this event to its incident's timeline.
    Record(TimelineEvent),
    /// Write to the outbox, then send. The key is `oncalld:<incident>:<seq>:<recipient>:<notifier>`
    /// where seq is that of the `paged` timeline event recording this page (unique per page).
    Page(Page),
    /// Insert or replace this silence row (also when it is ended early).
    SaveSilence(Silence),
}

/// Why an input was refused; the engine is unchanged. The API maps these to 404/409/400.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EngineError {
    /// 404.
    #[error("no incident #{0}")]
    UnknownIncident(IncidentId),
    /// 409: e.g. ack of an acknowledged or resolved incident.
    #[error("incident #{id} is {}: cannot {action} it", state.as_str())]
    WrongState {
        id: IncidentId,
        state: IncidentState,
        action: &'static str,
    },
    /// 409: a silence holds this incident's paging; remove the silence to page.
    #[error("incident #{0} is silenced: unsilence it to page anybody")]
    Silenced(IncidentId),
    /// 404.
    #[error("no active silence #{0}")]
    UnknownSilence(SilenceId),
    /// 400.
    #[error("bad pattern {pattern:?}: {reason}")]
    BadPattern { pattern: String, reason: String },
    /// 400.
    #[error("a silence must end after now (ends {0})")]
    SilenceInPast(Timestamp),
    /// 400: test pages go to `person:NAME` (with a contact method) or a known `notifier:NAME`.
    #[error("cannot send a test page to {0}")]
    BadTarget(String),
}
