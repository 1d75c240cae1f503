//! Pure-compute part of `oncalld report` and `oncalld postmortem` (no store): the targets for
//! the whole path are < 1 s for a year of 100,000 incidents and < 100 ms for a postmortem of
//! an incident with 10,000 events, so these should be far below.

#[path = "../tests/report_fixtures/mod.rs"]
mod report_fixtures;

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use jiff::tz::TimeZone;
use oncalld::report::postmortem::{self, PostmortemInput};
use oncalld::report::stats::{self, ReportInput};
use oncalld::report::table;

fn report_year(c: &mut Criterion) {
    let data = report_fixtures::synthetic(100_000, 42);
    eprintln!(
        "report input: {} incidents, {} derived inputs (acks, transitions, pages)",
        data.incidents.len(),
        data.derived_inputs()
    );
    let zone = TimeZone::get("Europe/Paris").unwrap();
    let input = ReportInput {
        from: data.from,
        to: data.to,
        incidents: &data.incidents,
        first_acks: &data.first_acks,
        transitions: &data.transitions,
        silences: &data.silences,
        pages: &data.pages,
        checks: &data.checks,
        person_zones: &data.person_zones,
        default_zone: &zone,
        unreachable: &[],
    };
    c.bench_function("report 100k incidents", |b| {
        b.iter(|| stats::report(black_box(&input)))
    });
    let report = stats::report(&input);
    c.bench_function("report table", |b| {
        b.iter(|| table::render(black_box(&report), &zone))
    });
}

fn postmortem_big(c: &mut Criterion) {
    let (incident, events, attempts) = report_fixtures::big_incident(10_000);
    let zone = TimeZone::get("Europe/Paris").unwrap();
    let input = PostmortemInput {
        incident: &incident,
        events: &events,
        attempts: &attempts,
        transitions: &[],
        check: None,
        zone: &zone,
        now: incident.resolved_at.unwrap_or(incident.opened_at),
    };
    c.bench_function("postmortem 10k events", |b| {
        b.iter(|| postmortem::render(black_box(&input)))
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3));
    targets = report_year, postmortem_big
}
criterion_main!(benches);
