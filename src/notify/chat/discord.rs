//! Discord webhook (discord.com/developers/docs/resources/webhook, "Execute Webhook"):
//! `POST <url>` with JSON, the URL itself the secret.
//!
//! - `content`: the headline, markdown-escaped, at most 2,000 characters;
//!   `allowed_mentions: {"parse": []}` so `@everyone`, `@here` or `<@id>` in a check message
//!   pings nobody.
//! - one embed: title (256), description with the facts (4,096), colour by event, timestamp.
//! - Answers: 204 (or 200) delivered; 400 (bad body, code 50035), 401/403 (bad token),
//!   404 (unknown webhook, code 10015) permanent; 429 with `Retry-After` or the JSON
//!   `retry_after` (seconds, fractional) and 5xx retried.

use std::time::Duration;

use reqwest::{Method, Url};
use serde_json::{Value, json};

use super::{
    Body, Limit, Links, Preset, Request, facts, fit, markdown, message, plain, title, tone,
};
use crate::core::model::Page;

pub const MAX_CONTENT_CHARS: usize = 2000;
pub const MAX_TITLE_CHARS: usize = 256;
pub const MAX_DESCRIPTION_CHARS: usize = 4096;

pub struct Discord {
    pub url: Url,
}

/// `#rrggbb` as Discord's integer colour.
fn colour(hex: &str) -> u32 {
    u32::from_str_radix(hex.trim_start_matches('#'), 16).unwrap_or(0)
}

pub fn body(page: &Page) -> Value {
    let details: Vec<String> = facts(page)
        .into_iter()
        .map(|(k, v)| {
            let mut line = format!("**{k}:** ");
            line.push_str(&fit(&v, Limit::Chars(600), markdown));
            line
        })
        .collect();
    let headline = format!("{}: {}", title(page), message(page));
    json!({
        "content": fit(&headline, Limit::Chars(MAX_CONTENT_CHARS), markdown),
        "allowed_mentions": {"parse": []},
        "embeds": [{
            "title": fit(&title(page), Limit::Chars(MAX_TITLE_CHARS), plain),
            "description": fit(&details.join("\n"), Limit::Chars(MAX_DESCRIPTION_CHARS), plain),
            "color": colour(tone(page.event).colour()),
            "timestamp": page.created_at.to_string(),
        }],
    })
}

impl Preset for Discord {
    fn requests(&self, page: &Page, _: Option<&str>, _: &Links) -> Result<Vec<Request>, String> {
        Ok(vec![Request {
            method: Method::POST,
            url: self.url.clone(),
            bearer: None,
            body: Body::Json(body(page)),
        }])
    }

    fn retry_hint(&self, answer: &Value) -> Option<Duration> {
        let secs = answer["retry_after"].as_f64()?;
        (secs.is_finite() && secs >= 0.0).then(|| Duration::from_secs_f64(secs.min(86_400.0)))
    }
}
