//! Slack incoming webhook (api.slack.com/messaging/webhooks): `POST <url>` with a JSON body,
//! the URL itself the secret.
//!
//! - `text`: the one-line headline, plain (`"mrkdwn": false`), with `&`, `<` and `>` escaped
//!   as Slack requires, so `<!channel>` or a `<url|link>` in a check message stays text;
//!   `@channel` written out is plain text in Slack and notifies nobody.
//! - one attachment coloured by the event (red triggered, dark red escalated, amber
//!   acknowledged, green resolved, blue test) with the facts and the incident's commands;
//!   `mrkdwn_in: []` keeps it plain.
//! - Slack truncates `text` beyond 40,000 characters: we cut first, on an escape boundary.
//! - Answers: 200 `ok`; 400 `invalid_payload`, 403 `invalid_token`/`action_prohibited`,
//!   404 `channel_not_found`, 410 `channel_is_archived` permanent; 429 with `Retry-After`
//!   and 5xx retried.

use reqwest::{Method, Url};
use serde_json::json;

use super::{Body, Limit, Links, Preset, Request, facts, fit, message, title, tone};
use crate::core::model::Page;

/// Slack's limit on `text`, in characters.
pub const MAX_TEXT_CHARS: usize = 40_000;
/// The attachment's text: well under the message limit, whatever the facts hold.
const MAX_DETAIL_CHARS: usize = 8_000;

pub struct Slack {
    pub url: Url,
}

/// Slack's required escaping: `&`, `<`, `>` (api.slack.com, "Escaping text").
pub fn escape(c: char, out: &mut String) {
    match c {
        '&' => out.push_str("&amp;"),
        '<' => out.push_str("&lt;"),
        '>' => out.push_str("&gt;"),
        c => out.push(c),
    }
}

/// The webhook body for a page.
pub fn body(page: &Page) -> serde_json::Value {
    let headline = format!("{}: {}", title(page), message(page));
    let details: Vec<String> = facts(page)
        .into_iter()
        .map(|(k, v)| format!("{k}: {v}"))
        .collect();
    let text = fit(&headline, Limit::Chars(MAX_TEXT_CHARS), escape);
    json!({
        "text": text,
        "mrkdwn": false,
        "attachments": [{
            "color": tone(page.event).colour(),
            "fallback": fit(&headline, Limit::Chars(300), escape),
            "text": fit(&details.join("\n"), Limit::Chars(MAX_DETAIL_CHARS), escape),
            "mrkdwn_in": [],
        }],
    })
}

impl Preset for Slack {
    fn requests(&self, page: &Page, _: Option<&str>, _: &Links) -> Result<Vec<Request>, String> {
        Ok(vec![Request {
            method: Method::POST,
            url: self.url.clone(),
            bearer: None,
            body: Body::Json(body(page)),
        }])
    }
}
