//! The seam between the socket API and the daemon: one method per endpoint of SPEC §6.
//!
//! The HTTP layer ([`super::server`]) parses and validates requests, then calls a [`Backend`];
//! it never touches the engine, the store or the notifiers itself. The daemon implements this
//! trait (talking to the task that owns the engine); tests implement it with a recorder. Keeping
//! the trait object-safe (boxed futures) lets the server hold an `Arc<dyn Backend>` without being
//! generic over the daemon.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;

use super::types::{
    CheckView, IncidentDetail, IncidentView, OncallView, Ping, PingOutcome, PingTarget,
    SilenceView, StatusView, TestPageResult,
};
use crate::core::engine::Alert;
use crate::core::model::{IncidentId, SilenceId};

/// A boxed, sendable future: what every [`Backend`] method returns.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// What a backend method yields: the value, or an error the client sees as `{"error": ...}`.
pub type ApiResult<T> = Result<T, ApiError>;

/// An error with the HTTP status it is answered with. The message is shown to the user as is
/// (`oncalld: incident #17 is already resolved`), so it should read as a sentence fragment.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ApiError {
    /// 400 bad request, 403 forbidden, 404 unknown id/name, 409 wrong state (acking a resolved
    /// incident), 413 body too large, 500 internal, 503 the daemon is shutting down.
    pub status: u16,
    pub message: String,
}

impl ApiError {
    pub fn new(status: u16, message: impl Into<String>) -> Self {
        ApiError {
            status,
            message: message.into(),
        }
    }
    /// Malformed request: nothing was changed.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(400, message)
    }
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(403, message)
    }
    /// Unknown incident id, check, silence, policy or page target.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(404, message)
    }
    /// The request is well formed but the object's state forbids it (ack a resolved incident).
    pub fn conflict(message: impl Into<String>) -> Self {
        Self::new(409, message)
    }
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(500, message)
    }
    /// The daemon cannot answer now (shutting down, engine task gone).
    pub fn unavailable(message: impl Into<String>) -> Self {
        Self::new(503, message)
    }
}

/// Which incidents `GET /v1/incidents` lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct IncidentFilter {
    /// `state=all`: resolved ones too. Default: open incidents only.
    pub all: bool,
    /// `since=DUR`: only incidents opened within this long before now.
    pub since: Option<Duration>,
}

/// The result of `POST /v1/reload`: an invalid file is not an API error (the request was fine)
/// but a refusal the CLI prints line by line before exiting 1.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReloadOutcome {
    /// The new config is running; a one-line summary ("12 checks, 3 people, 2 policies").
    Applied(String),
    /// The file is invalid; the daemon keeps running the old config. One entry per error,
    /// each already naming file:line:column and key.
    Invalid(Vec<String>),
}

/// Everything the socket API can ask of the daemon. `actor` arguments are the Unix user of the
/// connecting process from SO_PEERCRED, formatted `alice (uid 1000)`, for the timeline.
///
/// Mutating methods must be durable before they return (the CLI reports success as soon as the
/// response arrives). Errors carry their HTTP status: see [`ApiError`].
pub trait Backend: Send + Sync + 'static {
    /// `GET /v1/status`: every check and the open incidents.
    fn status(&self) -> BoxFuture<'_, ApiResult<StatusView>>;
    /// `GET /v1/checks`.
    fn checks(&self) -> BoxFuture<'_, ApiResult<Vec<CheckView>>>;
    /// `GET /v1/checks/{name}`; 404 for an unknown name.
    fn check(&self, name: String) -> BoxFuture<'_, ApiResult<CheckView>>;
    /// `GET /v1/incidents?state=open|all&since=DUR`, newest first.
    fn incidents(&self, filter: IncidentFilter) -> BoxFuture<'_, ApiResult<Vec<IncidentView>>>;
    /// `GET /v1/incidents/{id}`: the incident with its whole timeline (events and page attempts
    /// merged in time order).
    fn incident(&self, id: IncidentId) -> BoxFuture<'_, ApiResult<IncidentDetail>>;
    /// `POST /v1/incidents/{id}/ack`; 409 when already resolved.
    fn ack(
        &self,
        id: IncidentId,
        actor: String,
        message: Option<String>,
    ) -> BoxFuture<'_, ApiResult<IncidentView>>;
    /// `POST /v1/incidents/ack|resolve` with a list (SPEC §12): one durable step. The default
    /// refuses (a backend without bulk commands).
    fn bulk(
        &self,
        op: crate::core::engine::BulkOp,
        body: super::types::BulkBody,
        actor: String,
    ) -> BoxFuture<'_, ApiResult<super::types::BulkView>> {
        let _ = (op, body, actor);
        Box::pin(async { Err(ApiError::not_found("bulk commands are not available here")) })
    }
    /// `POST /v1/incidents/{id}/resolve`; 409 when already resolved.
    fn resolve(
        &self,
        id: IncidentId,
        actor: String,
        message: Option<String>,
    ) -> BoxFuture<'_, ApiResult<IncidentView>>;
    /// `POST /v1/incidents/{id}/escalate`: page the next step now; 409 when resolved.
    fn escalate(&self, id: IncidentId, actor: String) -> BoxFuture<'_, ApiResult<IncidentView>>;
    /// `POST /v1/incidents/{id}/notes`: the note goes on the timeline (resolved incidents too).
    fn note(
        &self,
        id: IncidentId,
        actor: String,
        text: String,
    ) -> BoxFuture<'_, ApiResult<IncidentView>>;
    /// `GET /v1/incidents/{id}/postmortem`: the Markdown draft of SPEC §7.
    fn postmortem(&self, id: IncidentId) -> BoxFuture<'_, ApiResult<String>>;
    /// `GET /v1/silences`: active and recently ended silences.
    fn silences(&self) -> BoxFuture<'_, ApiResult<Vec<SilenceView>>>;
    /// How many silences are in force or scheduled now: the router refuses a new one at
    /// [`super::limits::MAX_ACTIVE_SILENCES`]. The default counts [`Backend::silences`].
    fn active_silences(&self) -> BoxFuture<'_, ApiResult<usize>> {
        Box::pin(async move { Ok(self.silences().await?.iter().filter(|s| s.active).count()) })
    }
    /// `POST /v1/silences`: a silence from now for `duration`.
    fn add_silence(
        &self,
        pattern: String,
        duration: Duration,
        message: String,
        actor: String,
    ) -> BoxFuture<'_, ApiResult<SilenceView>>;
    /// `DELETE /v1/silences/{id}`: end it now; returns it as ended.
    fn delete_silence(&self, id: SilenceId, actor: String)
    -> BoxFuture<'_, ApiResult<SilenceView>>;
    /// `GET /v1/oncall?policy=&at=`: each step of the policy (every policy when `None`) and who
    /// it reaches at `at` (now when `None`); 404 for an unknown policy.
    fn oncall(
        &self,
        policy: Option<String>,
        at: Option<Timestamp>,
    ) -> BoxFuture<'_, ApiResult<Vec<OncallView>>>;
    /// `GET /v1/report?since=DUR`: SPEC §8. Opaque JSON; a top-level string `"text"`, when
    /// present, is what `oncalld report` prints.
    fn report(&self, since: Duration) -> BoxFuture<'_, ApiResult<serde_json::Value>>;
    /// `POST /v1/reload`: re-read the config file (same as SIGHUP).
    fn reload(&self) -> BoxFuture<'_, ApiResult<ReloadOutcome>>;
    /// `POST /v1/test-page`: send a test page to `person:NAME` or `notifier:NAME` through every
    /// channel and wait for each delivery's first outcome; 404 for an unknown target.
    fn test_page(&self, target: String, actor: String) -> BoxFuture<'_, ApiResult<TestPageResult>>;
    /// `GET /metrics`: Prometheus text exposition format.
    fn metrics(&self) -> BoxFuture<'_, ApiResult<String>>;
    /// `GET /` and `GET /status.json` on the listener (SPEC §14): the page as last rendered
    /// (at most 10 s old). 404 when `[status_page]` is not enabled, the default.
    fn status_page(&self) -> BoxFuture<'_, ApiResult<Arc<crate::status_page::Rendered>>> {
        Box::pin(async { Err(ApiError::not_found("no status page here")) })
    }
    /// A heartbeat ping (SPEC §10): `/ping/{token}...` on the TCP listener, `POST
    /// /v1/checks/{name}/ping` on the socket. 404 for an unknown token or check, 400 for a
    /// check that is not a heartbeat. The default knows no heartbeat check.
    fn ping(&self, target: PingTarget, ping: Ping) -> BoxFuture<'_, ApiResult<PingOutcome>> {
        let _ = ping;
        let what = match target {
            PingTarget::Token(_) => "no heartbeat check has this token".to_string(),
            PingTarget::Check(name) => format!("no heartbeat check {name:?}"),
        };
        Box::pin(async move { Err(ApiError::not_found(what)) })
    }

    /// Whether `token` is the token of source `name` (SPEC §11): 404 for an unknown source,
    /// 401 for a wrong or missing token (compared in constant time). The default knows none.
    fn source_auth(&self, name: &str, token: &str) -> ApiResult<()> {
        let _ = token;
        Err(ApiError::not_found(format!("no source {name:?}")))
    }
    /// One Alertmanager notification of source `name` (SPEC §11): applied in one engine step,
    /// answered once it is committed (503 when it cannot be saved).
    fn alerts(&self, name: String, alerts: Vec<Alert>) -> BoxFuture<'_, ApiResult<()>> {
        let _ = alerts;
        Box::pin(async move { Err(ApiError::not_found(format!("no source {name:?}"))) })
    }
}
