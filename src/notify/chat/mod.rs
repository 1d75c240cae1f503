//! Chat presets: Slack, Discord, Teams, Telegram, ntfy, Pushover, Matrix (issue 18).
//!
//! Each service is one small file that turns a page into that service's request(s)
//! ([`Preset::requests`]): its body, its idiom for the event ([`tone`]), its size limits and
//! its escaping. This file does the rest, the same for all: one attempt per request, the
//! answer classified as the SPEC §5 webhook rule says (2xx delivered; 408, 429, 5xx and
//! network trouble retried with the service's retry hint; other 4xx permanent) with the
//! service's own explanation quoted, and the secret starred wherever it could be printed.
//!
//! These services cannot be reached from the test machine: tests/notify_chat*.rs run each
//! preset against a local server implementing that service's documented contract.

pub mod discord;
mod format;
pub mod matrix;
pub mod ntfy;
pub mod pushover;
pub mod slack;
pub mod teams;
pub mod telegram;

pub use format::{Limit, Tone, facts, fit, html, markdown, message, plain, title, tone};

use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, RETRY_AFTER};
use reqwest::{Method, Url};
use serde_json::Value;

use super::webhook::{error_chain, parse_retry_after, read_head, refusal};
use super::{Notifier, NotifyError, SendFuture};
use crate::config::{ChatKind, ChatNotifier as ChatConfig};
use crate::core::model::Page;
use crate::redact::MASK;
use crate::text::sanitize_line;

/// How much of a refusal's body is read, and how much of its text reaches the timeline.
const MAX_ANSWER_CHARS: usize = 300;

/// One HTTP request of a page. No `Debug`: the URL may hold the secret (Telegram).
#[derive(Clone)]
pub struct Request {
    pub method: Method,
    pub url: Url,
    /// `Authorization: Bearer …` (ntfy, Matrix).
    pub bearer: Option<String>,
    pub body: Body,
}

#[derive(Clone)]
pub enum Body {
    Json(Value),
    /// `application/x-www-form-urlencoded` (Pushover).
    Form(Vec<(&'static str, String)>),
}

/// A page's acknowledge and resolve links (SPEC §13: `<public_url>/a/{token}`, a token per
/// incident, action and recipient). Presets read them (ntfy action buttons).
#[derive(Debug, Clone, Default)]
pub struct Links {
    pub ack: Option<String>,
    pub resolve: Option<String>,
}

/// Makes a page's [`Links`]: with `[daemon] public_url`, `notify::build_one` passes one made
/// from the [`crate::link::LinkMaker`] to [`ChatNotifier::with_ack_links`].
pub type AckLinks = Arc<dyn Fn(&Page) -> Links + Send + Sync>;

/// One chat service's request contract.
pub trait Preset: Send + Sync {
    /// The requests for one page, sent in order; the page is delivered when all succeed.
    /// `to` is the recipient (chat id, user key, room) when the service takes one.
    fn requests(
        &self,
        page: &Page,
        to: Option<&str>,
        links: &Links,
    ) -> Result<Vec<Request>, String>;

    /// The service's retry hint in a refusal's JSON body (Discord `retry_after`, Telegram
    /// `parameters.retry_after`, Matrix `retry_after_ms`), used when there is no
    /// `Retry-After` header.
    fn retry_hint(&self, _answer: &Value) -> Option<Duration> {
        None
    }
}

/// A preset behind the [`Notifier`] trait.
pub struct ChatNotifier {
    client: reqwest::Client,
    kind: ChatKind,
    preset: Box<dyn Preset>,
    /// Starred in every message: the token, and for webhook URLs the parts that are the
    /// secret (the last path segment, a `sig` parameter).
    secrets: Vec<String>,
    default_to: Option<String>,
    ack_links: Option<AckLinks>,
    timeout: Duration,
}

impl ChatNotifier {
    /// Checks the URL now, so a typo shows at config load.
    pub fn new(config: &ChatConfig) -> Result<Self, String> {
        let url = Url::parse(&config.url).map_err(|e| format!("invalid url: {e}"))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err("url is not http(s)".to_string());
        }
        let secret = config.secret.clone();
        let mut secrets: Vec<String> = secret.iter().cloned().collect();
        if config.kind.secret_key().is_none() {
            secrets.extend(url_secrets(&url));
        }
        let needs_secret = config
            .kind
            .secret_key()
            .is_some_and(|(_, required)| required);
        if needs_secret && secret.is_none() {
            return Err("missing secret".to_string());
        }
        let preset: Box<dyn Preset> = match config.kind {
            ChatKind::Slack => Box::new(slack::Slack { url }),
            ChatKind::Discord => Box::new(discord::Discord { url }),
            ChatKind::Teams => Box::new(teams::Teams { url }),
            ChatKind::Telegram => Box::new(telegram::Telegram::new(url, secret.clone())?),
            ChatKind::Ntfy => Box::new(ntfy::Ntfy::new(&url, secret.clone())?),
            ChatKind::Pushover => Box::new(pushover::Pushover::new(url, config)?),
            ChatKind::Matrix => Box::new(matrix::Matrix::new(url, secret.clone())),
        };
        Ok(ChatNotifier {
            client: super::http_client(config.timeout, Default::default(), None)?,
            kind: config.kind,
            preset,
            secrets,
            default_to: config.to.clone(),
            ack_links: None,
            timeout: config.timeout,
        })
    }

    /// Ack and resolve links for pages (the SPEC §13 hook; unused until `public_url` exists).
    pub fn with_ack_links(mut self, ack_links: AckLinks) -> Self {
        self.ack_links = Some(ack_links);
        self
    }

    /// The person's `to`, else the notifier's own `to`.
    fn recipient<'a>(&'a self, page: &'a Page) -> Result<Option<&'a str>, NotifyError> {
        let to = page
            .to
            .as_deref()
            .filter(|t| !t.is_empty())
            .or(self.default_to.as_deref());
        if self.kind.needs_to() && to.is_none() {
            return Err(NotifyError::permanent(format!(
                "{} needs a recipient: set `to` on the person's contact method or on the \
                 notifier ({})",
                self.kind.as_str(),
                self.kind.to_form()
            )));
        }
        Ok(to)
    }

    async fn send_one(&self, request: Request) -> Result<(), NotifyError> {
        let mut builder = self.client.request(request.method, request.url);
        if let Some(token) = &request.bearer {
            let mut value = reqwest::header::HeaderValue::from_str(&format!("Bearer {token}"))
                .map_err(|_| NotifyError::permanent("the token is not a valid header value"))?;
            value.set_sensitive(true);
            builder = builder.header(AUTHORIZATION, value);
        }
        builder = match request.body {
            Body::Json(v) => builder
                .header(CONTENT_TYPE, "application/json")
                .body(serde_json::to_vec(&v).map_err(|e| NotifyError::permanent(e.to_string()))?),
            Body::Form(fields) => builder
                .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(form(&fields)),
        };
        let response = builder
            .send()
            .await
            .map_err(|e| NotifyError::retryable(self.network_error(e)))?;
        let status = response.status();
        if status.is_success() {
            return Ok(());
        }
        let header_hint = response
            .headers()
            .get(RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| parse_retry_after(v, Timestamp::now()));
        let head = read_head(response).await;
        let json = serde_json::from_slice::<Value>(&head).ok();
        let hint = header_hint.or_else(|| json.as_ref().and_then(|v| self.preset.retry_hint(v)));
        let answer = answer_text(&head, &self.secrets);
        Err(refusal(self.kind.as_str(), status, hint, &answer))
    }

    fn network_error(&self, e: reqwest::Error) -> String {
        let name = self.kind.as_str();
        if e.is_timeout() {
            let after = humantime::format_duration(self.timeout);
            format!("{name} timed out after {after}")
        } else {
            // Without the URL: a webhook URL or a Telegram path is the secret itself.
            let text = format!("{name}: {}", error_chain(&e.without_url()));
            starred(text, &self.secrets)
        }
    }
}

impl Notifier for ChatNotifier {
    fn send<'a>(&'a self, page: &'a Page) -> SendFuture<'a> {
        Box::pin(async move {
            let to = self.recipient(page)?;
            let links = self.ack_links.as_ref().map(|f| f(page)).unwrap_or_default();
            let requests = self
                .preset
                .requests(page, to, &links)
                .map_err(NotifyError::permanent)?;
            for request in requests {
                self.send_one(request).await?;
            }
            Ok(())
        })
    }
}

/// A refusal as one line: the service's explanation from its JSON answer (Telegram
/// `description`, Matrix `errcode: error`, ntfy `error`, Discord `message`, Pushover
/// `errors`), else the body's first line; the secret starred, bounded.
pub fn answer_text(body: &[u8], secrets: &[String]) -> String {
    let text = match serde_json::from_slice::<Value>(body) {
        Ok(v) => {
            let mut parts: Vec<String> = Vec::new();
            if let Some(code) = v["errcode"].as_str() {
                parts.push(code.to_string());
            }
            for key in ["description", "error", "message"] {
                if let Some(m) = v[key].as_str() {
                    parts.push(m.to_string());
                }
            }
            if let Some(errors) = v["errors"].as_array() {
                let list: Vec<&str> = errors.iter().filter_map(Value::as_str).collect();
                if !list.is_empty() {
                    parts.push(list.join("; "));
                }
            }
            if parts.is_empty() {
                v.to_string()
            } else {
                parts.join(": ")
            }
        }
        Err(_) => {
            let text = String::from_utf8_lossy(body);
            let line = text.lines().map(str::trim).find(|l| !l.is_empty());
            line.unwrap_or("").to_string()
        }
    };
    let text = starred(text, secrets);
    fit(&sanitize_line(&text), Limit::Chars(MAX_ANSWER_CHARS), plain)
}

fn starred(mut text: String, secrets: &[String]) -> String {
    for s in secrets {
        if !s.is_empty() && text.contains(s.as_str()) {
            text = text.replace(s.as_str(), MASK);
        }
    }
    text
}

/// The secret parts of a webhook URL (Slack `/services/T/B/<secret>`, Discord
/// `/api/webhooks/<id>/<token>`, Teams `…&sig=<signature>`), as sent and percent-decoded.
fn url_secrets(url: &Url) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(last) = url.path_segments().and_then(|mut s| s.next_back()) {
        if last.len() >= 8 {
            out.push(last.to_string());
        }
    }
    for (k, v) in url.query_pairs() {
        if k == "sig" && !v.is_empty() {
            out.push(v.into_owned());
        }
    }
    out
}

fn form(fields: &[(&'static str, String)]) -> Vec<u8> {
    let mut out = form_urlencoded::Serializer::new(String::new());
    for (k, v) in fields {
        out.append_pair(k, v);
    }
    out.finish().into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_are_one_line_and_starred() {
        let body = br#"{"ok":false,"error_code":401,"description":"Unauthorized bot123:SECRET"}"#;
        let secrets = ["123:SECRET".to_string()];
        assert_eq!(answer_text(body, &secrets), "Unauthorized bot***");
        let text = answer_text(b"\n invalid_payload\x1b[2J\nmore", &[]);
        assert_eq!(text, "invalid_payload\u{fffd}[2J");
    }
}
