//! The JSON shapes of the socket API (documented with examples in docs/API.md). The server
//! serialises them and the CLI deserialises the same types, so the two cannot drift apart.
//! Times are RFC 3339 in UTC; durations in request bodies are humantime strings ("2h 30m").

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::core::model::{IncidentId, IncidentState, SilenceId};

/// One check as `status` shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckView {
    pub name: String,
    /// The probe type: http, tcp, process, disk, command.
    #[serde(rename = "type")]
    pub kind: String,
    /// What it probes, in one string (URL, address, process name, path, command line).
    pub target: String,
    /// "UP", "FAILING" or "DOWN"; "NEW" for a heartbeat check never pinged.
    pub state: String,
    /// Consecutive failures so far while FAILING (0 when UP).
    pub attempt: u32,
    /// When the check entered its current state; `None` before the first result.
    pub since: Option<Timestamp>,
    /// OK, WARNING, CRITICAL or UNKNOWN of the last probe; `None` before the first one.
    pub last_status: Option<String>,
    pub last_message: Option<String>,
    pub last_duration_ms: Option<u64>,
    pub last_at: Option<Timestamp>,
    /// A silence currently matches this check (it is probed, but pages nobody).
    pub silenced: bool,
    /// Its open incident is unreachable: these parents (`depends_on`) were not UP.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unreachable: Vec<String>,
    /// Flapping (SPEC §12): its percent state change over the last 21 results.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub flapping: Option<f64>,
    /// Heartbeat checks: when the last ping (of any kind) came.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_ping: Option<Timestamp>,
    /// Heartbeat checks: when the next success is expected (late after this + grace).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected_next: Option<Timestamp>,
}

/// One incident without its timeline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IncidentView {
    pub id: IncidentId,
    pub check: String,
    pub state: IncidentState,
    /// The probe's message when the check went DOWN.
    pub summary: String,
    pub policy: String,
    pub opened_at: Timestamp,
    pub acked_at: Option<Timestamp>,
    pub acked_by: Option<String>,
    pub resolved_at: Option<Timestamp>,
    pub resolved_by: Option<String>,
    /// The escalation step paged last (1-based; 0 before any page).
    pub step: u32,
    /// Held as unreachable: these parents (`depends_on`) were not UP; nobody paged.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unreachable: Vec<String>,
    /// The check is flapping: what the FLAPPING page said.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub flapping: Option<String>,
}

/// One line of a timeline: an event or a page delivery attempt.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TimelineItem {
    pub at: Timestamp,
    /// The event kind (`triggered`, `paged`, `acknowledged`, `note`, ...) or `delivery` for a
    /// page attempt.
    pub kind: String,
    /// `oncalld`, `auto`, or the Unix user of a socket command, `alice (uid 1000)`.
    pub actor: String,
    pub message: String,
}

/// `GET /v1/incidents/{id}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IncidentDetail {
    pub incident: IncidentView,
    pub timeline: Vec<TimelineItem>,
    /// The daemon's configured `time_zone` (IANA name): `oncalld show` prints times in it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_zone: Option<String>,
}

/// `GET /v1/status`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StatusView {
    pub checks: Vec<CheckView>,
    /// Open incidents only (triggered or acknowledged).
    pub incidents: Vec<IncidentView>,
    /// Whether the daemon's state is durable (SPEC §9).
    #[serde(default)]
    pub store: StoreView,
}

/// The store as the daemon sees it: `ok` false while steps are held in memory because the
/// database cannot be written (disk full, I/O error); pages are still sent meanwhile.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoreView {
    pub ok: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Writes waiting for the store.
    #[serde(default)]
    pub held: usize,
}

impl Default for StoreView {
    fn default() -> Self {
        StoreView {
            ok: true,
            error: None,
            held: 0,
        }
    }
}

/// One silence (maintenance window).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SilenceView {
    pub id: SilenceId,
    /// Glob over check names.
    pub pattern: String,
    pub starts_at: Timestamp,
    pub ends_at: Timestamp,
    pub message: String,
    pub created_by: String,
    pub active: bool,
}

/// Who one policy reaches, step by step, at `at`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OncallView {
    pub policy: String,
    pub at: Timestamp,
    pub steps: Vec<OncallStep>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OncallStep {
    /// 1-based.
    pub step: u32,
    /// humantime, e.g. "15m".
    pub escalate_after: String,
    pub targets: Vec<OncallTarget>,
}

/// One `notify` entry of a step and whom it reaches.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OncallTarget {
    /// As written in the config: `schedule:primary`, `person:bob`, `notifier:ops-chat`.
    pub target: String,
    /// People (or the notifier's name) it reaches at that time; empty when a schedule has
    /// nobody on call (the step is skipped).
    pub recipients: Vec<String>,
}

/// `POST /v1/test-page`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TestPageResult {
    pub target: String,
    pub deliveries: Vec<TestDelivery>,
}

impl TestPageResult {
    /// `oncalld test-page` exits 0 only when there was something to send and all of it arrived.
    pub fn all_delivered(&self) -> bool {
        !self.deliveries.is_empty() && self.deliveries.iter().all(|d| d.delivered)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TestDelivery {
    pub recipient: String,
    pub notifier: String,
    /// The contact address; `None` for a `notifier:` target.
    pub to: Option<String>,
    pub delivered: bool,
    pub error: Option<String>,
}

/// `POST /v1/reload` answer (200 when applied, 422 with `errors` when the file is invalid).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReloadView {
    pub reloaded: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(default)]
    pub errors: Vec<String>,
}

/// Body of ack / resolve / escalate (all optional; an empty body means no message).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MessageBody {
    #[serde(default)]
    pub message: Option<String>,
}

/// Body of `POST /v1/incidents/ack` and `/v1/incidents/resolve` (SPEC §12): several incidents
/// in one durable step, by id and/or by a glob over check names.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct BulkBody {
    #[serde(default)]
    pub ids: Vec<IncidentId>,
    /// Every open incident whose check matches this glob (`web-*`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub check: Option<String>,
    #[serde(default)]
    pub message: Option<String>,
}

/// Answer of a bulk ack/resolve: the incidents changed, and the listed ids left alone.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BulkView {
    pub changed: Vec<IncidentView>,
    /// `{"id": 18, "reason": "already acknowledged"}`.
    pub skipped: Vec<BulkSkip>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BulkSkip {
    pub id: IncidentId,
    pub reason: String,
}

/// Body of `POST /v1/incidents/{id}/notes`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NoteBody {
    pub text: String,
}

/// Body of `POST /v1/silences`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SilenceBody {
    pub pattern: String,
    /// humantime duration, e.g. "2h".
    #[serde(rename = "for")]
    pub duration: String,
    #[serde(default)]
    pub message: Option<String>,
}

/// Body of `POST /v1/test-page`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TestPageBody {
    pub target: String,
}

/// Every error answer: `{"error": "..."}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErrorBody {
    pub error: String,
}

/// What a heartbeat ping says (SPEC §10): `/ping/{token}` → `Success`, `/start` → `Start`,
/// `/fail` → `Fail { exit_code: None }`, `/{1..255}` → `Fail { exit_code: Some(n) }` (`/0`
/// is `Success`), `/log` → `Log`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum PingKind {
    Success,
    Start,
    Fail {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        exit_code: Option<u8>,
    },
    Log,
}

/// One ping of a heartbeat check, from the TCP listener or `oncalld ping` over the socket.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ping {
    #[serde(flatten)]
    pub kind: PingKind,
    /// The POST body or `-m TEXT` (at most 10,000 bytes are kept; the rest is cut).
    #[serde(default)]
    pub body: String,
    /// healthchecks.io's `?rid=`: pairs a start with its finish when given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rid: Option<String>,
}

/// Which heartbeat check a ping is for: by its secret token (TCP listener) or by name (the
/// socket, whose peers are trusted).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PingTarget {
    Token(String),
    Check(String),
}

/// The answer to a ping: the check and its state after it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PingOutcome {
    pub check: String,
    pub state: String,
}
