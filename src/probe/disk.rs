//! `type = "disk"`: free space on the filesystem holding `path`, as unprivileged users see it
//! (`f_bavail`, what `df` calls "Avail"), against `min_free` (percent or bytes).
//!
//! `statvfs` on a dead network mount (hung NFS) blocks in the kernel, uninterruptibly, for as
//! long as the server is gone. So each call runs on a thread of its own (not tokio's blocking
//! pool, whose threads a shutdown would wait for), the probe stops waiting after its
//! `timeout`, and while a call on that path is still hanging no new one starts: the next
//! probes answer CRITICAL at once, as a timeout does. The set of hanging paths is shared by
//! every disk check and survives reloads ([`InFlightPaths`], held by `Probes`), so a path
//! holds at most one thread whatever the interval, and other probes are never starved.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::{PerfDatum, Probe, ProbeFuture, Verdict, timed_out};
use crate::config::MinFree;

/// How the probe reads a filesystem's sizes: `statvfs`, or a stand-in in tests.
type StatFn = dyn Fn(&Path) -> Result<Space, String> + Send + Sync;

pub(super) struct DiskCheck {
    path: PathBuf,
    min_free: MinFree,
    stat: Arc<StatFn>,
    in_flight: Arc<InFlightPaths>,
}

/// Paths whose stat call has not returned yet.
#[derive(Default)]
pub(super) struct InFlightPaths(Mutex<HashSet<PathBuf>>);

impl InFlightPaths {
    fn set(&self) -> std::sync::MutexGuard<'_, HashSet<PathBuf>> {
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Take the slot of `path`, unless a call on it is still running.
    fn claim(self: &Arc<Self>, path: &Path) -> Option<Slot> {
        self.set().insert(path.to_path_buf()).then(|| Slot {
            paths: self.clone(),
            path: path.to_path_buf(),
        })
    }

    #[cfg(test)]
    fn busy(&self, path: &Path) -> bool {
        self.set().contains(path)
    }
}

/// One path's single in-flight slot; freed when dropped (when the call returns, or when its
/// thread could not start).
struct Slot {
    paths: Arc<InFlightPaths>,
    path: PathBuf,
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.paths.set().remove(&self.path);
    }
}

/// Sizes of one filesystem, in bytes.
#[derive(Debug, Clone, Copy)]
struct Space {
    total: u64,
    available: u64,
}

impl DiskCheck {
    pub(super) fn new(path: &Path, min_free: MinFree, in_flight: Arc<InFlightPaths>) -> Self {
        DiskCheck::with_stat(path, min_free, in_flight, Arc::new(statvfs))
    }

    fn with_stat(
        path: &Path,
        min_free: MinFree,
        in_flight: Arc<InFlightPaths>,
        stat: Arc<StatFn>,
    ) -> Self {
        DiskCheck {
            path: path.to_path_buf(),
            min_free,
            stat,
            in_flight,
        }
    }

    async fn run(&self, timeout: Duration) -> Verdict {
        let shown = self.path.display();
        let Some(slot) = self.in_flight.claim(&self.path) else {
            return Verdict::critical(format!(
                "{} (statvfs {shown} of an earlier probe still running)",
                timed_out(timeout)
            ));
        };
        let (tx, rx) = tokio::sync::oneshot::channel();
        let (stat, path) = (self.stat.clone(), self.path.clone());
        let spawned = std::thread::Builder::new()
            .name("oncalld-statvfs".into())
            .spawn(move || {
                let result = stat(&path);
                // Free the slot before answering, so the next probe never finds it taken.
                drop(slot);
                let _ = tx.send(result);
            });
        if let Err(e) = spawned {
            return Verdict::unknown(format!("cannot start statvfs {shown}: {e}"));
        }
        match tokio::time::timeout(timeout, rx).await {
            Ok(Ok(Ok(space))) => judge(space, self.min_free),
            Ok(Ok(Err(e))) => Verdict::unknown(format!("{shown}: {e}")),
            Ok(Err(_)) => Verdict::unknown(format!("statvfs {shown} ended without an answer")),
            Err(_) => Verdict::critical(format!("{} (statvfs {shown})", timed_out(timeout))),
        }
    }
}

impl Probe for DiskCheck {
    fn check(&self, timeout: Duration) -> ProbeFuture<'_> {
        Box::pin(self.run(timeout))
    }
}

fn statvfs(path: &Path) -> Result<Space, String> {
    let st = nix::sys::statvfs::statvfs(path).map_err(|e| e.to_string())?;
    let frsize = st.fragment_size() as u64;
    Ok(Space {
        total: (st.blocks() as u64).saturating_mul(frsize),
        available: (st.blocks_available() as u64).saturating_mul(frsize),
    })
}

fn judge(space: Space, min_free: MinFree) -> Verdict {
    let percent = if space.total == 0 {
        0.0
    } else {
        space.available as f64 * 100.0 / space.total as f64
    };
    let (ok, limit) = match min_free {
        MinFree::Percent(p) => (percent >= p, format!("{p}%")),
        MinFree::Bytes(b) => (space.available >= b, bytes(b)),
    };
    let mut message = format!(
        "{percent:.1}% free ({} of {})",
        bytes(space.available),
        bytes(space.total)
    );
    let crit = match min_free {
        MinFree::Percent(p) => (p / 100.0 * space.total as f64) as u64,
        MinFree::Bytes(b) => b,
    };
    let perf = vec![PerfDatum {
        crit: Some(format!("{crit}:")),
        min: Some(0.0),
        max: Some(space.total as f64),
        ..PerfDatum::new("free", space.available as f64, "B")
    }];
    if !ok {
        message.push_str(&format!(" < {limit}"));
        return Verdict::critical(message).with_perfdata(perf);
    }
    Verdict::ok(message).with_perfdata(perf)
}

/// "45.1 GiB", "192 GiB", "512 B": binary units, three significant digits.
fn bytes(n: u64) -> String {
    const UNITS: [&str; 7] = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];
    let mut v = n as f64;
    let mut unit = 0;
    while v >= 1024.0 && unit + 1 < UNITS.len() {
        v /= 1024.0;
        unit += 1;
    }
    if unit == 0 || v >= 100.0 {
        format!("{v:.0} {}", UNITS[unit])
    } else {
        format!("{v:.1} {}", UNITS[unit])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::probe::Status;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Instant;

    /// A stat that hangs until `release` is dropped (a dead NFS server coming back), counting
    /// its calls.
    fn hanging_stat() -> (Arc<StatFn>, Arc<AtomicUsize>, std::sync::mpsc::Sender<()>) {
        let calls = Arc::new(AtomicUsize::new(0));
        let (release, gate) = std::sync::mpsc::channel::<()>();
        let gate = Mutex::new(gate);
        let counted = calls.clone();
        let stat = move |_: &Path| {
            counted.fetch_add(1, Ordering::SeqCst);
            let _ = gate.lock().map(|rx| rx.recv());
            Ok(Space {
                total: 100,
                available: 50,
            })
        };
        (Arc::new(stat), calls, release)
    }

    #[tokio::test]
    async fn a_hung_statvfs_times_out_and_never_runs_twice_at_once() {
        let (stat, calls, release) = hanging_stat();
        let paths = Arc::new(InFlightPaths::default());
        let dead = Path::new("/mnt/dead");
        let check = DiskCheck::with_stat(dead, MinFree::Percent(10.0), paths.clone(), stat);
        // Another check on the same path (or the same check rebuilt by a reload).
        let (other_stat, other_calls, _) = hanging_stat();
        let other = DiskCheck::with_stat(dead, MinFree::Bytes(1), paths.clone(), other_stat);
        let timeout = Duration::from_millis(100);

        let start = Instant::now();
        let v = check.check(timeout).await;
        let took = start.elapsed();
        assert_eq!(v.status, Status::Critical);
        assert_eq!(v.message, "timed out after 100ms (statvfs /mnt/dead)");
        assert!(took >= timeout && took < Duration::from_secs(2), "{took:?}");

        // Later probes while the first call still hangs: no new call, an answer at once.
        for probe in [&check, &other, &check, &other] {
            let start = Instant::now();
            let v = probe.check(timeout).await;
            assert!(start.elapsed() < timeout, "{:?}", start.elapsed());
            assert_eq!(v.status, Status::Critical);
            assert!(v.message.contains("still running"), "{}", v.message);
        }
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        assert_eq!(other_calls.load(Ordering::SeqCst), 0);

        // The mount comes back: the hung call returns, frees the slot, the next probe runs.
        drop(release);
        let deadline = Instant::now() + Duration::from_secs(5);
        while paths.busy(dead) {
            assert!(Instant::now() < deadline, "the slot was never freed");
            tokio::task::yield_now().await;
        }
        let v = check.check(timeout).await;
        assert_eq!(v.status, Status::Ok, "{}", v.message);
        assert_eq!(calls.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn a_failing_statvfs_is_unknown_and_frees_the_slot() {
        let stat: Arc<StatFn> = Arc::new(|_: &Path| Err("ENOENT: No such file".to_string()));
        let paths = Arc::new(InFlightPaths::default());
        let check = DiskCheck::with_stat(Path::new("/nope"), MinFree::Percent(10.0), paths, stat);
        for _ in 0..2 {
            let v = check.check(Duration::from_secs(5)).await;
            assert_eq!(v.status, Status::Unknown);
            assert_eq!(v.message, "/nope: ENOENT: No such file");
        }
    }

    #[test]
    fn formats_sizes() {
        assert_eq!(bytes(512), "512 B");
        assert_eq!(bytes(45_100_000_000 / 1000 * 1000), "42.0 GiB");
        assert_eq!(bytes(192 * 1024 * 1024 * 1024), "192 GiB");
        assert_eq!(bytes(1536), "1.5 KiB");
    }

    #[test]
    fn judges_against_percent_and_bytes() {
        let gib = 1024 * 1024 * 1024;
        let space = Space {
            total: 192 * gib,
            available: 45 * gib,
        };
        let v = judge(space, MinFree::Percent(20.0));
        assert_eq!(v.status, super::super::Status::Ok);
        assert_eq!(v.message, "23.4% free (45.0 GiB of 192 GiB)");
        let v = judge(space, MinFree::Percent(50.0));
        assert_eq!(v.status, super::super::Status::Critical);
        assert_eq!(v.message, "23.4% free (45.0 GiB of 192 GiB) < 50%");
        let v = judge(space, MinFree::Bytes(50 * gib));
        assert_eq!(v.status, super::super::Status::Critical);
        let empty = Space {
            total: 0,
            available: 0,
        };
        assert_eq!(
            judge(empty, MinFree::Percent(0.0)).status,
            super::super::Status::Ok
        );
    }
}
