//! The `## Timeline` section of a postmortem: events, page attempts and the check's run-up
//! transitions merged into one time-ordered list, each line time-stamped in the zone.

use std::fmt::Write as _;

use jiff::Timestamp;
use jiff::civil::Date;
use jiff::tz::TimeZone;

use super::postmortem::PostmortemInput;
use super::{human_between, one_line, zone_name};
use crate::core::model::{
    CheckTransitionRecord, DeliveryOutcome, EventKind, PageAttempt, TimelineEvent,
};

/// One line of the merged timeline.
enum Item<'a> {
    /// A soft failure or state change before the trigger.
    Transition(&'a CheckTransitionRecord),
    Event(&'a TimelineEvent),
    Attempt(&'a PageAttempt),
}

impl Item<'_> {
    /// Sort key: time, then transitions before events before attempts, then seq / attempt.
    fn key(&self) -> (Timestamp, u8, u32) {
        match self {
            Item::Transition(t) => (t.at, 0, 0),
            Item::Event(e) => (e.at, 1, e.seq),
            Item::Attempt(a) => (a.at, 2, a.attempt),
        }
    }
}

/// Writes the timeline. `run_up_from` is when the probe first failed: transitions from then
/// until the trigger are shown (after the trigger, the events say what the check did).
pub(crate) fn write(out: &mut String, input: &PostmortemInput, run_up_from: Option<Timestamp>) {
    let inc = input.incident;
    let mut items: Vec<Item> = Vec::with_capacity(input.events.len() + input.attempts.len() + 8);
    if let Some(from) = run_up_from {
        items.extend(
            input
                .transitions
                .iter()
                .filter(|t| t.check == inc.check && t.at >= from && t.at < inc.opened_at)
                .map(Item::Transition),
        );
    }
    items.extend(input.events.iter().map(Item::Event));
    items.extend(input.attempts.iter().map(Item::Attempt));
    items.sort_by_key(Item::key);

    let zone = input.zone;
    let _ = writeln!(
        out,
        "Times in {}.\n",
        zone_name(zone, input.incident.opened_at)
    );
    if items.is_empty() {
        out.push_str("_No events were recorded for this incident._\n\n");
        return;
    }
    let mut last_day: Option<Date> = None;
    for item in &items {
        let (at, _, _) = item.key();
        write_stamp(out, at, zone, &mut last_day);
        match item {
            Item::Transition(t) => {
                let _ = write!(out, "Check {} → {}: {}", t.from, t.to, one_line(&t.message));
            }
            Item::Event(e) => describe_event(out, input, e),
            Item::Attempt(a) => describe_attempt(out, a, zone),
        }
        out.push('\n');
    }
    out.push('\n');
}

/// `- **14:03:07** — `, with the date in front on the first line and whenever the day changes.
fn write_stamp(out: &mut String, at: Timestamp, zone: &TimeZone, last_day: &mut Option<Date>) {
    let dt = zone.to_datetime(at);
    let day = dt.date();
    let _ = if *last_day != Some(day) {
        *last_day = Some(day);
        write!(out, "- **{}** — ", dt.strftime("%Y-%m-%d %H:%M:%S"))
    } else {
        write!(out, "- **{}** — ", dt.strftime("%H:%M:%S"))
    };
}

fn describe_event(out: &mut String, input: &PostmortemInput, e: &TimelineEvent) {
    let msg = one_line(&e.message);
    let actor = one_line(&e.actor);
    let _ = match e.kind {
        EventKind::Triggered => match input.check {
            Some(c) => write!(
                out,
                "**Detected** by the {} probe of `{}`: {msg}",
                c.probe.kind(),
                one_line(&c.probe.target())
            ),
            None => write!(
                out,
                "**Detected** by check `{}`: {msg}",
                one_line(&input.incident.check)
            ),
        },
        EventKind::CheckChanged => write!(out, "Check changed: {msg}"),
        EventKind::Paged => write!(out, "Page queued: {msg}"),
        EventKind::Escalated => write!(out, "**Escalated** by {actor}: {msg}"),
        EventKind::EscalationExhausted => write!(out, "Escalation exhausted: {msg}"),
        EventKind::StepSkipped => write!(out, "Step skipped: {msg}"),
        EventKind::Acknowledged => {
            let after = human_between(input.incident.opened_at, e.at);
            write!(out, "**Acknowledged** by {actor} after {after}").and_then(|()| {
                if msg.is_empty() {
                    Ok(())
                } else {
                    write!(out, ": {msg}")
                }
            })
        }
        EventKind::AckTimedOut => write!(out, "Acknowledgement timed out, paging again: {msg}"),
        EventKind::Note => write!(out, "Note by {actor}: {msg}"),
        EventKind::Resolved if e.actor == "auto" => {
            write!(out, "**Resolved** automatically: {msg}")
        }
        EventKind::Resolved => write!(out, "**Resolved** by {actor}: {msg}"),
        EventKind::Silenced => write!(out, "Silenced, nobody paged: {msg}"),
        EventKind::Unsilenced => write!(out, "Silence ended, paging again: {msg}"),
        EventKind::Unreachable => write!(out, "Parent down, nobody paged: {msg}"),
        EventKind::Reachable => write!(out, "Parent back: {msg}"),
        EventKind::Flapping => write!(out, "**Flapping**: {msg}"),
        EventKind::FlappingStopped => write!(out, "Flapping stopped: {msg}"),
        EventKind::Grouped => write!(out, "Page grouped into a digest: {msg}"),
    };
}

fn describe_attempt(out: &mut String, a: &PageAttempt, zone: &TimeZone) {
    let who = one_line(&a.recipient);
    let via = one_line(&a.notifier);
    let n = a.attempt;
    let _ = match &a.outcome {
        DeliveryOutcome::Delivered => {
            write!(out, "Page to {who} via {via}: delivered (attempt {n})")
        }
        DeliveryOutcome::Retrying { error, retry_at } => write!(
            out,
            "Page to {who} via {via}: failed (attempt {n}), retry at {}: {}",
            zone.to_datetime(*retry_at).strftime("%H:%M:%S"),
            one_line(error)
        ),
        DeliveryOutcome::Failed { error } => write!(
            out,
            "Page to {who} via {via}: **failed for good** (attempt {n}): {}",
            one_line(error)
        ),
    };
}
