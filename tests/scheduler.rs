//! The scheduler with short real intervals and real probes (`true`, `false`, scripts, a
//! listener that never answers). Assertions are on states, order and the computed schedule,
//! never on how fast something ran.

use std::collections::HashMap;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::time::Duration;

use oncalld::config::{CheckConfig, HttpProbe, PageOn, ProbeConfig};
use oncalld::core::check_state::{CheckState, CheckTracker};
use oncalld::daemon::scheduler::{CheckReport, Scheduler};
use tokio::sync::mpsc;

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn check(name: &str, argv: &[&str]) -> CheckConfig {
    CheckConfig {
        name: name.to_string(),
        probe: ProbeConfig::Command {
            command: argv.iter().map(|s| s.to_string()).collect(),
        },
        interval: ms(200),
        timeout: Duration::from_secs(2),
        retries: 3,
        retry_interval: ms(100),
        recoveries: 1,
        policy: "default".into(),
        auto_resolve: true,
        page_on: PageOn::Critical,
        depends_on: Vec::new(),
        flap: None,
    }
}

/// The next report of `name`, skipping others; the bound only keeps a broken test from hanging.
async fn next_of(rx: &mut mpsc::Receiver<CheckReport>, name: &str) -> CheckReport {
    tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            let r = rx.recv().await.expect("channel open");
            if r.check == name {
                return r;
            }
        }
    })
    .await
    .expect("a report within 10 s")
}

fn is_multiple(d: Duration, of: Duration) -> bool {
    d > Duration::ZERO && d.as_nanos() % of.as_nanos() == 0
}

#[tokio::test]
async fn failing_then_down_at_retry_interval_then_interval() {
    let (tx, mut rx) = mpsc::channel(64);
    let mut c = check("broken", &["false"]); // exit 1 = WARNING
    c.page_on = PageOn::Warning;
    c.interval = ms(600);
    c.retry_interval = ms(150);
    let s = Scheduler::start(&[c], HashMap::new(), tx);
    let mut reports = Vec::new();
    for _ in 0..4 {
        reports.push(next_of(&mut rx, "broken").await);
    }
    let states: Vec<String> = reports.iter().map(|r| r.state.to_string()).collect();
    assert_eq!(states, ["FAILING(1)", "FAILING(2)", "DOWN", "DOWN"]);
    let t = reports[2].transition.unwrap();
    assert!(t.is_hard());
    assert_eq!(t.from, CheckState::Failing { attempt: 2 });
    assert!(reports[3].transition.is_none());
    // While FAILING the next run is retry_interval later; once DOWN, interval later.
    assert!(is_multiple(reports[1].due - reports[0].due, ms(150)));
    assert!(reports[1].due - reports[0].due < ms(600));
    assert!(is_multiple(reports[2].due - reports[1].due, ms(150)));
    assert!(is_multiple(reports[3].due - reports[2].due, ms(600)));
    assert!(reports.iter().all(|r| r.started >= r.due));
    let trackers = s.shutdown().await;
    assert_eq!(trackers["broken"].state, CheckState::Down);
}

fn flag_script(dir: &Path) -> (String, std::path::PathBuf) {
    let flag = dir.join("healthy");
    let path = dir.join("plugin");
    let body = format!(
        "#!/bin/sh\n[ -e {} ] && {{ echo up; exit 0; }}\necho down; exit 2\n",
        flag.display()
    );
    std::fs::write(&path, body).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    (path.to_str().unwrap().to_string(), flag)
}

#[tokio::test]
async fn recovers_after_recoveries_successes() {
    let dir = tempfile::tempdir().unwrap();
    let (plugin, flag) = flag_script(dir.path());
    let (tx, mut rx) = mpsc::channel(64);
    let mut c = check("svc", &[&plugin]);
    c.retries = 1;
    c.recoveries = 2;
    c.interval = ms(100);
    let s = Scheduler::start(&[c], HashMap::new(), tx);
    let r = next_of(&mut rx, "svc").await;
    assert_eq!(r.state, CheckState::Down);
    assert_eq!(r.result.message, "down");
    std::fs::write(&flag, "").unwrap();
    // Skip results that raced with creating the flag.
    let mut r = next_of(&mut rx, "svc").await;
    while r.result.message == "down" {
        r = next_of(&mut rx, "svc").await;
    }
    assert_eq!(r.state, CheckState::Down, "one success of two");
    let r = next_of(&mut rx, "svc").await;
    assert_eq!(r.state, CheckState::Up);
    let t = r.transition.unwrap();
    assert_eq!((t.from, t.to), (CheckState::Down, CheckState::Up));
    s.shutdown().await;
}

#[tokio::test]
async fn initial_trackers_are_used() {
    let (tx, mut rx) = mpsc::channel(64);
    let initial = HashMap::from([("ok".to_string(), CheckTracker::new(CheckState::Down))]);
    let s = Scheduler::start(&[check("ok", &["true"])], initial, tx);
    let r = next_of(&mut rx, "ok").await;
    let t = r.transition.expect("DOWN -> UP");
    assert_eq!((t.from, t.to), (CheckState::Down, CheckState::Up));
    s.shutdown().await;
}

#[tokio::test]
async fn a_hanging_target_does_not_delay_other_checks() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    // Accept and never answer.
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((sock, _)) = listener.accept().await {
            held.push(sock);
        }
    });
    let mut hang = check("hang", &[]);
    hang.probe = ProbeConfig::Http(HttpProbe {
        url: format!("http://{addr}/"),
        method: "GET".into(),
        headers: Default::default(),
        expect_status: vec![200],
        max_latency: None,
        body_contains: None,
        tls_verify: true,
        ca_file: None,
        cert_expiry: None,
        zone: jiff::tz::TimeZone::UTC,
    });
    hang.interval = ms(50);
    hang.timeout = Duration::from_secs(4);
    let mut quick = check("quick", &["true"]);
    quick.interval = ms(60);
    let (tx, mut rx) = mpsc::channel(64);
    let s = Scheduler::start(&[hang, quick], HashMap::new(), tx);
    for _ in 0..5 {
        let r = tokio::time::timeout(Duration::from_secs(10), rx.recv())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            r.check, "quick",
            "the hanging probe answered before 5 quick runs"
        );
    }
    s.shutdown().await;
}

#[tokio::test]
async fn reload_keeps_state_of_checks_that_stay() {
    let (tx, mut rx) = mpsc::channel(256);
    let mut keep = check("keep", &["false"]);
    keep.page_on = PageOn::Warning;
    keep.retries = 50;
    keep.retry_interval = ms(30);
    let gone = check("gone", &["true"]);
    let mut s = Scheduler::start(&[keep.clone(), gone], HashMap::new(), tx);
    loop {
        let r = next_of(&mut rx, "keep").await;
        if r.state == (CheckState::Failing { attempt: 2 }) {
            break;
        }
    }
    let new = check("new", &["true"]);
    s.reload(&[keep.clone(), new.clone()]).await;
    let mut names: Vec<&str> = s.checks().collect();
    names.sort();
    assert_eq!(names, ["keep", "new"]);
    while rx.try_recv().is_ok() {}
    let mut seen_new = false;
    for _ in 0..20 {
        let r = tokio::time::timeout(Duration::from_secs(10), rx.recv())
            .await
            .unwrap()
            .unwrap();
        assert_ne!(r.check, "gone", "a removed check still runs");
        if r.check == "keep" {
            assert!(
                matches!(r.state, CheckState::Failing { attempt } if attempt >= 3),
                "{:?}",
                r.state
            );
        }
        seen_new |= r.check == "new";
    }
    assert!(seen_new);

    // A changed config under the same name restarts the task but keeps the state.
    let before = next_of(&mut rx, "keep").await.state;
    keep.retry_interval = ms(40);
    s.reload(&[keep, new]).await;
    while rx.try_recv().is_ok() {}
    let after = next_of(&mut rx, "keep").await.state;
    let (CheckState::Failing { attempt: a }, CheckState::Failing { attempt: b }) = (before, after)
    else {
        panic!("{before:?} {after:?}");
    };
    assert!(b > a, "{before:?} then {after:?}");
    let trackers = s.shutdown().await;
    assert_eq!(trackers.len(), 2);
}
