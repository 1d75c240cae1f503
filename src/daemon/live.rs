//! What the socket API reads without asking the engine task: the config in force, each
//! check's latest result, the open incidents and silences as of the last committed step, and
//! the counters behind `/metrics`. Written by the engine task, read by request handlers.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use jiff::Timestamp;

use crate::config::Config;
use crate::core::check_state::{CheckState, CheckTracker, Status};
use crate::core::engine::Engine;
use crate::core::model::{Incident, Silence};
use crate::daemon::scheduler::CheckReport;
use crate::daemon::writer::StoreHealth;

/// The latest of one check.
#[derive(Debug, Clone)]
pub struct LiveCheck {
    pub state: CheckState,
    /// When it entered `state`.
    pub since: Timestamp,
    pub last: Option<LastResult>,
    pub probes: BTreeMap<Status, u64>,
    pub probe_seconds: f64,
    /// The last 24 h of probe latency, for the status page's sparkline.
    pub latency: crate::status_page::LatencyHistory,
}

#[derive(Debug, Clone)]
pub struct LastResult {
    pub status: Status,
    pub message: String,
    pub duration: Duration,
    pub at: Timestamp,
}

#[derive(Default)]
pub struct Live {
    pub checks: HashMap<String, LiveCheck>,
    pub open: Vec<Incident>,
    pub silences: Vec<Silence>,
    /// Flapping checks and their percent state change (SPEC §12).
    pub flapping: HashMap<String, f64>,
}

pub struct Shared {
    pub config: RwLock<Arc<Config>>,
    pub live: RwLock<Live>,
    pub started_at: Timestamp,
    /// Whether the state is durable (the store writer's view).
    pub store: Arc<StoreHealth>,
    /// Heartbeat checks: their pings' routes and latest state.
    pub heartbeats: crate::daemon::heartbeat::Board,
}

impl Shared {
    pub fn new(
        config: Arc<Config>,
        initial: &[(String, CheckTracker, Timestamp)],
        store: Arc<StoreHealth>,
    ) -> Self {
        let mut live = Live::default();
        for (name, tracker, since) in initial {
            live.checks
                .insert(name.clone(), LiveCheck::new(tracker.state, *since));
        }
        let heartbeats = crate::daemon::heartbeat::Board::new(config.daemon.time_zone.clone());
        Shared {
            heartbeats,
            config: RwLock::new(config),
            live: RwLock::new(live),
            started_at: Timestamp::now(),
            store,
        }
    }

    pub fn config(&self) -> Arc<Config> {
        match self.config.read() {
            Ok(c) => c.clone(),
            Err(p) => p.into_inner().clone(),
        }
    }

    pub fn set_config(&self, config: Arc<Config>) {
        self.heartbeats.set_zone(config.daemon.time_zone.clone());
        match self.config.write() {
            Ok(mut c) => *c = config,
            Err(p) => *p.into_inner() = config,
        }
    }

    pub fn read(&self) -> std::sync::RwLockReadGuard<'_, Live> {
        match self.live.read() {
            Ok(l) => l,
            Err(p) => p.into_inner(),
        }
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Live> {
        match self.live.write() {
            Ok(l) => l,
            Err(p) => p.into_inner(),
        }
    }

    pub fn record_probe(&self, report: &CheckReport) {
        let mut live = self.write();
        let entry = live
            .checks
            .entry(report.check.clone())
            .or_insert_with(|| LiveCheck::new(CheckState::Up, report.at));
        entry.record(
            report.state,
            report.result.status,
            report.result.message.clone(),
            report.result.duration,
            report.at,
        );
    }

    /// A result that did not go through the engine task (a routine heartbeat ping), recorded
    /// as [`Shared::record_probe`] records a probe's (no duration).
    pub fn record_result(
        &self,
        check: &str,
        state: CheckState,
        status: Status,
        message: String,
        at: Timestamp,
    ) {
        let mut live = self.write();
        // No copy of the name for a check already there (every ping but its first).
        if !live.checks.contains_key(check) {
            live.checks
                .insert(check.to_string(), LiveCheck::new(CheckState::Up, at));
        }
        if let Some(entry) = live.checks.get_mut(check) {
            entry.record(state, status, message, Duration::ZERO, at);
        }
    }

    pub fn publish_engine(&self, engine: &Engine) {
        let open: Vec<Incident> = engine.open_incidents().cloned().collect();
        let silences: Vec<Silence> = engine.silences().cloned().collect();
        let flapping = engine
            .flapping()
            .map(|(name, percent)| (name.to_string(), percent))
            .collect();
        let mut live = self.write();
        live.open = open;
        live.silences = silences;
        live.flapping = flapping;
    }

    /// Drop checks that are no longer configured.
    pub fn retain_checks(&self, config: &Config) {
        let mut live = self.write();
        live.checks.retain(|name, _| config.check(name).is_some());
    }
}

impl LiveCheck {
    fn new(state: CheckState, since: Timestamp) -> Self {
        LiveCheck {
            state,
            since,
            last: None,
            probes: BTreeMap::new(),
            probe_seconds: 0.0,
            latency: Default::default(),
        }
    }

    fn record(
        &mut self,
        state: CheckState,
        status: Status,
        message: String,
        duration: Duration,
        at: Timestamp,
    ) {
        if self.state != state {
            self.state = state;
            self.since = at;
        }
        *self.probes.entry(status).or_default() += 1;
        self.probe_seconds += duration.as_secs_f64();
        self.latency.record(at, duration);
        self.last = Some(LastResult {
            status,
            message,
            duration,
            at,
        });
    }
}
