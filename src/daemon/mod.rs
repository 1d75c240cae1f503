//! The daemon's wiring: scheduler -> engine task -> store -> delivery, with the socket API on
//! top. See `docs/ARCHITECTURE.md` for one check result followed from probe to page.
//!
//! - [`scheduler`]: one task per check, results on a channel.
//! - [`engine_task`]: the one task that owns the engine and commits each step.
//! - [`writer`]: the one thread that writes the store; holds and retries steps on a full disk.
//! - [`delivery`]: the outbox, sent in per-notifier lanes with backoff.
//! - [`runtime`]: start-up order, signals, reload, shutdown.
//! - [`backend`], [`views`], [`metrics`], [`serve`]: the socket API's daemon side.
//! - [`systemd`], [`logging`], [`paths`]: life as a service.

pub mod backend;
pub mod delivery;
pub mod engine_task;
pub mod live;
pub mod logging;
pub mod metrics;
pub mod paths;
pub mod runtime;
pub mod scheduler;
pub mod serve;
pub mod signals;
pub mod systemd;
pub mod views;
pub mod writer;

use std::path::Path;
use std::process::ExitCode;

/// `oncalld run`: load the config, log to stderr, run until SIGTERM/SIGINT (exit 0).
/// SIGHUP re-reads the config; an invalid file changes nothing.
pub async fn run(config_path: &Path) -> ExitCode {
    logging::init_logging();
    match runtime::run(config_path).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("oncalld: {e}");
            if matches!(e, runtime::StartError::Config(_)) {
                eprintln!(
                    "oncalld: {} is invalid; not starting",
                    config_path.display()
                );
            }
            ExitCode::from(1)
        }
    }
}
