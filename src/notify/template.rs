//! The webhook's `body` template (`type = "webhook"`, `body = '...'`): minijinja over the
//! page's fields, so any JSON (or text) receiver can be fed without a preset.
//!
//! - The context is the SPEC §5 body (`event`, `key`, `incident.id`, `incident.check`,
//!   `incident.state`, `incident.summary`, `incident.opened_at`, `incident.step`,
//!   `recipient`, `text`) plus `to`, `notifier` and `created_at`; outside text already has
//!   its control characters replaced.
//! - With a JSON `content_type` every `{{ value }}` is written as a JSON value (a string
//!   comes out quoted and escaped), so a hostile check message cannot break the document.
//!   `|safe` opts out, at the author's risk; the load-time check catches the breakage.
//! - An unknown field is an error (strict undefined), found at load by rendering against a
//!   sample page whose message is hostile (quotes, backslash, `</script>`, newline).
//! - Rendering is bounded: fuel limits loops, the output is capped at [`MAX_BODY_BYTES`].

use minijinja::{AutoEscape, Environment, UndefinedBehavior};
use serde_json::Value;

use super::payload::webhook_body;
use crate::core::model::{IncidentState, Page, PageEvent};

/// Largest body a template may produce.
pub const MAX_BODY_BYTES: usize = 256 * 1024;
/// Instructions a render may run (a `for` over a large range stops here).
const FUEL: u64 = 100_000;

/// A template problem; `offset` is the byte offset in the template when known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateError {
    pub message: String,
    pub offset: Option<usize>,
}

/// Whether `content_type` is JSON (`application/json`, `application/vnd.x+json; charset=…`).
pub fn is_json(content_type: &str) -> bool {
    let essence = content_type.split(';').next().unwrap_or("").trim();
    let essence = essence.to_ascii_lowercase();
    essence == "application/json" || essence.ends_with("+json")
}

fn environment(json: bool) -> Environment<'static> {
    let mut env = Environment::new();
    env.set_debug(true);
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.set_fuel(Some(FUEL));
    env.set_recursion_limit(50);
    let escape = if json {
        AutoEscape::Json
    } else {
        AutoEscape::None
    };
    env.set_auto_escape_callback(move |_| escape);
    env
}

/// The template's context for one page.
pub fn context(page: &Page) -> Value {
    let mut v = webhook_body(page);
    v["to"] = page.to.clone().map(Value::from).unwrap_or(Value::Null);
    v["notifier"] = Value::from(page.notifier.clone());
    v["created_at"] = Value::from(page.created_at.to_string());
    v
}

/// Renders `template` for `page`; a JSON content type must come out as valid JSON.
pub fn render(template: &str, page: &Page, content_type: &str) -> Result<String, TemplateError> {
    let json = is_json(content_type);
    let out = environment(json)
        .render_str(template, context(page))
        .map_err(|e| {
            let what = e
                .detail()
                .map_or_else(|| e.kind().to_string(), str::to_string);
            let message = match e.line() {
                Some(line) => format!("template error on template line {line}: {what}"),
                None => format!("template error: {what}"),
            };
            TemplateError {
                message,
                offset: e.range().map(|r| r.start),
            }
        })?;
    if out.len() > MAX_BODY_BYTES {
        return Err(TemplateError {
            message: format!(
                "the template renders {} bytes, over {MAX_BODY_BYTES}",
                out.len()
            ),
            offset: None,
        });
    }
    if json {
        if let Err(e) = serde_json::from_str::<serde::de::IgnoredAny>(&out) {
            return Err(TemplateError {
                message: format!(
                    "the template does not render valid JSON for content_type {content_type:?} \
                     ({e}); write values as {{{{ field }}}} without quotes, they are JSON-escaped"
                ),
                offset: None,
            });
        }
    }
    Ok(out)
}

/// The load-time check: `template` renders against a hostile sample page.
pub fn check(template: &str, content_type: &str) -> Result<(), TemplateError> {
    render(template, &sample_page(), content_type).map(|_| ())
}

/// A page with every field set and a message that breaks naive quoting.
pub fn sample_page() -> Page {
    let at = jiff::Timestamp::UNIX_EPOCH;
    let summary = "HTTP 500: \"quoted\" \\ <b>bold</b> </script> *_~ @channel\nnext".to_string();
    Page {
        key: Page::idempotency_key(1, 1, "alice", "sample"),
        incident: 1,
        seq: 1,
        event: PageEvent::Triggered,
        recipient: "alice".into(),
        notifier: "sample".into(),
        to: Some("alice@example.com".into()),
        step: 1,
        check: "website".into(),
        text: format!("TRIGGERED #1 website: {summary}"),
        summary,
        incident_state: IncidentState::Triggered,
        opened_at: at,
        also_paged: vec![],
        created_at: at,
        digest: vec![],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_values_are_escaped_and_strict() {
        let t = r#"{"msg": {{ text }}, "id": {{ incident.id }}}"#;
        let out = render(t, &sample_page(), "application/json").unwrap();
        let v: Value = serde_json::from_str(&out).unwrap();
        assert_eq!(v["id"], 1);
        assert!(v["msg"].as_str().unwrap().contains("\"quoted\""));
        let err = check(r#"{"x": {{ incident.nope }}}"#, "application/json").unwrap_err();
        assert!(err.message.contains("template line 1"), "{err:?}");
        let err = check(r#"{"x": "{{ text|safe }}"}"#, "application/json").unwrap_err();
        assert!(err.message.contains("valid JSON"), "{err:?}");
        let err = check("{{ text ", "text/plain").unwrap_err();
        assert!(err.offset.is_some(), "{err:?}");
    }
}
