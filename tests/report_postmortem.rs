//! Postmortem drafts: the six sections, once each and in order, and the facts in them
//! (times in Europe/Paris, actors, delays, page counts, notes in the right section).

mod report_fixtures;

use oncalld::core::check_state::CheckState;
use oncalld::core::model::{DeliveryOutcome, EventKind, Incident, PageAttempt, TimelineEvent};
use oncalld::report::postmortem::{self, PostmortemInput, SECTIONS};
use report_fixtures::*;

/// The body of one `## ` section (up to the next `## ` heading).
fn section<'a>(md: &'a str, heading: &str) -> &'a str {
    let start = md.find(&format!("{heading}\n")).expect(heading) + heading.len();
    let rest = &md[start..];
    let end = rest.find("\n## ").unwrap_or(rest.len());
    &rest[..end]
}

fn assert_sections_once_in_order(md: &str) {
    let headings: Vec<&str> = md.lines().filter(|l| l.starts_with("## ")).collect();
    assert_eq!(headings, SECTIONS.to_vec(), "in:\n{md}");
    assert_eq!(md.lines().filter(|l| l.starts_with("# ")).count(), 1);
}

/// #17 website: soft failure at 13:02:07Z, DOWN 13:03:07Z, paged alice (mail, delivered),
/// bob by webhook (failed once then delivered) and a dead sms page; escalated at 13:08:07Z,
/// acked by alice at 13:07:19Z (4m 12s), notes, resolved by bob at 14:07:19Z (1h 4m 12s).
struct Outage {
    incident: Incident,
    events: Vec<TimelineEvent>,
    attempts: Vec<PageAttempt>,
    transitions: Vec<oncalld::core::model::CheckTransitionRecord>,
}

fn outage() -> Outage {
    let t0 = ts("2026-11-20T13:03:07Z");
    let ack = ts("2026-11-20T13:07:19Z");
    let end = ts("2026-11-20T14:07:19Z");
    let mut incident = incident(17, "website", t0, Some((ack, "alice (uid 1000)")), None);
    incident.resolved_at = Some(end);
    incident.resolved_by = Some("bob (uid 1001)".into());
    incident.state = oncalld::core::model::IncidentState::Resolved;
    let mut tl = Timeline::new(17);
    tl.push(t0, EventKind::Triggered, "oncalld", "HTTP 500 in 12 ms");
    tl.push(
        t0,
        EventKind::Paged,
        "oncalld",
        "paged alice via mail (step 1)",
    );
    tl.push(
        t0,
        EventKind::Paged,
        "oncalld",
        "paged bob via hook (step 1)",
    );
    tl.push(
        t0 + secs(240),
        EventKind::Escalated,
        "oncalld",
        "no ack after 4m: step 2",
    );
    tl.push(
        t0 + secs(240),
        EventKind::Paged,
        "oncalld",
        "paged carol via sms (step 2)",
    );
    tl.push(ack, EventKind::Acknowledged, "alice (uid 1000)", "looking");
    let note = |tl: &mut Timeline, min: i64, text: &str| {
        tl.push(
            ack + secs(min * 60),
            EventKind::Note,
            "alice (uid 1000)",
            text,
        );
    };
    note(
        &mut tl,
        5,
        "Root Cause: the disk of db-1 filled up with WAL files",
    );
    note(&mut tl, 6, "TODO: alert on disk usage at 80%");
    note(&mut tl, 7, "  resolution: removed old WAL segments");
    note(&mut tl, 8, "lesson: the runbook for db-1 was out of date");
    note(&mut tl, 9, "customers report slow checkout");
    note(&mut tl, 10, "todo: rotate WAL automatically");
    tl.push(end, EventKind::Resolved, "bob (uid 1001)", "fixed");
    let attempts = vec![
        attempt(
            17,
            2,
            "alice",
            "mail",
            1,
            t0 + secs(1),
            DeliveryOutcome::Delivered,
        ),
        attempt(
            17,
            3,
            "bob",
            "hook",
            1,
            t0 + secs(1),
            DeliveryOutcome::Retrying {
                error: "HTTP 503".into(),
                retry_at: t0 + secs(2),
            },
        ),
        attempt(
            17,
            3,
            "bob",
            "hook",
            2,
            t0 + secs(2),
            DeliveryOutcome::Delivered,
        ),
        attempt(
            17,
            5,
            "carol",
            "sms",
            1,
            t0 + secs(241),
            DeliveryOutcome::Failed {
                error: "HTTP 404".into(),
            },
        ),
    ];
    let transitions = vec![
        transition(
            "website",
            t0 - secs(60),
            CheckState::Up,
            CheckState::Failing { attempt: 1 },
            "HTTP 502 in 30 ms",
        ),
        transition(
            "website",
            t0,
            CheckState::Failing { attempt: 2 },
            CheckState::Down,
            "HTTP 500 in 12 ms",
        ),
        transition(
            "website",
            end,
            CheckState::Down,
            CheckState::Up,
            "HTTP 200 in 9 ms",
        ),
    ];
    Outage {
        incident,
        events: tl.events,
        attempts,
        transitions,
    }
}

fn render(o: &Outage, check: bool, now: jiff::Timestamp) -> String {
    let cfg = http_check("website", "https://shop.example.org/health");
    let zone = paris();
    postmortem::render(&PostmortemInput {
        incident: &o.incident,
        events: &o.events,
        attempts: &o.attempts,
        transitions: &o.transitions,
        check: check.then_some(&cfg),
        zone: &zone,
        now,
    })
}

#[test]
fn resolved_incident_has_the_six_sections_and_its_facts_in_paris_time() {
    let o = outage();
    let md = render(&o, true, ts("2026-11-21T09:00:00Z"));
    assert_sections_once_in_order(&md);
    assert!(md.starts_with("# Postmortem: #17 website — HTTP 500 in 12 ms\n"));
    assert!(!md.contains("still open"));

    let summary = section(&md, "## Issue Summary");
    // 13:03:07 UTC is 14:03:07 in Paris (CET, UTC+1, in November).
    assert!(
        summary.contains("- **Start:** 2026-11-20 14:03:07 CET"),
        "{summary}"
    );
    assert!(summary.contains("- **End:** 2026-11-20 15:07:19 CET"));
    assert!(summary.contains("- **Length:** 1h 4m 12s\n"));
    assert!(summary.contains("- **Time zone:** Europe/Paris"));
    assert!(summary.contains("`website` (http probe of `https://shop.example.org/health`)"));
    assert!(summary.contains("- **First seen:** 2026-11-20 14:02:07 CET: HTTP 502 in 30 ms"));
    assert!(summary.contains("- **Last seen:** 2026-11-20 15:07:19 CET: HTTP 200 in 9 ms"));
    assert!(summary.contains("_Describe the user impact"));

    let timeline = section(&md, "## Timeline");
    assert!(timeline.contains("- **2026-11-20 14:02:07** — Check UP → FAILING(1): HTTP 502"));
    assert!(timeline.contains(
        "- **14:03:07** — **Detected** by the http probe of \
         `https://shop.example.org/health`: HTTP 500 in 12 ms"
    ));
    assert!(timeline.contains("- **14:03:08** — Page to alice via mail: delivered (attempt 1)"));
    assert!(timeline.contains("Page to bob via hook: failed (attempt 1), retry at 14:03:09"));
    assert!(timeline.contains("- **14:03:09** — Page to bob via hook: delivered (attempt 2)"));
    assert!(timeline.contains("Page to carol via sms: **failed for good** (attempt 1): HTTP 404"));
    assert!(timeline.contains("- **14:07:07** — **Escalated** by oncalld"));
    assert!(
        timeline.contains("- **14:07:19** — **Acknowledged** by alice (uid 1000) after 4m 12s")
    );
    assert!(timeline.contains("Note by alice (uid 1000): customers report slow checkout"));
    assert!(timeline.contains("- **15:07:19** — **Resolved** by bob (uid 1001): fixed"));
    // Everything is in time order: detection before the ack before the resolution.
    let pos = |s: &str| timeline.find(s).unwrap();
    assert!(pos("Check UP") < pos("**Detected**"));
    assert!(pos("**Detected**") < pos("**Acknowledged**"));
    assert!(pos("**Acknowledged**") < pos("**Resolved**"));

    let cause = section(&md, "## Root Cause and Resolution");
    assert!(cause.contains("- the disk of db-1 filled up with WAL files — _alice (uid 1000), "));
    assert!(cause.contains("- removed old WAL segments"));
    assert!(cause.contains("resolved by bob (uid 1001) at 2026-11-20 15:07:19 CET"));
    assert!(
        !cause.contains("_Describe"),
        "no prompt when notes exist: {cause}"
    );
    assert!(!cause.contains("alert on disk usage"));

    let todo = section(&md, "## Corrective and Preventative Measures");
    let items: Vec<&str> = todo.lines().filter(|l| l.starts_with("- [ ] ")).collect();
    assert_eq!(
        items,
        [
            "- [ ] alert on disk usage at 80%",
            "- [ ] rotate WAL automatically"
        ]
    );
    let lessons = section(&md, "## Lessons Learned");
    assert!(lessons.contains("- the runbook for db-1 was out of date"));
    assert!(
        !lessons.contains("customers report"),
        "plain notes stay in the timeline"
    );

    let conclusion = section(&md, "## Conclusion");
    assert!(conclusion.contains("- **Time to acknowledge:** 4m 12s (by alice (uid 1000))"));
    assert!(conclusion.contains("- **Time to resolve:** 1h 4m 12s"));
    // Keys: alice/mail delivered, bob/hook delivered on attempt 2, carol/sms failed.
    assert!(
        conclusion.contains("- **Pages sent:** 3 (2 delivered, 1 failed)"),
        "{conclusion}"
    );
    assert!(conclusion.contains("- **Escalations:** 1"));
}

#[test]
fn never_acked_auto_resolved_incident_prompts_for_what_a_human_must_write() {
    let t0 = ts("2026-07-01T08:00:00Z");
    let end = t0 + secs(95);
    let inc = incident(3, "api", t0, None, Some((end, "auto")));
    let mut tl = Timeline::new(3);
    tl.push(t0, EventKind::Triggered, "oncalld", "connect refused");
    tl.push(end, EventKind::Resolved, "auto", "connected in 3 ms");
    let o = Outage {
        incident: inc,
        events: tl.events,
        attempts: vec![],
        transitions: vec![],
    };
    let md = render(&o, false, ts("2026-07-02T00:00:00Z"));
    assert_sections_once_in_order(&md);
    let summary = section(&md, "## Issue Summary");
    // Summer time: UTC+2 (CEST).
    assert!(
        summary.contains("- **Start:** 2026-07-01 10:00:00 CEST"),
        "{summary}"
    );
    assert!(summary.contains("- **Length:** 1m 35s"));
    assert!(summary.contains("`api` (no longer in the configuration)"));
    assert!(summary.contains("- **First seen:** 2026-07-01 10:00:00 CEST: connect refused"));
    assert!(summary.contains("- **Last seen:** no later probe result recorded"));
    let timeline = section(&md, "## Timeline");
    assert!(timeline.contains("**Detected** by check `api`: connect refused"));
    assert!(timeline.contains("- **10:01:35** — **Resolved** automatically: connected in 3 ms"));
    let cause = section(&md, "## Root Cause and Resolution");
    assert!(cause.contains("_Describe the root cause"));
    assert!(cause.contains("resolved automatically, when the check recovered"));
    assert!(section(&md, "## Corrective and Preventative Measures").contains("\n_List the"));
    assert!(!md.contains("- [ ]"), "no invented todo items");
    assert!(section(&md, "## Lessons Learned").contains("\n_What went well"));
    let conclusion = section(&md, "## Conclusion");
    assert!(conclusion.contains("- **Time to acknowledge:** never acknowledged"));
    assert!(conclusion.contains("- **Time to resolve:** 1m 35s"));
    assert!(conclusion.contains("- **Pages sent:** 0 (0 delivered, 0 failed)"));
}

#[test]
fn open_incident_says_so_at_the_top_and_runs_to_now() {
    let t0 = ts("2026-11-20T10:00:00Z");
    let now = t0 + secs(30 * 60 + 15);
    let mut tl = Timeline::new(9);
    tl.push(t0, EventKind::Triggered, "oncalld", "disk 97% full");
    let o = Outage {
        incident: incident(9, "disk", t0, None, None),
        events: tl.events,
        attempts: vec![attempt(
            9,
            2,
            "alice",
            "mail",
            3,
            t0 + secs(7),
            DeliveryOutcome::Retrying {
                error: "connection refused".into(),
                retry_at: t0 + secs(15),
            },
        )],
        transitions: vec![],
    };
    let md = render(&o, true, now);
    assert_sections_once_in_order(&md);
    let banner = md
        .find("> **This incident is still open** (triggered)")
        .expect(&md);
    assert!(banner < md.find("## Issue Summary").unwrap());
    assert!(md.contains("lengths below run to 2026-11-20 11:30:15 CET"));
    let summary = section(&md, "## Issue Summary");
    assert!(summary.contains("- **End:** _still open_"));
    assert!(summary.contains("- **Length:** 30m 15s so far"));
    let conclusion = section(&md, "## Conclusion");
    assert!(conclusion.contains("- **Time to acknowledge:** not acknowledged yet"));
    assert!(conclusion.contains("- **Time to resolve:** still open after 30m 15s"));
    assert!(conclusion.contains("1 (0 delivered, 0 failed, 1 still being retried)"));
    assert!(!section(&md, "## Root Cause and Resolution").contains("was resolved"));

    let mut acked = o;
    acked.incident = incident(9, "disk", t0, Some((t0 + secs(90), "bob")), None);
    let md = render(&acked, true, now);
    assert!(md.contains("> **This incident is still open** (acknowledged)"));
    assert!(md.contains("- **Time to acknowledge:** 1m 30s (by bob)"));
}

#[test]
fn timeline_is_sorted_and_dates_a_line_when_the_local_day_changes() {
    // 22:50 UTC is 23:50 in Paris; the resolution at 23:20 UTC is 00:20 the next day there.
    let t0 = ts("2026-11-20T22:50:00Z");
    let end = ts("2026-11-20T23:20:00Z");
    let mut tl = Timeline::new(4);
    tl.push(t0, EventKind::Triggered, "oncalld", "HTTP 500");
    tl.push(end, EventKind::Resolved, "auto", "HTTP 200");
    tl.push(t0 + secs(60), EventKind::Note, "carol", "on it");
    let mut events = tl.events;
    events.reverse();
    let o = Outage {
        incident: incident(4, "website", t0, None, Some((end, "auto"))),
        events,
        attempts: vec![],
        transitions: vec![],
    };
    let md = render(&o, true, end);
    let timeline = section(&md, "## Timeline");
    let lines: Vec<&str> = timeline.lines().filter(|l| l.starts_with("- ")).collect();
    assert_eq!(lines.len(), 3);
    assert!(lines[0].starts_with("- **2026-11-20 23:50:00** — **Detected**"));
    assert!(lines[1].starts_with("- **23:51:00** — Note by carol: on it"));
    assert!(lines[2].starts_with("- **2026-11-21 00:20:00** — **Resolved** automatically"));
}

#[test]
fn text_from_outside_cannot_add_sections() {
    let mut o = outage();
    o.incident.summary = "boom\n## Timeline\n# Injected".into();
    o.events[10].message = "todo: one\n## Conclusion".into();
    let md = render(&o, true, ts("2026-11-21T00:00:00Z"));
    assert_sections_once_in_order(&md);
    assert!(md.contains("- [ ] one ## Conclusion"));
}

#[test]
fn a_postmortem_of_ten_thousand_events_lists_every_one() {
    let (inc, events, attempts) = big_incident(10_000);
    let zone = paris();
    let md = postmortem::render(&PostmortemInput {
        incident: &inc,
        events: &events,
        attempts: &attempts,
        transitions: &[],
        check: None,
        zone: &zone,
        now: inc.resolved_at.unwrap(),
    });
    assert_sections_once_in_order(&md);
    let lines = section(&md, "## Timeline")
        .lines()
        .filter(|l| l.starts_with("- **"))
        .count();
    assert_eq!(lines, events.len() + attempts.len());
    let todos = md.lines().filter(|l| l.starts_with("- [ ] ")).count();
    let todo_notes = events
        .iter()
        .filter(|e| e.message.starts_with("todo:"))
        .count();
    assert_eq!(todos, todo_notes);
}

#[test]
fn notes_are_classified_by_marker_in_any_case() {
    use postmortem::{NoteKind, classify_note};
    assert_eq!(classify_note("ROOT CAUSE: x"), (NoteKind::RootCause, "x"));
    assert_eq!(classify_note(" Todo:  y "), (NoteKind::Todo, "y"));
    assert_eq!(classify_note("Lesson:z"), (NoteKind::Lesson, "z"));
    assert_eq!(classify_note("Resolution: w"), (NoteKind::Resolution, "w"));
    assert_eq!(classify_note("todo later"), (NoteKind::Plain, "todo later"));
    assert_eq!(classify_note("é"), (NoteKind::Plain, "é"));
}
