//! A real Alertmanager (Debian's `prometheus-alertmanager`, installed by .ci/setup) for the
//! tests: peers on loopback ports, clustered by gossip, routing every alert to a webhook
//! receiver in the test with short group timings. Every child is killed when dropped.
#![allow(dead_code)]

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::support::{Answer, WebhookReceiver, free_port};

pub const BIN: &str = "/usr/bin/prometheus-alertmanager";

/// One Alertmanager process; killed when dropped.
pub struct Peer {
    pub web: u16,
    pub cluster: u16,
    dir: tempfile::TempDir,
    child: Option<Child>,
}

impl Peer {
    /// Ports chosen, nothing started: a daemon can be pointed at it while it is down.
    pub fn planned() -> Peer {
        Peer {
            web: free_port(),
            cluster: free_port(),
            dir: tempfile::tempdir().unwrap(),
            child: None,
        }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.web)
    }

    /// Starts it routing everything to `hook_url`, gossiping with `others` (cluster ports);
    /// no others: clustering off. Returns once it answers `/-/ready`.
    pub fn start(&mut self, hook_url: &str, others: &[u16]) {
        self.start_with_config(&route_config(hook_url), others);
    }

    /// [`Peer::start`] with a whole `alertmanager.yml` of the test's (e.g. one of docs/fleet/).
    pub fn start_with_config(&mut self, yaml: &str, others: &[u16]) {
        let config = self.dir.path().join("alertmanager.yml");
        std::fs::write(&config, yaml).unwrap();
        let log = std::fs::File::create(self.log_path()).unwrap();
        let mut cmd = Command::new(BIN);
        cmd.arg(format!("--config.file={}", config.display()))
            .arg(format!("--storage.path={}", self.dir.path().display()))
            .arg(format!("--web.listen-address=127.0.0.1:{}", self.web))
            .arg("--log.level=debug")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log);
        if others.is_empty() {
            cmd.arg("--cluster.listen-address=");
        } else {
            cmd.arg(format!(
                "--cluster.listen-address=127.0.0.1:{}",
                self.cluster
            ))
            .args(["--cluster.peer-timeout=1s", "--cluster.settle-timeout=1s"])
            .args([
                "--cluster.gossip-interval=100ms",
                "--cluster.pushpull-interval=1s",
            ]);
            for p in others {
                cmd.arg(format!("--cluster.peer=127.0.0.1:{p}"));
            }
        }
        self.child = Some(
            cmd.spawn()
                .expect("prometheus-alertmanager (see .ci/setup)"),
        );
        self.wait_ready();
    }

    fn log_path(&self) -> PathBuf {
        self.dir.path().join("alertmanager.log")
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(self.log_path()).unwrap_or_default()
    }

    fn wait_ready(&mut self) {
        let url = format!("{}/-/ready", self.url());
        let deadline = Instant::now() + Duration::from_secs(15);
        while get(&url).is_none_or(|(code, _)| code != 200) {
            if let Some(status) = self
                .child
                .as_mut()
                .and_then(|c| c.try_wait().ok().flatten())
            {
                panic!("alertmanager exited ({status}):\n{}", self.log_text());
            }
            assert!(Instant::now() < deadline, "not ready:\n{}", self.log_text());
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// How many cluster members this peer sees (itself included).
    pub fn members(&self) -> usize {
        get(&format!("{}/api/v2/status", self.url()))
            .and_then(|(_, v)| v["cluster"]["peers"].as_array().map(Vec::len))
            .unwrap_or(0)
    }

    /// The alerts it holds (`GET /api/v2/alerts`).
    pub fn alerts(&self) -> Vec<Value> {
        get(&format!("{}/api/v2/alerts", self.url()))
            .and_then(|(_, v)| v.as_array().cloned())
            .unwrap_or_default()
    }
}

impl Drop for Peer {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// Everything to one webhook receiver: notify 1 s after the first alert, 5 s between
/// updates, no repeats within a test. The second peer sends after its 1 s wait unless the
/// gossiped log says the first one did; a group interval well above that wait keeps a
/// change (the resolve) from landing inside it — Alertmanager would then, by design, send
/// the firing state it flushed before the resolve, a stale duplicate.
fn route_config(hook_url: &str) -> String {
    format!(
        "route:\n  receiver: hook\n  group_by: ['alertname']\n  group_wait: 1s\n  \
         group_interval: 5s\n  repeat_interval: 1h\nreceivers:\n  - name: hook\n    \
         webhook_configs:\n      - url: '{hook_url}'\n        send_resolved: true\n"
    )
}

/// Debian's `prometheus` (installed by .ci/setup).
pub const PROMETHEUS_BIN: &str = "/usr/bin/prometheus";

/// One Prometheus server on a loopback port with its TSDB in a temp dir; killed when dropped.
pub struct Prometheus {
    pub port: u16,
    dir: tempfile::TempDir,
    child: Child,
}

impl Prometheus {
    /// Starts it on `config` (a prometheus.yml whose relative rule files are next to it);
    /// returns once it answers `/-/ready`. Firing alerts are sent to Alertmanager again every
    /// second (default 1 minute): an alert that fires at the first evaluation, before the
    /// Alertmanagers are discovered, is otherwise dropped for a minute.
    pub fn start(config: &std::path::Path) -> Prometheus {
        let dir = tempfile::tempdir().unwrap();
        let port = free_port();
        let log = std::fs::File::create(dir.path().join("prometheus.log")).unwrap();
        let child = Command::new(PROMETHEUS_BIN)
            .arg(format!("--config.file={}", config.display()))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.path().join("tsdb").display()
            ))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .arg("--rules.alert.resend-delay=1s")
            .arg("--log.level=debug")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("prometheus (see .ci/setup)");
        let mut p = Prometheus { port, dir, child };
        let deadline = Instant::now() + Duration::from_secs(20);
        let ready = format!("http://127.0.0.1:{port}/-/ready");
        while get(&ready).is_none_or(|(code, _)| code != 200) {
            if let Ok(Some(status)) = p.child.try_wait() {
                panic!("prometheus exited ({status}):\n{}", p.log_text());
            }
            assert!(Instant::now() < deadline, "not ready:\n{}", p.log_text());
            std::thread::sleep(Duration::from_millis(50));
        }
        p
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("prometheus.log")).unwrap_or_default()
    }

    /// The alerting rules' alerts it holds (`GET /api/v1/alerts`): name and state.
    pub fn alerts(&self) -> Vec<(String, String)> {
        get(&format!("http://127.0.0.1:{}/api/v1/alerts", self.port))
            .and_then(|(_, v)| v["data"]["alerts"].as_array().cloned())
            .unwrap_or_default()
            .iter()
            .map(|a| {
                let s = |v: &Value| v.as_str().unwrap_or("?").to_string();
                (s(&a["labels"]["alertname"]), s(&a["state"]))
            })
            .collect()
    }
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A blocking HTTP/1.0 GET of `http://127.0.0.1:PORT/path`: status and JSON body (Null if
/// not JSON).
fn get(url: &str) -> Option<(u16, Value)> {
    use std::io::{Read, Write};
    let rest = url.strip_prefix("http://")?;
    let (host, path) = rest.split_at(rest.find('/')?);
    let mut conn = std::net::TcpStream::connect(host).ok()?;
    conn.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
    write!(conn, "GET {path} HTTP/1.0\r\nHost: {host}\r\n\r\n").ok()?;
    let mut raw = Vec::new();
    conn.read_to_end(&mut raw).ok()?;
    let text = String::from_utf8_lossy(&raw);
    let code = text.split_whitespace().nth(1)?.parse().ok()?;
    let body = text.split_once("\r\n\r\n").map(|(_, b)| b).unwrap_or("");
    Some((code, serde_json::from_str(body).unwrap_or(Value::Null)))
}

/// The webhook receiver Alertmanager notifies, on its own runtime (the test thread blocks).
pub struct Receiver {
    // Field order: the receiver's task is aborted before its runtime goes away.
    inner: WebhookReceiver,
    _rt: tokio::runtime::Runtime,
}

impl Receiver {
    pub fn start() -> Receiver {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let inner = rt.block_on(WebhookReceiver::start(Answer::Status(200)));
        Receiver { inner, _rt: rt }
    }

    pub fn url(&self) -> String {
        self.inner.url()
    }

    /// Every notification (Alertmanager's webhook payload, version 4), in arrival order.
    pub fn notifications(&self) -> Vec<Value> {
        self.inner.received().iter().map(|r| r.json()).collect()
    }

    /// The `status` (`firing` / `resolved`) of each notification.
    pub fn statuses(&self) -> Vec<String> {
        self.notifications()
            .iter()
            .map(|n| n["status"].as_str().unwrap_or("?").to_string())
            .collect()
    }
}
