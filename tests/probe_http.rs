//! HTTP probes against real HTTP servers on 127.0.0.1, written by hand on a TcpListener so
//! the tests control everything: status, delay, body, hanging, and what the server saw.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use oncalld::config::{HttpProbe, ProbeConfig};
use oncalld::probe::{ProbeResult, Probes, Status, run_probe};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

#[derive(Clone)]
enum Reply {
    /// Status and body, after a delay.
    Answer(u16, &'static str, Duration),
    /// Accept, read the request, never answer.
    Hang,
}

/// A keep-alive HTTP/1.1 server: counts accepted connections and keeps every request head.
struct Server {
    url: String,
    connections: Arc<Mutex<usize>>,
    requests: Arc<Mutex<Vec<String>>>,
}

async fn serve(reply: Reply) -> Server {
    serve_at("127.0.0.1:0", reply).await
}

/// [`serve`] on another address (e.g. `[::1]:0`).
async fn serve_at(bind: &str, reply: Reply) -> Server {
    let listener = TcpListener::bind(bind).await.unwrap();
    let url = format!("http://{}/health", listener.local_addr().unwrap());
    let connections = Arc::new(Mutex::new(0));
    let requests = Arc::new(Mutex::new(Vec::new()));
    let (c, r) = (connections.clone(), requests.clone());
    tokio::spawn(async move {
        loop {
            let (mut sock, _) = listener.accept().await.unwrap();
            *c.lock().unwrap() += 1;
            let (reply, r) = (reply.clone(), r.clone());
            tokio::spawn(async move {
                let mut buf = Vec::new();
                loop {
                    let mut chunk = [0u8; 4096];
                    let n = match sock.read(&mut chunk).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => n,
                    };
                    buf.extend_from_slice(&chunk[..n]);
                    let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") else {
                        continue;
                    };
                    let head = String::from_utf8_lossy(&buf[..end]).to_string();
                    buf.drain(..end + 4);
                    r.lock().unwrap().push(head);
                    match &reply {
                        Reply::Hang => {
                            tokio::time::sleep(Duration::from_secs(3600)).await;
                        }
                        Reply::Answer(code, body, delay) => {
                            tokio::time::sleep(*delay).await;
                            let resp = format!(
                                "HTTP/1.1 {code} X\r\ncontent-length: {}\r\n\r\n{body}",
                                body.len()
                            );
                            if sock.write_all(resp.as_bytes()).await.is_err() {
                                return;
                            }
                        }
                    }
                }
            });
        }
    });
    Server {
        url,
        connections,
        requests,
    }
}

fn http(url: &str) -> HttpProbe {
    HttpProbe {
        url: url.to_string(),
        method: "GET".into(),
        headers: BTreeMap::new(),
        expect_status: vec![200],
        max_latency: None,
        body_contains: None,
        tls_verify: true,
        ca_file: None,
        cert_expiry: None,
        zone: jiff::tz::TimeZone::UTC,
    }
}

async fn probe(cfg: HttpProbe, timeout: Duration) -> ProbeResult {
    let p = Probes::new().build(&ProbeConfig::Http(cfg));
    run_probe(p.as_ref(), timeout).await
}

const T: Duration = Duration::from_secs(2);

#[tokio::test]
async fn ok_on_200() {
    let s = serve(Reply::Answer(200, "fine", Duration::ZERO)).await;
    let r = probe(http(&s.url), T).await;
    assert_eq!(r.status, Status::Ok, "{r:?}");
    assert!(r.message.starts_with("HTTP 200 in "), "{}", r.message);
    assert!(r.message.ends_with(" ms"), "{}", r.message);
    assert_eq!(r.perfdata[0].label, "time");
}

#[tokio::test]
async fn critical_on_unexpected_status() {
    let s = serve(Reply::Answer(503, "down", Duration::ZERO)).await;
    let r = probe(http(&s.url), T).await;
    assert_eq!(r.status, Status::Critical);
    assert!(r.message.starts_with("HTTP 503 in "), "{}", r.message);
    assert!(r.message.ends_with("(expected 200)"), "{}", r.message);

    let mut cfg = http(&s.url);
    cfg.expect_status = vec![200, 503];
    assert_eq!(probe(cfg, T).await.status, Status::Ok);
}

#[tokio::test]
async fn critical_when_slower_than_max_latency() {
    let s = serve(Reply::Answer(200, "", Duration::from_millis(150))).await;
    let mut cfg = http(&s.url);
    cfg.max_latency = Some(Duration::from_millis(50));
    let r = probe(cfg, T).await;
    assert_eq!(r.status, Status::Critical);
    assert!(r.message.starts_with("took "), "{}", r.message);
    assert!(r.message.ends_with(" ms > 50 ms"), "{}", r.message);

    let mut cfg = http(&s.url);
    cfg.max_latency = Some(Duration::from_secs(5));
    assert_eq!(probe(cfg, T).await.status, Status::Ok);
}

#[tokio::test]
async fn body_match_and_mismatch() {
    let s = serve(Reply::Answer(200, "status: all ok here", Duration::ZERO)).await;
    let mut cfg = http(&s.url);
    cfg.body_contains = Some("all ok".into());
    assert_eq!(probe(cfg.clone(), T).await.status, Status::Ok);
    cfg.body_contains = Some("ok\"!".into());
    let r = probe(cfg, T).await;
    assert_eq!(r.status, Status::Critical);
    assert_eq!(r.message, r#"body does not contain "ok\"!""#);
}

#[tokio::test]
async fn times_out_on_a_server_that_never_answers() {
    let s = serve(Reply::Hang).await;
    let r = probe(http(&s.url), Duration::from_millis(300)).await;
    assert_eq!(r.status, Status::Critical);
    assert_eq!(r.message, "timed out after 300ms");
    assert_eq!(s.requests.lock().unwrap().len(), 1, "the request was sent");
}

#[tokio::test]
async fn connection_refused() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let r = probe(http(&format!("http://127.0.0.1:{port}/")), T).await;
    assert_eq!(r.status, Status::Critical);
    assert_eq!(r.message, "connection refused");
}

#[tokio::test]
async fn sends_user_agent_and_custom_headers() {
    let s = serve(Reply::Answer(200, "", Duration::ZERO)).await;
    let mut cfg = http(&s.url);
    cfg.headers.insert("X-Probe".into(), "yes".into());
    cfg.method = "HEAD".into();
    probe(cfg, T).await;
    let head = s.requests.lock().unwrap()[0].to_lowercase();
    assert!(head.starts_with("head /health http/1.1"), "{head}");
    let ua = format!("user-agent: oncalld/{}", env!("CARGO_PKG_VERSION"));
    assert!(head.contains(&ua), "{head}");
    assert!(head.contains("x-probe: yes"), "{head}");

    let mut cfg = http(&s.url);
    cfg.headers.insert("User-Agent".into(), "custom/1".into());
    probe(cfg, T).await;
    let head = s.requests.lock().unwrap()[1].to_lowercase();
    assert!(head.contains("user-agent: custom/1"), "{head}");
    assert!(!head.contains("oncalld/"), "{head}");
}

#[tokio::test]
async fn every_probe_opens_a_fresh_connection() {
    let s = serve(Reply::Answer(200, "", Duration::ZERO)).await;
    let probes = Probes::new();
    let p = probes.build(&ProbeConfig::Http(http(&s.url)));
    for _ in 0..3 {
        assert_eq!(run_probe(p.as_ref(), T).await.status, Status::Ok);
    }
    assert_eq!(s.requests.lock().unwrap().len(), 3);
    assert_eq!(*s.connections.lock().unwrap(), 3);
}

#[tokio::test]
async fn bad_url_is_unknown() {
    let r = probe(http("not a url"), T).await;
    assert_eq!(r.status, Status::Unknown);
    assert!(r.message.contains("bad url"), "{}", r.message);
}

#[tokio::test]
async fn tls_handshake_failure_is_critical() {
    // A server that answers plain HTTP at once, spoken to over https: the handshake fails.
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("https://{}/", l.local_addr().unwrap());
    tokio::spawn(async move {
        while let Ok((mut sock, _)) = l.accept().await {
            let _ = sock.write_all(b"HTTP/1.1 400 Bad Request\r\n\r\n").await;
        }
    });
    for verify in [true, false] {
        let mut cfg = http(&url);
        cfg.tls_verify = verify;
        let r = probe(cfg, T).await;
        assert_eq!(r.status, Status::Critical, "{r:?}");
        assert!(!r.message.starts_with("HTTP "), "{r:?}");
        assert!(!r.message.starts_with("timed out"), "{r:?}");
    }
}

/// The head the server saw for request `i`, lower-cased.
fn head(s: &Server, i: usize) -> String {
    s.requests.lock().unwrap()[i].to_lowercase()
}

#[tokio::test]
async fn sends_path_query_and_host_with_port() {
    let s = serve(Reply::Answer(200, "", Duration::ZERO)).await;
    let base = s.url.trim_end_matches("/health");
    let r = probe(http(&format!("{base}/a/b%20c?x=1&y=two#frag")), T).await;
    assert_eq!(r.status, Status::Ok, "{r:?}");
    let head = head(&s, 0);
    assert!(
        head.starts_with("get /a/b%20c?x=1&y=two http/1.1\r\n"),
        "{head}"
    );
    let host = format!("host: {}", base.trim_start_matches("http://"));
    assert!(head.contains(&host), "{head}");
    assert!(head.contains("accept: */*"), "{head}");
}

#[tokio::test]
async fn a_url_without_path_asks_for_slash() {
    let s = serve(Reply::Answer(200, "", Duration::ZERO)).await;
    let base = s.url.trim_end_matches("/health");
    assert_eq!(probe(http(base), T).await.status, Status::Ok);
    assert!(head(&s, 0).starts_with("get / http/1.1"), "{}", head(&s, 0));
}

#[tokio::test]
async fn ipv6_literal_host() {
    let s = serve_at("[::1]:0", Reply::Answer(200, "", Duration::ZERO)).await;
    assert!(s.url.starts_with("http://[::1]:"), "{}", s.url);
    let r = probe(http(&s.url), T).await;
    assert_eq!(r.status, Status::Ok, "{r:?}");
    let host = format!(
        "host: {}",
        &s.url["http://".len()..s.url.len() - "/health".len()]
    );
    assert!(head(&s, 0).contains(&host), "{}", head(&s, 0));
}

#[tokio::test]
async fn host_name_is_resolved() {
    let s = serve(Reply::Answer(200, "", Duration::ZERO)).await;
    let url = s.url.replace("127.0.0.1", "localhost");
    let r = probe(http(&url), T).await;
    assert_eq!(r.status, Status::Ok, "{r:?}");
    let port = url.rsplit(':').next().unwrap().trim_end_matches("/health");
    assert!(
        head(&s, 0).contains(&format!("host: localhost:{port}")),
        "{}",
        head(&s, 0)
    );
}

#[tokio::test]
async fn check_headers_override_host_and_accept() {
    let s = serve(Reply::Answer(200, "", Duration::ZERO)).await;
    let mut cfg = http(&s.url);
    cfg.headers.insert("Host".into(), "example.test".into());
    cfg.headers.insert("Accept".into(), "text/plain".into());
    assert_eq!(probe(cfg, T).await.status, Status::Ok);
    let head = head(&s, 0);
    assert!(head.contains("host: example.test"), "{head}");
    assert!(!head.contains("host: 127.0.0.1"), "{head}");
    assert!(head.contains("accept: text/plain"), "{head}");
    assert!(!head.contains("*/*"), "{head}");
}

#[tokio::test]
async fn redirects_are_not_followed() {
    let s = serve(Reply::Answer(301, "", Duration::ZERO)).await;
    let r = probe(http(&s.url), T).await;
    assert_eq!(r.status, Status::Critical);
    assert!(r.message.starts_with("HTTP 301 in "), "{}", r.message);
    let mut cfg = http(&s.url);
    cfg.expect_status = vec![301];
    assert_eq!(probe(cfg, T).await.status, Status::Ok);
    assert_eq!(s.requests.lock().unwrap().len(), 2);
}

#[tokio::test]
async fn body_is_read_up_to_one_mib() {
    // The needle sits just past the 1 MiB cap: not seen. One just before it: seen.
    let body: &'static str = Box::leak(format!("{}NEEDLE", "a".repeat(1024 * 1024)).into());
    let s = serve(Reply::Answer(200, body, Duration::ZERO)).await;
    let mut cfg = http(&s.url);
    cfg.body_contains = Some("NEEDLE".into());
    let r = probe(cfg.clone(), T).await;
    assert_eq!(r.message, r#"body does not contain "NEEDLE""#);
    cfg.body_contains = Some("aaaa".into());
    assert_eq!(probe(cfg, T).await.status, Status::Ok);
}

#[tokio::test]
async fn a_body_that_never_ends_times_out() {
    // Headers promise 100 bytes; 4 come, then nothing.
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/", l.local_addr().unwrap());
    tokio::spawn(async move {
        while let Ok((mut sock, _)) = l.accept().await {
            let mut buf = [0u8; 4096];
            let _ = sock.read(&mut buf).await;
            let _ = sock
                .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\nfine")
                .await;
            tokio::time::sleep(Duration::from_secs(3600)).await;
        }
    });
    let mut cfg = http(&url);
    cfg.body_contains = Some("nope".into());
    let r = probe(cfg, Duration::from_millis(300)).await;
    assert_eq!(r.status, Status::Critical);
    assert_eq!(r.message, "timed out after 300ms");
}

#[tokio::test]
async fn a_server_that_closes_without_answering_is_critical() {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/", l.local_addr().unwrap());
    tokio::spawn(async move {
        while let Ok((mut sock, _)) = l.accept().await {
            let mut buf = [0u8; 4096];
            let _ = sock.read(&mut buf).await;
        }
    });
    let r = probe(http(&url), T).await;
    assert_eq!(r.status, Status::Critical);
    assert_eq!(r.message, "connection closed before message completed");
}

#[tokio::test]
async fn unresolvable_host_is_critical() {
    let r = probe(http("http://no-such-host.invalid:9/"), T).await;
    assert_eq!(r.status, Status::Critical, "{r:?}");
    assert!(!r.message.starts_with("HTTP "), "{r:?}");
    assert!(!r.message.starts_with("timed out"), "{r:?}");
}
