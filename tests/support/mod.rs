//! Real test counterparts for the notifiers: an SMTP server (Python's aiosmtpd, as a child
//! process), a webhook receiver (axum on 127.0.0.1), and sample pages.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::net::{SocketAddr, TcpListener};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use oncalld::core::model::{IncidentState, Page, PageEvent};

/// A page as the engine would queue it.
pub fn page(event: PageEvent, incident: u64, seq: u32, recipient: &str, notifier: &str) -> Page {
    let state = match event {
        PageEvent::Acknowledged => IncidentState::Acknowledged,
        PageEvent::Resolved => IncidentState::Resolved,
        _ => IncidentState::Triggered,
    };
    let summary = "HTTP 500 from https://example.com/health".to_string();
    Page {
        key: Page::idempotency_key(incident, seq, recipient, notifier),
        incident,
        seq,
        event,
        recipient: recipient.to_string(),
        notifier: notifier.to_string(),
        to: Some(format!("{recipient}@example.com")),
        step: 1,
        check: "website".to_string(),
        text: format!(
            "{} #{incident} website: {summary}",
            event.as_str().to_uppercase()
        ),
        summary,
        incident_state: state,
        opened_at: "2026-11-25T21:00:00Z".parse().unwrap(),
        also_paged: vec!["bob".to_string(), "ops-chat".to_string()],
        created_at: "2026-11-25T21:12:30Z".parse().unwrap(),
        digest: Vec::new(),
    }
}

/// A port nobody listens on (bound then released).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// aiosmtpd on 127.0.0.1, killed when dropped.
pub struct SmtpServer {
    child: Child,
    pub port: u16,
    out: PathBuf,
    _dir: tempfile::TempDir,
}

impl SmtpServer {
    /// `rcpt_reply` / `data_reply`: an SMTP reply line to refuse with, e.g. "451 4.3.0 Later".
    pub fn start(rcpt_reply: Option<&str>, data_reply: Option<&str>) -> SmtpServer {
        Self::start_on(0, rcpt_reply, data_reply)
    }

    /// On a given port (0: any), e.g. one a daemon was configured with while it was down.
    pub fn start_on(port: u16, rcpt_reply: Option<&str>, data_reply: Option<&str>) -> SmtpServer {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("mails.jsonl");
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/support/smtp_server.py");
        // Debian's python3 has python3-aiosmtpd; a pyenv python3 on PATH does not.
        let mut cmd = Command::new("/usr/bin/python3");
        cmd.arg(script).arg("--out").arg(&out);
        if port != 0 {
            cmd.arg("--port").arg(port.to_string());
        }
        if let Some(r) = rcpt_reply {
            cmd.arg("--rcpt-reply").arg(r);
        }
        if let Some(r) = data_reply {
            cmd.arg("--data-reply").arg(r);
        }
        let mut child = cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("start tests/support/smtp_server.py (needs python3-aiosmtpd)");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let port = line
            .strip_prefix("READY ")
            .and_then(|p| p.trim().parse().ok())
            .unwrap_or_else(|| panic!("SMTP server did not start: {line:?}"));
        SmtpServer {
            child,
            port,
            out,
            _dir: dir,
        }
    }

    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    /// Every message received so far, as recorded by the server.
    pub fn messages(&self) -> Vec<serde_json::Value> {
        std::fs::read_to_string(&self.out)
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// How the webhook receiver answers.
#[derive(Debug, Clone)]
pub enum Answer {
    Status(u16),
    /// 429 with this `Retry-After` value.
    TooManyRequests(String),
    /// Never answers.
    Hang,
}

/// One request the receiver got.
#[derive(Debug, Clone)]
pub struct Received {
    pub headers: HeaderMap,
    pub body: Bytes,
    /// When the request reached the receiver (wall clock, to compare with the daemon's times).
    pub at: std::time::SystemTime,
}

impl Received {
    /// The body as JSON (the webhook payload of SPEC §5).
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap()
    }

    /// The `Idempotency-Key` header.
    pub fn key(&self) -> String {
        self.headers
            .get("idempotency-key")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string()
    }
}

#[derive(Clone)]
struct Shared {
    answer: Arc<Mutex<Answer>>,
    received: Arc<Mutex<Vec<Received>>>,
}

/// An HTTP server on 127.0.0.1 that records every POST to `/hook`; stops when dropped.
pub struct WebhookReceiver {
    pub addr: SocketAddr,
    shared: Shared,
    task: tokio::task::JoinHandle<()>,
}

impl WebhookReceiver {
    pub async fn start(answer: Answer) -> WebhookReceiver {
        Self::start_on(0, answer).await
    }

    /// On a given port (0: any), e.g. one a daemon was configured with while nothing listened.
    pub async fn start_on(port: u16, answer: Answer) -> WebhookReceiver {
        let shared = Shared {
            answer: Arc::new(Mutex::new(answer)),
            received: Arc::default(),
        };
        let app = Router::new()
            .route("/hook", post(hook))
            .with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
            .await
            .unwrap();
        let addr = listener.local_addr().unwrap();
        let task = tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        WebhookReceiver { addr, shared, task }
    }

    pub fn url(&self) -> String {
        format!("http://{}/hook", self.addr)
    }

    pub fn set_answer(&self, answer: Answer) {
        *self.shared.answer.lock().unwrap() = answer;
    }

    pub fn received(&self) -> Vec<Received> {
        self.shared.received.lock().unwrap().clone()
    }
}

impl Drop for WebhookReceiver {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn hook(State(shared): State<Shared>, headers: HeaderMap, body: Bytes) -> Response {
    shared.received.lock().unwrap().push(Received {
        headers,
        body,
        at: std::time::SystemTime::now(),
    });
    let answer = shared.answer.lock().unwrap().clone();
    match answer {
        Answer::Status(code) if code >= 400 => {
            (StatusCode::from_u16(code).unwrap(), "refused by the test\n").into_response()
        }
        Answer::Status(code) => StatusCode::from_u16(code).unwrap().into_response(),
        Answer::TooManyRequests(value) => {
            (StatusCode::TOO_MANY_REQUESTS, [("retry-after", value)]).into_response()
        }
        Answer::Hang => {
            tokio::time::sleep(Duration::from_secs(3600)).await;
            StatusCode::OK.into_response()
        }
    }
}

/// `n` requests `GET path` one after the other on one keep-alive connection to `addr`, each
/// answered `expect` (panics otherwise; 10 s read timeout); returns the slowest round trip.
pub fn get_loop(addr: SocketAddr, path: &str, n: usize, expect: u16) -> Duration {
    use std::io::Write;
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let request = format!("GET {path} HTTP/1.1\r\nHost: x\r\n\r\n");
    let mut slowest = Duration::ZERO;
    for _ in 0..n {
        let t = std::time::Instant::now();
        stream.write_all(request.as_bytes()).unwrap();
        assert_eq!(read_response(&mut reader), expect);
        slowest = slowest.max(t.elapsed());
    }
    slowest
}

/// The status of one HTTP/1.1 response with a Content-Length body (the body is skipped).
fn read_response(r: &mut impl BufRead) -> u16 {
    let mut line = String::new();
    r.read_line(&mut line).unwrap();
    let status = line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let mut len = 0usize;
    loop {
        line.clear();
        assert!(
            r.read_line(&mut line).unwrap() > 0,
            "connection closed mid-answer"
        );
        if line.trim().is_empty() {
            break;
        }
        if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
            len = v.trim().parse().unwrap();
        }
    }
    let mut body = vec![0; len];
    r.read_exact(&mut body).unwrap();
    status
}
