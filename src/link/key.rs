//! The installation's link key: 32 random bytes in `<state_dir>/link.key` (hex), created at
//! the first start with mode 0600 whatever the umask, never printed (its `Debug` is starred).
//! An existing key is kept for ever, so links already sent stay valid across restarts; a
//! damaged one stops the start with the path named, rather than silently voiding every link.

use std::fs::{OpenOptions, Permissions};
use std::io::{Read, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// File name of the key in the state directory.
pub const KEY_FILE: &str = "link.key";
const KEY_LEN: usize = 32;

/// The secret that signs action links.
#[derive(Clone, PartialEq, Eq)]
pub struct LinkKey([u8; KEY_LEN]);

impl std::fmt::Debug for LinkKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LinkKey(***)")
    }
}

/// Why the key could not be read or made.
#[derive(Debug, thiserror::Error)]
#[error("link key {path}: {message}")]
pub struct KeyError {
    pub path: PathBuf,
    pub message: String,
}

impl LinkKey {
    /// A key from known bytes (tests, and tools that sign for a test daemon).
    pub fn from_bytes(bytes: [u8; KEY_LEN]) -> Self {
        LinkKey(bytes)
    }

    pub(super) fn bytes(&self) -> &[u8] {
        &self.0
    }

    /// The key in `state_dir` (which must exist), made on first use.
    pub fn load_or_create(state_dir: &Path) -> Result<LinkKey, KeyError> {
        let path = state_dir.join(KEY_FILE);
        let err = |message: String| KeyError {
            path: path.clone(),
            message,
        };
        match std::fs::read_to_string(&path) {
            Ok(text) => {
                private(&path).map_err(|e| err(format!("cannot make it 0600: {e}")))?;
                return parse(&text).ok_or_else(|| {
                    err(
                        "not a key (64 hex digits expected); move it away to make a new one, \
                         which voids the links already sent"
                            .to_string(),
                    )
                });
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(err(format!("cannot read it: {e}"))),
        }
        let mut bytes = [0u8; KEY_LEN];
        std::fs::File::open("/dev/urandom")
            .and_then(|mut f| f.read_exact(&mut bytes))
            .map_err(|e| err(format!("cannot read /dev/urandom: {e}")))?;
        // Written whole to a temporary file, then renamed: a crash leaves no half key.
        let tmp = state_dir.join(format!("{KEY_FILE}.tmp"));
        let written = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&tmp)
            .and_then(|mut f| {
                f.set_permissions(Permissions::from_mode(0o600))?;
                f.write_all(format!("{}\n", hex::encode(bytes)).as_bytes())?;
                f.sync_all()
            })
            .and_then(|()| std::fs::rename(&tmp, &path));
        written.map_err(|e| err(format!("cannot create it: {e}")))?;
        Ok(LinkKey(bytes))
    }
}

fn parse(text: &str) -> Option<LinkKey> {
    let bytes = hex::decode(text.trim()).ok()?;
    Some(LinkKey(bytes.try_into().ok()?))
}

fn private(path: &Path) -> std::io::Result<()> {
    let mode = std::fs::metadata(path)?.permissions().mode() & 0o777;
    if mode != 0o600 {
        std::fs::set_permissions(path, Permissions::from_mode(0o600))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn created_once_private_and_kept() {
        let dir = tempfile::tempdir().unwrap();
        let old = unsafe { libc::umask(0) };
        let first = LinkKey::load_or_create(dir.path());
        unsafe { libc::umask(old) };
        let first = first.unwrap();
        let path = dir.path().join(KEY_FILE);
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        assert_eq!(LinkKey::load_or_create(dir.path()).unwrap(), first);
        assert_eq!(format!("{first:?}"), "LinkKey(***)");
        std::fs::write(&path, "nonsense").unwrap();
        let e = LinkKey::load_or_create(dir.path()).unwrap_err();
        assert!(e.to_string().contains("link.key"), "{e}");
    }
}
