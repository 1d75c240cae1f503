//! `GET /a/{token}` and `POST /a/{token}` on the TCP listener (SPEC §13): the page an action
//! link opens. `GET` only shows the incident and a button (mail scanners and link previews
//! follow links: they must change nothing); the button `POST`s to the same URL, which acts.
//! The page is self-contained HTML (no script, no external asset, every outside string
//! escaped), not cached, not indexed, and sends no `Referer` (the URL is the credential).
//! Each source address gets [`LINK_RATE`] requests a minute; the token never reaches a log.

use std::sync::Arc;
use std::time::Instant;

use axum::extract::{Extension, Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, get};

use super::backend::{Backend, LinkOutcome};
use super::rate::{LINK_RATE, PeerAddr, RateLimiter};
use super::types::IncidentView;
use crate::link::LinkAction;

type AppState = State<Arc<dyn Backend>>;

/// The route's handlers with their own rate limiter.
pub fn route() -> MethodRouter<Arc<dyn Backend>> {
    let limiter = Arc::new(RateLimiter::new(LINK_RATE));
    get(show).post(act).layer(Extension(limiter))
}

async fn show(
    State(b): AppState,
    Extension(limiter): Extension<Arc<RateLimiter>>,
    peer: Option<Extension<PeerAddr>>,
    Path(token): Path<String>,
) -> Response {
    handle(b, &limiter, peer, token, false).await
}

async fn act(
    State(b): AppState,
    Extension(limiter): Extension<Arc<RateLimiter>>,
    peer: Option<Extension<PeerAddr>>,
    Path(token): Path<String>,
) -> Response {
    handle(b, &limiter, peer, token, true).await
}

async fn handle(
    b: Arc<dyn Backend>,
    limiter: &RateLimiter,
    peer: Option<Extension<PeerAddr>>,
    token: String,
    act: bool,
) -> Response {
    if let Some(Extension(PeerAddr(addr))) = peer
        && let Err(wait) = limiter.check(addr, Instant::now())
    {
        let secs = wait.as_secs() + 1;
        let body = page(
            "Too many requests",
            &format!(
                "<p>Too many link requests from your address (at most {LINK_RATE} a minute). \
                 Try again in {secs} s.</p>"
            ),
        );
        let mut r = html(StatusCode::TOO_MANY_REQUESTS, body);
        if let Ok(v) = HeaderValue::from_str(&secs.to_string()) {
            r.headers_mut().insert(header::RETRY_AFTER, v);
        }
        return r;
    }
    match b.link(token, act).await {
        Ok(outcome) => render(&outcome),
        Err(e) => {
            let status =
                StatusCode::from_u16(e.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            let body = page(
                "Not done",
                &format!(
                    "<p class=\"refused\">Nothing was changed: {}</p>",
                    escape(&e.message)
                ),
            );
            html(status, body)
        }
    }
}

/// The HTML answer for an outcome.
pub fn render(outcome: &LinkOutcome) -> Response {
    match outcome {
        LinkOutcome::Ready {
            incident,
            action,
            recipient,
        } => {
            let label = match action {
                LinkAction::Ack => "Acknowledge",
                LinkAction::Resolve => "Resolve",
            };
            let body = format!(
                "{}<form method=\"post\"><button type=\"submit\">{label} #{}</button></form>\
                 <p class=\"note\">Nothing happens until you press the button. It is recorded \
                 as {} (link).</p>",
                incident_html(incident),
                incident.id,
                escape(recipient)
            );
            html(
                StatusCode::OK,
                page(&format!("#{} {}", incident.id, incident.check), &body),
            )
        }
        LinkOutcome::Done {
            incident,
            action,
            actor,
        } => {
            let done = match action {
                LinkAction::Ack => "Acknowledged: paging has stopped.",
                LinkAction::Resolve => "Resolved.",
            };
            let body = format!(
                "<p class=\"done\">{done} Recorded as {}.</p>{}",
                escape(actor),
                incident_html(incident)
            );
            html(
                StatusCode::OK,
                page(&format!("#{} {}", incident.id, incident.check), &body),
            )
        }
        LinkOutcome::Refused {
            status,
            incident,
            reason,
        } => {
            let mut body = format!(
                "<p class=\"refused\">Nothing was changed: {}.</p>",
                escape(reason)
            );
            if let Some(i) = incident {
                body.push_str(&incident_html(i));
            }
            let status = StatusCode::from_u16(*status).unwrap_or(StatusCode::FORBIDDEN);
            html(status, page("Nothing was changed", &body))
        }
    }
}

fn incident_html(i: &IncidentView) -> String {
    let mut rows = vec![
        ("Check", escape(&i.check)),
        (
            "What failed",
            escape(&crate::text::sanitize_line(&i.summary)),
        ),
        ("State", i.state.as_str().to_string()),
        ("Opened", i.opened_at.to_string()),
    ];
    if let Some(by) = &i.acked_by {
        rows.push(("Acknowledged by", escape(by)));
    }
    if let Some(by) = &i.resolved_by {
        rows.push(("Resolved by", escape(by)));
    }
    let mut out = format!("<h1>Incident #{}</h1><dl>", i.id);
    for (k, v) in rows {
        out.push_str(&format!("<dt>{k}</dt><dd>{v}</dd>"));
    }
    out.push_str("</dl>");
    out
}

fn page(title: &str, body: &str) -> String {
    format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <meta name=\"referrer\" content=\"no-referrer\"><title>oncalld: {}</title>\
         <style>body{{font-family:system-ui,sans-serif;max-width:36em;margin:1.5em auto;\
         padding:0 1em;line-height:1.4}}dt{{font-weight:bold}}dd{{margin:0 0 .6em 0}}\
         button{{font-size:1.3em;padding:.6em 1.4em}}.refused{{color:#a00}}.done{{color:#060}}\
         .note{{color:#555;font-size:.9em}}</style></head><body>\n{body}\n</body></html>\n",
        escape(title)
    )
}

fn html(status: StatusCode, body: String) -> Response {
    let mut r = (status, body).into_response();
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'",
        ),
    );
    h.insert(
        header::HeaderName::from_static("x-robots-tag"),
        HeaderValue::from_static("noindex, nofollow"),
    );
    r
}

/// Text made safe inside HTML elements and attribute values; control characters replaced.
pub fn escape(s: &str) -> String {
    crate::text::escape_html(&crate::text::sanitize_line(s))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outside_text_is_escaped() {
        assert_eq!(
            escape("<script>alert('x')</script> & \"y\""),
            "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;y&quot;"
        );
        assert!(!escape("a\x1b[2Jb").contains('\x1b'));
    }
}
