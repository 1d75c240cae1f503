//! Shared by the tests/api_*.rs files: a small in-memory [`Backend`] that records every call,
//! and helpers to run the real server on a real Unix socket in a temp dir.
//!
//! These are the API layer's own tests (routing, validation, limits, socket handling, the CLI's
//! rendering and exit codes). End-to-end tests against the real daemon backend live elsewhere
//! and are added by the lead once the runtime is wired to this server.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use jiff::Timestamp;
use oncalld::api::types::*;
use oncalld::api::{
    ApiError, ApiResult, Backend, BoxFuture, IncidentFilter, ReloadOutcome, ServeOptions,
};
use oncalld::core::model::IncidentState;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::UnixStream;
use tokio::sync::oneshot;

/// The in-test backend: a little state, and a log of every call with its arguments.
#[derive(Default)]
pub struct Recorder {
    pub calls: Mutex<Vec<String>>,
    pub incidents: Mutex<Vec<IncidentView>>,
    pub timeline: Mutex<Vec<TimelineItem>>,
    pub silences: Mutex<Vec<SilenceView>>,
    /// `reload` answers Invalid with these when non-empty.
    pub reload_errors: Mutex<Vec<String>>,
    /// `test_page` reports this notifier as failing.
    pub failing_notifier: Mutex<Option<String>>,
    /// `report` includes a `"text"` rendering.
    pub report_text: Mutex<Option<String>>,
    /// Replaces the two built-in checks when set (benchmarks use thousands).
    pub checks: Mutex<Option<Vec<CheckView>>>,
    /// Every ping `ping` accepted (for [`PING_TOKEN`]), in order.
    pub pings: Mutex<Vec<Ping>>,
}

/// The one heartbeat token the recorder knows: check [`PING_CHECK`].
pub const PING_TOKEN: &str = "b9f0c6d2a1e84c57";
pub const PING_CHECK: &str = "nightly-backup";

pub fn t0() -> Timestamp {
    "2026-11-25T21:00:00Z".parse().unwrap()
}

pub fn incident(id: u64, check: &str, state: IncidentState) -> IncidentView {
    IncidentView {
        id,
        check: check.into(),
        state,
        summary: format!("{check} is broken"),
        policy: "default".into(),
        opened_at: t0(),
        acked_at: None,
        acked_by: None,
        resolved_at: (state == IncidentState::Resolved).then(t0),
        resolved_by: (state == IncidentState::Resolved).then(|| "auto".into()),
        step: 1,
        unreachable: Vec::new(),
        flapping: None,
    }
}

impl Recorder {
    /// Incident #17 open on `website`, #18 resolved on `db`.
    pub fn new() -> Arc<Recorder> {
        let r = Recorder::default();
        *r.incidents.lock().unwrap() = vec![
            incident(17, "website", IncidentState::Triggered),
            incident(18, "db", IncidentState::Resolved),
        ];
        *r.timeline.lock().unwrap() = vec![TimelineItem {
            at: t0(),
            kind: "triggered".into(),
            actor: "oncalld".into(),
            message: "HTTP 500 from https://example.com/".into(),
        }];
        Arc::new(r)
    }

    pub fn pings(&self) -> Vec<Ping> {
        self.pings.lock().unwrap().clone()
    }

    pub fn calls(&self) -> Vec<String> {
        self.calls.lock().unwrap().clone()
    }

    fn log(&self, call: String) {
        self.calls.lock().unwrap().push(call);
    }

    fn open(&self) -> Vec<IncidentView> {
        let all = self.incidents.lock().unwrap();
        all.iter().filter(|i| i.state.is_open()).cloned().collect()
    }

    fn checks_now(&self) -> Vec<CheckView> {
        if let Some(list) = self.checks.lock().unwrap().clone() {
            return list;
        }
        let check = |name: &str, state: &str| CheckView {
            name: name.into(),
            kind: "http".into(),
            target: format!("https://{name}.example/"),
            state: state.into(),
            attempt: 0,
            since: Some(t0()),
            last_status: Some(if state == "UP" { "OK" } else { "CRITICAL" }.into()),
            last_message: Some("HTTP 200 in 12 ms".into()),
            last_duration_ms: Some(12),
            last_at: Some(t0()),
            silenced: false,
            unreachable: Vec::new(),
            flapping: None,
            last_ping: None,
            expected_next: None,
        };
        vec![check("website", "DOWN"), check("db", "UP")]
    }

    /// Apply `f` to incident `id` if it is open: 404 unknown, 409 resolved.
    fn change(&self, id: u64, f: impl FnOnce(&mut IncidentView)) -> ApiResult<IncidentView> {
        let mut all = self.incidents.lock().unwrap();
        let i = all
            .iter_mut()
            .find(|i| i.id == id)
            .ok_or_else(|| ApiError::not_found(format!("no incident #{id}")))?;
        if !i.state.is_open() {
            return Err(ApiError::conflict(format!(
                "incident #{id} is already resolved"
            )));
        }
        f(i);
        Ok(i.clone())
    }

    fn find(&self, id: u64) -> ApiResult<IncidentView> {
        let all = self.incidents.lock().unwrap();
        all.iter()
            .find(|i| i.id == id)
            .cloned()
            .ok_or_else(|| ApiError::not_found(format!("no incident #{id}")))
    }
}

fn ready<'a, T: Send + 'a>(v: T) -> BoxFuture<'a, T> {
    Box::pin(async move { v })
}

impl Backend for Recorder {
    fn status(&self) -> BoxFuture<'_, ApiResult<StatusView>> {
        self.log("status".into());
        ready(Ok(StatusView {
            checks: self.checks_now(),
            incidents: self.open(),
            store: Default::default(),
        }))
    }
    fn checks(&self) -> BoxFuture<'_, ApiResult<Vec<CheckView>>> {
        self.log("checks".into());
        ready(Ok(self.checks_now()))
    }
    fn check(&self, name: String) -> BoxFuture<'_, ApiResult<CheckView>> {
        self.log(format!("check {name}"));
        let found = self.checks_now().into_iter().find(|c| c.name == name);
        ready(found.ok_or_else(|| ApiError::not_found(format!("no check named {name:?}"))))
    }
    fn incidents(&self, f: IncidentFilter) -> BoxFuture<'_, ApiResult<Vec<IncidentView>>> {
        self.log(format!("incidents all={} since={:?}", f.all, f.since));
        let list = if f.all {
            self.incidents.lock().unwrap().clone()
        } else {
            self.open()
        };
        ready(Ok(list))
    }
    fn incident(&self, id: u64) -> BoxFuture<'_, ApiResult<IncidentDetail>> {
        self.log(format!("incident {id}"));
        let timeline = self.timeline.lock().unwrap().clone();
        ready(self.find(id).map(|incident| IncidentDetail {
            incident,
            timeline,
            time_zone: None,
        }))
    }
    fn ack(
        &self,
        id: u64,
        actor: String,
        msg: Option<String>,
    ) -> BoxFuture<'_, ApiResult<IncidentView>> {
        self.log(format!("ack {id} by {actor} msg={msg:?}"));
        ready(self.change(id, |i| {
            i.state = IncidentState::Acknowledged;
            i.acked_at = Some(t0());
            i.acked_by = Some(actor);
        }))
    }
    fn resolve(
        &self,
        id: u64,
        actor: String,
        msg: Option<String>,
    ) -> BoxFuture<'_, ApiResult<IncidentView>> {
        self.log(format!("resolve {id} by {actor} msg={msg:?}"));
        ready(self.change(id, |i| {
            i.state = IncidentState::Resolved;
            i.resolved_at = Some(t0());
            i.resolved_by = Some(actor);
        }))
    }
    fn escalate(&self, id: u64, actor: String) -> BoxFuture<'_, ApiResult<IncidentView>> {
        self.log(format!("escalate {id} by {actor}"));
        ready(self.change(id, |i| i.step += 1))
    }
    fn note(&self, id: u64, actor: String, text: String) -> BoxFuture<'_, ApiResult<IncidentView>> {
        self.log(format!("note {id} by {actor}: {text}"));
        let r = self.find(id);
        if r.is_ok() {
            self.timeline.lock().unwrap().push(TimelineItem {
                at: t0(),
                kind: "note".into(),
                actor,
                message: text,
            });
        }
        ready(r)
    }
    fn postmortem(&self, id: u64) -> BoxFuture<'_, ApiResult<String>> {
        self.log(format!("postmortem {id}"));
        ready(
            self.find(id)
                .map(|i| format!("# Postmortem #{}\n\n## Issue Summary\n", i.id)),
        )
    }
    fn silences(&self) -> BoxFuture<'_, ApiResult<Vec<SilenceView>>> {
        self.log("silences".into());
        ready(Ok(self.silences.lock().unwrap().clone()))
    }
    fn add_silence(
        &self,
        pattern: String,
        d: Duration,
        message: String,
        actor: String,
    ) -> BoxFuture<'_, ApiResult<SilenceView>> {
        self.log(format!(
            "add_silence {pattern} for {}s by {actor}: {message}",
            d.as_secs()
        ));
        let mut all = self.silences.lock().unwrap();
        let s = SilenceView {
            id: all.len() as u64 + 1,
            pattern,
            starts_at: t0(),
            ends_at: t0() + jiff::SignedDuration::try_from(d).unwrap(),
            message,
            created_by: actor,
            active: true,
        };
        all.push(s.clone());
        ready(Ok(s))
    }
    fn delete_silence(&self, id: u64, actor: String) -> BoxFuture<'_, ApiResult<SilenceView>> {
        self.log(format!("delete_silence {id} by {actor}"));
        let mut all = self.silences.lock().unwrap();
        let r = match all.iter_mut().find(|s| s.id == id) {
            Some(s) => {
                s.active = false;
                Ok(s.clone())
            }
            None => Err(ApiError::not_found(format!("no silence #{id}"))),
        };
        ready(r)
    }
    fn oncall(
        &self,
        policy: Option<String>,
        at: Option<Timestamp>,
    ) -> BoxFuture<'_, ApiResult<Vec<OncallView>>> {
        self.log(format!("oncall {policy:?} at {at:?}"));
        if policy.as_deref().is_some_and(|p| p != "default") {
            return ready(Err(ApiError::not_found("no policy named that")));
        }
        let at = at.unwrap_or(t0());
        let person = if at < "2026-11-30T08:00:00Z".parse().unwrap() {
            "alice"
        } else {
            "bob"
        };
        ready(Ok(vec![OncallView {
            policy: "default".into(),
            at,
            steps: vec![OncallStep {
                step: 1,
                escalate_after: "15m".into(),
                targets: vec![
                    OncallTarget {
                        target: "schedule:primary".into(),
                        recipients: vec![person.into()],
                    },
                    OncallTarget {
                        target: "notifier:ops-chat".into(),
                        recipients: vec!["ops-chat".into()],
                    },
                ],
            }],
        }]))
    }
    fn report(&self, since: Duration) -> BoxFuture<'_, ApiResult<serde_json::Value>> {
        self.log(format!("report {}s", since.as_secs()));
        let mut v = serde_json::json!({ "since_seconds": since.as_secs(), "incidents": 2 });
        if let Some(t) = self.report_text.lock().unwrap().clone() {
            v["text"] = t.into();
        }
        ready(Ok(v))
    }
    fn reload(&self) -> BoxFuture<'_, ApiResult<ReloadOutcome>> {
        self.log("reload".into());
        let errors = self.reload_errors.lock().unwrap().clone();
        ready(Ok(if errors.is_empty() {
            ReloadOutcome::Applied("2 checks, 2 people, 1 policy".into())
        } else {
            ReloadOutcome::Invalid(errors)
        }))
    }
    fn test_page(&self, target: String, actor: String) -> BoxFuture<'_, ApiResult<TestPageResult>> {
        self.log(format!("test_page {target} by {actor}"));
        if target != "person:alice" {
            return ready(Err(ApiError::not_found(format!(
                "unknown target {target:?}"
            ))));
        }
        let failing = self.failing_notifier.lock().unwrap().clone();
        let d = |notifier: &str, to: &str| TestDelivery {
            recipient: "alice".into(),
            notifier: notifier.into(),
            to: Some(to.into()),
            delivered: failing.as_deref() != Some(notifier),
            error: (failing.as_deref() == Some(notifier)).then(|| "connection refused".into()),
        };
        ready(Ok(TestPageResult {
            target,
            deliveries: vec![d("mail", "alice@example.com"), d("sms", "+33600000000")],
        }))
    }
    fn metrics(&self) -> BoxFuture<'_, ApiResult<String>> {
        self.log("metrics".into());
        ready(Ok(
            "oncalld_probes_total{check=\"website\",result=\"ok\"} 3\n".into(),
        ))
    }
    fn ping(&self, target: PingTarget, ping: Ping) -> BoxFuture<'_, ApiResult<PingOutcome>> {
        let known = match &target {
            PingTarget::Token(t) => t == PING_TOKEN,
            PingTarget::Check(c) => c == PING_CHECK,
        };
        // Never the token itself, like the daemon's logs.
        self.log(format!("ping known={known} {:?}", ping.kind));
        if !known {
            return ready(Err(ApiError::not_found(
                "no heartbeat check has this token",
            )));
        }
        let state = match ping.kind {
            PingKind::Success => "UP",
            PingKind::Fail { .. } => "DOWN",
            PingKind::Start | PingKind::Log => "NEW",
        };
        self.pings.lock().unwrap().push(ping);
        ready(Ok(PingOutcome {
            check: PING_CHECK.into(),
            state: state.into(),
        }))
    }
}

/// The TCP listener ([`oncalld::api::serve_tcp_with`]) on `addr` (port 0 picks one).
pub struct RunningTcp {
    pub addr: std::net::SocketAddr,
    pub backend: Arc<Recorder>,
    stop: Option<oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<()>,
}

impl RunningTcp {
    pub async fn start(addr: &str, backend: Arc<Recorder>, options: ServeOptions) -> RunningTcp {
        let listener = tokio::net::TcpListener::bind(addr).await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (tx, rx) = oneshot::channel::<()>();
        let b: Arc<dyn Backend> = backend.clone();
        let task = tokio::spawn(oncalld::api::serve_tcp_with(listener, b, options, async {
            let _ = rx.await;
        }));
        RunningTcp {
            addr,
            backend,
            stop: Some(tx),
            task,
        }
    }

    /// `http://ADDR` (IPv6 in brackets).
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub async fn shutdown(mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        let _ = tokio::time::timeout(Duration::from_secs(10), &mut self.task).await;
    }
}

/// A running server on a real socket; dropping `stop` (or sending) shuts it down.
pub struct Running {
    pub dir: tempfile::TempDir,
    pub path: PathBuf,
    pub backend: Arc<Recorder>,
    pub stop: Option<oneshot::Sender<()>>,
    pub task: tokio::task::JoinHandle<()>,
}

impl Running {
    pub async fn shutdown(mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        let _ = tokio::time::timeout(Duration::from_secs(10), &mut self.task).await;
    }
}

pub async fn start() -> Running {
    start_with(Recorder::new(), ServeOptions::default()).await
}

pub async fn start_with(backend: Arc<Recorder>, options: ServeOptions) -> Running {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("oncalld.sock");
    let listener = oncalld::api::bind(&path, 0o660, None).unwrap();
    let (tx, rx) = oneshot::channel::<()>();
    let b: Arc<dyn Backend> = backend.clone();
    let task = tokio::spawn(oncalld::api::serve_with(listener, b, options, async {
        let _ = rx.await;
    }));
    Running {
        dir,
        path,
        backend,
        stop: Some(tx),
        task,
    }
}

/// One raw HTTP/1.1 exchange (`Connection: close`), so the server is tested without our client.
pub async fn raw(path: &Path, method: &str, uri: &str, body: &[u8]) -> (u16, String, String) {
    let mut s = UnixStream::connect(path).await.unwrap();
    let head = format!(
        "{method} {uri} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    // The server may answer (413) and stop reading before the whole body is sent.
    let _ = s.write_all(head.as_bytes()).await;
    let _ = s.write_all(body).await;
    let mut out = Vec::new();
    s.read_to_end(&mut out).await.unwrap();
    parse_response(&out)
}

/// (status, lower-cased head, body) of a raw response.
pub fn parse_response(bytes: &[u8]) -> (u16, String, String) {
    let text = String::from_utf8_lossy(bytes).to_string();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    (status, head.to_ascii_lowercase(), body.to_string())
}

pub fn json(body: &str) -> serde_json::Value {
    serde_json::from_str(body).unwrap_or_else(|e| panic!("not JSON ({e}): {body}"))
}

/// `alice (uid 1000)` for the user running the tests.
pub fn me() -> String {
    let uid = nix::unistd::getuid();
    let name = nix::unistd::User::from_uid(uid).unwrap().unwrap().name;
    format!("{name} (uid {uid})")
}
