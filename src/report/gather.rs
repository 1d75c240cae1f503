//! Reads what a postmortem or a report needs from the store, then hands it to the pure
//! renderers ([`super::postmortem`], [`super::stats`], [`super::table`]).

use jiff::{Timestamp, ToSpan};

use crate::config::Config;
use crate::core::model::{IncidentId, Page, PageAttempt};
use crate::report::{postmortem, stats, table};
use crate::store::{Store, StoreError, TimelineEntry};

/// The Markdown draft of incident `id`, or `None` when there is no such incident.
pub fn postmortem(
    store: &Store,
    config: &Config,
    id: IncidentId,
    now: Timestamp,
) -> Result<Option<String>, StoreError> {
    let Some(incident) = store.incident(id)? else {
        return Ok(None);
    };
    let mut events = Vec::new();
    let mut attempts: Vec<PageAttempt> = Vec::new();
    for entry in store.timeline(id)? {
        match entry {
            TimelineEntry::Event(e) => events.push(e),
            TimelineEntry::Attempt(a) => attempts.push(a),
        }
    }
    // What the probe saw around the incident: an hour before it opened until an hour after
    // it ended (or now).
    let before = incident
        .opened_at
        .checked_sub(1.hour())
        .unwrap_or(incident.opened_at);
    let after = incident
        .resolved_at
        .unwrap_or(now)
        .checked_add(1.hour())
        .unwrap_or(now);
    let transitions: Vec<_> = store
        .transitions(Some(&incident.check), Some(before))?
        .into_iter()
        .filter(|t| t.at <= after)
        .collect();
    let input = postmortem::PostmortemInput {
        incident: &incident,
        events: &events,
        attempts: &attempts,
        transitions: &transitions,
        check: config.check(&incident.check),
        zone: &config.daemon.time_zone,
        now,
    };
    Ok(Some(postmortem::render(&input)))
}

/// The report for `[from, to)`, as computed by [`stats::report`].
pub fn report(
    store: &Store,
    config: &Config,
    from: Timestamp,
    to: Timestamp,
) -> Result<stats::Report, StoreError> {
    let incidents = store.incidents_in(from, to)?;
    let first_acks = stats::first_acks(&store.acks_in(from, to)?);
    let mut transitions = store.transitions(None, Some(from))?;
    let mut checks: Vec<String> = config.checks.iter().map(|c| c.name.clone()).collect();
    for name in &checks {
        if let Some(t) = store.last_transition_before(name, from)? {
            transitions.push(t);
        }
    }
    for t in &transitions {
        if !checks.contains(&t.check) {
            checks.push(t.check.clone());
        }
    }
    let silences = store.silences()?;
    let pages: Vec<Page> = store
        .pages_in(from, to)?
        .into_iter()
        .map(|p| Page {
            key: String::new(),
            incident: p.incident,
            seq: 0,
            event: p.event,
            recipient: p.recipient,
            notifier: p.notifier,
            to: p.to,
            step: 0,
            check: p.check,
            summary: String::new(),
            incident_state: crate::core::model::IncidentState::Triggered,
            opened_at: p.created_at,
            also_paged: Vec::new(),
            text: String::new(),
            created_at: p.created_at,
        })
        .collect();
    let zones = stats::person_zones(config);
    let input = stats::ReportInput {
        from,
        to,
        incidents: &incidents,
        first_acks: &first_acks,
        transitions: &transitions,
        silences: &silences,
        pages: &pages,
        checks: &checks,
        person_zones: &zones,
        default_zone: &config.daemon.time_zone,
    };
    Ok(stats::report(&input))
}

/// The report as the API sends it: the figures, plus `"text"`, the human tables.
pub fn report_json(
    store: &Store,
    config: &Config,
    from: Timestamp,
    to: Timestamp,
) -> Result<serde_json::Value, StoreError> {
    let r = report(store, config, from, to)?;
    let text = table::render(&r, &config.daemon.time_zone);
    let mut value = serde_json::to_value(&r).unwrap_or(serde_json::Value::Null);
    if let serde_json::Value::Object(map) = &mut value {
        map.insert("text".into(), serde_json::Value::String(text));
    }
    Ok(value)
}
