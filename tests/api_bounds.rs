//! SPEC §9 bounds at the API layer, over the real socket with the in-test backend: over-long
//! patterns, notes and messages, the 1,001st silence and out-of-range ids are refused with a
//! clear JSON error, and the backend is never asked to store them.

mod api_support;

use api_support::{Recorder, json, raw, start, start_with};
use oncalld::api::ServeOptions;
use oncalld::api::limits::{MAX_ACTIVE_SILENCES, MAX_PATTERN_BYTES, MAX_TEXT_BYTES};

fn body(v: serde_json::Value) -> Vec<u8> {
    v.to_string().into_bytes()
}

#[tokio::test]
async fn long_pattern_and_message_of_a_silence_are_413_and_nothing_stored() {
    let s = start().await;
    let long = "*a".repeat(16_000);
    let (st, _, out) = raw(
        &s.path,
        "POST",
        "/v1/silences",
        &body(serde_json::json!({"pattern": long, "for": "1h"})),
    )
    .await;
    assert_eq!(st, 413, "{out}");
    assert!(
        json(&out)["error"]
            .as_str()
            .is_some_and(|e| e.contains("pattern is too long")),
        "{out}"
    );
    let at_limit = "a".repeat(MAX_PATTERN_BYTES);
    let (st, _, out) = raw(
        &s.path,
        "POST",
        "/v1/silences",
        &body(serde_json::json!({"pattern": at_limit, "for": "1h",
            "message": "m".repeat(MAX_TEXT_BYTES + 1)})),
    )
    .await;
    assert_eq!(st, 413, "{out}");
    assert!(s.backend.silences.lock().unwrap().is_empty());
    let (st, _, out) = raw(
        &s.path,
        "POST",
        "/v1/silences",
        &body(serde_json::json!({"pattern": at_limit, "for": "1h",
            "message": "m".repeat(MAX_TEXT_BYTES)})),
    )
    .await;
    assert_eq!(st, 201, "exactly at both limits is fine: {out}");
    s.shutdown().await;
}

#[tokio::test]
async fn the_1001st_active_silence_is_refused() {
    let s = start_with(Recorder::new(), ServeOptions::default()).await;
    for i in 0..MAX_ACTIVE_SILENCES {
        let req = body(serde_json::json!({"pattern": format!("web-{i}"), "for": "1h"}));
        let (st, _, out) = raw(&s.path, "POST", "/v1/silences", &req).await;
        assert_eq!(st, 201, "silence {i}: {out}");
    }
    let req = body(serde_json::json!({"pattern": "one-more", "for": "1h"}));
    let (st, _, out) = raw(&s.path, "POST", "/v1/silences", &req).await;
    assert_eq!(st, 409, "{out}");
    assert!(
        json(&out)["error"]
            .as_str()
            .is_some_and(|e| e.contains("too many active silences")),
        "{out}"
    );
    assert_eq!(
        s.backend.silences.lock().unwrap().len(),
        MAX_ACTIVE_SILENCES
    );
    // Ending one makes room again.
    let (st, _, _) = raw(&s.path, "DELETE", "/v1/silences/1", b"").await;
    assert_eq!(st, 200);
    let (st, _, out) = raw(&s.path, "POST", "/v1/silences", &req).await;
    assert_eq!(st, 201, "{out}");
    s.shutdown().await;
}

#[tokio::test]
async fn long_notes_and_messages_are_413_and_the_incident_unchanged() {
    let s = start().await;
    let long = "n".repeat(MAX_TEXT_BYTES + 1);
    for (uri, req) in [
        ("/v1/incidents/17/notes", serde_json::json!({"text": long})),
        ("/v1/incidents/17/ack", serde_json::json!({"message": long})),
        (
            "/v1/incidents/17/resolve",
            serde_json::json!({"message": long}),
        ),
        (
            "/v1/incidents/17/escalate",
            serde_json::json!({"message": long}),
        ),
        ("/v1/test-page", serde_json::json!({"target": long})),
    ] {
        let (st, _, out) = raw(&s.path, "POST", uri, &body(req)).await;
        assert_eq!(st, 413, "{uri}: {out}");
        assert!(
            json(&out)["error"]
                .as_str()
                .is_some_and(|e| e.contains("too long")),
            "{uri}: {out}"
        );
    }
    let (st, _, _) = raw(&s.path, "GET", &format!("/v1/oncall?policy={long}"), b"").await;
    assert!(st == 413 || st == 431 || st == 414, "{st}");
    assert_eq!(s.backend.calls(), Vec::<String>::new(), "backend untouched");
    let (st, _, out) = raw(
        &s.path,
        "POST",
        "/v1/incidents/17/notes",
        &body(serde_json::json!({"text": "n".repeat(MAX_TEXT_BYTES)})),
    )
    .await;
    assert_eq!(st, 200, "exactly 4 KiB is fine: {out}");
    s.shutdown().await;
}

#[tokio::test]
async fn ids_outside_1_to_2_pow_63_are_400_bad_id() {
    let s = start().await;
    for id in [
        "0",
        "9223372036854775808",
        "18446744073709551615",
        "99999999999999999999999",
    ] {
        for (method, uri) in [
            ("GET", format!("/v1/incidents/{id}")),
            ("POST", format!("/v1/incidents/{id}/ack")),
            ("GET", format!("/v1/incidents/{id}/postmortem")),
            ("DELETE", format!("/v1/silences/{id}")),
        ] {
            let (st, _, out) = raw(&s.path, method, &uri, b"").await;
            assert_eq!(st, 400, "{method} {uri}: {out}");
            assert!(
                json(&out)["error"]
                    .as_str()
                    .is_some_and(|e| e.starts_with("bad id")),
                "{out}"
            );
        }
    }
    assert_eq!(s.backend.calls(), Vec::<String>::new());
    let (st, _, _) = raw(&s.path, "GET", "/v1/incidents/9223372036854775807", b"").await;
    assert_eq!(st, 404, "the largest id is valid (and unknown)");
    s.shutdown().await;
}
