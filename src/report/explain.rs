//! `oncalld explain ID` (SPEC §13): an incident's decision chain, what did not happen
//! included, and why — built from the timeline the engine recorded (its events, the pages of
//! the outbox and their delivery attempts). Pure: the store reads the rows.
//!
//! The engine records each non-event with its reason in words it owns: `step 2 skipped:
//! nobody on call (schedule primary: outside period workhours)`, `silence #3 (web-*) by …`;
//! they are read back here into [`SkipReason`]s. Dependencies and grouping (SPEC §12) add
//! their reasons as [`SkipReason::ParentDown`] and [`SkipReason::GroupedIntoDigest`].

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::core::model::{DeliveryOutcome, EventKind, Incident, IncidentId, PageAttempt};
use crate::store::{PageRecord, PageStatus, TimelineEntry};

/// The chain of one incident.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Explanation {
    pub incident: IncidentId,
    pub check: String,
    pub policy: String,
    pub state: String,
    pub decisions: Vec<Decision>,
}

/// One decision, or one thing that did not happen and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Decision {
    Opened {
        at: Timestamp,
        message: String,
    },
    Paged {
        at: Timestamp,
        step: u32,
        recipient: String,
        notifier: String,
        to: Option<String>,
        /// triggered, escalated, acknowledged, resolved.
        event: String,
        delivery: Delivery,
    },
    /// A step paged nobody (or paging was held), and why.
    NotPaged {
        at: Timestamp,
        /// 1-based; `None` when the whole incident was held (a silence).
        step: Option<u32>,
        reasons: Vec<SkipReason>,
    },
    /// Any other event of the timeline (escalated, acknowledged, resolved, notes...).
    Event {
        at: Timestamp,
        event: String,
        actor: String,
        message: String,
    },
}

/// Why nobody was paged.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "why", rename_all = "snake_case")]
pub enum SkipReason {
    /// Nobody on call or reachable: the engine's words (`schedule later: before its start …`).
    NobodyOnCall { detail: String },
    /// The schedule's period did not include that instant.
    OutsidePeriod { schedule: String, period: String },
    /// A silence held the incident.
    Silenced {
        silence: Option<u64>,
        detail: String,
    },
    /// The check's parent was not UP (dependencies, SPEC §12); `state` as `status` says it.
    ParentDown { parent: String, state: String },
    /// Folded into a digest page (grouping, SPEC §12).
    GroupedIntoDigest { group: String },
}

/// What became of one page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum Delivery {
    /// Not tried yet.
    Pending,
    Delivered {
        at: Timestamp,
        attempts: u32,
    },
    /// Failed so far, tried again later.
    Retrying {
        attempts: u32,
        error: String,
    },
    Failed {
        attempts: u32,
        error: String,
    },
}

/// The chain of `incident` from its timeline and its pages.
pub fn explain(
    incident: &Incident,
    timeline: &[TimelineEntry],
    pages: &[PageRecord],
) -> Explanation {
    let attempts: Vec<&PageAttempt> = timeline
        .iter()
        .filter_map(|e| match e {
            TimelineEntry::Attempt(a) => Some(a),
            TimelineEntry::Event(_) => None,
        })
        .collect();
    let mut decisions = Vec::new();
    for entry in timeline {
        let TimelineEntry::Event(e) = entry else {
            continue;
        };
        let d = match e.kind {
            EventKind::Triggered => Decision::Opened {
                at: e.at,
                message: e.message.clone(),
            },
            EventKind::Paged => match pages.iter().find(|p| p.page.seq == e.seq) {
                Some(p) => Decision::Paged {
                    at: e.at,
                    step: p.page.step,
                    recipient: p.page.recipient.clone(),
                    notifier: p.page.notifier.clone(),
                    to: p.page.to.clone(),
                    event: p.page.event.as_str().to_string(),
                    delivery: delivery(p, &attempts),
                },
                None => other(e),
            },
            EventKind::StepSkipped => Decision::NotPaged {
                at: e.at,
                step: skipped_step(&e.message),
                reasons: skip_reasons(&e.message),
            },
            EventKind::Unreachable => Decision::NotPaged {
                at: e.at,
                step: None,
                reasons: unreachable_parents(&e.message),
            },
            EventKind::Grouped => Decision::NotPaged {
                at: e.at,
                step: grouped_step(&e.message),
                reasons: vec![SkipReason::GroupedIntoDigest {
                    group: e
                        .message
                        .rsplit_once(" -> grouped into digest ")
                        .map_or_else(String::new, |(_, key)| key.to_string()),
                }],
            },
            EventKind::Silenced => Decision::NotPaged {
                at: e.at,
                step: None,
                reasons: vec![SkipReason::Silenced {
                    silence: silence_id(&e.message),
                    detail: e.message.clone(),
                }],
            },
            _ => other(e),
        };
        decisions.push(d);
    }
    Explanation {
        incident: incident.id,
        check: incident.check.clone(),
        policy: incident.policy.clone(),
        state: incident.state.as_str().to_string(),
        decisions,
    }
}

fn other(e: &crate::core::model::TimelineEvent) -> Decision {
    Decision::Event {
        at: e.at,
        event: e.kind.as_str().to_string(),
        actor: e.actor.clone(),
        message: e.message.clone(),
    }
}

fn delivery(p: &PageRecord, attempts: &[&PageAttempt]) -> Delivery {
    let mine: Vec<&&PageAttempt> = attempts.iter().filter(|a| a.key == p.page.key).collect();
    let n = mine.len() as u32;
    match (p.status, mine.last().map(|a| &a.outcome)) {
        (_, Some(DeliveryOutcome::Delivered)) | (PageStatus::Delivered, None) => {
            Delivery::Delivered {
                at: mine.last().map_or(p.page.created_at, |a| a.at),
                attempts: n.max(1),
            }
        }
        (_, Some(DeliveryOutcome::Failed { error })) => Delivery::Failed {
            attempts: n,
            error: error.clone(),
        },
        (PageStatus::Failed, _) => Delivery::Failed {
            attempts: n,
            error: p.last_error.clone().unwrap_or_default(),
        },
        (_, Some(DeliveryOutcome::Retrying { error, .. })) => Delivery::Retrying {
            attempts: n,
            error: error.clone(),
        },
        (PageStatus::Pending, None) => Delivery::Pending,
    }
}

/// `step 2 skipped: ...` -> 2.
fn skipped_step(message: &str) -> Option<u32> {
    message
        .strip_prefix("step ")?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// The reasons in `step N skipped: nobody on call (R1; R2)`.
fn skip_reasons(message: &str) -> Vec<SkipReason> {
    let detail = message
        .split_once(" (")
        .and_then(|(_, rest)| rest.strip_suffix(')'))
        .unwrap_or("nobody on call");
    detail
        .split("; ")
        .map(|item| {
            let period = item
                .strip_prefix("schedule ")
                .and_then(|r| r.split_once(": outside period "));
            match period {
                Some((schedule, period)) => SkipReason::OutsidePeriod {
                    schedule: schedule.to_string(),
                    period: period.to_string(),
                },
                None => SkipReason::NobodyOnCall {
                    detail: item.to_string(),
                },
            }
        })
        .collect()
}

/// `unreachable (gw is DOWN, sw is FAILING): nobody paged` -> a reason per parent.
fn unreachable_parents(message: &str) -> Vec<SkipReason> {
    let list = message
        .strip_prefix("unreachable (")
        .and_then(|rest| rest.rsplit_once("): "))
        .map_or("", |(list, _)| list);
    list.split(", ")
        .filter_map(|item| item.split_once(" is "))
        .map(|(parent, state)| SkipReason::ParentDown {
            parent: parent.to_string(),
            state: state.to_string(),
        })
        .collect()
}

/// `paged alice via mail (step 2) -> grouped into digest …` -> 2.
fn grouped_step(message: &str) -> Option<u32> {
    let (_, rest) = message.split_once("(step ")?;
    rest.split(|c: char| !c.is_ascii_digit())
        .next()?
        .parse()
        .ok()
}

/// `silence #3 (...) ...` -> 3.
fn silence_id(message: &str) -> Option<u64> {
    message
        .strip_prefix("silence #")?
        .split(|c: char| !c.is_ascii_digit())
        .next()?
        .parse()
        .ok()
}

/// The chain as text, one line per decision, times in `zone`.
pub fn render(x: &Explanation, zone: &jiff::tz::TimeZone) -> String {
    use crate::text::sanitize_line as safe;
    let time = |t: Timestamp| {
        t.to_zoned(zone.clone())
            .strftime("%Y-%m-%d %H:%M:%S %Z")
            .to_string()
    };
    let mut out = format!(
        "Incident #{} {} (policy {}), {}:\n",
        x.incident,
        safe(&x.check),
        safe(&x.policy),
        x.state
    );
    for d in &x.decisions {
        let line = match d {
            Decision::Opened { at, message } => {
                format!("{}  opened: {}", time(*at), safe(message))
            }
            Decision::Paged {
                at,
                step,
                recipient,
                notifier,
                to,
                event,
                delivery,
            } => {
                let to = to
                    .as_deref()
                    .filter(|t| !t.is_empty())
                    .map(|t| format!(" to {}", safe(t)))
                    .unwrap_or_default();
                let outcome = match delivery {
                    Delivery::Pending => "not tried yet".to_string(),
                    Delivery::Delivered { at, attempts } => {
                        format!("delivered at {} ({attempts} attempt(s))", time(*at))
                    }
                    Delivery::Retrying { attempts, error } => {
                        format!("not delivered yet: {} ({attempts} attempt(s))", safe(error))
                    }
                    Delivery::Failed { attempts, error } => {
                        format!("page failed: {} ({attempts} attempt(s))", safe(error))
                    }
                };
                format!(
                    "{}  step {step}: {event} page to {} via {}{to}: {outcome}",
                    time(*at),
                    safe(recipient),
                    safe(notifier)
                )
            }
            Decision::NotPaged { at, step, reasons } => {
                let grouped = reasons
                    .iter()
                    .all(|r| matches!(r, SkipReason::GroupedIntoDigest { .. }));
                let what = match step {
                    Some(s) if grouped => format!("step {s} page held"),
                    Some(s) => format!("step {s} skipped"),
                    None => "nobody paged".to_string(),
                };
                let why: Vec<String> = reasons.iter().map(reason_text).collect();
                format!("{}  {what}: {}", time(*at), safe(&why.join("; ")))
            }
            Decision::Event {
                at,
                event,
                actor,
                message,
            } => {
                let msg = if message.is_empty() {
                    String::new()
                } else {
                    format!(": {}", safe(message))
                };
                format!(
                    "{}  {} by {}{msg}",
                    time(*at),
                    event.replace('_', " "),
                    safe(actor)
                )
            }
        };
        out.push_str("  ");
        out.push_str(&line);
        out.push('\n');
    }
    out
}

/// A reason in words: `outside period workhours (schedule primary)`, `silenced by #3 …`.
pub fn reason_text(r: &SkipReason) -> String {
    match r {
        SkipReason::NobodyOnCall { detail } => format!("nobody on call ({detail})"),
        SkipReason::OutsidePeriod { schedule, period } => {
            format!("outside period {period} (schedule {schedule})")
        }
        SkipReason::Silenced {
            silence: Some(id),
            detail,
        } => {
            // The engine's words start with the silence's own name: say it once.
            let rest = detail
                .strip_prefix(&format!("silence #{id} "))
                .unwrap_or(detail);
            format!("silenced by #{id} {rest}")
        }
        SkipReason::Silenced {
            silence: None,
            detail,
        } => format!("silenced ({detail})"),
        SkipReason::ParentDown { parent, state } => format!("parent {parent} {state}"),
        SkipReason::GroupedIntoDigest { group } => format!("grouped into digest {group}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn skip_messages_read_back_into_reasons() {
        let m = "step 2 skipped: nobody on call (schedule primary: outside period workhours; \
                 schedule later: before its start 2027-01-01T00:00)";
        assert_eq!(skipped_step(m), Some(2));
        assert_eq!(
            skip_reasons(m),
            vec![
                SkipReason::OutsidePeriod {
                    schedule: "primary".into(),
                    period: "workhours".into()
                },
                SkipReason::NobodyOnCall {
                    detail: "schedule later: before its start 2027-01-01T00:00".into()
                },
            ]
        );
        assert_eq!(
            silence_id("silence #3 (web-*) by ops until x: deploy"),
            Some(3)
        );
        let reasons = [
            SkipReason::ParentDown {
                parent: "gw".into(),
                state: "DOWN".into(),
            },
            SkipReason::GroupedIntoDigest {
                group: "web".into(),
            },
        ];
        let text: Vec<String> = reasons.iter().map(reason_text).collect();
        assert_eq!(text, ["parent gw DOWN", "grouped into digest web"]);
    }

    #[test]
    fn storm_messages_read_back_into_reasons() {
        assert_eq!(
            unreachable_parents("unreachable (gw is DOWN, core-sw is FAILING): nobody paged"),
            vec![
                SkipReason::ParentDown {
                    parent: "gw".into(),
                    state: "DOWN".into()
                },
                SkipReason::ParentDown {
                    parent: "core-sw".into(),
                    state: "FAILING".into()
                },
            ]
        );
        assert_eq!(
            grouped_step("paged alice via mail (step 2) -> grouped into digest oncalld:digest:7"),
            Some(2)
        );
    }
}
