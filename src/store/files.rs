//! The state directory and the database files are private whatever the umask (SPEC §9): the
//! directory is created 0700, the database 0600 before SQLite first opens it. SQLite creates
//! the `-wal` and `-shm` files with the database file's own mode, so they follow; existing
//! files from an older oncalld are brought to 0600 at open.
//!
//! An existing state directory keeps its mode: it may be `/var/lib/oncalld` made by a
//! package, or a directory the operator chose for other reasons; the files in it are private.

use std::fs::{DirBuilder, OpenOptions, Permissions};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use super::StoreError;

/// Mode of the state directory when oncalld creates it.
pub const DIR_MODE: u32 = 0o700;
/// Mode of the database, its WAL and its shared-memory index.
pub const FILE_MODE: u32 = 0o600;

/// Creates `dir` (and missing parents) with mode 0700; an existing directory is left as is.
pub(super) fn private_dir(dir: &Path) -> Result<(), StoreError> {
    DirBuilder::new()
        .recursive(true)
        .mode(DIR_MODE)
        .create(dir)
        .map_err(|source| StoreError::CreateDir {
            path: dir.to_path_buf(),
            source,
        })
}

/// Creates the database file 0600 if nothing is there yet, and brings it and any `-wal` /
/// `-shm` beside it to 0600. Something else in its place (a directory) is left for SQLite to
/// report.
pub(super) fn private_db(db: &Path) -> Result<(), StoreError> {
    let private = |path: PathBuf, source| StoreError::Private { path, source };
    let created = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(FILE_MODE)
        .open(db);
    match created {
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
        Err(e) => return Err(private(db.to_path_buf(), e)),
    }
    for path in [
        db.to_path_buf(),
        with_suffix(db, "-wal"),
        with_suffix(db, "-shm"),
    ] {
        let meta = match std::fs::symlink_metadata(&path) {
            Ok(meta) => meta,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => return Err(private(path, e)),
        };
        if meta.is_file() && meta.permissions().mode() & 0o777 != FILE_MODE {
            std::fs::set_permissions(&path, Permissions::from_mode(FILE_MODE))
                .map_err(|e| private(path.clone(), e))?;
        }
    }
    Ok(())
}

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut s = path.as_os_str().to_os_string();
    s.push(suffix);
    PathBuf::from(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mode(p: &Path) -> u32 {
        std::fs::metadata(p).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn new_files_are_private_and_old_ones_are_tightened() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("a/state");
        private_dir(&dir).unwrap();
        assert_eq!(mode(&dir), DIR_MODE);
        let db = dir.join("x.db");
        private_db(&db).unwrap();
        assert_eq!(mode(&db), FILE_MODE);
        let wal = with_suffix(&db, "-wal");
        std::fs::write(&wal, b"").unwrap();
        std::fs::set_permissions(&wal, Permissions::from_mode(0o644)).unwrap();
        std::fs::set_permissions(&db, Permissions::from_mode(0o644)).unwrap();
        private_db(&db).unwrap();
        assert_eq!((mode(&db), mode(&wal)), (FILE_MODE, FILE_MODE));
    }
}
