//! The database schema and its numbered migrations.
//!
//! The schema version lives in SQLite's `PRAGMA user_version`. Migration
//! `n` (1-based) takes a database from version `n - 1` to `n`; every pending
//! migration is applied in one transaction together with the new version,
//! so a crash mid-upgrade leaves the old schema. Migrations are append-only:
//! never edit one that has shipped.

/// The migrations, in order. `MIGRATIONS[0]` creates version 1.
pub(crate) const MIGRATIONS: &[&str] = &[
    // 1: runs with the record as JSON and the columns lists filter on;
    // tags in a side table.
    r#"
    CREATE TABLE runs (
        id            TEXT PRIMARY KEY NOT NULL,
        group_id      TEXT,
        group_index   INTEGER,
        kind          TEXT NOT NULL,
        status        TEXT NOT NULL,
        -- RFC 3339 UTC with nanoseconds and a Z: sorts as text.
        started_at    TEXT NOT NULL,
        ended_at      TEXT,
        workload      TEXT NOT NULL,
        scenario      TEXT,
        mode          TEXT,
        sut           TEXT,
        verdict       TEXT NOT NULL,
        metric_name   TEXT,
        metric_value  REAL,
        metric_unit   TEXT,
        -- The process running the test and its host, set by begin(); a row
        -- still 'running' whose process is gone is reported incomplete.
        pid           INTEGER,
        pid_start     INTEGER,
        host          TEXT,
        record        TEXT NOT NULL
    );
    CREATE INDEX runs_started_at ON runs (started_at);
    CREATE INDEX runs_group ON runs (group_id, group_index);
    CREATE INDEX runs_workload ON runs (workload COLLATE NOCASE, scenario COLLATE NOCASE);
    CREATE INDEX runs_sut ON runs (sut COLLATE NOCASE);
    CREATE INDEX runs_status ON runs (status);
    CREATE TABLE run_tags (
        run_id TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
        tag    TEXT NOT NULL,
        PRIMARY KEY (run_id, tag)
    );
    CREATE INDEX run_tags_tag ON run_tags (tag);
    "#,
];

/// The newest schema this build knows.
pub const SCHEMA_VERSION: u32 = MIGRATIONS.len() as u32;
