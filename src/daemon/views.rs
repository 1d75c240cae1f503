//! The daemon's values as the socket API shows them (the JSON shapes of `api::types`).

use jiff::Timestamp;

use crate::api::backend::{ApiError, ApiResult};
use crate::api::types::{
    CheckView, IncidentView, OncallStep, OncallTarget, OncallView, SilenceView, StatusView,
    StoreView, TimelineItem,
};
use crate::config::Config;
use crate::core::check_state::CheckState;
use crate::core::model::{DeliveryOutcome, Incident, Silence};
use crate::daemon::live::Shared;
use crate::store::TimelineEntry;

/// Every configured check, in config order, with its latest result.
pub fn checks(shared: &Shared) -> Vec<CheckView> {
    let config = shared.config();
    let live = shared.read();
    let now = Timestamp::now();
    let patterns: Vec<glob::Pattern> = live
        .silences
        .iter()
        .filter(|s| s.is_active(now))
        .filter_map(|s| glob::Pattern::new(&s.pattern).ok())
        .collect();
    config
        .checks
        .iter()
        .map(|c| {
            let l = live.checks.get(&c.name);
            let state = l.map(|l| l.state).unwrap_or(CheckState::Up);
            let last = l.and_then(|l| l.last.as_ref());
            let hb = shared.heartbeats.get(&c.name);
            let hb_state = hb.as_ref().map(|e| e.heartbeat.state.as_str());
            CheckView {
                name: c.name.clone(),
                kind: c.probe.kind().to_string(),
                target: c.probe.target(),
                state: hb_state.unwrap_or(state.name()).to_string(),
                attempt: match state {
                    CheckState::Failing { attempt } => attempt,
                    _ => 0,
                },
                since: l
                    .filter(|l| l.last.is_some() || l.state != CheckState::Up)
                    .map(|l| l.since),
                last_status: last.map(|r| r.status.as_str().to_string()),
                last_message: last.map(|r| r.message.clone()),
                last_duration_ms: last.map(|r| r.duration.as_millis() as u64),
                last_at: last.map(|r| r.at),
                silenced: patterns.iter().any(|p| p.matches(&c.name)),
                unreachable: live
                    .open
                    .iter()
                    .find(|i| i.check == c.name && i.fingerprint.is_none())
                    .map(|i| i.escalation.unreachable.clone())
                    .unwrap_or_default(),
                flapping: live.flapping.get(&c.name).copied(),
                last_ping: hb
                    .as_ref()
                    .and_then(|e| e.heartbeat.last_ping.as_ref().map(|p| p.at)),
                expected_next: hb.and_then(|e| e.heartbeat.expected_next(&e.rule)),
            }
        })
        .collect()
}

pub fn status(shared: &Shared) -> StatusView {
    let checks = checks(shared);
    let mut incidents: Vec<IncidentView> = shared.read().open.iter().map(incident).collect();
    incidents.sort_by_key(|i| std::cmp::Reverse(i.id));
    let health = &shared.store;
    StatusView {
        checks,
        incidents,
        store: StoreView {
            ok: health.ok(),
            error: health.error(),
            held: health.held(),
        },
    }
}

pub fn incident(i: &Incident) -> IncidentView {
    let paged_any = !i.escalation.paged.is_empty();
    IncidentView {
        id: i.id,
        check: i.check.clone(),
        state: i.state,
        summary: i.summary.clone(),
        policy: i.policy.clone(),
        opened_at: i.opened_at,
        acked_at: i.acked_at,
        acked_by: i.acked_by.clone(),
        resolved_at: i.resolved_at,
        resolved_by: i.resolved_by.clone(),
        step: if paged_any {
            i.escalation.step as u32 + 1
        } else {
            0
        },
        unreachable: i.escalation.unreachable.clone(),
        flapping: i.escalation.flapping.clone(),
    }
}

pub fn timeline_item(entry: &TimelineEntry) -> TimelineItem {
    match entry {
        TimelineEntry::Event(e) => TimelineItem {
            at: e.at,
            kind: e.kind.as_str().to_string(),
            actor: e.actor.clone(),
            message: e.message.clone(),
        },
        TimelineEntry::Attempt(a) => {
            let outcome = match &a.outcome {
                DeliveryOutcome::Delivered => "delivered".to_string(),
                DeliveryOutcome::Retrying { error, retry_at } => {
                    format!("failed ({error}); retry at {retry_at}")
                }
                DeliveryOutcome::Failed { error } => format!("failed for good ({error})"),
            };
            TimelineItem {
                at: a.at,
                kind: "delivery".to_string(),
                actor: "oncalld".to_string(),
                message: format!(
                    "page to {} via {} (attempt {}): {outcome}",
                    a.recipient, a.notifier, a.attempt
                ),
            }
        }
    }
}

pub fn silence(s: &Silence, now: Timestamp) -> SilenceView {
    SilenceView {
        id: s.id,
        pattern: s.pattern.clone(),
        starts_at: s.starts_at,
        ends_at: s.ends_at,
        message: s.message.clone(),
        created_by: s.created_by.clone(),
        active: s.is_active(now),
    }
}

/// `who`: each step of one policy (or of every policy) at `at`.
pub fn oncall(config: &Config, policy: Option<&str>, at: Timestamp) -> ApiResult<Vec<OncallView>> {
    let names: Vec<&str> = match policy {
        Some(p) => vec![p],
        None => config.policies.keys().map(String::as_str).collect(),
    };
    let mut out = Vec::new();
    for name in names {
        let steps = crate::core::oncall::who(config, name, at)
            .map_err(|e| ApiError::not_found(e.to_string()))?;
        let steps = steps
            .into_iter()
            .map(|s| OncallStep {
                step: s.step,
                escalate_after: humantime::format_duration(std::time::Duration::from_secs(
                    s.escalate_after_secs,
                ))
                .to_string(),
                targets: s
                    .targets
                    .into_iter()
                    .map(|t| {
                        let recipients = match (&t.person, t.target.strip_prefix("notifier:")) {
                            (Some(p), _) => vec![p.clone()],
                            (None, Some(n)) => vec![n.to_string()],
                            (None, None) => vec![],
                        };
                        OncallTarget {
                            target: t.target,
                            recipients,
                        }
                    })
                    .collect(),
            })
            .collect();
        out.push(OncallView {
            policy: name.to_string(),
            at,
            steps,
        });
    }
    Ok(out)
}

/// "5 checks, 2 people, 1 schedule, 1 policy, 4 notifiers".
pub fn summary(c: &Config) -> String {
    let n = |count: usize, one: &str, many: &str| {
        format!("{count} {}", if count == 1 { one } else { many })
    };
    [
        n(c.checks.len(), "check", "checks"),
        n(c.people.len(), "person", "people"),
        n(c.schedules.len(), "schedule", "schedules"),
        n(c.policies.len(), "policy", "policies"),
        n(c.notifiers.len(), "notifier", "notifiers"),
    ]
    .join(", ")
}
