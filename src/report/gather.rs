//! Reads what a postmortem or a report needs from the store, then hands it to the pure
//! renderers ([`super::postmortem`], [`super::stats`], [`super::table`]).

use jiff::{Timestamp, ToSpan};

use crate::config::Config;
use crate::core::model::{IncidentId, PageAttempt};
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
    let transitions = store.transitions_between(Some(&incident.check), before, after)?;
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
///
/// Reads only what the figures need: incidents opened in the window (slim rows), each one's
/// first ack (one grouped query over the ack events, correct across ack timeouts), the
/// transitions in the window plus each configured check's last one before it, the silences
/// and the pages of the window. Never every event.
pub fn report(
    store: &Store,
    config: &Config,
    from: Timestamp,
    to: Timestamp,
) -> Result<stats::Report, StoreError> {
    let incidents = store.incident_summaries(from, to)?;
    let first_acks = store.first_acks(from)?;
    let mut transitions = store.report_transitions(from, to)?;
    let checks: Vec<String> = config.checks.iter().map(|c| c.name.clone()).collect();
    for name in &checks {
        if let Some(t) = store.last_transition_before(name, from)? {
            transitions.push(t);
        }
    }
    let silences = store.silences()?;
    let pages = store.report_pages(from, to)?;
    let unreachable = store.unreachable_spans(from, to)?;
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
        unreachable: &unreachable,
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
