//! Schedule lint: problems a config may legally have but that are probably wrong (SPEC §9).
//!
//! - a schedule, or a policy step, that reaches nobody at some time in the next 28 days (the
//!   first such gap is named, in the schedule's zone);
//! - a check whose policy reaches only console notifiers (its pages end in the daemon's log);
//! - a person no policy can reach (named by no step, in no schedule a step pages).
//!
//! Pure: `now` is a parameter, nothing reads the clock. Who is on call comes from the core
//! ([`on_call`]); it changes only at a few instants (a schedule's first handover, the edges of
//! overrides and period windows, a zone's offset changes), so the lint asks at those instants
//! only instead of walking the 28 days second by second. A handover from one person to the
//! next never leaves a gap, so later handovers are not needed. A step reaches nobody exactly
//! when all its targets are schedules with nobody on call (a person or a notifier is always
//! paged, as the core's `step_recipients` does), so its gaps are the common part of theirs.

use std::collections::{BTreeMap, BTreeSet};

use jiff::civil::{Date, Time};
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};

use super::types::{Config, NotifierConfig, Policy, Schedule, Step, Target};
use crate::core::oncall::{local_instant, on_call};

/// How far ahead gaps are looked for.
pub const HORIZON_DAYS: i64 = 28;

/// One step of a path into the file: a key of a table or an index of an array.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Seg {
    Key(String),
    Index(usize),
}

/// A warning before it has a line and column: where in the file, and what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// From the most specific place to look for it; see [`Finding::key`].
    pub at: Vec<Seg>,
    pub message: String,
}

impl Finding {
    fn new(at: Vec<Seg>, message: String) -> Self {
        Finding { at, message }
    }

    /// The dotted key path, as errors show it: `policies.default.steps[0]`.
    pub fn key(&self) -> String {
        let mut out = String::new();
        for seg in &self.at {
            match seg {
                Seg::Key(k) => out = super::reader::child_path(&out, k),
                Seg::Index(i) => out.push_str(&format!("[{i}]")),
            }
        }
        out
    }
}

fn key(k: &str) -> Seg {
    Seg::Key(k.to_string())
}

/// Every finding, in the order: schedules, policy steps, checks, people.
pub fn lint(config: &Config, now: Timestamp) -> Vec<Finding> {
    let horizon = SignedDuration::from_hours(24 * HORIZON_DAYS);
    let end = now.saturating_add(horizon).unwrap_or(Timestamp::MAX);
    let gaps: BTreeMap<&str, Vec<Gap>> = config
        .schedules
        .iter()
        .map(|(name, s)| (name.as_str(), gaps(config, s, now, end)))
        .collect();
    let mut out = Vec::new();
    for (name, schedule) in &config.schedules {
        if let Some(gap) = gaps.get(name.as_str()).and_then(|g| g.first()) {
            let message = format!(
                "schedule {name:?} has nobody on call {}",
                gap.describe(&schedule.time_zone, now, end)
            );
            out.push(Finding::new(vec![key("schedules"), key(name)], message));
        }
    }
    for (name, policy) in &config.policies {
        for (i, step) in policy.steps.iter().enumerate() {
            if let Some((gap, zone)) = step_gap(config, step, &gaps) {
                let at = vec![key("policies"), key(name), key("steps"), Seg::Index(i)];
                let message = format!(
                    "step {} of policy {name:?} pages nobody {} (the step is skipped then)",
                    i + 1,
                    gap.describe(zone, now, end)
                );
                out.push(Finding::new(at, message));
            }
        }
    }
    out.extend(console_only(config));
    out.extend(orphans(config));
    out
}

/// Every stretch of `[now, end)` with nobody on call in `schedule`, in order.
fn gaps(config: &Config, schedule: &Schedule, now: Timestamp, end: Timestamp) -> Vec<Gap> {
    let mut out = Vec::new();
    let mut from = None;
    for t in change_points(config, schedule, now, end) {
        match (from, on_call(schedule, &config.periods, t).is_none()) {
            (None, true) => from = Some(t),
            (Some(f), false) => {
                out.push(Gap {
                    from: f,
                    until: Some(t),
                });
                from = None;
            }
            _ => {}
        }
    }
    out.extend(from.map(|from| Gap { from, until: None }));
    out
}

/// The first stretch a step reaches nobody, and the zone to show it in (its first schedule's).
/// A person or notifier target always reaches someone; schedules leave the common part of
/// their gaps.
fn step_gap<'a>(
    config: &'a Config,
    step: &Step,
    gaps: &BTreeMap<&str, Vec<Gap>>,
) -> Option<(Gap, &'a TimeZone)> {
    let mut common: Option<Vec<Gap>> = None;
    let mut zone = None;
    for target in &step.notify {
        let Target::Schedule(name) = target else {
            return None;
        };
        zone = zone.or(config.schedules.get(name).map(|s| &s.time_zone));
        let theirs = gaps.get(name.as_str())?;
        common = Some(match common {
            None => theirs.clone(),
            Some(ours) => intersect(&ours, theirs),
        });
    }
    Some((*common?.first()?, zone?))
}

/// The stretches in both lists (each sorted and disjoint).
fn intersect(a: &[Gap], b: &[Gap]) -> Vec<Gap> {
    let until = |g: &Gap| g.until.unwrap_or(Timestamp::MAX);
    let (mut i, mut j, mut out) = (0, 0, Vec::new());
    while i < a.len() && j < b.len() {
        let from = a[i].from.max(b[j].from);
        let (ua, ub) = (until(&a[i]), until(&b[j]));
        let to = ua.min(ub);
        if from < to {
            let until = (to != Timestamp::MAX).then_some(to);
            out.push(Gap { from, until });
        }
        if ua < ub {
            i += 1;
        } else {
            j += 1;
        }
    }
    out
}

/// The instants in `[now, end)` at which who is on call in `schedules` may change, sorted.
fn change_points(
    config: &Config,
    schedule: &Schedule,
    now: Timestamp,
    end: Timestamp,
) -> Vec<Timestamp> {
    let tz = &schedule.time_zone;
    let mut points = BTreeSet::from([now, local_instant(tz, schedule.start)]);
    for o in &schedule.overrides {
        points.insert(local_instant(tz, o.from));
        points.insert(local_instant(tz, o.until));
    }
    let transitions = tz.following(now).map(|t| t.timestamp());
    points.extend(transitions.take_while(|t| *t < end));
    let period = schedule.period.as_ref().and_then(|p| config.periods.get(p));
    if let Some(period) = period {
        let mut day = tz.to_datetime(now).date().yesterday().ok();
        let last = tz.to_datetime(end).date();
        while let Some(d) = day.filter(|d| *d <= last) {
            for w in &period.windows {
                points.extend(at(tz, d, w.start));
                points.extend(at(tz, d, w.end.unwrap_or(Time::midnight())));
            }
            day = d.tomorrow().ok();
        }
    }
    points
        .into_iter()
        .filter(|t| *t >= now && *t < end)
        .collect()
}

/// The instants a local time means: both occurrences when it falls in a fall-back fold.
fn at(tz: &TimeZone, date: Date, time: Time) -> [Timestamp; 2] {
    let dt = date.to_datetime(time);
    let first = local_instant(tz, dt);
    let later = tz.to_ambiguous_timestamp(dt).later().unwrap_or(first);
    [first, later]
}

/// A stretch with nobody; `until: None` when it lasts past the horizon.
#[derive(Debug, Clone, Copy)]
struct Gap {
    from: Timestamp,
    until: Option<Timestamp>,
}

impl Gap {
    /// "from A to B (zone)"; "from now", "until at least" the horizon when it runs past it.
    fn describe(&self, tz: &TimeZone, now: Timestamp, end: Timestamp) -> String {
        let zone = tz.iana_name().unwrap_or("the schedule's zone");
        let from = if self.from == now {
            "now".to_string()
        } else {
            local(tz, self.from)
        };
        match self.until {
            Some(until) => format!("from {from} to {} ({zone})", local(tz, until)),
            None => format!(
                "from {from} until at least {} ({zone}), the end of the {HORIZON_DAYS} days \
                 checked",
                local_minute(tz, end)
            ),
        }
    }
}

/// `2026-12-05 18:00` (seconds only when there are some).
fn local(tz: &TimeZone, t: Timestamp) -> String {
    let dt = tz.to_datetime(t);
    if dt.second() == 0 && dt.subsec_nanosecond() == 0 {
        local_minute(tz, t)
    } else {
        format!("{}:{:02}", local_minute(tz, t), dt.second())
    }
}

/// `2026-12-05 18:00`, the seconds cut off.
fn local_minute(tz: &TimeZone, t: Timestamp) -> String {
    let dt = tz.to_datetime(t);
    format!("{} {:02}:{:02}", dt.date(), dt.hour(), dt.minute())
}

/// Everyone a target can ever mean: the person, or everyone in the schedule.
fn people_of<'a>(config: &'a Config, target: &'a Target) -> Vec<&'a str> {
    match target {
        Target::Person(p) => vec![p.as_str()],
        Target::Schedule(s) => config.schedules.get(s).map_or_else(Vec::new, |s| {
            let rotation = s.rotation.iter().map(String::as_str);
            rotation
                .chain(s.overrides.iter().map(|o| o.person.as_str()))
                .collect()
        }),
        Target::Notifier(_) => Vec::new(),
    }
}

/// Every notifier a policy can page through.
fn notifiers_of<'a>(config: &'a Config, policy: &'a Policy) -> BTreeSet<&'a str> {
    let mut out = BTreeSet::new();
    for target in policy.steps.iter().flat_map(|s| &s.notify) {
        if let Target::Notifier(n) = target {
            out.insert(n.as_str());
        }
        for person in people_of(config, target) {
            let methods = config.people.get(person).map(|p| p.notify.as_slice());
            out.extend(methods.unwrap_or_default().iter().map(|m| m.via.as_str()));
        }
    }
    out
}

/// A check whose policy pages only through console notifiers: nobody is woken up.
fn console_only(config: &Config) -> Vec<Finding> {
    let mut out = Vec::new();
    for (i, check) in config.checks.iter().enumerate() {
        let Some(policy) = config.policies.get(&check.policy) else {
            continue;
        };
        let via = notifiers_of(config, policy);
        let console = |n: &&str| matches!(config.notifiers.get(*n), Some(NotifierConfig::Console));
        if via.is_empty() || !via.iter().all(console) {
            continue;
        }
        let names: Vec<&str> = via.into_iter().collect();
        let message = format!(
            "check {:?}: its policy {:?} reaches only console notifiers ({}): its pages go to \
             the daemon's log and wake nobody",
            check.name,
            check.policy,
            names.join(", ")
        );
        let at = vec![key("check"), Seg::Index(i), key("policy")];
        out.push(Finding::new(at, message));
    }
    out
}

/// People that no step of any policy can page.
fn orphans(config: &Config) -> Vec<Finding> {
    let reached: BTreeSet<&str> = config
        .policies
        .values()
        .flat_map(|p| &p.steps)
        .flat_map(|s| &s.notify)
        .flat_map(|t| people_of(config, t))
        .collect();
    config
        .people
        .keys()
        .filter(|p| !reached.contains(p.as_str()))
        .map(|p| {
            let message = format!(
                "person {p:?} is reached by no policy: no step names them and no schedule a \
                 step pages has them"
            );
            Finding::new(vec![key("people"), key(p)], message)
        })
        .collect()
}
