//! The public status page (SPEC §14): a [`Snapshot`] built from the daemon's views, its
//! stored transitions and in-memory latency, then rendered once to HTML ([`html`]) and JSON.
//!
//! Pure: every function takes `now` and the zone; the daemon (daemon/status_page.rs) gathers
//! the inputs and caches the rendered result for at most 10 seconds.
//!
//! What is never shown, by construction: checks outside `[status_page] checks`, targets
//! (URLs, hosts), notes, people (who acked, who is on call), incident summaries. Last results
//! are shown with URL passwords starred and control characters replaced.

pub mod days;
pub mod html;
pub mod latency;

use std::collections::HashMap;

use jiff::Timestamp;
use jiff::tz::TimeZone;
use serde::Serialize;

use crate::api::types::{CheckView, IncidentView};
use crate::config::StatusPageConfig;
use crate::core::model::CheckTransitionRecord;
pub use days::Day;
pub use latency::{LatencyHistory, LatencyPoint};

/// Longest last-result message shown; the rest is cut.
const MAX_MESSAGE_CHARS: usize = 300;

/// What the page and `status.json` show.
#[derive(Debug, Clone, Serialize)]
pub struct Snapshot {
    pub title: String,
    pub generated_at: Timestamp,
    pub time_zone: String,
    pub banner: Banner,
    pub checks: Vec<ShownCheck>,
    /// Open incidents of shown checks, newest first.
    pub incidents: Vec<ShownIncident>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Banner {
    /// `operational`, `maintenance`, `degraded` or `outage`.
    pub level: &'static str,
    pub text: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct ShownCheck {
    pub name: String,
    /// `up`, `degraded` (failing, retrying), `down` or `new` (a heartbeat never pinged).
    pub state: &'static str,
    /// The state in words, as the page prints it.
    pub state_text: &'static str,
    /// Under an active silence (maintenance).
    pub silenced: bool,
    pub last_status: Option<String>,
    pub last_message: Option<String>,
    pub last_at: Option<Timestamp>,
    pub age_seconds: Option<i64>,
    /// Share of time not DOWN over the days with data.
    pub uptime_90d: Option<f64>,
    pub days: Vec<Day>,
    pub latency_24h: Vec<LatencyPoint>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ShownIncident {
    pub id: u64,
    pub check: String,
    pub state: &'static str,
    pub since: Timestamp,
}

/// Everything a snapshot is made from.
pub struct Input<'a> {
    pub config: &'a StatusPageConfig,
    /// Every configured check, as the socket API shows it.
    pub checks: &'a [CheckView],
    /// Transitions of the last [`days::DAYS`] days, any check, sorted by time.
    pub transitions: &'a [CheckTransitionRecord],
    pub latency: &'a HashMap<String, Vec<LatencyPoint>>,
    pub open_incidents: &'a [IncidentView],
    /// When the daemon's history starts: days before it show "no data".
    pub history_since: Timestamp,
    pub zone: &'a TimeZone,
    pub now: Timestamp,
}

pub fn snapshot(input: &Input<'_>) -> Snapshot {
    let mut by_check: HashMap<&str, Vec<&CheckTransitionRecord>> = HashMap::new();
    for t in input.transitions {
        by_check.entry(t.check.as_str()).or_default().push(t);
    }
    let calendar = days::Calendar::new(input.now, input.zone);
    let checks: Vec<ShownCheck> = input
        .checks
        .iter()
        .filter(|c| input.config.shows(&c.name))
        .map(|c| {
            let transitions = by_check.get(c.name.as_str()).map_or(&[][..], Vec::as_slice);
            shown_check(c, transitions, &calendar, input)
        })
        .collect();
    let mut incidents: Vec<ShownIncident> = input
        .open_incidents
        .iter()
        .filter(|i| input.config.shows(&i.check))
        .map(|i| ShownIncident {
            id: i.id,
            check: i.check.clone(),
            state: i.state.as_str(),
            since: i.opened_at,
        })
        .collect();
    incidents.sort_by_key(|i| std::cmp::Reverse(i.id));
    Snapshot {
        title: input.config.title.clone(),
        generated_at: input.now,
        time_zone: input.zone.iana_name().unwrap_or("UTC").to_string(),
        banner: banner(&checks),
        checks,
        incidents,
    }
}

fn shown_check(
    c: &CheckView,
    transitions: &[&CheckTransitionRecord],
    calendar: &days::Calendar,
    input: &Input<'_>,
) -> ShownCheck {
    let (state, state_text) = match c.state.as_str() {
        "DOWN" => ("down", "Down"),
        "FAILING" => ("degraded", "Degraded"),
        "NEW" => ("new", "No data yet"),
        _ => ("up", "Up"),
    };
    let days = days::days(transitions, input.history_since, calendar);
    ShownCheck {
        name: c.name.clone(),
        state,
        state_text,
        silenced: c.silenced,
        last_status: c.last_status.clone(),
        last_message: c.last_message.as_deref().map(shown_message),
        last_at: c.last_at,
        age_seconds: c.last_at.map(|at| (input.now - at).get_seconds().max(0)),
        uptime_90d: days::overall(&days),
        days,
        latency_24h: input.latency.get(&c.name).cloned().unwrap_or_default(),
    }
}

/// One line, passwords starred, control characters replaced, at most 300 characters.
fn shown_message(message: &str) -> String {
    let line = message.lines().next().unwrap_or("");
    let safe = crate::text::sanitize_line(&crate::redact::redact_urls(line)).into_owned();
    match safe.char_indices().nth(MAX_MESSAGE_CHARS) {
        Some((cut, _)) => format!("{}…", &safe[..cut]),
        None => safe,
    }
}

fn banner(checks: &[ShownCheck]) -> Banner {
    let total = checks.len();
    let down = checks
        .iter()
        .filter(|c| c.state == "down" && !c.silenced)
        .count();
    let degraded = checks
        .iter()
        .filter(|c| c.state == "degraded" && !c.silenced)
        .count();
    let silenced = checks.iter().filter(|c| c.silenced).count();
    let (level, text) = if down > 0 && down == total {
        (
            "outage",
            format!("Major outage: all {total} checks are down"),
        )
    } else if down > 0 {
        let also = if degraded > 0 {
            format!(", {degraded} degraded")
        } else {
            String::new()
        };
        let maint = if silenced > 0 {
            format!(", {silenced} under maintenance")
        } else {
            String::new()
        };
        (
            "degraded",
            format!("Partial outage: {down} of {total} checks down{also}{maint}"),
        )
    } else if degraded > 0 {
        (
            "degraded",
            format!("Degraded: {degraded} of {total} checks failing"),
        )
    } else if silenced > 0 {
        (
            "maintenance",
            format!("Maintenance: {silenced} of {total} checks under maintenance"),
        )
    } else {
        ("operational", "All systems operational".to_string())
    };
    Banner { level, text }
}

/// A snapshot rendered once, served to every request until the next refresh. The HTML is
/// rendered at once (it is what visitors load); the JSON on the first `/status.json` request.
#[derive(Debug)]
pub struct Rendered {
    /// Shared, not copied, by every response.
    pub html: axum::body::Bytes,
    snapshot: Snapshot,
    json: std::sync::OnceLock<axum::body::Bytes>,
}

impl Rendered {
    pub fn new(s: Snapshot, zone: &TimeZone) -> Self {
        Rendered {
            html: html::render(&s, zone).into(),
            snapshot: s,
            json: std::sync::OnceLock::new(),
        }
    }

    /// `status.json`: the same snapshot, serialised once.
    pub fn json(&self) -> axum::body::Bytes {
        self.json
            .get_or_init(|| {
                serde_json::to_vec(&self.snapshot)
                    .unwrap_or_else(|_| b"{}".to_vec())
                    .into()
            })
            .clone()
    }
}
