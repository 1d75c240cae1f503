//! A stand-in for PagerDuty's Events API v2 (`POST /v2/enqueue`), which cannot be reached from
//! the test machine: axum on 127.0.0.1 implementing the documented contract
//! (developer.pagerduty.com, "Send an Alert Event" and "Events API v2 Overview"):
//!
//! - body at most 512 KB of JSON; `routing_key` a 32-character string; `event_action` one of
//!   `trigger`, `acknowledge`, `resolve`; `dedup_key` at most 255 characters (required for
//!   acknowledge and resolve);
//! - a trigger needs `payload.summary` (at most 1,024 characters), `payload.source` and
//!   `payload.severity` (`critical`, `error`, `warning`, `info`); `payload.timestamp`, when
//!   given, is ISO 8601; `payload.custom_details`, when given, is an object;
//! - answers `202 {"status":"success","message":"Event processed","dedup_key":...}`, or
//!   `400 {"status":"invalid event","message":"Event object is invalid","errors":[...]}`.
//!
//! The test can queue forced answers (429 with `Retry-After`, 500) for the next requests.
//! It runs on its own thread and runtime, so blocking and async tests can both use it.
#![allow(dead_code)]

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::{Value, json};

pub const MAX_EVENT_BYTES: usize = 512 * 1024;

/// An answer the test forces for one request, whatever the event.
#[derive(Debug, Clone)]
pub enum Forced {
    /// 429 with this `Retry-After`.
    TooMany(String),
    Status(u16),
}

/// One request as received, with the status it got.
#[derive(Debug, Clone)]
pub struct Event {
    pub body: Value,
    pub status: u16,
    pub at: SystemTime,
}

impl Event {
    pub fn action(&self) -> &str {
        self.body["event_action"].as_str().unwrap_or_default()
    }

    pub fn dedup_key(&self) -> &str {
        self.body["dedup_key"].as_str().unwrap_or_default()
    }
}

#[derive(Clone, Default)]
struct Shared {
    forced: Arc<Mutex<VecDeque<Forced>>>,
    events: Arc<Mutex<Vec<Event>>>,
}

pub struct PdReceiver {
    pub addr: SocketAddr,
    shared: Shared,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl PdReceiver {
    pub fn start() -> PdReceiver {
        let shared = Shared::default();
        let app = Router::new()
            .route("/v2/enqueue", post(enqueue))
            .layer(DefaultBodyLimit::max(4 * MAX_EVENT_BYTES))
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
        PdReceiver {
            addr,
            shared,
            stop: Some(stop),
        }
    }

    pub fn url(&self) -> String {
        format!("http://{}/v2/enqueue", self.addr)
    }

    /// The next request gets `answer` (queued answers are used in order).
    pub fn force(&self, answer: Forced) {
        self.shared.forced.lock().unwrap().push_back(answer);
    }

    pub fn events(&self) -> Vec<Event> {
        self.shared.events.lock().unwrap().clone()
    }

    /// Events accepted (202), in arrival order.
    pub fn accepted(&self) -> Vec<Event> {
        self.events()
            .into_iter()
            .filter(|e| e.status == 202)
            .collect()
    }
}

impl Drop for PdReceiver {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

async fn enqueue(State(shared): State<Shared>, body: Bytes) -> Response {
    let forced = shared.forced.lock().unwrap().pop_front();
    let parsed: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let (status, response) = match forced {
        Some(Forced::TooMany(after)) => (
            429,
            (
                StatusCode::TOO_MANY_REQUESTS,
                [("retry-after", after)],
                axum::Json(json!({"status": "throttle event", "message": "Requests for this service are arriving too quickly."})),
            )
                .into_response(),
        ),
        Some(Forced::Status(code)) => (code, StatusCode::from_u16(code).unwrap().into_response()),
        None => match validate(&body, &parsed) {
            Ok(()) => (
                202,
                (
                    StatusCode::ACCEPTED,
                    axum::Json(json!({"status": "success", "message": "Event processed",
                        "dedup_key": parsed["dedup_key"]})),
                )
                    .into_response(),
            ),
            Err(errors) => (
                400,
                (
                    StatusCode::BAD_REQUEST,
                    axum::Json(json!({"status": "invalid event",
                        "message": "Event object is invalid", "errors": errors})),
                )
                    .into_response(),
            ),
        },
    };
    shared.events.lock().unwrap().push(Event {
        body: parsed,
        status,
        at: SystemTime::now(),
    });
    response
}

/// Every violation of the documented contract, as PagerDuty lists them in `errors`.
pub fn validate(raw: &[u8], v: &Value) -> Result<(), Vec<String>> {
    let mut errors = Vec::new();
    if raw.len() > MAX_EVENT_BYTES {
        errors.push(format!("Event is {} bytes, over 512 KB", raw.len()));
    }
    if !v.is_object() {
        errors.push("Event is not a JSON object".to_string());
        return Err(errors);
    }
    match v["routing_key"].as_str() {
        Some(k) if k.chars().count() == 32 => {}
        Some(_) => errors
            .push("Length of 'routing_key' is incorrect (should be 32 characters)".to_string()),
        None => errors.push("'routing_key' is missing or blank".to_string()),
    }
    let action = v["event_action"].as_str().unwrap_or_default();
    if !["trigger", "acknowledge", "resolve"].contains(&action) {
        errors.push("'event_action' is invalid".to_string());
    }
    match &v["dedup_key"] {
        Value::String(k) if k.chars().count() <= 255 && !k.is_empty() => {}
        Value::Null if action == "trigger" => {}
        _ => errors.push("'dedup_key' is missing, blank or over 255 characters".to_string()),
    }
    if action == "trigger" {
        payload_errors(&v["payload"], &mut errors);
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

fn payload_errors(p: &Value, errors: &mut Vec<String>) {
    match p["summary"].as_str() {
        Some(s) if !s.trim().is_empty() && s.chars().count() <= 1024 => {}
        _ => errors.push("'payload.summary' is missing, blank or over 1024 characters".into()),
    }
    if p["source"].as_str().is_none_or(|s| s.trim().is_empty()) {
        errors.push("'payload.source' is missing or blank".into());
    }
    let severities = ["critical", "error", "warning", "info"];
    if !p["severity"]
        .as_str()
        .is_some_and(|s| severities.contains(&s))
    {
        errors.push(
            "'payload.severity' is invalid (must be one of critical, error, warning or info)"
                .into(),
        );
    }
    if let Some(t) = p.get("timestamp") {
        if t.as_str()
            .and_then(|s| s.parse::<jiff::Timestamp>().ok())
            .is_none()
        {
            errors.push("'payload.timestamp' is not an ISO 8601 timestamp".into());
        }
    }
    if p.get("custom_details").is_some_and(|d| !d.is_object()) {
        errors.push("'payload.custom_details' is not an object".into());
    }
}
