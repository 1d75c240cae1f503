//! The lean path for plain `http://` checks: one HTTP/1.1 exchange on hyper's low-level
//! client over a fresh `TcpStream`, the connection driven inside the probe's own task.
//!
//! Why not reqwest here: its pool, connector service, boxed futures, spawned connection task
//! and per-request URL/header handling cost more CPU than the exchange itself at thousands of
//! checks. `https://` keeps reqwest (TLS, `tls_verify`); this path must behave the same:
//! same request (method, origin-form target, `Host` with a non-default port, `User-Agent`
//! and `Accept: */*` unless the check sets them), no redirects, no proxy, `TCP_NODELAY`.

use std::future::{Future, poll_fn};
use std::io::{self, IoSlice};
use std::net::{IpAddr, SocketAddr};
use std::pin::{Pin, pin};
use std::task::{Context, Poll};

use http_body_util::{BodyExt, Empty};
use hyper::body::{Bytes, Incoming};
use hyper::client::conn::http1;
use hyper::header::{ACCEPT, HOST, HeaderMap, HeaderValue, USER_AGENT};
use hyper::{Method, Request, Uri};
use hyper_util::rt::TokioIo;
use reqwest::Url;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

use super::http::{BodyScan, USER_AGENT_VALUE};
use super::{describe_io, root_cause};

/// Where to connect: an IP literal is used as is; a name is resolved on each probe, as a
/// client would.
enum Target {
    Ip(SocketAddr),
    Name(String, u16),
}

/// A plain-HTTP target with everything per-request prepared once.
pub(super) struct PlainHttp {
    target: Target,
    /// Origin-form request target: path and query, as reqwest sends it.
    path: Uri,
    /// `Host` with a non-default port, as reqwest sends it.
    host: HeaderValue,
    /// The check's own headers (usually none: an empty map holds no allocation, which
    /// matters at 10,000 checks); the defaults are added per request.
    headers: HeaderMap,
}

impl PlainHttp {
    /// `None` when the URL is not plain `http://` (or is something this path does not
    /// handle); the caller then uses reqwest.
    pub(super) fn new(url: &Url, check_headers: &HeaderMap) -> Option<Self> {
        if url.scheme() != "http" || !url.username().is_empty() || url.password().is_some() {
            return None;
        }
        let port = url.port_or_known_default()?;
        let host_str = url.host_str()?;
        // The URL parser normalises IP literals, so parsing its host string is exact.
        let ip = host_str.trim_start_matches('[').trim_end_matches(']');
        let target = match ip.parse::<IpAddr>() {
            Ok(ip) => Target::Ip(SocketAddr::new(ip, port)),
            Err(_) => Target::Name(host_str.to_string(), port),
        };
        let path_and_query = match url.query() {
            Some(q) => format!("{}?{q}", url.path()),
            None => url.path().to_string(),
        };
        let path = Uri::try_from(path_and_query).ok()?;
        // `host_str` keeps an IPv6 literal's brackets; `port()` is `None` for the default.
        let host = match url.port() {
            Some(p) => format!("{host_str}:{p}"),
            None => host_str.to_string(),
        };
        Some(PlainHttp {
            target,
            path,
            host: HeaderValue::from_str(&host).ok()?,
            headers: check_headers.clone(),
        })
    }

    /// The check's headers, then `Host`, `User-Agent` and `Accept: */*` unless it set them.
    fn request_headers(&self) -> HeaderMap {
        let mut headers = HeaderMap::with_capacity(self.headers.len() + 3);
        for (name, value) in &self.headers {
            headers.append(name.clone(), value.clone());
        }
        let defaults = [
            (HOST, self.host.clone()),
            (USER_AGENT, HeaderValue::from_static(USER_AGENT_VALUE)),
            (ACCEPT, HeaderValue::from_static("*/*")),
        ];
        for (name, value) in defaults {
            headers.entry(name).or_insert(value);
        }
        headers
    }

    /// One exchange: the status code and, when a needle is given, whether the body (up to
    /// the cap) contains it. The error is the operator's message. The caller bounds the time.
    pub(super) async fn exchange(
        &self,
        method: &Method,
        needle: Option<&str>,
    ) -> Result<(u16, bool), String> {
        let stream = self.connect().await.map_err(|e| describe_io(&e))?;
        let _ = stream.set_nodelay(true);
        let io = TokioIo::new(NoShutdown(stream));
        let (mut sender, conn) = http1::handshake::<_, Empty<Bytes>>(io)
            .await
            .map_err(|e| describe(&e))?;
        let mut conn = pin!(conn);
        let mut conn_done = false;
        let mut request = Request::new(Empty::new());
        *request.method_mut() = method.clone();
        *request.uri_mut() = self.path.clone();
        *request.headers_mut() = self.request_headers();
        let response = drive(conn.as_mut(), &mut conn_done, sender.send_request(request))
            .await
            .and_then(|r| r)
            .map_err(|e| describe(&e))?;
        let code = response.status().as_u16();
        let found = match needle {
            Some(needle) => {
                let mut body = response.into_body();
                drive(conn, &mut conn_done, scan(&mut body, needle))
                    .await
                    .and_then(|r| r)
                    .map_err(|e| describe(&e))?
            }
            None => true,
        };
        Ok((code, found))
    }

    async fn connect(&self) -> std::io::Result<TcpStream> {
        match &self.target {
            Target::Ip(addr) => TcpStream::connect(*addr).await,
            Target::Name(name, port) => TcpStream::connect((name.as_str(), *port)).await,
        }
    }
}

/// Poll `f` while driving the connection in the same task (no spawned connection task).
/// The connection ends on its own once the exchange is over (or on an error, which then
/// usually reaches `f` too; if it does not, the connection's error is the answer).
async fn drive<C, F>(mut conn: Pin<&mut C>, done: &mut bool, f: F) -> hyper::Result<F::Output>
where
    C: Future<Output = hyper::Result<()>>,
    F: Future,
{
    let mut f = pin!(f);
    poll_fn(|cx| {
        if let Poll::Ready(v) = f.as_mut().poll(cx) {
            return Poll::Ready(Ok(v));
        }
        if *done {
            return Poll::Pending;
        }
        let Poll::Ready(ended) = conn.as_mut().poll(cx) else {
            return Poll::Pending;
        };
        *done = true;
        if let Poll::Ready(v) = f.as_mut().poll(cx) {
            return Poll::Ready(Ok(v));
        }
        match ended {
            Err(e) => Poll::Ready(Err(e)),
            Ok(()) => Poll::Pending,
        }
    })
    .await
}

/// Read the body through a [`BodyScan`] until the needle is seen, the cap is reached or the
/// body ends.
async fn scan(body: &mut Incoming, needle: &str) -> hyper::Result<bool> {
    let mut scan = BodyScan::new(needle);
    while !scan.full() {
        let Some(frame) = body.frame().await else {
            break;
        };
        if let Ok(chunk) = frame?.into_data()
            && scan.feed(&chunk)
        {
            return Ok(true);
        }
    }
    Ok(scan.found())
}

/// The same words the reqwest path uses: the innermost cause, "connection refused" style
/// for socket errors.
fn describe(e: &hyper::Error) -> String {
    let cause = root_cause(e);
    match cause.downcast_ref::<std::io::Error>() {
        Some(io) => describe_io(io),
        None => cause.to_string(),
    }
}

/// The stream with a no-op `shutdown`: hyper shuts the write side down when the exchange is
/// over, and the probe closes the socket right after, which sends the same FIN. One syscall
/// per probe saved.
struct NoShutdown(TcpStream);

impl AsyncRead for NoShutdown {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_read(cx, buf)
    }
}

impl AsyncWrite for NoShutdown {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.0).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.0).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.0.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}
