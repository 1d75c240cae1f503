//! Report incident figures (counts, MTTA, MTTR, percentiles, JSON) against values worked out
//! by hand in each test.

mod report_fixtures;

use jiff::tz::TimeZone;
use oncalld::core::model::{EventKind, IncidentState};
use oncalld::report::stats::{self, Report, ReportInput, nearest_rank};
use oncalld::report::table;
use report_fixtures::*;

#[test]
fn zero_incidents_in_the_window() {
    let mut d = ReportData::new(FROM, TO);
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
    let mut d = ReportData::new(FROM, TO);
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
    let mut d = ReportData::new(FROM, TO);
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
    let mut d = ReportData::new(FROM, TO);
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
fn report_json_has_seconds_and_reads_back() {
    let mut d = ReportData::new(FROM, TO);
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
fn checks_seen_only_in_the_data_are_reported_after_configured_ones() {
    let mut d = ReportData::new(FROM, TO);
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
        unreachable: &[],
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
