//! Measurements, not assertions (speed is not tested): run with
//! `cargo test --release --test store_latency -- --ignored --nocapture`.

mod store_support;

use std::time::{Duration, Instant};

use oncalld::core::model::{EventKind, IncidentId};
use oncalld::store::{Batch, IncidentFilter};
use store_support::*;

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted[i]
}

/// One engine step (incident + event + two pages) per commit, with the store's own
/// `synchronous = FULL`; then the same-sized raw write with NORMAL for comparison.
#[test]
#[ignore = "measurement; run explicitly"]
fn commit_latency() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open(&dir);
    let mut times = Vec::new();
    for id in 1..=300 {
        let batch = trigger_batch(id, "website", id as i64);
        let start = Instant::now();
        store.commit(&batch).unwrap();
        times.push(start.elapsed());
    }
    times.sort();
    println!(
        "store commit (WAL, synchronous=FULL): p50 {:?} p99 {:?} max {:?}",
        percentile(&times, 0.5),
        percentile(&times, 0.99),
        times[times.len() - 1]
    );
    for sync in ["FULL", "NORMAL"] {
        let dir = tempfile::tempdir().unwrap();
        let conn = rusqlite::Connection::open(dir.path().join("raw.db")).unwrap();
        conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get::<_, String>(0))
            .unwrap();
        conn.pragma_update(None, "synchronous", sync).unwrap();
        conn.execute_batch("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)")
            .unwrap();
        let mut times = Vec::new();
        for i in 0..300 {
            let start = Instant::now();
            conn.execute("INSERT INTO t (id, v) VALUES (?1, 'x')", [i])
                .unwrap();
            times.push(start.elapsed());
        }
        times.sort();
        println!(
            "raw one-row commit (WAL, synchronous={sync}): p50 {:?} p99 {:?}",
            percentile(&times, 0.5),
            percentile(&times, 0.99)
        );
    }
}

/// The report's scale: 100,000 incidents and 1,000,000 events over a year.
#[test]
#[ignore = "measurement; run explicitly (builds a ~1M-row database)"]
fn report_queries_at_scale() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open(&dir);
    let year = 365 * 24 * 3600;
    let step = year / 100_000;
    let start = Instant::now();
    for chunk in 0..100u64 {
        let mut batch = Batch::default();
        for n in 0..1000u64 {
            let id: IncidentId = chunk * 1000 + n + 1;
            let opened = -year + (id as i64) * step;
            let mut i = resolved(
                acked(incident(id, "website", opened), opened + 60, "bob"),
                opened + 600,
            );
            i.next_seq = 11;
            batch.incidents.push(i);
            for seq in 1..=10u32 {
                let kind = match seq {
                    1 => EventKind::Triggered,
                    5 => EventKind::Acknowledged,
                    10 => EventKind::Resolved,
                    _ => EventKind::Note,
                };
                batch
                    .events
                    .push(event(id, seq, opened + seq as i64 * 60, kind));
            }
            batch.pages.push(page(id, 1, "alice", "mail", opened));
        }
        store.commit(&batch).unwrap();
    }
    println!("built 100k incidents / 1M events in {:?}", start.elapsed());
    let (from, to) = (t(-year), t(1));
    let timed = |what: &str, f: &dyn Fn() -> usize| {
        let start = Instant::now();
        let n = f();
        println!("{what}: {n} rows in {:?}", start.elapsed());
    };
    timed("incidents_in 365d", &|| {
        store.incidents_in(from, to).unwrap().len()
    });
    timed("acks_in 365d", &|| store.acks_in(from, to).unwrap().len());
    timed("pages_in 365d", &|| store.pages_in(from, to).unwrap().len());
    timed("events_in 365d (all 1M)", &|| {
        store.events_in(from, to).unwrap().len()
    });
    timed("timeline of one incident", &|| {
        store.timeline(50_000).unwrap().len()
    });
    let since = Some(t(-3600 * 24));
    let filter = IncidentFilter {
        open_only: false,
        since,
    };
    timed("incidents since 1 day", &|| {
        store.incidents(filter).unwrap().len()
    });
}
