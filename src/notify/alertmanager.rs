//! Alertmanager: pages become alerts posted to every peer of a cluster (SPEC §11, "Out:
//! type = alertmanager"); Alertmanager's gossip deduplicates them and routes them on.
//!
//! - An incident's alert: labels `alertname = <check>`, `severity = "critical"` (every page of
//!   an incident is urgent, and the labels must not change between pages or Alertmanager sees
//!   a new alert) and the configured labels (a configured `severity` wins); no instance or
//!   incident id, so two hosts watching the same thing give one alert. Annotations `summary`,
//!   `incident`, `instance`; `startsAt` = the incident's opening.
//! - Triggered, escalated and acknowledged pages post it firing (an ack does not resolve: it
//!   keeps firing until the incident resolves); the resolved page posts `endsAt = now`.
//!   Re-sending is in [`super::alertmanager_alerts`], run by a task this notifier spawns on
//!   its first page and that ends when the notifier is dropped. A reload builds a new
//!   notifier of the same name: it takes over the alerts of the one it replaces (and starts
//!   re-sending them at once), so a reload does not let Alertmanager time them out. A restart
//!   rebuilds them from the store ([`Notifier::restore`]: the latest page of each incident
//!   still open) and re-sends them at the first tick.
//! - A test page posts an alert of its own (`alertname = "oncalld_test"` with an `instance`
//!   label), not re-sent: Alertmanager resolves it after 4 × resend.
//! - A round is delivered when at least one peer answers 2xx. Every peer failing is retried,
//!   unless every peer refused the alert (a 4xx other than 408/429): that is permanent.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, LazyLock, Mutex, Weak};
use std::time::Duration;

use jiff::Timestamp;
use reqwest::StatusCode;
use serde_json::Value;

use super::alertmanager_alerts::{Alert, ENDS_AFTER_RESENDS, Tracker};
use super::webhook::error_chain;
use super::{Notifier, NotifyError, SendFuture};
use crate::config::AlertmanagerNotifier as AlertmanagerConfig;
use crate::core::model::{Page, PageEvent};
use crate::redact::redact_urls;
use crate::text::sanitize_line;

/// How often the re-send task looks for due alerts.
const TICK: Duration = Duration::from_secs(1);
/// `annotations.summary` is cut here.
const MAX_SUMMARY_CHARS: usize = 1024;
/// The label every alert of a test page carries as its name.
pub const TEST_ALERTNAME: &str = "oncalld_test";

/// What every alert of this notifier shares, apart from the page.
#[derive(Debug, Clone)]
pub struct AlertContext {
    pub labels: BTreeMap<String, String>,
    /// `[daemon] instance`.
    pub instance: String,
}

struct Peer {
    endpoint: reqwest::Url,
    /// The base URL with any password starred, for messages.
    shown: String,
}

struct Inner {
    client: reqwest::Client,
    peers: Vec<Peer>,
    context: AlertContext,
    resend: Duration,
    tracker: Arc<Mutex<Tracker>>,
}

/// Each alertmanager notifier's alerts by notifier name, while a notifier holds them: what a
/// reload's new notifier takes over.
static CARRIED: LazyLock<Mutex<BTreeMap<String, Weak<Mutex<Tracker>>>>> =
    LazyLock::new(Mutex::default);

/// The alerts of the live notifier called `name`, if any, else a new empty set; registered
/// under `name` for the next reload.
fn carried_tracker(name: &str, resend: Duration) -> Arc<Mutex<Tracker>> {
    let Ok(mut carried) = CARRIED.lock() else {
        return Arc::new(Mutex::new(Tracker::new(resend)));
    };
    carried.retain(|_, w| w.strong_count() > 0);
    let tracker = carried
        .get(name)
        .and_then(Weak::upgrade)
        .unwrap_or_else(|| Arc::new(Mutex::new(Tracker::new(resend))));
    if let Ok(mut t) = tracker.lock() {
        t.set_resend(resend);
    }
    carried.insert(name.to_string(), Arc::downgrade(&tracker));
    tracker
}

pub struct AlertmanagerNotifier {
    inner: Arc<Inner>,
    task_started: AtomicBool,
}

impl AlertmanagerNotifier {
    /// Checks every URL now, so a typo shows at config load.
    /// `name` is the notifier's: a notifier of the same name built by a reload takes over the
    /// alerts this one keeps alive.
    pub fn new(name: &str, config: &AlertmanagerConfig, instance: &str) -> Result<Self, String> {
        let peers = config
            .urls
            .iter()
            .map(|u| peer(u))
            .collect::<Result<Vec<_>, _>>()?;
        if peers.is_empty() {
            return Err("urls must list at least one peer".to_string());
        }
        let client = super::http_client(
            config.timeout,
            Default::default(),
            config.ca_file.as_deref(),
        )?;
        let inner = Inner {
            client,
            peers,
            context: AlertContext {
                labels: config.labels.clone(),
                instance: instance.to_string(),
            },
            resend: config.resend,
            tracker: carried_tracker(name, config.resend),
        };
        let notifier = AlertmanagerNotifier {
            inner: Arc::new(inner),
            task_started: AtomicBool::new(false),
        };
        if notifier.tracked() > 0 {
            notifier.start_task();
        }
        Ok(notifier)
    }

    /// Incidents whose alert is kept alive (open, or resolved less than 5 minutes ago).
    pub fn tracked(&self) -> usize {
        self.inner.tracker.lock().map(|t| t.len()).unwrap_or(0)
    }

    /// Spawns the re-send task once, on the runtime the first page is sent from. It holds
    /// only a `Weak`: when the notifier is dropped, the task ends at its next tick.
    fn start_task(&self) {
        if self.task_started.swap(true, Ordering::SeqCst) {
            return;
        }
        match tokio::runtime::Handle::try_current() {
            Ok(handle) => {
                handle.spawn(resend_loop(Arc::downgrade(&self.inner)));
            }
            Err(_) => self.task_started.store(false, Ordering::SeqCst),
        }
    }
}

/// `base` + `/api/v2/alerts` (a path prefix, e.g. behind a proxy, is kept).
fn peer(base: &str) -> Result<Peer, String> {
    let shown = redact_urls(base).into_owned();
    let url = reqwest::Url::parse(base).map_err(|e| format!("invalid url {shown}: {e}"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!("url {shown} is not http(s)"));
    }
    let path = format!("{}/api/v2/alerts", url.path().trim_end_matches('/'));
    let mut endpoint = url;
    endpoint.set_path(&path);
    endpoint.set_query(None);
    Ok(Peer { endpoint, shown })
}

impl Notifier for AlertmanagerNotifier {
    fn send<'a>(&'a self, page: &'a Page) -> SendFuture<'a> {
        Box::pin(async move {
            let now = Timestamp::now();
            let inner = &self.inner;
            let item = if page.event == PageEvent::Test {
                let ends_at = now
                    .checked_add(inner.resend * ENDS_AFTER_RESENDS)
                    .unwrap_or(now);
                test_alert(page, &inner.context, now).body(ends_at)
            } else {
                self.start_task();
                let alert = incident_alert(page, &inner.context);
                let resolved = page.event == PageEvent::Resolved;
                let mut tracker = inner
                    .tracker
                    .lock()
                    .map_err(|_| NotifyError::retryable("alertmanager: state lock poisoned"))?;
                tracker.record(page.incident, alert, resolved, now)
            };
            inner.post(&Value::Array(vec![item])).await
        })
    }

    fn restore(&self, open: &[Page]) {
        let now = Timestamp::now();
        let restored = match self.inner.tracker.lock() {
            Ok(mut tracker) => {
                for page in open
                    .iter()
                    .filter(|p| !matches!(p.event, PageEvent::Test | PageEvent::Resolved))
                {
                    tracker.restore(
                        page.incident,
                        incident_alert(page, &self.inner.context),
                        now,
                    );
                }
                tracker.len()
            }
            Err(_) => return,
        };
        if restored > 0 {
            tracing::info!(
                alerts = restored,
                "alertmanager: alerts of open incidents restored; re-sent now"
            );
            self.start_task();
        }
    }
}

async fn resend_loop(inner: Weak<Inner>) {
    let mut tick = tokio::time::interval(TICK);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let Some(inner) = inner.upgrade() else {
            return;
        };
        let due = match inner.tracker.lock() {
            Ok(mut tracker) => tracker.due(Timestamp::now()),
            Err(_) => return,
        };
        if due.is_empty() {
            continue;
        }
        let count = due.len();
        match inner.post(&Value::Array(due)).await {
            Ok(()) => tracing::debug!(alerts = count, "alertmanager: alerts re-sent"),
            Err(e) => tracing::warn!(alerts = count, "alertmanager: re-send failed: {e}"),
        }
    }
}

impl Inner {
    /// One round: the same body to every peer at once; delivered if one accepts.
    async fn post(&self, body: &Value) -> Result<(), NotifyError> {
        let bytes = serde_json::to_vec(body)
            .map_err(|e| NotifyError::permanent(format!("cannot encode the alert: {e}")))?;
        let mut set = tokio::task::JoinSet::new();
        for (i, peer) in self.peers.iter().enumerate() {
            let request = self
                .client
                .post(peer.endpoint.clone())
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(bytes.clone());
            set.spawn(async move { (i, answer(request.send().await)) });
        }
        let mut failures: Vec<(usize, PeerFailure)> = Vec::new();
        let mut delivered = false;
        while let Some(joined) = set.join_next().await {
            match joined {
                Ok((_, Ok(()))) => delivered = true,
                Ok((i, Err(f))) => failures.push((i, f)),
                Err(e) => failures.push((0, PeerFailure::Network(e.to_string()))),
            }
        }
        if delivered {
            return Ok(());
        }
        failures.sort_by_key(|(i, _)| *i);
        Err(round_error(&self.peers, &failures))
    }
}

/// Why one peer did not take the alert.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PeerFailure {
    Network(String),
    Status(StatusCode),
}

impl PeerFailure {
    /// A refusal that the same alert will meet again.
    pub fn is_permanent(&self) -> bool {
        match self {
            PeerFailure::Network(_) => false,
            PeerFailure::Status(s) => {
                s.is_client_error()
                    && *s != StatusCode::REQUEST_TIMEOUT
                    && *s != StatusCode::TOO_MANY_REQUESTS
            }
        }
    }
}

fn answer(result: Result<reqwest::Response, reqwest::Error>) -> Result<(), PeerFailure> {
    match result {
        Ok(r) if r.status().is_success() => Ok(()),
        Ok(r) => Err(PeerFailure::Status(r.status())),
        Err(e) if e.is_timeout() => Err(PeerFailure::Network("timed out".to_string())),
        Err(e) => Err(PeerFailure::Network(error_chain(&e.without_url()))),
    }
}

/// Every peer failed: one message naming each; permanent only if every peer refused.
fn round_error(peers: &[Peer], failures: &[(usize, PeerFailure)]) -> NotifyError {
    let parts: Vec<String> = failures
        .iter()
        .map(|(i, f)| {
            let who = peers.get(*i).map(|p| p.shown.as_str()).unwrap_or("?");
            match f {
                PeerFailure::Network(e) => format!("{who}: {e}"),
                PeerFailure::Status(s) => format!("{who} answered {s}"),
            }
        })
        .collect();
    let message = format!(
        "alertmanager: no peer took the alert ({})",
        parts.join("; ")
    );
    if !failures.is_empty() && failures.iter().all(|(_, f)| f.is_permanent()) {
        NotifyError::permanent(message)
    } else {
        NotifyError::retryable(message)
    }
}

/// The alert of the page's incident (SPEC §11): the same labels for every page of it.
pub fn incident_alert(page: &Page, ctx: &AlertContext) -> Alert {
    let mut labels = BTreeMap::new();
    labels.insert("severity".to_string(), "critical".to_string());
    labels.extend(ctx.labels.clone());
    labels.insert("alertname".to_string(), page.check.clone());
    let summary = format!("{}: {}", page.check, page.summary);
    let annotations = BTreeMap::from([
        ("summary".to_string(), cut(&sanitize_line(&summary))),
        ("incident".to_string(), page.incident.to_string()),
        ("instance".to_string(), ctx.instance.clone()),
    ]);
    Alert {
        labels,
        annotations,
        starts_at: page.opened_at,
    }
}

/// A test page's own alert: named [`TEST_ALERTNAME`], with this host's `instance` label so
/// test pages from two hosts are two alerts.
pub fn test_alert(page: &Page, ctx: &AlertContext, now: Timestamp) -> Alert {
    let mut labels = BTreeMap::new();
    labels.insert("severity".to_string(), "critical".to_string());
    labels.extend(ctx.labels.clone());
    labels.insert("alertname".to_string(), TEST_ALERTNAME.to_string());
    labels.insert("instance".to_string(), ctx.instance.clone());
    let annotations = BTreeMap::from([
        ("summary".to_string(), cut(&sanitize_line(&page.text))),
        ("instance".to_string(), ctx.instance.clone()),
    ]);
    Alert {
        labels,
        annotations,
        starts_at: now,
    }
}

fn cut(text: &str) -> String {
    match text.char_indices().nth(MAX_SUMMARY_CHARS) {
        None => text.to_string(),
        Some((at, _)) => format!("{}…", &text[..at]),
    }
}

#[cfg(test)]
#[path = "alertmanager_tests.rs"]
mod tests;
