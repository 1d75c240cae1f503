//! docs/fleet/ holds the complete configs of the three shapes of docs/FLEET.md. Every oncalld
//! file there loads with the real config loader (`oncalld check-config`), every Alertmanager
//! file passes `amtool check-config`, the Prometheus config and rule files pass `promtool`, the
//! self-monitoring rules name only metrics the daemon exports, and shapes (a) and (b) run from
//! their files (shape (c) runs in tests/fleet_prometheus.rs).

mod am_support;
mod daemon_support;
mod fleet_support;
#[path = "daemon_support/hook.rs"]
mod hook;
mod support;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use am_support::{Peer, Receiver};
use daemon_support::{BIN, Daemon, Target};
use fleet_support::{binaries_present, fleet_dir, read, subst};
use hook::Hook;

const AMTOOL: &str = "/usr/bin/amtool";
const PROMTOOL: &str = "/usr/bin/promtool";

/// Every file under docs/fleet/ named `name`.
fn files_named(name: &str) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut dirs = vec![fleet_dir()];
    while let Some(dir) = dirs.pop() {
        for e in std::fs::read_dir(&dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                dirs.push(p);
            } else if p.file_name().is_some_and(|n| n == name) {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// Runs `cmd args.. file` in the file's directory; panics with its output unless it exits 0.
fn tool_ok(cmd: &str, args: &[&str], file: &Path) {
    let out = Command::new(cmd)
        .args(args)
        .arg(file.file_name().unwrap())
        .current_dir(file.parent().unwrap())
        .output()
        .unwrap_or_else(|e| panic!("{cmd}: {e}"));
    assert!(
        out.status.success(),
        "{cmd} {args:?} {}:\n{}{}",
        file.display(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn every_oncalld_config_loads_with_the_real_loader() {
    let files = files_named("oncalld.toml");
    assert_eq!(files.len(), 3, "one per shape: {files:?}");
    for f in files {
        let out = Command::new(BIN)
            .args(["check-config", "-c"])
            .arg(&f)
            .output()
            .unwrap();
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(out.status.success(), "{}:\n{text}", f.display());
        assert!(text.contains(": OK ("), "{}:\n{text}", f.display());
        assert!(!text.contains("warning"), "{}:\n{text}", f.display());
    }
}

#[test]
fn alertmanager_and_prometheus_files_pass_their_own_checkers() {
    if !binaries_present(&[AMTOOL, PROMTOOL]) {
        return;
    }
    let ams = files_named("alertmanager.yml");
    assert_eq!(ams.len(), 2, "shapes (b) and (c): {ams:?}");
    for f in &ams {
        tool_ok(AMTOOL, &["check-config"], f);
    }
    // `check config` also checks the rule files it names (rules.yml, ../oncalld-alerts.yml).
    let proms = files_named("prometheus.yml");
    assert_eq!(proms.len(), 1, "{proms:?}");
    tool_ok(PROMTOOL, &["check", "config"], &proms[0]);
    for f in files_named("rules.yml")
        .into_iter()
        .chain(files_named("oncalld-alerts.yml"))
    {
        tool_ok(PROMTOOL, &["check", "rules"], &f);
    }
}

#[test]
fn oncalld_alert_rules_fire_on_the_faults_they_name() {
    if !binaries_present(&[PROMTOOL]) {
        return;
    }
    // promtool's rule unit tests: synthetic series of the daemon's metrics, each fault's alert.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("oncalld-alerts.yml"),
        read("oncalld-alerts.yml"),
    )
    .unwrap();
    let tests = r#"
rule_files: [oncalld-alerts.yml]
evaluation_interval: 1m
tests:
  - interval: 1m
    input_series:
      - series: 'up{job="oncalld", instance="db-1:9810"}'
        values: '1 0 0 0 0'
      - series: 'oncalld_check_state{job="oncalld", instance="db-1:9810", check="web"}'
        values: '0 2 2 2 2'
      - series: 'oncalld_outbox_oldest_pending_seconds{job="oncalld", instance="db-1:9810", notifier="mail"}'
        values: '0 60 120 240 360'
      - series: 'oncalld_pages{job="oncalld", instance="db-1:9810", notifier="mail", status="failed"}'
        values: '0 0 0 1 1'
      - series: 'oncalld_store_ok{job="oncalld", instance="db-1:9810"}'
        values: '1 0 0 0 0'
      - series: 'oncalld_heartbeat_last_ping_timestamp_seconds{job="oncalld", instance="db-1:9810", check="nightly-backup"}'
        values: '-100000 -100000 -100000 -100000 -100000'
    alert_rule_test:
      - eval_time: 0m
        alertname: OncalldStoreNotDurable
        exp_alerts: []
      - eval_time: 4m
        alertname: OncalldDown
        exp_alerts:
          - exp_labels: { severity: critical, job: oncalld, instance: "db-1:9810" }
            exp_annotations:
              summary: 'oncalld on db-1:9810 cannot be scraped: nobody watches that host'
      - eval_time: 4m
        alertname: OncalldCheckDown
        exp_alerts:
          - exp_labels: { severity: warning, job: oncalld, instance: "db-1:9810", check: web }
            exp_annotations:
              summary: 'check web on db-1:9810 is DOWN'
      - eval_time: 4m
        alertname: OncalldPagesFailing
        exp_alerts:
          - exp_labels: { severity: critical, job: oncalld, instance: "db-1:9810", notifier: mail }
            exp_annotations:
              summary: 'oncalld on db-1:9810: pages via mail undelivered for 6m 0s'
      - eval_time: 4m
        alertname: OncalldPagesFailed
        exp_alerts:
          - exp_labels: { severity: critical, job: oncalld, instance: "db-1:9810", notifier: mail, status: failed }
            exp_annotations:
              summary: 'oncalld on db-1:9810: pages via mail failed'
      - eval_time: 4m
        alertname: OncalldStoreNotDurable
        exp_alerts:
          - exp_labels: { severity: critical, job: oncalld, instance: "db-1:9810" }
            exp_annotations:
              summary: 'oncalld on db-1:9810: state is NOT durable (disk full?)'
      - eval_time: 4m
        alertname: OncalldHeartbeatLate
        exp_alerts:
          - exp_labels: { severity: warning, job: oncalld, instance: "db-1:9810", check: nightly-backup }
            exp_annotations:
              summary: 'heartbeat nightly-backup on db-1:9810 last pinged 1d 3h 50m 40s ago'
"#;
    let file = dir.path().join("oncalld-alerts.test.yml");
    std::fs::write(&file, tests).unwrap();
    tool_ok(PROMTOOL, &["test", "rules"], &file);
}

#[test]
fn oncalld_alert_rules_name_only_metrics_the_daemon_exports() {
    let rules = read("oncalld-alerts.yml");
    let metrics_rs = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("src/daemon/metrics.rs"),
    )
    .unwrap();
    let mut names: Vec<&str> = rules
        .match_indices("oncalld_")
        .map(|(at, _)| {
            let rest = &rules[at..];
            let end = rest
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(rest.len());
            &rest[..end]
        })
        .collect();
    names.sort();
    names.dedup();
    assert!(names.len() >= 5, "{names:?}");
    for n in names {
        assert!(
            metrics_rs.contains(&format!("\"{n}{{")) || metrics_rs.contains(&format!("\"{n} ")),
            "{n} is not a metric of src/daemon/metrics.rs"
        );
    }
}

/// Shape (a) from docs/fleet/a-per-host/oncalld.toml: a check of this host goes DOWN, the
/// on-call person and the chat webhook are paged directly.
#[test]
fn shape_a_runs_from_its_file() {
    let hook = Hook::start();
    let target = Target::start();
    let mut d = Daemon::unstarted("", "UTC");
    let smtp = support::free_port(); // nothing listens: the mail pages are retried, not lost
    let file = subst(
        "a-per-host/oncalld.toml",
        &read("a-per-host/oncalld.toml"),
        &[
            (
                "state_dir = \"/var/lib/oncalld\"",
                format!("state_dir = {:?}\nsocket = {:?}", d.state, d.socket),
            ),
            ("127.0.0.1:9810", format!("127.0.0.1:{}", support::free_port())),
            ("http://127.0.0.1:8080/health", target.url()),
            ("smtp://127.0.0.1:25", format!("smtp://127.0.0.1:{smtp}")),
            ("https://chat.example.com/hooks/ops", hook.url()),
            ("[[check]]\nname = \"web\"", "[defaults]\ninterval = \"1s\"\nretry_interval = \"1s\"\nretries = 1\n\n[[check]]\nname = \"web\"".into()),
        ],
    );
    std::fs::write(&d.config, file).unwrap();
    d.spawn();
    target.set_status(503);
    let page = d.wait_for("the chat page", Duration::from_secs(15), || {
        hook.pages().into_iter().find(|g| g.event == "triggered")
    });
    assert_eq!(page.incident, 1);
    let s = d.json(&["status"]);
    assert_eq!(s["incidents"][0]["check"], "web", "{s}");
    d.stop();
}

/// Shape (b) from docs/fleet/b-per-host-alertmanager/: a host's oncalld posts its incident to
/// a real Alertmanager run from the docs' alertmanager.yml, which routes it to its receiver.
#[test]
fn shape_b_runs_from_its_files() {
    if !binaries_present(&[am_support::BIN]) {
        return;
    }
    let receiver = Receiver::start();
    let mut am = Peer::planned();
    let am_yml = subst(
        "b-per-host-alertmanager/alertmanager.yml",
        &read("b-per-host-alertmanager/alertmanager.yml"),
        &[
            (
                "http://chat-bridge.example.com:8080/alertmanager",
                receiver.url(),
            ),
            ("group_wait: 30s", "group_wait: 1s".into()),
            ("group_interval: 5m", "group_interval: 1s".into()),
        ],
    );
    am.start_with_config(&am_yml, &[]);
    let target = Target::start();
    let mut d = Daemon::unstarted("", "UTC");
    let file = subst(
        "b-per-host-alertmanager/oncalld.toml",
        &read("b-per-host-alertmanager/oncalld.toml"),
        &[
            (
                "state_dir = \"/var/lib/oncalld\"",
                format!("state_dir = {:?}\nsocket = {:?}", d.state, d.socket),
            ),
            (
                "127.0.0.1:9810",
                format!("127.0.0.1:{}", support::free_port()),
            ),
            ("http://shop.internal.example.com/health", target.url()),
            (
                "interval = \"10s\"\nretries = 3",
                "interval = \"1s\"\nretry_interval = \"1s\"\nretries = 1".into(),
            ),
            // The second peer is down: one peer taking the alert is enough.
            ("http://am1.example.com:9093", am.url()),
            (
                "http://am2.example.com:9093",
                format!("http://127.0.0.1:{}", support::free_port()),
            ),
        ],
    );
    std::fs::write(&d.config, file).unwrap();
    d.spawn();
    target.set_status(503);
    let n = d.wait_for("the firing notification", Duration::from_secs(20), || {
        receiver.notifications().into_iter().next()
    });
    assert_eq!(n["status"], "firing", "{n}");
    let labels = &n["alerts"][0]["labels"];
    assert_eq!(labels["alertname"], "shop-frontend", "{n}");
    assert_eq!(labels["team"], "ops", "{n}");
    target.set_status(200);
    d.wait_for("the resolved notification", Duration::from_secs(20), || {
        receiver
            .statuses()
            .contains(&"resolved".to_string())
            .then_some(())
    });
    d.stop();
}
