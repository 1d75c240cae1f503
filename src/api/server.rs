//! Serving the router on the Unix socket (and `/metrics` on TCP), with the limits that keep a
//! slow or abusive client from starving the daemon:
//!
//! - at most `max_connections` connections are served at once; beyond that, new ones wait in
//!   the kernel's accept queue until a slot frees up;
//! - a connection must send a complete request head within `header_read_timeout` (also between
//!   keep-alive requests), so idle or half-sent connections are dropped;
//! - a connection lives at most `connection_timeout` in total;
//! - request bodies are capped at [`super::routes::MAX_BODY_BYTES`] (413 beyond).
//!
//! Each connection's [`Actor`] comes from SO_PEERCRED and is attached to every request on it.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use hyper::Request;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, UnixListener, UnixStream};
use tokio::sync::{Semaphore, watch};
use tokio::task::JoinSet;

use super::backend::Backend;
use super::routes;
pub use super::socket::{BindError, bind};

/// The Unix user behind a connection, from SO_PEERCRED: who acked, noted, silenced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub uid: u32,
    /// The user name from the password database, when there is one.
    pub name: Option<String>,
}

impl Actor {
    /// `alice (uid 1000)`, as recorded on the timeline (SPEC §4).
    pub fn label(&self) -> String {
        match &self.name {
            Some(n) => format!("{n} (uid {})", self.uid),
            None => format!("uid {}", self.uid),
        }
    }

    /// The peer's credentials as the kernel reports them (they cannot be forged by the client).
    pub fn of(stream: &UnixStream) -> io::Result<Actor> {
        let cred = stream.peer_cred()?;
        let uid = cred.uid();
        let name = nix::unistd::User::from_uid(nix::unistd::Uid::from_raw(uid))
            .ok()
            .flatten()
            .map(|u| u.name);
        Ok(Actor { uid, name })
    }
}

/// Connection limits; [`ServeOptions::default`] is what the daemon uses.
#[derive(Debug, Clone, Copy)]
pub struct ServeOptions {
    pub max_connections: usize,
    pub header_read_timeout: Duration,
    pub connection_timeout: Duration,
    /// How long in-flight requests may finish after shutdown is triggered.
    pub shutdown_grace: Duration,
}

impl Default for ServeOptions {
    fn default() -> Self {
        ServeOptions {
            max_connections: 64,
            header_read_timeout: Duration::from_secs(5),
            connection_timeout: Duration::from_secs(120),
            shutdown_grace: Duration::from_secs(5),
        }
    }
}

/// Serve every endpoint of SPEC §6 on `listener` until `shutdown` completes, then let
/// in-flight requests finish (up to `shutdown_grace`). Default limits.
pub async fn serve(
    listener: UnixListener,
    backend: Arc<dyn Backend>,
    shutdown: impl Future<Output = ()>,
) {
    serve_with(listener, backend, ServeOptions::default(), shutdown).await
}

/// [`serve`] with explicit limits.
pub async fn serve_with(
    listener: UnixListener,
    backend: Arc<dyn Backend>,
    options: ServeOptions,
    shutdown: impl Future<Output = ()>,
) {
    accept_loop(listener, routes::router(backend), options, shutdown).await
}

/// `GET /metrics` only, over TCP, for `daemon.metrics_listen` (Prometheus scrapes it).
pub async fn serve_metrics_tcp(
    addr: SocketAddr,
    backend: Arc<dyn Backend>,
    shutdown: impl Future<Output = ()>,
) -> io::Result<()> {
    let listener = TcpListener::bind(addr).await?;
    serve_metrics(listener, backend, shutdown).await;
    Ok(())
}

/// [`serve_metrics_tcp`] on a listener bound by the caller (tests bind port 0).
pub async fn serve_metrics(
    listener: TcpListener,
    backend: Arc<dyn Backend>,
    shutdown: impl Future<Output = ()>,
) {
    let router = routes::metrics_router(backend);
    accept_loop(listener, router, ServeOptions::default(), shutdown).await
}

/// What the accept loop needs from a listener: the stream and, on the Unix socket, its actor.
trait Accept {
    type Io: AsyncRead + AsyncWrite + Unpin + Send + 'static;
    fn accept_conn(&self) -> impl Future<Output = io::Result<(Self::Io, Option<Actor>)>> + Send;
}

impl Accept for UnixListener {
    type Io = UnixStream;
    async fn accept_conn(&self) -> io::Result<(UnixStream, Option<Actor>)> {
        let (stream, _) = self.accept().await?;
        let actor = Actor::of(&stream)?;
        Ok((stream, Some(actor)))
    }
}

impl Accept for TcpListener {
    type Io = tokio::net::TcpStream;
    async fn accept_conn(&self) -> io::Result<(Self::Io, Option<Actor>)> {
        let (stream, _) = self.accept().await?;
        Ok((stream, None))
    }
}

async fn accept_loop<L: Accept>(
    listener: L,
    router: Router,
    options: ServeOptions,
    shutdown: impl Future<Output = ()>,
) {
    let slots = Arc::new(Semaphore::new(options.max_connections.max(1)));
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut conns = JoinSet::new();
    tokio::pin!(shutdown);
    loop {
        let permit = tokio::select! {
            () = &mut shutdown => break,
            p = slots.clone().acquire_owned() => match p { Ok(p) => p, Err(_) => break },
        };
        let accepted = tokio::select! {
            () = &mut shutdown => break,
            r = listener.accept_conn() => r,
        };
        match accepted {
            Ok((io, actor)) => {
                let conn = serve_conn(io, actor, router.clone(), options, stop_rx.clone());
                conns.spawn(async move {
                    conn.await;
                    drop(permit);
                });
            }
            Err(e) => {
                // EMFILE and friends: back off a little instead of spinning.
                tracing::warn!(message = "Socket accept failed.", error = %e);
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
        while conns.try_join_next().is_some() {}
    }
    let _ = stop_tx.send(true);
    let drain = async { while conns.join_next().await.is_some() {} };
    let _ = tokio::time::timeout(options.shutdown_grace, drain).await;
}

async fn serve_conn<I>(
    io: I,
    actor: Option<Actor>,
    router: Router,
    options: ServeOptions,
    mut stop: watch::Receiver<bool>,
) where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let service = hyper::service::service_fn(move |mut req: Request<Incoming>| {
        if let Some(a) = &actor {
            req.extensions_mut().insert(a.clone());
        }
        let mut router = router.clone();
        async move { tower_service::Service::call(&mut router, req).await }
    });
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(options.header_read_timeout)
        .max_buf_size(128 * 1024);
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
            _ = stop.changed(), if !stopping => {
                stopping = true;
                conn.as_mut().graceful_shutdown();
            }
        }
    }
}
