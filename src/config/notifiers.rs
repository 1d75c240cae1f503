//! `[notifiers.NAME]` and `[people.NAME]`.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use super::chat;
use super::limits;
use super::oncall::Declared;
use super::reader::{Node, Sink, Table};
use super::types::{
    AlertmanagerNotifier, ChatKind, ContactMethod, EmailNotifier, NotifierConfig, PAGERDUTY_URL,
    PagerDutyNotifier, Person, WebhookNotifier,
};
use super::values;

/// The notifier types, as written in `type = "..."`.
pub const KINDS: [&str; 13] = [
    "email",
    "webhook",
    "command",
    "console",
    "pagerduty",
    "alertmanager",
    "slack",
    "discord",
    "teams",
    "telegram",
    "ntfy",
    "pushover",
    "matrix",
];

/// PagerDuty's `payload.severity` values.
pub const SEVERITIES: [&str; 4] = ["critical", "error", "warning", "info"];

/// Every `[X.NAME]` of a named section, with its name checked; bad names are reported.
pub fn named<'a>(node: Option<&Node<'a>>, what: &str, sink: &mut Sink) -> Vec<(String, Node<'a>)> {
    let Some(table) = node.and_then(|n| n.table(sink)) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for (name, span, value) in table.entries() {
        if values::valid_name(&name) {
            out.push((name, value));
        } else {
            // A 100,000-character name is not repeated in the key path: its head is enough.
            let path = match value.path.char_indices().nth(values::MAX_NAME + 64) {
                Some((cut, _)) => format!("{}...", &value.path[..cut]),
                None => value.path.clone(),
            };
            sink.error(span, path, values::name_message(what, &name));
        }
    }
    out
}

pub fn notifiers(
    node: Option<&Node<'_>>,
    base: &Path,
    sink: &mut Sink,
) -> BTreeMap<String, NotifierConfig> {
    let mut out = BTreeMap::new();
    for (name, value) in named(node, "notifier", sink) {
        let Some(mut t) = value.table(sink) else {
            continue;
        };
        let kind = t.required(sink, "type").and_then(|n| {
            let s = n.str(sink)?;
            if KINDS.contains(&s) {
                Some(s)
            } else {
                n.error(
                    sink,
                    format!(
                        "unknown notifier type {s:?} (expected one of: {})",
                        KINDS.join(", ")
                    ),
                );
                None
            }
        });
        let parsed = match kind {
            Some("email") => email(&mut t, base, sink).map(NotifierConfig::Email),
            Some("webhook") => webhook(&mut t, base, sink).map(NotifierConfig::Webhook),
            Some("command") => command(&mut t, base, sink),
            Some("pagerduty") => pagerduty(&mut t, base, sink).map(NotifierConfig::PagerDuty),
            Some("alertmanager") => {
                alertmanager(&mut t, base, sink).map(NotifierConfig::Alertmanager)
            }
            Some(other) => match ChatKind::from_type(other) {
                Some(kind) => chat::chat(kind, &mut t, sink).map(NotifierConfig::Chat),
                None => Some(NotifierConfig::Console),
            },
            None => {
                t.allow(&[
                    "smtp",
                    "from",
                    "url",
                    "secret",
                    "headers",
                    "command",
                    "timeout",
                    "routing_key",
                    "severity",
                    "urls",
                    "labels",
                    "resend",
                    "ca_file",
                    "body",
                    "content_type",
                    "bot_token",
                    "token",
                    "access_token",
                    "to",
                    "retry",
                    "expire",
                ]);
                None
            }
        };
        t.finish(sink);
        if let Some(n) = parsed {
            out.insert(name, n);
        }
    }
    out
}

/// `timeout`, or `default` when absent.
fn timeout(t: &mut Table<'_>, sink: &mut Sink, default: u64) -> Option<Duration> {
    match t.get("timeout") {
        None => Some(Duration::from_secs(default)),
        Some(n) => n.duration_in(sink, limits::TIMEOUT),
    }
}

/// `ca_file`, optional: `Some(None)` when absent, `None` when it was reported.
fn ca_file(t: &mut Table<'_>, base: &Path, sink: &mut Sink) -> Option<Option<std::path::PathBuf>> {
    match t.get("ca_file") {
        None => Some(None),
        Some(n) => values::ca_file(&n, base, sink).map(Some),
    }
}

/// A required string key that must pass `check`.
fn checked(
    t: &mut Table<'_>,
    sink: &mut Sink,
    key: &'static str,
    check: fn(&str) -> Result<(), String>,
) -> Option<String> {
    let n = t.required(sink, key)?;
    let s = n.str(sink)?;
    match check(s) {
        Ok(()) => Some(s.to_string()),
        Err(e) => {
            n.error(sink, e);
            None
        }
    }
}

fn email(t: &mut Table<'_>, base: &Path, sink: &mut Sink) -> Option<EmailNotifier> {
    let smtp = checked(t, sink, "smtp", values::smtp_url);
    let from = checked(t, sink, "from", values::mailbox);
    let timeout = timeout(t, sink, 30);
    let ca_file = ca_file(t, base, sink);
    Some(EmailNotifier {
        ca_file: ca_file?,
        smtp: smtp?,
        from: from?,
        timeout: timeout?,
    })
}

fn webhook(t: &mut Table<'_>, base: &Path, sink: &mut Sink) -> Option<WebhookNotifier> {
    let url = checked(t, sink, "url", values::http_url);
    let secret = match t.get("secret") {
        None => Some(None),
        Some(n) => n.non_empty_str(sink).map(|s| Some(s.to_string())),
    };
    let headers = match t.get("headers") {
        None => Some(BTreeMap::new()),
        Some(n) => values::headers(&n, sink),
    };
    let content_type = match t.get("content_type") {
        None => Some(JSON.to_string()),
        Some(n) => n.non_empty_str(sink).and_then(|s| {
            if reqwest::header::HeaderValue::from_str(s).is_ok() {
                Some(s.to_string())
            } else {
                n.error(sink, "content_type is not a valid header value");
                None
            }
        }),
    };
    let body = match (t.get("body"), &content_type) {
        (None, _) => Some(None),
        (Some(n), Some(ct)) => chat::template(&n, ct, sink).map(Some),
        (Some(n), None) => n.str(sink).map(|s| Some(s.to_string())),
    };
    let timeout = timeout(t, sink, 10);
    let ca_file = ca_file(t, base, sink);
    Some(WebhookNotifier {
        ca_file: ca_file?,
        url: url?,
        secret: secret?,
        headers: headers?,
        body: body?,
        content_type: content_type?,
        timeout: timeout?,
    })
}

/// The webhook's default `content_type`.
const JSON: &str = "application/json";

/// `routing_key` is a secret: its errors never quote it.
fn pagerduty(t: &mut Table<'_>, base: &Path, sink: &mut Sink) -> Option<PagerDutyNotifier> {
    let routing_key = t.required(sink, "routing_key").and_then(|n| {
        let s = n.non_empty_str(sink)?;
        if s.chars().all(|c| c.is_ascii_graphic()) {
            Some(s.to_string())
        } else {
            n.error(sink, "routing_key must be printable ASCII without spaces");
            None
        }
    });
    let url = match t.get("url") {
        None => Some(PAGERDUTY_URL.to_string()),
        Some(n) => n.str(sink).and_then(|s| match values::http_url(s) {
            Ok(()) => Some(s.to_string()),
            Err(e) => {
                n.error(sink, e);
                None
            }
        }),
    };
    let severity = match t.get("severity") {
        None => Some("critical".to_string()),
        Some(n) => n.str(sink).and_then(|s| {
            if SEVERITIES.contains(&s) {
                return Some(s.to_string());
            }
            let msg = format!(
                "unknown severity {s:?} (expected one of: {})",
                SEVERITIES.join(", ")
            );
            n.error(sink, msg);
            None
        }),
    };
    let timeout = timeout(t, sink, 10);
    let ca_file = ca_file(t, base, sink);
    Some(PagerDutyNotifier {
        ca_file: ca_file?,
        routing_key: routing_key?,
        url: url?,
        severity: severity?,
        timeout: timeout?,
    })
}

/// `urls` (every peer, http(s)), `labels`, `resend` (10 s..1 h, default 1 m), `timeout`.
fn alertmanager(t: &mut Table<'_>, base: &Path, sink: &mut Sink) -> Option<AlertmanagerNotifier> {
    let urls = t.required(sink, "urls").and_then(|n| {
        let urls = n.strings(sink)?;
        let bad: Vec<String> = urls
            .iter()
            .filter_map(|u| values::http_url(u).err())
            .collect();
        match bad.first() {
            None => Some(urls),
            Some(e) => {
                n.error(sink, e.clone());
                None
            }
        }
    });
    let labels = match t.get("labels") {
        None => Some(BTreeMap::new()),
        Some(n) => alert_labels(&n, sink),
    };
    let resend = match t.get("resend") {
        None => Some(limits::RESEND_DEFAULT),
        Some(n) => n.duration_in(sink, limits::RESEND),
    };
    let timeout = timeout(t, sink, 10);
    let ca_file = ca_file(t, base, sink);
    Some(AlertmanagerNotifier {
        ca_file: ca_file?,
        urls: urls?,
        labels: labels?,
        resend: resend?,
        timeout: timeout?,
    })
}

/// A table of strings whose keys are Prometheus label names (`[a-zA-Z_][a-zA-Z0-9_]*`, not
/// `alertname`, which is the check's name, nor `__`-prefixed, which Prometheus reserves).
fn alert_labels(node: &Node<'_>, sink: &mut Sink) -> Option<BTreeMap<String, String>> {
    let table = node.table(sink)?;
    let mut out = BTreeMap::new();
    let mut ok = true;
    for (name, span, value) in table.entries() {
        let problem = if !label_name(&name) {
            Some(format!(
                "invalid label name {name:?} (letters, digits and _, not starting with a digit)"
            ))
        } else if name == "alertname" || name.starts_with("__") {
            Some(format!("label {name:?} is reserved"))
        } else {
            None
        };
        if let Some(message) = problem {
            sink.error(span, value.path.clone(), message);
            ok = false;
            continue;
        }
        match value.str(sink) {
            Some(v) => {
                out.insert(name, v.to_string());
            }
            None => ok = false,
        }
    }
    ok.then_some(out)
}

fn label_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn command(t: &mut Table<'_>, base: &Path, sink: &mut Sink) -> Option<NotifierConfig> {
    let argv = t.required(sink, "command").and_then(|n| n.strings(sink));
    let timeout = timeout(t, sink, 30);
    Some(NotifierConfig::Command {
        command: values::resolve_argv(base, argv?),
        timeout: timeout?,
    })
}

/// `[people.NAME] notify = [{ via, to }]`. `declared.notifiers` maps each declared notifier
/// to its type (when known), for the `via` cross-reference and the `to` rules.
pub fn people(
    node: Option<&Node<'_>>,
    declared: &Declared,
    sink: &mut Sink,
) -> BTreeMap<String, Person> {
    let mut out = BTreeMap::new();
    for (name, value) in named(node, "person", sink) {
        let Some(mut t) = value.table(sink) else {
            continue;
        };
        let notify = t.required(sink, "notify").and_then(|n| {
            let items = n.array(sink)?;
            if items.is_empty() {
                n.error(sink, "must list at least one way to reach this person");
                return None;
            }
            let methods: Vec<_> = items.iter().map(|i| contact(i, declared, sink)).collect();
            methods.into_iter().collect::<Option<Vec<_>>>()
        });
        t.finish(sink);
        if let Some(notify) = notify {
            out.insert(name, Person { notify });
        }
    }
    out
}

fn contact(node: &Node<'_>, declared: &Declared, sink: &mut Sink) -> Option<ContactMethod> {
    let kinds = &declared.notifiers;
    let mut t = node.table(sink)?;
    let via = t.required(sink, "via");
    let to = t.get("to");
    let (span, path) = (t.span.clone(), t.path.clone());
    t.finish(sink);
    let via_node = via?;
    let via = values::name(&via_node, sink, "notifier")?;
    let to_str = match &to {
        Some(n) => Some(n.str(sink)?.to_string()),
        None => None,
    };
    let Some(kind) = kinds.get(&via) else {
        via_node.error(sink, format!("unknown notifier {via:?}"));
        return None;
    };
    if kind.as_deref() == Some("email") {
        let Some(to_str) = to_str else {
            sink.error(
                span,
                format!("{path}.to"),
                format!("missing required key `to`: notifier {via:?} sends email"),
            );
            return None;
        };
        if let (Err(e), Some(n)) = (values::mailbox(&to_str), &to) {
            n.error(sink, e);
            return None;
        }
        return Some(ContactMethod { via, to: to_str });
    }
    if declared.needs_to.contains(&via) && to_str.as_deref().is_none_or(str::is_empty) {
        let form = kind
            .as_deref()
            .and_then(ChatKind::from_type)
            .map_or("", ChatKind::to_form);
        sink.error(
            span,
            format!("{path}.to"),
            format!(
                "missing required key `to`: notifier {via:?} needs a recipient ({form}) and \
                 has no `to` of its own"
            ),
        );
        return None;
    }
    if let (Some(kind), Some(to_str), Some(n)) =
        (kind.as_deref().and_then(ChatKind::from_type), &to_str, &to)
    {
        if let Err(e) = chat::recipient(kind, to_str) {
            n.error(sink, e);
            return None;
        }
    }
    Some(ContactMethod {
        via,
        to: to_str.unwrap_or_default(),
    })
}
