//! Facts of one incident that several postmortem sections use: when it ended, who acked and
//! resolved it, what the probe saw first and last, and how its pages were delivered.

use std::collections::HashMap;

use jiff::Timestamp;

use super::postmortem::PostmortemInput;
use crate::core::check_state::CheckState;
use crate::core::model::{DeliveryOutcome, EventKind, PageAttempt};

/// Facts read once from the inputs and used by several sections.
pub(crate) struct Facts<'a> {
    /// Resolution time, or `now` for an open incident.
    pub end: Timestamp,
    pub open: bool,
    pub first_ack: Option<(Timestamp, &'a str)>,
    pub resolved_by: Option<&'a str>,
    /// When the probe first failed in the run-up to DOWN, and what it said.
    pub first_seen: Option<(Timestamp, &'a str)>,
    /// The last probe result recorded during the incident.
    pub last_seen: Option<(Timestamp, &'a str)>,
    pub pages: PageCounts,
    pub escalations: usize,
}

/// Pages of the incident by how their delivery ended (one page = one key).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct PageCounts {
    pub sent: usize,
    pub delivered: usize,
    pub failed: usize,
    /// Neither delivered nor failed for good yet.
    pub retrying: usize,
}

/// Counts pages by final outcome: delivered if any attempt was, else failed if one failed
/// for good, else still being retried.
pub fn page_counts(attempts: &[PageAttempt]) -> PageCounts {
    let mut by_key: HashMap<&str, u8> = HashMap::new();
    for a in attempts {
        let rank = match a.outcome {
            DeliveryOutcome::Retrying { .. } => 0,
            DeliveryOutcome::Failed { .. } => 1,
            DeliveryOutcome::Delivered => 2,
        };
        let slot = by_key.entry(a.key.as_str()).or_insert(0);
        *slot = (*slot).max(rank);
    }
    let mut counts = PageCounts {
        sent: by_key.len(),
        ..PageCounts::default()
    };
    for rank in by_key.values() {
        match rank {
            2 => counts.delivered += 1,
            1 => counts.failed += 1,
            _ => counts.retrying += 1,
        }
    }
    counts
}

impl<'a> Facts<'a> {
    pub(crate) fn read(input: &PostmortemInput<'a>) -> Facts<'a> {
        let inc = input.incident;
        let open = inc.state.is_open() || inc.resolved_at.is_none();
        let end = match inc.resolved_at {
            Some(at) if !open => at,
            _ => input.now,
        };
        let first_event = |kind: EventKind| {
            input
                .events
                .iter()
                .filter(|e| e.kind == kind)
                .min_by_key(|e| (e.at, e.seq))
        };
        let first_ack = first_event(EventKind::Acknowledged)
            .map(|e| (e.at, e.actor.as_str()))
            .or_else(|| {
                inc.acked_at
                    .map(|at| (at, inc.acked_by.as_deref().unwrap_or("?")))
            });
        let resolved_by = input
            .events
            .iter()
            .filter(|e| e.kind == EventKind::Resolved)
            .max_by_key(|e| (e.at, e.seq))
            .map(|e| e.actor.as_str())
            .or(inc.resolved_by.as_deref());
        let (first_seen, last_seen) = probe_sightings(input, end);
        Facts {
            end,
            open,
            first_ack,
            resolved_by: if open { None } else { resolved_by },
            first_seen,
            last_seen,
            pages: page_counts(input.attempts),
            escalations: input
                .events
                .iter()
                .filter(|e| e.kind == EventKind::Escalated)
                .count(),
        }
    }
}

type Sighting<'a> = Option<(Timestamp, &'a str)>;

/// What the probe saw first (the start of the run-up: the last move out of UP at or before the
/// trigger) and last (the latest result recorded after the trigger, up to the end).
fn probe_sightings<'a>(
    input: &PostmortemInput<'a>,
    end: Timestamp,
) -> (Sighting<'a>, Sighting<'a>) {
    let inc = input.incident;
    let ours = || input.transitions.iter().filter(|t| t.check == inc.check);
    let first = ours()
        .filter(|t| t.at <= inc.opened_at && t.from == CheckState::Up)
        .max_by_key(|t| t.at)
        .map(|t| (t.at, t.message.as_str()))
        .or_else(|| {
            input
                .events
                .iter()
                .find(|e| e.kind == EventKind::Triggered)
                .map(|e| (e.at, e.message.as_str()))
        })
        .or(Some((inc.opened_at, inc.summary.as_str())));
    let last_transition = ours()
        .filter(|t| t.at > inc.opened_at && t.at <= end)
        .max_by_key(|t| t.at)
        .map(|t| (t.at, t.message.as_str()));
    let last_event = input
        .events
        .iter()
        .filter(|e| e.kind == EventKind::CheckChanged && e.at <= end)
        .max_by_key(|e| (e.at, e.seq))
        .map(|e| (e.at, e.message.as_str()));
    let last = match (last_transition, last_event) {
        (Some(t), Some(e)) => Some(if e.0 > t.0 { e } else { t }),
        (t, e) => t.or(e),
    };
    (first, last)
}
