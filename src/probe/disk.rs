//! `type = "disk"`: free space on the filesystem holding `path`, as unprivileged users see it
//! (`f_bavail`, what `df` calls "Avail"), against `min_free` (percent or bytes).

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::{PerfDatum, Probe, ProbeFuture, Verdict};
use crate::config::MinFree;

pub(super) struct DiskCheck {
    path: PathBuf,
    min_free: MinFree,
}

/// Sizes of one filesystem, in bytes.
#[derive(Debug, Clone, Copy)]
struct Space {
    total: u64,
    available: u64,
}

impl DiskCheck {
    pub(super) fn new(path: &Path, min_free: MinFree) -> Self {
        DiskCheck {
            path: path.to_path_buf(),
            min_free,
        }
    }

    async fn run(&self) -> Verdict {
        let path = self.path.clone();
        // statvfs can block for long on a dead network mount: keep it off the runtime's
        // threads (run_probe's timeout still bounds the wait).
        let space = tokio::task::spawn_blocking(move || statvfs(&path)).await;
        match space {
            Ok(Ok(space)) => judge(space, self.min_free),
            Ok(Err(e)) => Verdict::unknown(format!("{}: {e}", self.path.display())),
            Err(e) => Verdict::unknown(format!("statvfs task failed: {e}")),
        }
    }
}

impl Probe for DiskCheck {
    fn check(&self, _timeout: Duration) -> ProbeFuture<'_> {
        Box::pin(self.run())
    }
}

fn statvfs(path: &Path) -> Result<Space, nix::Error> {
    let st = nix::sys::statvfs::statvfs(path)?;
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
