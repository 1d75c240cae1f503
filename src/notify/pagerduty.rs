//! PagerDuty: one Events API v2 event per page (SPEC §11, "Out: type = pagerduty").
//!
//! - Triggered and escalated pages send `trigger`, acknowledged `acknowledge`, resolved
//!   `resolve`; every event of one incident carries `dedup_key = oncalld:<instance>:<incident>`,
//!   so PagerDuty keeps one alert per incident however many people or steps are paged through
//!   it. A test page triggers an alert of its own (`oncalld:<instance>:test:<seq>`).
//! - Several destinations paged through one pagerduty notifier (a person and a `notifier:`
//!   target, two people) each send their event; PagerDuty folds them into the one alert.
//! - A person's `to` is not used: the routing key picks the PagerDuty service, and PagerDuty's
//!   own schedules pick who is woken.
//! - The routing key is a secret: never in a message, a log line or `Debug`; an answer that
//!   quotes it is starred.
//! - Answers (PagerDuty's documented contract): 2xx (202) delivered; 429 and 5xx, 408 and
//!   network trouble retried with `Retry-After` honoured; 400 and other 4xx permanent, with
//!   PagerDuty's `message` and `errors` in the timeline.

use std::collections::BTreeMap;
use std::time::Duration;

use jiff::Timestamp;
use reqwest::StatusCode;
use reqwest::header::RETRY_AFTER;
use serde_json::{Value, json};

use super::webhook::{error_chain, parse_retry_after, read_head, refusal};
use super::{Notifier, NotifyError, SendFuture};
use crate::config::PagerDutyNotifier as PagerDutyConfig;
use crate::core::model::{Page, PageEvent};
use crate::redact::MASK;
use crate::text::sanitize_line;

/// PagerDuty's limit on `payload.summary`, in characters.
pub const MAX_SUMMARY_CHARS: usize = 1024;
/// PagerDuty's limit on a whole event.
pub const MAX_EVENT_BYTES: usize = 512 * 1024;
/// A `custom_details` value (a long check target) is cut here; the event stays far below
/// [`MAX_EVENT_BYTES`] whatever the config holds.
const MAX_DETAIL_CHARS: usize = 2048;
/// How much of a refusal's body is read, and how much of its text reaches the timeline.
const MAX_ANSWER_CHARS: usize = 500;

/// What every event of this notifier shares, apart from the page.
#[derive(Clone)]
pub struct EventContext {
    pub routing_key: String,
    /// `[daemon] instance`: PagerDuty's `source` and part of the `dedup_key`.
    pub instance: String,
    pub severity: String,
    /// Each check's target (already redacted), for `custom_details`.
    pub targets: BTreeMap<String, String>,
}

pub struct PagerDutyNotifier {
    client: reqwest::Client,
    url: reqwest::Url,
    context: EventContext,
    timeout: Duration,
}

impl PagerDutyNotifier {
    /// Checks the URL now, so a typo shows at config load.
    pub fn new(config: &PagerDutyConfig, instance: &str) -> Result<Self, String> {
        let url = reqwest::Url::parse(&config.url).map_err(|e| format!("invalid url: {e}"))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err("url is not http(s)".to_string());
        }
        let client = super::http_client(
            config.timeout,
            Default::default(),
            config.ca_file.as_deref(),
        )?;
        Ok(PagerDutyNotifier {
            client,
            url,
            context: EventContext {
                routing_key: config.routing_key.clone(),
                instance: instance.to_string(),
                severity: config.severity.clone(),
                targets: BTreeMap::new(),
            },
            timeout: config.timeout,
        })
    }

    /// Each check's target by name, shown in `custom_details.target`.
    pub fn with_targets(mut self, targets: BTreeMap<String, String>) -> Self {
        self.context.targets = targets;
        self
    }
}

impl Notifier for PagerDutyNotifier {
    fn send<'a>(&'a self, page: &'a Page) -> SendFuture<'a> {
        Box::pin(async move {
            let body = serde_json::to_vec(&event_body(page, &self.context))
                .map_err(|e| NotifyError::permanent(format!("cannot encode the event: {e}")))?;
            if body.len() > MAX_EVENT_BYTES {
                let msg = format!("event of {} bytes is over PagerDuty's 512 KB", body.len());
                return Err(NotifyError::permanent(msg));
            }
            let response = self
                .client
                .post(self.url.clone())
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(body)
                .send()
                .await
                .map_err(|e| NotifyError::retryable(self.network_error(e)))?;
            let status = response.status();
            if status.is_success() {
                return Ok(());
            }
            let retry_after = response
                .headers()
                .get(RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| parse_retry_after(v, Timestamp::now()));
            let answer = answer_text(&read_head(response).await, &self.context.routing_key);
            Err(classify(status, retry_after, &answer))
        })
    }
}

impl PagerDutyNotifier {
    fn network_error(&self, e: reqwest::Error) -> String {
        if e.is_timeout() {
            let after = humantime::format_duration(self.timeout);
            format!("pagerduty timed out after {after}")
        } else {
            let text = format!("pagerduty: {}", error_chain(&e.without_url()));
            text.replace(&self.context.routing_key, MASK)
        }
    }
}

/// The Events API v2 `event_action` for a page.
pub fn event_action(event: PageEvent) -> &'static str {
    match event {
        PageEvent::Triggered
        | PageEvent::Escalated
        | PageEvent::Flapping
        | PageEvent::Test
        | PageEvent::Handoff => "trigger",
        PageEvent::Acknowledged => "acknowledge",
        PageEvent::Resolved => "resolve",
    }
}

/// `oncalld:<instance>:<incident>`, shared by every event of one incident; a test page gets
/// `oncalld:<instance>:test:<seq>`, an alert of its own.
pub fn dedup_key(instance: &str, page: &Page) -> String {
    if page.event.is_notice() {
        format!("oncalld:{instance}:{}:{}", page.event.as_str(), page.seq)
    } else {
        format!("oncalld:{instance}:{}", page.incident)
    }
}

/// `#17 website: HTTP 500 …` on one line, at most [`MAX_SUMMARY_CHARS`] characters (cut on
/// a character boundary, with `…`). A test page's summary is its text.
pub fn summary(page: &Page) -> String {
    let full = if page.event.is_notice() {
        page.text.clone()
    } else {
        format!("#{} {}: {}", page.incident, page.check, page.summary)
    };
    cut(&sanitize_line(&full), MAX_SUMMARY_CHARS)
}

/// At most `max` characters; a cut text ends in `…`.
fn cut(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        None => text.to_string(),
        Some(_) => {
            let mut out: String = text.chars().take(max - 1).collect();
            out.push('…');
            out
        }
    }
}

/// The whole event. Acknowledge and resolve carry only the key fields, as PagerDuty's
/// examples do; a trigger carries the payload.
pub fn event_body(page: &Page, ctx: &EventContext) -> Value {
    let mut body = json!({
        "routing_key": ctx.routing_key,
        "event_action": event_action(page.event),
        "dedup_key": dedup_key(&ctx.instance, page),
    });
    if event_action(page.event) == "trigger" {
        body["payload"] = payload(page, ctx);
        body["client"] = json!("oncalld");
    }
    body
}

fn payload(page: &Page, ctx: &EventContext) -> Value {
    let mut details = json!({
        "event": page.event.as_str(),
        "recipient": sanitize_line(&page.recipient),
    });
    if !page.event.is_notice() {
        details["incident"] = json!(page.incident);
        details["check"] = json!(page.check);
        details["step"] = json!(page.step);
        details["opened_at"] = json!(page.opened_at.to_string());
        details["timeline"] = json!(format!("oncalld show {}", page.incident));
        if let Some(target) = ctx.targets.get(&page.check) {
            details["target"] = json!(cut(&sanitize_line(target), MAX_DETAIL_CHARS));
        }
    }
    json!({
        "summary": summary(page),
        "source": ctx.instance,
        "severity": ctx.severity,
        "timestamp": page.created_at.strftime("%Y-%m-%dT%H:%M:%S%.3fZ").to_string(),
        "component": if page.check.is_empty() { "oncalld" } else { page.check.as_str() },
        "custom_details": details,
    })
}

/// 408, 429 and 5xx (and an unexpected 1xx/3xx: redirects are not followed) are retried;
/// 400 and the other 4xx are permanent. `answer` is PagerDuty's explanation, if any.
pub fn classify(status: StatusCode, retry_after: Option<Duration>, answer: &str) -> NotifyError {
    refusal("pagerduty", status, retry_after, answer)
}

/// PagerDuty's refusal as one line: `message: error; error` from its JSON answer
/// (`{"status": "invalid event", "message": "...", "errors": [...]}`), else the body's first
/// line. One line, bounded, with the routing key starred should the answer quote it.
pub fn answer_text(body: &[u8], routing_key: &str) -> String {
    let text = match serde_json::from_slice::<Value>(body) {
        Ok(v) => {
            let mut parts: Vec<String> = Vec::new();
            if let Some(m) = v["message"].as_str() {
                parts.push(m.to_string());
            }
            let errors: Vec<&str> = v["errors"]
                .as_array()
                .map(|a| a.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            if !errors.is_empty() {
                parts.push(errors.join("; "));
            }
            parts.join(": ")
        }
        Err(_) => {
            let text = String::from_utf8_lossy(body);
            let line = text.lines().map(str::trim).find(|l| !l.is_empty());
            line.unwrap_or("").to_string()
        }
    };
    let text = if routing_key.is_empty() {
        text
    } else {
        text.replace(routing_key, MASK)
    };
    cut(&sanitize_line(&text), MAX_ANSWER_CHARS)
}

#[cfg(test)]
#[path = "pagerduty_tests.rs"]
mod tests;
