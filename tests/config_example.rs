//! `checks.example.toml` loads as it is, and says what the README promises.

use std::path::Path;
use std::time::Duration;

use oncalld::config::{self, MinFree, NotifierConfig, PageOn, ProbeConfig, Target};

fn example() -> config::Config {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("checks.example.toml");
    match config::load(&path) {
        Ok(c) => c,
        Err(e) => panic!("checks.example.toml is invalid:\n{e}"),
    }
}

#[test]
fn example_loads_with_its_counts() {
    let c = example();
    assert_eq!(c.checks.len(), 6);
    assert_eq!(c.people.len(), 2);
    assert_eq!(c.schedules.len(), 1);
    assert_eq!(c.policies.len(), 1);
    assert_eq!(c.notifiers.len(), 13);
    assert_eq!(c.periods.len(), 1);
    let kinds: Vec<_> = c.checks.iter().map(|k| k.probe.kind()).collect();
    assert_eq!(
        kinds,
        ["disk", "process", "http", "tcp", "command", "heartbeat"]
    );
}

/// Every chat preset is documented with its keys, and the webhook's body template too.
#[test]
fn example_documents_every_chat_preset_and_the_template() {
    let c = example();
    let kinds: std::collections::BTreeSet<_> = c
        .notifiers
        .values()
        .filter_map(|n| match n {
            NotifierConfig::Chat(chat) => Some(chat.kind.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(kinds.len(), config::ChatKind::ALL.len(), "{kinds:?}");
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("checks.example.toml");
    let text = std::fs::read_to_string(path).unwrap();
    let keys = [
        "bot_token =",
        "# token =",
        "access_token =",
        "# retry =",
        "# expire =",
        "# to =",
        "body = '''",
        "content_type =",
    ];
    for key in keys {
        assert!(text.contains(key), "{key} is not documented");
    }
    let templated =
        |n: &NotifierConfig| matches!(n, NotifierConfig::Webhook(w) if w.body.is_some());
    assert!(c.notifiers.values().any(templated));
}

#[test]
fn example_leaves_daemon_paths_to_the_environment() {
    let c = example();
    assert_eq!(c.daemon.state_dir, None);
    assert_eq!(c.daemon.socket, None);
    assert_eq!(c.daemon.socket_mode, 0o660);
    assert_eq!(c.daemon.listen, None);
}

#[test]
fn example_checks_only_touch_this_machine() {
    for check in &example().checks {
        match &check.probe {
            ProbeConfig::Http(h) => assert!(h.url.starts_with("http://127.0.0.1:"), "{}", h.url),
            ProbeConfig::Tcp { address } => assert!(address.starts_with("127.0.0.1:")),
            ProbeConfig::Disk { path, min_free } => {
                assert_eq!(path, Path::new("/"));
                assert!(matches!(min_free, MinFree::Percent(p) if *p <= 5.0));
            }
            ProbeConfig::Process { process, .. } => assert_eq!(process, "oncalld"),
            ProbeConfig::Command { command } => assert_eq!(command[0], "/bin/sh"),
            // Pinged by `oncalld ping NAME` in the README's walk-through; touches nothing.
            ProbeConfig::Heartbeat(_) => {}
        }
        assert!(
            check.interval <= Duration::from_secs(30),
            "{} is slow",
            check.name
        );
        assert_eq!(check.policy, "default");
    }
}

#[test]
fn example_pages_only_the_console() {
    let c = example();
    let policy = &c.policies["default"];
    let mut via = Vec::new();
    for step in &policy.steps {
        for target in &step.notify {
            match target {
                Target::Notifier(n) => via.push(n.clone()),
                Target::Person(p) => via.extend(c.people[p].notify.iter().map(|m| m.via.clone())),
                Target::Schedule(s) => {
                    for p in &c.schedules[s].rotation {
                        via.extend(c.people[p].notify.iter().map(|m| m.via.clone()));
                    }
                }
            }
        }
    }
    assert!(!via.is_empty());
    for name in via {
        assert!(
            matches!(c.notifiers[&name], NotifierConfig::Console),
            "{name} is not console"
        );
    }
}

#[test]
fn example_applies_defaults_and_overrides() {
    let c = example();
    let web = c.check("local-web").unwrap();
    assert_eq!(web.interval, Duration::from_secs(10));
    assert_eq!(web.timeout, Duration::from_secs(5));
    assert_eq!(web.retries, 3);
    assert_eq!(web.recoveries, 1);
    let ProbeConfig::Http(h) = &web.probe else {
        panic!("local-web is http")
    };
    assert_eq!(h.expect_status, [200, 204]);
    assert_eq!(h.max_latency, Some(Duration::from_millis(500)));
    assert_eq!(h.method, "GET");
    assert!(h.tls_verify);
    assert_eq!(
        c.check("root-disk").unwrap().interval,
        Duration::from_secs(30)
    );
    assert!(!c.check("local-port").unwrap().auto_resolve);
    assert_eq!(c.check("load").unwrap().page_on, PageOn::Warning);
    assert_eq!(c.check("local-web").unwrap().page_on, PageOn::Critical);
}
