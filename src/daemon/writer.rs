//! The one writer: a dedicated thread that owns the database's write connection.
//!
//! Every write of the running daemon goes through here — engine steps, delivery attempts,
//! notes on resolved incidents — so the fsync never stalls the async workers and there is
//! exactly one writer (SQLite allows one anyway; this makes it explicit and queue-ordered).
//!
//! What a failed write does depends on what the caller needs (SPEC §9):
//!
//! - [`Durability::Hold`] (probe results, ticks, reloads, delivery attempts): the engine has
//!   already moved on and its pages go out anyway, so the write must not be lost. On a
//!   transient error (disk full, I/O error, busy) it is *held*: kept in order with everything
//!   written after it and retried with backoff until it lands. The caller hears
//!   [`WriteError::Held`] and carries on.
//! - [`Durability::Once`] (socket commands): one try, after everything held has landed. If it
//!   fails the caller rolls the step back and tells the user: an ack reported as failed has not
//!   happened.
//!
//! While anything is held, [`StoreHealth`] says so (`oncalld status`, `/metrics`) and the log
//! says so at error level once a minute.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

use jiff::Timestamp;
use tokio::sync::oneshot;

use crate::core::model::PageAttempt;
use crate::store::{Batch, PAGE_RETENTION, Store, StoreError};

/// First retry of held writes after this long, doubling up to [`MAX_BACKOFF`].
const FIRST_BACKOFF: Duration = Duration::from_millis(100);
const MAX_BACKOFF: Duration = Duration::from_secs(2);
/// While not durable, the error log line repeats this often (not once per retry).
const LOG_EVERY: Duration = Duration::from_secs(60);
/// Old delivered and failed pages are pruned this long after start, then daily, so a year of
/// pages never makes start-up or `/metrics` slow (retention: [`PAGE_RETENTION`]).
const FIRST_PRUNE: Duration = Duration::from_secs(60);
const PRUNE_EVERY: Duration = Duration::from_secs(24 * 3600);

/// What the caller needs when a write fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Durability {
    /// Keep it and retry until it lands, after everything held before it.
    Hold,
    /// Try once (after the held writes); report failure so the caller can undo.
    Once,
}

/// Why a write did not land (yet).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WriteError {
    /// Kept and being retried; it will land, in order, when the store allows.
    #[error("not durable yet (kept, retrying): {0}")]
    Held(String),
    /// Not written and not kept: the caller must treat the change as not made.
    #[error("not saved: {0}")]
    NotSaved(String),
    /// The writer has stopped (shutdown).
    #[error("the store writer has stopped")]
    Stopped,
}

/// Whether the daemon's state is durable right now; shared with status and metrics.
#[derive(Debug, Default)]
pub struct StoreHealth {
    failing: AtomicBool,
    errors_total: AtomicU64,
    /// Engine steps committed (each one transaction and one fsync).
    commits_total: AtomicU64,
    held: AtomicUsize,
    last_error: Mutex<Option<String>>,
}

impl StoreHealth {
    pub fn ok(&self) -> bool {
        !self.failing.load(Ordering::Relaxed)
    }
    pub fn errors_total(&self) -> u64 {
        self.errors_total.load(Ordering::Relaxed)
    }
    /// Engine steps committed so far: pings saved together share one (group commit).
    pub fn commits_total(&self) -> u64 {
        self.commits_total.load(Ordering::Relaxed)
    }
    /// Writes kept in memory, waiting for the store.
    pub fn held(&self) -> usize {
        self.held.load(Ordering::Relaxed)
    }
    /// The error that makes the state not durable, while it lasts.
    pub fn error(&self) -> Option<String> {
        if self.ok() {
            return None;
        }
        self.last_error.lock().ok().and_then(|e| e.clone())
    }

    fn failed(&self, error: &str) {
        self.errors_total.fetch_add(1, Ordering::Relaxed);
        self.failing.store(true, Ordering::Relaxed);
        if let Ok(mut e) = self.last_error.lock() {
            *e = Some(error.to_string());
        }
    }
}

type Job = Box<dyn FnOnce(&mut Store) -> Result<(), StoreError> + Send>;

/// One write waiting in the held queue.
enum Held {
    Batch(Batch),
    Attempt(PageAttempt, Option<Timestamp>),
}

enum Message {
    Commit {
        batch: Batch,
        durability: Durability,
        reply: oneshot::Sender<Result<(), WriteError>>,
    },
    Attempt(PageAttempt, Option<Timestamp>),
    Run {
        job: Job,
        reply: oneshot::Sender<Result<(), WriteError>>,
    },
    Flush(oneshot::Sender<bool>),
    /// Last try of what is held, then the thread ends (other handles may still exist).
    Stop,
}

/// Handle to the writer thread; cheap to clone. The thread ends when [`Writer::stop`] is
/// called (or every handle is dropped), after one last try of what is held.
#[derive(Clone)]
pub struct Writer {
    tx: mpsc::Sender<Message>,
    health: Arc<StoreHealth>,
    thread: Arc<Mutex<Option<std::thread::JoinHandle<()>>>>,
}

impl Writer {
    /// Start the thread that owns `store` (the write connection).
    pub fn start(store: Store) -> Writer {
        let (tx, rx) = mpsc::channel();
        let health = Arc::new(StoreHealth::default());
        let state = Thread {
            store,
            rx,
            held: VecDeque::new(),
            health: health.clone(),
            backoff: FIRST_BACKOFF,
            last_log: None,
            next_prune: Instant::now() + FIRST_PRUNE,
        };
        let thread = std::thread::Builder::new()
            .name("oncalld-writer".into())
            .spawn(move || state.run())
            .ok();
        if thread.is_none() {
            tracing::error!("Cannot start the store writer thread; nothing will be saved.");
        }
        Writer {
            tx,
            health,
            thread: Arc::new(Mutex::new(thread)),
        }
    }

    pub fn health(&self) -> Arc<StoreHealth> {
        self.health.clone()
    }

    /// Commit one engine step.
    pub async fn commit(&self, batch: Batch, durability: Durability) -> Result<(), WriteError> {
        let (reply, answer) = oneshot::channel();
        self.send(Message::Commit {
            batch,
            durability,
            reply,
        })?;
        answer.await.unwrap_or(Err(WriteError::Stopped))
    }

    /// Record a delivery attempt; never waits, never lost while the process lives.
    pub fn attempt(&self, record: PageAttempt, next: Option<Timestamp>) {
        if self.send(Message::Attempt(record, next)).is_err() {
            tracing::error!("The store writer has stopped; a page attempt was not recorded.");
        }
    }

    /// Run `job` once on the write connection after everything held has landed
    /// ([`Durability::Once`]); the job's own transaction decides what lands.
    pub async fn run_once<T: Send + 'static>(
        &self,
        job: impl FnOnce(&mut Store) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, WriteError> {
        let (reply, answer) = oneshot::channel();
        let (out_tx, out_rx) = std::sync::mpsc::sync_channel(1);
        let job: Job = Box::new(move |s| {
            let v = job(s)?;
            let _ = out_tx.send(v);
            Ok(())
        });
        self.send(Message::Run { job, reply })?;
        answer.await.unwrap_or(Err(WriteError::Stopped))?;
        out_rx.try_recv().map_err(|_| WriteError::Stopped)
    }

    /// Wait until every write sent so far was tried; true when nothing is held.
    pub async fn flush(&self) -> bool {
        let (reply, answer) = oneshot::channel();
        if self.send(Message::Flush(reply)).is_err() {
            return false;
        }
        answer.await.unwrap_or(false)
    }

    /// Stop the thread after it has written (or given a last try to) everything sent so far.
    pub async fn stop(self) {
        let thread = self.thread.lock().ok().and_then(|mut t| t.take());
        let _ = self.send(Message::Stop);
        if let Some(t) = thread {
            let _ = tokio::task::spawn_blocking(move || t.join()).await;
        }
    }

    fn send(&self, m: Message) -> Result<(), WriteError> {
        self.tx.send(m).map_err(|_| WriteError::Stopped)
    }
}

struct Thread {
    store: Store,
    rx: mpsc::Receiver<Message>,
    held: VecDeque<Held>,
    health: Arc<StoreHealth>,
    backoff: Duration,
    last_log: Option<Instant>,
    next_prune: Instant,
}

impl Thread {
    fn run(mut self) {
        loop {
            let wait = if self.held.is_empty() {
                self.next_prune.saturating_duration_since(Instant::now())
            } else {
                self.backoff
            };
            let message = match self.rx.recv_timeout(wait) {
                Ok(m) => Some(m),
                Err(mpsc::RecvTimeoutError::Timeout) => None,
                Err(mpsc::RecvTimeoutError::Disconnected) => break,
            };
            match message {
                None if self.held.is_empty() => self.prune(),
                None => {
                    self.drain();
                    self.backoff = (self.backoff * 2).min(MAX_BACKOFF);
                }
                Some(Message::Stop) => break,
                Some(m) => self.handle(m),
            }
        }
        if !self.drain() {
            tracing::error!(
                held = self.held.len(),
                "Stopping with state not durable: the last steps are lost from the store \
                 (their pages were sent)."
            );
        }
    }

    fn handle(&mut self, message: Message) {
        match message {
            Message::Commit {
                batch,
                durability: Durability::Hold,
                reply,
            } => {
                let r = self.hold(Held::Batch(batch));
                let _ = reply.send(r);
            }
            Message::Commit {
                batch,
                durability: Durability::Once,
                reply,
            } => {
                let r = self.once(|s| s.commit(&batch));
                if r.is_ok() {
                    self.health.commits_total.fetch_add(1, Ordering::Relaxed);
                }
                let _ = reply.send(r);
            }
            Message::Attempt(record, next) => {
                let _ = self.hold(Held::Attempt(record, next));
            }
            Message::Run { job, reply } => {
                let r = self.once(job);
                let _ = reply.send(r);
            }
            Message::Flush(reply) => {
                let _ = reply.send(self.drain());
            }
            Message::Stop => {}
        }
    }

    /// Queue behind what is held, then try to write everything held.
    fn hold(&mut self, write: Held) -> Result<(), WriteError> {
        self.held.push_back(write);
        if self.drain() {
            Ok(())
        } else {
            Err(WriteError::Held(self.health.error().unwrap_or_default()))
        }
    }

    /// One try, after the held writes; nothing is kept.
    fn once(
        &mut self,
        job: impl FnOnce(&mut Store) -> Result<(), StoreError>,
    ) -> Result<(), WriteError> {
        if !self.drain() {
            return Err(WriteError::NotSaved(
                self.health.error().unwrap_or_default(),
            ));
        }
        job(&mut self.store).map_err(|e| {
            let message = e.to_string();
            self.failure(&message);
            // A one-shot failure does not leave anything held: durable again at once.
            self.health.failing.store(false, Ordering::Relaxed);
            WriteError::NotSaved(message)
        })
    }

    /// Write held writes in order; stops at the first transient failure. True when none is
    /// left held.
    fn drain(&mut self) -> bool {
        let was_failing = !self.health.ok();
        while let Some(write) = self.held.front() {
            let result = match write {
                Held::Batch(b) => self.store.commit(b).inspect(|()| {
                    self.health.commits_total.fetch_add(1, Ordering::Relaxed);
                }),
                Held::Attempt(r, next) => self.store.record_attempt(r, *next),
            };
            match result {
                Ok(()) => {
                    self.held.pop_front();
                }
                Err(e) if e.is_transient() => {
                    self.failure(&e.to_string());
                    self.health.held.store(self.held.len(), Ordering::Relaxed);
                    return false;
                }
                Err(e) => {
                    // Retrying cannot help (a constraint, a page the outbox never had):
                    // dropping this one write keeps the rest flowing.
                    self.health.errors_total.fetch_add(1, Ordering::Relaxed);
                    tracing::error!(error = %e, "A write the store refuses was dropped.");
                    self.held.pop_front();
                }
            }
        }
        self.health.held.store(0, Ordering::Relaxed);
        self.backoff = FIRST_BACKOFF;
        if was_failing {
            self.health.failing.store(false, Ordering::Relaxed);
            self.last_log = None;
            tracing::info!("State is durable again: every held step is now in the store.");
        }
        true
    }

    fn prune(&mut self) {
        self.next_prune = Instant::now() + PRUNE_EVERY;
        match self.store.prune(Timestamp::now(), PAGE_RETENTION) {
            Ok(0) => {}
            Ok(n) => tracing::info!(pages = n, "Pruned old delivered and failed pages."),
            Err(e) => tracing::warn!(error = %e, "Could not prune old pages; will try tomorrow."),
        }
    }

    fn failure(&mut self, error: &str) {
        self.health.failed(error);
        let due = self.last_log.is_none_or(|t| t.elapsed() >= LOG_EVERY);
        if due {
            self.last_log = Some(Instant::now());
            tracing::error!(
                error = %error, held = self.held.len(),
                "State is NOT durable: cannot write to the store; retrying. Pages are still sent."
            );
        }
    }
}
