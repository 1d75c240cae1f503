//! Every route of SPEC §6 over a real Unix socket, against an in-test backend that records
//! its calls: status codes, JSON shapes, the actor from SO_PEERCRED, and validation (a bad
//! request never reaches the backend). This is the API layer's own test; the lead adds
//! end-to-end tests against the real daemon once the runtime implements `Backend`.

mod api_support;

use api_support::{json, me, raw, start};

#[tokio::test]
async fn read_routes_answer_json_shapes() {
    let s = start().await;
    let (st, head, body) = raw(&s.path, "GET", "/v1/status", b"").await;
    assert_eq!(st, 200, "{body}");
    assert!(head.contains("content-type: application/json"), "{head}");
    let v = json(&body);
    assert_eq!(v["checks"][0]["name"], "website");
    assert_eq!(v["checks"][0]["type"], "http");
    assert_eq!(v["checks"][0]["state"], "DOWN");
    assert_eq!(v["incidents"][0]["id"], 17);
    assert_eq!(v["incidents"][0]["state"], "triggered");
    assert_eq!(v["incidents"][0]["opened_at"], "2026-11-25T21:00:00Z");
    assert_eq!(
        v["incidents"].as_array().unwrap().len(),
        1,
        "only open ones"
    );

    let (st, _, body) = raw(&s.path, "GET", "/v1/checks", b"").await;
    assert_eq!((st, json(&body).as_array().unwrap().len()), (200, 2));
    let (st, _, body) = raw(&s.path, "GET", "/v1/checks/db", b"").await;
    assert_eq!((st, json(&body)["state"].clone()), (200, "UP".into()));
    let (st, _, body) = raw(&s.path, "GET", "/v1/checks/nope", b"").await;
    assert_eq!(st, 404);
    assert!(json(&body)["error"].as_str().unwrap().contains("nope"));

    let (st, _, body) = raw(&s.path, "GET", "/v1/incidents?state=all&since=7d", b"").await;
    assert_eq!((st, json(&body).as_array().unwrap().len()), (200, 2));
    let (st, _, body) = raw(&s.path, "GET", "/v1/incidents", b"").await;
    assert_eq!((st, json(&body).as_array().unwrap().len()), (200, 1));
    let (st, _, body) = raw(&s.path, "GET", "/v1/incidents/%2317", b"").await;
    assert_eq!(st, 200, "#17 is accepted: {body}");
    let v = json(&body);
    assert_eq!(v["incident"]["id"], 17);
    assert_eq!(v["timeline"][0]["kind"], "triggered");
    assert_eq!(v["timeline"][0]["actor"], "oncalld");

    let (st, head, body) = raw(&s.path, "GET", "/v1/incidents/17/postmortem", b"").await;
    assert_eq!(st, 200);
    assert!(head.contains("content-type: text/markdown"), "{head}");
    assert!(body.contains("## Issue Summary"));

    let (st, head, body) = raw(&s.path, "GET", "/metrics", b"").await;
    assert_eq!(st, 200);
    assert!(
        head.contains("content-type: text/plain; version=0.0.4"),
        "{head}"
    );
    assert!(body.contains("oncalld_probes_total{check=\"website\",result=\"ok\"}"));

    let (st, _, body) = raw(&s.path, "GET", "/v1/report?since=30d", b"").await;
    assert_eq!(
        (st, json(&body)["since_seconds"].clone()),
        (200, 2_592_000.into())
    );
    let calls = s.backend.calls();
    assert!(
        calls.contains(&"incidents all=true since=Some(604800s)".to_string()),
        "{calls:?}"
    );
    assert!(calls.contains(&"incident 17".to_string()), "{calls:?}");
    s.shutdown().await;
}

#[tokio::test]
async fn incident_actions_carry_the_peer_credentials() {
    let s = start().await;
    let actor = me();
    let (st, _, body) = raw(
        &s.path,
        "POST",
        "/v1/incidents/17/ack",
        br#"{"message":"on it"}"#,
    )
    .await;
    assert_eq!(st, 200, "{body}");
    let v = json(&body);
    assert_eq!(v["state"], "acknowledged");
    assert_eq!(v["acked_by"], actor.as_str());

    let (st, _, _) = raw(&s.path, "POST", "/v1/incidents/17/escalate", b"").await;
    assert_eq!(st, 200, "an empty body is no message");
    let (st, _, body) = raw(
        &s.path,
        "POST",
        "/v1/incidents/17/notes",
        br#"{"text":"disk full"}"#,
    )
    .await;
    assert_eq!((st, json(&body)["id"].clone()), (200, 17.into()));
    let (st, _, _) = raw(&s.path, "POST", "/v1/incidents/17/resolve", b"").await;
    assert_eq!(st, 200);
    let (st, _, body) = raw(&s.path, "POST", "/v1/incidents/17/ack", b"").await;
    assert_eq!(st, 409, "acking a resolved incident: {body}");
    assert_eq!(json(&body)["error"], "incident #17 is already resolved");
    let (st, _, _) = raw(&s.path, "POST", "/v1/incidents/99/ack", b"").await;
    assert_eq!(st, 404);

    let calls = s.backend.calls();
    assert!(
        calls.contains(&format!("ack 17 by {actor} msg=Some(\"on it\")")),
        "{calls:?}"
    );
    assert!(
        calls.contains(&format!("escalate 17 by {actor}")),
        "{calls:?}"
    );
    assert!(
        calls.contains(&format!("note 17 by {actor}: disk full")),
        "{calls:?}"
    );
    assert!(
        calls.contains(&format!("resolve 17 by {actor} msg=None")),
        "{calls:?}"
    );
    s.shutdown().await;
}

#[tokio::test]
async fn silences_oncall_reload_and_test_page() {
    let s = start().await;
    let body = br#"{"pattern":"web-*","for":"2h","message":"deploy"}"#;
    let (st, _, out) = raw(&s.path, "POST", "/v1/silences", body).await;
    assert_eq!(st, 201, "{out}");
    let v = json(&out);
    assert_eq!(
        (v["id"].clone(), v["ends_at"].clone()),
        (1.into(), "2026-11-25T23:00:00Z".into())
    );
    let (st, _, out) = raw(&s.path, "GET", "/v1/silences", b"").await;
    assert_eq!((st, json(&out)[0]["active"].clone()), (200, true.into()));
    let (st, _, out) = raw(&s.path, "DELETE", "/v1/silences/1", b"").await;
    assert_eq!((st, json(&out)["active"].clone()), (200, false.into()));
    let (st, _, _) = raw(&s.path, "DELETE", "/v1/silences/9", b"").await;
    assert_eq!(st, 404);

    let uri = "/v1/oncall?policy=default&at=2026-12-01T10:00:00%2B01:00";
    let (st, _, out) = raw(&s.path, "GET", uri, b"").await;
    assert_eq!(st, 200, "{out}");
    let v = json(&out);
    assert_eq!(v[0]["at"], "2026-12-01T09:00:00Z");
    assert_eq!(v[0]["steps"][0]["targets"][0]["recipients"][0], "bob");
    let (st, _, _) = raw(&s.path, "GET", "/v1/oncall?policy=nope", b"").await;
    assert_eq!(st, 404);

    let (st, _, out) = raw(&s.path, "POST", "/v1/reload", b"").await;
    assert_eq!((st, json(&out)["reloaded"].clone()), (200, true.into()));
    *s.backend.reload_errors.lock().unwrap() =
        vec!["checks.toml:3:1: check[0].url: missing".into()];
    let (st, _, out) = raw(&s.path, "POST", "/v1/reload", b"").await;
    assert_eq!(st, 422);
    let v = json(&out);
    assert_eq!(v["errors"][0], "checks.toml:3:1: check[0].url: missing");
    assert!(v["error"].is_string(), "the usual error field too: {v}");

    let (st, _, out) = raw(
        &s.path,
        "POST",
        "/v1/test-page",
        br#"{"target":"person:alice"}"#,
    )
    .await;
    assert_eq!(st, 200, "{out}");
    assert_eq!(json(&out)["deliveries"][1]["notifier"], "sms");
    let calls = s.backend.calls();
    assert!(
        calls.contains(&format!("add_silence web-* for 7200s by {}: deploy", me())),
        "{calls:?}"
    );
    assert!(
        calls.contains(&format!("test_page person:alice by {}", me())),
        "{calls:?}"
    );
    s.shutdown().await;
}

#[tokio::test]
async fn malformed_requests_get_400_and_never_reach_the_backend() {
    let s = start().await;
    let bad: &[(&str, &str, &[u8])] = &[
        ("POST", "/v1/incidents/17/ack", b"{not json"),
        ("POST", "/v1/incidents/17/ack", br#"{"message": 5}"#),
        ("POST", "/v1/incidents/17/ack", br#"{"mesage": "typo"}"#),
        ("POST", "/v1/incidents/abc/ack", b""),
        ("POST", "/v1/incidents/-1/resolve", b""),
        ("GET", "/v1/incidents/abc", b""),
        ("GET", "/v1/incidents/1.5/postmortem", b""),
        ("POST", "/v1/incidents/17/notes", b""),
        ("POST", "/v1/incidents/17/notes", br#"{"text":"  "}"#),
        ("GET", "/v1/incidents?since=soon", b""),
        ("GET", "/v1/incidents?state=closed", b""),
        ("GET", "/v1/report?since=0s", b""),
        ("GET", "/v1/oncall?at=yesterday", b""),
        (
            "POST",
            "/v1/silences",
            br#"{"pattern":"web-*","for":"forever"}"#,
        ),
        ("POST", "/v1/silences", br#"{"pattern":"[","for":"1h"}"#),
        ("POST", "/v1/silences", br#"{"for":"1h"}"#),
        ("DELETE", "/v1/silences/x", b""),
        ("POST", "/v1/test-page", br#"{"target":""}"#),
        ("POST", "/v1/test-page", b"[]"),
    ];
    for (method, uri, body) in bad {
        let (st, _, out) = raw(&s.path, method, uri, body).await;
        assert_eq!(
            st,
            400,
            "{method} {uri} {:?}: {out}",
            String::from_utf8_lossy(body)
        );
        assert!(json(&out)["error"].is_string(), "{out}");
    }
    assert_eq!(s.backend.calls(), Vec::<String>::new(), "backend untouched");
    s.shutdown().await;
}

#[tokio::test]
async fn huge_body_is_413_and_unknown_routes_are_json_404() {
    let s = start().await;
    let big = format!(r#"{{"text":"{}"}}"#, "x".repeat(200 * 1024));
    let (st, _, out) = raw(&s.path, "POST", "/v1/incidents/17/notes", big.as_bytes()).await;
    assert_eq!(st, 413, "{out}");
    assert!(json(&out)["error"].is_string());
    let (st, _, out) = raw(&s.path, "GET", "/v2/nothing", b"").await;
    assert_eq!(st, 404);
    assert!(json(&out)["error"].is_string());
    let (st, _, out) = raw(&s.path, "DELETE", "/v1/status", b"").await;
    assert_eq!(st, 405);
    assert!(json(&out)["error"].is_string());
    assert_eq!(s.backend.calls(), Vec::<String>::new());
    s.shutdown().await;
}

/// `curl --unix-socket`, as the README shows it.
#[tokio::test]
async fn curl_over_the_unix_socket() {
    let s = start().await;
    let curl = |args: Vec<String>| async move {
        tokio::process::Command::new("curl")
            .args(["-sS", "--unix-socket"])
            .args(args)
            .output()
            .await
    };
    let p = s.path.to_str().unwrap().to_owned();
    let out = match curl(vec![p.clone(), "http://localhost/v1/status".into()]).await {
        Ok(o) => o,
        Err(e) => {
            println!("skipped: curl is not installed ({e})");
            return;
        }
    };
    let v = json(&String::from_utf8_lossy(&out.stdout));
    assert_eq!(v["incidents"][0]["id"], 17);
    // curl -d sends a form content type: the body is still read as JSON.
    let args = vec![
        p,
        "-d".into(),
        r#"{"message":"on it"}"#.into(),
        "http://localhost/v1/incidents/17/ack".into(),
    ];
    let out = curl(args).await.unwrap();
    let v = json(&String::from_utf8_lossy(&out.stdout));
    assert_eq!(v["state"], "acknowledged");
    assert_eq!(v["acked_by"], me().as_str());
    s.shutdown().await;
}
