//! Shape (c) of docs/FLEET.md end to end, from the very files of docs/fleet/c-central/ (hosts,
//! ports and timings substituted): a real Prometheus (Debian's `prometheus`) scrapes a test
//! exporter whose scrape fails → its rule `InstanceDown` fires → a real Alertmanager
//! (`prometheus-alertmanager`) → `POST /v1/alertmanager/prom` of the central oncalld →
//! incident routed by its `team` label → the person on call for that policy is paged (a real
//! webhook receiver) → ack in oncalld → the exporter answers again → the rule stops firing →
//! Alertmanager sends the resolve → the incident is resolved. And the dead man's switch: the
//! always-firing `Watchdog` rule reaches the central oncalld's heartbeat check through
//! Alertmanager.

mod am_support;
mod daemon_support;
mod fleet_support;
#[path = "daemon_support/hook.rs"]
mod hook;
mod support;

use std::time::{Duration, Instant};

use am_support::{Peer, Prometheus};
use daemon_support::{Daemon, Target};
use fleet_support::{binaries_present, read, subst};
use hook::Hook;

/// The central oncalld of docs/fleet/c-central/oncalld.toml on `listen`, paging through `hook`.
fn central(hook: &Hook, listen: u16) -> Daemon {
    let mut d = Daemon::unstarted("", "UTC");
    let file = subst(
        "c-central/oncalld.toml",
        &read("c-central/oncalld.toml"),
        &[
            (
                "state_dir = \"/var/lib/oncalld\"",
                format!("state_dir = {:?}\nsocket = {:?}", d.state, d.socket),
            ),
            ("0.0.0.0:9810", format!("127.0.0.1:{listen}")),
            ("https://chat.example.com/hooks/oncall", hook.url()),
        ],
    );
    std::fs::write(&d.config, file).unwrap();
    let log = std::fs::File::create(&d.log).unwrap();
    d.spawn_with(log.into(), "debug");
    d
}

fn open_incidents(d: &Daemon) -> Vec<serde_json::Value> {
    d.json(&["status"])["incidents"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

#[test]
fn prometheus_rule_to_alertmanager_to_central_oncalld_page_ack_resolve() {
    if !binaries_present(&[am_support::BIN, am_support::PROMETHEUS_BIN]) {
        return;
    }
    let started = Instant::now();
    let hook = Hook::start();
    // The "db-1" node exporter: its scrape fails (503) from the start, so `up` is 0.
    let exporter = Target::start();
    exporter.set_status(503);

    let listen = support::free_port();
    let d = central(&hook, listen);

    let mut am = Peer::planned();
    let am_yml = subst(
        "c-central/alertmanager.yml",
        &read("c-central/alertmanager.yml"),
        &[
            ("oncall.example.com:9810", format!("127.0.0.1:{listen}")),
            ("group_wait: 30s", "group_wait: 1s".into()),
            ("group_interval: 5m", "group_interval: 1s".into()),
        ],
    );
    am.start_with_config(&am_yml, &[]);

    // prometheus.yml names its rule files relative to itself: the same layout in a temp dir.
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("c-central")).unwrap();
    let rules = subst(
        "c-central/rules.yml",
        &read("c-central/rules.yml"),
        &[("for: 1m", "for: 0s".into())],
    );
    std::fs::write(dir.path().join("c-central/rules.yml"), rules).unwrap();
    std::fs::write(
        dir.path().join("oncalld-alerts.yml"),
        read("oncalld-alerts.yml"),
    )
    .unwrap();
    let oncalld_target = format!("'127.0.0.1:{listen}'");
    let prom_yml = subst(
        "c-central/prometheus.yml",
        &read("c-central/prometheus.yml"),
        &[
            ("15s", "1s".into()),
            (
                "'am1.example.com:9093', 'am2.example.com:9093'",
                format!("'127.0.0.1:{}'", am.web),
            ),
            (
                "'db-1.example.com:9100'",
                format!("'127.0.0.1:{}'", exporter.port),
            ),
            // The "web-1" node answers: the central oncalld's /metrics stands in for it.
            ("'web-1.example.com:9100'", oncalld_target.clone()),
            (
                "'db-1.example.com:9810', 'web-1.example.com:9810', 'oncall.example.com:9810'",
                oncalld_target,
            ),
        ],
    );
    let prom_path = dir.path().join("c-central/prometheus.yml");
    std::fs::write(&prom_path, prom_yml).unwrap();
    let prom = Prometheus::start(&prom_path);

    // Rule → Alertmanager → oncalld: one incident, routed to db-oncall by team="db".
    let incident = d.wait_for(
        "the incident from Prometheus",
        Duration::from_secs(30),
        || open_incidents(&d).into_iter().next(),
    );
    let fired_secs = started.elapsed().as_secs_f64();
    assert_eq!(incident["check"], "prom/InstanceDown", "{incident}");
    let id = incident["id"].as_u64().unwrap();
    let who = d.json(&["who", "db-oncall"]);
    let on_call: Vec<String> = who[0]["steps"][0]["targets"][0]["recipients"]
        .as_array()
        .unwrap_or_else(|| panic!("{who}"))
        .iter()
        .map(|r| r.as_str().unwrap_or("").to_string())
        .collect();
    assert_eq!(on_call.len(), 1, "{who}");
    assert!(["carol", "dave"].contains(&on_call[0].as_str()), "{who}");
    let page = d.wait_for("the page", Duration::from_secs(10), || {
        hook.of(id, "triggered").into_iter().next()
    });
    assert_eq!(
        page.recipient, on_call[0],
        "the db schedule's on-call person"
    );
    let shown = d.ok(&["show", &id.to_string()]);
    let db = format!("127.0.0.1:{} of job node is down", exporter.port);
    assert!(
        shown.contains(&db),
        "summary from the rule's annotation:\n{shown}"
    );
    assert!(shown.contains("generatorURL: http://"), "{shown}");
    assert!(shown.contains("team=\"db\""), "{shown}");

    d.ok(&["ack", &id.to_string()]);
    assert_eq!(open_incidents(&d)[0]["state"], "acknowledged");

    // The exporter answers again: up = 1, the rule stops firing, Alertmanager sends the resolve.
    exporter.set_status(200);
    let recovered = Instant::now();
    d.wait_for("the incident resolved", Duration::from_secs(30), || {
        open_incidents(&d).is_empty().then_some(())
    });
    let resolved_secs = recovered.elapsed().as_secs_f64();
    let all = d.json(&["incidents", "--all"]);
    assert_eq!(all.as_array().map(Vec::len), Some(1), "{all}");
    assert_eq!(all[0]["state"], "resolved", "{all}");
    d.wait_for("the resolved page", Duration::from_secs(10), || {
        (!hook.of(id, "resolved").is_empty()).then_some(())
    });
    assert_eq!(hook.of(id, "triggered").len(), 1, "paged once");
    // The Watchdog alert pinged the pipeline's heartbeat check (NEW until its first ping).
    d.wait_for("the Watchdog ping", Duration::from_secs(10), || {
        let s = d.json(&["status"]);
        let checks = s["checks"].as_array().cloned().unwrap_or_default();
        checks
            .iter()
            .any(|c| c["name"] == "prometheus-pipeline" && c["state"] == "UP")
            .then_some(())
    });
    // Nothing else fired: the oncalld self-monitoring rules are quiet on a healthy daemon.
    let firing: Vec<_> = prom
        .alerts()
        .into_iter()
        .filter(|(name, _)| name != "InstanceDown" && name != "Watchdog")
        .collect();
    assert!(firing.is_empty(), "{firing:?}");
    println!(
        "Prometheus → Alertmanager → oncalld: incident {fired_secs:.1}s after start; resolved \
         {resolved_secs:.1}s after the target recovered"
    );
}
