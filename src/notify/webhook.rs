//! Webhook: an HTTP POST of the SPEC §5 JSON, signed when a secret is set.

use std::sync::Arc;
use std::time::Duration;

use hmac::{Hmac, Mac};
use jiff::Timestamp;
use reqwest::StatusCode;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue, RETRY_AFTER};
use sha2::Sha256;

use super::payload::webhook_body_with;
use super::{Notifier, NotifyError, SendFuture};
use crate::config::WebhookNotifier as WebhookConfig;
use crate::core::model::Page;
use crate::link::LinkMaker;

pub const SIGNATURE_HEADER: &str = "x-oncalld-signature";
pub const IDEMPOTENCY_HEADER: &str = "idempotency-key";

/// POSTs each page; 2xx is delivered, 408/429/5xx and network trouble are retried, other
/// statuses are permanent.
pub struct WebhookNotifier {
    client: reqwest::Client,
    url: reqwest::Url,
    secret: Option<Vec<u8>>,
    /// `body` template and `content_type` (the SPEC §5 JSON when there is no template).
    template: Option<String>,
    content_type: HeaderValue,
    timeout: Duration,
    /// `links` in the body, with `public_url` (SPEC §13).
    links: Option<Arc<LinkMaker>>,
}

impl WebhookNotifier {
    /// Checks the URL and headers now, so a typo shows at config load, not at 3 a.m.
    pub fn new(config: &WebhookConfig) -> Result<Self, String> {
        let url = reqwest::Url::parse(&config.url).map_err(|e| format!("invalid url: {e}"))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err("url is not http(s)".to_string());
        }
        let mut headers = HeaderMap::new();
        for (name, value) in &config.headers {
            let name = HeaderName::from_bytes(name.as_bytes())
                .map_err(|e| format!("invalid header name {name:?}: {e}"))?;
            let mut value = HeaderValue::from_str(value)
                .map_err(|e| format!("invalid value for header {name}: {e}"))?;
            value.set_sensitive(true);
            headers.insert(name, value);
        }
        let client = super::http_client(config.timeout, headers, config.ca_file.as_deref())?;
        let content_type = HeaderValue::from_str(&config.content_type)
            .map_err(|e| format!("invalid content_type: {e}"))?;
        if let Some(t) = &config.body {
            super::template::check(t, &config.content_type).map_err(|e| e.message)?;
        }
        Ok(WebhookNotifier {
            client,
            url,
            secret: config.secret.as_ref().map(|s| s.as_bytes().to_vec()),
            template: config.body.clone(),
            content_type,
            timeout: config.timeout,
            links: None,
        })
    }

    /// Signed action links in each body (SPEC §13).
    pub fn with_links(mut self, links: Option<Arc<LinkMaker>>) -> Self {
        self.links = links;
        self
    }
}

impl Notifier for WebhookNotifier {
    fn send<'a>(&'a self, page: &'a Page) -> SendFuture<'a> {
        Box::pin(async move {
            let body = self.body(page)?;
            let mut request = self
                .client
                .post(self.url.clone())
                .header(reqwest::header::CONTENT_TYPE, self.content_type.clone())
                .header(IDEMPOTENCY_HEADER, page.key.as_str());
            if let Some(secret) = &self.secret {
                request = request.header(SIGNATURE_HEADER, signature(secret, &body));
            }
            let response = request.body(body).send().await.map_err(|e| {
                NotifyError::retryable(if e.is_timeout() {
                    format!(
                        "webhook timed out after {}",
                        humantime::format_duration(self.timeout)
                    )
                } else {
                    // Without the URL: its path may hold a token (chat webhooks do).
                    format!("webhook: {}", error_chain(&e.without_url()))
                })
            })?;
            let retry_after = response
                .headers()
                .get(RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| parse_retry_after(v, Timestamp::now()));
            match classify(response.status(), retry_after) {
                Ok(()) => Ok(()),
                Err(e) => Err(with_excerpt(e, &body_excerpt(response).await)),
            }
        })
    }
}

impl WebhookNotifier {
    /// The template's rendering, or the SPEC §5 JSON.
    fn body(&self, page: &Page) -> Result<Vec<u8>, NotifyError> {
        match &self.template {
            Some(t) => {
                let ct = self.content_type.to_str().unwrap_or("application/json");
                super::template::render(t, page, ct)
                    .map(String::into_bytes)
                    .map_err(|e| NotifyError::permanent(e.message))
            }
            None => serde_json::to_vec(&webhook_body_with(
                page,
                self.links.as_ref().and_then(|l| l.links(page)).as_ref(),
            ))
            .map_err(|e| NotifyError::permanent(format!("cannot encode the page: {e}"))),
        }
    }
}

/// `sha256=<hex HMAC-SHA256 of the exact body bytes>`, what `X-Oncalld-Signature` carries.
pub fn signature(secret: &[u8], body: &[u8]) -> String {
    // HMAC takes keys of any length; new_from_slice cannot fail for it.
    let mut mac = match Hmac::<Sha256>::new_from_slice(secret) {
        Ok(mac) => mac,
        Err(_) => return String::new(),
    };
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// The SPEC §5 rule: 2xx delivered; the rest is [`refusal`].
pub fn classify(status: StatusCode, retry_after: Option<Duration>) -> Result<(), NotifyError> {
    if status.is_success() {
        Ok(())
    } else {
        Err(refusal("webhook", status, retry_after, ""))
    }
}

/// The SPEC §5 rule for an HTTP answer that is not 2xx, for every HTTP notifier: 4xx other
/// than 408/429 permanent (400 bad request, 401/403 bad token, 404 unknown webhook); the rest
/// (5xx, 408, 429, an unexpected 1xx/3xx: redirects are not followed) retried after
/// `retry_after` (capped by the outbox) or the backoff. `answer` is the service's explanation
/// (one sanitised line, secrets starred), or empty.
pub fn refusal(
    service: &str,
    status: StatusCode,
    retry_after: Option<Duration>,
    answer: &str,
) -> NotifyError {
    let mut message = format!("{service} answered {status}");
    if !answer.is_empty() {
        message = format!("{message}: {answer}");
    }
    let permanent = status.is_client_error()
        && status != StatusCode::REQUEST_TIMEOUT
        && status != StatusCode::TOO_MANY_REQUESTS;
    if permanent {
        NotifyError::permanent(message)
    } else {
        NotifyError::Retryable {
            message: super::shown(message),
            retry_after,
        }
    }
}

/// Most of a refusal's body that is read (its explanation comes first).
const MAX_ANSWER_BYTES: usize = 16 * 1024;

/// The start of an answer's body, at most 16 KiB: a service cannot make us read more.
pub async fn read_head(mut response: reqwest::Response) -> Vec<u8> {
    let mut head = Vec::new();
    while head.len() < MAX_ANSWER_BYTES {
        match response.chunk().await {
            Ok(Some(chunk)) => head.extend_from_slice(&chunk),
            Ok(None) | Err(_) => break,
        }
    }
    head.truncate(MAX_ANSWER_BYTES);
    head
}

/// `Retry-After` as delay-seconds or an HTTP-date (RFC 9110 §10.2.3); a date in the past
/// means "now". Unparseable values are ignored, the backoff applies.
pub fn parse_retry_after(value: &str, now: Timestamp) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = jiff::fmt::rfc2822::parse(value).ok()?.timestamp();
    Some(Duration::try_from(at.duration_since(now)).unwrap_or(Duration::ZERO))
}

/// The start of a refusal's body ("invalid token"), for the timeline; bounded in size.
async fn body_excerpt(mut response: reqwest::Response) -> String {
    let mut head = Vec::new();
    while head.len() < 1024 {
        match response.chunk().await {
            Ok(Some(chunk)) => head.extend_from_slice(&chunk),
            Ok(None) | Err(_) => break,
        }
    }
    let text = String::from_utf8_lossy(&head);
    let line = text.lines().map(str::trim).find(|l| !l.is_empty());
    line.unwrap_or("").chars().take(200).collect()
}

fn with_excerpt(e: NotifyError, excerpt: &str) -> NotifyError {
    if excerpt.is_empty() {
        return e;
    }
    match e {
        NotifyError::Retryable {
            message,
            retry_after,
        } => NotifyError::Retryable {
            message: format!("{message}: {excerpt}"),
            retry_after,
        },
        NotifyError::Permanent { message } => NotifyError::Permanent {
            message: format!("{message}: {excerpt}"),
        },
    }
}

pub(super) fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_forms() {
        let now: Timestamp = "2026-11-25T21:00:00Z".parse().unwrap();
        assert_eq!(
            parse_retry_after("120", now),
            Some(Duration::from_secs(120))
        );
        assert_eq!(
            parse_retry_after("Wed, 25 Nov 2026 21:00:30 GMT", now),
            Some(Duration::from_secs(30))
        );
        assert_eq!(
            parse_retry_after("Wed, 25 Nov 2026 20:00:00 GMT", now),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("soon", now), None);
    }

    #[test]
    fn status_classes() {
        assert!(classify(StatusCode::NO_CONTENT, None).is_ok());
        for s in [408, 429, 500, 503, 301] {
            let err = classify(StatusCode::from_u16(s).unwrap(), None).unwrap_err();
            assert!(err.is_retryable(), "{s}");
        }
        for s in [400, 401, 404, 410, 422] {
            let err = classify(StatusCode::from_u16(s).unwrap(), None).unwrap_err();
            assert!(!err.is_retryable(), "{s}");
        }
    }
}
