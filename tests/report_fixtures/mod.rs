//! Builders of realistic report/postmortem data, shared by the `report_*` tests and the
//! `report` benchmark (included there with `#[path]`).
#![allow(dead_code)]

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};
use oncalld::config::{CheckConfig, HttpProbe, PageOn, ProbeConfig};
use oncalld::core::check_state::CheckState;
use oncalld::core::escalation::EscalationState;
use oncalld::core::model::{
    CheckTransitionRecord, DeliveryOutcome, EventKind, Incident, IncidentId, IncidentState, Page,
    PageAttempt, PageEvent, Silence, TimelineEvent,
};
use oncalld::report::stats::{Figures, Report, ReportInput};
use oncalld::store::reports::{IncidentSummary, ReportPage};

/// `"2026-11-20T13:03:07Z"` -> Timestamp.
pub fn ts(s: &str) -> Timestamp {
    s.parse().unwrap()
}

pub fn secs(n: i64) -> SignedDuration {
    SignedDuration::from_secs(n)
}

pub fn paris() -> TimeZone {
    TimeZone::get("Europe/Paris").unwrap()
}

pub fn http_check(name: &str, url: &str) -> CheckConfig {
    CheckConfig {
        name: name.to_string(),
        probe: ProbeConfig::Http(HttpProbe {
            url: url.to_string(),
            method: "GET".to_string(),
            headers: BTreeMap::new(),
            expect_status: vec![200],
            max_latency: None,
            body_contains: None,
            tls_verify: true,
            ca_file: None,
            cert_expiry: None,
            zone: jiff::tz::TimeZone::UTC,
        }),
        interval: Duration::from_secs(30),
        timeout: Duration::from_secs(10),
        retries: 3,
        retry_interval: Duration::from_secs(10),
        recoveries: 2,
        policy: "default".to_string(),
        auto_resolve: true,
        page_on: PageOn::Critical,
        depends_on: Vec::new(),
        flap: None,
    }
}

/// An incident with the given life; state follows from `acked` / `resolved`.
pub fn incident(
    id: IncidentId,
    check: &str,
    opened_at: Timestamp,
    acked: Option<(Timestamp, &str)>,
    resolved: Option<(Timestamp, &str)>,
) -> Incident {
    let state = match (acked, resolved) {
        (_, Some(_)) => IncidentState::Resolved,
        (Some(_), None) => IncidentState::Acknowledged,
        (None, None) => IncidentState::Triggered,
    };
    Incident {
        id,
        check: check.to_string(),
        summary: "HTTP 500 in 12 ms".to_string(),
        state,
        policy: "default".to_string(),
        opened_at,
        acked_at: acked.map(|a| a.0),
        acked_by: acked.map(|a| a.1.to_string()),
        resolved_at: resolved.map(|r| r.0),
        resolved_by: resolved.map(|r| r.1.to_string()),
        next_seq: 1,
        escalation: EscalationState::default(),
        fingerprint: None,
    }
}

/// Appends timeline events to an incident, numbering them.
pub struct Timeline {
    pub incident: IncidentId,
    pub events: Vec<TimelineEvent>,
}

impl Timeline {
    pub fn new(incident: IncidentId) -> Self {
        Timeline {
            incident,
            events: Vec::new(),
        }
    }

    pub fn push(&mut self, at: Timestamp, kind: EventKind, actor: &str, message: &str) {
        let seq = self.events.len() as u32 + 1;
        self.events.push(TimelineEvent {
            incident: self.incident,
            seq,
            at,
            kind,
            actor: actor.to_string(),
            message: message.to_string(),
        });
    }
}

pub fn attempt(
    incident: IncidentId,
    seq: u32,
    recipient: &str,
    notifier: &str,
    n: u32,
    at: Timestamp,
    outcome: DeliveryOutcome,
) -> PageAttempt {
    PageAttempt {
        key: Page::idempotency_key(incident, seq, recipient, notifier),
        incident,
        recipient: recipient.to_string(),
        notifier: notifier.to_string(),
        attempt: n,
        at,
        outcome,
    }
}

pub fn transition(
    check: &str,
    at: Timestamp,
    from: CheckState,
    to: CheckState,
    message: &str,
) -> CheckTransitionRecord {
    CheckTransitionRecord {
        check: check.to_string(),
        at,
        from,
        to,
        message: message.to_string(),
    }
}

/// A page to a person created at `at`, as the store lists it for reports.
pub fn page(incident: IncidentId, recipient: &str, event: PageEvent, at: Timestamp) -> ReportPage {
    let _ = incident;
    ReportPage {
        recipient: recipient.to_string(),
        event,
        created_at: at,
        to_person: true,
    }
}

pub fn silence(id: u64, pattern: &str, starts_at: Timestamp, ends_at: Timestamp) -> Silence {
    Silence {
        id,
        pattern: pattern.to_string(),
        starts_at,
        ends_at,
        message: "maintenance".to_string(),
        created_by: "alice (uid 1000)".to_string(),
    }
}

/// A year of synthetic on-call history, shaped like a real one: incidents spread over the
/// window, most acked within minutes, some never, a few still open; each with its DOWN/UP
/// transitions (and a soft failure before), and pages to two people on trigger, escalation,
/// ack and resolve.
pub struct Dataset {
    pub from: Timestamp,
    pub to: Timestamp,
    pub checks: Vec<String>,
    pub incidents: Vec<IncidentSummary>,
    pub first_acks: HashMap<IncidentId, Timestamp>,
    pub transitions: Vec<CheckTransitionRecord>,
    pub silences: Vec<Silence>,
    pub pages: Vec<ReportPage>,
    pub person_zones: BTreeMap<String, TimeZone>,
}

impl Dataset {
    /// Total count of the per-incident inputs (acks, transitions, pages).
    pub fn derived_inputs(&self) -> usize {
        self.first_acks.len() + self.transitions.len() + self.pages.len()
    }
}

const PEOPLE: [&str; 6] = ["alice", "bob", "carol", "dave", "erin", "frank"];

pub fn synthetic(incidents: usize, seed: u64) -> Dataset {
    let mut rng = fastrand::Rng::with_seed(seed);
    let to = ts("2026-11-25T00:00:00Z");
    let from = to - secs(365 * 86_400);
    let checks: Vec<String> = (0..50).map(|i| format!("service-{i:02}")).collect();
    let step = (to.as_second() - from.as_second()) / incidents.max(1) as i64;
    let mut d = Dataset {
        from,
        to,
        checks: checks.clone(),
        incidents: Vec::with_capacity(incidents),
        first_acks: HashMap::with_capacity(incidents),
        transitions: Vec::with_capacity(incidents * 3),
        silences: Vec::new(),
        pages: Vec::with_capacity(incidents * 8),
        person_zones: BTreeMap::new(),
    };
    for (i, name) in PEOPLE.iter().enumerate() {
        let zone = ["Europe/Paris", "America/New_York", "Asia/Tokyo"][i % 3];
        d.person_zones
            .insert(name.to_string(), TimeZone::get(zone).unwrap());
    }
    for i in 0..incidents {
        let id = i as u64 + 1;
        let check = &checks[rng.usize(..checks.len())];
        let opened = from + secs(i as i64 * step + rng.i64(0..step.max(1)));
        let ack = (rng.u8(..10) < 8).then(|| opened + secs(rng.i64(30..1_800)));
        let resolved =
            (i + 10 < incidents || rng.bool()).then(|| opened + secs(rng.i64(300..7_200)));
        let who = PEOPLE[rng.usize(..PEOPLE.len())];
        let inc = incident(
            id,
            check,
            opened,
            ack.map(|a| (a, who)),
            resolved.map(|r| (r, "auto")),
        );
        if let Some(at) = ack {
            d.first_acks.insert(id, at);
        }
        let soft = opened - secs(60);
        d.transitions.push(transition(
            check,
            soft,
            CheckState::Up,
            CheckState::Failing { attempt: 1 },
            "HTTP 500",
        ));
        d.transitions.push(transition(
            check,
            opened,
            CheckState::Failing { attempt: 2 },
            CheckState::Down,
            "HTTP 500",
        ));
        if let Some(at) = resolved {
            d.transitions.push(transition(
                check,
                at,
                CheckState::Down,
                CheckState::Up,
                "HTTP 200",
            ));
        }
        let other = PEOPLE[(rng.usize(..PEOPLE.len()) + 1) % PEOPLE.len()];
        d.pages.push(page(id, who, PageEvent::Triggered, opened));
        d.pages.push(page(id, other, PageEvent::Triggered, opened));
        if ack.is_none() || rng.bool() {
            d.pages
                .push(page(id, other, PageEvent::Escalated, opened + secs(900)));
        }
        if let Some(at) = ack {
            d.pages.push(page(id, who, PageEvent::Acknowledged, at));
            d.pages.push(page(id, other, PageEvent::Acknowledged, at));
        }
        if let Some(at) = resolved {
            d.pages.push(page(id, who, PageEvent::Resolved, at));
            d.pages.push(page(id, other, PageEvent::Resolved, at));
        }
        d.incidents.push(IncidentSummary::from(&inc));
    }
    for (i, check) in checks.iter().enumerate().take(10) {
        let start = from + secs(i as i64 * 30 * 86_400);
        d.silences
            .push(silence(i as u64 + 1, check, start, start + secs(4 * 3_600)));
    }
    d
}

/// One incident with `n` timeline events (pages, escalations, notes) and their attempts.
pub fn big_incident(n: usize) -> (Incident, Vec<TimelineEvent>, Vec<PageAttempt>) {
    let opened = ts("2026-11-20T13:03:07Z");
    let inc = incident(
        7,
        "website",
        opened,
        Some((opened + secs(600), "alice (uid 1000)")),
        Some((opened + secs(n as i64 * 10 + 60), "auto")),
    );
    let mut tl = Timeline::new(7);
    let mut attempts = Vec::new();
    tl.push(opened, EventKind::Triggered, "oncalld", "HTTP 500 in 12 ms");
    for i in 1..n.saturating_sub(1) {
        let at = opened + secs(i as i64 * 10);
        let who = PEOPLE[i % PEOPLE.len()];
        match i % 4 {
            0 => tl.push(at, EventKind::Escalated, "oncalld", "escalated to step 2"),
            1 => tl.push(
                at,
                EventKind::Note,
                "bob (uid 1001)",
                "todo: add a disk alert",
            ),
            _ => {
                let msg = format!("paged {who} via mail (step 1)");
                tl.push(at, EventKind::Paged, "oncalld", &msg);
                let seq = tl.events.len() as u32;
                attempts.push(attempt(
                    7,
                    seq,
                    who,
                    "mail",
                    1,
                    at + secs(1),
                    DeliveryOutcome::Delivered,
                ));
            }
        }
    }
    let end = inc.resolved_at.unwrap();
    tl.push(end, EventKind::Resolved, "auto", "HTTP 200 in 9 ms");
    (inc, tl.events, attempts)
}

/// Owns a report's inputs, so each test states only what it is about. Checks: website, db.
pub struct ReportData {
    pub from: Timestamp,
    pub to: Timestamp,
    pub incidents: Vec<Incident>,
    pub first_acks: HashMap<u64, Timestamp>,
    pub transitions: Vec<CheckTransitionRecord>,
    pub silences: Vec<Silence>,
    pub pages: Vec<ReportPage>,
    pub checks: Vec<String>,
    pub zones: BTreeMap<String, TimeZone>,
    pub unreachable: Vec<(String, Timestamp, Option<Timestamp>)>,
}

impl ReportData {
    pub fn new(from: &str, to: &str) -> ReportData {
        ReportData {
            from: ts(from),
            to: ts(to),
            incidents: vec![],
            first_acks: HashMap::new(),
            transitions: vec![],
            silences: vec![],
            pages: vec![],
            checks: vec!["website".into(), "db".into()],
            zones: BTreeMap::new(),
            unreachable: vec![],
        }
    }

    pub fn run(&self) -> Report {
        let incidents: Vec<IncidentSummary> = self.incidents.iter().map(Into::into).collect();
        oncalld::report::stats::report(&ReportInput {
            from: self.from,
            to: self.to,
            incidents: &incidents,
            first_acks: &self.first_acks,
            transitions: &self.transitions,
            silences: &self.silences,
            pages: &self.pages,
            checks: &self.checks,
            person_zones: &self.zones,
            default_zone: &TimeZone::UTC,
            unreachable: &self.unreachable,
        })
    }
}

/// The figures of one check of a report.
pub fn figures<'a>(r: &'a Report, check: &str) -> &'a Figures {
    &r.checks.iter().find(|c| c.check == check).unwrap().figures
}

/// A ten-day window for [`ReportData::new`].
pub const FROM: &str = "2026-11-01T00:00:00Z";
pub const TO: &str = "2026-11-11T00:00:00Z";
