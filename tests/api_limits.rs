//! Abusive clients over the real socket: garbage bytes, a half-sent request head, a crowd of
//! idle connections. Each is answered or dropped, and a normal request is still served.
//! (API layer's own test with an in-test backend; end-to-end tests come with the daemon.)

mod api_support;

use std::time::Duration;

use api_support::{Recorder, json, raw, start, start_with};
use oncalld::api::ServeOptions;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::UnixStream;

/// Read until the server closes the connection (bounded so a bug fails instead of hanging).
async fn read_until_closed(s: &mut UnixStream) -> Vec<u8> {
    let mut out = Vec::new();
    let r = tokio::time::timeout(Duration::from_secs(20), s.read_to_end(&mut out)).await;
    assert!(r.is_ok(), "the server never closed the connection");
    out
}

fn short_timeouts(max_connections: usize) -> ServeOptions {
    ServeOptions {
        max_connections,
        request_timeout: Duration::from_millis(300),
        connection_timeout: Duration::from_secs(30),
        shutdown_grace: Duration::from_secs(1),
    }
}

#[tokio::test]
async fn garbage_bytes_are_refused_and_others_still_served() {
    let s = start().await;
    let mut bad = UnixStream::connect(&s.path).await.unwrap();
    bad.write_all(b"\x00\x01\xffGARBAGE \r\n\r\n\x16\x03\x01")
        .await
        .unwrap();
    let out = read_until_closed(&mut bad).await;
    let text = String::from_utf8_lossy(&out);
    assert!(
        text.is_empty() || text.starts_with("HTTP/1.1 400"),
        "{text}"
    );
    let (st, _, body) = raw(&s.path, "GET", "/v1/status", b"").await;
    assert_eq!(
        (st, json(&body)["incidents"][0]["id"].clone()),
        (200, 17.into())
    );
    s.shutdown().await;
}

#[tokio::test]
async fn half_sent_head_is_dropped_without_blocking_others() {
    let s = start_with(Recorder::new(), short_timeouts(8)).await;
    let mut slow = UnixStream::connect(&s.path).await.unwrap();
    slow.write_all(b"GET /v1/status HTTP/1.1\r\nHost: loc")
        .await
        .unwrap();
    // While it stalls, others are answered.
    let (st, _, _) = raw(&s.path, "GET", "/v1/checks", b"").await;
    assert_eq!(st, 200);
    let out = read_until_closed(&mut slow).await;
    let text = String::from_utf8_lossy(&out);
    assert!(
        !text.contains("200 OK"),
        "a stalled head is never served: {text}"
    );
    assert!(!s.backend.calls().contains(&"status".to_string()));
    s.shutdown().await;
}

#[tokio::test]
async fn idle_crowd_beyond_the_limit_does_not_starve_a_real_request() {
    let s = start_with(Recorder::new(), short_timeouts(64)).await;
    let mut idle = Vec::new();
    for _ in 0..100 {
        idle.push(UnixStream::connect(&s.path).await.unwrap());
    }
    let (st, _, body) = raw(&s.path, "GET", "/v1/status", b"").await;
    assert_eq!(st, 200, "{body}");
    // The idle ones were closed by the server (header read timeout), not left open.
    let mut first = idle.swap_remove(0);
    let out = read_until_closed(&mut first).await;
    assert!(out.is_empty() || String::from_utf8_lossy(&out).starts_with("HTTP/1.1 408"));
    s.shutdown().await;
}

#[tokio::test]
async fn hundred_idle_connections_under_default_limits_then_status() {
    let s = start_with(
        Recorder::new(),
        ServeOptions {
            max_connections: 256,
            ..ServeOptions::default()
        },
    )
    .await;
    let mut idle = Vec::new();
    for _ in 0..100 {
        idle.push(UnixStream::connect(&s.path).await.unwrap());
    }
    let (st, _, _) = raw(&s.path, "GET", "/v1/status", b"").await;
    assert_eq!(st, 200);
    drop(idle);
    s.shutdown().await;
}

#[tokio::test]
async fn keep_alive_connection_serves_several_requests_then_shutdown_ends_it() {
    let s = start().await;
    let mut c = UnixStream::connect(&s.path).await.unwrap();
    for _ in 0..3 {
        c.write_all(b"GET /v1/checks HTTP/1.1\r\nHost: localhost\r\n\r\n")
            .await
            .unwrap();
        let mut buf = vec![0u8; 4096];
        let n = c.read(&mut buf).await.unwrap();
        assert!(String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 200"));
    }
    let calls = s.backend.calls();
    assert_eq!(calls.iter().filter(|c| *c == "checks").count(), 3);
    s.shutdown().await;
    let out = read_until_closed(&mut c).await;
    assert!(
        out.is_empty(),
        "graceful shutdown closes idle keep-alive connections"
    );
}

#[tokio::test]
async fn connection_time_limit_ends_a_long_keep_alive_session() {
    let options = ServeOptions {
        connection_timeout: Duration::from_secs(1),
        ..short_timeouts(8)
    };
    let s = start_with(Recorder::new(), options).await;
    let mut c = UnixStream::connect(&s.path).await.unwrap();
    // Keep sending requests faster than the header timeout: only the total limit can end it.
    let mut served = 0;
    for _ in 0..400 {
        let req = b"GET /v1/checks HTTP/1.1\r\nHost: localhost\r\n\r\n";
        if c.write_all(req).await.is_err() {
            break;
        }
        let mut buf = vec![0u8; 4096];
        match c.read(&mut buf).await {
            Ok(n) if n > 0 => served += 1,
            _ => break,
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(served > 0, "served before the limit");
    assert!(
        served < 400,
        "the connection was cut by the total time limit"
    );
    s.shutdown().await;
}

#[tokio::test]
async fn metrics_over_tcp_serves_only_metrics() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let backend: std::sync::Arc<dyn oncalld::api::Backend> = Recorder::new();
    let task = tokio::spawn(oncalld::api::serve_tcp(listener, backend, async {
        let _ = rx.await;
    }));
    let get = |uri: &'static str| async move {
        let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
        let req = format!("GET {uri} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        s.write_all(req.as_bytes()).await.unwrap();
        let mut out = Vec::new();
        s.read_to_end(&mut out).await.unwrap();
        api_support::parse_response(&out)
    };
    let (st, _, body) = get("/metrics").await;
    assert_eq!(st, 200);
    assert!(body.contains("oncalld_probes_total"));
    let (st, _, body) = get("/v1/status").await;
    assert_eq!(st, 404, "the API is not exposed over TCP: {body}");
    let _ = tx.send(());
    task.await.unwrap();
}

#[test]
fn defaults_are_the_spec_limits() {
    let o = ServeOptions::default();
    assert_eq!(
        o.request_timeout,
        Duration::from_secs(10),
        "SPEC §9: head and body in 10 s"
    );
    assert_eq!(o.max_connections, 1024);
}

/// Head sent, then the body stalls: answered 408 and closed at the request deadline.
#[tokio::test]
async fn stalled_body_is_closed_at_the_deadline_and_never_handled() {
    let options = ServeOptions {
        request_timeout: Duration::from_millis(500),
        ..short_timeouts(8)
    };
    let s = start_with(Recorder::new(), options).await;
    let mut slow = UnixStream::connect(&s.path).await.unwrap();
    slow.write_all(
        b"POST /v1/incidents/17/notes HTTP/1.1\r\nHost: x\r\nContent-Length: 60000\r\n\r\n{",
    )
    .await
    .unwrap();
    let started = std::time::Instant::now();
    let (st, _, _) = raw(&s.path, "GET", "/v1/checks", b"").await;
    assert_eq!(st, 200, "others are served meanwhile");
    let out = read_until_closed(&mut slow).await;
    let waited = started.elapsed();
    let text = String::from_utf8_lossy(&out);
    assert!(text.starts_with("HTTP/1.1 408"), "{text}");
    assert!(
        waited < Duration::from_secs(3),
        "closed {waited:?} after the head"
    );
    assert!(!s.backend.calls().iter().any(|c| c.starts_with("note")));
    s.shutdown().await;
}

/// A full table sheds its oldest idle connection: the newcomer is served at once.
#[tokio::test]
async fn full_table_sheds_the_oldest_idle_connection() {
    let options = ServeOptions {
        request_timeout: Duration::from_secs(30),
        ..short_timeouts(4)
    };
    let s = start_with(Recorder::new(), options).await;
    let mut idle = Vec::new();
    for _ in 0..4 {
        let mut c = UnixStream::connect(&s.path).await.unwrap();
        c.write_all(b"GET /v1/status HTTP/1.1\r\nHo").await.unwrap();
        idle.push(c);
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let started = std::time::Instant::now();
    let (st, _, _) = raw(&s.path, "GET", "/v1/checks", b"").await;
    assert_eq!(st, 200);
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "not made to wait"
    );
    // The oldest was shed (closed without an answer); the youngest is still open.
    let out = tokio::time::timeout(Duration::from_secs(2), idle[0].read_to_end(&mut Vec::new()))
        .await
        .expect("the oldest idle connection was closed");
    assert!(matches!(out, Ok(0) | Err(_)));
    let mut buf = [0u8; 16];
    let young = tokio::time::timeout(Duration::from_millis(300), idle[3].read(&mut buf)).await;
    assert!(young.is_err(), "the youngest stays open");
    s.shutdown().await;
}

/// The TCP listener has the same deadline and connection table.
#[tokio::test]
async fn tcp_listener_has_the_same_limits() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let backend: std::sync::Arc<dyn oncalld::api::Backend> = Recorder::new();
    let options = ServeOptions {
        request_timeout: Duration::from_millis(500),
        ..short_timeouts(4)
    };
    let task = tokio::spawn(oncalld::api::serve_tcp_with(
        listener,
        backend,
        options,
        async {
            let _ = rx.await;
        },
    ));
    let mut crowd = Vec::new();
    for _ in 0..10 {
        let mut c = tokio::net::TcpStream::connect(addr).await.unwrap();
        let _ = c
            .write_all(b"POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 9000\r\n\r\n{")
            .await;
        crowd.push(c);
    }
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    s.write_all(b"GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut out = Vec::new();
    tokio::time::timeout(Duration::from_secs(3), s.read_to_end(&mut out))
        .await
        .expect("metrics answered despite the crowd")
        .unwrap();
    assert!(String::from_utf8_lossy(&out).starts_with("HTTP/1.1 200"));
    // Every slow one is closed by the deadline (or was shed).
    for mut c in crowd {
        let r = tokio::time::timeout(Duration::from_secs(3), c.read_to_end(&mut Vec::new())).await;
        assert!(r.is_ok(), "a slow TCP client was left open");
    }
    let _ = tx.send(());
    task.await.unwrap();
}

/// A head longer than 16 KiB is refused without being buffered further.
#[tokio::test]
async fn oversized_head_is_refused() {
    let s = start().await;
    let mut c = UnixStream::connect(&s.path).await.unwrap();
    let head = format!(
        "GET /v1/status HTTP/1.1\r\nHost: x\r\nX-Pad: {}\r\n\r\n",
        "a".repeat(20 * 1024)
    );
    let _ = c.write_all(head.as_bytes()).await;
    let out = read_until_closed(&mut c).await;
    let text = String::from_utf8_lossy(&out);
    assert!(
        text.is_empty() || text.starts_with("HTTP/1.1 431"),
        "{text}"
    );
    assert!(!s.backend.calls().contains(&"status".to_string()));
    s.shutdown().await;
}
