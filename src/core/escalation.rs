//! Escalation through a policy's steps. (The engine issue fills this in.)

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

/// Where an incident's paging stands. Stored with the incident (as JSON), so deadlines are
/// absolute times and survive a restart.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct EscalationState {
    /// 0-based index of the step paged last.
    pub step: usize,
    /// How many times the whole list has been started again (0 on the first pass).
    pub round: u32,
    /// When the engine must act next for this incident (escalate, or ack timeout).
    pub next_at: Option<Timestamp>,
    /// Recipients paged so far, as (recipient, notifier, to), for the "resolved" pages.
    pub paged: Vec<(String, String, Option<String>)>,
}
