//! Email over SMTP (lettre, async, rustls): one mail per page, threaded per incident.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use jiff::tz::TimeZone;
use lettre::message::header::{ContentType, HeaderName, HeaderValue};
use lettre::message::{Mailbox, Mailboxes};
use lettre::transport::smtp::AsyncSmtpTransportBuilder;
use lettre::transport::smtp::client::{Certificate, CertificateStore, Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use super::payload::{email_body, email_subject, message_id, thread_root_id};
use super::{Notifier, NotifyError, SendFuture};
use crate::config::EmailNotifier as EmailConfig;
use crate::core::model::Page;

/// Sends each page as a plain-text mail to `page.to` (one address or a comma-separated list).
pub struct EmailNotifier {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    /// Right-hand side of the Message-IDs: the From address's domain.
    id_domain: String,
    timeout: Duration,
    /// Zone the body shows times in (`[daemon] time_zone`).
    time_zone: TimeZone,
    /// Check name -> what it looks at, for "what failed".
    targets: BTreeMap<String, String>,
}

impl EmailNotifier {
    /// Checks the SMTP URL and the From address; connects only when sending.
    pub fn new(config: &EmailConfig, time_zone: TimeZone) -> Result<Self, String> {
        let from: Mailbox = config
            .from
            .parse()
            .map_err(|e| format!("invalid from address {:?}: {e}", config.from))?;
        let transport = smtp_builder(&config.smtp, config.ca_file.as_deref())?
            .timeout(Some(config.timeout))
            .build();
        Ok(EmailNotifier {
            transport,
            id_domain: from.email.domain().to_string(),
            from,
            timeout: config.timeout,
            time_zone,
            targets: BTreeMap::new(),
        })
    }

    /// What each check looks at (from `[[check]]`), so the body can name the target.
    pub fn with_targets(mut self, targets: BTreeMap<String, String>) -> Self {
        self.targets = targets;
        self
    }

    fn message(&self, page: &Page) -> Result<Message, NotifyError> {
        let to = page
            .to
            .as_deref()
            .filter(|t| !t.trim().is_empty())
            .ok_or_else(|| NotifyError::permanent("no email address to send to"))?;
        let recipients: Mailboxes = to
            .parse()
            .map_err(|e| NotifyError::permanent(format!("invalid address {to:?}: {e}")))?;
        let root = thread_root_id(page, &self.id_domain);
        let target = self.targets.get(&page.check).map(String::as_str);
        let mut builder = Message::builder()
            .from(self.from.clone())
            .subject(email_subject(page))
            .message_id(Some(message_id(page, &self.id_domain)))
            .in_reply_to(root.clone())
            .references(root)
            .user_agent(format!("oncalld/{}", env!("CARGO_PKG_VERSION")))
            .header(ContentType::TEXT_PLAIN);
        for mailbox in recipients {
            builder = builder.to(mailbox);
        }
        let mut message = builder
            .body(email_body(page, &self.time_zone, target))
            .map_err(|e| NotifyError::permanent(format!("cannot build the mail: {e}")))?;
        // RFC 3834: keeps vacation responders from answering pages; the key lets mail rules
        // and people match a mail to the timeline.
        let headers = message.headers_mut();
        headers.insert_raw(HeaderValue::new(
            HeaderName::new_from_ascii_str("Auto-Submitted"),
            "auto-generated".to_string(),
        ));
        headers.insert_raw(HeaderValue::new(
            HeaderName::new_from_ascii_str("X-Oncalld-Key"),
            page.key.clone(),
        ));
        Ok(message)
    }
}

impl Notifier for EmailNotifier {
    fn send<'a>(&'a self, page: &'a Page) -> SendFuture<'a> {
        Box::pin(async move {
            let message = self.message(page)?;
            match tokio::time::timeout(self.timeout, self.transport.send(message)).await {
                Ok(Ok(_response)) => Ok(()),
                Ok(Err(e)) => Err(classify(&e)),
                Err(_) => Err(NotifyError::retryable(format!(
                    "SMTP timed out after {}",
                    humantime::format_duration(self.timeout)
                ))),
            }
        })
    }
}

/// SMTP 5xx: the server refuses this mail for good. Everything else (4xx, connection refused,
/// TLS or protocol trouble, timeouts) may pass on a later try.
fn classify(e: &lettre::transport::smtp::Error) -> NotifyError {
    let message = format!("SMTP: {}", error_chain(e));
    if e.is_permanent() {
        NotifyError::permanent(message)
    } else {
        NotifyError::retryable(message)
    }
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let s_text = s.to_string();
        if !text.contains(&s_text) {
            text.push_str(": ");
            text.push_str(&s_text);
        }
        source = s.source();
    }
    text
}

/// Our URL dialect on top of lettre's: plain `smtp://` means STARTTLS when the server offers
/// it (lettre: `tls=opportunistic`) on port 25, and `?tls=none` means never (lettre: no `tls`).
/// TLS trusts the built-in roots, the system store and `ca_file` (see [`crate::tls`]).
fn smtp_builder(url: &str, ca_file: Option<&Path>) -> Result<AsyncSmtpTransportBuilder, String> {
    let (base, query) = url.split_once('?').unwrap_or((url, ""));
    let mut tls = None;
    let mut rest = Vec::new();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        match pair.split_once('=') {
            Some(("tls", value)) => tls = Some(value),
            _ => rest.push(pair),
        }
    }
    let is_smtp = base.starts_with("smtp://");
    let tls = match (is_smtp, tls) {
        (true, None) => Some("opportunistic"),
        (true, Some("none")) => None,
        (_, other) => other,
    };
    if let Some(t) = tls {
        rest.push(if t == "opportunistic" {
            "tls=opportunistic"
        } else if t == "required" {
            "tls=required"
        } else {
            return Err(format!("unknown tls={t:?} (use required or none)"));
        });
    }
    let lettre_url = if rest.is_empty() {
        base.to_string()
    } else {
        format!("{base}?{}", rest.join("&"))
    };
    let builder = AsyncSmtpTransport::<Tokio1Executor>::from_url(&lettre_url)
        .map_err(|e| format!("invalid smtp URL: {e}"))?;
    let wrapper = base.starts_with("smtps://");
    let builder = match (wrapper, tls) {
        (false, None) => builder,
        (_, mode) => {
            let host = reqwest::Url::parse(base)
                .ok()
                .and_then(|u| u.host_str().map(str::to_string))
                .ok_or_else(|| "invalid smtp URL: no host".to_string())?;
            let params = tls_parameters(host, ca_file)?;
            builder.tls(match mode {
                _ if wrapper => Tls::Wrapper(params),
                Some("required") => Tls::Required(params),
                _ => Tls::Opportunistic(params),
            })
        }
    };
    Ok(if is_smtp && !has_port(base) {
        builder.port(25)
    } else {
        builder
    })
}

/// lettre's rustls settings with our trust: its built-in roots plus the system store's and
/// `ca_file`'s certificates.
fn tls_parameters(host: String, ca_file: Option<&Path>) -> Result<TlsParameters, String> {
    let mut params = TlsParameters::builder(host).certificate_store(CertificateStore::WebpkiRoots);
    for der in crate::tls::roots(ca_file)?.extra {
        let cert = Certificate::from_der(der.to_vec())
            .map_err(|e| format!("cannot use a CA certificate: {e}"))?;
        params = params.add_root_certificate(cert);
    }
    params
        .build_rustls()
        .map_err(|e| format!("cannot set up TLS: {e}"))
}

/// Whether `scheme://[user[:pass]@]host[:port][/path]` names a port.
fn has_port(base: &str) -> bool {
    let after_scheme = base.split_once("://").map_or(base, |(_, r)| r);
    let authority = after_scheme.split('/').next().unwrap_or("");
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, hp)| hp);
    match host_port.rsplit_once(']') {
        Some((_, after)) => after.starts_with(':'),
        None => host_port.contains(':'),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn port_detection() {
        assert!(has_port("smtp://h:25"));
        assert!(has_port("smtp://u:p@h:2525/ehlo"));
        assert!(!has_port("smtp://u:p@h"));
        assert!(!has_port("smtp://[::1]"));
        assert!(has_port("smtp://[::1]:25"));
    }

    #[test]
    fn url_dialect() {
        assert!(smtp_builder("smtp://127.0.0.1:25", None).is_ok());
        assert!(smtp_builder("smtp://127.0.0.1?tls=none", None).is_ok());
        assert!(smtp_builder("smtp://u:p@mail.example.com?tls=required", None).is_ok());
        assert!(smtp_builder("smtps://u:p@mail.example.com", None).is_ok());
        assert!(smtp_builder("smtp://h?tls=sometimes", None).is_err());
        assert!(smtp_builder("http://h", None).is_err());
    }
}
