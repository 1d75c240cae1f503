//! Engine speed: check-state inputs per second with 10,000 checks and 1,000 open incidents,
//! and "who is on call" for random instants of a year-long schedule with overrides.
//!
//! `engine_storm`: probe results (every result, as the daemon feeds them) with every check
//! behind a parent and flap detection on (SPEC §12).
//!
//! Run with `cargo bench --bench engine`. Targets: >= 1,000,000 inputs/s on one core;
//! < 10 µs per `who` query.

use std::collections::BTreeMap;
use std::hint::black_box;
use std::sync::Arc;
use std::time::Duration;

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use jiff::civil::{self, DateTime};
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};
use oncalld::config::{
    CheckConfig, Config, ContactMethod, DaemonConfig, NotifierConfig, Override, PageOn, Period,
    Person, Policy, ProbeConfig, Schedule, Step, Target, Window,
};
use oncalld::core::check_state::{CheckState, Transition};
use oncalld::core::engine::{Engine, Input, who};
use oncalld::core::oncall::on_call;

const CHECKS: usize = 10_000;
const OPEN: usize = 1_000;

fn config() -> Arc<Config> {
    let people: BTreeMap<String, Person> = (0..8)
        .map(|i| {
            let notify = vec![ContactMethod {
                via: "mail".into(),
                to: format!("p{i}@example.com"),
            }];
            (format!("p{i}"), Person { notify })
        })
        .collect();
    let start: DateTime = "2026-01-05T09:00".parse().unwrap();
    // One override a week all year, a day long.
    let overrides = (0..52)
        .map(|w| {
            let from = start + SignedDuration::from_hours(24 * 7 * w + 48);
            Override {
                person: format!("p{}", w % 8),
                from,
                until: from + SignedDuration::from_hours(24),
            }
        })
        .collect();
    let schedule = Schedule {
        time_zone: TimeZone::get("Europe/Paris").unwrap(),
        rotation: (0..8).map(|i| format!("p{i}")).collect(),
        shift: Duration::from_secs(7 * 86_400),
        start,
        period: Some("workhours".into()),
        overrides,
    };
    let workhours = Period {
        windows: vec![Window {
            days: [true, true, true, true, true, false, false],
            start: civil::time(8, 0, 0, 0),
            end: Some(civil::time(20, 0, 0, 0)),
        }],
    };
    let policy = Policy {
        repeat: 2,
        group_wait: None,
        ack_timeout: Some(Duration::from_secs(1800)),
        steps: vec![
            Step {
                notify: vec![Target::Schedule("primary".into())],
                escalate_after: Duration::from_secs(900),
            },
            Step {
                notify: vec![Target::Person("p1".into()), Target::Notifier("chat".into())],
                escalate_after: Duration::from_secs(1800),
            },
        ],
    };
    let checks = (0..CHECKS).map(check).collect();
    Arc::new(Config {
        path: "bench.toml".into(),
        daemon: DaemonConfig {
            state_dir: None,
            socket: None,
            socket_mode: 0o660,
            socket_group: None,
            listen: None,
            time_zone: TimeZone::UTC,
            instance: "test-host".into(),
        },
        checks,
        notifiers: BTreeMap::from([
            ("mail".to_string(), NotifierConfig::Console),
            ("chat".to_string(), NotifierConfig::Console),
        ]),
        people,
        periods: BTreeMap::from([("workhours".to_string(), workhours)]),
        schedules: BTreeMap::from([("primary".to_string(), schedule)]),
        policies: BTreeMap::from([("default".to_string(), policy)]),
        sources: BTreeMap::new(),
        status_page: Default::default(),
    })
}

fn check(i: usize) -> CheckConfig {
    CheckConfig {
        name: format!("check-{i}"),
        probe: ProbeConfig::Tcp {
            address: "127.0.0.1:1".into(),
        },
        interval: Duration::from_secs(30),
        timeout: Duration::from_secs(10),
        retries: 3,
        retry_interval: Duration::from_secs(10),
        recoveries: 1,
        policy: "default".into(),
        auto_resolve: true,
        page_on: PageOn::Critical,
        depends_on: Vec::new(),
        flap: None,
    }
}

fn transition(i: usize, from: CheckState, to: CheckState) -> Input {
    Input::Check {
        check: format!("check-{i}"),
        transition: Transition { from, to },
        message: "HTTP 500 in 12 ms".into(),
    }
}

fn engine_with_open(now: Timestamp) -> Engine {
    let mut engine = Engine::new(config());
    for i in 0..OPEN {
        let input = transition(i, CheckState::Failing { attempt: 2 }, CheckState::Down);
        engine.handle(input, now).unwrap();
    }
    engine
}

/// `n` inputs: soft transitions over every check, and, with `hard_every`, a DOWN then UP pair
/// (open, then auto-resolve) on a check without an incident every `hard_every` inputs.
fn stream(n: usize, hard_every: Option<usize>) -> Vec<Input> {
    let mut rng = fastrand::Rng::with_seed(7);
    let failing = CheckState::Failing { attempt: 1 };
    (0..n)
        .map(|k| {
            let i = rng.usize(..CHECKS);
            match hard_every {
                Some(h) if k % h == 0 => {
                    transition(OPEN + k / h % (CHECKS - OPEN), failing, CheckState::Down)
                }
                Some(h) if k % h == 1 => transition(
                    OPEN + k / h % (CHECKS - OPEN),
                    CheckState::Down,
                    CheckState::Up,
                ),
                _ if k % 2 == 0 => transition(i, CheckState::Up, failing),
                _ => transition(i, failing, CheckState::Up),
            }
        })
        .collect()
}

fn bench_inputs(c: &mut Criterion) {
    let now: Timestamp = "2026-03-02T10:00:00Z".parse().unwrap();
    let mut group = c.benchmark_group("engine");
    group.measurement_time(Duration::from_secs(4));
    group.warm_up_time(Duration::from_secs(1));
    group.sample_size(20);
    const N: usize = 10_000;
    group.throughput(Throughput::Elements(N as u64));
    for (name, hard) in [("soft_transitions", None), ("one_percent_hard", Some(100))] {
        let mut engine = engine_with_open(now);
        let inputs = stream(N, hard);
        group.bench_function(name, |b| {
            b.iter_batched(
                || inputs.clone(),
                |inputs| {
                    for input in inputs {
                        black_box(engine.handle(input, now).unwrap());
                    }
                },
                BatchSize::LargeInput,
            )
        });
    }
    group.finish();
}

/// The storm config: every check behind one of 100 parents (`depends_on`), flap detection on.
fn storm_config() -> Arc<Config> {
    let mut cfg = (*config()).clone();
    for (i, c) in cfg.checks.iter_mut().enumerate() {
        if i >= 100 {
            c.depends_on = vec![format!("check-{}", i % 100)];
        }
        c.flap = Some(oncalld::config::FlapThresholds::default());
    }
    Arc::new(cfg)
}

/// `n` probe results as the scheduler sends them: 1% failures (a soft UP -> FAILING, then
/// back UP on the next result of that check), the rest OK without a change.
fn probe_stream(n: usize) -> Vec<Input> {
    let mut rng = fastrand::Rng::with_seed(13);
    let failing = CheckState::Failing { attempt: 1 };
    let mut pending: Vec<usize> = Vec::new();
    (0..n)
        .map(|k| {
            if let Some(i) = pending.pop().filter(|_| k % 2 == 0) {
                return probe(i, false, Some((failing, CheckState::Up)));
            }
            let i = rng.usize(..CHECKS);
            if rng.u32(..100) == 0 {
                pending.push(i);
                probe(i, true, Some((CheckState::Up, failing)))
            } else {
                probe(i, false, None)
            }
        })
        .collect()
}

fn probe(i: usize, failed: bool, t: Option<(CheckState, CheckState)>) -> Input {
    Input::Probe {
        check: format!("check-{i}"),
        failed,
        transition: t.map(|(from, to)| Transition { from, to }),
        message: "HTTP 200 in 12 ms".into(),
    }
}

fn bench_storm_inputs(c: &mut Criterion) {
    let now: Timestamp = "2026-03-02T10:00:00Z".parse().unwrap();
    let mut group = c.benchmark_group("engine_storm");
    group.measurement_time(Duration::from_secs(4));
    group.warm_up_time(Duration::from_secs(1));
    group.sample_size(20);
    const N: usize = 10_000;
    group.throughput(Throughput::Elements(N as u64));
    let mut engine = Engine::new(storm_config());
    for i in 0..OPEN {
        let input = transition(i, CheckState::Failing { attempt: 2 }, CheckState::Down);
        engine.handle(input, now).unwrap();
    }
    let inputs = probe_stream(N);
    group.bench_function("probe_results_deps_flap", |b| {
        b.iter_batched(
            || inputs.clone(),
            |inputs| {
                for input in inputs {
                    black_box(engine.handle(input, now).unwrap());
                }
            },
            BatchSize::LargeInput,
        )
    });
    group.finish();
}

fn bench_who(c: &mut Criterion) {
    let cfg = config();
    let mut rng = fastrand::Rng::with_seed(11);
    let year_start: Timestamp = "2026-01-01T00:00:00Z".parse().unwrap();
    let instants: Vec<Timestamp> = (0..1024)
        .map(|_| year_start + SignedDuration::from_secs(rng.i64(0..365 * 86_400)))
        .collect();
    let schedule = &cfg.schedules["primary"];
    let mut group = c.benchmark_group("oncall");
    group.measurement_time(Duration::from_secs(3));
    group.warm_up_time(Duration::from_secs(1));
    group.sample_size(20);
    group.throughput(Throughput::Elements(instants.len() as u64));
    group.bench_function("on_call_1024_instants", |b| {
        b.iter(|| {
            for t in &instants {
                black_box(on_call(schedule, &cfg.periods, *t));
            }
        })
    });
    group.bench_function("who_1024_instants", |b| {
        b.iter(|| {
            for t in &instants {
                black_box(who(&cfg, "default", *t).unwrap());
            }
        })
    });
    group.finish();
}

criterion_group!(benches, bench_inputs, bench_storm_inputs, bench_who);
criterion_main!(benches);
