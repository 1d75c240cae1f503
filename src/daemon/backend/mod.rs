//! The daemon's side of the socket API ([`crate::api::Backend`]).
//!
//! Reads come from the shared live state (checks, open incidents) or from the store's read
//! connection (history, timelines, reports); every change goes to the engine task as a
//! [`Request`] and is answered only once its step is committed, so a command that returned is
//! durable.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use jiff::Timestamp;
use tokio::sync::mpsc;

use crate::api::alertmanager::constant_time_eq;
use crate::api::backend::{
    ApiError, ApiResult, Backend, BoxFuture, IncidentFilter, LinkOutcome, ReloadOutcome,
};
use crate::api::types::{
    CheckView, IncidentDetail, IncidentView, OncallView, Ping, PingOutcome, PingTarget,
    SilenceView, StatusView, TestDelivery, TestPageResult,
};
use crate::config::Target;
use crate::core::engine::{Action, Alert, Input};
use crate::core::model::{DeliveryOutcome, IncidentId, SilenceId};
use crate::core::simulate::{Simulation, simulate};
use crate::daemon::delivery::Delivery;
use crate::daemon::engine_task::Request;
use crate::daemon::live::Shared;
use crate::daemon::runtime::Reloader;
use crate::daemon::views;
use crate::daemon::writer::Writer;
use crate::link::LinkKey;
use crate::report::explain::{Explanation, explain};
use crate::store::Store;

mod links;
mod ops;

use ops::saved_silence;

pub struct DaemonBackend {
    shared: Arc<Shared>,
    store: Arc<Mutex<Store>>,
    requests: mpsc::Sender<Request>,
    delivery: Delivery,
    writer: Writer,
    reloader: Arc<Reloader>,
    status_page: crate::daemon::status_page::StatusPageCache,
    /// Verifies action links (SPEC §13); `None` in tests that start no key.
    link_key: Option<LinkKey>,
}

impl DaemonBackend {
    pub fn new(
        shared: Arc<Shared>,
        store: Arc<Mutex<Store>>,
        requests: mpsc::Sender<Request>,
        delivery: Delivery,
        writer: Writer,
        reloader: Arc<Reloader>,
    ) -> Self {
        DaemonBackend {
            shared,
            store,
            requests,
            delivery,
            writer,
            reloader,
            status_page: Default::default(),
            link_key: None,
        }
    }

    /// The installation's key, to verify action links with.
    pub fn with_link_key(mut self, key: LinkKey) -> Self {
        self.link_key = Some(key);
        self
    }
}

impl Backend for DaemonBackend {
    fn status(&self) -> BoxFuture<'_, ApiResult<StatusView>> {
        Box::pin(async move { Ok(views::status(&self.shared)) })
    }

    fn checks(&self) -> BoxFuture<'_, ApiResult<Vec<CheckView>>> {
        Box::pin(async move { Ok(views::checks(&self.shared)) })
    }

    fn check(&self, name: String) -> BoxFuture<'_, ApiResult<CheckView>> {
        Box::pin(async move {
            views::checks(&self.shared)
                .into_iter()
                .find(|c| c.name == name)
                .ok_or_else(|| ApiError::not_found(format!("no check named {name:?}")))
        })
    }

    fn incidents(&self, filter: IncidentFilter) -> BoxFuture<'_, ApiResult<Vec<IncidentView>>> {
        Box::pin(async move {
            let since = match filter.since {
                Some(d) => Some(
                    Timestamp::now()
                        .checked_sub(d)
                        .map_err(|_| ApiError::bad_request("since is too far back"))?,
                ),
                None => None,
            };
            let f = crate::store::IncidentFilter {
                open_only: !filter.all,
                since,
            };
            let list = self.read(move |s| s.incidents(f)).await?;
            Ok(list.iter().map(views::incident).collect())
        })
    }

    fn incident(&self, id: IncidentId) -> BoxFuture<'_, ApiResult<IncidentDetail>> {
        Box::pin(async move {
            let (incident, timeline) = self
                .read(move |s| Ok((s.incident(id)?, s.timeline(id)?)))
                .await?;
            let incident =
                incident.ok_or_else(|| ApiError::not_found(format!("no incident #{id}")))?;
            Ok(IncidentDetail {
                incident: views::incident(&incident),
                timeline: timeline.iter().map(views::timeline_item).collect(),
                time_zone: self
                    .shared
                    .config()
                    .daemon
                    .time_zone
                    .iana_name()
                    .map(str::to_string),
            })
        })
    }

    fn ack(
        &self,
        id: IncidentId,
        actor: String,
        message: Option<String>,
    ) -> BoxFuture<'_, ApiResult<IncidentView>> {
        Box::pin(async move {
            self.change(
                id,
                Input::Ack {
                    incident: id,
                    actor,
                    message,
                },
                "acknowledge",
            )
            .await
        })
    }

    fn resolve(
        &self,
        id: IncidentId,
        actor: String,
        message: Option<String>,
    ) -> BoxFuture<'_, ApiResult<IncidentView>> {
        Box::pin(async move {
            self.change(
                id,
                Input::Resolve {
                    incident: id,
                    actor,
                    message,
                },
                "resolve",
            )
            .await
        })
    }

    fn bulk(
        &self,
        op: crate::core::engine::BulkOp,
        body: crate::api::types::BulkBody,
        actor: String,
    ) -> BoxFuture<'_, ApiResult<crate::api::types::BulkView>> {
        Box::pin(async move {
            let before: std::collections::HashMap<IncidentId, crate::core::model::IncidentState> =
                self.shared
                    .read()
                    .open
                    .iter()
                    .map(|i| (i.id, i.state))
                    .collect();
            let input = Input::Bulk {
                op,
                ids: body.ids.clone(),
                check: body.check,
                actor,
                message: body.message,
            };
            let actions = self.engine(input).await?;
            let mut changed: Vec<IncidentView> = Vec::new();
            for a in &actions {
                let done = match op {
                    crate::core::engine::BulkOp::Ack => {
                        crate::core::model::IncidentState::Acknowledged
                    }
                    crate::core::engine::BulkOp::Resolve => {
                        crate::core::model::IncidentState::Resolved
                    }
                };
                if let Action::SaveIncident(i) = a
                    && i.state == done
                {
                    match changed.iter_mut().find(|c| c.id == i.id) {
                        Some(c) => *c = views::incident(i),
                        None => changed.push(views::incident(i)),
                    }
                }
            }
            let mut skipped = Vec::new();
            for id in body.ids {
                if changed.iter().any(|c| c.id == id)
                    || skipped
                        .iter()
                        .any(|s: &crate::api::types::BulkSkip| s.id == id)
                {
                    continue;
                }
                let reason = match before.get(&id) {
                    Some(s) => format!("already {}", s.as_str()),
                    None => "resolved".to_string(),
                };
                skipped.push(crate::api::types::BulkSkip { id, reason });
            }
            Ok(crate::api::types::BulkView { changed, skipped })
        })
    }

    fn escalate(&self, id: IncidentId, actor: String) -> BoxFuture<'_, ApiResult<IncidentView>> {
        Box::pin(async move {
            self.change(
                id,
                Input::Escalate {
                    incident: id,
                    actor,
                },
                "escalate",
            )
            .await
        })
    }

    fn note(
        &self,
        id: IncidentId,
        actor: String,
        text: String,
    ) -> BoxFuture<'_, ApiResult<IncidentView>> {
        Box::pin(async move {
            let input = Input::Note {
                incident: id,
                actor: actor.clone(),
                text: text.clone(),
            };
            match self.engine(input).await {
                Ok(actions) => self.incident_after(id, &actions).await,
                // The engine answers 409 for a resolved incident (404 for one it never had):
                // notes still go on its timeline, where the postmortem reads them.
                Err(e) if e.status == 404 || e.status == 409 => {
                    self.note_resolved(id, actor, text).await
                }
                Err(e) => Err(e),
            }
        })
    }

    fn postmortem(&self, id: IncidentId) -> BoxFuture<'_, ApiResult<String>> {
        Box::pin(async move {
            let config = self.shared.config();
            let now = Timestamp::now();
            let markdown = self
                .read(move |s| crate::report::gather::postmortem(s, &config, id, now))
                .await?;
            markdown.ok_or_else(|| ApiError::not_found(format!("no incident #{id}")))
        })
    }

    fn source_auth(&self, name: &str, token: &str) -> ApiResult<()> {
        let config = self.shared.config();
        let source = config
            .sources
            .get(name)
            .ok_or_else(|| ApiError::not_found(format!("no source {name:?}")))?;
        if constant_time_eq(source.token.as_bytes(), token.as_bytes()) {
            Ok(())
        } else {
            Err(ApiError::new(
                401,
                "missing or wrong token: send Authorization: Bearer <token>",
            ))
        }
    }

    fn alerts(&self, name: String, alerts: Vec<Alert>) -> BoxFuture<'_, ApiResult<()>> {
        Box::pin(async move {
            self.engine(Input::Alerts {
                source: name,
                alerts,
            })
            .await?;
            Ok(())
        })
    }

    fn link(&self, token: String, act: bool) -> BoxFuture<'_, ApiResult<LinkOutcome>> {
        Box::pin(self.link_outcome(token, act))
    }

    fn silences(&self) -> BoxFuture<'_, ApiResult<Vec<SilenceView>>> {
        Box::pin(async move {
            let now = Timestamp::now();
            let list = self.read(|s| s.silences()).await?;
            Ok(list.iter().map(|s| views::silence(s, now)).collect())
        })
    }

    fn active_silences(&self) -> BoxFuture<'_, ApiResult<usize>> {
        Box::pin(async move {
            let now = Timestamp::now();
            Ok(self.read(move |s| s.active_silences(now)).await?.len())
        })
    }

    fn add_silence(
        &self,
        pattern: String,
        duration: Duration,
        message: String,
        actor: String,
    ) -> BoxFuture<'_, ApiResult<SilenceView>> {
        Box::pin(async move {
            let until = Timestamp::now()
                .checked_add(duration)
                .map_err(|_| ApiError::bad_request("silence is too long"))?;
            let actions = self
                .engine(Input::Silence {
                    pattern,
                    until,
                    actor,
                    message,
                })
                .await?;
            let silence = saved_silence(&actions)
                .ok_or_else(|| ApiError::internal("the engine made no silence"))?;
            Ok(views::silence(&silence, Timestamp::now()))
        })
    }

    fn delete_silence(
        &self,
        id: SilenceId,
        actor: String,
    ) -> BoxFuture<'_, ApiResult<SilenceView>> {
        Box::pin(async move {
            let actions = self.engine(Input::Unsilence { id, actor }).await?;
            let silence = saved_silence(&actions)
                .ok_or_else(|| ApiError::not_found(format!("no active silence #{id}")))?;
            Ok(views::silence(&silence, Timestamp::now()))
        })
    }

    fn oncall(
        &self,
        policy: Option<String>,
        at: Option<Timestamp>,
    ) -> BoxFuture<'_, ApiResult<Vec<OncallView>>> {
        Box::pin(async move {
            let config = self.shared.config();
            views::oncall(
                &config,
                policy.as_deref(),
                at.unwrap_or_else(Timestamp::now),
            )
        })
    }

    fn explain(&self, id: IncidentId) -> BoxFuture<'_, ApiResult<Explanation>> {
        Box::pin(async move {
            let (incident, timeline, pages) = self
                .read(move |s| Ok((s.incident(id)?, s.timeline(id)?, s.pages_for(id)?)))
                .await?;
            let incident =
                incident.ok_or_else(|| ApiError::not_found(format!("no incident #{id}")))?;
            Ok(explain(&incident, &timeline, &pages))
        })
    }

    fn simulate(
        &self,
        check: String,
        at: Option<Timestamp>,
    ) -> BoxFuture<'_, ApiResult<Simulation>> {
        Box::pin(async move {
            let config = self.shared.config();
            let silences = self.shared.read().silences.clone();
            let at = at.unwrap_or_else(Timestamp::now);
            simulate(config, silences, &check, at).map_err(|e| ApiError::not_found(e.to_string()))
        })
    }

    fn report(&self, since: Duration) -> BoxFuture<'_, ApiResult<serde_json::Value>> {
        Box::pin(async move {
            let config = self.shared.config();
            let to = Timestamp::now();
            let from = to
                .checked_sub(since)
                .map_err(|_| ApiError::bad_request("since is too far back"))?;
            self.read(move |s| crate::report::gather::report_json(s, &config, from, to))
                .await
        })
    }

    fn reload(&self) -> BoxFuture<'_, ApiResult<ReloadOutcome>> {
        Box::pin(async move {
            Ok(match self.reloader.reload().await {
                Ok(config) => ReloadOutcome::Applied(views::summary(&config)),
                Err(errors) => ReloadOutcome::Invalid(errors),
            })
        })
    }

    fn test_page(&self, target: String, actor: String) -> BoxFuture<'_, ApiResult<TestPageResult>> {
        Box::pin(async move {
            let parsed = match target.split_once(':') {
                Some(("person", name)) => Target::Person(name.to_string()),
                Some(("notifier", name)) => Target::Notifier(name.to_string()),
                _ => {
                    return Err(ApiError::bad_request(format!(
                        "{target:?}: use person:NAME or notifier:NAME"
                    )));
                }
            };
            let actions = self
                .engine(Input::TestPage {
                    target: parsed,
                    actor,
                })
                .await?;
            let mut deliveries = Vec::new();
            for action in actions {
                let Action::Page(page) = action else { continue };
                let outcome = self.delivery.send_and_wait(page.clone()).await;
                let error = match outcome {
                    DeliveryOutcome::Delivered => None,
                    DeliveryOutcome::Retrying { error, .. } | DeliveryOutcome::Failed { error } => {
                        Some(error)
                    }
                };
                deliveries.push(TestDelivery {
                    recipient: page.recipient,
                    notifier: page.notifier,
                    to: page.to,
                    delivered: error.is_none(),
                    error,
                });
            }
            Ok(TestPageResult { target, deliveries })
        })
    }

    fn ping(&self, target: PingTarget, ping: Ping) -> BoxFuture<'_, ApiResult<PingOutcome>> {
        Box::pin(async move {
            let pinged = self.shared.heartbeats.ping(target, ping).await?;
            // A routine ping never reaches the engine task, which records the others.
            if let Some(r) = pinged.routine {
                let check = &pinged.outcome.check;
                self.shared
                    .record_result(check, r.state, r.status, r.message, r.at);
            }
            Ok(pinged.outcome)
        })
    }

    fn status_page(&self) -> BoxFuture<'_, ApiResult<Arc<crate::status_page::Rendered>>> {
        Box::pin(self.status_page.get(&self.shared, &self.store))
    }

    fn metrics(&self) -> BoxFuture<'_, ApiResult<String>> {
        Box::pin(async move {
            let outbox = self.read(|s| s.outbox_stats()).await?;
            Ok(crate::daemon::metrics::render(
                &self.shared,
                &outbox,
                Timestamp::now(),
            ))
        })
    }
}
