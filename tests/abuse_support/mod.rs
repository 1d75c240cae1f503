//! A crowd of slow clients for tests/api_abuse.rs: tricklers that send one header byte per
//! second and never finish their head, and slow-body clients that send a head announcing
//! 60,000 bytes, then one byte, then nothing. Each reconnects when the daemon closes it (as a
//! real attacker would), and each slow-body client records how long its stalled request lived.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::UnixStream;
use tokio::sync::watch;

/// Raise this process's soft open-file limit (the daemon it spawns inherits it).
pub fn raise_fd_limit(want: u64) {
    use nix::sys::resource::{Resource, getrlimit, setrlimit};
    if let Ok((soft, hard)) = getrlimit(Resource::RLIMIT_NOFILE) {
        if soft < want {
            let _ = setrlimit(Resource::RLIMIT_NOFILE, want.min(hard), hard);
        }
    }
}

pub struct Crowd {
    rt: tokio::runtime::Runtime,
    stop: watch::Sender<bool>,
    connected: Arc<AtomicUsize>,
    closes: Arc<Mutex<Vec<Duration>>>,
}

impl Crowd {
    pub fn start(socket: &Path, tricklers: usize, slow_bodies: usize) -> Crowd {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let (stop, stopped) = watch::channel(false);
        let connected = Arc::new(AtomicUsize::new(0));
        let closes = Arc::new(Mutex::new(Vec::new()));
        for _ in 0..tricklers {
            let (p, rx, c) = (socket.to_path_buf(), stopped.clone(), connected.clone());
            rt.spawn(trickle(p, rx, c));
        }
        for _ in 0..slow_bodies {
            let (p, rx, c) = (socket.to_path_buf(), stopped.clone(), connected.clone());
            rt.spawn(slow_body(p, rx, c, closes.clone()));
        }
        Crowd {
            rt,
            stop,
            connected,
            closes,
        }
    }

    /// Wait until `n` clients have connected at least once.
    pub fn wait_connected(&self, n: usize, limit: Duration) {
        let deadline = Instant::now() + limit;
        while self.connected.load(Ordering::SeqCst) < n {
            assert!(
                Instant::now() < deadline,
                "only {} of {n} clients connected",
                self.connected.load(Ordering::SeqCst)
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Stop every client; how long each stalled body lived before the daemon closed it,
    /// sorted.
    pub fn stop(self) -> Vec<Duration> {
        let _ = self.stop.send(true);
        self.rt.shutdown_timeout(Duration::from_secs(2));
        let mut closes = self.closes.lock().unwrap().clone();
        closes.sort();
        closes
    }
}

async fn connect(socket: &Path, stop: &watch::Receiver<bool>) -> Option<UnixStream> {
    while !*stop.borrow() {
        match UnixStream::connect(socket).await {
            Ok(s) => return Some(s),
            // A full accept backlog: try again shortly.
            Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
        }
    }
    None
}

async fn trickle(socket: PathBuf, mut stop: watch::Receiver<bool>, connected: Arc<AtomicUsize>) {
    let mut first = true;
    while let Some(mut s) = connect(&socket, &stop).await {
        if std::mem::take(&mut first) {
            connected.fetch_add(1, Ordering::SeqCst);
        }
        let head = b"GET /v1/status HTTP/1.1\r\nX-Pad: ";
        let mut sent = 0usize;
        loop {
            let byte = head.get(sent).copied().unwrap_or(b'a');
            if s.write_all(&[byte]).await.is_err() {
                break;
            }
            sent += 1;
            tokio::select! {
                _ = stop.changed() => return,
                () = tokio::time::sleep(Duration::from_secs(1)) => {}
            }
        }
    }
}

async fn slow_body(
    socket: PathBuf,
    mut stop: watch::Receiver<bool>,
    connected: Arc<AtomicUsize>,
    closes: Arc<Mutex<Vec<Duration>>>,
) {
    let mut first = true;
    while let Some(mut s) = connect(&socket, &stop).await {
        if std::mem::take(&mut first) {
            connected.fetch_add(1, Ordering::SeqCst);
        }
        let head = "POST /v1/silences HTTP/1.1\r\nHost: localhost\r\n\
                    Content-Type: application/json\r\nContent-Length: 60000\r\n\r\n{";
        if s.write_all(head.as_bytes()).await.is_err() {
            continue;
        }
        let sent = Instant::now();
        let mut sink = Vec::new();
        tokio::select! {
            _ = stop.changed() => return,
            _ = s.read_to_end(&mut sink) => {
                closes.lock().unwrap().push(sent.elapsed());
            }
        }
    }
}
