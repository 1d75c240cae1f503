//! Report figures against values worked out by hand in each test.

mod report_fixtures;

use std::collections::{BTreeMap, HashMap};

use jiff::Timestamp;
use jiff::tz::TimeZone;
use oncalld::core::check_state::CheckState::{Down, Failing, Up};
use oncalld::core::model::{
    CheckTransitionRecord, EventKind, Incident, IncidentState, Page, PageEvent, Silence,
};
use oncalld::report::stats::{self, Report, ReportInput, nearest_rank};
use oncalld::report::table;
use report_fixtures::*;

/// Owns the inputs so each test states only what it is about.
struct Data {
    from: Timestamp,
    to: Timestamp,
    incidents: Vec<Incident>,
    first_acks: HashMap<u64, Timestamp>,
    transitions: Vec<CheckTransitionRecord>,
    silences: Vec<Silence>,
    pages: Vec<Page>,
    checks: Vec<String>,
    zones: BTreeMap<String, TimeZone>,
}

impl Data {
    fn new(from: &str, to: &str) -> Data {
        Data {
            from: ts(from),
            to: ts(to),
            incidents: vec![],
            first_acks: HashMap::new(),
            transitions: vec![],
            silences: vec![],
            pages: vec![],
            checks: vec!["website".into(), "db".into()],
            zones: BTreeMap::new(),
        }
    }

    fn run(&self) -> Report {
        stats::report(&ReportInput {
            from: self.from,
            to: self.to,
            incidents: &self.incidents,
            first_acks: &self.first_acks,
            transitions: &self.transitions,
            silences: &self.silences,
            pages: &self.pages,
            checks: &self.checks,
            person_zones: &self.zones,
            default_zone: &TimeZone::UTC,
        })
    }
}

const FROM: &str = "2026-11-01T00:00:00Z";
const TO: &str = "2026-11-11T00:00:00Z";

fn figures<'a>(r: &'a Report, check: &str) -> &'a stats::Figures {
    &r.checks.iter().find(|c| c.check == check).unwrap().figures
}

#[test]
fn zero_incidents_in_the_window() {
    let mut d = Data::new(FROM, TO);
    d.zones.insert("alice".into(), paris());
    // Opened before the window: not counted even though it was resolved inside it.
    let before = ts("2026-10-31T23:00:00Z");
    d.incidents.push(incident(
        1,
        "website",
        before,
        None,
        Some((ts(FROM) + secs(60), "auto")),
    ));
    let r = d.run();
    assert_eq!(r.window_seconds, 10.0 * 86_400.0);
    let names: Vec<&str> = r.checks.iter().map(|c| c.check.as_str()).collect();
    assert_eq!(names, ["website", "db"]);
    for f in r.checks.iter().map(|c| &c.figures).chain([&r.total]) {
        assert_eq!(f.incidents, 0);
        assert_eq!(
            (f.acked, f.never_acked, f.resolved, f.still_open),
            (0, 0, 0, 0)
        );
        assert_eq!(f.mtta, stats::DurationStats::default());
        assert_eq!(f.mttr.mean_seconds, None);
        assert_eq!(f.availability_percent, Some(100.0));
    }
    assert_eq!(r.people.len(), 1);
    assert_eq!((r.people[0].pages, r.people[0].night_pages), (0, 0));
    let text = table::render(&r, &paris());
    assert!(text.contains("\nTOTAL"), "{text}");
    assert!(text.contains("Definitions:"));
}

/// Five acked incidents on "website" (ack delays 60..300 s), and four on "db" (10..40 s).
#[test]
fn mtta_mean_median_p90_with_odd_and_even_counts() {
    let mut d = Data::new(FROM, TO);
    let t = ts("2026-11-02T00:00:00Z");
    for (i, delay) in [300, 60, 240, 120, 180].into_iter().enumerate() {
        let opened = t + secs(i as i64 * 3_600);
        d.incidents.push(incident(
            i as u64 + 1,
            "website",
            opened,
            Some((opened + secs(delay), "alice")),
            None,
        ));
    }
    for (i, delay) in [40, 10, 30, 20].into_iter().enumerate() {
        let opened = t + secs(i as i64 * 3_600);
        d.incidents.push(incident(
            i as u64 + 10,
            "db",
            opened,
            Some((opened + secs(delay), "bob")),
            None,
        ));
    }
    let r = d.run();
    let web = &figures(&r, "website").mtta;
    // Sorted 60,120,180,240,300: mean 180; median rank ceil(2.5)=3 -> 180; p90 rank ceil(4.5)=5.
    assert_eq!(web.count, 5);
    assert_eq!(web.mean_seconds, Some(180.0));
    assert_eq!(web.median_seconds, Some(180.0));
    assert_eq!(web.p90_seconds, Some(300.0));
    let db = &figures(&r, "db").mtta;
    // Sorted 10,20,30,40: mean 25; median rank 2 -> 20 (lower middle); p90 rank ceil(3.6)=4.
    assert_eq!(db.mean_seconds, Some(25.0));
    assert_eq!(db.median_seconds, Some(20.0));
    assert_eq!(db.p90_seconds, Some(40.0));
    // All nine: 10,20,30,40,60,120,180,240,300 -> mean 1000/9; median rank 5 -> 60;
    // p90 rank ceil(8.1)=9 -> 300.
    let all = &r.total.mtta;
    assert_eq!(all.count, 9);
    assert!((all.mean_seconds.unwrap() - 1000.0 / 9.0).abs() < 1e-9);
    assert_eq!(all.median_seconds, Some(60.0));
    assert_eq!(all.p90_seconds, Some(300.0));
    assert_eq!(r.total.still_open, 9);
    assert_eq!(r.total.mttr.count, 0);
}

#[test]
fn nearest_rank_percentiles() {
    let ten: Vec<i64> = (1..=10).collect();
    assert_eq!(nearest_rank(&ten, 50), Some(5));
    assert_eq!(nearest_rank(&ten, 90), Some(9));
    assert_eq!(nearest_rank(&ten, 100), Some(10));
    assert_eq!(nearest_rank(&ten, 0), Some(1));
    assert_eq!(nearest_rank(&[7], 90), Some(7));
    assert_eq!(nearest_rank(&[], 50), None);
    let eleven: Vec<i64> = (1..=11).collect();
    // ceil(0.9 * 11) = ceil(9.9) = 10.
    assert_eq!(nearest_rank(&eleven, 90), Some(10));
    assert_eq!(nearest_rank(&eleven, 50), Some(6));
}

#[test]
fn never_acked_and_still_open_incidents_are_counted_apart() {
    let mut d = Data::new(FROM, TO);
    let t = ts("2026-11-03T12:00:00Z");
    // #1 acked after 2m, resolved after 10m.
    d.incidents.push(incident(
        1,
        "website",
        t,
        Some((t + secs(120), "alice")),
        Some((t + secs(600), "alice")),
    ));
    // #2 never acked, resolved automatically after 3m.
    d.incidents.push(incident(
        2,
        "website",
        t + secs(3_600),
        None,
        Some((t + secs(3_780), "auto")),
    ));
    // #3 never acked, still open.
    d.incidents
        .push(incident(3, "website", t + secs(7_200), None, None));
    // #4 acked after 30s, still open.
    d.incidents
        .push(incident(4, "db", t, Some((t + secs(30), "bob")), None));
    let r = d.run();
    let web = figures(&r, "website");
    assert_eq!(web.incidents, 3);
    assert_eq!((web.acked, web.never_acked), (1, 2));
    assert_eq!((web.resolved, web.still_open), (2, 1));
    assert_eq!(web.mtta.mean_seconds, Some(120.0));
    // MTTR over #1 (600 s) and #2 (180 s).
    assert_eq!(web.mttr.count, 2);
    assert_eq!(web.mttr.mean_seconds, Some(390.0));
    assert_eq!(web.mttr.median_seconds, Some(180.0));
    let total = &r.total;
    assert_eq!((total.incidents, total.acked, total.never_acked), (4, 2, 2));
    assert_eq!(total.still_open, 2);
    assert_eq!(total.mtta.mean_seconds, Some(75.0));
    let text = table::render(&r, &TimeZone::UTC);
    let row = text.lines().find(|l| l.starts_with("website")).unwrap();
    let cells: Vec<&str> = row.split("  ").filter(|c| !c.trim().is_empty()).collect();
    assert_eq!(
        &cells[..5].iter().map(|c| c.trim()).collect::<Vec<_>>(),
        &["website", "3", "1", "2", "1"]
    );
}

#[test]
fn first_ack_comes_from_the_events_not_a_later_re_ack() {
    let mut d = Data::new(FROM, TO);
    let t = ts("2026-11-04T00:00:00Z");
    // acked_at was overwritten by a re-ack after an ack timeout, 2 h in.
    d.incidents
        .push(incident(5, "db", t, Some((t + secs(7_200), "bob")), None));
    let mut tl = Timeline::new(5);
    tl.push(t + secs(45), EventKind::Acknowledged, "alice", "");
    tl.push(t + secs(7_200), EventKind::Acknowledged, "bob", "");
    d.first_acks = stats::first_acks(&tl.events);
    let r = d.run();
    assert_eq!(figures(&r, "db").mtta.mean_seconds, Some(45.0));
}

#[test]
fn availability_with_down_across_the_window_start_and_silenced_down_time() {
    // Window: 10 h from 00:00Z.
    let mut d = Data::new("2026-11-01T00:00:00Z", "2026-11-01T10:00:00Z");
    let h = |x: f64| ts("2026-11-01T00:00:00Z") + secs((x * 3_600.0) as i64);
    d.transitions = vec![
        // Went DOWN 2 h before the window: DOWN at its start until 01:00.
        transition("website", h(-2.5), Up, Failing { attempt: 1 }, "500"),
        transition("website", h(-2.0), Failing { attempt: 1 }, Down, "500"),
        transition("website", h(1.0), Down, Up, "200"),
        // FAILING is not DOWN.
        transition("website", h(3.0), Up, Failing { attempt: 1 }, "500"),
        transition("website", h(5.0), Failing { attempt: 1 }, Down, "500"),
        transition("website", h(5.5), Down, Up, "200"),
        // DOWN again at 09:00 and still DOWN at the window's end.
        transition("website", h(9.0), Up, Down, "refused"),
        // After the window: ignored.
        transition("website", h(11.0), Down, Up, "200"),
        // db went DOWN and back before the window: fully available.
        transition("db", h(-5.0), Up, Down, "x"),
        transition("db", h(-4.0), Down, Up, "y"),
    ];
    d.silences = vec![
        silence(1, "web*", h(0.5), h(5.25)),
        // Overlaps the first one: silenced time is not counted twice.
        silence(2, "website", h(0.75), h(1.5)),
        silence(3, "db-*", h(0.0), h(10.0)),
    ];
    d.transitions.reverse(); // any order
    let r = d.run();
    let web = figures(&r, "website");
    // DOWN: 00:00-01:00, 05:00-05:30, 09:00-10:00 = 2.5 h = 9000 s of 36000 s.
    assert_eq!(web.down_seconds, 9_000.0);
    assert_eq!(web.availability_percent, Some(75.0));
    // Silenced DOWN: 00:30-01:00 and 05:00-05:15 = 45 min.
    assert_eq!(web.silenced_down_seconds, 2_700.0);
    let db = figures(&r, "db");
    assert_eq!(
        (db.down_seconds, db.availability_percent),
        (0.0, Some(100.0))
    );
    // Total: mean over the two checks, (75 + 100) / 2.
    assert_eq!(r.total.availability_percent, Some(87.5));
    assert_eq!(r.total.silenced_down_seconds, 2_700.0);
}

#[test]
fn night_pages_are_judged_in_each_persons_zone() {
    let mut d = Data::new(FROM, TO);
    d.zones.insert("alice".into(), paris());
    d.zones
        .insert("carol".into(), TimeZone::get("Asia/Tokyo").unwrap());
    let p = |who: &str, at: &str| page(1, who, PageEvent::Triggered, ts(at));
    d.pages = vec![
        // Paris is UTC+1 in November.
        p("alice", "2026-11-02T22:30:00Z"), // 23:30 Paris: night
        p("alice", "2026-11-02T21:00:00Z"), // 22:00 Paris: night (22:00 is included)
        p("alice", "2026-11-03T05:59:00Z"), // 06:59 Paris: night
        p("alice", "2026-11-03T06:00:00Z"), // 07:00 Paris: day (07:00 is excluded)
        p("alice", "2026-11-03T12:00:00Z"), // 13:00 Paris: day
        // bob has no schedule: the default zone (UTC here).
        p("bob", "2026-11-02T22:30:00Z"), // 22:30 UTC: night
        p("bob", "2026-11-02T21:30:00Z"), // 21:30 UTC (22:30 in Paris, but not bob's zone): day
    ];
    // Not counted: a test page, a page to a notifier target, a page outside the window.
    d.pages.push(page(
        1,
        "alice",
        PageEvent::Test,
        ts("2026-11-02T23:00:00Z"),
    ));
    let mut to_notifier = page(1, "alice", PageEvent::Triggered, ts("2026-11-02T23:00:00Z"));
    to_notifier.to = None;
    d.pages.push(to_notifier);
    d.pages.push(page(
        1,
        "alice",
        PageEvent::Triggered,
        ts("2026-10-30T23:00:00Z"),
    ));
    let r = d.run();
    let people: Vec<(&str, &str, u64, u64)> = r
        .people
        .iter()
        .map(|p| (p.person.as_str(), p.zone.as_str(), p.pages, p.night_pages))
        .collect();
    assert_eq!(
        people,
        [
            ("alice", "Europe/Paris", 5, 3),
            ("bob", "UTC", 2, 1),
            ("carol", "Asia/Tokyo", 0, 0),
        ]
    );
}

#[test]
fn report_json_has_seconds_and_reads_back() {
    let mut d = Data::new(FROM, TO);
    let t = ts("2026-11-05T00:00:00Z");
    d.incidents.push(incident(
        1,
        "website",
        t,
        Some((t + secs(90), "alice")),
        Some((t + secs(3_600), "auto")),
    ));
    let r = d.run();
    let json = serde_json::to_value(&r).unwrap();
    let web = &json["checks"][0];
    assert_eq!(web["check"], "website");
    assert_eq!(web["incidents"], 1);
    assert_eq!(web["mtta"]["mean_seconds"], 90.0);
    assert_eq!(web["mttr"]["p90_seconds"], 3_600.0);
    assert_eq!(json["total"]["never_acked"], 0);
    assert_eq!(json["window_seconds"], 864_000.0);
    let back: Report = serde_json::from_value(json).unwrap();
    assert_eq!(back, r);
}

#[test]
fn table_columns_line_up_and_definitions_follow() {
    let mut d = Data::new(FROM, TO);
    d.checks.push("a-check-with-a-long-name".into());
    let t = ts("2026-11-05T00:00:00Z");
    d.incidents.push(incident(
        1,
        "website",
        t,
        Some((t + secs(252), "alice")),
        Some((t + secs(3_852), "auto")),
    ));
    d.zones.insert("alice".into(), paris());
    let text = table::render(&d.run(), &paris());
    let checks: Vec<&str> = text
        .lines()
        .skip_while(|l| !l.starts_with("CHECK"))
        .take_while(|l| !l.is_empty())
        .collect();
    assert_eq!(checks.len(), 5, "{text}"); // header, 3 checks, TOTAL
    assert!(
        checks
            .iter()
            .all(|l| l.chars().count() == checks[0].chars().count()),
        "{text}"
    );
    assert!(checks[1].contains("4m 12s") && checks[1].contains("1h 4m 12s"));
    assert!(text.starts_with("Report from 2026-11-01 01:00:00 CET to 2026-11-11 01:00:00 CET"));
    let defs = text.find("Definitions:").unwrap();
    assert!(defs > text.find("PERSON").unwrap());
    for term in [
        "MTTA:",
        "MTTR:",
        "Availability:",
        "Night pages:",
        "nearest-rank",
    ] {
        assert!(text[defs..].contains(term), "missing {term}");
    }
}

#[test]
fn checks_seen_only_in_the_data_are_reported_after_configured_ones() {
    let mut d = Data::new(FROM, TO);
    let t = ts("2026-11-05T00:00:00Z");
    d.incidents.push(incident(1, "old-check", t, None, None));
    d.incidents[0].state = IncidentState::Triggered;
    let r = d.run();
    let names: Vec<&str> = r.checks.iter().map(|c| c.check.as_str()).collect();
    assert_eq!(names, ["website", "db", "old-check"]);
    assert_eq!(figures(&r, "old-check").never_acked, 1);
}

#[test]
fn synthetic_year_adds_up() {
    let data = synthetic(2_000, 7);
    let r = stats::report(&ReportInput {
        from: data.from,
        to: data.to,
        incidents: &data.incidents,
        first_acks: &data.first_acks,
        transitions: &data.transitions,
        silences: &data.silences,
        pages: &data.pages,
        checks: &data.checks,
        person_zones: &data.person_zones,
        default_zone: &TimeZone::UTC,
    });
    let sum = |f: fn(&stats::Figures) -> u64| r.checks.iter().map(|c| f(&c.figures)).sum::<u64>();
    assert_eq!(sum(|f| f.incidents), r.total.incidents);
    assert_eq!(r.total.acked + r.total.never_acked, r.total.incidents);
    assert_eq!(r.total.resolved + r.total.still_open, r.total.incidents);
    assert_eq!(sum(|f| f.acked), r.total.mtta.count);
    let pages: u64 = r.people.iter().map(|p| p.pages).sum();
    let expected = data.pages.iter().filter(|p| p.created_at < data.to).count() as u64;
    assert_eq!(pages, expected);
}
