//! Opening the database: migrations, and every way the file can be wrong.

mod store_support;

use std::process::Command;

use oncalld::store::{DB_FILE, Store, StoreError, schema::SCHEMA_VERSION};
use store_support::*;

fn user_version(path: &std::path::Path) -> i64 {
    let conn = rusqlite::Connection::open(path).unwrap();
    conn.query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap()
}

#[test]
fn migrations_run_once_and_set_user_version() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join(DB_FILE);
    {
        let mut store = open(&dir);
        store.commit(&trigger_batch(1, "website", 0)).unwrap();
    }
    const { assert!(SCHEMA_VERSION >= 1) };
    assert_eq!(user_version(&db), SCHEMA_VERSION);
    // A second open must not re-run migration 1 (it would fail on CREATE TABLE or wipe data).
    let store = open(&dir);
    assert_eq!(user_version(&db), SCHEMA_VERSION);
    assert_eq!(store.open_incidents().unwrap().len(), 1);
    let conn = rusqlite::Connection::open(&db).unwrap();
    let mode: String = conn
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
}

/// The daemon moves its store into the engine task.
#[test]
fn store_is_send() {
    fn send<T: Send>() {}
    send::<Store>();
}

#[test]
fn creates_missing_state_dir() {
    let dir = tempfile::tempdir().unwrap();
    let nested = dir.path().join("a/b/state");
    Store::open(&nested).unwrap();
    assert!(nested.join(DB_FILE).is_file());
}

#[test]
fn newer_schema_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    // Written by a "future" oncalld, in the default rollback-journal mode.
    let db = dir.path().join(DB_FILE);
    let conn = rusqlite::Connection::open(&db).unwrap();
    conn.execute_batch("CREATE TABLE future (x)").unwrap();
    conn.pragma_update(None, "user_version", SCHEMA_VERSION + 1)
        .unwrap();
    drop(conn);
    let err = Store::open(dir.path())
        .err()
        .expect("a newer schema must be refused");
    assert!(
        matches!(err, StoreError::NewerSchema { found, .. } if found == SCHEMA_VERSION + 1),
        "{err:?}"
    );
    let msg = err.to_string();
    assert!(msg.contains("newer") && msg.contains(DB_FILE), "{msg}");
    // Refusing must not have touched it: still version N+1, and not switched to WAL.
    assert_eq!(user_version(&db), SCHEMA_VERSION + 1);
    let conn = rusqlite::Connection::open(&db).unwrap();
    let mode: String = conn
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_eq!(
        mode, "delete",
        "a refused database must not be switched to WAL"
    );
}

#[test]
fn garbage_file_is_a_clear_error() {
    for garbage in [
        &b"this is not a database at all, just some text\n"[..],
        &[0xAB; 8192][..],
    ] {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(DB_FILE), garbage).unwrap();
        let err = Store::open(dir.path())
            .err()
            .expect("garbage must be refused");
        assert!(matches!(err, StoreError::NotADatabase { .. }), "{err:?}");
        assert!(err.to_string().contains(DB_FILE), "{err}");
    }
}

#[test]
fn state_dir_under_a_regular_file_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("plain-file");
    std::fs::write(&file, "x").unwrap();
    let err = Store::open(&file.join("state")).err().expect("must fail");
    assert!(matches!(err, StoreError::CreateDir { .. }), "{err:?}");
    assert!(err.to_string().contains("plain-file"), "{err}");
    // The state dir itself being a regular file fails the same way.
    let err = Store::open(&file).err().expect("must fail");
    assert!(matches!(err, StoreError::CreateDir { .. }), "{err:?}");
}

#[test]
fn database_path_being_a_directory_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join(DB_FILE)).unwrap();
    let err = Store::open(dir.path()).err().expect("must fail");
    assert!(matches!(err, StoreError::Open { .. }), "{err:?}");
    assert!(err.to_string().contains(DB_FILE), "{err}");
}

fn sqlite3(db: &std::path::Path, sql: &str) -> String {
    let bin = ["/usr/bin/sqlite3", "sqlite3"]
        .into_iter()
        .find(|b| Command::new(b).arg("-version").output().is_ok())
        .expect("the sqlite3 command is needed (.ci/setup installs it)");
    let out = Command::new(bin).arg(db).arg(sql).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn sqlite3_command_reads_the_tables_while_the_store_is_open() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open(&dir);
    store.commit(&trigger_batch(1, "website", 0)).unwrap();
    store.commit(&trigger_batch(2, "db", 60)).unwrap();
    let db = dir.path().join(DB_FILE);
    assert_eq!(sqlite3(&db, "select count(*) from incidents").trim(), "2");
    assert_eq!(
        sqlite3(&db, "select count(*) from outbox where status='pending'").trim(),
        "4"
    );
    let row = sqlite3(
        &db,
        "select id, check_name, state, opened from v_incidents where id = 1",
    );
    assert_eq!(row.trim(), "1|website|triggered|2026-03-01T10:00:00.123Z");
    let timeline = sqlite3(&db, "select what from v_timeline where incident = 2");
    assert_eq!(timeline.trim(), "triggered");
    // The store keeps working after the outside reader.
    store.commit(&trigger_batch(3, "dns", 120)).unwrap();
    assert_eq!(sqlite3(&db, "select max(id) from incidents").trim(), "3");
}

/// Migration 5 rewrites the heartbeats table (its CHECKs as comparisons, cheaper per ping):
/// the rows of a version-4 database survive, and the rules still hold.
#[test]
fn heartbeat_rows_survive_migration_5() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join(DB_FILE);
    drop(open(&dir));
    // Back to the old heartbeats table, as a 4-migration build left it, with one row.
    let conn = rusqlite::Connection::open(&db).unwrap();
    conn.execute_batch(
        "DROP TABLE heartbeats;
         CREATE TABLE heartbeats (
            check_name      TEXT    PRIMARY KEY,
            state           TEXT    NOT NULL CHECK (state IN ('NEW', 'UP', 'DOWN')),
            last_ping_at    INTEGER,
            last_kind       TEXT    CHECK (last_kind IN ('success', 'start', 'fail', 'log')),
            last_exit_code  INTEGER,
            last_message    TEXT    NOT NULL DEFAULT '',
            last_success_at INTEGER,
            started_at      INTEGER
         ) WITHOUT ROWID;
         INSERT INTO heartbeats VALUES ('backup', 'DOWN', 1000000000, 'fail', 3, 'disk full',
            500000000, NULL);
         PRAGMA user_version = 4;",
    )
    .unwrap();
    drop(conn);
    let store = open(&dir);
    assert_eq!(user_version(&db), SCHEMA_VERSION);
    let rows = store.heartbeats().unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].check, "backup");
    assert_eq!(rows[0].state, oncalld::core::heartbeat::HbState::Down);
    let last = rows[0].last_ping.as_ref().expect("the last ping is kept");
    assert_eq!(last.message, "disk full");
    assert_eq!(
        last.kind,
        oncalld::api::types::PingKind::Fail { exit_code: Some(3) }
    );
    let conn = rusqlite::Connection::open(&db).unwrap();
    let bad = conn.execute(
        "INSERT INTO heartbeats (check_name, state) VALUES ('x', 'SIDEWAYS')",
        [],
    );
    assert!(bad.is_err(), "the state CHECK still holds");
    let bad = conn.execute(
        "INSERT INTO heartbeats (check_name, state, last_kind) VALUES ('x', 'UP', 'nap')",
        [],
    );
    assert!(bad.is_err(), "the kind CHECK still holds");
}
