//! Telegram Bot API `sendMessage` (core.telegram.org/bots/api#sendmessage):
//! `POST <url>/bot<bot_token>/sendMessage` with JSON `chat_id` (the person's `to`), `text`,
//! `parse_mode: "HTML"`.
//!
//! - Text: the headline in `<b>`, the message, the facts; outside text HTML-escaped
//!   (`<`, `>`, `&`, `"`) as Telegram's HTML mode requires; at most 4,096 characters.
//! - Triggered and escalated pages notify; acknowledged, resolved and test pages are sent
//!   with `disable_notification` (no sound).
//! - The token is in the URL path: errors are reported without the URL, and an answer that
//!   quotes the token is starred.
//! - Answers: `{"ok":true}` delivered; 400 (bad chat id, bad text), 401 (bad token),
//!   403 (bot blocked or kicked), 404 permanent; 429 with `parameters.retry_after` and 5xx
//!   retried.

use std::time::Duration;

use reqwest::{Method, Url};
use serde_json::{Value, json};

use super::{Body, Limit, Links, Preset, Request, facts, fit, html, message, title, tone};
use crate::core::model::Page;

pub const MAX_TEXT_CHARS: usize = 4096;

pub struct Telegram {
    url: Url,
}

impl Telegram {
    /// `base` is the API root (`https://api.telegram.org`).
    pub fn new(base: Url, token: Option<String>) -> Result<Self, String> {
        let token = token.ok_or("missing bot_token")?;
        let mut url = base;
        url.path_segments_mut()
            .map_err(|_| "url cannot be a base".to_string())?
            .pop_if_empty()
            .push(&format!("bot{token}"))
            .push("sendMessage");
        Ok(Telegram { url })
    }
}

/// The HTML text: the headline bold, the rest plain; cut to 4,096 characters.
pub fn text(page: &Page) -> String {
    let mut out = String::from("<b>");
    out.push_str(&fit(&title(page), Limit::Chars(200), html));
    out.push_str("</b>\n");
    let facts: Vec<String> = facts(page)
        .into_iter()
        .map(|(k, v)| format!("{k}: {}", fit(&v, Limit::Chars(300), html)))
        .collect();
    let facts = facts.join("\n");
    let room = MAX_TEXT_CHARS
        .saturating_sub(out.chars().count() + facts.chars().count() + 2)
        .max(1);
    out.push_str(&fit(&message(page), Limit::Chars(room), html));
    out.push_str("\n\n");
    out.push_str(&facts);
    out
}

pub fn body(page: &Page, chat_id: &str) -> Value {
    json!({
        "chat_id": chat_id,
        "text": text(page),
        "parse_mode": "HTML",
        "link_preview_options": {"is_disabled": true},
        "disable_notification": !tone(page.event).urgent(),
    })
}

impl Preset for Telegram {
    fn requests(&self, page: &Page, to: Option<&str>, _: &Links) -> Result<Vec<Request>, String> {
        let chat_id = to.ok_or("telegram needs a chat id")?;
        Ok(vec![Request {
            method: Method::POST,
            url: self.url.clone(),
            bearer: None,
            body: Body::Json(body(page, chat_id)),
        }])
    }

    fn retry_hint(&self, answer: &Value) -> Option<Duration> {
        answer["parameters"]["retry_after"]
            .as_u64()
            .map(Duration::from_secs)
    }
}
