//! The postmortem draft of one incident (SPEC §7): Markdown with exactly six sections, filled
//! from the timeline where the data exists and with one-line italic prompts where a human must
//! write. It never invents content: a section without data says what to write, not a guess.

use std::fmt::Write as _;

use jiff::Timestamp;
use jiff::tz::TimeZone;

use super::facts::Facts;
pub use super::facts::{PageCounts, page_counts};
use super::{human_between, local_time, one_line, timeline, zone_name};
use crate::config::CheckConfig;
use crate::core::model::{CheckTransitionRecord, EventKind, Incident, PageAttempt, TimelineEvent};

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

/// Notes by marker, in time order, with their markers removed.
struct MarkedNotes<'a> {
    causes: Vec<(&'a TimelineEvent, String)>,
    fixes: Vec<(&'a TimelineEvent, String)>,
    todos: Vec<(&'a TimelineEvent, String)>,
    lessons: Vec<(&'a TimelineEvent, String)>,
}

impl<'a> MarkedNotes<'a> {
    fn read(events: &'a [TimelineEvent]) -> Self {
        let mut notes: Vec<&TimelineEvent> = events
            .iter()
            .filter(|e| e.kind == EventKind::Note)
            .collect();
        notes.sort_by_key(|e| (e.at, e.seq));
        let mut marked = MarkedNotes {
            causes: Vec::new(),
            fixes: Vec::new(),
            todos: Vec::new(),
            lessons: Vec::new(),
        };
        for e in notes {
            let (kind, text) = classify_note(&e.message);
            let list = match kind {
                NoteKind::RootCause => &mut marked.causes,
                NoteKind::Resolution => &mut marked.fixes,
                NoteKind::Todo => &mut marked.todos,
                NoteKind::Lesson => &mut marked.lessons,
                NoteKind::Plain => continue,
            };
            list.push((e, one_line(text)));
        }
        marked
    }
}

/// `- text — _who, when_` lines, or the italic prompt when there are none.
fn write_attributed(
    out: &mut String,
    notes: &[(&TimelineEvent, String)],
    zone: &TimeZone,
    prompt: &str,
) {
    if notes.is_empty() {
        let _ = writeln!(out, "_{prompt}_");
    }
    for (e, text) in notes {
        let who = one_line(&e.actor);
        let _ = writeln!(out, "- {text} — _{who}, {}_", local_time(e.at, zone));
    }
}

/// Root cause, resolution, todos and lessons: the marked notes, each in its section.
fn write_notes_sections(out: &mut String, input: &PostmortemInput, facts: &Facts) {
    let notes = MarkedNotes::read(input.events);
    let zone = input.zone;
    out.push_str("## Root Cause and Resolution\n\n**Root cause**\n\n");
    write_attributed(
        out,
        &notes.causes,
        zone,
        "Describe the root cause: what failed, and why.",
    );
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
    write_attributed(
        out,
        &notes.fixes,
        zone,
        "Describe what was done to restore service.",
    );

    out.push_str("\n## Corrective and Preventative Measures\n\n");
    if notes.todos.is_empty() {
        out.push_str("_List the actions that will keep this from happening again._\n");
    }
    for (_, text) in &notes.todos {
        let _ = writeln!(out, "- [ ] {text}");
    }

    out.push_str("\n## Lessons Learned\n\n");
    let prompt = "What went well, what went wrong, where did we get lucky?";
    write_attributed(out, &notes.lessons, zone, prompt);
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
