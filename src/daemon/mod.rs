//! The daemon's wiring: the scheduler's tasks, the loop that consumes their reports, and the
//! signals that stop or reload it. `run_until` takes its shutdown trigger as a future
//! (mini-redis style) so tests and later code can drive it.

pub mod logging;
pub mod paths;
pub mod scheduler;
pub mod signals;
pub mod systemd;

use std::collections::HashMap;
use std::future::Future;
use std::path::Path;
use std::process::ExitCode;

use tokio::sync::mpsc;
use tracing::{debug, error, info, warn};

use crate::config::{self, Config};
use scheduler::{CheckReport, Scheduler};
use signals::Signal;

/// `oncalld run`: load the config, log to stderr, run until SIGTERM/SIGINT (exit 0).
/// SIGHUP re-reads the config; an invalid file changes nothing.
pub async fn run(config_path: &Path) -> ExitCode {
    logging::init_logging();
    let config = match config::load(config_path) {
        Ok(c) => c,
        Err(errors) => {
            eprintln!("{errors}");
            eprintln!(
                "oncalld: {} is invalid; not starting",
                config_path.display()
            );
            return ExitCode::from(1);
        }
    };
    let mut signals = match signals::Signals::new() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("oncalld: cannot install signal handlers: {e}");
            return ExitCode::from(1);
        }
    };
    let (reload_tx, reload_rx) = mpsc::channel(4);
    let path = config_path.to_path_buf();
    let shutdown = async move {
        loop {
            match signals.next().await {
                Signal::Shutdown(name) => {
                    info!(signal = name, "Shutting down.");
                    return;
                }
                Signal::Reload => match config::load(&path) {
                    Ok(c) => {
                        let _ = reload_tx.send(c).await;
                    }
                    Err(errors) => {
                        error!(errors = %errors, "Config invalid; keeping the running one.")
                    }
                },
            }
        }
    };
    run_until(config, reload_rx, shutdown).await;
    ExitCode::SUCCESS
}

/// Run the checks of `config` until `shutdown` completes, applying every config that comes in
/// on `reloads`. Logs every state change.
pub async fn run_until(
    config: Config,
    mut reloads: mpsc::Receiver<Config>,
    shutdown: impl Future<Output = ()>,
) {
    let (tx, mut rx) = mpsc::channel::<CheckReport>(1024);
    let mut scheduler = Scheduler::start(&config.checks, HashMap::new(), tx);
    info!(checks = config.checks.len(), file = %config.path.display(), "Started.");
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            _ = &mut shutdown => break,
            Some(report) = rx.recv() => log_report(&report),
            Some(new) = reloads.recv() => {
                scheduler.reload(&new.checks).await;
                info!(checks = new.checks.len(), "Config reloaded.");
            }
        }
    }
    scheduler.shutdown().await;
    info!("Stopped.");
}

fn log_report(report: &CheckReport) {
    let r = &report.result;
    debug!(check = %report.check, status = %r.status, message = %r.message,
        duration_ms = r.duration.as_millis() as u64, "Probe done.");
    if let Some(t) = report.transition {
        if t.is_hard() {
            warn!(check = %report.check, from = %t.from, to = %t.to, message = %r.message,
                "Check state changed.");
        } else {
            info!(check = %report.check, from = %t.from, to = %t.to, message = %r.message,
                "Check state changed.");
        }
    }
}
