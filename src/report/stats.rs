//! The figures of an on-call report over a window (SPEC §8): per check and in total the
//! incidents, MTTA, MTTR and availability; per person the pages and night pages.
//!
//! Definitions (also printed under the table, see [`super::table::DEFINITIONS`]):
//!
//! - An incident counts in a window when it was *opened* in `[from, to)`.
//! - MTTA: time from trigger to the *first* acknowledgement, over the incidents that were
//!   acknowledged. Incidents never acknowledged are counted apart (`never_acked`), not dropped.
//! - MTTR: time from trigger to resolution, over the incidents that are resolved.
//! - Percentiles use the nearest-rank method: the p-th percentile of n sorted values is the
//!   value at 1-based rank `ceil(p / 100 * n)`. It is always an observed value; the median is
//!   the 50th percentile, so for an even count it is the lower of the two middle values.
//! - Availability: the share of the window the check was not DOWN (UP and FAILING both count as
//!   available). DOWN time during an active silence still counts as unavailable; it is shown
//!   apart as `silenced_down_seconds`. The total is the mean over the checks.
//! - Pages: one page is one message to one person through one notifier. Test pages and pages to
//!   `notifier:` targets (no person) are not counted. Night pages are those created between
//!   22:00 and 07:00 local time in the person's zone.

use std::collections::{BTreeMap, HashMap};

use jiff::Timestamp;
use jiff::tz::TimeZone;
use serde::{Deserialize, Serialize};

use super::{NameMap, zone_name};
use crate::config::Config;
use crate::core::model::{
    CheckTransitionRecord, EventKind, IncidentId, PageEvent, Silence, TimelineEvent,
};
use crate::store::reports::{IncidentSummary, ReportPage};

/// What a report is computed from, as the store returns it.
pub struct ReportInput<'a> {
    pub from: Timestamp,
    pub to: Timestamp,
    /// Incidents opened in the window (any others are ignored); `IncidentSummary::from` an
    /// `Incident` when you hold whole ones.
    pub incidents: &'a [IncidentSummary],
    /// Each incident's first acknowledgement: [`first_acks`] of the events, or
    /// [`crate::store::Store::first_acks`] (SQL `MIN(at) ... GROUP BY incident`). An incident
    /// missing here falls back to its `acked_at`.
    pub first_acks: &'a HashMap<IncidentId, Timestamp>,
    /// Transitions in the window, plus the last one before `from` of each check, so the state
    /// at `from` is known. Any order.
    pub transitions: &'a [CheckTransitionRecord],
    pub silences: &'a [Silence],
    /// Pages created in the window, as [`crate::store::Store::report_pages`] returns them.
    pub pages: &'a [ReportPage],
    /// The configured checks, in config order; checks seen only in the data follow, sorted.
    pub checks: &'a [String],
    /// Each person's zone (see [`person_zones`]); everyone here is listed, paged or not.
    pub person_zones: &'a BTreeMap<String, TimeZone>,
    /// The zone of recipients missing from `person_zones` (the daemon's zone).
    pub default_zone: &'a TimeZone,
    /// Spans during which a check's incident was held as unreachable (SPEC §12): check,
    /// start, end (`None`: still held). From [`crate::store::Store::unreachable_spans`].
    pub unreachable: &'a [(String, Timestamp, Option<Timestamp>)],
}

/// A whole report; the JSON of `oncalld report --json` and `GET /v1/report`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    pub from: Timestamp,
    pub to: Timestamp,
    pub window_seconds: f64,
    pub checks: Vec<CheckReport>,
    pub total: Figures,
    pub people: Vec<PersonReport>,
}

/// One check's figures.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckReport {
    pub check: String,
    #[serde(flatten)]
    pub figures: Figures,
}

/// Figures of one check, or of all checks together.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Figures {
    /// Opened in the window.
    pub incidents: u64,
    pub acked: u64,
    /// Never acknowledged (resolved without an ack, or still waiting for one).
    pub never_acked: u64,
    pub resolved: u64,
    pub still_open: u64,
    /// Trigger to first ack, over acked incidents.
    pub mtta: DurationStats,
    /// Trigger to resolve, over resolved incidents.
    pub mttr: DurationStats,
    pub down_seconds: f64,
    /// The part of `down_seconds` during an active silence (still counted as unavailable).
    pub silenced_down_seconds: f64,
    /// The part of `down_seconds` while the check's incident was unreachable (a `depends_on`
    /// parent not UP; still counted as unavailable).
    #[serde(default)]
    pub unreachable_down_seconds: f64,
    /// 0 to 100; `None` for an empty window or when there are no checks.
    pub availability_percent: Option<f64>,
}

/// Mean, median and p90 of some durations, in seconds; `None` when there are none.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DurationStats {
    pub count: u64,
    pub mean_seconds: Option<f64>,
    pub median_seconds: Option<f64>,
    pub p90_seconds: Option<f64>,
}

/// One person's pages.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PersonReport {
    pub person: String,
    /// The zone night pages were judged in.
    pub zone: String,
    pub pages: u64,
    /// Created between 22:00 and 07:00 in `zone`.
    pub night_pages: u64,
}

/// The p-th percentile of `sorted` (ascending) by nearest rank: the value at 1-based rank
/// `ceil(p / 100 * n)`, at least rank 1. `None` for no values.
pub fn nearest_rank(sorted: &[i64], percent: u32) -> Option<i64> {
    if sorted.is_empty() {
        return None;
    }
    let n = sorted.len();
    let rank = (percent as usize * n).div_ceil(100).clamp(1, n);
    sorted.get(rank - 1).copied()
}

impl DurationStats {
    /// From durations in milliseconds (any order).
    pub fn from_millis(mut values: Vec<i64>) -> DurationStats {
        values.sort_unstable();
        let secs = |ms: i64| ms as f64 / 1000.0;
        let count = values.len() as u64;
        let mean = (count > 0).then(|| {
            let sum: i128 = values.iter().map(|&v| i128::from(v)).sum();
            sum as f64 / count as f64 / 1000.0
        });
        DurationStats {
            count,
            mean_seconds: mean,
            median_seconds: nearest_rank(&values, 50).map(secs),
            p90_seconds: nearest_rank(&values, 90).map(secs),
        }
    }
}

/// The first acknowledgement of each incident, from timeline events (a re-ack after an ack
/// timeout overwrites `Incident::acked_at`, so MTTA reads the events).
pub fn first_acks(events: &[TimelineEvent]) -> HashMap<IncidentId, Timestamp> {
    let mut acks: HashMap<IncidentId, Timestamp> = HashMap::new();
    for e in events.iter().filter(|e| e.kind == EventKind::Acknowledged) {
        acks.entry(e.incident)
            .and_modify(|at| *at = (*at).min(e.at))
            .or_insert(e.at);
    }
    acks
}

/// Each person's zone: that of the first schedule (by name) whose rotation or overrides name
/// them, else the daemon's zone. Night pages are judged in it.
pub fn person_zones(config: &Config) -> BTreeMap<String, TimeZone> {
    let mut zones = BTreeMap::new();
    for name in config.people.keys() {
        let schedule = config.schedules.values().find(|s| {
            s.rotation.iter().any(|p| p == name) || s.overrides.iter().any(|o| &o.person == name)
        });
        let zone = schedule.map_or(&config.daemon.time_zone, |s| &s.time_zone);
        zones.insert(name.clone(), zone.clone());
    }
    zones
}

/// Incident counts and durations of one check while they are being gathered.
#[derive(Default)]
struct Tally {
    figures: Figures,
    to_ack: Vec<i64>,
    to_resolve: Vec<i64>,
}

impl Tally {
    fn add(&mut self, inc: &IncidentSummary, first_ack: Option<Timestamp>) {
        let f = &mut self.figures;
        f.incidents += 1;
        match first_ack {
            Some(at) => {
                f.acked += 1;
                self.to_ack.push(millis_between(inc.opened_at, at));
            }
            None => f.never_acked += 1,
        }
        match inc.resolved_at {
            Some(at) if !inc.state.is_open() => {
                f.resolved += 1;
                self.to_resolve.push(millis_between(inc.opened_at, at));
            }
            _ => f.still_open += 1,
        }
    }

    fn finish(mut self) -> Figures {
        self.figures.mtta = DurationStats::from_millis(self.to_ack);
        self.figures.mttr = DurationStats::from_millis(self.to_resolve);
        self.figures
    }
}

fn millis_between(start: Timestamp, end: Timestamp) -> i64 {
    (end.as_millisecond() - start.as_millisecond()).max(0)
}

/// Computes the report. Pure: the same input gives the same report.
pub fn report(input: &ReportInput) -> Report {
    let (names, index) = check_names(input);
    let (from, to) = (input.from, input.to);

    let mut tallies: Vec<Tally> = names.iter().map(|_| Tally::default()).collect();
    let mut total = Tally::default();
    for inc in input.incidents {
        if inc.opened_at < from || inc.opened_at >= to {
            continue;
        }
        let ack = input.first_acks.get(&inc.id).copied().or(inc.acked_at);
        if let Some(&i) = index.get(inc.check.as_str()) {
            tallies[i].add(inc, ack);
        }
        total.add(inc, ack);
    }

    let downtime = super::availability::per_check(input, &names, &index);
    let window_ms = to.as_millisecond() - from.as_millisecond();
    let mut checks = Vec::with_capacity(names.len());
    for ((name, tally), (down, silenced, unreachable)) in names.iter().zip(tallies).zip(&downtime) {
        let mut figures = tally.finish();
        set_availability(&mut figures, *down, *silenced, window_ms);
        figures.unreachable_down_seconds = *unreachable as f64 / 1000.0;
        checks.push(CheckReport {
            check: name.to_string(),
            figures,
        });
    }
    let mut total = total.finish();
    let down: i64 = downtime.iter().map(|d| d.0).sum();
    let silenced: i64 = downtime.iter().map(|d| d.1).sum();
    set_availability(&mut total, down, silenced, window_ms * names.len() as i64);
    total.unreachable_down_seconds = downtime.iter().map(|d| d.2).sum::<i64>() as f64 / 1000.0;
    Report {
        from,
        to,
        window_seconds: window_ms.max(0) as f64 / 1000.0,
        checks,
        total,
        people: people(input),
    }
}

fn set_availability(f: &mut Figures, down_ms: i64, silenced_ms: i64, span_ms: i64) {
    f.down_seconds = down_ms as f64 / 1000.0;
    f.silenced_down_seconds = silenced_ms as f64 / 1000.0;
    f.availability_percent = (span_ms > 0).then(|| 100.0 * (1.0 - down_ms as f64 / span_ms as f64));
}

/// Configured checks in order, then any other check named by the data, sorted; with an
/// index from name to position.
fn check_names<'a>(input: &ReportInput<'a>) -> (Vec<&'a str>, NameMap<&'a str, usize>) {
    let mut names: Vec<&str> = input.checks.iter().map(String::as_str).collect();
    let mut index: NameMap<&str, usize> = NameMap::default();
    for (i, name) in names.iter().enumerate() {
        index.entry(name).or_insert(i);
    }
    let mut extra: Vec<&str> = Vec::new();
    let opened_in = |i: &&IncidentSummary| i.opened_at >= input.from && i.opened_at < input.to;
    let seen = input
        .incidents
        .iter()
        .filter(opened_in)
        .map(|i| i.check.as_str())
        .chain(input.transitions.iter().map(|t| t.check.as_str()));
    for name in seen {
        if !index.contains_key(name) {
            index.insert(name, usize::MAX);
            extra.push(name);
        }
    }
    extra.sort_unstable();
    for name in extra {
        index.insert(name, names.len());
        names.push(name);
    }
    (names, index)
}

/// One person's counts while pages are being read.
struct PersonTally<'a> {
    name: &'a str,
    zone: &'a TimeZone,
    pages: u64,
    night_pages: u64,
}

/// Pages and night pages per person, everyone in `person_zones` listed, sorted by name.
fn people(input: &ReportInput) -> Vec<PersonReport> {
    let mut tallies: Vec<PersonTally> = input
        .person_zones
        .iter()
        .map(|(name, zone)| PersonTally {
            name,
            zone,
            pages: 0,
            night_pages: 0,
        })
        .collect();
    let mut index: NameMap<&str, usize> = tallies
        .iter()
        .enumerate()
        .map(|(i, t)| (t.name, i))
        .collect();
    for p in input.pages {
        let counted = p.event != PageEvent::Test && p.to_person;
        if !counted || p.created_at < input.from || p.created_at >= input.to {
            continue;
        }
        let i = *index.entry(p.recipient.as_str()).or_insert_with(|| {
            tallies.push(PersonTally {
                name: &p.recipient,
                zone: input.default_zone,
                pages: 0,
                night_pages: 0,
            });
            tallies.len() - 1
        });
        let Some(tally) = tallies.get_mut(i) else {
            continue;
        };
        let hour = tally.zone.to_datetime(p.created_at).hour();
        tally.pages += 1;
        if !(7..22).contains(&hour) {
            tally.night_pages += 1;
        }
    }
    tallies.sort_by(|a, b| a.name.cmp(b.name));
    tallies
        .into_iter()
        .map(|t| PersonReport {
            person: t.name.to_string(),
            zone: zone_name(t.zone, input.to),
            pages: t.pages,
            night_pages: t.night_pages,
        })
        .collect()
}
