//! The socket API (and the optional TCP listener, `daemon.listen`) as the daemon runs them.

use std::path::PathBuf;
use std::sync::Arc;

use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::api::{self, backend::Backend};
use crate::config::Config;
use crate::daemon::runtime::StartError;

/// The running listeners; [`ApiHandle::stop`] closes them and removes the socket file.
pub struct ApiHandle {
    pub socket: PathBuf,
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
}

/// Bind the socket (and `listen`), then serve in the background. The socket accepts
/// connections when this returns.
pub async fn start_api(
    config: &Config,
    backend: Arc<dyn Backend>,
) -> Result<ApiHandle, StartError> {
    let socket = config
        .daemon
        .socket
        .clone()
        .unwrap_or_else(api::default_socket_path);
    let listener = api::socket::bind(
        &socket,
        config.daemon.socket_mode,
        config.daemon.socket_group.as_deref(),
    )
    .map_err(|e| StartError::Socket {
        path: socket.clone(),
        message: e.to_string(),
    })?;
    let (stop, stopped) = watch::channel(false);
    let mut tasks = Vec::new();
    let until = |mut rx: watch::Receiver<bool>| async move {
        let _ = rx.wait_for(|s| *s).await;
    };
    if let Some(addr) = config.daemon.listen {
        let tcp = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|e| StartError::Metrics {
                addr: addr.to_string(),
                message: e.to_string(),
            })?;
        let b = backend.clone();
        let rx = stopped.clone();
        tasks.push(tokio::spawn(async move {
            api::server::serve_tcp(tcp, b, until(rx)).await
        }));
    }
    tasks.push(tokio::spawn(api::server::serve(
        listener,
        backend,
        until(stopped),
    )));
    Ok(ApiHandle {
        socket,
        stop,
        tasks,
    })
}

impl ApiHandle {
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        for t in self.tasks {
            let _ = tokio::time::timeout(std::time::Duration::from_secs(3), t).await;
        }
        let _ = std::fs::remove_file(&self.socket);
    }
}
