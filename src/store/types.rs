//! The values the store takes and gives back, beside the model types it persists.

use jiff::Timestamp;

use crate::core::check_state::{CheckTracker, Status};
use crate::core::heartbeat::{HbState, LastPing};
use crate::core::model::{
    CheckTransitionRecord, Incident, IncidentId, Page, PageAttempt, PageEvent, Silence,
    TimelineEvent,
};

/// Everything one engine step decided, written in one transaction before any page leaves.
/// Order inside the transaction: incidents, events, pages, silences, transitions, check states.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Batch {
    /// Upserted by id (the whole row is written).
    pub incidents: Vec<Incident>,
    /// Inserted; an `(incident, seq)` already stored is an error (it would be an engine bug).
    pub events: Vec<TimelineEvent>,
    /// Inserted into the outbox as pending, due at `created_at`; a key already stored is
    /// ignored so a replayed step cannot page twice.
    pub pages: Vec<Page>,
    /// Upserted by id.
    pub silences: Vec<Silence>,
    pub transitions: Vec<CheckTransitionRecord>,
    /// Upserted by check name.
    pub check_states: Vec<CheckStateRow>,
    /// Upserted by check name: the last ping of heartbeat checks.
    pub heartbeats: Vec<HeartbeatRow>,
}

impl Batch {
    pub fn is_empty(&self) -> bool {
        self.incidents.is_empty()
            && self.events.is_empty()
            && self.pages.is_empty()
            && self.silences.is_empty()
            && self.transitions.is_empty()
            && self.check_states.is_empty()
            && self.heartbeats.is_empty()
    }
}

/// What a heartbeat check needs to resume after a restart (see [`crate::core::heartbeat`]).
#[derive(Debug, Clone, PartialEq)]
pub struct HeartbeatRow {
    pub check: String,
    pub state: HbState,
    pub last_ping: Option<LastPing>,
    pub last_success: Option<Timestamp>,
    pub started: Option<Timestamp>,
}

/// What the daemon needs to resume a check after a restart (and `oncalld status` shows).
#[derive(Debug, Clone, PartialEq)]
pub struct CheckStateRow {
    pub check: String,
    pub tracker: CheckTracker,
    pub last_status: Status,
    pub last_message: String,
    pub last_duration_ms: u64,
    pub last_at: Timestamp,
    /// When the check entered its current state (UP/FAILING/DOWN).
    pub state_since: Timestamp,
}

/// Where a page stands in the outbox.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PageStatus {
    Pending,
    Delivered,
    Failed,
}

impl PageStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            PageStatus::Pending => "pending",
            PageStatus::Delivered => "delivered",
            PageStatus::Failed => "failed",
        }
    }
}

/// A page still to deliver, with how far its delivery has got.
#[derive(Debug, Clone, PartialEq)]
pub struct PendingPage {
    pub page: Page,
    /// Attempts made so far; the next one is `attempts + 1`.
    pub attempts: u32,
    pub next_attempt_at: Timestamp,
}

/// A page of an incident with its delivery state (for `oncalld show` and postmortems).
#[derive(Debug, Clone, PartialEq)]
pub struct PageRecord {
    pub page: Page,
    pub status: PageStatus,
    pub attempts: u32,
    /// Set while pending.
    pub next_attempt_at: Option<Timestamp>,
    pub last_error: Option<String>,
}

/// One page in a report window: enough to count pages per person and night pages.
#[derive(Debug, Clone, PartialEq)]
pub struct PageSummary {
    pub incident: IncidentId,
    pub event: PageEvent,
    pub recipient: String,
    pub notifier: String,
    pub check: String,
    pub created_at: Timestamp,
    pub status: PageStatus,
    /// The person's address; `None` for pages to a `notifier:` target.
    pub to: Option<String>,
}

impl PageSummary {
    pub fn delivered(&self) -> bool {
        self.status == PageStatus::Delivered
    }
}

/// One line of an incident's timeline: an event, or an attempt to deliver one of its pages.
#[derive(Debug, Clone, PartialEq)]
pub enum TimelineEntry {
    Event(TimelineEvent),
    Attempt(PageAttempt),
}

impl TimelineEntry {
    pub fn at(&self) -> Timestamp {
        match self {
            TimelineEntry::Event(e) => e.at,
            TimelineEntry::Attempt(a) => a.at,
        }
    }
}

/// Which incidents `Store::incidents` lists.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct IncidentFilter {
    pub open_only: bool,
    /// Only incidents opened at or after this time.
    pub since: Option<Timestamp>,
}

/// Outbox figures for one notifier (for `/metrics`).
#[derive(Debug, Clone, PartialEq)]
pub struct OutboxStats {
    pub notifier: String,
    pub pending: u64,
    pub delivered: u64,
    pub failed: u64,
    /// `created_at` of the oldest pending page; its age is how far delivery lags.
    pub oldest_pending: Option<Timestamp>,
}
