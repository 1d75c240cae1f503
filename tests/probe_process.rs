//! Process probes against real child processes: a copy of /bin/sleep under a unique name.

use std::process::{Child, Command};
use std::time::Duration;

use oncalld::config::{ProbeConfig, ProcessMatch};
use oncalld::probe::{ProbeResult, Probes, Status, run_probe};

struct Sleepers {
    _dir: tempfile::TempDir,
    name: String,
    children: Vec<Child>,
}

impl Drop for Sleepers {
    fn drop(&mut self) {
        for c in &mut self.children {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// `count` processes named `name` (a copy of sleep), with a marker argument.
fn sleepers(count: usize) -> Sleepers {
    let dir = tempfile::tempdir().unwrap();
    let name = format!("oc{}", fastrand::u32(..)); // comm is at most 15 bytes
    let exe = dir.path().join(&name);
    std::fs::copy("/bin/sleep", &exe).unwrap();
    let children = (0..count)
        .map(|_| Command::new(&exe).arg("30.123").spawn().unwrap())
        .collect();
    Sleepers {
        _dir: dir,
        name,
        children,
    }
}

async fn probe(probes: &Probes, process: &str, match_on: ProcessMatch, min: u32) -> ProbeResult {
    let cfg = ProbeConfig::Process {
        process: process.to_string(),
        match_on,
        min_count: min,
    };
    let p = probes.build(&cfg);
    run_probe(p.as_ref(), Duration::from_secs(5)).await
}

#[tokio::test]
async fn by_name_and_count() {
    let s = sleepers(2);
    let probes = Probes::new();
    let r = probe(&probes, &s.name, ProcessMatch::Name, 1).await;
    assert_eq!(r.status, Status::Ok, "{}", r.message);
    assert_eq!(r.message, format!("2 processes named {:?}", s.name));
    assert_eq!(r.perfdata[0].value, 2.0);

    let r = probe(&probes, &s.name, ProcessMatch::Name, 3).await;
    assert_eq!(r.status, Status::Critical);
    assert_eq!(r.message, format!("2 processes named {:?} (min 3)", s.name));

    // Exact name: a prefix is not a match.
    let r = probe(&probes, &s.name[..s.name.len() - 1], ProcessMatch::Name, 1).await;
    assert_eq!(r.status, Status::Critical, "{}", r.message);
}

#[tokio::test]
async fn by_command_line() {
    let s = sleepers(1);
    let probes = Probes::new();
    let needle = format!("{} 30.123", s.name);
    let r = probe(&probes, &needle, ProcessMatch::Cmdline, 1).await;
    assert_eq!(r.status, Status::Ok, "{}", r.message);
    assert!(r.message.starts_with("1 process with"), "{}", r.message);
    let r = probe(&probes, &format!("{} 99", s.name), ProcessMatch::Cmdline, 1).await;
    assert_eq!(r.status, Status::Critical, "{}", r.message);
}

#[tokio::test]
async fn absent_process_is_critical() {
    let probes = Probes::new();
    let r = probe(&probes, "no-such-proc-xyz", ProcessMatch::Name, 1).await;
    assert_eq!(r.status, Status::Critical);
    assert_eq!(r.message, "0 processes named \"no-such-proc-xyz\" (min 1)");
}

#[tokio::test]
async fn the_snapshot_is_shared_and_refreshed_after_a_second() {
    let probes = Probes::new();
    let s = sleepers(1);
    let taken = std::time::Instant::now();
    assert_eq!(
        probe(&probes, &s.name, ProcessMatch::Name, 1).await.status,
        Status::Ok
    );
    let name = s.name.clone();
    drop(s); // killed and reaped
    // Another check within the second reads the same snapshot, so it still sees the process
    // (only asserted when this machine was quick enough to be within the second).
    let r = probe(&probes, &name, ProcessMatch::Name, 1).await;
    if taken.elapsed() < Duration::from_millis(900) {
        assert_eq!(r.status, Status::Ok, "{}", r.message);
    }
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let r = probe(&probes, &name, ProcessMatch::Name, 1).await;
    assert_eq!(r.status, Status::Critical, "{}", r.message);
}
