//! The schema and its migrations. `PRAGMA user_version` holds how many migrations have run;
//! each one runs in its own transaction together with the version bump, so a crash mid-way
//! leaves the previous version intact. Append new migrations; never edit a released one.
//!
//! Conventions: times are INTEGER nanoseconds since the Unix epoch (UTC) — the `v_*` views show
//! them as text for people using `sqlite3`; enums are lowercase text; JSON only where the shape
//! belongs to another module (`incidents.escalation`, `outbox.also_paged`).

use std::path::Path;

use rusqlite::Connection;

use super::StoreError;

/// Ordered migrations; migration `i` (0-based) brings the schema to version `i + 1`.
const MIGRATIONS: &[&str] = &[V1, V2, V3, V4, V5];

/// The schema version this build writes.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// SPEC §11: an incident opened by a source's alert keeps the alert's fingerprint (NULL for
/// oncalld's own checks), so a restart still knows which open incident an alert is.
const V3: &str = r#"
ALTER TABLE incidents ADD COLUMN fingerprint TEXT;
"#;

/// SPEC §12: a digest page (`group_wait`) lists its incidents (JSON array of
/// `core::model::DigestItem`); NULL for a page about one incident.
const V4: &str = r#"
ALTER TABLE outbox ADD COLUMN digest TEXT;
"#;

/// Heartbeats are written on every ping: their CHECKs become plain comparisons. An `IN` list
/// of three values or more makes SQLite build a temporary b-tree on every write (two per
/// CHECK for an upsert), which was most of the CPU of a ping. Same rules, same rows.
const V5: &str = r#"
CREATE TABLE heartbeats_v5 (
    check_name      TEXT    PRIMARY KEY,
    state           TEXT    NOT NULL CHECK (state = 'NEW' OR state = 'UP' OR state = 'DOWN'),
    last_ping_at    INTEGER,
    last_kind       TEXT    CHECK (last_kind = 'success' OR last_kind = 'start'
                                   OR last_kind = 'fail' OR last_kind = 'log'),
    last_exit_code  INTEGER,
    last_message    TEXT    NOT NULL DEFAULT '',
    last_success_at INTEGER,
    started_at      INTEGER -- a /start not yet followed by a success or failure
) WITHOUT ROWID;
INSERT INTO heartbeats_v5 (check_name, state, last_ping_at, last_kind, last_exit_code,
    last_message, last_success_at, started_at)
SELECT check_name, state, last_ping_at, last_kind, last_exit_code, last_message,
    last_success_at, started_at FROM heartbeats;
DROP TABLE heartbeats;
ALTER TABLE heartbeats_v5 RENAME TO heartbeats;
"#;

const V1: &str = r#"
CREATE TABLE incidents (
    id          INTEGER PRIMARY KEY,
    check_name  TEXT    NOT NULL,
    summary     TEXT    NOT NULL,
    state       TEXT    NOT NULL CHECK (state IN ('triggered', 'acknowledged', 'resolved')),
    policy      TEXT    NOT NULL,
    opened_at   INTEGER NOT NULL,
    acked_at    INTEGER,
    acked_by    TEXT,
    resolved_at INTEGER,
    resolved_by TEXT,
    next_seq    INTEGER NOT NULL,
    escalation  TEXT    NOT NULL -- JSON of core::escalation::EscalationState
);
CREATE INDEX incidents_opened_at ON incidents (opened_at);
CREATE INDEX incidents_open ON incidents (id) WHERE state <> 'resolved';

CREATE TABLE events (
    incident INTEGER NOT NULL REFERENCES incidents (id),
    seq      INTEGER NOT NULL,
    at       INTEGER NOT NULL,
    kind     TEXT    NOT NULL,
    actor    TEXT    NOT NULL,
    message  TEXT    NOT NULL,
    PRIMARY KEY (incident, seq)
) WITHOUT ROWID;
CREATE INDEX events_at ON events (at);
CREATE INDEX events_kind_at ON events (kind, at);

-- Pages to send and sent. No foreign key to incidents: test pages belong to no incident.
CREATE TABLE outbox (
    key             TEXT    PRIMARY KEY,
    incident        INTEGER NOT NULL,
    seq             INTEGER NOT NULL,
    event           TEXT    NOT NULL,
    recipient       TEXT    NOT NULL,
    notifier        TEXT    NOT NULL,
    to_addr         TEXT,
    step            INTEGER NOT NULL,
    check_name      TEXT    NOT NULL,
    summary         TEXT    NOT NULL,
    incident_state  TEXT    NOT NULL,
    opened_at       INTEGER NOT NULL,
    also_paged      TEXT    NOT NULL, -- JSON array of names
    text            TEXT    NOT NULL,
    created_at      INTEGER NOT NULL,
    status          TEXT    NOT NULL DEFAULT 'pending'
                    CHECK (status IN ('pending', 'delivered', 'failed')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER,
    last_error      TEXT
);
CREATE INDEX outbox_due ON outbox (next_attempt_at) WHERE status = 'pending';
CREATE INDEX outbox_incident ON outbox (incident);
CREATE INDEX outbox_created_at ON outbox (created_at);
CREATE INDEX outbox_notifier_status ON outbox (notifier, status, created_at);

CREATE TABLE page_attempts (
    key       TEXT    NOT NULL REFERENCES outbox (key),
    attempt   INTEGER NOT NULL,
    incident  INTEGER NOT NULL,
    recipient TEXT    NOT NULL,
    notifier  TEXT    NOT NULL,
    at        INTEGER NOT NULL,
    outcome   TEXT    NOT NULL CHECK (outcome IN ('delivered', 'retrying', 'failed')),
    error     TEXT,
    retry_at  INTEGER,
    PRIMARY KEY (key, attempt)
) WITHOUT ROWID;
CREATE INDEX page_attempts_incident ON page_attempts (incident, at);

CREATE TABLE silences (
    id         INTEGER PRIMARY KEY,
    pattern    TEXT    NOT NULL,
    starts_at  INTEGER NOT NULL,
    ends_at    INTEGER NOT NULL,
    message    TEXT    NOT NULL,
    created_by TEXT    NOT NULL
);
CREATE INDEX silences_ends_at ON silences (ends_at);

CREATE TABLE check_states (
    check_name       TEXT    PRIMARY KEY,
    state            TEXT    NOT NULL, -- UP, DOWN, FAILING(n)
    recovering       INTEGER NOT NULL,
    last_status      TEXT    NOT NULL,
    last_message     TEXT    NOT NULL,
    last_duration_ms INTEGER NOT NULL,
    last_at          INTEGER NOT NULL,
    state_since      INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE check_transitions (
    id         INTEGER PRIMARY KEY,
    check_name TEXT    NOT NULL,
    at         INTEGER NOT NULL,
    from_state TEXT    NOT NULL,
    to_state   TEXT    NOT NULL,
    message    TEXT    NOT NULL
);
CREATE INDEX check_transitions_check_at ON check_transitions (check_name, at);
CREATE INDEX check_transitions_at ON check_transitions (at);

-- Human-readable views for `sqlite3 oncalld.db 'select * from v_incidents'`.
CREATE VIEW v_incidents AS
SELECT id, check_name, state, summary, policy,
       strftime('%Y-%m-%dT%H:%M:%fZ', opened_at / 1e9, 'unixepoch') AS opened,
       strftime('%Y-%m-%dT%H:%M:%fZ', acked_at / 1e9, 'unixepoch') AS acked, acked_by,
       strftime('%Y-%m-%dT%H:%M:%fZ', resolved_at / 1e9, 'unixepoch') AS resolved, resolved_by
FROM incidents;
CREATE VIEW v_timeline AS
SELECT incident, strftime('%Y-%m-%dT%H:%M:%fZ', at / 1e9, 'unixepoch') AS time,
       kind AS what, actor AS who, message, at
FROM events
UNION ALL
SELECT incident, strftime('%Y-%m-%dT%H:%M:%fZ', at / 1e9, 'unixepoch'),
       'attempt ' || attempt || ': ' || outcome, notifier || ' -> ' || recipient,
       coalesce(error, ''), at
FROM page_attempts;
CREATE VIEW v_outbox AS
SELECT key, incident, event, recipient, notifier, to_addr, status, attempts,
       strftime('%Y-%m-%dT%H:%M:%fZ', created_at / 1e9, 'unixepoch') AS created,
       strftime('%Y-%m-%dT%H:%M:%fZ', next_attempt_at / 1e9, 'unixepoch') AS next_attempt,
       last_error
FROM outbox;
"#;

/// Heartbeat checks (SPEC §10): the last ping of each, so a restart neither forgets a run
/// nor declares a check late that was fine. Upserted by check name with every ping.
const V2: &str = r#"
CREATE TABLE heartbeats (
    check_name      TEXT    PRIMARY KEY,
    state           TEXT    NOT NULL CHECK (state IN ('NEW', 'UP', 'DOWN')),
    last_ping_at    INTEGER,
    last_kind       TEXT    CHECK (last_kind IN ('success', 'start', 'fail', 'log')),
    last_exit_code  INTEGER,
    last_message    TEXT    NOT NULL DEFAULT '',
    last_success_at INTEGER,
    started_at      INTEGER -- a /start not yet followed by a success or failure
) WITHOUT ROWID;
"#;

/// The stored schema version; refuses a database written by a newer build. Called before
/// anything is written to the file, so a refused database is left as it was.
pub(crate) fn check_version(conn: &Connection, path: &Path) -> Result<i64, StoreError> {
    let found: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if found > SCHEMA_VERSION {
        return Err(StoreError::NewerSchema {
            path: path.to_path_buf(),
            found,
            supported: SCHEMA_VERSION,
        });
    }
    Ok(found)
}

/// Brings the schema up to [`SCHEMA_VERSION`], one transaction per migration.
pub(crate) fn migrate(conn: &mut Connection, path: &Path) -> Result<(), StoreError> {
    let found = check_version(conn, path)?;
    let done = usize::try_from(found).unwrap_or(0);
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(done) {
        let tx = conn.transaction()?;
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", i as i64 + 1)?;
        tx.commit()?;
    }
    Ok(())
}
