//! Incidents from a source's alerts (SPEC §11 "In": Alertmanager).
//!
//! # Rules
//!
//! - An alert is keyed by `(source, fingerprint)`. A firing alert opens an incident unless one
//!   is open for that key: check `<source>/<alertname>` (what silences match), summary
//!   `annotations.summary`, else `annotations.description`, else the alertname with its labels;
//!   the policy is the first route of the source whose labels all match, else its default. The
//!   `triggered` event carries the summary, the labels (the target) and the `generatorURL`.
//! - A resolved alert resolves the open incident of its key (actor `auto`); a resolved alert
//!   with no open incident, and a firing one with an open incident, change nothing (repeats).
//! - An alert of a source the config does not have changes nothing (the API refuses it first).
//! - Reload: an alert incident whose source is gone is resolved (`oncalld`, "source removed");
//!   one whose policy is gone follows the source's default policy.
//! - Ack, escalate, ack timeout, notes and manual resolve work as for checks.

use std::collections::BTreeMap;

use jiff::Timestamp;

use super::paging::{DAEMON, record};
use super::{Action, Engine};
use crate::core::model::{EventKind, Incident, PageEvent};
use crate::redact::redact_urls;

/// One alert of a source's notification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Alert {
    pub fingerprint: String,
    /// `labels.alertname` (empty when the alert has none).
    pub alertname: String,
    /// `status == "firing"`; anything else is resolved.
    pub firing: bool,
    pub labels: BTreeMap<String, String>,
    pub summary: Option<String>,
    pub description: Option<String>,
    pub generator_url: Option<String>,
}

impl Alert {
    /// `{k="v", ...}`: the incident's target.
    pub fn target(&self) -> String {
        let pairs: Vec<String> = self
            .labels
            .iter()
            .map(|(k, v)| format!("{k}={v:?}"))
            .collect();
        format!("{{{}}}", pairs.join(", "))
    }

    /// `annotations.summary`, else `description`, else the alertname with its labels.
    pub fn summary_line(&self) -> String {
        match pick(self.summary.as_deref()).or_else(|| pick(self.description.as_deref())) {
            Some(s) => s.to_string(),
            None => format!("{} {}", self.alertname, self.target()),
        }
    }
}

fn pick(s: Option<&str>) -> Option<&str> {
    s.map(str::trim).filter(|s| !s.is_empty())
}

/// The source of an alert incident: the check name's head (source names hold no `/`).
pub(super) fn source_of(inc: &Incident) -> Option<(&str, &str)> {
    let fp = inc.fingerprint.as_deref()?;
    let (source, _) = inc.check.split_once('/')?;
    Some((source, fp))
}

impl Engine {
    /// Every alert of one notification, in order.
    pub(super) fn alerts(
        &mut self,
        source: &str,
        alerts: Vec<Alert>,
        now: Timestamp,
        out: &mut Vec<Action>,
    ) {
        if !self.config.sources.contains_key(source) {
            return;
        }
        for alert in alerts {
            let key = (source.to_string(), alert.fingerprint.clone());
            match (self.by_alert.get(&key).copied(), alert.firing) {
                (None, true) => self.open_alert(source, &alert, now, out),
                (Some(id), false) => self.resolve(id, "auto", "alert resolved", now, out),
                _ => {}
            }
        }
    }

    /// Whether every alert of a notification is a repeat (see [`Engine::changes_nothing`]).
    pub(super) fn alerts_change_nothing(&self, source: &str, alerts: &[Alert]) -> bool {
        if !self.config.sources.contains_key(source) {
            return true;
        }
        let mut key = (source.to_string(), String::new());
        alerts.iter().all(|a| {
            key.1.clone_from(&a.fingerprint);
            self.by_alert.contains_key(&key) == a.firing
        })
    }

    fn open_alert(&mut self, source: &str, alert: &Alert, now: Timestamp, out: &mut Vec<Action>) {
        let Some(config) = self.config.sources.get(source) else {
            return;
        };
        let policy = config.policy_for(&alert.labels).to_string();
        // Outside text, stored as shown: a password in a URL is starred here, as probe
        // messages are where they are made (SPEC §9).
        let summary = redact_urls(&alert.summary_line()).into_owned();
        let check = format!("{source}/{}", alert.alertname);
        let mut inc = self.new_incident(check, summary.clone(), policy, now);
        inc.fingerprint = Some(alert.fingerprint.clone());
        let mut details = format!("{summary}\ntarget: {}", alert.target());
        if let Some(url) = alert.generator_url.as_deref().filter(|u| !u.is_empty()) {
            details.push_str(&format!("\ngeneratorURL: {url}"));
        }
        let details = redact_urls(&details).into_owned();
        record(&mut inc, EventKind::Triggered, DAEMON, details, now, out);
        self.page_or_hold(&mut inc, PageEvent::Triggered, now, out);
        self.save(inc, out);
    }

    /// On reload: whether an alert incident's source is kept, with its policy fixed up.
    pub(super) fn reload_alert(&self, inc: &mut Incident) -> bool {
        let Some((source, _)) = source_of(inc) else {
            return false;
        };
        let Some(config) = self.config.sources.get(source) else {
            return false;
        };
        if !self.config.policies.contains_key(&inc.policy) {
            inc.policy.clone_from(&config.policy);
        }
        true
    }
}
