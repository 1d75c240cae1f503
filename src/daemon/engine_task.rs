//! The one task that owns the [`Engine`]: it turns probe reports, socket commands and the
//! passing of time into engine inputs, hands each step's actions to the store [`Writer`] as
//! ONE transaction, and then hands the step's pages to delivery.
//!
//! When the store cannot take a step (disk full, I/O error), what happens depends on the step
//! (SPEC §9): a step of probe results, ticks or a reload is *held* by the writer and retried
//! until it lands, and its pages are sent anyway — the engine has moved on and a page must not
//! wait for a disk. A step of socket commands is rolled back (the engine is restored to what
//! it was before the step) and each caller hears [`CommandError::NotSaved`]: an ack reported
//! as failed has not happened.
//!
//! The loop sleeps until the engine's next deadline or the next input, whichever comes first
//! (mini-redis' purge task). Inputs that queue up while a step commits are taken together and
//! committed as one batch, so a mass outage costs one fsync, not one per check.

use std::sync::Arc;

use jiff::Timestamp;
use tokio::sync::{mpsc, oneshot};

use crate::config::Config;
use crate::core::engine::{Action, Engine, EngineError, Input};
use crate::core::model::{Page, PageEvent};
use crate::daemon::clock::sleep_until;
use crate::daemon::delivery::Delivery;
use crate::daemon::live::Shared;
use crate::daemon::scheduler::CheckReport;
use crate::daemon::writer::{Durability, WriteError, Writer};
use crate::notify::Notifiers;
use crate::store::{Batch, CheckStateRow};

/// Most queued inputs folded into one committed step.
const MAX_BATCH: usize = 1024;

/// Why a socket command was not applied.
#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    /// The engine refused it (unknown incident, wrong state...).
    #[error(transparent)]
    Engine(#[from] EngineError),
    /// The store could not save the step: nothing was changed.
    #[error("{0}")]
    NotSaved(String),
}

/// A request from the socket API to the engine task.
pub enum Request {
    /// An engine input; the reply comes after the step is durable.
    Input {
        input: Input,
        reply: oneshot::Sender<Result<Vec<Action>, CommandError>>,
    },
    /// Apply an already validated config and the notifiers built from it, in one step.
    Reload {
        config: Arc<Config>,
        notifiers: Arc<Notifiers>,
        reply: oneshot::Sender<()>,
    },
}

/// What an engine step answers a request with.
type StepResult = Result<Vec<Action>, CommandError>;
type Reply = oneshot::Sender<StepResult>;
/// The scheduler's side of a reload.
pub type OnReload = Box<dyn FnMut(&Arc<Config>) + Send>;

/// What the engine task works with.
pub struct EngineTask {
    pub engine: Engine,
    pub writer: Writer,
    pub delivery: Delivery,
    pub shared: Arc<Shared>,
    pub reports: mpsc::Receiver<CheckReport>,
    pub requests: mpsc::Receiver<Request>,
    /// Called with each new config after the engine took it (the scheduler's reload).
    pub on_reload: OnReload,
}

/// Everything one step produced, applied after the commit.
#[derive(Default)]
struct Step {
    batch: Batch,
    pages: Vec<Page>,
    replies: Vec<(Reply, StepResult)>,
    reload_replies: Vec<oneshot::Sender<()>>,
    /// Pings answered once the step is saved (or held).
    pings: Vec<Arc<tokio::sync::Notify>>,
}

impl EngineTask {
    /// Run until `shutdown` fires. Work already committed is never lost: pages still in the
    /// outbox are resumed by the next start.
    pub async fn run(mut self, shutdown: impl std::future::Future<Output = ()>) {
        tokio::pin!(shutdown);
        // Checks removed from the file while the daemon was down resolve their incidents now.
        let mut first = Step::default();
        let config = self.engine.config().clone();
        match self.engine.handle(Input::Reload(config), Timestamp::now()) {
            Ok(actions) => first.absorb(actions),
            Err(e) => tracing::error!(error = %e, "Engine start-up reload failed."),
        }
        self.finish(first, None).await;
        // The incidents restored from the store are live even when that first step changed
        // nothing (`finish` skips empty steps): without this, `status` shows none of them
        // until the next committed step.
        self.shared.publish_engine(&self.engine);
        let watchdog = crate::daemon::systemd::watchdog_interval();
        let mut ping =
            tokio::time::interval(watchdog.unwrap_or(std::time::Duration::from_secs(3600)));
        // After a long step, one ping (not a burst of the missed ones).
        ping.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            let mut step = Step::default();
            // Set for a step of socket commands: the engine as it was, to roll back to.
            let mut before = None;
            let deadline = self.engine.next_deadline();
            // Routine heartbeat pings waiting for the store (answered already, no step).
            let flush = self.shared.heartbeats.flush_due();
            tokio::select! {
                biased;
                _ = &mut shutdown => break,
                // Before the inputs: a busy but healthy engine (a flood of reports) must not
                // starve the watchdog. It is only ready when due, so it starves nothing.
                _ = ping.tick(), if watchdog.is_some() => {
                    crate::daemon::systemd::notify_watchdog();
                }
                Some(req) = self.requests.recv() => {
                    match req {
                        Request::Reload { config, notifiers, reply } => {
                            self.reload(config, notifiers, &mut step);
                            step.reload_replies.push(reply);
                        }
                        // A repeat of open alerts: answered at once, no step (nothing to
                        // roll back, commit or publish).
                        Request::Input { input, reply }
                            if self.engine.changes_nothing(&input, Timestamp::now()) =>
                        {
                            let _ = reply.send(Ok(Vec::new()));
                        }
                        Request::Input { input, reply } => {
                            before = Some(self.engine.clone());
                            self.command(input, reply, &mut step);
                            // Commands queued meanwhile join this step; a reload waits for
                            // its own (it must not be rolled back with a refused command).
                            while step.len() < MAX_BATCH {
                                match self.requests.try_recv() {
                                    Ok(Request::Input { input, reply }) => {
                                        self.command(input, reply, &mut step)
                                    }
                                    Ok(Request::Reload { config, notifiers, reply }) => {
                                        self.finish(std::mem::take(&mut step), before.take()).await;
                                        self.reload(config, notifiers, &mut step);
                                        step.reload_replies.push(reply);
                                        break;
                                    }
                                    Err(_) => break,
                                }
                            }
                        }
                    }
                }
                Some(report) = self.reports.recv() => {
                    self.report(report, &mut step);
                    while step.len() < MAX_BATCH {
                        match self.reports.try_recv() {
                            Ok(r) => self.report(r, &mut step),
                            Err(_) => break,
                        }
                    }
                }
                _ = sleep_until(deadline) => {
                    let now = Timestamp::now();
                    match self.engine.handle(Input::Tick, now) {
                        Ok(actions) => step.absorb(actions),
                        Err(e) => tracing::error!(error = %e, "Engine tick failed."),
                    }
                }
                // The first routine ping since the last flush: read its due time again.
                _ = self.shared.heartbeats.flush_wanted() => {}
                // Their rows are committed alone when no other step took them in time.
                _ = sleep_until(flush), if flush.is_some() => {}
            }
            // Every held step that commits anyway takes the rows of the routine pings so far,
            // and they are committed alone once due (a step of socket commands is not held:
            // it may be rolled back, so it takes none).
            let due = flush.is_some_and(|f| f <= Timestamp::now());
            if before.is_none() && (due || !step.is_empty()) {
                step.batch
                    .heartbeats
                    .extend(self.shared.heartbeats.take_dirty());
            }
            self.finish(step, before).await;
        }
        // The last routine pings, before the writer stops.
        let mut last = Step::default();
        last.batch.heartbeats = self.shared.heartbeats.take_dirty();
        self.finish(last, None).await;
    }

    fn command(&mut self, input: Input, reply: Reply, step: &mut Step) {
        let result = self.engine.handle(input, Timestamp::now());
        if let Ok(actions) = &result {
            step.absorb(actions.clone());
        }
        step.replies
            .push((reply, result.map_err(CommandError::from)));
    }

    /// The engine, delivery and scheduler take the new config in this one step: pages decided
    /// before it were handed to delivery with the old notifiers, pages after with the new.
    fn reload(&mut self, config: Arc<Config>, notifiers: Arc<Notifiers>, step: &mut Step) {
        match self
            .engine
            .handle(Input::Reload(config.clone()), Timestamp::now())
        {
            Ok(actions) => step.absorb(actions),
            Err(e) => tracing::error!(error = %e, "Engine reload failed."),
        }
        self.delivery.set_notifiers(notifiers);
        (self.on_reload)(&config);
    }

    fn report(&mut self, report: CheckReport, step: &mut Step) {
        self.shared.record_probe(&report);
        if let Some(row) = &report.heartbeat {
            self.shared.heartbeats.settle(row);
            step.batch.heartbeats.push(row.clone());
        }
        if let Some(n) = &report.committed {
            step.pings.push(n.clone());
        }
        let message = || {
            report
                .detail
                .as_ref()
                .unwrap_or(&report.result.message)
                .clone()
        };
        // Every result goes to the engine (flap detection, dependencies); a report that is no
        // result only when it changed the state.
        let input = match (report.failed, report.transition) {
            (Some(failed), transition) => Some(Input::Probe {
                check: report.check.clone(),
                failed,
                transition,
                message: message(),
            }),
            (None, Some(transition)) if transition.is_hard() => Some(Input::Check {
                check: report.check.clone(),
                transition,
                message: message(),
            }),
            (None, _) => None,
        };
        if let Some(input) = input {
            match self.engine.handle(input, report.at) {
                Ok(actions) => step.absorb(actions),
                Err(e) => {
                    tracing::error!(check = %report.check, error = %e, "Engine refused a check change.")
                }
            }
        }
        let Some(transition) = report.transition else {
            return;
        };
        tracing::info!(
            check = %report.check, from = %transition.from, to = %transition.to,
            message = %crate::text::sanitize_line(&report.result.message), "Check state changed."
        );
        step.batch
            .transitions
            .push(crate::core::model::CheckTransitionRecord {
                check: report.check.clone(),
                at: report.at,
                from: transition.from,
                to: transition.to,
                message: report.result.message.clone(),
            });
        step.batch.check_states.push(state_row(&report));
    }

    /// Commit, then send the pages, then answer the callers, then publish the new state.
    /// `before` (a step of socket commands) is the engine to restore if the commit fails.
    async fn finish(&mut self, step: Step, before: Option<Engine>) {
        if step.is_empty() {
            return;
        }
        let durability = match before {
            Some(_) => Durability::Once,
            None => Durability::Hold,
        };
        // One fsync (well under a millisecond here), on the writer's thread.
        match self.writer.commit(step.batch, durability).await {
            Ok(()) => {}
            // Kept by the writer and retried; the pages go out now regardless (SPEC §9).
            Err(WriteError::Held(_)) => {}
            // Not saved: the pings' callers time out with 503 and ping again.
            Err(e) => {
                if let Some(engine) = before {
                    self.engine = engine;
                }
                let message = format!(
                    "not done: the daemon cannot save its state ({e}); nothing was changed"
                );
                for (reply, _) in step.replies {
                    let _ = reply.send(Err(CommandError::NotSaved(message.clone())));
                }
                if durability == Durability::Hold {
                    tracing::error!(error = %e, "An engine step could not be handed to the store.");
                    for page in step
                        .pages
                        .into_iter()
                        .filter(|p| p.event != PageEvent::Test)
                    {
                        self.delivery.send(page);
                    }
                }
                return;
            }
        }
        // Test pages are sent by whoever asked, who waits for the outcome.
        for page in step
            .pages
            .into_iter()
            .filter(|p| p.event != PageEvent::Test)
        {
            self.delivery.send(page);
        }
        for (reply, result) in step.replies {
            let _ = reply.send(result);
        }
        for reply in step.reload_replies {
            let _ = reply.send(());
        }
        for ping in step.pings {
            ping.notify_one();
        }
        self.shared.publish_engine(&self.engine);
    }
}

impl Step {
    fn absorb(&mut self, actions: Vec<Action>) {
        for action in actions {
            match action {
                Action::SaveIncident(i) => self.batch.incidents.push(i),
                Action::Record(e) => self.batch.events.push(e),
                Action::Page(p) => {
                    self.batch.pages.push(p.clone());
                    self.pages.push(p);
                }
                Action::SaveSilence(s) => self.batch.silences.push(s),
            }
        }
    }

    fn len(&self) -> usize {
        self.batch.transitions.len() + self.batch.heartbeats.len() + self.replies.len()
    }

    fn is_empty(&self) -> bool {
        self.batch.incidents.is_empty()
            && self.batch.events.is_empty()
            && self.batch.pages.is_empty()
            && self.batch.silences.is_empty()
            && self.batch.transitions.is_empty()
            && self.batch.check_states.is_empty()
            && self.batch.heartbeats.is_empty()
            && self.replies.is_empty()
            && self.reload_replies.is_empty()
    }
}

/// What a restart needs of a check that just changed state.
fn state_row(report: &CheckReport) -> CheckStateRow {
    CheckStateRow {
        check: report.check.clone(),
        tracker: crate::core::check_state::CheckTracker::new(report.state),
        last_status: report.result.status,
        last_message: report.result.message.clone(),
        last_duration_ms: report.result.duration.as_millis() as u64,
        last_at: report.at,
        state_since: report.at,
    }
}
