//! The daemon's side of an action link (SPEC §13): verify the token, look at the incident,
//! and — on `POST` only — send the same engine input as `oncalld ack`/`resolve`, with the
//! actor `<recipient> (link)`, answered once the step is durable.

use jiff::Timestamp;

use super::DaemonBackend;
use crate::api::backend::{ApiResult, LinkOutcome};
use crate::core::engine::Input;
use crate::core::model::IncidentId;
use crate::daemon::views;
use crate::link::{self, LinkAction, Refusal};

impl DaemonBackend {
    pub(super) async fn link_outcome(&self, token: String, act: bool) -> ApiResult<LinkOutcome> {
        let refused = |status, reason: String| LinkOutcome::Refused {
            status,
            incident: None,
            reason,
        };
        let Some(key) = &self.link_key else {
            return Ok(refused(404, "action links are not enabled".into()));
        };
        let claims = match link::verify(key, &token, Timestamp::now()) {
            Ok(c) => c,
            Err(e @ Refusal::Invalid) => return Ok(refused(403, e.to_string())),
            Err(Refusal::Expired(at)) => {
                let zone = self.shared.config().daemon.time_zone.clone();
                let when = at.to_zoned(zone).strftime("%Y-%m-%d %H:%M %Z").to_string();
                return Ok(refused(410, format!("this link expired at {when}")));
            }
        };
        let id = claims.incident;
        let Some(incident) = self.read(move |s| s.incident(id)).await? else {
            return Ok(refused(404, format!("there is no incident #{id}")));
        };
        let zone = self.shared.config().daemon.time_zone.clone();
        if let Some(reason) = link::already_done(claims.action, &incident, &zone) {
            return Ok(LinkOutcome::Refused {
                status: 409,
                incident: Some(views::incident(&incident)),
                reason,
            });
        }
        if !act {
            return Ok(LinkOutcome::Ready {
                incident: views::incident(&incident),
                action: claims.action,
                recipient: claims.recipient,
            });
        }
        let actor = format!("{} (link)", claims.recipient);
        let input = input(claims.action, id, actor.clone());
        match self.engine(input).await {
            Ok(actions) => Ok(LinkOutcome::Done {
                incident: self.incident_after(id, &actions).await?,
                action: claims.action,
                actor,
            }),
            // Someone else acted between the look and the step: say who.
            Err(e) if e.status == 409 || e.status == 404 => {
                let now = self.stored_incident(id).await?;
                let reason = link::already_done(claims.action, &now, &zone).unwrap_or(e.message);
                Ok(LinkOutcome::Refused {
                    status: 409,
                    incident: Some(views::incident(&now)),
                    reason,
                })
            }
            Err(e) => Err(e),
        }
    }
}

fn input(action: LinkAction, incident: IncidentId, actor: String) -> Input {
    let message = Some("from a page link".to_string());
    match action {
        LinkAction::Ack => Input::Ack {
            incident,
            actor,
            message,
        },
        LinkAction::Resolve => Input::Resolve {
            incident,
            actor,
            message,
        },
    }
}
