//! Start-up, signals and shutdown: wires scheduler -> engine task -> store -> delivery, and
//! the socket API on top.
//!
//! Start-up order matters for "nothing is lost": the store is opened (or start-up stops with
//! a clear error), the engine is rebuilt from the open incidents, every undelivered page is
//! handed back to delivery, and only then do probes start and the socket accept commands.
//! `READY=1` goes to systemd after all of that.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use jiff::Timestamp;
use tokio::sync::{mpsc, oneshot, watch};

use crate::config::{self, Config};
use crate::core::engine::Engine;
use crate::daemon::backend::DaemonBackend;
use crate::daemon::delivery::Delivery;
use crate::daemon::engine_task::{EngineTask, Request};
use crate::daemon::live::Shared;
use crate::daemon::scheduler::Scheduler;
use crate::daemon::signals::{Signal, Signals};
use crate::daemon::writer::Writer;
use crate::daemon::{paths, systemd};
use crate::link::{LinkKey, LinkMaker};
use crate::notify::Notifiers;
use crate::store::Store;

/// Why the daemon could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("{0}")]
    Config(config::ConfigErrors),
    #[error("state directory {path}: {message}")]
    Store { path: PathBuf, message: String },
    #[error("cannot install signal handlers: {0}")]
    Signals(String),
    #[error("notifiers: {0}")]
    Notifiers(String),
    #[error("socket {path}: {message}")]
    Socket { path: PathBuf, message: String },
    #[error("listen {addr}: {message}")]
    Metrics { addr: String, message: String },
}

/// Everything a reload needs.
pub struct Reloader {
    pub path: PathBuf,
    pub requests: mpsc::Sender<Request>,
    pub shared: Arc<Shared>,
    /// One reload at a time (SIGHUP and `oncalld reload` may race), so each RELOADING=1 is
    /// answered by its own READY=1 before the next starts.
    serial: tokio::sync::Mutex<()>,
    /// Signs the links of pages under the reloaded `public_url`.
    link_key: LinkKey,
}

impl Reloader {
    /// Read and validate the file; apply it only when it is entirely valid.
    ///
    /// Bracketed by `RELOADING=1` ... `READY=1` whatever the outcome: systemd marks the unit
    /// "reloading" from the first until the second, so a `READY=1` is owed even when the new
    /// file is refused (the old config keeps running, which *is* ready). `RELOADING=1` goes out
    /// before the file is read, so the reload's whole duration is covered and the
    /// `MONOTONIC_USEC` stamp follows the SIGHUP (what `Type=notify-reload` checks).
    pub async fn reload(&self) -> Result<Arc<Config>, Vec<String>> {
        let _one_at_a_time = self.serial.lock().await;
        systemd::notify_reloading();
        let outcome = self.load_and_apply().await;
        match &outcome {
            Ok(config) => systemd::notify_status(&serving_status(config)),
            Err(errors) => {
                for e in errors {
                    tracing::error!(error = %e, "Reload refused; keeping the running configuration.");
                }
                systemd::notify_status(&format!(
                    "Reload refused ({} error(s), see the journal); running the previous configuration",
                    errors.len()
                ))
            }
        }
        systemd::notify_ready();
        outcome
    }

    async fn load_and_apply(&self) -> Result<Arc<Config>, Vec<String>> {
        let path = self.path.clone();
        let loaded =
            tokio::task::spawn_blocking(move || config::load_linted(&path, Timestamp::now())).await;
        let config = match loaded {
            Ok(Ok((c, warnings))) => {
                log_warnings(&warnings);
                Arc::new(c)
            }
            Ok(Err(errors)) => return Err(errors.0.iter().map(|e| e.to_string()).collect()),
            Err(e) => return Err(vec![format!("reload task failed: {e}")]),
        };
        let links = link_maker(&config, &self.link_key);
        let notifiers = Notifiers::build_with_links(&config, links).map_err(notifier_errors)?;
        let (reply, done) = oneshot::channel();
        let sent = self
            .requests
            .send(Request::Reload {
                config: config.clone(),
                notifiers: Arc::new(notifiers),
                reply,
            })
            .await;
        if sent.is_err() || done.await.is_err() {
            return Err(vec!["the engine task has stopped".into()]);
        }
        self.shared.retain_checks(&config);
        self.shared.set_config(config.clone());
        tracing::info!(path = %self.path.display(), checks = config.checks.len(), "Configuration reloaded.");
        Ok(config)
    }
}

/// The schedule lint's warnings (as `check-config` prints them), at start and reload.
fn log_warnings(warnings: &[config::ConfigError]) {
    for w in warnings {
        tracing::warn!(warning = %w, "Configuration warning.");
    }
}

/// The latest page (test pages aside) of each open incident by each notifier: what notifiers
/// that keep per-incident state rebuild it from at start ([`Notifiers::restore`]).
fn latest_pages(
    store: &Store,
    open: &[crate::core::model::Incident],
) -> Result<Vec<crate::core::model::Page>, crate::store::StoreError> {
    let mut out = Vec::new();
    for incident in open {
        let mut last: std::collections::BTreeMap<String, crate::core::model::Page> =
            std::collections::BTreeMap::new();
        // Oldest first: a later page of the same notifier replaces an earlier one.
        for r in store.pages_for(incident.id)? {
            if r.page.event != crate::core::model::PageEvent::Test {
                last.insert(r.page.notifier.clone(), r.page);
            }
        }
        out.extend(last.into_values());
    }
    Ok(out)
}

/// The `STATUS=` line `systemctl status oncalld` shows while the daemon runs.
fn serving_status(config: &Config) -> String {
    format!("Running {} check(s)", config.checks.len())
}

/// `oncalld run`: load the config, run until SIGTERM/SIGINT. Signal handlers are installed
/// before anything else so an early SIGHUP cannot kill the process.
pub async fn run(path: &Path) -> Result<(), StartError> {
    let mut signals = Signals::new().map_err(|e| StartError::Signals(e.to_string()))?;
    let (config, warnings) =
        config::load_linted(path, Timestamp::now()).map_err(StartError::Config)?;
    log_warnings(&warnings);
    // Logged: not kept for the daemon's life (a warning per check is ~300 bytes: 3 MB for
    // 10,000 checks whose policy reaches only console notifiers).
    drop(warnings);
    let (tx, rx) = mpsc::channel(4);
    tokio::spawn(async move {
        loop {
            if tx.send(signals.next().await).await.is_err() {
                return;
            }
        }
    });
    run_until(path, config, rx).await
}

/// The daemon proper, until a [`Signal::Shutdown`] arrives (or the sender is dropped).
pub async fn run_until(
    path: &Path,
    config: Config,
    mut signals: mpsc::Receiver<Signal>,
) -> Result<(), StartError> {
    let config = Arc::new(config);
    let state_dir = paths::state_dir(config.daemon.state_dir.as_deref());
    let store_err = |e: crate::store::StoreError| StartError::Store {
        path: state_dir.clone(),
        message: e.to_string(),
    };
    let store = Store::open(&state_dir).map_err(store_err)?;
    let side = Store::open(&state_dir).map_err(store_err)?;

    let now = Timestamp::now();
    let open = store.open_incidents().map_err(store_err)?;
    let open_pages = latest_pages(&store, &open).map_err(store_err)?;
    let mut engine = Engine::restore(
        config.clone(),
        open,
        store.active_silences(now).map_err(store_err)?,
        store.next_incident_id().map_err(store_err)?,
        store.next_silence_id().map_err(store_err)?,
    );
    let states = store.check_states().map_err(store_err)?;
    // Dependencies read the parents' states from the first input on.
    engine.seed_states(states.iter().map(|s| (s.check.clone(), s.tracker.state)));
    let heartbeats = store.heartbeats().map_err(store_err)?;
    let pending = store.pending_pages().map_err(store_err)?;

    // Created at the first start (0600), kept for ever: links already sent stay valid.
    let link_key = LinkKey::load_or_create(&state_dir).map_err(|e| StartError::Store {
        path: state_dir.clone(),
        message: e.to_string(),
    })?;
    let notifiers = Notifiers::build_with_links(&config, link_maker(&config, &link_key))
        .map_err(|e| StartError::Notifiers(notifier_errors(e).join("; ")))?;
    notifiers.restore(open_pages);
    let side = Arc::new(Mutex::new(side));
    // From here on every write goes through the writer thread.
    let writer = Writer::start(store);
    let delivery = Delivery::start(writer.clone(), Arc::new(notifiers));
    let resumed = pending.len();
    // Each is decided again before it is sent: over 24 h old → expired, notifier gone →
    // failed with that reason (SPEC §9).
    for p in pending {
        delivery.resume(p.page, p.attempts, p.next_attempt_at);
    }

    let initial: Vec<_> = states
        .iter()
        .map(|s| (s.check.clone(), s.tracker, s.state_since))
        .collect();
    let shared = Arc::new(Shared::new(config.clone(), &initial, writer.health()));
    let (report_tx, reports) = mpsc::channel(4096);
    let trackers = states.into_iter().map(|s| (s.check, s.tracker)).collect();
    shared.heartbeats.restore(heartbeats);
    let mut scheduler = Scheduler::start_with(
        &config.checks,
        trackers,
        shared.heartbeats.clone(),
        report_tx,
    );

    let (request_tx, requests) = mpsc::channel(1024);
    let (stop_engine, engine_stopped) = oneshot::channel::<()>();
    // A watch, not a queue: the scheduler needs the latest config, and a reload is never
    // dropped because an earlier one has not been taken yet.
    let (reload_tx, mut reload_rx) = watch::channel(config.clone());
    let task = EngineTask {
        engine,
        writer: writer.clone(),
        delivery: delivery.clone(),
        shared: shared.clone(),
        reports,
        requests,
        on_reload: Box::new(move |c| {
            reload_tx.send_replace(c.clone());
        }),
    };
    let engine_handle = tokio::spawn(task.run(async {
        let _ = engine_stopped.await;
    }));

    let reloader = Arc::new(Reloader {
        path: path.to_path_buf(),
        requests: request_tx.clone(),
        shared: shared.clone(),
        serial: tokio::sync::Mutex::new(()),
        link_key: link_key.clone(),
    });
    let backend = Arc::new(
        DaemonBackend::new(
            shared.clone(),
            side,
            request_tx,
            delivery.clone(),
            writer.clone(),
            reloader.clone(),
        )
        .with_link_key(link_key),
    );
    let api = crate::daemon::serve::start_api(&config, backend).await?;

    tracing::info!(
        state_dir = %state_dir.display(), socket = %api.socket.display(), checks = config.checks.len(),
        resumed_pages = resumed, "oncalld started."
    );
    release_freed_memory();
    // Only now: the store is open, pending pages are resumed and the socket accepts
    // connections (start_api returns after listen(2)).
    systemd::notify_status(&serving_status(&config));
    systemd::notify_ready();

    loop {
        tokio::select! {
            signal = signals.recv() => match signal {
                None | Some(Signal::Shutdown(_)) => break,
                // Errors are logged by the reload itself (also for `oncalld reload`).
                Some(Signal::Reload) => {
                    let _ = reloader.reload().await;
                }
            },
            Ok(()) = reload_rx.changed() => {
                let new = reload_rx.borrow_and_update().clone();
                scheduler.reload(&new.checks).await;
                release_freed_memory();
            }
        }
    }

    systemd::notify_stopping();
    systemd::notify_status("Shutting down");
    tracing::info!("Shutting down.");
    api.stop().await;
    scheduler.shutdown().await;
    let _ = stop_engine.send(());
    let _ = engine_handle.await;
    delivery.shutdown().await;
    writer.stop().await;
    Ok(())
}

/// What signs the links of pages, when `public_url` is set (SPEC §13).
fn link_maker(config: &Config, key: &LinkKey) -> Option<Arc<LinkMaker>> {
    let url = config.daemon.public_url.as_deref()?;
    Some(Arc::new(LinkMaker::new(key.clone(), url)))
}

/// Hand the heap pages freed since start-up (or a reload) back to the OS. Reading a large
/// config peaks far above what the daemon keeps (10,000 checks: ~34 MB of heap at the peak,
/// ~20 MB after), and glibc keeps freed pages mapped unless asked: they would count in the
/// daemon's RSS for good.
fn release_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim takes the allocator's own locks and only releases free pages.
    unsafe {
        libc::malloc_trim(0);
    }
}

fn notifier_errors(errors: Vec<crate::notify::BuildError>) -> Vec<String> {
    errors
        .into_iter()
        .map(|e| format!("notifiers.{}: {}", e.name, e.message))
        .collect()
}
