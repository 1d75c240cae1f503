//! Outbox delivery: sends pages the engine task has already handed to the store writer.
//!
//! A page goes through named stages: **resolve** (the notifier in force when the page was
//! decided is attached to the job, so a later reload cannot take it away) → **wait** in its
//! notifier's lane until due → **decide** ([`stage::decide`]: send, expired, notifier
//! removed) → **send** (one attempt, bounded) → **record** (through the [`Writer`], which
//! holds the record if the disk is full) → retry at the time [`notify::attempt_outcome`] gave,
//! or stop.
//!
//! One driver task owns a lane per notifier: a queue ordered by due time and at most
//! [`SLOTS_PER_NOTIFIER`] attempts in flight, so a slow or dead notifier only holds its own
//! slots and a flood of pages is a queue of small jobs, not a task each. On start-up every
//! undelivered page of the outbox is resumed; a crash anywhere loses nothing (at worst a page
//! is sent twice, with the same idempotency key). At shutdown attempts in flight get
//! [`SHUTDOWN_GRACE`] to finish; what is left stays in the outbox for the next start.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinSet;

use crate::core::model::{DeliveryOutcome, Page};
use crate::daemon::clock::sleep_until;
use crate::daemon::writer::Writer;
use crate::notify::stage::{self, Decision};
use crate::notify::{self, Notifier, Notifiers, NotifyError};

/// How many pages one notifier may have in flight at once.
const SLOTS_PER_NOTIFIER: usize = 16;
/// Upper bound on one attempt, whatever the notifier's own timeout says.
const ATTEMPT_CAP: Duration = Duration::from_secs(120);
/// How long attempts in flight may take to finish at shutdown.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// A page with the notifier it was decided with (`None`: that notifier no longer exists).
struct Job {
    page: Page,
    notifier: Option<Arc<dyn Notifier>>,
    attempts: u32,
    due: Timestamp,
}

enum Command {
    Send(Box<Job>),
    Shutdown(oneshot::Sender<()>),
}

/// Handle to the delivery side; cheap to clone.
#[derive(Clone)]
pub struct Delivery {
    tx: mpsc::UnboundedSender<Command>,
    notifiers: Arc<std::sync::RwLock<Arc<Notifiers>>>,
    writer: Writer,
}

impl Delivery {
    /// Start the driver task.
    pub fn start(writer: Writer, notifiers: Arc<Notifiers>) -> Self {
        let (tx, rx) = mpsc::unbounded_channel();
        let driver = Driver {
            rx,
            lanes: HashMap::new(),
            in_flight: JoinSet::new(),
            writer: writer.clone(),
            seq: 0,
        };
        tokio::spawn(driver.run());
        Delivery {
            tx,
            notifiers: Arc::new(std::sync::RwLock::new(notifiers)),
            writer,
        }
    }

    /// Use these notifiers for pages decided from now on. The engine task calls this in the
    /// same step that applies a reload, so no page is decided under one config and resolved
    /// under another.
    pub fn set_notifiers(&self, notifiers: Arc<Notifiers>) {
        if let Ok(mut n) = self.notifiers.write() {
            *n = notifiers;
        }
    }

    fn resolve(&self, name: &str) -> Option<Arc<dyn Notifier>> {
        self.notifiers.read().ok().and_then(|n| n.get(name))
    }

    /// Send a page the engine just decided (its step was handed to the writer).
    pub fn send(&self, page: Page) {
        let due = page.created_at;
        self.resume(page, 0, due);
    }

    /// Send a page from the outbox that has had `attempts` attempts, at `due`.
    pub fn resume(&self, page: Page, attempts: u32, due: Timestamp) {
        let notifier = self.resolve(&page.notifier);
        let job = Job {
            page,
            notifier,
            attempts,
            due,
        };
        if self.tx.send(Command::Send(Box::new(job))).is_err() {
            tracing::error!("Delivery has stopped; a page stays in the outbox for the next start.");
        }
    }

    /// Send once and wait for the outcome (test pages: the caller wants to know).
    pub async fn send_and_wait(&self, page: Page) -> DeliveryOutcome {
        let job = Job {
            notifier: self.resolve(&page.notifier),
            page,
            attempts: 0,
            due: Timestamp::now(),
        };
        attempt(job, false, self.writer.clone())
            .await
            .0
            .page_outcome
    }

    /// Stop taking pages; give attempts in flight [`SHUTDOWN_GRACE`] to finish.
    pub async fn shutdown(&self) {
        let (reply, done) = oneshot::channel();
        if self.tx.send(Command::Shutdown(reply)).is_ok() {
            let _ = done.await;
        }
    }
}

/// What one attempt ended with, and the job if it is to be tried again.
struct Attempted {
    page_outcome: DeliveryOutcome,
    notifier: String,
}

/// The notifier's queue of jobs, earliest due first.
#[derive(Default)]
struct Lane {
    queue: BinaryHeap<Reverse<(Timestamp, u64)>>,
    jobs: HashMap<u64, Job>,
    in_flight: usize,
}

struct Driver {
    rx: mpsc::UnboundedReceiver<Command>,
    lanes: HashMap<String, Lane>,
    in_flight: JoinSet<(Attempted, Option<Job>)>,
    writer: Writer,
    seq: u64,
}

impl Driver {
    async fn run(mut self) {
        loop {
            self.launch_due();
            let next = self.next_due();
            tokio::select! {
                cmd = self.rx.recv() => match cmd {
                    Some(Command::Send(job)) => self.queue(*job),
                    Some(Command::Shutdown(reply)) => {
                        self.drain_in_flight().await;
                        let _ = reply.send(());
                        return;
                    }
                    None => {
                        self.drain_in_flight().await;
                        return;
                    }
                },
                Some(done) = self.in_flight.join_next() => {
                    if let Ok((attempted, again)) = done {
                        self.finished(&attempted.notifier, again);
                    }
                }
                _ = sleep_until(next) => {}
            }
        }
    }

    fn queue(&mut self, job: Job) {
        self.seq += 1;
        let lane = self.lanes.entry(job.page.notifier.clone()).or_default();
        lane.queue.push(Reverse((job.due, self.seq)));
        lane.jobs.insert(self.seq, job);
    }

    fn finished(&mut self, notifier: &str, again: Option<Job>) {
        if let Some(lane) = self.lanes.get_mut(notifier) {
            lane.in_flight = lane.in_flight.saturating_sub(1);
        }
        if let Some(job) = again {
            self.queue(job);
        }
    }

    /// Start every due job of every lane that has a free slot.
    fn launch_due(&mut self) {
        let now = Timestamp::now();
        for lane in self.lanes.values_mut() {
            while lane.in_flight < SLOTS_PER_NOTIFIER {
                match lane.queue.peek() {
                    Some(Reverse((due, _))) if *due <= now => {}
                    _ => break,
                }
                let Some(Reverse((_, seq))) = lane.queue.pop() else {
                    break;
                };
                let Some(job) = lane.jobs.remove(&seq) else {
                    continue;
                };
                lane.in_flight += 1;
                self.in_flight
                    .spawn(attempt(job, true, self.writer.clone()));
            }
        }
        self.lanes
            .retain(|_, l| l.in_flight > 0 || !l.queue.is_empty());
    }

    /// The earliest due time among lanes that could start something.
    fn next_due(&self) -> Option<Timestamp> {
        self.lanes
            .values()
            .filter(|l| l.in_flight < SLOTS_PER_NOTIFIER)
            .filter_map(|l| l.queue.peek().map(|Reverse((due, _))| *due))
            .min()
    }

    async fn drain_in_flight(&mut self) {
        let n = self.in_flight.len();
        let drained = tokio::time::timeout(SHUTDOWN_GRACE, async {
            while self.in_flight.join_next().await.is_some() {}
        })
        .await;
        if drained.is_err() {
            tracing::warn!(
                in_flight = self.in_flight.len(),
                "Pages still being sent at shutdown; they stay in the outbox for the next start."
            );
            self.in_flight.abort_all();
        } else if n > 0 {
            tracing::info!(pages = n, "Pages in flight finished before shutdown.");
        }
    }
}

/// Decide, send, record. Returns the outcome and, when a retry is due, the job again.
/// Without `retry` (test pages) a retryable failure is final.
async fn attempt(mut job: Job, retry: bool, writer: Writer) -> (Attempted, Option<Job>) {
    let now = Timestamp::now();
    let number = job.attempts + 1;
    let decision = stage::decide(&job.page, job.notifier.is_some(), now);
    let result = match (&decision, &job.notifier) {
        (Decision::Send, Some(notifier)) => {
            match tokio::time::timeout(ATTEMPT_CAP, notifier.send(&job.page)).await {
                Ok(r) => r,
                Err(_) => Err(NotifyError::retryable(format!(
                    "no answer within {}s",
                    ATTEMPT_CAP.as_secs()
                ))),
            }
        }
        _ => Err(NotifyError::permanent(
            decision.failure(&job.page).unwrap_or_default(),
        )),
    };
    let mut record = notify::page_attempt(&job.page, number, &result, Timestamp::now());
    if let (false, DeliveryOutcome::Retrying { error, .. }) = (retry, &record.outcome) {
        record.outcome = DeliveryOutcome::Failed {
            error: error.clone(),
        };
    }
    let outcome = record.outcome.clone();
    log_outcome(&job.page, number, &decision, &outcome);
    let next = match &outcome {
        DeliveryOutcome::Retrying { retry_at, .. } => Some(*retry_at),
        _ => None,
    };
    writer.attempt(record, next);
    let attempted = Attempted {
        page_outcome: outcome,
        notifier: job.page.notifier.clone(),
    };
    match next {
        Some(due) => {
            job.attempts = number;
            job.due = due;
            (attempted, Some(job))
        }
        None => (attempted, None),
    }
}

fn log_outcome(page: &Page, attempt: u32, decision: &Decision, outcome: &DeliveryOutcome) {
    match (decision, outcome) {
        (Decision::Expired, _) => tracing::error!(
            key = %page.key, notifier = %page.notifier, created_at = %page.created_at,
            "Page expired: not sent, older than 24h."
        ),
        (Decision::NotifierRemoved, _) => tracing::error!(
            key = %page.key, notifier = %page.notifier,
            "Page not sent: its notifier was removed."
        ),
        (_, DeliveryOutcome::Delivered) => tracing::info!(
            key = %page.key, recipient = %page.recipient, notifier = %page.notifier, attempt,
            "Page delivered."
        ),
        (_, DeliveryOutcome::Retrying { error, retry_at }) => tracing::warn!(
            key = %page.key, notifier = %page.notifier, attempt, %error, %retry_at,
            "Page not delivered; will retry."
        ),
        (_, DeliveryOutcome::Failed { error }) => tracing::error!(
            key = %page.key, notifier = %page.notifier, attempt, %error,
            "Page failed for good."
        ),
    }
}
