//! The postmortem draft of one incident (SPEC §7): Markdown with exactly six sections, filled
//! from the timeline where the data exists and with one-line italic prompts where a human must
//! write. It never invents content: a section without data says what to write, not a guess.

use std::collections::HashMap;
use std::fmt::Write as _;

use jiff::Timestamp;
use jiff::tz::TimeZone;

use super::{human_between, local_time, one_line, timeline, zone_name};
use crate::config::CheckConfig;
use crate::core::check_state::CheckState;
use crate::core::model::{
    CheckTransitionRecord, DeliveryOutcome, EventKind, Incident, PageAttempt, TimelineEvent,
};

/// The section headings, in their required order (tests and readers rely on it).
pub const SECTIONS: [&str; 6] = [
    "## Issue Summary",
    "## Timeline",
    "## Root Cause and Resolution",
    "## Corrective and Preventative Measures",
    "## Lessons Learned",
    "## Conclusion",
];

/// Everything one postmortem is made from, as the store returns it.
pub struct PostmortemInput<'a> {
    pub incident: &'a Incident,
    /// The incident's timeline events (any order; they are sorted by time and seq).
    pub events: &'a [TimelineEvent],
    /// Every delivery attempt of the incident's pages.
    pub attempts: &'a [PageAttempt],
    /// Transitions of the incident's check around the incident, so the draft can say what the
    /// probe saw before the trigger (the soft failures) and after it (the recovery).
    pub transitions: &'a [CheckTransitionRecord],
    /// The check's current config; `None` when it has been removed since.
    pub check: Option<&'a CheckConfig>,
    /// The zone every time is shown in (the daemon's `time_zone`).
    pub zone: &'a TimeZone,
    /// "Now", for the running length of an open incident.
    pub now: Timestamp,
}

/// What a note is about, from its leading marker (`todo:` etc., any case).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoteKind {
    RootCause,
    Resolution,
    Todo,
    Lesson,
    /// Unmarked: stays in the timeline only.
    Plain,
}

/// The marker a note starts with, and its text without the marker.
pub fn classify_note(text: &str) -> (NoteKind, &str) {
    let trimmed = text.trim_start();
    let markers = [
        ("root cause:", NoteKind::RootCause),
        ("resolution:", NoteKind::Resolution),
        ("todo:", NoteKind::Todo),
        ("lesson:", NoteKind::Lesson),
    ];
    for (marker, kind) in markers {
        let head = trimmed.get(..marker.len());
        if head.is_some_and(|h| h.eq_ignore_ascii_case(marker)) {
            return (kind, trimmed[marker.len()..].trim());
        }
    }
    (NoteKind::Plain, text.trim())
}

/// Facts read once from the inputs and used by several sections.
pub(crate) struct Facts<'a> {
    /// Resolution time, or `now` for an open incident.
    pub end: Timestamp,
    pub open: bool,
    pub first_ack: Option<(Timestamp, &'a str)>,
    pub resolved_by: Option<&'a str>,
    /// When the probe first failed in the run-up to DOWN, and what it said.
    pub first_seen: Option<(Timestamp, &'a str)>,
    /// The last probe result recorded during the incident.
    pub last_seen: Option<(Timestamp, &'a str)>,
    pub pages: PageCounts,
    pub escalations: usize,
}

/// Pages of the incident by how their delivery ended (one page = one key).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct PageCounts {
    pub sent: usize,
    pub delivered: usize,
    pub failed: usize,
    /// Neither delivered nor failed for good yet.
    pub retrying: usize,
}

/// Counts pages by final outcome: delivered if any attempt was, else failed if one failed
/// for good, else still being retried.
pub fn page_counts(attempts: &[PageAttempt]) -> PageCounts {
    let mut by_key: HashMap<&str, u8> = HashMap::new();
    for a in attempts {
        let rank = match a.outcome {
            DeliveryOutcome::Retrying { .. } => 0,
            DeliveryOutcome::Failed { .. } => 1,
            DeliveryOutcome::Delivered => 2,
        };
        let slot = by_key.entry(a.key.as_str()).or_insert(0);
        *slot = (*slot).max(rank);
    }
    let mut counts = PageCounts {
        sent: by_key.len(),
        ..PageCounts::default()
    };
    for rank in by_key.values() {
        match rank {
            2 => counts.delivered += 1,
            1 => counts.failed += 1,
            _ => counts.retrying += 1,
        }
    }
    counts
}

impl<'a> Facts<'a> {
    pub(crate) fn read(input: &PostmortemInput<'a>) -> Facts<'a> {
        let inc = input.incident;
        let open = inc.state.is_open() || inc.resolved_at.is_none();
        let end = match inc.resolved_at {
            Some(at) if !open => at,
            _ => input.now,
        };
        let first_event = |kind: EventKind| {
            input
                .events
                .iter()
                .filter(|e| e.kind == kind)
                .min_by_key(|e| (e.at, e.seq))
        };
        let first_ack = first_event(EventKind::Acknowledged)
            .map(|e| (e.at, e.actor.as_str()))
            .or_else(|| {
                inc.acked_at
                    .map(|at| (at, inc.acked_by.as_deref().unwrap_or("?")))
            });
        let resolved_by = input
            .events
            .iter()
            .filter(|e| e.kind == EventKind::Resolved)
            .max_by_key(|e| (e.at, e.seq))
            .map(|e| e.actor.as_str())
            .or(inc.resolved_by.as_deref());
        let (first_seen, last_seen) = probe_sightings(input, end);
        Facts {
            end,
            open,
            first_ack,
            resolved_by: if open { None } else { resolved_by },
            first_seen,
            last_seen,
            pages: page_counts(input.attempts),
            escalations: input
                .events
                .iter()
                .filter(|e| e.kind == EventKind::Escalated)
                .count(),
        }
    }
}

type Sighting<'a> = Option<(Timestamp, &'a str)>;

/// What the probe saw first (the start of the run-up: the last move out of UP at or before the
/// trigger) and last (the latest result recorded after the trigger, up to the end).
fn probe_sightings<'a>(
    input: &PostmortemInput<'a>,
    end: Timestamp,
) -> (Sighting<'a>, Sighting<'a>) {
    let inc = input.incident;
    let ours = || input.transitions.iter().filter(|t| t.check == inc.check);
    let first = ours()
        .filter(|t| t.at <= inc.opened_at && t.from == CheckState::Up)
        .max_by_key(|t| t.at)
        .map(|t| (t.at, t.message.as_str()))
        .or_else(|| {
            input
                .events
                .iter()
                .find(|e| e.kind == EventKind::Triggered)
                .map(|e| (e.at, e.message.as_str()))
        })
        .or(Some((inc.opened_at, inc.summary.as_str())));
    let last_transition = ours()
        .filter(|t| t.at > inc.opened_at && t.at <= end)
        .max_by_key(|t| t.at)
        .map(|t| (t.at, t.message.as_str()));
    let last_event = input
        .events
        .iter()
        .filter(|e| e.kind == EventKind::CheckChanged && e.at <= end)
        .max_by_key(|e| (e.at, e.seq))
        .map(|e| (e.at, e.message.as_str()));
    let last = match (last_transition, last_event) {
        (Some(t), Some(e)) => Some(if e.0 > t.0 { e } else { t }),
        (t, e) => t.or(e),
    };
    (first, last)
}

/// The Markdown draft. Sections appear exactly once each, in the order of [`SECTIONS`].
pub fn render(input: &PostmortemInput) -> String {
    let facts = Facts::read(input);
    let inc = input.incident;
    let mut out = String::with_capacity(4096 + input.events.len() * 96);
    let _ = writeln!(
        out,
        "# Postmortem: #{} {} — {}\n",
        inc.id,
        one_line(&inc.check),
        one_line(&inc.summary)
    );
    if facts.open {
        let _ = writeln!(
            out,
            "> **This incident is still open** ({}): lengths below run to {} and will change.\n",
            inc.state.as_str(),
            local_time(input.now, input.zone)
        );
    }
    write_summary(&mut out, input, &facts);
    out.push_str("## Timeline\n\n");
    timeline::write(&mut out, input, facts.first_seen.map(|(at, _)| at));
    write_notes_sections(&mut out, input, &facts);
    write_conclusion(&mut out, input, &facts);
    out
}

fn write_summary(out: &mut String, input: &PostmortemInput, facts: &Facts) {
    let inc = input.incident;
    let zone = input.zone;
    out.push_str("## Issue Summary\n\n");
    let _ = writeln!(out, "- **Start:** {}", local_time(inc.opened_at, zone));
    if facts.open {
        let _ = writeln!(out, "- **End:** _still open_");
        let _ = writeln!(
            out,
            "- **Length:** {} so far",
            human_between(inc.opened_at, facts.end)
        );
    } else {
        let _ = writeln!(out, "- **End:** {}", local_time(facts.end, zone));
        let _ = writeln!(
            out,
            "- **Length:** {}",
            human_between(inc.opened_at, facts.end)
        );
    }
    let _ = writeln!(out, "- **Time zone:** {}", zone_name(zone, inc.opened_at));
    let check = one_line(&inc.check);
    match input.check {
        Some(c) => {
            let target = one_line(&c.probe.target());
            let kind = c.probe.kind();
            let _ = writeln!(out, "- **Check:** `{check}` ({kind} probe of `{target}`)");
        }
        None => {
            let _ = writeln!(
                out,
                "- **Check:** `{check}` (no longer in the configuration)"
            );
        }
    }
    if let Some((at, msg)) = facts.first_seen {
        let when = local_time(at, zone);
        let _ = writeln!(out, "- **First seen:** {when}: {}", one_line(msg));
    }
    match facts.last_seen {
        Some((at, msg)) => {
            let when = local_time(at, zone);
            let _ = writeln!(out, "- **Last seen:** {when}: {}", one_line(msg));
        }
        None => out.push_str("- **Last seen:** no later probe result recorded\n"),
    }
    out.push_str("- **Impact:** _Describe the user impact: who was affected, and how._\n\n");
}

/// Root cause, resolution, todos and lessons: marked notes, in time order.
fn write_notes_sections(out: &mut String, input: &PostmortemInput, facts: &Facts) {
    let mut notes: Vec<&TimelineEvent> = input
        .events
        .iter()
        .filter(|e| e.kind == EventKind::Note)
        .collect();
    notes.sort_by_key(|e| (e.at, e.seq));
    let marked = |kind: NoteKind| -> Vec<(&TimelineEvent, String)> {
        notes
            .iter()
            .filter_map(|e| {
                let (k, text) = classify_note(&e.message);
                (k == kind).then(|| (*e, one_line(text)))
            })
            .collect()
    };
    let zone = input.zone;
    let attributed = |e: &TimelineEvent, text: &str| {
        let who = one_line(&e.actor);
        format!("- {text} — _{who}, {}_\n", local_time(e.at, zone))
    };

    out.push_str("## Root Cause and Resolution\n\n**Root cause**\n\n");
    let causes = marked(NoteKind::RootCause);
    if causes.is_empty() {
        out.push_str("_Describe the root cause: what failed, and why._\n");
    }
    for (e, text) in &causes {
        out.push_str(&attributed(e, text));
    }
    out.push_str("\n**Resolution**\n\n");
    if let Some(by) = facts.resolved_by {
        let how = if by == "auto" {
            "automatically, when the check recovered".to_string()
        } else {
            format!("by {}", one_line(by))
        };
        let at = local_time(facts.end, zone);
        let _ = writeln!(out, "- The incident was resolved {how} at {at}.");
    }
    let fixes = marked(NoteKind::Resolution);
    if fixes.is_empty() {
        out.push_str("_Describe what was done to restore service._\n");
    }
    for (e, text) in &fixes {
        out.push_str(&attributed(e, text));
    }

    out.push_str("\n## Corrective and Preventative Measures\n\n");
    let todos = marked(NoteKind::Todo);
    if todos.is_empty() {
        out.push_str("_List the actions that will keep this from happening again._\n");
    }
    for (_, text) in &todos {
        let _ = writeln!(out, "- [ ] {text}");
    }

    out.push_str("\n## Lessons Learned\n\n");
    let lessons = marked(NoteKind::Lesson);
    if lessons.is_empty() {
        out.push_str("_What went well, what went wrong, where did we get lucky?_\n");
    }
    for (e, text) in &lessons {
        out.push_str(&attributed(e, text));
    }
    out.push('\n');
}

fn write_conclusion(out: &mut String, input: &PostmortemInput, facts: &Facts) {
    let inc = input.incident;
    out.push_str("## Conclusion\n\n");
    match facts.first_ack {
        Some((at, who)) => {
            let delay = human_between(inc.opened_at, at);
            let _ = writeln!(
                out,
                "- **Time to acknowledge:** {delay} (by {})",
                one_line(who)
            );
        }
        None if facts.open => out.push_str("- **Time to acknowledge:** not acknowledged yet\n"),
        None => out.push_str("- **Time to acknowledge:** never acknowledged\n"),
    }
    let ttr = human_between(inc.opened_at, facts.end);
    if facts.open {
        let _ = writeln!(out, "- **Time to resolve:** still open after {ttr}");
    } else {
        let _ = writeln!(out, "- **Time to resolve:** {ttr}");
    }
    let p = facts.pages;
    let _ = write!(
        out,
        "- **Pages sent:** {} ({} delivered, {} failed",
        p.sent, p.delivered, p.failed
    );
    if p.retrying > 0 {
        let _ = write!(out, ", {} still being retried", p.retrying);
    }
    out.push_str(")\n");
    let _ = writeln!(out, "- **Escalations:** {}", facts.escalations);
    out.push_str("\n_Sum up the incident and its follow-up in two or three sentences._\n");
}
