//! The daemon backend's own steps: hand an input to the engine task and wait for its commit,
//! read the store off the async threads, and the fallbacks for incidents the engine no longer
//! holds (resolved ones live only in the store).

use jiff::Timestamp;
use tokio::sync::oneshot;

use super::DaemonBackend;
use crate::api::backend::{ApiError, ApiResult};
use crate::api::types::IncidentView;
use crate::core::engine::{Action, EngineError, Input};
use crate::core::model::{Incident, IncidentId, Silence};
use crate::daemon::engine_task::{CommandError, Request};
use crate::daemon::views;
use crate::store::Store;

impl DaemonBackend {
    /// Hand an input to the engine task; the answer comes once the step is durable.
    pub(super) async fn engine(&self, input: Input) -> ApiResult<Vec<Action>> {
        let (reply, answer) = oneshot::channel();
        self.requests
            .send(Request::Input { input, reply })
            .await
            .map_err(|_| ApiError::unavailable("the daemon is shutting down"))?;
        match answer.await {
            Ok(Ok(actions)) => Ok(actions),
            Ok(Err(CommandError::Engine(e))) => Err(engine_error(e)),
            // Not saved, not applied (SPEC §9): the caller may try again.
            Ok(Err(CommandError::NotSaved(message))) => Err(ApiError::unavailable(message)),
            Err(_) => Err(ApiError::unavailable("the daemon is shutting down")),
        }
    }

    /// Run `f` on the store's read connection, off the async threads.
    pub(super) async fn read<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Store) -> Result<T, crate::store::StoreError> + Send + 'static,
    ) -> ApiResult<T> {
        let store = self.store.clone();
        let joined = tokio::task::spawn_blocking(move || {
            let mut guard = store
                .lock()
                .map_err(|_| "store lock poisoned".to_string())?;
            f(&mut guard).map_err(|e| e.to_string())
        })
        .await;
        match joined {
            Ok(Ok(v)) => Ok(v),
            Ok(Err(e)) => Err(ApiError::internal(format!("store: {e}"))),
            Err(e) => Err(ApiError::internal(format!("store task: {e}"))),
        }
    }

    /// An engine command on incident `id`, answered with the incident as it then stands. The
    /// engine holds open incidents only: when it does not know `id` but the store does, the
    /// incident is resolved, and the command is refused as a conflict.
    pub(super) async fn change(
        &self,
        id: IncidentId,
        input: Input,
        verb: &str,
    ) -> ApiResult<IncidentView> {
        match self.engine(input).await {
            Ok(actions) => self.incident_after(id, &actions).await,
            Err(e) if e.status == 404 => match self.stored_incident(id).await {
                Ok(_) => Err(ApiError::conflict(format!(
                    "incident #{id} is resolved: cannot {verb} it"
                ))),
                Err(_) => Err(e),
            },
            Err(e) => Err(e),
        }
    }

    pub(super) async fn incident_after(
        &self,
        id: IncidentId,
        actions: &[Action],
    ) -> ApiResult<IncidentView> {
        let saved = actions.iter().rev().find_map(|a| match a {
            Action::SaveIncident(i) if i.id == id => Some(i.clone()),
            _ => None,
        });
        match saved {
            Some(i) => Ok(views::incident(&i)),
            None => self.stored_incident(id).await.map(|i| views::incident(&i)),
        }
    }

    pub(super) async fn stored_incident(&self, id: IncidentId) -> ApiResult<Incident> {
        self.read(move |s| s.incident(id))
            .await?
            .ok_or_else(|| ApiError::not_found(format!("no incident #{id}")))
    }

    /// Notes on a resolved incident (root cause, todos written after the fact) go straight to
    /// the store: the engine only holds open incidents and never touches resolved ones again.
    pub(super) async fn note_resolved(
        &self,
        id: IncidentId,
        actor: String,
        text: String,
    ) -> ApiResult<IncidentView> {
        let now = Timestamp::now();
        let incident = self
            .writer
            .run_once(move |s| {
                let Some(mut incident) = s.incident(id)? else {
                    return Ok(None);
                };
                if incident.state.is_open() {
                    return Ok(Some(Err(incident)));
                }
                let event = crate::core::model::TimelineEvent {
                    incident: id,
                    seq: incident.next_seq,
                    at: now,
                    kind: crate::core::model::EventKind::Note,
                    actor,
                    message: text,
                };
                incident.next_seq += 1;
                let batch = crate::store::Batch {
                    incidents: vec![incident.clone()],
                    events: vec![event],
                    ..Default::default()
                };
                s.commit(&batch)?;
                Ok(Some(Ok(incident)))
            })
            .await
            .map_err(|e| {
                ApiError::unavailable(format!(
                    "not done: the daemon cannot save its state ({e}); nothing was changed"
                ))
            })?;
        match incident {
            None => Err(ApiError::not_found(format!("no incident #{id}"))),
            Some(Ok(i)) => Ok(views::incident(&i)),
            // Open in the store but unknown to the engine: the engine's answer stands.
            Some(Err(_)) => Err(ApiError::not_found(format!("no incident #{id}"))),
        }
    }
}

pub(super) fn engine_error(e: EngineError) -> ApiError {
    let message = e.to_string();
    match e {
        EngineError::UnknownIncident(_) | EngineError::UnknownSilence(_) => {
            ApiError::not_found(message)
        }
        EngineError::WrongState { .. } | EngineError::Silenced(_) => ApiError::conflict(message),
        EngineError::BadPattern { .. } | EngineError::SilenceInPast(_) => {
            ApiError::bad_request(message)
        }
        EngineError::BadTarget(_) => ApiError::not_found(message),
    }
}

pub(super) fn saved_silence(actions: &[Action]) -> Option<Silence> {
    actions.iter().rev().find_map(|a| match a {
        Action::SaveSilence(s) => Some(s.clone()),
        _ => None,
    })
}
