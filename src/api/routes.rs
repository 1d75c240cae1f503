//! The axum router of SPEC §6. Handlers only validate and translate: every path id, query and
//! body is checked here, so a malformed request gets a 400 `{"error": ...}` before the
//! [`Backend`] is ever called, and nothing changes.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, QueryRejection};
use axum::extract::{DefaultBodyLimit, Extension, Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde::de::DeserializeOwned;

use super::backend::{ApiError, Backend, IncidentFilter, ReloadOutcome};
use super::limits::{MAX_NAME_BYTES, MAX_PATTERN_BYTES, check_len, check_silence_room, check_text};
use super::parse::{parse_duration, parse_id, parse_timestamp};
use super::server::Actor;
use super::types::{
    ErrorBody, MessageBody, NoteBody, Ping, PingTarget, ReloadView, SilenceBody, TestPageBody,
};

/// Largest request body accepted; anything bigger is answered 413 without being read whole.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

type AppState = State<Arc<dyn Backend>>;
/// Held while a silence is counted and created, so concurrent requests cannot together pass
/// [`super::limits::MAX_ACTIVE_SILENCES`].
type SilenceGate = Arc<tokio::sync::Mutex<()>>;
type Reply = Result<Response, ApiError>;

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        (
            status,
            Json(ErrorBody {
                error: self.message,
            }),
        )
            .into_response()
    }
}

fn ok<T: serde::Serialize>(value: T) -> Reply {
    Ok(Json(value).into_response())
}

/// Every endpoint of SPEC §6. Handlers expect an [`Actor`] extension on each request (the
/// server inserts it from SO_PEERCRED).
pub fn router(backend: Arc<dyn Backend>) -> Router {
    Router::new()
        .route("/v1/status", get(status))
        .route("/v1/checks", get(checks))
        .route("/v1/checks/{name}", get(check))
        .route("/v1/checks/{name}/ping", post(ping))
        .route("/v1/incidents", get(incidents))
        .route("/v1/incidents/ack", post(bulk_ack))
        .route("/v1/incidents/resolve", post(bulk_resolve))
        .route("/v1/incidents/{id}", get(incident))
        .route("/v1/incidents/{id}/ack", post(ack))
        .route("/v1/incidents/{id}/resolve", post(resolve))
        .route("/v1/incidents/{id}/escalate", post(escalate))
        .route("/v1/incidents/{id}/notes", post(note))
        .route("/v1/incidents/{id}/postmortem", get(postmortem))
        .route("/v1/silences", get(silences).post(add_silence))
        .route("/v1/silences/{id}", delete(delete_silence))
        .route("/v1/oncall", get(oncall))
        .route("/v1/report", get(report))
        .route("/v1/reload", post(reload))
        .route("/v1/test-page", post(test_page))
        .route("/metrics", get(metrics))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(Extension(SilenceGate::default()))
        .with_state(backend)
}

pub(super) async fn not_found() -> ApiError {
    ApiError::not_found("no such endpoint (see docs/API.md)")
}

pub(super) async fn method_not_allowed() -> ApiError {
    ApiError::new(405, "method not allowed on this endpoint")
}

/// A JSON body, or `default` when the body is empty (None: a body is required).
fn json_body<T: DeserializeOwned>(
    body: Result<Bytes, BytesRejection>,
    default: Option<T>,
) -> Result<T, ApiError> {
    let bytes = body.map_err(|r| ApiError::new(r.status().as_u16(), r.body_text()))?;
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return default.ok_or_else(|| ApiError::bad_request("a JSON body is required"));
    }
    serde_json::from_slice(&bytes).map_err(|e| ApiError::bad_request(format!("invalid JSON: {e}")))
}

fn query<T>(q: Result<Query<T>, QueryRejection>) -> Result<T, ApiError> {
    q.map(|Query(t)| t)
        .map_err(|r| ApiError::bad_request(r.body_text()))
}

fn id(raw: &str) -> Result<u64, ApiError> {
    parse_id(raw).map_err(ApiError::bad_request)
}

async fn status(State(b): AppState) -> Reply {
    ok(b.status().await?)
}

async fn checks(State(b): AppState) -> Reply {
    ok(b.checks().await?)
}

async fn check(State(b): AppState, Path(name): Path<String>) -> Reply {
    check_len("a check name", &name, MAX_NAME_BYTES)?;
    ok(b.check(name).await?)
}

/// `oncalld ping NAME`: a heartbeat ping by check name (the socket's peers are trusted). The
/// body beyond 10,000 bytes is cut by the backend, not refused (SPEC §10).
async fn ping(
    State(b): AppState,
    Path(name): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Reply {
    check_len("a check name", &name, MAX_NAME_BYTES)?;
    let ping: Ping = json_body(body, None)?;
    check_len(
        "the rid",
        ping.rid.as_deref().unwrap_or_default(),
        MAX_NAME_BYTES,
    )?;
    ok(b.ping(PingTarget::Check(name), ping).await?)
}

#[derive(Deserialize)]
struct IncidentsQuery {
    state: Option<String>,
    since: Option<String>,
}

async fn incidents(State(b): AppState, q: Result<Query<IncidentsQuery>, QueryRejection>) -> Reply {
    let q = query(q)?;
    let all = match q.state.as_deref() {
        None | Some("open") => false,
        Some("all") => true,
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "invalid state {other:?}: expected open or all"
            )));
        }
    };
    let since = match q.since.as_deref() {
        None | Some("") => None,
        Some(s) => Some(parse_duration(s).map_err(ApiError::bad_request)?),
    };
    ok(b.incidents(IncidentFilter { all, since }).await?)
}

async fn incident(State(b): AppState, Path(raw): Path<String>) -> Reply {
    ok(b.incident(id(&raw)?).await?)
}

async fn ack(
    State(b): AppState,
    Extension(actor): Extension<Actor>,
    Path(raw): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Reply {
    let id = id(&raw)?;
    let body: MessageBody = json_body(body, Some(MessageBody::default()))?;
    check_text("the message", body.message.as_deref())?;
    ok(b.ack(id, actor.label(), body.message).await?)
}

/// Most incidents one bulk command may list by id.
const MAX_BULK_IDS: usize = 10_000;

async fn bulk(
    b: Arc<dyn Backend>,
    op: crate::core::engine::BulkOp,
    actor: Actor,
    body: Result<Bytes, BytesRejection>,
) -> Reply {
    let body: super::types::BulkBody = json_body(body, None)?;
    check_text("the message", body.message.as_deref())?;
    check_text("the check pattern", body.check.as_deref())?;
    if body.ids.is_empty() && body.check.is_none() {
        return Err(ApiError::bad_request(
            "name incidents: \"ids\": [17, 18] and/or \"check\": \"web-*\"",
        ));
    }
    if body.ids.len() > MAX_BULK_IDS {
        return Err(ApiError::bad_request(format!(
            "at most {MAX_BULK_IDS} ids per command"
        )));
    }
    ok(b.bulk(op, body, actor.label()).await?)
}

async fn bulk_ack(
    State(b): AppState,
    Extension(actor): Extension<Actor>,
    body: Result<Bytes, BytesRejection>,
) -> Reply {
    bulk(b, crate::core::engine::BulkOp::Ack, actor, body).await
}

async fn bulk_resolve(
    State(b): AppState,
    Extension(actor): Extension<Actor>,
    body: Result<Bytes, BytesRejection>,
) -> Reply {
    bulk(b, crate::core::engine::BulkOp::Resolve, actor, body).await
}

async fn resolve(
    State(b): AppState,
    Extension(actor): Extension<Actor>,
    Path(raw): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Reply {
    let id = id(&raw)?;
    let body: MessageBody = json_body(body, Some(MessageBody::default()))?;
    check_text("the message", body.message.as_deref())?;
    ok(b.resolve(id, actor.label(), body.message).await?)
}

async fn escalate(
    State(b): AppState,
    Extension(actor): Extension<Actor>,
    Path(raw): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Reply {
    let id = id(&raw)?;
    let body: MessageBody = json_body(body, Some(MessageBody::default()))?;
    check_text("the message", body.message.as_deref())?;
    ok(b.escalate(id, actor.label()).await?)
}

async fn note(
    State(b): AppState,
    Extension(actor): Extension<Actor>,
    Path(raw): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Reply {
    let id = id(&raw)?;
    let body: NoteBody = json_body(body, None)?;
    check_text("the note", Some(&body.text))?;
    if body.text.trim().is_empty() {
        return Err(ApiError::bad_request("a note needs some text"));
    }
    ok(b.note(id, actor.label(), body.text).await?)
}

async fn postmortem(State(b): AppState, Path(raw): Path<String>) -> Reply {
    let md = b.postmortem(id(&raw)?).await?;
    Ok(([(header::CONTENT_TYPE, "text/markdown; charset=utf-8")], md).into_response())
}

async fn silences(State(b): AppState) -> Reply {
    ok(b.silences().await?)
}

async fn add_silence(
    State(b): AppState,
    Extension(actor): Extension<Actor>,
    Extension(gate): Extension<SilenceGate>,
    body: Result<Bytes, BytesRejection>,
) -> Reply {
    let body: SilenceBody = json_body(body, None)?;
    if body.pattern.trim().is_empty() {
        return Err(ApiError::bad_request("a silence needs a pattern"));
    }
    // Lengths before the glob is compiled: compiling a huge one is the cost being bounded.
    check_len("the pattern", &body.pattern, MAX_PATTERN_BYTES)?;
    check_text("the message", body.message.as_deref())?;
    glob::Pattern::new(&body.pattern)
        .map_err(|e| ApiError::bad_request(format!("invalid pattern {:?}: {e}", body.pattern)))?;
    let duration = parse_duration(&body.duration).map_err(ApiError::bad_request)?;
    let message = body.message.unwrap_or_default();
    let _counting = gate.lock().await;
    check_silence_room(b.active_silences().await?)?;
    let view = b
        .add_silence(body.pattern, duration, message, actor.label())
        .await?;
    Ok((StatusCode::CREATED, Json(view)).into_response())
}

async fn delete_silence(
    State(b): AppState,
    Extension(actor): Extension<Actor>,
    Path(raw): Path<String>,
) -> Reply {
    ok(b.delete_silence(id(&raw)?, actor.label()).await?)
}

#[derive(Deserialize)]
struct OncallQuery {
    policy: Option<String>,
    at: Option<String>,
}

async fn oncall(State(b): AppState, q: Result<Query<OncallQuery>, QueryRejection>) -> Reply {
    let q = query(q)?;
    let at = match q.at.as_deref() {
        None | Some("") => None,
        Some(s) => Some(parse_timestamp(s).map_err(ApiError::bad_request)?),
    };
    let policy = q.policy.filter(|p| !p.is_empty());
    if let Some(p) = &policy {
        check_len("the policy name", p, MAX_NAME_BYTES)?;
    }
    ok(b.oncall(policy, at).await?)
}

#[derive(Deserialize)]
struct ReportQuery {
    since: Option<String>,
}

async fn report(State(b): AppState, q: Result<Query<ReportQuery>, QueryRejection>) -> Reply {
    let q = query(q)?;
    let since =
        parse_duration(q.since.as_deref().unwrap_or("30d")).map_err(ApiError::bad_request)?;
    ok(b.report(since).await?)
}

async fn reload(State(b): AppState) -> Reply {
    Ok(match b.reload().await? {
        ReloadOutcome::Applied(summary) => Json(ReloadView {
            reloaded: true,
            summary: Some(summary),
            error: None,
            errors: Vec::new(),
        })
        .into_response(),
        ReloadOutcome::Invalid(errors) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            Json(ReloadView {
                reloaded: false,
                summary: None,
                error: Some("the config is invalid; still running the previous one".into()),
                errors,
            }),
        )
            .into_response(),
    })
}

async fn test_page(
    State(b): AppState,
    Extension(actor): Extension<Actor>,
    body: Result<Bytes, BytesRejection>,
) -> Reply {
    let body: TestPageBody = json_body(body, None)?;
    check_len("the target", &body.target, MAX_NAME_BYTES)?;
    let target = body.target.trim().to_owned();
    if target.is_empty() {
        return Err(ApiError::bad_request(
            "a test page needs a target: person:NAME or notifier:NAME",
        ));
    }
    ok(b.test_page(target, actor.label()).await?)
}

/// `GET /metrics`, on the socket and on the TCP listener ([`super::tcp`]).
pub(super) async fn metrics(State(b): AppState) -> Reply {
    let text = b.metrics().await?;
    Ok((
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        text,
    )
        .into_response())
}
