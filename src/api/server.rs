//! Serving the router on the Unix socket (and [`super::tcp`]'s on TCP), with the limits that keep a
//! slow, idle or abusive client from starving the daemon (SPEC §9):
//!
//! - **Request deadline.** A request's head and its body must both arrive within
//!   `request_timeout` (10 s) of the connection being ready for it; otherwise it is answered
//!   408 (or simply closed while the head is incomplete). Bodies are capped at
//!   [`super::routes::MAX_BODY_BYTES`] (413 beyond, the body is not read).
//! - **Connection table.** Up to `max_connections` (1,024) connections are served at once, and
//!   a new connection is never made to wait: when the table is full, the *oldest* connection
//!   that is not running a request (idle keep-alive, half-sent head, trickled body) is closed
//!   to make room. Idle connections are cheap (a few KiB each), so the table is large; shedding
//!   the oldest means a flood of slow clients only ever pushes out other slow clients, and a
//!   real request (which completes within milliseconds) gets in. Only when every connection
//!   is running a request is a newcomer closed at once.
//! - **Connection lifetime.** A connection lives at most `connection_timeout` (120 s) in all.
//!
//! Each Unix connection's [`Actor`] comes from SO_PEERCRED; its user name is looked up off the
//! accept loop, when its first request arrives ([`super::actor`]).

use std::collections::BTreeMap;
use std::future::Future;
use std::io;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, UnixListener, UnixStream};
use tokio::sync::watch;
use tokio::task::JoinSet;

pub use super::actor::Actor;
use super::backend::Backend;
use super::conn::{ConnState, Oversized, PeerInfo, serve_conn};
pub use super::socket::{BindError, bind};
use super::{routes, tcp};

/// Connection limits; [`ServeOptions::default`] is what the daemon uses (on the socket and on
/// the TCP listener alike).
#[derive(Debug, Clone, Copy)]
pub struct ServeOptions {
    /// Size of the connection table; when full, the oldest idle connection is shed.
    pub max_connections: usize,
    /// A request's head and body must arrive within this long of the connection being ready
    /// for it (accepted, or the previous answer produced). Also bounds idle keep-alive.
    pub request_timeout: Duration,
    /// Longest life of one connection, however busy.
    pub connection_timeout: Duration,
    /// How long in-flight requests may finish after shutdown is triggered.
    pub shutdown_grace: Duration,
}

impl Default for ServeOptions {
    fn default() -> Self {
        ServeOptions {
            max_connections: 1024,
            request_timeout: Duration::from_secs(10),
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

/// The TCP listener of SPEC §10 (`daemon.listen`): [`super::tcp::router`]'s routes only
/// (`/metrics`, the heartbeat pings), never the control API, with the same limits as the
/// socket. Over-long bodies are cut rather than refused (413 on the socket).
pub async fn serve_tcp(
    listener: TcpListener,
    backend: Arc<dyn Backend>,
    shutdown: impl Future<Output = ()>,
) {
    serve_tcp_with(listener, backend, ServeOptions::default(), shutdown).await
}

/// [`serve_tcp`] with explicit limits (the same ones as the socket by default).
pub async fn serve_tcp_with(
    listener: TcpListener,
    backend: Arc<dyn Backend>,
    options: ServeOptions,
    shutdown: impl Future<Output = ()>,
) {
    accept_loop(listener, tcp::router(backend), options, shutdown).await
}

/// An accepted stream, the peer's uid (Unix socket) and its address (TCP).
type Accepted<I> = (I, Option<u32>, Option<std::net::IpAddr>);

/// What the accept loop needs from a listener: the stream and, on the Unix socket, the peer's
/// uid (a getsockopt; the name lookup happens later, off the loop).
trait Accept {
    type Io: AsyncRead + AsyncWrite + Unpin + Send + 'static;
    /// What becomes of a body over the size limit.
    const OVERSIZED: Oversized;
    fn accept_conn(&self) -> impl Future<Output = io::Result<Accepted<Self::Io>>> + Send;
}

impl Accept for UnixListener {
    type Io = UnixStream;
    const OVERSIZED: Oversized = Oversized::Refuse;
    async fn accept_conn(&self) -> io::Result<Accepted<UnixStream>> {
        let (stream, _) = self.accept().await?;
        let uid = Actor::peer_uid(&stream)?;
        Ok((stream, Some(uid), None))
    }
}

impl Accept for TcpListener {
    type Io = tokio::net::TcpStream;
    const OVERSIZED: Oversized = Oversized::Cut;
    async fn accept_conn(&self) -> io::Result<Accepted<Self::Io>> {
        let (stream, peer) = self.accept().await?;
        // Answers go out whole at once: never hold a segment back waiting for an ACK.
        let _ = stream.set_nodelay(true);
        Ok((stream, None, Some(peer.ip())))
    }
}

/// The live connections, oldest first (ids only grow).
#[derive(Default)]
struct Table {
    next: u64,
    live: BTreeMap<u64, Arc<ConnState>>,
}

impl Table {
    /// Make room for one more under `cap`: shed the oldest idle connection if the table is
    /// full. False when it is full of busy ones (the newcomer is then refused).
    fn make_room(&mut self, cap: usize) -> bool {
        if self.live.len() < cap {
            return true;
        }
        // try_shed succeeds only on an idle connection, atomically: the first one wins.
        let shed = self
            .live
            .iter()
            .find(|(_, c)| c.try_shed())
            .map(|(id, _)| *id);
        shed.and_then(|id| self.live.remove(&id)).is_some()
    }

    fn insert(&mut self, conn: Arc<ConnState>) -> u64 {
        let id = self.next;
        self.next += 1;
        self.live.insert(id, conn);
        id
    }
}

async fn accept_loop<L: Accept>(
    listener: L,
    router: Router,
    options: ServeOptions,
    shutdown: impl Future<Output = ()>,
) {
    let cap = fd_budget(options.max_connections.max(1));
    let table = Arc::new(Mutex::new(Table::default()));
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut conns = JoinSet::new();
    tokio::pin!(shutdown);
    loop {
        let accepted = tokio::select! {
            () = &mut shutdown => break,
            r = listener.accept_conn() => r,
        };
        let (io, uid, peer) = match accepted {
            Ok(a) => a,
            Err(e) => {
                // EMFILE and friends: back off a little instead of spinning.
                tracing::warn!(message = "Socket accept failed.", error = %e);
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let state = Arc::new(ConnState::default());
        let id = {
            let Ok(mut t) = table.lock() else { break };
            if !t.make_room(cap) {
                tracing::warn!(
                    message = "Connection refused: every connection is busy.",
                    cap
                );
                continue;
            }
            t.insert(state.clone())
        };
        let conn = serve_conn(
            io,
            PeerInfo { uid, addr: peer },
            L::OVERSIZED,
            router.clone(),
            options,
            state,
            stop_rx.clone(),
        );
        let table = table.clone();
        conns.spawn(async move {
            conn.await;
            if let Ok(mut t) = table.lock() {
                t.live.remove(&id);
            }
        });
        while conns.try_join_next().is_some() {}
    }
    let _ = stop_tx.send(true);
    let drain = async { while conns.join_next().await.is_some() {} };
    let _ = tokio::time::timeout(options.shutdown_grace, drain).await;
}

/// The connection cap the process's file-descriptor limit allows: the soft limit is raised
/// towards the hard one if needed (a systemd service starts at 1,024), and the cap is kept 128
/// below it so the store, probes and notifiers always have descriptors left.
fn fd_budget(wanted: usize) -> usize {
    const RESERVE: u64 = 128;
    let want = wanted as u64 + RESERVE;
    let Ok((soft, hard)) =
        nix::sys::resource::getrlimit(nix::sys::resource::Resource::RLIMIT_NOFILE)
    else {
        return wanted;
    };
    let mut soft = soft;
    if soft < want {
        let raised = want.min(hard);
        if nix::sys::resource::setrlimit(nix::sys::resource::Resource::RLIMIT_NOFILE, raised, hard)
            .is_ok()
        {
            soft = raised;
        }
    }
    let allowed = usize::try_from(soft.saturating_sub(RESERVE)).unwrap_or(wanted);
    wanted.min(allowed.max(16))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(busy: &[bool]) -> Table {
        let mut t = Table::default();
        for b in busy {
            let c = Arc::new(ConnState::default());
            if *b {
                assert!(c.try_begin());
            }
            t.insert(c);
        }
        t
    }

    #[test]
    fn room_is_made_by_shedding_the_oldest_idle_connection() {
        let mut t = table(&[true, false, false]);
        assert!(t.make_room(3));
        // #0 is busy (kept), #1 is the oldest idle one (shed), #2 stays.
        assert_eq!(t.live.keys().copied().collect::<Vec<_>>(), vec![0, 2]);
        assert!(t.make_room(3), "below the cap: nothing to do");
        assert_eq!(t.live.len(), 2);
    }

    #[test]
    fn a_table_full_of_busy_connections_refuses_the_newcomer() {
        let mut t = table(&[true, true]);
        assert!(!t.make_room(2));
        assert_eq!(t.live.len(), 2, "nobody is shed mid-request");
    }

    #[test]
    fn a_shed_connection_starts_no_request_and_a_busy_one_is_not_shed() {
        let c = ConnState::default();
        assert!(c.try_shed());
        assert!(!c.try_begin());
        let c = ConnState::default();
        assert!(c.try_begin());
        assert!(!c.try_shed());
        c.end();
        assert!(c.try_shed(), "idle again once answered");
    }

    #[test]
    fn fd_budget_keeps_descriptors_in_reserve() {
        let cap = fd_budget(1024);
        assert!((16..=1024).contains(&cap));
    }
}
