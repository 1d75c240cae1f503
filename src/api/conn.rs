//! One connection of the socket (or the TCP listener): hyper's HTTP/1.1 machinery with the
//! per-request deadline, the body read up front (bounded in size and time), and the hooks the
//! accept loop uses to shed it when the connection table is full.
//!
//! A request's clock starts when the connection is ready for it (accepted, or the previous
//! answer produced): its head must be complete within `request_timeout` (hyper's header read
//! timeout) and its body by the same deadline, else it is answered 408 and closed. The body is
//! collected here, before the router runs, so a client trickling a body never holds a handler
//! and can always be shed (see [`ConnState`]).

use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU8, Ordering};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use http_body_util::BodyExt;
use hyper::Request;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::{Notify, OnceCell, watch};
use tokio::time::Instant;

use super::actor::Actor;
use super::alertmanager::{self, MAX_ALERTMANAGER_BODY_BYTES};
use super::backend::ApiError;
use super::routes::MAX_BODY_BYTES;
use super::server::ServeOptions;

/// Largest request head (hyper's read buffer; its minimum is 8 KiB).
pub(super) const MAX_HEAD_BYTES: usize = 16 * 1024;

/// What happens to a body longer than [`MAX_BODY_BYTES`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Oversized {
    /// Answered 413 (the socket API: a client is told to send less).
    Refuse,
    /// Cut: the request is handled with the first [`MAX_BODY_BYTES`] and the connection closed
    /// after the answer (the TCP listener: a cron job piping a long log still pings).
    Cut,
}

/// What the accept loop knows of a live connection.
#[derive(Debug, Default)]
pub(super) struct ConnState {
    /// [`IDLE`], [`BUSY`] (a complete request is being handled: never shed, its work is real
    /// and ends by itself) or [`SHED`] (closing to make room). Moves only by compare-and-swap,
    /// so a request cannot start on a connection being shed, nor be shed once started.
    phase: AtomicU8,
    /// Notified to close the connection now (it is the oldest idle one and a newcomer needs
    /// its place).
    pub shed: Notify,
}

const IDLE: u8 = 0;
const BUSY: u8 = 1;
const SHED: u8 = 2;

impl ConnState {
    /// Mark the connection as shed (and wake it to close) if it is idle.
    pub fn try_shed(&self) -> bool {
        let shed = self
            .phase
            .compare_exchange(IDLE, SHED, Ordering::SeqCst, Ordering::SeqCst)
            .is_ok();
        if shed {
            self.shed.notify_one();
        }
        shed
    }

    /// A complete request starts; false if the connection is being shed.
    pub fn try_begin(&self) -> bool {
        self.phase
            .compare_exchange(IDLE, BUSY, Ordering::SeqCst, Ordering::SeqCst)
            .is_ok()
    }

    /// The request is answered: the connection may be shed again.
    pub fn end(&self) {
        let _ = self
            .phase
            .compare_exchange(BUSY, IDLE, Ordering::SeqCst, Ordering::SeqCst);
    }
}

/// Everything a request on this connection needs.
struct Ctx {
    router: Router,
    options: ServeOptions,
    state: Arc<ConnState>,
    /// The peer's uid on the Unix socket (`None` over TCP: no actor, nothing mutating).
    uid: Option<u32>,
    oversized: Oversized,
    actor: OnceCell<Actor>,
    /// When the connection became ready for its current request.
    ready_at: Mutex<Instant>,
}

/// Serve `io` until the client is done, a limit ends it, it is shed, or shutdown is signalled
/// on `stop` (then the in-flight request finishes and the connection closes).
pub(super) async fn serve_conn<I>(
    io: I,
    uid: Option<u32>,
    oversized: Oversized,
    router: Router,
    options: ServeOptions,
    state: Arc<ConnState>,
    mut stop: watch::Receiver<bool>,
) where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let ctx = Arc::new(Ctx {
        router,
        options,
        state: state.clone(),
        uid,
        oversized,
        actor: OnceCell::new(),
        ready_at: Mutex::new(Instant::now()),
    });
    let service = hyper::service::service_fn(move |req: Request<Incoming>| {
        let ctx = ctx.clone();
        async move { Ok::<_, std::convert::Infallible>(ctx.handle(req).await) }
    });
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(options.request_timeout)
        // A request head longer than this is refused (431): ours are a few hundred bytes, and
        // 1,024 connections x 16 KiB bounds what half-sent heads can hold.
        .max_buf_size(MAX_HEAD_BYTES);
    let conn = builder.serve_connection(TokioIo::new(io), service);
    tokio::pin!(conn);
    let deadline = tokio::time::sleep(options.connection_timeout);
    tokio::pin!(deadline);
    let mut stopping = false;
    loop {
        tokio::select! {
            r = conn.as_mut() => {
                if let Err(e) = r {
                    tracing::debug!(message = "Connection ended with an error.", error = %e);
                }
                return;
            }
            () = &mut deadline => {
                tracing::debug!(message = "Connection closed: time limit reached.");
                return;
            }
            () = state.shed.notified() => {
                tracing::debug!(message = "Connection shed: the connection table is full.");
                return;
            }
            _ = stop.changed(), if !stopping => {
                stopping = true;
                conn.as_mut().graceful_shutdown();
            }
        }
    }
}

impl Ctx {
    async fn handle(&self, req: Request<Incoming>) -> Response {
        let deadline = self.ready_at() + self.options.request_timeout;
        let (parts, body) = req.into_parts();
        let (limit, oversized) = self.body_rule(parts.uri.path());
        if oversized == Oversized::Refuse && waits_to_send_more_than(&parts.headers, limit) {
            // Refused before the client sends a byte of it (no `100 Continue`): nothing is in
            // flight to be reset, the client reads its 413 whatever the body's size.
            return closing(too_large(limit));
        }
        let (bytes, cut) = match read_body(body, deadline, limit, oversized).await {
            Ok(b) => b,
            Err(late) if late.status == 408 => return closing(late),
            Err(refusal) => return refusal.into_response(),
        };
        if !self.state.try_begin() {
            return closing(ApiError::unavailable("too many connections: try again"));
        }
        let mut req = Request::from_parts(parts, Body::from(bytes));
        if let Some(uid) = self.uid {
            let actor = self.actor.get_or_init(|| Actor::resolve(uid)).await;
            req.extensions_mut().insert(actor.clone());
        }
        let mut router = self.router.clone();
        let mut response = match tower_service::Service::call(&mut router, req).await {
            Ok(r) => r,
            Err(never) => match never {},
        };
        if cut {
            // The rest of the body was not read: this connection cannot carry another request.
            response
                .headers_mut()
                .insert(header::CONNECTION, HeaderValue::from_static("close"));
        }
        if let Ok(mut at) = self.ready_at.lock() {
            *at = Instant::now();
        }
        self.state.end();
        response
    }

    /// The body limit of a request and what happens past it: the listener's Alertmanager
    /// route takes up to [`MAX_ALERTMANAGER_BODY_BYTES`] and refuses more (413, nothing stored:
    /// a cut notification would lose alerts); everything else follows the connection's rule.
    fn body_rule(&self, path: &str) -> (usize, Oversized) {
        if self.uid.is_none() && path.starts_with(alertmanager::PATH_PREFIX) {
            (MAX_ALERTMANAGER_BODY_BYTES, Oversized::Refuse)
        } else {
            (MAX_BODY_BYTES, self.oversized)
        }
    }

    fn ready_at(&self) -> Instant {
        self.ready_at
            .lock()
            .map_or_else(|_| Instant::now(), |at| *at)
    }
}

/// The whole body, at most [`MAX_BODY_BYTES`], by `deadline`, and whether it was cut;
/// otherwise the error to answer.
///
/// Past the limit, up to [`DRAIN_BYTES`] more are read and thrown away before answering (413,
/// or the request with its body cut): a client still writing its body would otherwise be reset
/// (unread data on close) and never see the answer. Memory stays bounded by the limit either
/// way; beyond the drain, the connection is closed after the answer.
async fn read_body(
    mut body: Incoming,
    deadline: Instant,
    limit: usize,
    oversized: Oversized,
) -> Result<(Bytes, bool), ApiError> {
    let mut total = 0usize;
    let mut kept = Vec::new();
    let read = async {
        while let Some(frame) = body.frame().await {
            let frame = frame
                .map_err(|e| ApiError::bad_request(format!("cannot read the request body: {e}")))?;
            let Ok(data) = frame.into_data() else {
                continue; // trailers
            };
            let room = limit.saturating_sub(kept.len());
            kept.extend_from_slice(&data[..data.len().min(room)]);
            total = total.saturating_add(data.len());
            if total > limit + DRAIN_BYTES {
                break;
            }
        }
        Ok(())
    };
    let outcome = tokio::time::timeout_at(deadline, read).await;
    let cut = total > limit;
    if cut && oversized == Oversized::Refuse {
        return Err(too_large(limit));
    }
    match outcome {
        Ok(Ok(())) => Ok((Bytes::from(kept), cut)),
        Ok(Err(e)) => Err(e),
        Err(_) => Err(ApiError::new(
            408,
            "the request was not received in time: send the head and body together",
        )),
    }
}

/// A request that waits for `100 Continue` before sending a body it declares longer than
/// `limit`.
fn waits_to_send_more_than(headers: &header::HeaderMap, limit: usize) -> bool {
    let expects = headers
        .get(header::EXPECT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("100-continue"));
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    expects && declared.is_some_and(|n| n > limit as u64)
}

/// How much of an over-long body is read (and dropped) so the client gets its 413.
const DRAIN_BYTES: usize = 1024 * 1024;

fn too_large(limit: usize) -> ApiError {
    ApiError::new(
        413,
        format!("request body too large: at most {limit} bytes"),
    )
}

/// An error answer after which the connection is closed (its body was not read whole).
fn closing(error: ApiError) -> Response {
    let mut r = error.into_response();
    r.headers_mut()
        .insert(header::CONNECTION, HeaderValue::from_static("close"));
    r
}
