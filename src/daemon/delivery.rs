//! Outbox delivery: sends pages the engine task has already committed to the database.
//!
//! Each page gets its own small task: wait until due, take a slot of its notifier, send,
//! record the attempt (with its outcome) in the store, and either stop or sleep until the
//! retry. Slots are per notifier, so a slow or dead notifier only ever holds its own slots and
//! never delays pages through the others. On start-up the daemon hands every undelivered page
//! of the outbox to [`Delivery::resume`], so a crash at any point loses nothing: the worst case
//! is a page sent twice, with the same idempotency key.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use jiff::Timestamp;
use tokio::sync::Semaphore;

use crate::core::model::{DeliveryOutcome, Page};
use crate::notify::{self, Notifiers, NotifyError};
use crate::store::Store;

/// How many pages one notifier may have in flight at once.
const SLOTS_PER_NOTIFIER: usize = 16;
/// Upper bound on one attempt, whatever the notifier's own timeout says.
const ATTEMPT_CAP: Duration = Duration::from_secs(120);

/// Handle to the delivery side; cheap to clone.
#[derive(Clone)]
pub struct Delivery {
    inner: Arc<Inner>,
}

struct Inner {
    store: Arc<Mutex<Store>>,
    notifiers: RwLock<Arc<Notifiers>>,
    slots: Mutex<HashMap<String, Arc<Semaphore>>>,
}

impl Delivery {
    pub fn new(store: Arc<Mutex<Store>>, notifiers: Arc<Notifiers>) -> Self {
        Delivery {
            inner: Arc::new(Inner {
                store,
                notifiers: RwLock::new(notifiers),
                slots: Mutex::new(HashMap::new()),
            }),
        }
    }

    /// Use these notifiers from now on (after a reload). Pages already in flight finish
    /// with the notifier they started with.
    pub fn set_notifiers(&self, notifiers: Arc<Notifiers>) {
        if let Ok(mut n) = self.inner.notifiers.write() {
            *n = notifiers;
        }
    }

    /// Send a page that is already in the outbox, now.
    pub fn send(&self, page: Page) {
        let due = page.created_at;
        self.resume(page, 0, due);
    }

    /// Send a page from the outbox that has had `attempts` attempts, at `due`.
    pub fn resume(&self, page: Page, attempts: u32, due: Timestamp) {
        let inner = self.inner.clone();
        tokio::spawn(async move { inner.deliver(page, attempts, due).await });
    }

    /// Send once and wait for the outcome (test pages: the caller wants to know).
    pub async fn send_and_wait(&self, page: Page) -> DeliveryOutcome {
        self.inner.attempt(&page, 0, false).await.0
    }
}

impl Inner {
    async fn deliver(self: Arc<Self>, page: Page, mut attempts: u32, mut due: Timestamp) {
        loop {
            sleep_until(due).await;
            let (outcome, n) = self.attempt(&page, attempts, true).await;
            attempts = n;
            match outcome {
                DeliveryOutcome::Retrying { retry_at, .. } => due = retry_at,
                DeliveryOutcome::Delivered | DeliveryOutcome::Failed { .. } => return,
            }
        }
    }

    /// One attempt, recorded in the store. Returns the outcome and the attempt count.
    /// Without `retry` (test pages) a retryable failure is final.
    async fn attempt(&self, page: &Page, previous: u32, retry: bool) -> (DeliveryOutcome, u32) {
        let attempt = previous + 1;
        let notifier = self
            .notifiers
            .read()
            .ok()
            .and_then(|n| n.get(&page.notifier));
        let result = match notifier {
            None => Err(NotifyError::Permanent {
                message: format!("notifier {:?} is no longer configured", page.notifier),
            }),
            Some(notifier) => {
                let slot = self.slot(&page.notifier);
                let _permit = slot.acquire_owned().await;
                match tokio::time::timeout(ATTEMPT_CAP, notifier.send(page)).await {
                    Ok(r) => r,
                    Err(_) => Err(NotifyError::Retryable {
                        message: format!("no answer within {}s", ATTEMPT_CAP.as_secs()),
                        retry_after: None,
                    }),
                }
            }
        };
        let mut record = notify::page_attempt(page, attempt, &result, Timestamp::now());
        if let (false, DeliveryOutcome::Retrying { error, .. }) = (retry, &record.outcome) {
            record.outcome = DeliveryOutcome::Failed {
                error: error.clone(),
            };
        }
        let outcome = record.outcome.clone();
        log_outcome(page, attempt, &outcome);
        let next = match &outcome {
            DeliveryOutcome::Retrying { retry_at, .. } => Some(*retry_at),
            _ => None,
        };
        let store = self.store.clone();
        let saved = tokio::task::spawn_blocking(move || match store.lock() {
            Ok(mut s) => s.record_attempt(&record, next).map_err(|e| e.to_string()),
            Err(_) => Err("store lock poisoned".to_string()),
        })
        .await;
        if let Ok(Err(e)) | Err(e) = saved.map_err(|e| e.to_string()) {
            tracing::error!(key = %page.key, error = %e, "Could not record a page attempt.");
        }
        (outcome, attempt)
    }

    fn slot(&self, notifier: &str) -> Arc<Semaphore> {
        let mut slots = match self.slots.lock() {
            Ok(s) => s,
            Err(poisoned) => poisoned.into_inner(),
        };
        slots
            .entry(notifier.to_string())
            .or_insert_with(|| Arc::new(Semaphore::new(SLOTS_PER_NOTIFIER)))
            .clone()
    }
}

fn log_outcome(page: &Page, attempt: u32, outcome: &DeliveryOutcome) {
    match outcome {
        DeliveryOutcome::Delivered => tracing::info!(
            key = %page.key, recipient = %page.recipient, notifier = %page.notifier, attempt,
            "Page delivered."
        ),
        DeliveryOutcome::Retrying { error, retry_at } => tracing::warn!(
            key = %page.key, notifier = %page.notifier, attempt, %error, %retry_at,
            "Page not delivered; will retry."
        ),
        DeliveryOutcome::Failed { error } => tracing::error!(
            key = %page.key, notifier = %page.notifier, attempt, %error,
            "Page failed for good."
        ),
    }
}

async fn sleep_until(due: Timestamp) {
    let wait = due.duration_since(Timestamp::now());
    if wait.is_positive() {
        let wait = Duration::try_from(wait).unwrap_or_default();
        tokio::time::sleep(wait).await;
    }
}
