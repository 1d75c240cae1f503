//! The daemon's wiring: scheduler -> engine task -> store -> delivery, with the socket API on
//! top. See `docs/ARCHITECTURE.md` for one check result followed from probe to page.
//!
//! - [`scheduler`]: one task per probed check, results on a channel; [`heartbeat`]: the
//!   board that holds every pushed check (one table, one timer task) and takes their pings.
//! - [`engine_task`]: the one task that owns the engine and commits each step.
//! - [`writer`]: the one thread that writes the store; holds and retries steps on a full disk.
//! - [`delivery`]: the outbox, sent in per-notifier lanes with backoff.
//! - [`runtime`]: start-up order, signals, reload, shutdown.
//! - [`backend`], [`views`], [`metrics`], [`serve`]: the socket API's daemon side.
//! - [`systemd`], [`logging`] (with [`log_writer`], its non-blocking queue), [`paths`]: life as
//!   a service.

pub mod backend;
pub mod clock;
pub mod delivery;
pub mod engine_task;
pub mod heartbeat;
pub mod live;
pub mod log_writer;
pub mod logging;
pub mod metrics;
pub mod paths;
pub mod runtime;
pub mod scheduler;
pub mod serve;
pub mod signals;
pub mod status_page;
pub mod systemd;
pub mod views;
pub mod writer;

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

/// `oncalld run`: load the config, log to stderr, run until SIGTERM/SIGINT (exit 0).
/// SIGHUP re-reads the config; an invalid file changes nothing.
pub async fn run(config_path: &Path) -> ExitCode {
    logging::init_logging();
    let result = runtime::run(config_path).await;
    logging::flush_logs();
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // Written directly, after the log queue: a closed stderr is an error, not a panic.
            let mut err = std::io::stderr();
            let _ = writeln!(err, "oncalld: {e}");
            if matches!(e, runtime::StartError::Config(_)) {
                let _ = writeln!(
                    err,
                    "oncalld: {} is invalid; not starting",
                    config_path.display()
                );
            }
            ExitCode::from(1)
        }
    }
}
