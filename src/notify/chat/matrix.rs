//! Matrix client-server API (spec.matrix.org, "PUT /_matrix/client/v3/rooms/{roomId}/send/
//! {eventType}/{txnId}"): `url` is the homeserver, `access_token` is sent as `Authorization:
//! Bearer`, the room id is the person's `to`.
//!
//! - The transaction id is derived from the page's idempotency key and its incident's
//!   opening time (`oncalld-` and 32 hex digits of their SHA-256; incident ids restart with a
//!   new database, the opening time tells them apart): a retry of the same page reuses it,
//!   and the homeserver answers with the first event instead of posting twice.
//! - Triggered and escalated pages are `m.text` (they notify); acknowledged, resolved and
//!   test pages are `m.notice` (the default push rules keep notices quiet).
//! - `body` is plain text, `formatted_body` HTML with outside text escaped; `"m.mentions": {}`
//!   so `@room` or a user id in a check message mentions nobody.
//! - Answers: 200 `{"event_id":...}` delivered; 400 `M_UNKNOWN`/`M_BAD_JSON`, 401
//!   `M_UNKNOWN_TOKEN`, 403 `M_FORBIDDEN` (not in the room), 404 permanent; 429
//!   `M_LIMIT_EXCEEDED` with `retry_after_ms` (or `Retry-After`) and 5xx retried.

use std::time::Duration;

use reqwest::{Method, Url};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::{Body, Limit, Links, Preset, Request, facts, fit, html, message, plain, title, tone};
use crate::core::model::Page;

/// The message's share of Matrix's 65,536-byte event limit.
const MAX_TEXT_CHARS: usize = 16_000;

pub struct Matrix {
    homeserver: Url,
    token: Option<String>,
}

impl Matrix {
    pub fn new(homeserver: Url, token: Option<String>) -> Self {
        Matrix { homeserver, token }
    }
}

/// `oncalld-<32 hex>`, the same for every attempt of one page.
pub fn txn_id(page: &Page) -> String {
    let seed = format!("{}\n{}", page.key, page.opened_at.as_second());
    let digest = Sha256::digest(seed.as_bytes());
    format!("oncalld-{}", &hex::encode(digest)[..32])
}

pub fn body(page: &Page) -> Value {
    let facts = facts(page);
    let msg = message(page);
    let plain_facts: Vec<String> = facts.iter().map(|(k, v)| format!("{k}: {v}")).collect();
    let html_facts: Vec<String> = facts
        .iter()
        .map(|(k, v)| format!("{k}: {}", fit(v, Limit::Chars(300), html)))
        .collect();
    let msgtype = if tone(page.event).urgent() {
        "m.text"
    } else {
        "m.notice"
    };
    json!({
        "msgtype": msgtype,
        "body": format!(
            "{}: {}\n{}",
            title(page),
            fit(&msg, Limit::Chars(MAX_TEXT_CHARS), plain),
            plain_facts.join("\n")
        ),
        "format": "org.matrix.custom.html",
        "formatted_body": format!(
            "<b>{}</b><br>{}<br>{}",
            fit(&title(page), Limit::Chars(300), html),
            fit(&msg, Limit::Chars(MAX_TEXT_CHARS), html),
            html_facts.join("<br>")
        ),
        "m.mentions": {},
    })
}

impl Preset for Matrix {
    fn requests(&self, page: &Page, to: Option<&str>, _: &Links) -> Result<Vec<Request>, String> {
        let room = to.ok_or("matrix needs a room id")?;
        let mut url = self.homeserver.clone();
        url.path_segments_mut()
            .map_err(|_| "url cannot be a base".to_string())?
            .pop_if_empty()
            .extend([
                "_matrix",
                "client",
                "v3",
                "rooms",
                room,
                "send",
                "m.room.message",
            ])
            .push(&txn_id(page));
        Ok(vec![Request {
            method: Method::PUT,
            url,
            bearer: self.token.clone(),
            body: Body::Json(body(page)),
        }])
    }

    fn retry_hint(&self, answer: &Value) -> Option<Duration> {
        answer["retry_after_ms"].as_u64().map(Duration::from_millis)
    }
}
