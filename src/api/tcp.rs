//! The TCP listener's router (SPEC §10, `daemon.listen`): `GET /metrics` and the heartbeat
//! pings, and nothing of the control API (which stays on the Unix socket). Every route the
//! listener serves is one line of [`router`]; later sections add theirs there.
//!
//! Ping tokens are secrets (they are the whole authentication of a ping), so nothing here logs
//! a request path or a token: a ping is logged by the check it names, or as "unknown token".

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};

use super::alertmanager;
use super::backend::Backend;
use super::limits::MAX_NAME_BYTES;
use super::routes;
use super::types::{Ping, PingKind, PingTarget};

/// How much of a ping's POST body is kept (SPEC §10); the rest is cut, not refused.
pub const MAX_PING_BODY_BYTES: usize = 10_000;
/// Shortest token (SPEC §10: at least 16 characters of `[A-Za-z0-9_-]`).
pub const MIN_TOKEN_LEN: usize = 16;
/// Longest token looked up; a longer one cannot be configured, so it is a bad request.
pub const MAX_TOKEN_LEN: usize = MAX_NAME_BYTES;
/// Longest `?rid=` (healthchecks.io sends a UUID, 36 characters).
pub const MAX_RID_LEN: usize = 64;

/// Every route of the TCP listener.
pub fn router(backend: Arc<dyn Backend>) -> Router {
    Router::new()
        .route("/", get(status_html))
        .route("/status.json", get(status_json))
        .route("/metrics", get(routes::metrics))
        .route("/ping/{*rest}", get(ping).post(ping))
        .route("/v1/alertmanager/{source}", post(alertmanager::post))
        .fallback(routes::not_found)
        .method_not_allowed_fallback(routes::method_not_allowed)
        .with_state(backend)
}

/// The token and the kind of ping in the part of the path after `/ping/`: `TOKEN`,
/// `TOKEN/0`, `TOKEN/start`, `TOKEN/fail`, `TOKEN/1`..`TOKEN/255` or `TOKEN/log`. The error
/// (a 400) never repeats the token.
pub fn parse_ping_path(rest: &str) -> Result<(&str, PingKind), String> {
    let (token, suffix) = match rest.split_once('/') {
        Some((t, s)) => (t, Some(s)),
        None => (rest, None),
    };
    check_token(token)?;
    let kind = match suffix {
        None | Some("0") => PingKind::Success,
        Some("start") => PingKind::Start,
        Some("fail") => PingKind::Fail { exit_code: None },
        Some("log") => PingKind::Log,
        Some(s) => PingKind::Fail {
            exit_code: Some(exit_code(s)?),
        },
    };
    Ok((token, kind))
}

fn check_token(token: &str) -> Result<(), String> {
    let ok_chars = token
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if !ok_chars || token.len() < MIN_TOKEN_LEN || token.len() > MAX_TOKEN_LEN {
        return Err(format!(
            "not a ping token: expected {MIN_TOKEN_LEN} to {MAX_TOKEN_LEN} characters of A-Z a-z 0-9 _ -"
        ));
    }
    Ok(())
}

/// `1`..`255` in plain decimal (`0` is a success, handled before).
fn exit_code(s: &str) -> Result<u8, String> {
    let plain = !s.is_empty() && s.len() <= 3 && s.bytes().all(|b| b.is_ascii_digit());
    match s.parse::<u8>() {
        Ok(n) if plain && n > 0 && !s.starts_with('0') => Ok(n),
        _ => Err(
            "unknown ping: expected /ping/TOKEN, /0, /start, /fail, /log or an exit code 1-255"
                .into(),
        ),
    }
}

/// The `rid` of a query string (healthchecks.io's run id), if any; other keys are ignored.
pub fn parse_rid(query: Option<&str>) -> Result<Option<String>, String> {
    let Some(query) = query else { return Ok(None) };
    let Some(rid) = query.split('&').find_map(|pair| pair.strip_prefix("rid=")) else {
        return Ok(None);
    };
    let ok_chars = rid
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    if !ok_chars || rid.len() > MAX_RID_LEN {
        return Err(format!(
            "invalid rid: at most {MAX_RID_LEN} characters of A-Z a-z 0-9 . _ -"
        ));
    }
    Ok((!rid.is_empty()).then(|| rid.to_owned()))
}

/// The first [`MAX_PING_BODY_BYTES`] of a body as text (invalid UTF-8 replaced), cut on a
/// character boundary.
pub fn ping_body(bytes: &[u8]) -> String {
    let head = &bytes[..bytes.len().min(MAX_PING_BODY_BYTES)];
    let mut text = String::from_utf8_lossy(head).into_owned();
    let mut end = text.len().min(MAX_PING_BODY_BYTES);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text.truncate(end);
    text
}

/// `GET`, `HEAD` (axum answers it with the `GET` handler, without the body) or `POST`
/// `/ping/...`: 200 `OK`, 404 unknown token, 400 for anything malformed.
async fn ping(
    State(b): State<Arc<dyn Backend>>,
    method: Method,
    uri: Uri,
    body: Bytes,
) -> Response {
    let rest = uri.path().strip_prefix("/ping/").unwrap_or_default();
    let (token, kind) = match parse_ping_path(rest) {
        Ok(p) => p,
        Err(e) => return text(StatusCode::BAD_REQUEST, e),
    };
    let rid = match parse_rid(uri.query()) {
        Ok(r) => r,
        Err(e) => return text(StatusCode::BAD_REQUEST, e),
    };
    let body = if method == Method::POST {
        ping_body(&body)
    } else {
        String::new()
    };
    let ping = Ping { kind, body, rid };
    match b.ping(PingTarget::Token(token.to_owned()), ping).await {
        Ok(outcome) => {
            tracing::debug!(message = "Ping.", check = %outcome.check, kind = ?kind, state = %outcome.state);
            text(StatusCode::OK, "OK")
        }
        Err(e) => {
            if e.status == 404 {
                tracing::debug!(message = "Ping refused: unknown token.", kind = ?kind);
            }
            let status =
                StatusCode::from_u16(e.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            text(status, format!("{}\n", e.message))
        }
    }
}

/// What the status page may load: nothing but its own inline styles (no script, no asset).
const STATUS_CSP: &str = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// `GET /`: the status page (SPEC §14), 404 when `[status_page]` is off.
async fn status_html(State(b): State<Arc<dyn Backend>>) -> Response {
    match b.status_page().await {
        Ok(page) => (
            StatusCode::OK,
            [
                (header::CONTENT_TYPE, "text/html; charset=utf-8"),
                (header::CONTENT_SECURITY_POLICY, STATUS_CSP),
                (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
                (header::CACHE_CONTROL, "max-age=10"),
            ],
            page.html.clone(),
        )
            .into_response(),
        Err(e) => error_text(e),
    }
}

/// `GET /status.json`: the same snapshot as JSON.
async fn status_json(State(b): State<Arc<dyn Backend>>) -> Response {
    match b.status_page().await {
        Ok(page) => (
            StatusCode::OK,
            [
                (header::CONTENT_TYPE, "application/json"),
                (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
                (header::CACHE_CONTROL, "max-age=10"),
            ],
            page.json(),
        )
            .into_response(),
        Err(e) => error_text(e),
    }
}

fn error_text(e: super::backend::ApiError) -> Response {
    let status = StatusCode::from_u16(e.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    text(status, format!("{}\n", e.message))
}

fn text(status: StatusCode, body: impl Into<String>) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        body.into(),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: &str = "b9f0c6d2a1e84c57";

    #[test]
    fn every_ping_form_parses() {
        let p = |rest: &str| parse_ping_path(rest).map(|(_, k)| k);
        assert_eq!(p(T), Ok(PingKind::Success));
        assert_eq!(p(&format!("{T}/0")), Ok(PingKind::Success));
        assert_eq!(p(&format!("{T}/start")), Ok(PingKind::Start));
        assert_eq!(p(&format!("{T}/log")), Ok(PingKind::Log));
        assert_eq!(
            p(&format!("{T}/fail")),
            Ok(PingKind::Fail { exit_code: None })
        );
        for n in [1u8, 2, 99, 255] {
            assert_eq!(
                p(&format!("{T}/{n}")),
                Ok(PingKind::Fail { exit_code: Some(n) })
            );
        }
        assert_eq!(parse_ping_path(T).map(|(t, _)| t), Ok(T));
    }

    #[test]
    fn malformed_pings_are_refused_without_echoing_the_token() {
        for suffix in [
            "256", "-1", "+1", "01", "1000", "", "stop", "fail/x", "0/0", " 1",
        ] {
            let e = parse_ping_path(&format!("{T}/{suffix}")).unwrap_err();
            assert!(!e.contains(T), "{e}");
        }
        for token in ["short", "b9f0c6d2a1e84c5!", "b9f0c6d2%20e84c57", ""] {
            assert!(parse_ping_path(token).is_err(), "{token:?}");
        }
        assert!(parse_ping_path(&"a".repeat(MAX_TOKEN_LEN + 1)).is_err());
        assert!(parse_ping_path(&"a".repeat(MAX_TOKEN_LEN)).is_ok());
    }

    #[test]
    fn rid_is_taken_and_other_keys_ignored() {
        let uuid = "4b1a3b8c-9d0e-4f5a-8b6c-7d8e9f0a1b2c";
        assert_eq!(parse_rid(None), Ok(None));
        assert_eq!(parse_rid(Some("x=1&y")), Ok(None));
        assert_eq!(
            parse_rid(Some(&format!("a=b&rid={uuid}"))),
            Ok(Some(uuid.into()))
        );
        assert_eq!(parse_rid(Some("rid=")), Ok(None));
        assert!(parse_rid(Some("rid=a%20b")).is_err());
        assert!(parse_rid(Some(&format!("rid={}", "a".repeat(65)))).is_err());
    }

    #[test]
    fn bodies_are_cut_at_the_limit_on_a_character_boundary() {
        assert_eq!(ping_body(b"done\nok"), "done\nok");
        assert_eq!(ping_body(&[b'x'; 20_000]).len(), MAX_PING_BODY_BYTES);
        let accents = "é".repeat(6_000); // 12,000 bytes; the cut falls between two
        let cut = ping_body(accents.as_bytes());
        assert_eq!(cut.len(), MAX_PING_BODY_BYTES);
        let odd = format!("x{accents}");
        let cut = ping_body(odd.as_bytes());
        assert!(cut.len() <= MAX_PING_BODY_BYTES && cut.len() >= MAX_PING_BODY_BYTES - 3);
        assert!(cut.ends_with('é') || cut.ends_with('\u{FFFD}'));
    }
}
