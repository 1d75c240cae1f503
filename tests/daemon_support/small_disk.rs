//! A real, small tmpfs mounted on a test's state dir: the disk-full fault (needs root; CI runs
//! as root). Include it with
//! `#[path = "daemon_support/small_disk.rs"] mod small_disk;`

#![allow(dead_code)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

/// A small tmpfs mounted on a directory; unmounted (lazily) when dropped.
pub struct SmallDisk {
    dir: PathBuf,
}

impl SmallDisk {
    /// Mounted, or None where mounting is impossible (not root): the caller says it skipped.
    pub fn mount(dir: &Path, size: &str) -> Option<SmallDisk> {
        std::fs::create_dir_all(dir).unwrap();
        let ok = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size},mode=0700")])
            .arg("tmpfs")
            .arg(dir)
            .status()
            .map(|s| s.success())
            .unwrap_or(false);
        ok.then(|| SmallDisk {
            dir: dir.to_path_buf(),
        })
    }

    /// Write a filler file until the disk is full; returns the bytes written.
    pub fn fill(&self) -> u64 {
        let mut f = std::fs::File::create(self.dir.join("filler")).unwrap();
        let chunk = vec![0u8; 16 * 1024];
        let mut n = 0;
        while let Ok(w) = f.write(&chunk) {
            if w == 0 {
                break;
            }
            n += w as u64;
        }
        let _ = f.sync_all();
        n
    }

    pub fn free(&self) {
        std::fs::remove_file(self.dir.join("filler")).unwrap();
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.dir).status();
    }
}
