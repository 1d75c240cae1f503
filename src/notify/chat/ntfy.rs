//! ntfy (docs.ntfy.sh/publish): the topic URL in `url` (`https://ntfy.sh/oncall`), published
//! as JSON to the server root (`POST https://ntfy.sh/` with `"topic": "oncall"`), so titles
//! and messages need no header encoding. `token` (optional) is sent as `Authorization:
//! Bearer`.
//!
//! - Priority 5 (max: persistent sound, bypasses Do Not Disturb) for triggered and escalated
//!   pages, 3 (default) for acknowledged and test pages, 2 (low) for resolved; tags by event
//!   (`rotating_light`, `arrow_double_up`, `eyes`, `white_check_mark`, `test_tube`).
//! - The message is plain text (ntfy renders markdown only with `markdown: true`, never
//!   set), at most 4,096 bytes (beyond, ntfy turns it into an attachment).
//! - Action buttons: an `http` POST button to the acknowledge link (and a resolve one) when
//!   the page has links ([`super::Links`], from `[daemon] public_url` — that key does not
//!   exist yet, so no page carries buttons today).
//! - Answers: 200 delivered; 400 (bad body), 401/403 (bad token, no write access),
//!   404, 413 (too large) permanent; 429 (`{"code":42901,...}`, `Retry-After` when sent)
//!   and 5xx retried.

use reqwest::{Method, Url};
use serde_json::{Value, json};

use super::{Body, Limit, Links, Preset, Request, Tone, facts, fit, message, plain, title, tone};
use crate::core::model::Page;

pub const MAX_MESSAGE_BYTES: usize = 4096;
const MAX_TITLE_CHARS: usize = 250;

pub struct Ntfy {
    root: Url,
    topic: String,
    token: Option<String>,
}

impl Ntfy {
    /// Splits the topic URL into the server root and the topic.
    pub fn new(topic_url: &Url, token: Option<String>) -> Result<Self, String> {
        let mut root = topic_url.clone();
        let topic = topic_url
            .path_segments()
            .and_then(|mut s| s.next_back())
            .filter(|t| !t.is_empty())
            .ok_or("url must name the topic, e.g. https://ntfy.sh/mytopic")?
            .to_string();
        root.path_segments_mut()
            .map_err(|_| "url cannot be a base".to_string())?
            .pop()
            .push("");
        root.set_query(None);
        Ok(Ntfy { root, topic, token })
    }
}

/// ntfy's priority (1 min .. 5 max) and tags for an event.
pub fn priority_and_tags(t: Tone) -> (u8, &'static [&'static str]) {
    match t {
        Tone::Alarm => (5, &["rotating_light"]),
        Tone::Escalated => (5, &["rotating_light", "arrow_double_up"]),
        Tone::Acknowledged => (3, &["eyes"]),
        Tone::Resolved => (2, &["white_check_mark"]),
        Tone::Flapping => (5, &["warning", "repeat"]),
        Tone::Test => (3, &["test_tube"]),
    }
}

pub fn body(page: &Page, topic: &str, links: &Links) -> Value {
    let (priority, tags) = priority_and_tags(tone(page.event));
    let facts: Vec<String> = facts(page)
        .into_iter()
        .map(|(k, v)| format!("{k}: {}", fit(&v, Limit::Bytes(300), plain)))
        .collect();
    let facts = facts.join("\n");
    let room = MAX_MESSAGE_BYTES.saturating_sub(facts.len() + 2).max(8);
    let text = format!(
        "{}\n\n{facts}",
        fit(&message(page), Limit::Bytes(room), plain)
    );
    let mut body = json!({
        "topic": topic,
        "title": fit(&title(page), Limit::Chars(MAX_TITLE_CHARS), plain),
        "message": text,
        "priority": priority,
        "tags": tags,
    });
    let mut actions = Vec::new();
    if tone(page.event).urgent() {
        if let Some(ack) = &links.ack {
            actions.push(json!({"action": "http", "label": "Acknowledge", "url": ack,
                                "method": "POST", "clear": true}));
        }
    }
    if let Some(resolve) = &links.resolve {
        if page.event != crate::core::model::PageEvent::Resolved {
            actions.push(json!({"action": "http", "label": "Resolve", "url": resolve,
                                "method": "POST", "clear": true}));
        }
    }
    if !actions.is_empty() {
        body["actions"] = Value::Array(actions);
    }
    body
}

impl Preset for Ntfy {
    fn requests(
        &self,
        page: &Page,
        _: Option<&str>,
        links: &Links,
    ) -> Result<Vec<Request>, String> {
        Ok(vec![Request {
            method: Method::POST,
            url: self.root.clone(),
            bearer: self.token.clone(),
            body: Body::Json(body(page, &self.topic, links)),
        }])
    }
}
