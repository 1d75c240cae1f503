//! Report figures over time and across zones: availability (DOWN across the window start,
//! silenced DOWN time), night pages judged in each person's zone, and the text tables.

mod report_fixtures;

use jiff::tz::TimeZone;
use oncalld::core::check_state::CheckState::{Down, Failing, Up};
use oncalld::core::model::PageEvent;
use oncalld::report::table;
use report_fixtures::*;

#[test]
fn availability_with_down_across_the_window_start_and_silenced_down_time() {
    // Window: 10 h from 00:00Z.
    let mut d = ReportData::new("2026-11-01T00:00:00Z", "2026-11-01T10:00:00Z");
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
fn unreachable_down_time_counts_down_and_is_shown_apart() {
    let mut d = ReportData::new("2026-11-01T00:00:00Z", "2026-11-01T10:00:00Z");
    let h = |x: f64| ts("2026-11-01T00:00:00Z") + secs((x * 3_600.0) as i64);
    d.transitions = vec![
        transition("website", h(1.0), Up, Down, "refused"),
        transition("website", h(4.0), Down, Up, "200"),
        transition("website", h(8.0), Up, Down, "refused"),
    ];
    // Held 01:00-02:30 (the parent came back; paged), and from 08:00 on, still held.
    d.unreachable = vec![
        ("website".into(), h(1.0), Some(h(2.5))),
        ("website".into(), h(8.0), None),
    ];
    let r = d.run();
    let web = figures(&r, "website");
    assert_eq!(web.down_seconds, 5.0 * 3_600.0, "still DOWN time");
    assert_eq!(web.availability_percent, Some(50.0));
    assert_eq!(web.unreachable_down_seconds, 3.5 * 3_600.0);
    assert_eq!(r.total.unreachable_down_seconds, 3.5 * 3_600.0);
    let text = table::render(&r, &TimeZone::UTC);
    assert!(text.contains("UNREACHABLE"), "{text}");
}

#[test]
fn night_pages_are_judged_in_each_persons_zone() {
    let mut d = ReportData::new(FROM, TO);
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
    to_notifier.to_person = false;
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
fn table_columns_line_up_and_definitions_follow() {
    let mut d = ReportData::new(FROM, TO);
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
fn person_zones_come_from_their_schedule_else_the_daemon() {
    use oncalld::config::{Config, DaemonConfig, Override, Person, Schedule};
    use std::collections::BTreeMap;
    let tokyo = TimeZone::get("Asia/Tokyo").unwrap();
    let schedule = |zone: &TimeZone, rotation: &[&str], overrides: Vec<Override>| Schedule {
        time_zone: zone.clone(),
        rotation: rotation.iter().map(|p| p.to_string()).collect(),
        shift: std::time::Duration::from_secs(7 * 86_400),
        start: "2026-01-05T09:00".parse().unwrap(),
        period: None,
        overrides,
    };
    let carol_covers = vec![Override {
        person: "carol".into(),
        from: "2026-12-24T00:00".parse().unwrap(),
        until: "2026-12-26T00:00".parse().unwrap(),
    }];
    let people =
        ["alice", "bob", "carol", "dave"].map(|p| (p.to_string(), Person { notify: vec![] }));
    let config = Config {
        path: "checks.toml".into(),
        daemon: DaemonConfig {
            state_dir: None,
            socket: None,
            socket_mode: 0o660,
            socket_group: None,
            listen: None,
            time_zone: TimeZone::UTC,
            instance: "test-host".into(),
        },
        checks: vec![],
        notifiers: BTreeMap::new(),
        people: people.into_iter().collect(),
        periods: BTreeMap::new(),
        schedules: BTreeMap::from([
            (
                "europe".to_string(),
                schedule(&paris(), &["alice", "bob"], vec![]),
            ),
            (
                "japan".to_string(),
                schedule(&tokyo, &["bob"], carol_covers),
            ),
        ]),
        policies: BTreeMap::new(),
        sources: BTreeMap::new(),
        status_page: Default::default(),
    };
    let zones = oncalld::report::stats::person_zones(&config);
    let names: Vec<(&str, Option<&str>)> = zones
        .iter()
        .map(|(p, z)| (p.as_str(), z.iana_name()))
        .collect();
    assert_eq!(
        names,
        [
            ("alice", Some("Europe/Paris")),
            // In two schedules: the first by name.
            ("bob", Some("Europe/Paris")),
            // Only in an override.
            ("carol", Some("Asia/Tokyo")),
            // In no schedule: the daemon's zone.
            ("dave", Some("UTC")),
        ]
    );
}
