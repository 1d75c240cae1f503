//! Local stand-ins for the chat services oncalld's presets post to. Slack, Discord, Teams,
//! Telegram, ntfy.sh, Pushover and a Matrix homeserver cannot be reached from the test
//! machine, so one axum server on 127.0.0.1 implements each service's documented request
//! contract (contracts.rs: path, method, headers, body schema, size limits, the error
//! answers each documents) and records every request. A test can queue forced answers (429
//! with the service's retry hint, 5xx, 401...) for the next requests.
#![allow(dead_code)]

pub mod contracts;

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};

/// The secrets the stand-ins accept.
pub const SLACK_PATH: &str = "/services/T0001/B0002/SLACKs3cr3tXYZ";
pub const DISCORD_PATH: &str = "/api/webhooks/1234567890/DISCORDs3cr3t-token";
pub const TEAMS_PATH: &str =
    "/workflows/abc123/triggers/manual/paths/invoke?api-version=1&sig=TEAMSs3cr3tSIG";
pub const TELEGRAM_TOKEN: &str = "123456:TELEGRAMs3cr3tTOKEN";
pub const NTFY_TOKEN: &str = "tk_NTFYs3cr3tT0KEN0123456789abc";
pub const PUSHOVER_TOKEN: &str = "azGDORePK8gMaC0QOYAMyEEuzJnyUi";
pub const PUSHOVER_USER: &str = "uQiRzpo4DXghDmr9QzzfQu27cmVRsG";
pub const MATRIX_TOKEN: &str = "syt_MATRIXs3cr3t_token";
pub const MATRIX_ROOM: &str = "!ops:example.org";

/// One request as received, and the status it got.
#[derive(Debug, Clone)]
pub struct Received {
    pub method: String,
    /// Path and query, percent-encoded as sent.
    pub uri: String,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
    pub status: u16,
}

impl Received {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or(serde_json::Value::Null)
    }

    pub fn form(&self) -> Vec<(String, String)> {
        form_urlencoded::parse(&self.body).into_owned().collect()
    }

    pub fn field(&self, name: &str) -> Option<String> {
        self.form()
            .into_iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v)
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// A forced answer: status, headers, body.
#[derive(Debug, Clone)]
pub struct Forced {
    pub status: u16,
    pub headers: Vec<(&'static str, String)>,
    pub body: String,
}

#[derive(Clone, Default)]
pub(crate) struct Shared {
    forced: Arc<Mutex<VecDeque<Forced>>>,
    received: Arc<Mutex<Vec<Received>>>,
    /// Matrix: (txn id) -> event id, for idempotent PUTs.
    pub(crate) txns: Arc<Mutex<Vec<(String, String)>>>,
}

pub struct ChatServer {
    pub addr: SocketAddr,
    shared: Shared,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl ChatServer {
    pub fn start() -> ChatServer {
        let shared = Shared::default();
        let app = Router::new()
            .fallback(handle)
            .layer(DefaultBodyLimit::max(1024 * 1024))
            .with_state(shared.clone());
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let (ready_tx, ready) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
                ready_tx.send(listener.local_addr().unwrap()).unwrap();
                let _ = axum::serve(listener, app)
                    .with_graceful_shutdown(async {
                        let _ = stopped.await;
                    })
                    .await;
            });
        });
        let addr = ready.recv().unwrap();
        ChatServer {
            addr,
            shared,
            stop: Some(stop),
        }
    }

    pub fn base(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub fn force(&self, status: u16, headers: &[(&'static str, &str)], body: &str) {
        self.shared.forced.lock().unwrap().push_back(Forced {
            status,
            headers: headers.iter().map(|(k, v)| (*k, v.to_string())).collect(),
            body: body.to_string(),
        });
    }

    pub fn received(&self) -> Vec<Received> {
        self.shared.received.lock().unwrap().clone()
    }

    pub fn last(&self) -> Received {
        self.received().pop().expect("no request received")
    }
}

impl Drop for ChatServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

async fn handle(
    State(shared): State<Shared>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let forced = shared.forced.lock().unwrap().pop_front();
    let (status, extra, text) = match forced {
        Some(f) => (f.status, f.headers, f.body),
        None => {
            let (status, text) = contracts::answer(&shared, &method, &uri, &headers, &body);
            (status, Vec::new(), text)
        }
    };
    shared.received.lock().unwrap().push(Received {
        method: method.to_string(),
        uri: uri.to_string(),
        headers,
        body: body.to_vec(),
        status,
    });
    let mut response = (StatusCode::from_u16(status).unwrap(), text).into_response();
    for (k, v) in extra {
        response.headers_mut().insert(k, v.parse().unwrap());
    }
    response
}
