//! Pushover (pushover.net/api): `POST <url>/1/messages.json`, form-encoded `token` (the
//! application token), `user` (the person's `to`: user or group key), `title` (250
//! characters), `message` (1,024 characters), `priority`.
//!
//! - Triggered and escalated pages are emergency pages (`priority=2`): Pushover repeats
//!   them every `retry` until someone acknowledges in the app or `expire` passes. Each
//!   carries the tag `oncalld_<incident>_<opened at, unix seconds>`.
//! - Acknowledged and resolved pages first cancel that incident's emergency alerts with
//!   `POST <url>/1/receipts/cancel_by_tag/<tag>.json`, then send a normal-priority notice.
//!   Cancelling by tag rather than by receipt is the choice that keeps nothing extra
//!   durable: the tag is derived from the incident (in the outbox with every page), so it
//!   survives restarts and retries, and cancelling twice is harmless. One cancel stops the
//!   alerts of every recipient of the incident through this application token.
//! - Test pages are high priority (`priority=1`), with no receipt to cancel.
//! - Plain text (no `html=1`): nothing is interpreted.
//! - Answers: 200 `{"status":1}` delivered; 4xx `{"status":0,"errors":[...]}` (bad token,
//!   bad user key) permanent; 429 (over the message quota) and 5xx retried.

use reqwest::{Method, Url};

use super::{Body, Limit, Links, Preset, Request, Tone, facts, fit, message, plain, title, tone};
use crate::config::ChatNotifier as ChatConfig;
use crate::core::model::Page;

pub const MAX_MESSAGE_CHARS: usize = 1024;
pub const MAX_TITLE_CHARS: usize = 250;

pub struct Pushover {
    base: Url,
    token: String,
    retry_secs: u64,
    expire_secs: u64,
}

impl Pushover {
    pub fn new(base: Url, config: &ChatConfig) -> Result<Self, String> {
        let token = config.secret.clone().ok_or("missing token")?;
        if base.cannot_be_a_base() {
            return Err("url cannot be a base".to_string());
        }
        Ok(Pushover {
            base,
            token,
            retry_secs: config.retry.as_secs(),
            expire_secs: config.expire.as_secs(),
        })
    }

    fn endpoint(&self, segments: &[&str]) -> Result<Url, String> {
        let mut url = self.base.clone();
        url.path_segments_mut()
            .map_err(|_| "url cannot be a base".to_string())?
            .pop_if_empty()
            .extend(segments);
        Ok(url)
    }
}

/// The tag every emergency page of one incident carries.
pub fn tag(page: &Page) -> String {
    format!("oncalld_{}_{}", page.incident, page.opened_at.as_second())
}

/// The message form fields for a page (without `token`).
pub fn message_fields(
    page: &Page,
    user: &str,
    retry: u64,
    expire: u64,
) -> Vec<(&'static str, String)> {
    let facts: Vec<String> = facts(page)
        .into_iter()
        .map(|(k, v)| format!("{k}: {v}"))
        .collect();
    let text = format!("{}\n\n{}", message(page), facts.join("\n"));
    let mut fields = vec![
        ("user", user.to_string()),
        (
            "title",
            fit(&title(page), Limit::Chars(MAX_TITLE_CHARS), plain),
        ),
        (
            "message",
            fit(&text, Limit::Chars(MAX_MESSAGE_CHARS), plain),
        ),
        ("timestamp", page.created_at.as_second().to_string()),
    ];
    match tone(page.event) {
        Tone::Alarm | Tone::Escalated | Tone::Flapping => {
            fields.push(("priority", "2".to_string()));
            fields.push(("retry", retry.to_string()));
            fields.push(("expire", expire.to_string()));
            fields.push(("tags", tag(page)));
        }
        Tone::Test => fields.push(("priority", "1".to_string())),
        Tone::Acknowledged | Tone::Resolved => fields.push(("priority", "0".to_string())),
    }
    fields
}

impl Preset for Pushover {
    fn requests(&self, page: &Page, to: Option<&str>, _: &Links) -> Result<Vec<Request>, String> {
        let user = to.ok_or("pushover needs a user key")?;
        let mut requests = Vec::new();
        if matches!(tone(page.event), Tone::Acknowledged | Tone::Resolved) {
            let cancel = format!("{}.json", tag(page));
            requests.push(Request {
                method: Method::POST,
                url: self.endpoint(&["1", "receipts", "cancel_by_tag", &cancel])?,
                bearer: None,
                body: Body::Form(vec![("token", self.token.clone())]),
            });
        }
        let mut fields = vec![("token", self.token.clone())];
        fields.extend(message_fields(
            page,
            user,
            self.retry_secs,
            self.expire_secs,
        ));
        requests.push(Request {
            method: Method::POST,
            url: self.endpoint(&["1", "messages.json"])?,
            bearer: None,
            body: Body::Form(fields),
        });
        Ok(requests)
    }
}
