//! Notifier backends: one file per way of reaching a person, all behind [`Notifier`].
//!
//! The outbox (store-driven delivery loop) calls [`Notifier::send`] once per attempt and uses
//! the answer's [`NotifyError`] variant and [`backoff`] to decide whether and when to try
//! again. Notifiers themselves never retry or sleep: one attempt, bounded by the notifier's
//! own timeout, so a slow backend cannot hold up another.

pub mod alertmanager;
pub mod alertmanager_alerts;
mod backoff;
pub mod chat;
pub mod command;
pub mod console;
pub mod email;
pub mod pagerduty;
pub mod payload;
pub mod stage;
pub mod template;
pub mod webhook;

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use crate::config::{Config, NotifierConfig};
use crate::core::model::Page;

pub use backoff::{
    JITTER, MAX_BACKOFF, MAX_PAGE_AGE, MAX_RETRY_AFTER, attempt_outcome, backoff,
    backoff_with_jitter, is_expired, page_attempt,
};
pub use payload::webhook_body;

/// Whether trying again can help; the outbox retries only `Retryable`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NotifyError {
    /// Network trouble, a timeout, SMTP 4xx, HTTP 408/429/5xx, a command's non-zero exit.
    /// `retry_after` is the receiver's own hint (HTTP `Retry-After`), if it gave one.
    #[error("{message}")]
    Retryable {
        message: String,
        retry_after: Option<Duration>,
    },
    /// The same page will fail the same way: SMTP 5xx, HTTP 4xx, a missing program, a bad
    /// address. Recorded as failed; escalation goes on regardless.
    #[error("{message}")]
    Permanent { message: String },
}

impl NotifyError {
    /// The message goes to the timeline and the log: a URL password in it is starred, and
    /// control characters (a receiver's answer is quoted) are replaced.
    pub fn retryable(message: impl Into<String>) -> Self {
        NotifyError::Retryable {
            message: shown(message.into()),
            retry_after: None,
        }
    }

    /// As [`NotifyError::retryable`].
    pub fn permanent(message: impl Into<String>) -> Self {
        NotifyError::Permanent {
            message: shown(message.into()),
        }
    }

    pub fn is_retryable(&self) -> bool {
        matches!(self, NotifyError::Retryable { .. })
    }

    pub fn message(&self) -> &str {
        match self {
            NotifyError::Retryable { message, .. } | NotifyError::Permanent { message } => message,
        }
    }
}

/// `message` with URL passwords starred ([`crate::redact`]) and control characters replaced
/// ([`crate::text`]), without a copy when there is nothing to change.
fn shown(message: String) -> String {
    use std::borrow::Cow;
    let message = match crate::redact::redact_urls(&message) {
        Cow::Borrowed(_) => message,
        Cow::Owned(starred) => starred,
    };
    match crate::text::sanitize_line(&message) {
        Cow::Borrowed(_) => message,
        Cow::Owned(clean) => clean,
    }
}

/// The future a notifier returns; boxed so `dyn Notifier` works in the registry.
pub type SendFuture<'a> = Pin<Box<dyn Future<Output = Result<(), NotifyError>> + Send + 'a>>;

/// One way of delivering a page. Implementations make exactly one attempt per call, bounded by
/// their configured timeout, and classify failures as retryable or permanent.
pub trait Notifier: Send + Sync {
    fn send<'a>(&'a self, page: &'a Page) -> SendFuture<'a>;

    /// At start: the latest page this notifier was given for each incident still open (none
    /// resolved, none a test page). A notifier that keeps per-incident state outside the store
    /// (the alertmanager notifier's re-sends) rebuilds it from them; the others need nothing.
    fn restore(&self, _open: &[Page]) {}
}

/// The HTTP client every HTTP notifier uses: our User-Agent, the notifier's `timeout` for the
/// whole attempt and for connecting, no redirects (a 3xx is an answer to classify, SPEC §5).
/// TLS trusts the built-in roots, the system store and the notifier's `ca_file` ([`crate::tls`]).
fn http_client(
    timeout: Duration,
    headers: reqwest::header::HeaderMap,
    ca_file: Option<&std::path::Path>,
) -> Result<reqwest::Client, String> {
    let builder = reqwest::Client::builder()
        .user_agent(concat!("oncalld/", env!("CARGO_PKG_VERSION")))
        .default_headers(headers)
        .timeout(timeout)
        .connect_timeout(timeout)
        .redirect(reqwest::redirect::Policy::none());
    crate::tls::reqwest_trust(builder, ca_file, true)?
        .build()
        .map_err(|e| format!("cannot build the HTTP client: {e}"))
}

/// A notifier in the config could not be built (bad URL, bad header, bad address).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("notifier {name:?}: {message}")]
pub struct BuildError {
    pub name: String,
    pub message: String,
}

/// Every configured notifier by name, built once per config (load or reload).
#[derive(Clone, Default)]
pub struct Notifiers {
    by_name: BTreeMap<String, Arc<dyn Notifier>>,
}

impl Notifiers {
    /// Builds every `[notifiers.NAME]`. All errors are collected so a reload reports them at once.
    pub fn build(config: &Config) -> Result<Self, Vec<BuildError>> {
        let mut notifiers = Notifiers::default();
        let mut errors = Vec::new();
        for (name, cfg) in &config.notifiers {
            match build_one(name, cfg, config) {
                Ok(n) => notifiers.insert(name, n),
                Err(message) => errors.push(BuildError {
                    name: name.clone(),
                    message: shown(message),
                }),
            }
        }
        if errors.is_empty() {
            Ok(notifiers)
        } else {
            Err(errors)
        }
    }

    /// Adds or replaces one notifier (also how tests plug in their own).
    pub fn insert(&mut self, name: impl Into<String>, notifier: Arc<dyn Notifier>) {
        self.by_name.insert(name.into(), notifier);
    }

    pub fn get(&self, name: &str) -> Option<Arc<dyn Notifier>> {
        self.by_name.get(name).cloned()
    }

    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.by_name.keys().map(String::as_str)
    }

    /// Hands each notifier its pages of [`Notifier::restore`] (pages of notifiers no longer
    /// configured are left out).
    pub fn restore(&self, open: Vec<Page>) {
        let mut by_notifier: BTreeMap<String, Vec<Page>> = BTreeMap::new();
        for p in open {
            by_notifier.entry(p.notifier.clone()).or_default().push(p);
        }
        for (name, pages) in by_notifier {
            if let Some(n) = self.by_name.get(&name) {
                n.restore(&pages);
            }
        }
    }
}

impl std::fmt::Debug for Notifiers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.by_name.keys()).finish()
    }
}

/// The one place that maps a config variant to its backend.
fn build_one(
    name: &str,
    cfg: &NotifierConfig,
    config: &Config,
) -> Result<Arc<dyn Notifier>, String> {
    Ok(match cfg {
        NotifierConfig::Email(c) => Arc::new(
            email::EmailNotifier::new(c, config.daemon.time_zone.clone())?
                .with_targets(check_targets(config)),
        ),
        NotifierConfig::Webhook(c) => Arc::new(webhook::WebhookNotifier::new(c)?),
        NotifierConfig::PagerDuty(c) => Arc::new(
            pagerduty::PagerDutyNotifier::new(c, &config.daemon.instance)?
                .with_targets(check_targets(config)),
        ),
        NotifierConfig::Alertmanager(c) => Arc::new(alertmanager::AlertmanagerNotifier::new(
            name,
            c,
            &config.daemon.instance,
        )?),
        NotifierConfig::Chat(c) => Arc::new(chat::ChatNotifier::new(c)?),
        NotifierConfig::Command { command, timeout } => {
            Arc::new(command::CommandNotifier::new(command.clone(), *timeout)?)
        }
        NotifierConfig::Console => Arc::new(console::ConsoleNotifier::new(name)),
    })
}

/// Each check's target (passwords starred), for notifiers that show what failed.
fn check_targets(config: &Config) -> BTreeMap<String, String> {
    config
        .checks
        .iter()
        .map(|check| (check.name.clone(), check.probe.target()))
        .collect()
}
