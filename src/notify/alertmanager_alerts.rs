//! The alerts an alertmanager notifier keeps alive: what each page posts, and which alerts are
//! due again. Pure (the clock is a parameter), so the re-send rules are tested without waiting.
//!
//! - An open incident's alert is posted with `endsAt = now + 4 × resend` and posted again every
//!   `resend`: Alertmanager keeps it firing while oncalld lives, and resolves it by itself
//!   (after at most 4 × resend) if this daemon goes away for good.
//! - A resolved incident's alert is posted with `endsAt` = the time of the resolve, and posted
//!   again every `resend` for [`RESOLVED_FOR`] (a peer that was down sees it too), then dropped.
//! - Once resolved, an incident stays resolved here: a firing page retried late by the outbox
//!   posts the resolved alert.

use std::collections::BTreeMap;
use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use serde_json::{Value, json};

use crate::core::model::IncidentId;

/// How long a resolved alert is posted again.
pub const RESOLVED_FOR: Duration = Duration::from_secs(5 * 60);
/// An open alert ends this many `resend` periods after it was last posted.
pub const ENDS_AFTER_RESENDS: u32 = 4;
/// More incidents than this are posted but not re-sent (a bound on memory, far above any
/// sane number of incidents open at once).
pub const MAX_TRACKED: usize = 10_000;

/// One alert as Alertmanager's `postableAlert`, without its end.
#[derive(Debug, Clone, PartialEq)]
pub struct Alert {
    pub labels: BTreeMap<String, String>,
    pub annotations: BTreeMap<String, String>,
    pub starts_at: Timestamp,
}

impl Alert {
    /// The JSON object posted (one item of the array `POST /api/v2/alerts` takes).
    pub fn body(&self, ends_at: Timestamp) -> Value {
        json!({
            "labels": self.labels,
            "annotations": self.annotations,
            "startsAt": rfc3339(self.starts_at),
            "endsAt": rfc3339(ends_at),
        })
    }
}

/// Millisecond RFC 3339 in UTC, as Alertmanager prints them.
pub fn rfc3339(t: Timestamp) -> String {
    t.strftime("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

#[derive(Debug, Clone)]
struct Tracked {
    alert: Alert,
    resolved_at: Option<Timestamp>,
    last_sent: Timestamp,
}

impl Tracked {
    fn body(&self, now: Timestamp, resend: Duration) -> Value {
        let ends_at = match self.resolved_at {
            Some(at) => at,
            None => later(now, resend * ENDS_AFTER_RESENDS),
        };
        self.alert.body(ends_at)
    }
}

fn later(t: Timestamp, d: Duration) -> Timestamp {
    let d = SignedDuration::try_from(d).unwrap_or(SignedDuration::MAX);
    t.checked_add(d).unwrap_or(Timestamp::MAX)
}

fn elapsed(since: Timestamp, now: Timestamp) -> Duration {
    Duration::try_from(now.duration_since(since)).unwrap_or(Duration::ZERO)
}

/// Every incident's alert this notifier keeps alive, by incident.
#[derive(Debug)]
pub struct Tracker {
    resend: Duration,
    by_incident: BTreeMap<IncidentId, Tracked>,
}

impl Tracker {
    pub fn new(resend: Duration) -> Self {
        Tracker {
            resend,
            by_incident: BTreeMap::new(),
        }
    }

    /// A page of `incident` (`resolved`: the Resolved page) at `now`: remembers the alert and
    /// returns the body to post now.
    pub fn record(
        &mut self,
        incident: IncidentId,
        alert: Alert,
        resolved: bool,
        now: Timestamp,
    ) -> Value {
        let fresh = Tracked {
            alert: alert.clone(),
            resolved_at: resolved.then_some(now),
            last_sent: now,
        };
        if !self.by_incident.contains_key(&incident) && self.by_incident.len() >= MAX_TRACKED {
            return fresh.body(now, self.resend);
        }
        let entry = self.by_incident.entry(incident).or_insert(fresh);
        if entry.resolved_at.is_none() {
            entry.alert = alert;
            if resolved {
                entry.resolved_at = Some(now);
            }
        }
        entry.last_sent = now;
        entry.body(now, self.resend)
    }

    /// The alert of an incident still open when the daemon started (its latest page, from the
    /// store): kept alive from now on, and due at once (its last post is as old as the daemon's
    /// downtime, so Alertmanager may be about to time it out). Nothing to post now.
    pub fn restore(&mut self, incident: IncidentId, alert: Alert, now: Timestamp) {
        if self.by_incident.contains_key(&incident) || self.by_incident.len() >= MAX_TRACKED {
            return;
        }
        let last_sent = SignedDuration::try_from(self.resend)
            .ok()
            .and_then(|d| now.checked_sub(d).ok())
            .unwrap_or(Timestamp::MIN);
        self.by_incident.insert(
            incident,
            Tracked {
                alert,
                resolved_at: None,
                last_sent,
            },
        );
    }

    /// The alerts due to be posted again at `now` (marked as sent); resolved alerts older than
    /// [`RESOLVED_FOR`] are forgotten.
    pub fn due(&mut self, now: Timestamp) -> Vec<Value> {
        self.by_incident.retain(|_, t| {
            t.resolved_at
                .is_none_or(|at| elapsed(at, now) < RESOLVED_FOR)
        });
        let resend = self.resend;
        self.by_incident
            .values_mut()
            .filter(|t| elapsed(t.last_sent, now) >= resend)
            .map(|t| {
                t.last_sent = now;
                t.body(now, resend)
            })
            .collect()
    }

    /// A reload may change `resend`; the alerts kept are the same incidents.
    pub fn set_resend(&mut self, resend: Duration) {
        self.resend = resend;
    }

    pub fn len(&self) -> usize {
        self.by_incident.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_incident.is_empty()
    }
}
