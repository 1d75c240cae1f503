//! `type = "http"`: one request, a fresh connection each time (it measures what a new visitor
//! sees), judged on status, latency and body. Plain `http://` goes through the lean client
//! in `http_plain.rs`; `https://` through reqwest (TLS, `tls_verify`).

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use jiff::Timestamp;
use jiff::tz::TimeZone;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use reqwest::{Client, Method, Url};

use super::http_plain::PlainHttp;
use super::{
    Broken, PerfDatum, Probe, ProbeFuture, Status, Verdict, millis, root_cause, timed_out,
};
use crate::config::HttpProbe;

/// Read at most this much of a body when looking for `body_contains`.
const MAX_BODY: usize = 1024 * 1024;

/// The `User-Agent` sent unless the check's headers set one (SPEC §4).
pub(super) const USER_AGENT_VALUE: &str = concat!("oncalld/", env!("CARGO_PKG_VERSION"));

/// What makes two HTTPS clients different: certificate checks on or off, the extra CA file,
/// and whether the server's certificate is kept for `cert_expiry`.
#[derive(Clone, PartialEq, Eq, Hash)]
struct ClientKey {
    verify: bool,
    ca_file: Option<PathBuf>,
    keep_certificate: bool,
}

/// The shared clients, one per [`ClientKey`], built on first use: a client carries the TLS
/// root store (built-in, system and `ca_file`), so one per setting rather than one per check.
#[derive(Default)]
pub(super) struct Clients {
    by_key: Mutex<HashMap<ClientKey, Result<Client, String>>>,
}

impl Clients {
    fn get(&self, cfg: &HttpProbe) -> Result<Client, String> {
        let key = ClientKey {
            verify: cfg.tls_verify,
            ca_file: cfg.ca_file.clone(),
            keep_certificate: cfg.cert_expiry.is_some(),
        };
        let mut map = self.by_key.lock().unwrap_or_else(|p| p.into_inner());
        map.entry(key.clone())
            .or_insert_with(|| new_client(&key))
            .clone()
    }
}

/// No idle connections are kept (`pool_max_idle_per_host(0)`), so every probe connects
/// afresh. Redirects are not followed (a 301 is what was seen; list it in `expect_status`),
/// and proxies from the environment are ignored: a monitor measures the direct path.
fn new_client(key: &ClientKey) -> Result<Client, String> {
    let builder = Client::builder()
        .pool_max_idle_per_host(0)
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .user_agent(USER_AGENT_VALUE)
        .tls_info(key.keep_certificate);
    crate::tls::reqwest_trust(builder, key.ca_file.as_deref(), key.verify)?
        .build()
        .map_err(|e| format!("cannot set up the HTTP client: {e}"))
}

/// How the request goes out: the lean plain-HTTP client, or reqwest for TLS.
enum Transport {
    Plain(PlainHttp),
    Reqwest {
        client: Client,
        url: Url,
        /// The check's headers; a `User-Agent` here replaces the client's default.
        headers: HeaderMap,
    },
}

pub(super) struct HttpCheck {
    transport: Transport,
    method: Method,
    expect_status: Vec<u16>,
    max_latency: Option<Duration>,
    body_contains: Option<String>,
    cert_expiry: Option<Duration>,
    zone: TimeZone,
}

/// What one exchange saw: the status, whether the body held the needle, and (with
/// `cert_expiry`, over TLS) the validity period of the server's certificate.
struct Seen {
    code: u16,
    found: bool,
    validity: Option<Result<(Timestamp, Timestamp), String>>,
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
        let transport = match PlainHttp::new(&url, &headers) {
            Some(plain) => Transport::Plain(plain),
            None => Transport::Reqwest {
                client: clients.get(cfg)?,
                url,
                headers,
            },
        };
        Ok(HttpCheck {
            transport,
            method,
            expect_status: if cfg.expect_status.is_empty() {
                vec![200]
            } else {
                cfg.expect_status.clone()
            },
            max_latency: cfg.max_latency,
            body_contains: cfg.body_contains.clone(),
            cert_expiry: cfg.cert_expiry,
            zone: cfg.zone.clone(),
        })
    }

    async fn run(&self, timeout: Duration) -> Verdict {
        let start = Instant::now();
        let needle = self.body_contains.as_deref();
        let seen = match &self.transport {
            Transport::Plain(plain) => {
                match tokio::time::timeout(timeout, plain.exchange(&self.method, needle)).await {
                    Ok(seen) => seen.map(|(code, found)| Seen {
                        code,
                        found,
                        validity: None,
                    }),
                    Err(_) => Err(timed_out(timeout)),
                }
            }
            Transport::Reqwest {
                client,
                url,
                headers,
            } => {
                let request = client
                    .request(self.method.clone(), url.clone())
                    .headers(headers.clone())
                    .timeout(timeout);
                via_reqwest(request, needle)
                    .await
                    .map_err(|e| describe(&e, timeout, &self.zone))
            }
        };
        let seen = match seen {
            Ok(seen) => seen,
            Err(message) => return Verdict::critical(message),
        };
        let took = start.elapsed();
        let perf = vec![PerfDatum {
            min: Some(0.0),
            ..PerfDatum::new("time", took.as_secs_f64(), "s")
        }];
        let verdict = self.judge(seen.code, took, !seen.found);
        let verdict = match (verdict.status, self.cert_expiry) {
            (Status::Ok, Some(within)) => self.judge_certificate(verdict, seen.validity, within),
            _ => verdict,
        };
        verdict.with_perfdata(perf)
    }

    /// `cert_expiry`: CRITICAL when the certificate expires within `within` (or has expired,
    /// or is not valid yet); an OK verdict gains the expiry date.
    fn judge_certificate(
        &self,
        ok: Verdict,
        validity: Option<Result<(Timestamp, Timestamp), String>>,
        within: Duration,
    ) -> Verdict {
        let validity = match validity {
            Some(Ok(v)) => v,
            Some(Err(e)) => return Verdict::unknown(e),
            None => return Verdict::unknown("cert_expiry: the server sent no certificate"),
        };
        match crate::tls::judge_expiry(validity, Timestamp::now(), within, &self.zone) {
            Ok(words) => Verdict::ok(format!("{}, {words}", ok.message)),
            Err(problem) => Verdict::critical(problem),
        }
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

/// Send through reqwest: the status code and whether the body holds the needle (true when
/// there is no needle). The response is dropped (its connection closed) before returning.
async fn via_reqwest(
    request: reqwest::RequestBuilder,
    needle: Option<&str>,
) -> reqwest::Result<Seen> {
    let mut response = request.send().await?;
    let code = response.status().as_u16();
    // Present only when the client keeps certificates (`tls_info`, for `cert_expiry`).
    let validity = response
        .extensions()
        .get::<reqwest::tls::TlsInfo>()
        .and_then(|info| info.peer_certificate())
        .map(crate::tls::validity);
    let mut seen = Seen {
        code,
        found: true,
        validity,
    };
    let Some(needle) = needle else {
        return Ok(seen);
    };
    let mut scan = BodyScan::new(needle);
    while !scan.full() {
        let Some(chunk) = response.chunk().await? else {
            break;
        };
        if scan.feed(&chunk) {
            return Ok(seen);
        }
    }
    seen.found = scan.found();
    Ok(seen)
}

/// Looks for `body_contains` in a body fed chunk by chunk, keeping at most [`MAX_BODY`]
/// bytes. Shared by both transports so the cap and matching are the same.
pub(super) struct BodyScan<'a> {
    needle: &'a [u8],
    body: Vec<u8>,
}

impl<'a> BodyScan<'a> {
    pub(super) fn new(needle: &'a str) -> Self {
        BodyScan {
            needle: needle.as_bytes(),
            body: Vec::new(),
        }
    }

    /// Add a chunk (cut at the cap); true if the needle is now seen.
    pub(super) fn feed(&mut self, chunk: &[u8]) -> bool {
        let take = chunk.len().min(MAX_BODY - self.body.len());
        // Only the new bytes (and a needle's length before them) can hold a new match.
        let from = self.body.len().saturating_sub(self.needle.len());
        self.body.extend_from_slice(&chunk[..take]);
        contains(&self.body[from..], self.needle)
    }

    /// The cap is reached: read no more.
    pub(super) fn full(&self) -> bool {
        self.body.len() >= MAX_BODY
    }

    pub(super) fn found(&self) -> bool {
        contains(&self.body, self.needle)
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    needle.is_empty() || haystack.windows(needle.len()).any(|w| w == needle)
}

/// What went wrong, in the words an operator expects.
fn describe(e: &reqwest::Error, timeout: Duration, zone: &TimeZone) -> String {
    if e.is_timeout() {
        return timed_out(timeout);
    }
    if let Some(words) = crate::tls::describe(e, zone) {
        return words;
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
