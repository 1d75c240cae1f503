//! Fixtures shared by the store tests: model values with distinct, checkable fields.
#![allow(dead_code)]

use jiff::{SignedDuration, Timestamp};
use oncalld::core::check_state::{CheckState, CheckTracker, Status};
use oncalld::core::escalation::{EscalationState, Recipient};
use oncalld::core::model::*;
use oncalld::store::{Batch, CheckStateRow, Store};

/// A fixed base time with nanoseconds, so round trips prove full precision.
pub fn t(secs: i64) -> Timestamp {
    let base: Timestamp = "2026-03-01T10:00:00.123456789Z".parse().unwrap();
    base + SignedDuration::from_secs(secs)
}

pub fn open(dir: &tempfile::TempDir) -> Store {
    Store::open(dir.path()).unwrap()
}

pub fn incident(id: IncidentId, check: &str, opened: i64) -> Incident {
    Incident {
        id,
        check: check.into(),
        summary: format!("HTTP 500 on {check}"),
        state: IncidentState::Triggered,
        policy: "default".into(),
        opened_at: t(opened),
        acked_at: None,
        acked_by: None,
        resolved_at: None,
        resolved_by: None,
        next_seq: 2,
        escalation: EscalationState {
            step: 1,
            round: 0,
            next_at: Some(t(opened + 300)),
            paged: vec![Recipient {
                recipient: "alice".into(),
                notifier: "mail".into(),
                to: Some("alice@example.com".into()),
            }],
            ..EscalationState::default()
        },
        fingerprint: None,
    }
}

pub fn acked(mut i: Incident, at: i64, by: &str) -> Incident {
    i.state = IncidentState::Acknowledged;
    i.acked_at = Some(t(at));
    i.acked_by = Some(by.into());
    i
}

pub fn resolved(mut i: Incident, at: i64) -> Incident {
    i.state = IncidentState::Resolved;
    i.resolved_at = Some(t(at));
    i.resolved_by = Some("auto".into());
    i.escalation.next_at = None;
    i
}

pub fn event(incident: IncidentId, seq: u32, at: i64, kind: EventKind) -> TimelineEvent {
    TimelineEvent {
        incident,
        seq,
        at: t(at),
        kind,
        actor: "oncalld".into(),
        message: format!("{} #{incident}/{seq}", kind.as_str()),
    }
}

pub fn page(incident: IncidentId, seq: u32, recipient: &str, notifier: &str, at: i64) -> Page {
    Page {
        key: Page::idempotency_key(incident, seq, recipient, notifier),
        incident,
        seq,
        event: PageEvent::Triggered,
        recipient: recipient.into(),
        notifier: notifier.into(),
        to: Some(format!("{recipient}@example.com")),
        step: 1,
        check: "website".into(),
        summary: "HTTP 500".into(),
        incident_state: IncidentState::Triggered,
        opened_at: t(0),
        also_paged: vec!["bob".into(), "carol".into()],
        text: format!("TRIGGERED #{incident} website: HTTP 500"),
        created_at: t(at),
        digest: Vec::new(),
    }
}

pub fn attempt(p: &Page, n: u32, at: i64, outcome: DeliveryOutcome) -> PageAttempt {
    PageAttempt {
        key: p.key.clone(),
        incident: p.incident,
        recipient: p.recipient.clone(),
        notifier: p.notifier.clone(),
        attempt: n,
        at: t(at),
        outcome,
    }
}

pub fn silence(id: SilenceId, starts: i64, ends: i64) -> Silence {
    Silence {
        id,
        pattern: "web-*".into(),
        starts_at: t(starts),
        ends_at: t(ends),
        message: format!("maintenance {id}"),
        created_by: "alice (uid 1000)".into(),
    }
}

pub fn transition(check: &str, at: i64, from: CheckState, to: CheckState) -> CheckTransitionRecord {
    CheckTransitionRecord {
        check: check.into(),
        at: t(at),
        from,
        to,
        message: format!("{check} {from} -> {to}"),
    }
}

pub fn check_state_row(check: &str, state: CheckState, at: i64) -> CheckStateRow {
    CheckStateRow {
        check: check.into(),
        tracker: CheckTracker {
            state,
            recovering: 1,
        },
        last_status: Status::Critical,
        last_message: "connection refused".into(),
        last_duration_ms: 12,
        last_at: t(at),
        state_since: t(at - 30),
    }
}

/// A batch with one incident, its trigger event and two pages: a typical first engine step.
pub fn trigger_batch(id: IncidentId, check: &str, at: i64) -> Batch {
    Batch {
        incidents: vec![incident(id, check, at)],
        events: vec![event(id, 1, at, EventKind::Triggered)],
        pages: vec![
            page(id, 1, "alice", "mail", at),
            page(id, 1, "alice", "hook", at),
        ],
        ..Batch::default()
    }
}
