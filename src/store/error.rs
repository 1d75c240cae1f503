//! What can go wrong with the store, worded for the operator who reads it at start-up.

use std::path::PathBuf;

/// Every store failure. Start-up errors name the file so the operator knows what to fix.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot create state directory {path}: {source}")]
    CreateDir {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot make {path} private (mode 0600): {source}")]
    Private {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot open database {path}: {source}")]
    Open {
        path: PathBuf,
        source: rusqlite::Error,
    },
    #[error(
        "{path} is not an oncalld database (corrupt or some other file): {source}; \
         move it away to start with an empty store"
    )]
    NotADatabase {
        path: PathBuf,
        source: rusqlite::Error,
    },
    #[error(
        "{path} has schema version {found}, newer than this oncalld understands ({supported}); \
         run a newer oncalld or restore a backup"
    )]
    NewerSchema {
        path: PathBuf,
        found: i64,
        supported: i64,
    },
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// A row that cannot be turned back into a model value (hand-edited or corrupt database).
    #[error("corrupt row in the database: {0}")]
    Corrupt(String),
    #[error("time {0} is outside what the database can store (years 1678..2262)")]
    TimeOutOfRange(jiff::Timestamp),
    #[error("no page with key {0} in the outbox")]
    UnknownPage(String),
}

impl StoreError {
    /// Whether trying the same write again later can succeed: a full disk, an I/O error, a
    /// busy or locked database, a directory that came back read-only. A constraint violation
    /// or a corrupt row fails the same way every time.
    pub fn is_transient(&self) -> bool {
        use rusqlite::ErrorCode as C;
        match self {
            StoreError::Sqlite(rusqlite::Error::SqliteFailure(e, _)) => matches!(
                e.code,
                C::DiskFull
                    | C::SystemIoFailure
                    | C::DatabaseBusy
                    | C::DatabaseLocked
                    | C::CannotOpen
                    | C::ReadOnly
                    | C::OutOfMemory
                    | C::FileLockingProtocolFailed
            ),
            _ => false,
        }
    }
}
