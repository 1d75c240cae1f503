//! `[periods.NAME]`, `[schedules.NAME]` and `[policies.NAME]`: who is paged, when.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use jiff::tz::TimeZone;

use super::limits;
use super::notifiers::named;
use super::reader::{Node, Sink};
use super::types::{Override, Period, Policy, Schedule, Step, Target};
use super::values;
use super::window::parse_window;

/// Every name declared in the file, valid or not, for cross-references: a reference to a
/// section that has its own errors is not reported a second time as unknown.
#[derive(Debug, Default)]
pub struct Declared {
    /// Notifier name -> its `type` when it is a string.
    pub notifiers: BTreeMap<String, Option<String>>,
    /// Notifiers whose service needs a recipient (telegram, pushover, matrix) and that have
    /// no `to` of their own: a person's contact must give one, a `notifier:` target cannot.
    pub needs_to: BTreeSet<String>,
    pub people: BTreeSet<String>,
    pub periods: BTreeSet<String>,
    pub schedules: BTreeSet<String>,
    pub policies: BTreeSet<String>,
}

/// A string naming something declared in `set`, reported as `unknown {what}` otherwise.
fn reference(
    node: &Node<'_>,
    sink: &mut Sink,
    what: &str,
    set: &BTreeSet<String>,
) -> Option<String> {
    let name = values::name(node, sink, what)?;
    if set.contains(&name) {
        Some(name)
    } else {
        node.error(sink, format!("unknown {what} {name:?}"));
        None
    }
}

pub fn periods(node: Option<&Node<'_>>, sink: &mut Sink) -> BTreeMap<String, Period> {
    let mut out = BTreeMap::new();
    for (name, value) in named(node, "period", sink) {
        let Some(mut t) = value.table(sink) else {
            continue;
        };
        let windows = t.required(sink, "windows").and_then(|n| {
            let items = n.array(sink)?;
            if items.is_empty() {
                n.error(sink, "must list at least one window");
                return None;
            }
            let parsed: Vec<_> = items
                .iter()
                .map(|i| {
                    let s = i.str(sink)?;
                    parse_window(s).map_err(|e| i.error(sink, e)).ok()
                })
                .collect();
            parsed.into_iter().collect::<Option<Vec<_>>>()
        });
        t.finish(sink);
        if let Some(windows) = windows {
            out.insert(name, Period { windows });
        }
    }
    out
}

pub fn schedules(
    node: Option<&Node<'_>>,
    default_zone: &TimeZone,
    known: &Declared,
    sink: &mut Sink,
) -> BTreeMap<String, Schedule> {
    let mut out = BTreeMap::new();
    for (name, value) in named(node, "schedule", sink) {
        let Some(mut t) = value.table(sink) else {
            continue;
        };
        let time_zone = match t.get("time_zone") {
            None => Some(default_zone.clone()),
            Some(n) => values::time_zone(&n, sink),
        };
        let rotation = t
            .required(sink, "rotation")
            .and_then(|n| rotation(&n, known, sink));
        let shift = t
            .required(sink, "shift")
            .and_then(|n| n.duration_in(sink, limits::SHIFT));
        let start = t
            .required(sink, "start")
            .and_then(|n| values::schedule_datetime(&n, sink));
        let period = match t.get("period") {
            None => Some(None),
            Some(n) => reference(&n, sink, "period", &known.periods).map(Some),
        };
        let overrides = match t.get("overrides") {
            None => Some(Vec::new()),
            Some(n) => overrides(&n, known, sink),
        };
        t.finish(sink);
        let (
            Some(time_zone),
            Some(rotation),
            Some(shift),
            Some(start),
            Some(period),
            Some(overrides),
        ) = (time_zone, rotation, shift, start, period, overrides)
        else {
            continue;
        };
        let schedule = Schedule {
            time_zone,
            rotation,
            shift,
            start,
            period,
            overrides,
        };
        out.insert(name, schedule);
    }
    out
}

/// People in hand-over order; the same person may appear more than once.
fn rotation(node: &Node<'_>, known: &Declared, sink: &mut Sink) -> Option<Vec<String>> {
    let items = node.array(sink)?;
    if items.is_empty() {
        node.error(sink, "must name at least one person");
        return None;
    }
    let names: Vec<_> = items
        .iter()
        .map(|i| reference(i, sink, "person", &known.people))
        .collect();
    names.into_iter().collect()
}

fn overrides(node: &Node<'_>, known: &Declared, sink: &mut Sink) -> Option<Vec<Override>> {
    let items = node.array(sink)?;
    let parsed: Vec<_> = items
        .iter()
        .map(|item| {
            let mut t = item.table(sink)?;
            let person = t
                .required(sink, "person")
                .and_then(|n| reference(&n, sink, "person", &known.people));
            let from = t
                .required(sink, "from")
                .and_then(|n| values::schedule_datetime(&n, sink));
            let until_node = t.required(sink, "until");
            let until = until_node
                .as_ref()
                .and_then(|n| values::schedule_datetime(n, sink));
            t.finish(sink);
            let (person, from, until) = (person?, from?, until?);
            if from >= until {
                if let Some(n) = &until_node {
                    n.error(sink, format!("must be after `from` ({from})"));
                }
                return None;
            }
            Some(Override {
                person,
                from,
                until,
            })
        })
        .collect();
    parsed.into_iter().collect()
}

pub fn policies(
    node: Option<&Node<'_>>,
    known: &Declared,
    sink: &mut Sink,
) -> BTreeMap<String, Policy> {
    let mut out = BTreeMap::new();
    for (name, value) in named(node, "policy", sink) {
        let Some(mut t) = value.table(sink) else {
            continue;
        };
        let repeat = match t.get("repeat") {
            None => Some(0),
            Some(n) => n
                .int(sink, 0, limits::MAX_COUNT)
                .and_then(|r| u32::try_from(r).ok()),
        };
        let ack_timeout = match t.get("ack_timeout") {
            None => Some(None),
            Some(n) => n.duration_in(sink, limits::ESCALATION).map(Some),
        };
        let group_wait = match t.get("group_wait") {
            None => Some(None),
            Some(n) => n.duration_in(sink, limits::GROUP_WAIT).map(Some),
        };
        let steps = t.required(sink, "steps").and_then(|n| {
            let items = n.array(sink)?;
            if items.is_empty() {
                n.error(sink, "must have at least one step");
                return None;
            }
            let parsed: Vec<_> = items.iter().map(|i| step(i, known, sink)).collect();
            parsed.into_iter().collect::<Option<Vec<_>>>()
        });
        t.finish(sink);
        let (Some(repeat), Some(ack_timeout), Some(steps), Some(group_wait)) =
            (repeat, ack_timeout, steps, group_wait)
        else {
            continue;
        };
        out.insert(
            name,
            Policy {
                repeat,
                ack_timeout,
                steps,
                group_wait,
            },
        );
    }
    out
}

fn step(node: &Node<'_>, known: &Declared, sink: &mut Sink) -> Option<Step> {
    let mut t = node.table(sink)?;
    let notify = t.required(sink, "notify").and_then(|n| {
        let items = n.array(sink)?;
        if items.is_empty() {
            n.error(sink, "must name at least one target");
            return None;
        }
        let targets: Vec<_> = items.iter().map(|i| target(i, known, sink)).collect();
        targets.into_iter().collect::<Option<Vec<_>>>()
    });
    let escalate_after = match t.get("escalate_after") {
        None => Some(Duration::from_secs(15 * 60)),
        Some(n) => n.duration_in(sink, limits::ESCALATION),
    };
    t.finish(sink);
    Some(Step {
        notify: notify?,
        escalate_after: escalate_after?,
    })
}

fn target(node: &Node<'_>, known: &Declared, sink: &mut Sink) -> Option<Target> {
    let s = node.str(sink)?;
    let target = match values::target(s) {
        Ok(t) => t,
        Err(e) => {
            node.error(sink, e);
            return None;
        }
    };
    let exists = match &target {
        Target::Schedule(n) => known.schedules.contains(n),
        Target::Person(n) => known.people.contains(n),
        Target::Notifier(n) => known.notifiers.contains_key(n),
    };
    if !exists {
        let (kind, name) = s.split_once(':').unwrap_or(("", s));
        node.error(sink, format!("unknown {kind} {name:?}"));
        return None;
    }
    if let Target::Notifier(n) = &target {
        if known.needs_to.contains(n) {
            let msg = format!(
                "notifier {n:?} needs a recipient and has no `to` of its own: set `to` on \
                 [notifiers.{n}], or page a person who has one"
            );
            node.error(sink, msg);
            return None;
        }
    }
    Some(target)
}
