//! Scenario tests of incidents from a source's alerts (SPEC §11 "In"): open once per
//! fingerprint, repeats change nothing, resolved resolves, routes pick the policy, silences
//! match `<source>/<alertname>`, ack and reload, restore keeps the fingerprint.

mod engine_support;

use std::collections::BTreeMap;

use engine_support::*;
use oncalld::config::{AlertRoute, SourceConfig};
use oncalld::core::engine::{Action, Alert, Engine, Input};
use oncalld::core::model::{EventKind, IncidentState};

const T0: &str = "2026-03-02T10:00:00Z";

fn at(min: i64) -> jiff::Timestamp {
    ts(T0) + jiff::SignedDuration::from_mins(min)
}

fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn cfg() -> Cfg {
    let mut c = Cfg::new()
        .mailer("alice")
        .mailer("dana")
        .policy("default", 0, None, &[(&["person:alice"], "15m")])
        .policy("db-oncall", 0, None, &[(&["person:dana"], "15m")]);
    c.0.sources.insert(
        "prom".into(),
        SourceConfig {
            token: "t".repeat(20),
            policy: "default".into(),
            routes: vec![AlertRoute {
                matchers: labels(&[("team", "db")]),
                policy: "db-oncall".into(),
            }],
            depends_on: Vec::new(),
        },
    );
    c
}

fn alert(fp: &str, firing: bool, team: &str) -> Alert {
    Alert {
        fingerprint: fp.into(),
        alertname: "HighLatency".into(),
        firing,
        labels: labels(&[("alertname", "HighLatency"), ("team", team)]),
        summary: Some(format!("latency high on {fp}")),
        description: None,
        generator_url: Some("http://prom:9090/graph?g0.expr=x".into()),
    }
}

fn alerts(list: Vec<Alert>) -> Input {
    Input::Alerts {
        source: "prom".into(),
        alerts: list,
    }
}

fn saved(actions: &[Action]) -> Vec<(u64, String, IncidentState, String)> {
    actions
        .iter()
        .filter_map(|a| match a {
            Action::SaveIncident(i) => Some((i.id, i.check.clone(), i.state, i.policy.clone())),
            _ => None,
        })
        .collect()
}

#[test]
fn firing_opens_once_per_fingerprint_routed_and_resolved_resolves() {
    let mut sim = Sim::new(cfg().build());
    let a = sim.at(
        at(0),
        alerts(vec![alert("aa", true, "db"), alert("bb", true, "web")]),
    );
    let s = saved(&a);
    assert_eq!(s.len(), 2);
    assert_eq!(
        (s[0].1.as_str(), s[0].3.as_str()),
        ("prom/HighLatency", "db-oncall")
    );
    assert_eq!(s[1].3, "default");
    let p = pages(&a);
    assert_eq!(p.len(), 2);
    assert_eq!(
        (p[0].recipient.as_str(), p[1].recipient.as_str()),
        ("dana", "alice")
    );
    assert!(p[0].text.contains("latency high on aa"), "{}", p[0].text);
    let trig = &events(&a)[0];
    assert_eq!(trig.kind, EventKind::Triggered);
    assert!(
        trig.message
            .contains("target: {alertname=\"HighLatency\", team=\"db\"}")
    );
    assert!(
        trig.message
            .contains("generatorURL: http://prom:9090/graph")
    );

    // Repeats change nothing; a resolved alert with no incident neither.
    assert!(
        sim.at(at(1), alerts(vec![alert("aa", true, "db")]))
            .is_empty()
    );
    assert!(
        sim.at(at(1), alerts(vec![alert("zz", false, "db")]))
            .is_empty()
    );

    let r = sim.at(at(2), alerts(vec![alert("aa", false, "db")]));
    let s = saved(&r);
    assert_eq!((s[0].0, s[0].2), (1, IncidentState::Resolved));
    let e = events(&r);
    assert_eq!(
        (e[0].kind, e[0].actor.as_str()),
        (EventKind::Resolved, "auto")
    );
    assert!(
        sim.engine.incident(2).is_some(),
        "the other alert stays open"
    );
    // Firing again after the resolve opens a new incident.
    let again = sim.at(at(3), alerts(vec![alert("aa", true, "db")]));
    assert_eq!(saved(&again)[0].0, 3);
}

#[test]
fn summary_falls_back_to_description_then_alertname_with_labels() {
    let mut a = alert("aa", true, "db");
    a.summary = Some("  ".into());
    a.description = Some("desc".into());
    assert_eq!(a.summary_line(), "desc");
    a.description = None;
    assert_eq!(
        a.summary_line(),
        "HighLatency {alertname=\"HighLatency\", team=\"db\"}"
    );
}

#[test]
fn unknown_source_changes_nothing() {
    let mut sim = Sim::new(cfg().build());
    let input = Input::Alerts {
        source: "other".into(),
        alerts: vec![alert("aa", true, "db")],
    };
    assert!(sim.at(at(0), input).is_empty());
}

#[test]
fn silence_on_source_slash_alertname_holds_paging_and_ack_stops_escalation() {
    let mut sim = Sim::new(cfg().build());
    sim.at(
        at(0),
        Input::Silence {
            pattern: "prom/*".into(),
            until: at(60),
            actor: "bob".into(),
            message: "maintenance".into(),
        },
    );
    let a = sim.at(at(1), alerts(vec![alert("aa", true, "web")]));
    assert!(pages(&a).is_empty());
    assert!(kinds(&a).contains(&EventKind::Silenced));

    let mut sim = Sim::new(cfg().build());
    sim.at(at(0), alerts(vec![alert("aa", true, "web")]));
    let a = sim.at(at(1), ack(1, "alice"));
    assert_eq!(saved(&a)[0].2, IncidentState::Acknowledged);
    sim.run_until(at(120));
    assert_eq!(sim.log_pages(at(0)).len(), 2, "page + ack notice only");
    // The resolved alert still resolves the acknowledged incident.
    let r = sim.at(at(121), alerts(vec![alert("aa", false, "web")]));
    assert_eq!(saved(&r)[0].2, IncidentState::Resolved);
}

#[test]
fn restore_keeps_the_fingerprint_and_reload_without_the_source_resolves() {
    let config = cfg().build();
    let mut e = Engine::new(config.clone());
    let a = e
        .handle(alerts(vec![alert("aa", true, "db")]), at(0))
        .unwrap();
    let open: Vec<_> = a
        .iter()
        .filter_map(|x| match x {
            Action::SaveIncident(i) => Some(i.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(open[0].fingerprint.as_deref(), Some("aa"));
    let mut e = Engine::restore(config, open, Vec::new(), 2, 1);
    assert!(
        e.handle(alerts(vec![alert("aa", true, "db")]), at(1))
            .unwrap()
            .is_empty()
    );
    // A reload that keeps the source keeps the incident.
    assert!(
        e.handle(Input::Reload(cfg().build()), at(2))
            .unwrap()
            .is_empty()
    );
    let mut gone = cfg();
    gone.0.sources.clear();
    let r = e.handle(Input::Reload(gone.build()), at(3)).unwrap();
    let ev = events(&r);
    assert_eq!(
        (ev[0].kind, ev[0].message.as_str()),
        (EventKind::Resolved, "source removed")
    );
}

/// A password in an alert's URLs (generatorURL, a summary) is starred before anything is
/// stored or paged (SPEC §9), as probe messages are.
#[test]
fn passwords_in_alert_urls_are_starred() {
    let mut sim = Sim::new(cfg().build());
    let mut a = alert("pw", true, "web");
    a.generator_url = Some("http://u:hunter2@prom:9090/graph".into());
    a.summary = Some("see https://ops:hunter2@wiki/x".into());
    let out = sim.at(at(0), alerts(vec![a]));
    let trig = &events(&out)[0];
    assert!(
        trig.message.contains("http://u:***@prom:9090/graph"),
        "{}",
        trig.message
    );
    let p = pages(&out);
    for text in [&trig.message, &p[0].text, &p[0].summary] {
        assert!(!text.contains("hunter2"), "{text}");
    }
}

/// `changes_nothing` (what lets the daemon answer Alertmanager's repeats without a step) is
/// true exactly when handling the input would give no action.
#[test]
fn changes_nothing_exactly_for_repeats_with_nothing_due() {
    let mut sim = Sim::new(cfg().build());
    let both = || vec![alert("aa", true, "db"), alert("bb", true, "web")];
    assert!(!sim.engine.changes_nothing(&alerts(both()), at(0)));
    assert!(!sim.at(at(0), alerts(both())).is_empty());

    // Repeats of open alerts, a resolve of an unknown one, an unknown source: nothing.
    let cases = [
        alerts(both()),
        alerts(vec![alert("bb", true, "web")]),
        alerts(vec![alert("zz", false, "db"), alert("aa", true, "db")]),
        Input::Alerts {
            source: "nope".into(),
            alerts: vec![alert("new", true, "db")],
        },
    ];
    for input in cases {
        assert!(sim.engine.changes_nothing(&input, at(1)), "{input:?}");
        assert!(sim.at(at(1), input).is_empty());
    }
    // One new or one resolved alert among repeats: a step.
    let mixed = [
        alerts(vec![alert("aa", true, "db"), alert("cc", true, "db")]),
        alerts(vec![alert("aa", true, "db"), alert("bb", false, "web")]),
    ];
    for input in mixed {
        assert!(!sim.engine.changes_nothing(&input, at(1)), "{input:?}");
    }
    // A repeat while an escalation is due: the step fires it.
    let repeat = alerts(vec![alert("aa", true, "db")]);
    assert!(!sim.engine.changes_nothing(&repeat, at(20)));
    let fired = sim.engine.handle(repeat, at(20)).unwrap();
    assert!(!fired.is_empty(), "the escalations due at 15 min");
    // Other inputs are never answered without a step.
    assert!(!sim.engine.changes_nothing(&Input::Tick, at(21)));
}

#[test]
fn a_source_behind_a_down_check_is_unreachable_until_it_is_up() {
    let mut c = cfg().check("gw", "default");
    c.0.sources.get_mut("prom").unwrap().depends_on = vec!["gw".into()];
    let mut sim = Sim::new(c.build());
    let a = sim.at(at(0), down("gw", "timeout"));
    assert_eq!(pages(&a).len(), 1);
    let a = sim.at(at(1), alerts(vec![alert("fp1", true, "web")]));
    assert!(pages(&a).is_empty(), "held: gw is DOWN");
    assert!(kinds(&a).contains(&EventKind::Unreachable));
    let a = sim.at(at(2), up("gw", "ok"));
    let checks: Vec<_> = pages(&a).iter().map(|p| p.check.clone()).collect();
    assert!(
        checks.contains(&"prom/HighLatency".to_string()),
        "{checks:?}"
    );
}
