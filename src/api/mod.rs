//! HTTP/1.1 + JSON over the daemon's Unix socket (SPEC §6): the server, its client for the
//! CLI, and the shapes both speak.
//!
//! - [`backend`]: the [`Backend`] trait the daemon implements, one method per endpoint.
//! - [`types`]: the JSON shapes (docs/API.md shows each with a curl example).
//! - [`server`] / [`routes`]: binding the socket, the connection table and request deadline
//!   (SPEC §9), and the axum router that validates requests before calling the backend.
//! - [`tcp`]: the TCP listener's router (SPEC §10): `/metrics` and the heartbeat pings.
//! - [`link_page`] / [`rate`]: the action links' page (SPEC §13) and its per-address limit.
//! - [`limits`]: what a request may ask the daemon to keep (silences, text lengths).
//! - [`actor`]: the peer's uid from SO_PEERCRED, its user name looked up off the accept loop.
//! - [`client`]: a small HTTP/1.1 client over the socket for the CLI.

pub mod actor;
pub mod alertmanager;
pub mod backend;
pub mod client;
mod conn;
pub mod limits;
pub mod link_page;
pub mod parse;
pub mod rate;
pub mod routes;
pub mod server;
pub mod socket;
pub mod tcp;
pub mod types;

pub use backend::{ApiError, ApiResult, Backend, BoxFuture, IncidentFilter, ReloadOutcome};
pub use client::{Client, ClientError};
pub use server::{
    Actor, BindError, ServeOptions, bind, serve, serve_tcp, serve_tcp_with, serve_with,
};

use std::path::PathBuf;

/// The file name of the socket inside its runtime directory.
const SOCKET_NAME: &str = "oncalld.sock";

/// Where the daemon puts its socket when the config names none (SPEC §3):
/// `$RUNTIME_DIRECTORY/oncalld.sock` (systemd's `RuntimeDirectory=`), else
/// `/run/oncalld/oncalld.sock` as root, else `$XDG_RUNTIME_DIR/oncalld.sock`, else
/// `/tmp/oncalld-$UID/oncalld.sock`. The client falls back to the same path so both agree.
pub fn default_socket_path() -> PathBuf {
    let env = |k: &str| std::env::var_os(k).filter(|v| !v.is_empty());
    if let Some(dir) = env("RUNTIME_DIRECTORY") {
        // systemd may list several directories separated by ':'; the first is ours.
        let first = dir
            .to_string_lossy()
            .split(':')
            .next()
            .unwrap_or("")
            .to_owned();
        if !first.is_empty() {
            return PathBuf::from(first).join(SOCKET_NAME);
        }
    }
    let uid = nix::unistd::geteuid();
    if uid.is_root() {
        return PathBuf::from(SYSTEM_SOCKET);
    }
    if let Some(dir) = env("XDG_RUNTIME_DIR") {
        return PathBuf::from(dir).join(SOCKET_NAME);
    }
    PathBuf::from(format!("/tmp/oncalld-{uid}")).join(SOCKET_NAME)
}

/// The system daemon's socket (systemd unit, or a daemon started as root).
pub const SYSTEM_SOCKET: &str = "/run/oncalld/oncalld.sock";

/// The socket a client command talks to: `--socket`, then `$ONCALLD_SOCKET`, then
/// [`default_socket_path`]. An operator who is not root would otherwise look in their own
/// `$XDG_RUNTIME_DIR`; when nothing is there but the system daemon's socket exists, that is the
/// one they mean.
pub fn socket_path(cli: Option<PathBuf>) -> PathBuf {
    if let Some(p) = cli {
        return p;
    }
    match std::env::var_os("ONCALLD_SOCKET") {
        Some(p) if !p.is_empty() => PathBuf::from(p),
        _ => {
            let own = default_socket_path();
            let system = PathBuf::from(SYSTEM_SOCKET);
            if !own.exists() && system.exists() {
                system
            } else {
                own
            }
        }
    }
}
