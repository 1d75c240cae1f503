//! `type = "http"`: one request, a fresh connection each time (it measures what a new visitor
//! sees), judged on status, latency and body.

use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use reqwest::{Client, Method, Url};

use super::{Broken, PerfDatum, Probe, ProbeFuture, Verdict, millis, root_cause, timed_out};
use crate::config::HttpProbe;

/// Read at most this much of a body when looking for `body_contains`.
const MAX_BODY: usize = 1024 * 1024;

/// The two shared clients (certificate checks on and off), built on first use: a client
/// carries the TLS root store, so one per setting rather than one per check.
#[derive(Default)]
pub(super) struct Clients {
    verify: OnceLock<Result<Client, String>>,
    insecure: OnceLock<Result<Client, String>>,
}

impl Clients {
    fn get(&self, tls_verify: bool) -> Result<Client, String> {
        let cell = if tls_verify {
            &self.verify
        } else {
            &self.insecure
        };
        cell.get_or_init(|| new_client(tls_verify)).clone()
    }
}

/// No idle connections are kept (`pool_max_idle_per_host(0)`), so every probe connects
/// afresh. Redirects are not followed (a 301 is what was seen; list it in `expect_status`),
/// and proxies from the environment are ignored: a monitor measures the direct path.
fn new_client(tls_verify: bool) -> Result<Client, String> {
    Client::builder()
        .pool_max_idle_per_host(0)
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .user_agent(concat!("oncalld/", env!("CARGO_PKG_VERSION")))
        .danger_accept_invalid_certs(!tls_verify)
        .build()
        .map_err(|e| format!("cannot set up the HTTP client: {e}"))
}

pub(super) struct HttpCheck {
    client: Client,
    url: Url,
    method: Method,
    /// The check's headers; a `User-Agent` here replaces the client's default.
    headers: HeaderMap,
    expect_status: Vec<u16>,
    max_latency: Option<Duration>,
    body_contains: Option<String>,
}

impl HttpCheck {
    /// Parse what can be parsed once (URL, method, headers); a failure is a probe that
    /// answers UNKNOWN with the reason.
    pub(super) fn build(cfg: &HttpProbe, clients: &Clients) -> Arc<dyn Probe> {
        match Self::try_build(cfg, clients) {
            Ok(c) => Arc::new(c),
            Err(e) => Arc::new(Broken(e)),
        }
    }

    fn try_build(cfg: &HttpProbe, clients: &Clients) -> Result<Self, String> {
        let url = Url::parse(&cfg.url).map_err(|e| format!("bad url {:?}: {e}", cfg.url))?;
        let method = Method::from_bytes(cfg.method.as_bytes())
            .map_err(|_| format!("bad method {:?}", cfg.method))?;
        let mut headers = HeaderMap::new();
        for (k, v) in &cfg.headers {
            let name = HeaderName::from_bytes(k.as_bytes())
                .map_err(|_| format!("bad header name {k:?}"))?;
            let value =
                HeaderValue::from_str(v).map_err(|_| format!("bad value for header {k:?}"))?;
            headers.insert(name, value);
        }
        Ok(HttpCheck {
            client: clients.get(cfg.tls_verify)?,
            url,
            method,
            headers,
            expect_status: if cfg.expect_status.is_empty() {
                vec![200]
            } else {
                cfg.expect_status.clone()
            },
            max_latency: cfg.max_latency,
            body_contains: cfg.body_contains.clone(),
        })
    }

    async fn run(&self, timeout: Duration) -> Verdict {
        let start = Instant::now();
        let request = self
            .client
            .request(self.method.clone(), self.url.clone())
            .headers(self.headers.clone())
            .timeout(timeout);
        let mut response = match request.send().await {
            Ok(r) => r,
            Err(e) => return Verdict::critical(describe(&e, timeout)),
        };
        let code = response.status().as_u16();
        let body_missing = match &self.body_contains {
            Some(needle) => match body_contains(&mut response, needle).await {
                Ok(found) => !found,
                Err(e) => return Verdict::critical(describe(&e, timeout)),
            },
            None => false,
        };
        drop(response);
        let took = start.elapsed();
        let perf = vec![PerfDatum {
            min: Some(0.0),
            ..PerfDatum::new("time", took.as_secs_f64(), "s")
        }];
        self.judge(code, took, body_missing).with_perfdata(perf)
    }

    /// Status first (the most telling), then latency, then body.
    fn judge(&self, code: u16, took: Duration, body_missing: bool) -> Verdict {
        let seen = format!("HTTP {code} in {} ms", millis(took));
        if !self.expect_status.contains(&code) {
            let expected: Vec<String> = self.expect_status.iter().map(u16::to_string).collect();
            return Verdict::critical(format!("{seen} (expected {})", expected.join(" or ")));
        }
        if let Some(max) = self.max_latency.filter(|m| took > *m) {
            return Verdict::critical(format!("took {} ms > {} ms", millis(took), millis(max)));
        }
        if body_missing {
            let needle = self.body_contains.as_deref().unwrap_or("");
            return Verdict::critical(format!("body does not contain {needle:?}"));
        }
        Verdict::ok(seen)
    }
}

impl Probe for HttpCheck {
    fn check(&self, timeout: Duration) -> ProbeFuture<'_> {
        Box::pin(self.run(timeout))
    }
}

/// Read up to [`MAX_BODY`] bytes, stopping early once the needle is seen.
async fn body_contains(response: &mut reqwest::Response, needle: &str) -> reqwest::Result<bool> {
    let needle = needle.as_bytes();
    let mut body: Vec<u8> = Vec::new();
    while body.len() < MAX_BODY {
        let Some(chunk) = response.chunk().await? else {
            break;
        };
        let take = chunk.len().min(MAX_BODY - body.len());
        // Only the new bytes (and a needle's length before them) can hold a new match.
        let from = body.len().saturating_sub(needle.len());
        body.extend_from_slice(&chunk[..take]);
        if contains(&body[from..], needle) {
            return Ok(true);
        }
    }
    Ok(contains(&body, needle))
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    needle.is_empty() || haystack.windows(needle.len()).any(|w| w == needle)
}

/// What went wrong, in the words an operator expects.
fn describe(e: &reqwest::Error, timeout: Duration) -> String {
    if e.is_timeout() {
        return timed_out(timeout);
    }
    let cause = root_cause(e);
    if let Some(io) = cause.downcast_ref::<std::io::Error>() {
        return super::describe_io(io);
    }
    if e.is_connect() {
        return format!("cannot connect: {cause}");
    }
    cause.to_string()
}
