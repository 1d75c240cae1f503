//! `daemon::run_until` driven in-process: a config built in the test, logs captured from
//! tracing, shutdown and reload fired by the test (mini-redis style).

use std::collections::BTreeMap;
use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use oncalld::config::{CheckConfig, Config, DaemonConfig, PageOn, ProbeConfig};
use tokio::sync::{mpsc, oneshot};

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Captured {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn check(name: &str, argv: &[&str]) -> CheckConfig {
    CheckConfig {
        name: name.into(),
        probe: ProbeConfig::Command {
            command: argv.iter().map(|s| s.to_string()).collect(),
        },
        interval: Duration::from_millis(100),
        timeout: Duration::from_secs(2),
        retries: 2,
        retry_interval: Duration::from_millis(50),
        recoveries: 1,
        policy: "default".into(),
        auto_resolve: true,
        page_on: PageOn::Warning,
    }
}

fn config(checks: Vec<CheckConfig>) -> Config {
    Config {
        path: "test.toml".into(),
        daemon: DaemonConfig {
            state_dir: None,
            socket: None,
            socket_mode: 0o660,
            socket_group: None,
            metrics_listen: None,
            time_zone: jiff::tz::TimeZone::UTC,
        },
        checks,
        notifiers: BTreeMap::new(),
        people: BTreeMap::new(),
        periods: BTreeMap::new(),
        schedules: BTreeMap::new(),
        policies: BTreeMap::new(),
    }
}

async fn wait_for(log: &Captured, needle: &str) {
    let found = tokio::time::timeout(Duration::from_secs(10), async {
        while !log.text().contains(needle) {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await;
    assert!(found.is_ok(), "{needle:?} not logged:\n{}", log.text());
}

#[tokio::test(flavor = "current_thread")]
async fn logs_state_changes_reloads_and_stops_on_shutdown() {
    let log = Captured::default();
    let writer = log.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let (reload_tx, reload_rx) = mpsc::channel(1);
    let (stop_tx, stop_rx) = oneshot::channel::<()>();
    let daemon = tokio::spawn(oncalld::daemon::run_until(
        config(vec![check("broken", &["false"])]),
        reload_rx,
        async {
            let _ = stop_rx.await;
        },
    ));
    wait_for(&log, "check=broken from=UP to=FAILING(1)").await;
    wait_for(&log, "check=broken from=FAILING(1) to=DOWN").await;
    assert!(log.text().contains("Check state changed."));

    // Reload: the same check now succeeds (its command changed), and keeps its DOWN state,
    // so the next result is a DOWN -> UP change rather than nothing.
    reload_tx
        .send(config(vec![check("broken", &["true"])]))
        .await
        .unwrap();
    wait_for(&log, "Config reloaded.").await;
    wait_for(&log, "check=broken from=DOWN to=UP").await;

    stop_tx.send(()).unwrap();
    tokio::time::timeout(Duration::from_secs(10), daemon)
        .await
        .expect("run_until returned after shutdown")
        .unwrap();
    assert!(log.text().contains("Stopped."));
}
