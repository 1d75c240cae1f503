//! The non-blocking half of logging: formatted lines go into a bounded queue and one
//! dedicated thread writes them to stderr.
//!
//! Why: a log write must never stop the daemon (SPEC §9). stderr can be a pipe nobody reads
//! (the write blocks once the pipe's 64 KiB are full), a closed pipe (`| head -1`, a logged-out
//! ssh session: EPIPE on every write), or a stalled journald. Only the writer thread ever
//! waits on it; probes, paging and the socket hand over a line with `try_send` and move on.
//! A line that cannot be queued (queue full) or written (EPIPE, EAGAIN, any error) is dropped
//! and counted; the count is `oncalld_log_lines_dropped_total` on `/metrics`.

use std::io::{self, Write};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, TrySendError, sync_channel};
use std::time::{Duration, Instant};

use tracing::Metadata;
use tracing_subscriber::fmt::MakeWriter;

/// Lines waiting for the writer thread before new ones are dropped. At ~200 bytes a line
/// this is ~800 KiB at most, and a few seconds of a debug-level burst.
pub const QUEUE_LINES: usize = 4096;

/// What the writer thread receives: a formatted event, or a request to report back once
/// everything queued before it has been handed to the output.
enum Msg {
    Line(Vec<u8>),
    Flush(SyncSender<()>),
}

/// The sending side of the queue, installed as the subscriber's writer. Cheap to clone.
#[derive(Clone)]
pub struct LogQueue {
    tx: SyncSender<Msg>,
    dropped: Arc<AtomicU64>,
}

impl LogQueue {
    /// Start the writer thread on `out` with room for `capacity` queued lines.
    pub fn spawn<W: Write + Send + 'static>(out: W, capacity: usize) -> io::Result<LogQueue> {
        let (tx, rx) = sync_channel(capacity.max(1));
        let dropped = Arc::new(AtomicU64::new(0));
        let counter = dropped.clone();
        std::thread::Builder::new()
            .name("oncalld-log".into())
            .spawn(move || write_lines(rx, out, &counter))?;
        Ok(LogQueue { tx, dropped })
    }

    /// A queue with no writer (its thread could not start): every line is dropped, counted.
    pub fn disconnected() -> LogQueue {
        let (tx, _) = sync_channel(1);
        LogQueue {
            tx,
            dropped: Arc::new(AtomicU64::new(0)),
        }
    }

    /// Lines dropped so far: queue full, or the output refused them.
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }

    /// Queue one formatted event; never blocks. A full or closed queue drops it, counted.
    fn push(&self, line: &[u8]) {
        if line.is_empty() {
            return;
        }
        if self.tx.try_send(Msg::Line(line.to_vec())).is_err() {
            self.dropped.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Wait until the lines queued so far are written, for at most `bound`. False when the
    /// bound ran out first (the output is stuck): the remaining lines are left behind.
    pub fn flush(&self, bound: Duration) -> bool {
        let deadline = Instant::now() + bound;
        let (ack_tx, ack_rx) = sync_channel(1);
        let mut msg = Msg::Flush(ack_tx);
        loop {
            match self.tx.try_send(msg) {
                Ok(()) => break,
                Err(TrySendError::Disconnected(_)) => return false,
                Err(TrySendError::Full(back)) => {
                    if Instant::now() >= deadline {
                        return false;
                    }
                    msg = back;
                    std::thread::sleep(Duration::from_millis(1));
                }
            }
        }
        let left = deadline.saturating_duration_since(Instant::now());
        ack_rx.recv_timeout(left).is_ok()
    }
}

/// The writer thread: one `write_all` per event, errors counted, never a panic. Ends when
/// every [`LogQueue`] is gone.
fn write_lines<W: Write>(rx: Receiver<Msg>, mut out: W, dropped: &AtomicU64) {
    for msg in rx {
        match msg {
            Msg::Line(bytes) => {
                if out.write_all(&bytes).is_err() {
                    dropped.fetch_add(1, Ordering::Relaxed);
                }
            }
            Msg::Flush(ack) => {
                let _ = out.flush();
                let _ = ack.send(());
            }
        }
    }
}

/// One event's writer: tracing-subscriber formats the whole event into a buffer and hands it
/// over in one `write_all`, so each `write` here is one queued message.
pub struct QueuedLine<'a>(&'a LogQueue);

impl Write for QueuedLine<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.push(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for LogQueue {
    type Writer = QueuedLine<'a>;

    fn make_writer(&'a self) -> Self::Writer {
        QueuedLine(self)
    }

    fn make_writer_for(&'a self, _meta: &Metadata<'_>) -> Self::Writer {
        QueuedLine(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;
    use std::sync::mpsc::Sender;

    /// An output that blocks every write until the test lets it go (an unread pipe).
    struct Stuck(Arc<Mutex<Receiver<()>>>);

    impl Write for Stuck {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            let _ = self.0.lock().map(|rx| rx.recv());
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    /// An output whose reader is gone: every write fails with EPIPE.
    struct Closed;

    impl Write for Closed {
        fn write(&mut self, _buf: &[u8]) -> io::Result<usize> {
            Err(io::Error::from(io::ErrorKind::BrokenPipe))
        }
        fn flush(&mut self) -> io::Result<()> {
            Err(io::Error::from(io::ErrorKind::BrokenPipe))
        }
    }

    /// Collects what was written.
    #[derive(Clone, Default)]
    struct Capture(Arc<Mutex<Vec<u8>>>);

    impl Write for Capture {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    fn log_lines(queue: &LogQueue, n: usize) -> Duration {
        let subscriber = tracing_subscriber::fmt()
            .with_ansi(false)
            .with_writer(queue.clone())
            .finish();
        let start = Instant::now();
        tracing::subscriber::with_default(subscriber, || {
            for i in 0..n {
                tracing::info!(message = "Line.", i);
            }
        });
        start.elapsed()
    }

    #[test]
    fn a_stuck_output_drops_and_counts_instead_of_blocking() {
        let (release, gate): (Sender<()>, _) = std::sync::mpsc::channel();
        let queue = LogQueue::spawn(Stuck(Arc::new(Mutex::new(gate))), 8).unwrap();
        let took = log_lines(&queue, 1000);
        println!(
            "1000 lines into a stuck output: {took:?}, dropped {}",
            queue.dropped()
        );
        assert!(took < Duration::from_secs(2), "{took:?}");
        // At most the queue plus the one line the thread is stuck on got through.
        assert!(queue.dropped() >= 1000 - 9, "{}", queue.dropped());
        let start = Instant::now();
        assert!(!queue.flush(Duration::from_millis(50)));
        assert!(start.elapsed() < Duration::from_secs(1));
        drop(release);
    }

    #[test]
    fn a_closed_output_counts_every_line_and_never_panics() {
        let queue = LogQueue::spawn(Closed, 64).unwrap();
        log_lines(&queue, 20);
        assert!(queue.flush(Duration::from_secs(5)));
        assert_eq!(queue.dropped(), 20);
    }

    #[test]
    fn a_working_output_gets_every_line_in_order() {
        let capture = Capture::default();
        let queue = LogQueue::spawn(capture.clone(), 64).unwrap();
        log_lines(&queue, 30);
        assert!(queue.flush(Duration::from_secs(5)));
        assert_eq!(queue.dropped(), 0);
        let text = String::from_utf8(capture.0.lock().unwrap().clone()).unwrap();
        let seen: Vec<&str> = text.lines().collect();
        assert_eq!(seen.len(), 30, "{text}");
        assert!(seen[0].ends_with("Line. i=0"), "{}", seen[0]);
        assert!(seen[29].ends_with("Line. i=29"), "{}", seen[29]);
    }
}
