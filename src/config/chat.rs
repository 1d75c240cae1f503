//! `[notifiers.NAME]` of the chat presets (`slack`, `discord`, `teams`, `telegram`, `ntfy`,
//! `pushover`, `matrix`) and the webhook's `body` template.
//!
//! A chat webhook URL carries its secret in the path (Slack, Discord, Teams), so its errors
//! never quote it; the secret keys (`bot_token`, `token`, `access_token`) are never quoted.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use super::limits::Bounds;
use super::reader::{Node, Sink, Table};
use super::types::{ChatKind, ChatNotifier, NotifierConfig};

/// Pushover's documented bounds: `retry` at least 30 s, `expire` at most 10,800 s (3 h).
pub const PUSHOVER_RETRY: Bounds = Bounds {
    min: Duration::from_secs(30),
    max: Some(Duration::from_secs(10_800)),
};
pub const PUSHOVER_EXPIRE: Bounds = Bounds {
    min: Duration::from_secs(30),
    max: Some(Duration::from_secs(10_800)),
};

/// The keys a preset reads (beyond `type`), for the unknown-key check.
pub fn keys(kind: ChatKind) -> &'static [&'static str] {
    match kind {
        ChatKind::Slack | ChatKind::Discord | ChatKind::Teams => &["url", "timeout"],
        ChatKind::Telegram => &["url", "bot_token", "to", "timeout"],
        ChatKind::Ntfy => &["url", "token", "timeout"],
        ChatKind::Pushover => &["url", "token", "to", "retry", "expire", "timeout"],
        ChatKind::Matrix => &["url", "access_token", "to", "timeout"],
    }
}

/// Parses one preset. `url` is required except for telegram and pushover, whose public API
/// is the default.
pub fn chat(kind: ChatKind, t: &mut Table<'_>, sink: &mut Sink) -> Option<ChatNotifier> {
    let url = match (t.get("url"), kind.default_url()) {
        (Some(n), _) => url(&n, sink),
        (None, Some(default)) => Some(default.to_string()),
        (None, None) => t.required(sink, "url").and_then(|n| url(&n, sink)),
    };
    let secret = match kind.secret_key() {
        None => Some(None),
        Some((key, required)) => secret(t, sink, key, required),
    };
    let takes = |key: &str| keys(kind).contains(&key);
    let to = match takes("to").then(|| t.get("to")).flatten() {
        None => Some(None),
        Some(n) => n.str(sink).and_then(|s| match recipient(kind, s) {
            Ok(()) => Some(Some(s.to_string())),
            Err(e) => {
                n.error(sink, e);
                None
            }
        }),
    };
    let retry = match takes("retry").then(|| t.get("retry")).flatten() {
        None => Some(Duration::from_secs(60)),
        Some(n) => n.duration_in(sink, PUSHOVER_RETRY),
    };
    let expire = match takes("expire").then(|| t.get("expire")).flatten() {
        None => Some(Duration::from_secs(3600)),
        Some(n) => n.duration_in(sink, PUSHOVER_EXPIRE),
    };
    let timeout = match t.get("timeout") {
        None => Some(Duration::from_secs(10)),
        Some(n) => n.duration_in(sink, super::limits::TIMEOUT),
    };
    Some(ChatNotifier {
        kind,
        url: url?,
        secret: secret?,
        to: to?,
        retry: retry?,
        expire: expire?,
        timeout: timeout?,
    })
}

/// An http(s) URL with a host; the message never quotes it (its path may be the secret).
fn url(n: &Node<'_>, sink: &mut Sink) -> Option<String> {
    let s = n.str(sink)?;
    let problem = match reqwest::Url::parse(s) {
        Err(e) => Some(format!("invalid URL: {e}")),
        Ok(u) if !matches!(u.scheme(), "http" | "https") => {
            Some("URL must start with http:// or https://".to_string())
        }
        Ok(u) if u.host_str().is_none_or(str::is_empty) => Some("URL has no host".to_string()),
        Ok(_) => None,
    };
    match problem {
        None => Some(s.to_string()),
        Some(e) => {
            n.error(sink, e);
            None
        }
    }
}

/// A token: non-empty printable ASCII (it goes into a URL path or a header). Never quoted.
fn secret(
    t: &mut Table<'_>,
    sink: &mut Sink,
    key: &'static str,
    required: bool,
) -> Option<Option<String>> {
    let node = if required {
        Some(t.required(sink, key)?)
    } else {
        t.get(key)
    };
    let Some(n) = node else {
        return Some(None);
    };
    let s = n.non_empty_str(sink)?;
    if s.chars().all(|c| c.is_ascii_graphic()) && !s.contains(['/', '?', '#']) {
        Some(Some(s.to_string()))
    } else {
        n.error(
            sink,
            format!("{key} must be printable ASCII without spaces, '/', '?' or '#'"),
        );
        None
    }
}

/// The form of a person's (or the notifier's default) `to` for a preset: a Telegram chat id
/// (`-1001234567890` or `@channel`), a Pushover user or group key (30 letters and digits), a
/// Matrix room id (`!abc:example.org`; not an alias `#room:server`, which the send API does
/// not take). Presets that post to a fixed channel take none.
pub fn recipient(kind: ChatKind, to: &str) -> Result<(), String> {
    let ok = match kind {
        ChatKind::Telegram => {
            let digits = to.strip_prefix('-').unwrap_or(to);
            let name = to.strip_prefix('@').unwrap_or("");
            (!digits.is_empty() && digits.chars().all(|c| c.is_ascii_digit()))
                || (name.len() >= 5 && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
        }
        ChatKind::Pushover => to.len() == 30 && to.chars().all(|c| c.is_ascii_alphanumeric()),
        // `!opaque:server`, or `!opaque` alone from room version 12 on.
        ChatKind::Matrix => {
            to.len() > 1
                && to.starts_with('!')
                && to.chars().all(|c| c.is_ascii_graphic())
                && to.len() <= 255
        }
        ChatKind::Slack | ChatKind::Discord | ChatKind::Teams | ChatKind::Ntfy => {
            return if to.is_empty() {
                Ok(())
            } else {
                Err(format!(
                    "`to` is not used by {} notifiers (the URL picks the channel)",
                    kind.as_str()
                ))
            };
        }
    };
    if ok {
        Ok(())
    } else {
        Err(format!(
            "invalid {} recipient {to:?} (expected {})",
            kind.as_str(),
            kind.to_form()
        ))
    }
}

/// `body` of a webhook: the template must compile and render against a sample page into the
/// declared content type (valid JSON when it is `application/json`). The error points into
/// the template when the TOML string maps byte for byte (literal strings, strings without
/// escapes), else at the value.
pub fn template(n: &Node<'_>, content_type: &str, sink: &mut Sink) -> Option<String> {
    let s = n.str(sink)?;
    match crate::notify::template::check(s, content_type) {
        Ok(()) => Some(s.to_string()),
        Err(e) => {
            let mut span = n.span.clone();
            if let Some(offset) = e.offset {
                let delimiter = match span.len().checked_sub(s.len()) {
                    Some(2) => Some(1),
                    Some(6) => Some(3),
                    Some(7) => Some(4),
                    Some(8) => Some(5),
                    _ => None,
                };
                if let Some(d) = delimiter {
                    let at = span.start + d + offset;
                    span = at..at + 1;
                }
            }
            sink.error(span, n.path.clone(), e.message);
            None
        }
    }
}

/// Notifiers that need a person's `to` (see [`super::oncall::Declared::needs_to`]).
pub fn needs_to(notifiers: &BTreeMap<String, NotifierConfig>) -> BTreeSet<String> {
    notifiers
        .iter()
        .filter(
            |(_, n)| matches!(n, NotifierConfig::Chat(c) if c.kind.needs_to() && c.to.is_none()),
        )
        .map(|(name, _)| name.clone())
        .collect()
}
