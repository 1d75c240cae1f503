//! Acting from the page (SPEC §13): signed acknowledge and resolve links.
//!
//! A page sent while `[daemon] public_url` is set carries `<public_url>/a/TOKEN` links; the
//! token ([`token`]) names the incident, the action and the recipient, expires 7 days after
//! the page was decided (and, in effect, when the incident is resolved: the link then says so),
//! and is signed with the installation's key ([`key`]). A token is a pure function of the page
//! and the key, so a retried or resumed page carries the same links without storing them.
//! `GET /a/TOKEN` and `POST /a/TOKEN` are served by [`crate::api::link_page`].

pub mod key;
pub mod token;

use jiff::{SignedDuration, Timestamp};
use serde::Serialize;

use crate::core::model::{Page, PageEvent};
pub use key::{KeyError, LinkKey};
pub use token::{Claims, LinkAction, Refusal, sign, verify};

/// How long a link stays valid after its page was decided.
pub const LINK_LIFETIME: SignedDuration = SignedDuration::from_hours(7 * 24);

/// The links of one page, as the webhook JSON's `links` object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PageLinks {
    /// Present while the incident is triggered (pages `triggered`, `escalated`).
    pub ack: Option<String>,
    /// Present while it is open (also on `acknowledged` pages).
    pub resolve: Option<String>,
}

/// Makes the links of pages: the key and `public_url`.
#[derive(Debug, Clone)]
pub struct LinkMaker {
    key: LinkKey,
    base: String,
}

impl LinkMaker {
    /// `public_url` without its trailing slash (as the config gives it).
    pub fn new(key: LinkKey, public_url: &str) -> Self {
        LinkMaker {
            key,
            base: public_url.trim_end_matches('/').to_string(),
        }
    }

    /// The links of `page`; `None` for pages nothing can be done from (resolved, test,
    /// handoff) and for digests, whose links would act on their first incident only (the
    /// digest names `oncalld ack ID ID …` instead).
    pub fn links(&self, page: &Page) -> Option<PageLinks> {
        let (ack, resolve) = match page.event {
            _ if page.incident == 0 || !page.digest.is_empty() => return None,
            PageEvent::Triggered | PageEvent::Escalated | PageEvent::Flapping => (true, true),
            PageEvent::Acknowledged => (false, true),
            PageEvent::Resolved | PageEvent::Test | PageEvent::Handoff => return None,
        };
        let expires = page
            .created_at
            .checked_add(LINK_LIFETIME)
            .unwrap_or(Timestamp::MAX);
        let url = |action| {
            let claims = Claims {
                incident: page.incident,
                action,
                recipient: page.recipient.clone(),
                expires,
            };
            format!("{}/a/{}", self.base, sign(&self.key, &claims))
        };
        Some(PageLinks {
            ack: ack.then(|| url(LinkAction::Ack)),
            resolve: resolve.then(|| url(LinkAction::Resolve)),
        })
    }
}

/// Why a valid link cannot act on `incident` as it stands, in the words the page shows
/// (`already acknowledged by bob (uid 1001) at 03:12 UTC on 2026-12-02`); `None`: it can.
pub fn already_done(
    action: LinkAction,
    incident: &crate::core::model::Incident,
    zone: &jiff::tz::TimeZone,
) -> Option<String> {
    use crate::core::model::IncidentState;
    let when = |at: Option<Timestamp>| {
        at.map(|t| {
            t.to_zoned(zone.clone())
                .strftime(" at %H:%M %Z on %Y-%m-%d")
                .to_string()
        })
        .unwrap_or_default()
    };
    let by = |who: &Option<String>| who.as_deref().unwrap_or("someone").to_string();
    match (incident.state, action) {
        (IncidentState::Resolved, _) => Some(format!(
            "incident #{} is already resolved by {}{}",
            incident.id,
            by(&incident.resolved_by),
            when(incident.resolved_at)
        )),
        (IncidentState::Acknowledged, LinkAction::Ack) => Some(format!(
            "incident #{} is already acknowledged by {}{}",
            incident.id,
            by(&incident.acked_by),
            when(incident.acked_at)
        )),
        _ => None,
    }
}
