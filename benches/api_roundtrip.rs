//! The API layer's share of `oncalld status --json` and of a run of acks: HTTP over the real
//! Unix socket, JSON both ways, with an in-memory backend (10,000 checks, 1,000 open
//! incidents). The daemon's storage cost comes on top; the lead's end-to-end benchmark measures
//! the whole.

#[path = "../tests/api_support/mod.rs"]
mod api_support;

use std::hint::black_box;

use api_support::{Recorder, incident, start_with};
use criterion::{Criterion, criterion_group, criterion_main};
use oncalld::api::types::{CheckView, IncidentView, MessageBody, StatusView};
use oncalld::api::{Client, ServeOptions};
use oncalld::core::model::IncidentState;

fn big_backend() -> std::sync::Arc<Recorder> {
    let r = Recorder::new();
    let checks: Vec<CheckView> = (0..10_000)
        .map(|n| CheckView {
            name: format!("check-{n}"),
            kind: "http".into(),
            target: format!("https://host-{n}.example/health"),
            state: if n % 10 == 0 { "DOWN" } else { "UP" }.into(),
            attempt: 0,
            since: Some(api_support::t0()),
            last_status: Some("OK".into()),
            last_message: Some("HTTP 200 in 12 ms".into()),
            last_duration_ms: Some(12),
            last_at: Some(api_support::t0()),
            silenced: false,
            unreachable: Vec::new(),
            flapping: None,
            last_ping: None,
            expected_next: None,
        })
        .collect();
    *r.checks.lock().unwrap() = Some(checks);
    let incidents: Vec<IncidentView> = (1..=1_000)
        .map(|n| incident(n, &format!("check-{n}"), IncidentState::Triggered))
        .collect();
    *r.incidents.lock().unwrap() = incidents;
    r
}

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let running = rt.block_on(start_with(big_backend(), ServeOptions::default()));
    let client = Client::new(&running.path);
    c.bench_function("status --json, 10k checks, 1k incidents", |b| {
        b.iter(|| {
            rt.block_on(async {
                // What `oncalld status --json` does: raw body, one typed parse for the exit code.
                let raw = client.get_bytes("/v1/status").await.unwrap();
                let v: StatusView = serde_json::from_slice(&raw).unwrap();
                black_box((raw, v))
            })
        })
    });
    let mut group = c.benchmark_group("acks");
    group.sample_size(10);
    group.bench_function("1000 acks in a row", |b| {
        b.iter(|| {
            rt.block_on(async {
                for id in 1..=1_000u64 {
                    let body = MessageBody {
                        message: Some("on it".into()),
                    };
                    let v: IncidentView = client
                        .post_json(&format!("/v1/incidents/{id}/ack"), &body)
                        .await
                        .unwrap();
                    black_box(v);
                }
            })
        })
    });
    group.finish();
    rt.block_on(running.shutdown());
}

criterion_group!(benches, bench);
criterion_main!(benches);
