//! The non-blocking half of logging: formatted lines go into a bounded queue and one
//! dedicated thread writes them to stderr.
//!
//! Why: a log write must never stop the daemon (SPEC §9). stderr can be a pipe nobody reads
//! (the write blocks once the pipe's 64 KiB are full), a closed pipe (`| head -1`, a logged-out
//! ssh session: EPIPE on every write), or a stalled journald. Only the writer thread ever
//! waits on it; probes, paging and the socket hand over a line and move on. The queue is
//! bounded by the bytes it holds ([`QUEUE_BYTES`]), not by a line count, so a burst of long
//! lines (4 KiB plugin output) cannot grow it past its budget. A line that cannot be queued
//! (budget spent) or written (EPIPE, EAGAIN, any error) is dropped and counted; the count is
//! `oncalld_log_lines_dropped_total` on `/metrics`.

use std::io::{self, Write};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc::{Receiver, Sender, channel};
use std::time::Duration;

use tracing::Metadata;
use tracing_subscriber::fmt::MakeWriter;

/// Bytes of lines waiting for the writer thread before new ones are dropped: about a
/// thousand ordinary lines, a few seconds of a burst.
pub const QUEUE_BYTES: usize = 256 * 1024;

/// What a queued line costs beyond its bytes (its allocation and message), so that a flood
/// of tiny lines is bounded too.
const LINE_OVERHEAD: usize = 64;

/// What the writer thread receives: a formatted event, or a request to report back once
/// everything queued before it has been handed to the output.
enum Msg {
    Line(Vec<u8>),
    Flush(Sender<()>),
}

/// The sending side of the queue, installed as the subscriber's writer. Cheap to clone.
#[derive(Clone)]
pub struct LogQueue {
    tx: Sender<Msg>,
    counters: Arc<Counters>,
}

/// Shared by the queue's senders and its writer thread.
#[derive(Default)]
struct Counters {
    /// Lines dropped: budget spent, or the output refused them.
    dropped: AtomicU64,
    /// Bytes queued and not yet written, with [`LINE_OVERHEAD`] per line.
    queued: AtomicUsize,
    budget: usize,
}

impl LogQueue {
    /// Start the writer thread on `out`, holding at most `budget` bytes of queued lines.
    pub fn spawn<W: Write + Send + 'static>(out: W, budget: usize) -> io::Result<LogQueue> {
        let (tx, rx) = channel();
        let counters = Arc::new(Counters {
            budget,
            ..Counters::default()
        });
        let shared = counters.clone();
        std::thread::Builder::new()
            .name("oncalld-log".into())
            .spawn(move || write_lines(rx, out, &shared))?;
        Ok(LogQueue { tx, counters })
    }

    /// A queue with no writer (its thread could not start): every line is dropped, counted.
    pub fn disconnected() -> LogQueue {
        let (tx, _) = channel();
        LogQueue {
            tx,
            counters: Arc::default(),
        }
    }

    /// Lines dropped so far: budget spent, or the output refused them.
    pub fn dropped(&self) -> u64 {
        self.counters.dropped.load(Ordering::Relaxed)
    }

    /// Queue one formatted event; never blocks. Over budget or without a writer, the line is
    /// dropped and counted.
    fn push(&self, line: &[u8]) {
        if line.is_empty() {
            return;
        }
        let c = &self.counters;
        let cost = line.len() + LINE_OVERHEAD;
        let before = c.queued.fetch_add(cost, Ordering::AcqRel);
        if before + cost > c.budget || self.tx.send(Msg::Line(line.to_vec())).is_err() {
            c.queued.fetch_sub(cost, Ordering::AcqRel);
            c.dropped.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Wait until the lines queued so far are written, for at most `bound`. False when the
    /// bound ran out first (the output is stuck): the remaining lines are left behind.
    pub fn flush(&self, bound: Duration) -> bool {
        let (ack_tx, ack_rx) = channel();
        self.tx.send(Msg::Flush(ack_tx)).is_ok() && ack_rx.recv_timeout(bound).is_ok()
    }
}

/// The writer thread: one `write_all` per event, errors counted, never a panic. Ends when
/// every [`LogQueue`] is gone.
fn write_lines<W: Write>(rx: Receiver<Msg>, mut out: W, counters: &Counters) {
    for msg in rx {
        match msg {
            Msg::Line(bytes) => {
                if out.write_all(&bytes).is_err() {
                    counters.dropped.fetch_add(1, Ordering::Relaxed);
                }
                let cost = bytes.len() + LINE_OVERHEAD;
                counters.queued.fetch_sub(cost, Ordering::AcqRel);
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
    use std::time::Instant;

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
        let queue = LogQueue::spawn(Stuck(Arc::new(Mutex::new(gate))), 1024).unwrap();
        let took = log_lines(&queue, 1000);
        println!(
            "1000 lines into a stuck output: {took:?}, dropped {}",
            queue.dropped()
        );
        assert!(took < Duration::from_secs(2), "{took:?}");
        // About 1 KiB of ~140-byte lines fits, plus the one the thread is stuck on.
        assert!(queue.dropped() >= 1000 - 10, "{}", queue.dropped());
        let start = Instant::now();
        assert!(!queue.flush(Duration::from_millis(50)));
        assert!(start.elapsed() < Duration::from_secs(1));
        drop(release);
    }

    #[test]
    fn a_closed_output_counts_every_line_and_never_panics() {
        let queue = LogQueue::spawn(Closed, 64 * 1024).unwrap();
        log_lines(&queue, 20);
        assert!(queue.flush(Duration::from_secs(5)));
        assert_eq!(queue.dropped(), 20);
    }

    #[test]
    fn a_working_output_gets_every_line_in_order() {
        let capture = Capture::default();
        let queue = LogQueue::spawn(capture.clone(), 64 * 1024).unwrap();
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
