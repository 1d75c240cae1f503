//! `POST /v1/alertmanager/{source}` on the TCP listener (SPEC §11 "In"): Alertmanager's webhook
//! payload (version "4") with `Authorization: Bearer <token>`.
//!
//! 401 without the source's token (compared in constant time), 404 for an unknown source, 400
//! for a malformed body, 413 for a body over [`MAX_ALERTMANAGER_BODY_BYTES`] (refused, never
//! cut), 503 when the step cannot be saved (Alertmanager retries). 200 only once the engine step
//! is committed. Nothing is stored on any error. The token is never logged nor echoed.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::backend::{ApiError, Backend};
use crate::core::engine::Alert;

/// Largest Alertmanager notification body: 1 MiB (about 1,000 alerts with a few labels and
/// annotations each). Larger bodies are answered 413 and nothing is stored.
pub const MAX_ALERTMANAGER_BODY_BYTES: usize = 1024 * 1024;
/// The path prefix of the route (the connection layer refuses oversized bodies under it).
pub const PATH_PREFIX: &str = "/v1/alertmanager/";
/// Longest fingerprint accepted (Alertmanager's are 16 hex digits).
const MAX_FINGERPRINT: usize = 128;

/// Alertmanager's webhook payload; unknown fields are ignored.
#[derive(Debug, Deserialize)]
struct Payload {
    version: String,
    alerts: Vec<AmAlert>,
}

#[derive(Debug, Deserialize)]
struct AmAlert {
    status: String,
    #[serde(default)]
    labels: BTreeMap<String, String>,
    #[serde(default)]
    annotations: BTreeMap<String, String>,
    #[serde(rename = "generatorURL", default)]
    generator_url: Option<String>,
    fingerprint: String,
}

/// The alerts of a payload, or why it is malformed (a 400).
pub fn parse_payload(body: &[u8]) -> Result<Vec<Alert>, String> {
    let p: Payload =
        serde_json::from_slice(body).map_err(|e| format!("not an Alertmanager payload: {e}"))?;
    if p.version != "4" {
        return Err(format!(
            "unsupported payload version {:?} (expected \"4\")",
            p.version
        ));
    }
    p.alerts.into_iter().map(alert).collect()
}

fn alert(a: AmAlert) -> Result<Alert, String> {
    let firing = match a.status.as_str() {
        "firing" => true,
        "resolved" => false,
        s => return Err(format!("unknown alert status {s:?} (firing or resolved)")),
    };
    let fp_ok = !a.fingerprint.is_empty()
        && a.fingerprint.len() <= MAX_FINGERPRINT
        && a.fingerprint.bytes().all(|b| b.is_ascii_graphic());
    if !fp_ok {
        return Err(format!(
            "bad fingerprint: 1 to {MAX_FINGERPRINT} printable ASCII characters"
        ));
    }
    let mut annotations = a.annotations;
    Ok(Alert {
        alertname: a.labels.get("alertname").cloned().unwrap_or_default(),
        fingerprint: a.fingerprint,
        firing,
        labels: a.labels,
        summary: annotations.remove("summary"),
        description: annotations.remove("description"),
        generator_url: a.generator_url,
    })
}

/// The token of `Authorization: Bearer <token>`, if any.
fn bearer(headers: &HeaderMap) -> Option<&str> {
    let v = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = v.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

/// Equal bytes, in time that depends only on the lengths.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    let mut diff = u8::from(a.len() != b.len());
    for i in 0..a.len().max(b.len()) {
        let x = a.get(i).copied().unwrap_or(0);
        let y = b.get(i).copied().unwrap_or(0);
        diff |= x ^ y;
    }
    diff == 0
}

/// The handler.
pub async fn post(
    State(b): State<Arc<dyn Backend>>,
    Path(source): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let token = bearer(&headers).unwrap_or_default().to_owned();
    let result = async {
        b.source_auth(&source, &token)?;
        let alerts = parse_payload(&body).map_err(ApiError::bad_request)?;
        let n = alerts.len();
        b.alerts(source.clone(), alerts).await?;
        Ok::<_, ApiError>(n)
    }
    .await;
    match result {
        Ok(n) => {
            tracing::debug!(message = "Alertmanager notification.", source = %source, alerts = n);
            (StatusCode::OK, "OK\n").into_response()
        }
        Err(e) => {
            if e.status == 401 {
                tracing::warn!(message = "Alertmanager notification refused: bad token.", source = %source);
            }
            let status =
                StatusCode::from_u16(e.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            (status, format!("{}\n", e.message)).into_response()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn real_payload_parses_and_unknown_fields_are_ignored() {
        let body = br#"{"receiver":"oncalld","status":"firing","version":"4",
          "groupKey":"{}:{alertname=\"X\"}","truncatedAlerts":0,"externalURL":"http://am:9093",
          "groupLabels":{},"commonLabels":{},"commonAnnotations":{},
          "alerts":[{"status":"firing","labels":{"alertname":"X","team":"db"},
            "annotations":{"description":"d"},"startsAt":"2026-03-02T10:00:00Z",
            "endsAt":"0001-01-01T00:00:00Z","generatorURL":"http://prom/graph",
            "fingerprint":"a1b2c3d4e5f60718"}]}"#;
        let a = parse_payload(body).unwrap();
        assert_eq!(a.len(), 1);
        assert_eq!(
            (
                a[0].alertname.as_str(),
                a[0].firing,
                a[0].summary_line().as_str()
            ),
            ("X", true, "d")
        );
        assert_eq!(a[0].generator_url.as_deref(), Some("http://prom/graph"));
    }

    #[test]
    fn malformed_payloads_are_refused() {
        for body in [
            &b"not json"[..],
            br#"{"version":"3","alerts":[]}"#,
            br#"{"version":"4"}"#,
            br#"{"version":"4","alerts":[{"status":"odd","fingerprint":"a"}]}"#,
            br#"{"version":"4","alerts":[{"status":"firing","fingerprint":""}]}"#,
            br#"{"version":"4","alerts":[{"status":"firing"}]}"#,
        ] {
            assert!(
                parse_payload(body).is_err(),
                "{}",
                String::from_utf8_lossy(body)
            );
        }
    }

    #[test]
    fn bearer_and_constant_time_compare() {
        let mut h = HeaderMap::new();
        assert_eq!(bearer(&h), None);
        h.insert(header::AUTHORIZATION, "Bearer abc".parse().unwrap());
        assert_eq!(bearer(&h), Some("abc"));
        h.insert(header::AUTHORIZATION, "Basic abc".parse().unwrap());
        assert_eq!(bearer(&h), None);
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"abcd"));
        assert!(!constant_time_eq(b"", b"a"));
    }
}
