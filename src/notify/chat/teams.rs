//! Microsoft Teams through a Workflows webhook ("Post to a channel when a webhook request is
//! received"): `POST <url>` with a message carrying one Adaptive Card; the URL (with its
//! `sig=` parameter) is the secret.
//!
//! - The card: a headline TextBlock coloured by the event (`attention` triggered/escalated,
//!   `warning` acknowledged, `good` resolved, `accent` test), the message, and a FactSet.
//!   TextBlocks render a markdown subset, so outside text is backslash-escaped.
//! - Teams refuses a message over 28 KB: the message text is cut to stay well within, and
//!   the whole body is checked before sending.
//! - Answers: 202 (or 200) delivered; 400 (bad card), 401/403 (bad or expired signature),
//!   404 (flow deleted) permanent; 429 with `Retry-After` and 5xx retried.

use reqwest::{Method, Url};
use serde_json::{Value, json};

use super::{
    Body, Limit, Links, Preset, Request, Tone, facts, fit, markdown, message, title, tone,
};
use crate::core::model::Page;

/// Teams' limit on a message, in bytes.
pub const MAX_MESSAGE_BYTES: usize = 28 * 1024;
/// The check message's share of it; facts and card structure take the rest.
const MAX_TEXT_BYTES: usize = 16 * 1024;

pub struct Teams {
    pub url: Url,
}

fn colour(t: Tone) -> &'static str {
    match t {
        Tone::Alarm | Tone::Escalated | Tone::Flapping => "attention",
        Tone::Acknowledged => "warning",
        Tone::Resolved => "good",
        Tone::Test => "accent",
    }
}

pub fn body(page: &Page) -> Value {
    let facts: Vec<Value> = facts(page)
        .into_iter()
        .map(|(k, v)| json!({"title": k, "value": fit(&v, Limit::Bytes(1024), markdown)}))
        .collect();
    json!({
        "type": "message",
        "attachments": [{
            "contentType": "application/vnd.microsoft.card.adaptive",
            "contentUrl": null,
            "content": {
                "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
                "type": "AdaptiveCard",
                "version": "1.4",
                "body": [
                    {
                        "type": "TextBlock",
                        "text": fit(&title(page), Limit::Bytes(512), markdown),
                        "weight": "bolder",
                        "size": "medium",
                        "color": colour(tone(page.event)),
                        "wrap": true,
                    },
                    {
                        "type": "TextBlock",
                        "text": fit(&message(page), Limit::Bytes(MAX_TEXT_BYTES), markdown),
                        "wrap": true,
                    },
                    {"type": "FactSet", "facts": facts},
                ],
            },
        }],
    })
}

impl Preset for Teams {
    fn requests(&self, page: &Page, _: Option<&str>, _: &Links) -> Result<Vec<Request>, String> {
        let body = body(page);
        let size = body.to_string().len();
        if size > MAX_MESSAGE_BYTES {
            return Err(format!("card of {size} bytes is over Teams' 28 KB"));
        }
        Ok(vec![Request {
            method: Method::POST,
            url: self.url.clone(),
            bearer: None,
            body: Body::Json(body),
        }])
    }
}
