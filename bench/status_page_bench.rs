//! Status page benchmark (SPEC §14: 1,000 checks render in < 50 ms, server side): builds the
//! snapshot of 1,000 checks — 90 days of transitions (a DOWN hour every third day for every
//! tenth check), 96 latency buckets each, 100 open incidents — and renders HTML and JSON, as
//! the daemon does once per refresh. Prints the mean and the worst of N runs and the page size.
//!
//! `cargo run --release --example status_page_bench [CHECKS] [RUNS]`

use std::collections::HashMap;
use std::time::{Duration, Instant};

use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};
use oncalld::api::types::{CheckView, IncidentView};
use oncalld::config::StatusPageConfig;
use oncalld::core::check_state::CheckState;
use oncalld::core::model::{CheckTransitionRecord, IncidentState};
use oncalld::status_page::{Input, LatencyHistory, Rendered, snapshot};

fn main() {
    let mut args = std::env::args().skip(1);
    let n: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(1000);
    let runs: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(20);
    let now = Timestamp::now();
    let zone = TimeZone::get("Europe/Paris").unwrap_or(TimeZone::UTC);
    let checks: Vec<CheckView> = (0..n).map(|i| view(i, now)).collect();
    let mut transitions = Vec::new();
    for day in (0..90).rev() {
        for i in (0..n).step_by(10) {
            if day % 3 == 0 {
                let at = now - SignedDuration::from_hours(24 * day + 5);
                transitions.push(t(i, at, CheckState::Up, CheckState::Down));
                let back = at + SignedDuration::from_hours(1);
                transitions.push(t(i, back, CheckState::Down, CheckState::Up));
            }
        }
    }
    transitions.sort_by_key(|t| t.at);
    let mut latency = HashMap::new();
    for c in &checks {
        let mut h = LatencyHistory::default();
        for k in 0..(96 * 30) {
            let at = now - SignedDuration::from_secs(30 * (96 * 30 - k) as i64);
            h.record(at, Duration::from_millis(5 + (k % 17) as u64));
        }
        latency.insert(c.name.clone(), h.points(now));
    }
    let incidents: Vec<IncidentView> = (0..100).map(|i| incident(i, now)).collect();
    let config = StatusPageConfig {
        enabled: true,
        title: "Benchmark".into(),
        checks: vec!["*".into()],
    };
    let input = Input {
        config: &config,
        checks: &checks,
        transitions: &transitions,
        latency: &latency,
        open_incidents: &incidents,
        history_since: now - SignedDuration::from_hours(24 * 100),
        zone: &zone,
        now,
    };
    let mut times = Vec::new();
    let mut size = 0;
    let mut parts = [Duration::ZERO; 3];
    for _ in 0..runs {
        let start = Instant::now();
        let s = snapshot(&input);
        let page = Rendered::new(s, &zone);
        times.push(start.elapsed());
        size = page.html.len() + page.json().len();
        // The same three steps timed one by one.
        let t0 = Instant::now();
        let s = snapshot(&input);
        let t1 = Instant::now();
        let html = oncalld::status_page::html::render(&s, &zone);
        let t2 = Instant::now();
        let json = serde_json::to_vec(&s).unwrap_or_default();
        let t3 = Instant::now();
        std::hint::black_box((html, json));
        parts[0] += t1 - t0;
        parts[1] += t2 - t1;
        parts[2] += t3 - t2;
    }
    let ms = |d: Duration| d.as_secs_f64() * 1000.0 / runs as f64;
    println!(
        "  of which snapshot {:.1} ms, HTML {:.1} ms, JSON {:.1} ms",
        ms(parts[0]),
        ms(parts[1]),
        ms(parts[2])
    );
    let mean = times.iter().sum::<Duration>() / runs as u32;
    let max = times.iter().max().copied().unwrap_or_default();
    println!(
        "{n} checks, {} transitions: snapshot + HTML + JSON mean {:.1} ms, max {:.1} ms over {runs} runs; {:.1} MB out",
        transitions.len(),
        mean.as_secs_f64() * 1000.0,
        max.as_secs_f64() * 1000.0,
        size as f64 / 1e6
    );
}

fn view(i: usize, now: Timestamp) -> CheckView {
    let down = i % 50 == 0;
    serde_json::from_value(serde_json::json!({
        "name": format!("check-{i:04}"),
        "type": "http",
        "target": "https://example.com/",
        "state": if down { "DOWN" } else { "UP" },
        "attempt": 0,
        "since": now,
        "last_status": if down { "CRITICAL" } else { "OK" },
        "last_message": "HTTP 200 in 12 ms",
        "last_duration_ms": 12,
        "last_at": now,
        "silenced": i % 97 == 0,
    }))
    .expect("a CheckView")
}

fn t(i: usize, at: Timestamp, from: CheckState, to: CheckState) -> CheckTransitionRecord {
    CheckTransitionRecord {
        check: format!("check-{i:04}"),
        at,
        from,
        to,
        message: String::new(),
    }
}

fn incident(i: u64, now: Timestamp) -> IncidentView {
    serde_json::from_value(serde_json::json!({
        "id": i + 1,
        "check": format!("check-{:04}", i * 10),
        "state": IncidentState::Triggered,
        "summary": "down",
        "policy": "default",
        "opened_at": now,
        "step": 1,
    }))
    .expect("an IncidentView")
}
