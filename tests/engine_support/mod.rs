//! Shared helpers for the engine tests: a config builder (the parser is not used here, so each
//! test says exactly what config it runs) and a driver that ticks the engine through time.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;
use jiff::civil::DateTime;
use jiff::tz::TimeZone;
use oncalld::config::{
    CheckConfig, Config, ContactMethod, DaemonConfig, NotifierConfig, Override, PageOn, Person,
    Policy, ProbeConfig, Schedule, Step, Target,
};
use oncalld::core::check_state::{CheckState, Transition};
use oncalld::core::engine::{Action, Engine, Input};
use oncalld::core::model::{EventKind, Page, PageEvent, TimelineEvent};

pub fn ts(s: &str) -> Timestamp {
    s.parse().unwrap()
}

pub fn dur(s: &str) -> Duration {
    humantime::parse_duration(s).unwrap()
}

pub fn local(s: &str) -> DateTime {
    s.parse().unwrap()
}

pub fn target(s: &str) -> Target {
    let (kind, name) = s.split_once(':').unwrap();
    match kind {
        "schedule" => Target::Schedule(name.into()),
        "person" => Target::Person(name.into()),
        "notifier" => Target::Notifier(name.into()),
        _ => panic!("bad target {s}"),
    }
}

/// Builds a `Config` in code. Notifiers `mail`, `sms` and `ops-chat` always exist.
pub struct Cfg(pub Config);

impl Default for Cfg {
    fn default() -> Self {
        Cfg::new()
    }
}

impl Cfg {
    pub fn new() -> Self {
        let mut notifiers = BTreeMap::new();
        for n in ["mail", "sms", "ops-chat"] {
            notifiers.insert(n.to_string(), NotifierConfig::Console);
        }
        Cfg(Config {
            path: "test.toml".into(),
            daemon: DaemonConfig {
                state_dir: None,
                socket: None,
                socket_mode: 0o660,
                socket_group: None,
                listen: None,
                time_zone: TimeZone::UTC,
                instance: "test-host".into(),
            },
            checks: Vec::new(),
            notifiers,
            people: BTreeMap::new(),
            periods: BTreeMap::new(),
            schedules: BTreeMap::new(),
            policies: BTreeMap::new(),
            sources: BTreeMap::new(),
            status_page: Default::default(),
        })
    }

    pub fn check(mut self, name: &str, policy: &str) -> Self {
        self.0.checks.push(check(name, policy, true));
        self
    }

    /// A check behind `parents` (`depends_on`).
    pub fn child(mut self, name: &str, policy: &str, parents: &[&str]) -> Self {
        let mut c = check(name, policy, true);
        c.depends_on = parents.iter().map(|p| p.to_string()).collect();
        self.0.checks.push(c);
        self
    }

    /// Turn flap detection on for every check so far, with `[low, high]`.
    pub fn flap(mut self, low: f64, high: f64) -> Self {
        for c in &mut self.0.checks {
            c.flap = Some(oncalld::config::FlapThresholds { low, high });
        }
        self
    }

    pub fn check_no_auto_resolve(mut self, name: &str, policy: &str) -> Self {
        self.0.checks.push(check(name, policy, false));
        self
    }

    /// `contacts`: (via, to) pairs.
    pub fn person(mut self, name: &str, contacts: &[(&str, &str)]) -> Self {
        let notify = contacts
            .iter()
            .map(|(via, to)| ContactMethod {
                via: via.to_string(),
                to: to.to_string(),
            })
            .collect();
        self.0.people.insert(name.into(), Person { notify });
        self
    }

    /// A person with one address on `mail`: `NAME@example.com`.
    pub fn mailer(self, name: &str) -> Self {
        let to = format!("{name}@example.com");
        self.person(name, &[("mail", to.as_str())])
    }

    pub fn schedule(mut self, name: &str, s: Schedule) -> Self {
        self.0.schedules.insert(name.into(), s);
        self
    }

    /// `steps`: (targets, escalate_after).
    pub fn policy(
        mut self,
        name: &str,
        repeat: u32,
        ack_timeout: Option<&str>,
        steps: &[(&[&str], &str)],
    ) -> Self {
        let steps = steps
            .iter()
            .map(|(targets, after)| Step {
                notify: targets.iter().map(|t| target(t)).collect(),
                escalate_after: dur(after),
            })
            .collect();
        let policy = Policy {
            repeat,
            ack_timeout: ack_timeout.map(dur),
            steps,
            group_wait: None,
        };
        self.0.policies.insert(name.into(), policy);
        self
    }

    /// Set `group_wait` on policy `name`.
    pub fn group_wait(mut self, name: &str, wait: &str) -> Self {
        if let Some(p) = self.0.policies.get_mut(name) {
            p.group_wait = Some(dur(wait));
        }
        self
    }

    pub fn build(self) -> Arc<Config> {
        Arc::new(self.0)
    }
}

fn check(name: &str, policy: &str, auto_resolve: bool) -> CheckConfig {
    CheckConfig {
        name: name.into(),
        probe: ProbeConfig::Tcp {
            address: "127.0.0.1:1".into(),
        },
        interval: dur("30s"),
        timeout: dur("10s"),
        retries: 1,
        retry_interval: dur("10s"),
        recoveries: 1,
        policy: policy.into(),
        auto_resolve,
        page_on: PageOn::Critical,
        depends_on: Vec::new(),
        flap: None,
    }
}

/// A rotation schedule in `zone`.
pub fn rotation(zone: &str, people: &[&str], shift: &str, start: &str) -> Schedule {
    Schedule {
        time_zone: TimeZone::get(zone).unwrap(),
        rotation: people.iter().map(|p| p.to_string()).collect(),
        shift: dur(shift),
        start: local(start),
        period: None,
        overrides: Vec::new(),
    }
}

pub fn with_override(mut s: Schedule, person: &str, from: &str, until: &str) -> Schedule {
    s.overrides.push(Override {
        person: person.into(),
        from: local(from),
        until: local(until),
    });
    s
}

pub fn down(check: &str, message: &str) -> Input {
    Input::Check {
        check: check.into(),
        transition: Transition {
            from: CheckState::Up,
            to: CheckState::Down,
        },
        message: message.into(),
    }
}

/// One probe result, with the change of state it made (if any).
pub fn probe(check: &str, failed: bool, transition: Option<(CheckState, CheckState)>) -> Input {
    Input::Probe {
        check: check.into(),
        failed,
        transition: transition.map(|(from, to)| Transition { from, to }),
        message: if failed { "HTTP 500" } else { "HTTP 200" }.into(),
    }
}

/// A soft change (e.g. UP -> FAILING), no result attached.
pub fn soft(check: &str, from: CheckState, to: CheckState) -> Input {
    Input::Check {
        check: check.into(),
        transition: Transition { from, to },
        message: "soft".into(),
    }
}

pub fn up(check: &str, message: &str) -> Input {
    Input::Check {
        check: check.into(),
        transition: Transition {
            from: CheckState::Down,
            to: CheckState::Up,
        },
        message: message.into(),
    }
}

pub fn ack(id: u64, actor: &str) -> Input {
    Input::Ack {
        incident: id,
        actor: actor.into(),
        message: None,
    }
}

pub fn pages(actions: &[Action]) -> Vec<&Page> {
    actions
        .iter()
        .filter_map(|a| match a {
            Action::Page(p) => Some(p),
            _ => None,
        })
        .collect()
}

pub fn events(actions: &[Action]) -> Vec<&TimelineEvent> {
    actions
        .iter()
        .filter_map(|a| match a {
            Action::Record(e) => Some(e),
            _ => None,
        })
        .collect()
}

pub fn kinds(actions: &[Action]) -> Vec<EventKind> {
    events(actions).iter().map(|e| e.kind).collect()
}

/// Pages as (minutes after `t0`, event, recipient, notifier), for compact expectations.
pub fn page_table(
    t0: Timestamp,
    timed: &[(Timestamp, Action)],
) -> Vec<(i64, PageEvent, String, String)> {
    timed
        .iter()
        .filter_map(|(at, a)| match a {
            Action::Page(p) => Some((
                (at.as_second() - t0.as_second()) / 60,
                p.event,
                p.recipient.clone(),
                p.notifier.clone(),
            )),
            _ => None,
        })
        .collect()
}

/// Drives an engine: inputs at given times, and ticks at every deadline in between.
pub struct Sim {
    pub engine: Engine,
    pub log: Vec<(Timestamp, Action)>,
}

impl Sim {
    pub fn new(config: Arc<Config>) -> Self {
        Sim {
            engine: Engine::new(config),
            log: Vec::new(),
        }
    }

    /// Tick at every deadline up to and including `until`.
    pub fn run_until(&mut self, until: Timestamp) {
        while let Some(at) = self.engine.next_deadline() {
            if at > until {
                break;
            }
            let actions = self.engine.handle(Input::Tick, at).unwrap();
            self.log.extend(actions.into_iter().map(|a| (at, a)));
        }
    }

    /// Run until `at`, then handle `input` there; returns that input's actions.
    pub fn at(&mut self, at: Timestamp, input: Input) -> Vec<Action> {
        self.run_until(at);
        let actions = self.engine.handle(input, at).unwrap();
        self.log.extend(actions.iter().cloned().map(|a| (at, a)));
        actions
    }

    pub fn log_pages(&self, t0: Timestamp) -> Vec<(i64, PageEvent, String, String)> {
        page_table(t0, &self.log)
    }

    pub fn log_kinds(&self) -> Vec<EventKind> {
        self.log
            .iter()
            .filter_map(|(_, a)| match a {
                Action::Record(e) => Some(e.kind),
                _ => None,
            })
            .collect()
    }
}

/// alice (mail + sms) on step 1, bob and the ops-chat webhook on step 2, repeat 2.
pub fn two_steps(ack_timeout: Option<&str>) -> Cfg {
    Cfg::new()
        .check("website", "default")
        .person(
            "alice",
            &[("mail", "alice@example.com"), ("sms", "+33600000000")],
        )
        .mailer("bob")
        .policy(
            "default",
            2,
            ack_timeout,
            &[
                (&["person:alice"], "15m"),
                (&["person:bob", "notifier:ops-chat"], "30m"),
            ],
        )
}

/// Step 1: a schedule starting in 2027 (nobody on call); step 2: bob. Repeat 1.
pub fn empty_first() -> Cfg {
    Cfg::new()
        .check("web-1", "p")
        .check("web-2", "p")
        .check("db", "p")
        .mailer("alice")
        .mailer("bob")
        .schedule(
            "later",
            rotation("UTC", &["alice"], "1d", "2027-01-01T00:00"),
        )
        .policy(
            "p",
            1,
            None,
            &[(&["schedule:later"], "15m"), (&["person:bob"], "30m")],
        )
}

pub fn silence(pattern: &str, until: Timestamp) -> Input {
    Input::Silence {
        pattern: pattern.into(),
        until,
        actor: "ops".into(),
        message: "deploy".into(),
    }
}
