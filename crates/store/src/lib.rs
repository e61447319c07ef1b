//! yardstick-store: the results store.
//!
//! Every finished run record ([`RunRecord`], the `run.json` beside a run's
//! logs) and every run imported from another tool is kept in one embedded
//! SQLite database, so runs can be listed, filtered, tagged, compared and
//! exported later. The store consumes finished records: a front end calls
//! [`Store::begin`] before the test starts and [`Store::finish`] after it
//! ends, never during it, so the store is never on the query path.
//!
//! Where it lives ([`Store::default_path`]): `$YARDSTICK_STORE` if set,
//! else `$XDG_DATA_HOME/yardstick/runs.sqlite`, else
//! `~/.local/share/yardstick/runs.sqlite`.
//!
//! Durability: the database is in WAL mode and every change is one
//! transaction, so a process killed at any point (SIGKILL included) leaves
//! it consistent; a run whose process died between `begin` and `finish` is
//! listed as [`RowStatus::Incomplete`]. The schema is versioned
//! (`PRAGMA user_version`, [`SCHEMA_VERSION`]); a database written by a
//! newer yardstick is refused, never modified.

mod export;
mod filter;
pub mod liveness;
mod observer;
mod schema;

use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{DateTime, Utc};
use rusqlite::{params, Connection, OpenFlags, OptionalExtension, Transaction};
use yardstick_record::{RunRecord, RunStatus};

pub use export::{to_csv, to_json};
pub use filter::{parse_date, DateBound, RowStatus, RunFilter, RunRow};
pub use observer::StoreObserver;
pub use schema::SCHEMA_VERSION;

/// The environment variable naming the store file.
pub const STORE_ENV: &str = "YARDSTICK_STORE";

/// How long a writer waits for another process's transaction.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot find a place for the results store: neither $YARDSTICK_STORE, $XDG_DATA_HOME nor $HOME is set")]
    NoDefaultPath,
    #[error("cannot create the folder of the results store {path}")]
    CreateDir {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot open the results store {path}")]
    Open {
        path: PathBuf,
        source: rusqlite::Error,
    },
    #[error(
        "the results store {path} was written by a newer yardstick (store schema {found}; this yardstick knows up to {supported}); upgrade yardstick or use --store/YARDSTICK_STORE for another file"
    )]
    TooNew {
        path: PathBuf,
        found: u32,
        supported: u32,
    },
    #[error(
        "the results store {path} has schema {found}; this yardstick reads schema {supported}: open it once without read-only (yardstick runs --store {path}) to upgrade it"
    )]
    TooOld {
        path: PathBuf,
        found: u32,
        supported: u32,
    },
    #[error("cannot upgrade the results store {path} from schema {from} to {to}")]
    Migrate {
        path: PathBuf,
        from: u32,
        to: u32,
        source: rusqlite::Error,
    },
    #[error("results store query failed")]
    Sql(#[from] rusqlite::Error),
    #[error("the stored record of run {id} cannot be read")]
    Record {
        id: String,
        source: serde_json::Error,
    },
    #[error("cannot encode the record of run {id}")]
    Encode {
        id: String,
        source: serde_json::Error,
    },
    #[error("no run {0} in the results store")]
    NotFound(String),
    #[error("{spec} matches {} runs ({}); give more of the id", .matches.len(), .matches.join(", "))]
    Ambiguous { spec: String, matches: Vec<String> },
    #[error("run {0} is already in the results store")]
    Duplicate(String),
    #[error("bad filter: {0}")]
    BadFilter(String),
    #[error("bad tag {0:?}: tags are non-empty and have no white space or commas")]
    BadTag(String),
}

/// An open results store.
#[derive(Debug)]
pub struct Store {
    conn: Connection,
    path: PathBuf,
    host: String,
}

impl Store {
    /// The store file used when none is given: `$YARDSTICK_STORE`, else
    /// `$XDG_DATA_HOME/yardstick/runs.sqlite`, else
    /// `$HOME/.local/share/yardstick/runs.sqlite`.
    pub fn default_path() -> Result<PathBuf, StoreError> {
        let var = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty());
        if let Some(p) = var(STORE_ENV) {
            return Ok(PathBuf::from(p));
        }
        if let Some(d) = var("XDG_DATA_HOME") {
            return Ok(PathBuf::from(d).join("yardstick").join("runs.sqlite"));
        }
        if let Some(h) = var("HOME") {
            return Ok(PathBuf::from(h)
                .join(".local/share")
                .join("yardstick")
                .join("runs.sqlite"));
        }
        Err(StoreError::NoDefaultPath)
    }

    /// Opens the store at [`Store::default_path`].
    pub fn open_default() -> Result<Store, StoreError> {
        Store::open(&Store::default_path()?)
    }

    /// Opens (creating if missing, with its folder) the store at `path`
    /// and brings its schema up to date. A store of a newer schema is
    /// refused before anything is written to it.
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        let open_err = |source| StoreError::Open {
            path: path.to_path_buf(),
            source,
        };
        if path.exists() {
            // Read the version through a read-only connection first: even
            // switching the journal mode writes the file's header.
            let ro = Connection::open_with_flags(
                path,
                OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
            )
            .map_err(open_err)?;
            ro.busy_timeout(BUSY_TIMEOUT).map_err(open_err)?;
            let found = user_version(&ro).map_err(open_err)?;
            check_version(path, found)?;
        } else if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|source| StoreError::CreateDir {
                path: dir.to_path_buf(),
                source,
            })?;
        }
        let mut conn = Connection::open(path).map_err(open_err)?;
        conn.busy_timeout(BUSY_TIMEOUT).map_err(open_err)?;
        // WAL: readers never block the writer, and a killed writer leaves
        // the last committed state. NORMAL sync is durable across process
        // crashes in WAL mode (only a power cut can lose the last commit).
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(open_err)?;
        conn.pragma_update(None, "synchronous", "NORMAL")
            .map_err(open_err)?;
        conn.pragma_update(None, "foreign_keys", "ON")
            .map_err(open_err)?;
        migrate(&mut conn, path)?;
        Ok(Store {
            conn,
            path: path.to_path_buf(),
            host: liveness::host_name(),
        })
    }

    /// Opens an existing store for reading only (`yardstick serve`): no
    /// migration, no journal-mode change; every write fails. A store of an
    /// older schema must be opened read-write once (any `yardstick runs`)
    /// to be upgraded first.
    pub fn open_read_only(path: &Path) -> Result<Store, StoreError> {
        let open_err = |source| StoreError::Open {
            path: path.to_path_buf(),
            source,
        };
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(open_err)?;
        conn.busy_timeout(BUSY_TIMEOUT).map_err(open_err)?;
        let found = user_version(&conn).map_err(open_err)?;
        check_version(path, found)?;
        if found < SCHEMA_VERSION {
            return Err(StoreError::TooOld {
                path: path.to_path_buf(),
                found,
                supported: SCHEMA_VERSION,
            });
        }
        Ok(Store {
            conn,
            path: path.to_path_buf(),
            host: liveness::host_name(),
        })
    }

    /// The store's file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Records that `record`'s run is starting: inserted as running, with
    /// this process's id and this host's name, so that a run whose process
    /// dies is later reported incomplete. Call it before the test starts.
    pub fn begin(&mut self, record: &RunRecord) -> Result<(), StoreError> {
        let pid = std::process::id();
        let start = liveness::process_start(pid);
        let tx = write_tx(&mut self.conn)?;
        let exists: bool = tx
            .query_row("SELECT 1 FROM runs WHERE id = ?1", [&record.id], |_| Ok(()))
            .optional()?
            .is_some();
        if exists {
            return Err(StoreError::Duplicate(record.id.clone()));
        }
        let mut running = record.clone();
        running.status = RunStatus::Running;
        upsert(&tx, &running)?;
        tx.execute(
            "UPDATE runs SET pid = ?2, pid_start = ?3, host = ?4 WHERE id = ?1",
            params![record.id, pid, start.map(|s| s as i64), self.host],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// Replaces the run begun with [`Store::begin`] by its final record
    /// (inserts it if it was never begun).
    pub fn finish(&mut self, record: &RunRecord) -> Result<(), StoreError> {
        let tx = write_tx(&mut self.conn)?;
        upsert(&tx, record)?;
        tx.commit()?;
        Ok(())
    }

    /// Inserts or replaces a record by id (imports).
    pub fn put(&mut self, record: &RunRecord) -> Result<(), StoreError> {
        self.finish(record)
    }

    /// The full id of the one run whose id is `spec` or starts with it.
    pub fn resolve(&self, spec: &str) -> Result<String, StoreError> {
        let spec = spec.trim();
        if spec.is_empty() {
            return Err(StoreError::NotFound(String::new()));
        }
        let exact: Option<String> = self
            .conn
            .query_row("SELECT id FROM runs WHERE id = ?1", [spec], |r| r.get(0))
            .optional()?;
        if let Some(id) = exact {
            return Ok(id);
        }
        let mut stmt = self.conn.prepare(
            "SELECT id FROM runs WHERE substr(id, 1, length(?1)) = ?1 ORDER BY id LIMIT 11",
        )?;
        let matches: Vec<String> = stmt
            .query_map([spec], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        match matches.len() {
            0 => Err(StoreError::NotFound(spec.to_string())),
            1 => Ok(matches.into_iter().next().unwrap_or_default()),
            _ => Err(StoreError::Ambiguous {
                spec: spec.to_string(),
                matches,
            }),
        }
    }

    /// The record of the run `spec` (a full id or a unique prefix).
    pub fn get(&self, spec: &str) -> Result<RunRecord, StoreError> {
        let id = self.resolve(spec)?;
        let text: String =
            self.conn
                .query_row("SELECT record FROM runs WHERE id = ?1", [&id], |r| r.get(0))?;
        decode(&id, &text)
    }

    /// The listed row of the run `spec`, with its shown status.
    pub fn row(&self, spec: &str) -> Result<RunRow, StoreError> {
        let id = self.resolve(spec)?;
        let filter = RunFilter::default();
        let (sql, values) = select_rows(&filter, Some(&id));
        let mut rows = self.query_rows(&sql, &values)?;
        rows.pop().ok_or(StoreError::NotFound(id))
    }

    /// The runs matching `filter`, newest first.
    pub fn list(&self, filter: &RunFilter) -> Result<Vec<RunRow>, StoreError> {
        let (sql, values) = select_rows(filter, None);
        let mut rows = self.query_rows(&sql, &values)?;
        if let Some(status) = filter.status {
            rows.retain(|r| r.status == status);
        }
        if let Some(limit) = filter.limit {
            rows.truncate(limit);
        }
        Ok(rows)
    }

    /// The rows matching `filter` with their records, newest first.
    pub fn list_records(&self, filter: &RunFilter) -> Result<Vec<(RunRow, RunRecord)>, StoreError> {
        self.list(filter)?
            .into_iter()
            .map(|row| {
                let record = self.get(&row.id)?;
                Ok((row, record))
            })
            .collect()
    }

    /// The runs of group `group_id`, in group order.
    pub fn group(&self, group_id: &str) -> Result<Vec<RunRecord>, StoreError> {
        self.records(
            "SELECT id, record FROM runs WHERE group_id = ?1 ORDER BY group_index, started_at",
            group_id,
        )
    }

    /// The runs tagged `tag`, oldest first.
    pub fn by_tag(&self, tag: &str) -> Result<Vec<RunRecord>, StoreError> {
        self.records(
            "SELECT r.id, r.record FROM runs r JOIN run_tags t ON t.run_id = r.id \
             WHERE t.tag = ?1 ORDER BY r.started_at",
            tag,
        )
    }

    /// Adds and removes tags of run `spec`; returns its tags afterwards.
    pub fn tag(
        &mut self,
        spec: &str,
        add: &[String],
        remove: &[String],
    ) -> Result<Vec<String>, StoreError> {
        for t in add.iter().chain(remove) {
            check_tag(t)?;
        }
        let id = self.resolve(spec)?;
        // Read and write in one write transaction, so a concurrent tagger's
        // change is not lost.
        let tx = write_tx(&mut self.conn)?;
        let text: String =
            tx.query_row("SELECT record FROM runs WHERE id = ?1", [&id], |r| r.get(0))?;
        let mut record = decode(&id, &text)?;
        record.tags.retain(|t| !remove.contains(t));
        for t in add {
            if !record.tags.contains(t) {
                record.tags.push(t.clone());
            }
        }
        // The tags live in the record (exports and run.json carry them) and
        // in the side table (filters use it); both change together.
        let text = encode(&record)?;
        tx.execute(
            "UPDATE runs SET record = ?2 WHERE id = ?1",
            params![id, text],
        )?;
        write_tags(&tx, &id, &record.tags)?;
        tx.commit()?;
        Ok(record.tags)
    }

    /// Deletes run `spec`; returns its full id.
    pub fn delete(&mut self, spec: &str) -> Result<String, StoreError> {
        let id = self.resolve(spec)?;
        self.conn.execute("DELETE FROM runs WHERE id = ?1", [&id])?;
        Ok(id)
    }

    /// SQLite's `PRAGMA integrity_check`: `["ok"]` for a sound database.
    pub fn integrity_check(&self) -> Result<Vec<String>, StoreError> {
        let mut stmt = self.conn.prepare("PRAGMA integrity_check")?;
        let lines = stmt
            .query_map([], |r| r.get(0))?
            .collect::<Result<Vec<String>, _>>()?;
        Ok(lines)
    }

    fn records(&self, sql: &str, arg: &str) -> Result<Vec<RunRecord>, StoreError> {
        let mut stmt = self.conn.prepare(sql)?;
        let rows = stmt
            .query_map([arg], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
            })?
            .collect::<Result<Vec<_>, _>>()?;
        rows.iter().map(|(id, text)| decode(id, text)).collect()
    }

    fn query_rows(
        &self,
        sql: &str,
        values: &[rusqlite::types::Value],
    ) -> Result<Vec<RunRow>, StoreError> {
        let now = Utc::now();
        let mut stmt = self.conn.prepare(sql)?;
        let raw = stmt
            .query_map(rusqlite::params_from_iter(values), RawRow::from_sql)?
            .collect::<Result<Vec<_>, _>>()?;
        let mut rows = Vec::with_capacity(raw.len());
        for r in raw {
            rows.push(r.into_row(&self.host, now)?);
        }
        Ok(rows)
    }
}

/// The id an imported run gets: its start time, as every run id, then 24
/// bits of a stable hash of where it came from, so importing the same
/// folder again replaces the run instead of adding a copy.
pub fn imported_run_id(started_at: DateTime<Utc>, source: &str) -> String {
    // FNV-1a: stable across builds and platforms, unlike std's hasher.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in source.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    let tag = (h ^ (h >> 24) ^ (h >> 48)) & 0xff_ffff;
    format!("{}-{tag:06x}", started_at.format("%Y%m%d-%H%M%S"))
}

/// A transaction that takes the write lock at once: a deferred one that
/// reads first could fail to upgrade (SQLITE_BUSY_SNAPSHOT, which the busy
/// timeout does not retry) when another process wrote meanwhile.
fn write_tx(conn: &mut Connection) -> Result<Transaction<'_>, StoreError> {
    Ok(conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?)
}

fn user_version(conn: &Connection) -> rusqlite::Result<u32> {
    conn.query_row("PRAGMA user_version", [], |r| r.get::<_, i64>(0))
        .map(|v| u32::try_from(v).unwrap_or(u32::MAX))
}

fn check_version(path: &Path, found: u32) -> Result<(), StoreError> {
    if found > SCHEMA_VERSION {
        return Err(StoreError::TooNew {
            path: path.to_path_buf(),
            found,
            supported: SCHEMA_VERSION,
        });
    }
    Ok(())
}

/// Applies the pending migrations and the new version in one transaction.
/// `BEGIN IMMEDIATE` takes the write lock first, so two processes opening
/// a new store at once do not both migrate it.
fn migrate(conn: &mut Connection, path: &Path) -> Result<(), StoreError> {
    let tx = conn
        .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
        .map_err(|source| StoreError::Open {
            path: path.to_path_buf(),
            source,
        })?;
    let found = user_version(&tx).map_err(|source| StoreError::Open {
        path: path.to_path_buf(),
        source,
    })?;
    check_version(path, found)?;
    if found == SCHEMA_VERSION {
        return Ok(());
    }
    let err = |source| StoreError::Migrate {
        path: path.to_path_buf(),
        from: found,
        to: SCHEMA_VERSION,
        source,
    };
    for sql in &schema::MIGRATIONS[found as usize..] {
        tx.execute_batch(sql).map_err(err)?;
    }
    tx.pragma_update(None, "user_version", SCHEMA_VERSION)
        .map_err(err)?;
    tx.commit().map_err(err)
}

fn check_tag(tag: &str) -> Result<(), StoreError> {
    if tag.is_empty() || tag.contains(|c: char| c.is_whitespace() || c == ',') {
        return Err(StoreError::BadTag(tag.to_string()));
    }
    Ok(())
}

fn encode(record: &RunRecord) -> Result<String, StoreError> {
    serde_json::to_string(record).map_err(|source| StoreError::Encode {
        id: record.id.clone(),
        source,
    })
}

fn decode(id: &str, text: &str) -> Result<RunRecord, StoreError> {
    serde_json::from_str(text).map_err(|source| StoreError::Record {
        id: id.to_string(),
        source,
    })
}

/// Inserts or replaces the run's columns and record, keeping the process
/// and host columns that `begin` set.
fn upsert(tx: &Transaction<'_>, record: &RunRecord) -> Result<(), StoreError> {
    for t in &record.tags {
        check_tag(t)?;
    }
    let text = encode(record)?;
    let primary = record.primary_metric();
    tx.execute(
        "INSERT INTO runs (id, group_id, group_index, kind, status, started_at, ended_at, \
            workload, scenario, mode, sut, verdict, metric_name, metric_value, metric_unit, record) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16) \
         ON CONFLICT (id) DO UPDATE SET group_id = excluded.group_id, \
            group_index = excluded.group_index, kind = excluded.kind, status = excluded.status, \
            started_at = excluded.started_at, ended_at = excluded.ended_at, \
            workload = excluded.workload, scenario = excluded.scenario, mode = excluded.mode, \
            sut = excluded.sut, verdict = excluded.verdict, metric_name = excluded.metric_name, \
            metric_value = excluded.metric_value, metric_unit = excluded.metric_unit, \
            record = excluded.record",
        params![
            record.id,
            record.group.as_ref().map(|g| g.id.as_str()),
            record.group.as_ref().map(|g| g.index),
            enum_text(&record.kind),
            record.status.as_str(),
            filter::date_key(record.started_at),
            record.ended_at.map(filter::date_key),
            record.workload.name,
            record.workload.scenario,
            record.workload.mode,
            Some(record.workload.sut.name.as_str()).filter(|s| !s.is_empty()),
            record.validity.verdict.as_str(),
            primary.map(|m| m.name.as_str()),
            primary.map(|m| m.value).filter(|v| v.is_finite()),
            primary.map(|m| m.unit.as_str()),
            text,
        ],
    )?;
    write_tags(tx, &record.id, &record.tags)
}

fn write_tags(tx: &Transaction<'_>, id: &str, tags: &[String]) -> Result<(), StoreError> {
    tx.execute("DELETE FROM run_tags WHERE run_id = ?1", [id])?;
    let mut stmt = tx.prepare("INSERT OR IGNORE INTO run_tags (run_id, tag) VALUES (?1, ?2)")?;
    for t in tags {
        stmt.execute(params![id, t])?;
    }
    Ok(())
}

/// A serde enum's text (`loadgen`, `endpoint`, ...).
fn enum_text<T: serde::Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(s)) => s,
        _ => String::new(),
    }
}

const ROW_COLUMNS: &str = "r.id, r.group_id, r.group_index, r.kind, r.status, r.started_at, \
    r.ended_at, r.workload, r.scenario, r.mode, r.sut, r.verdict, r.metric_name, r.metric_value, \
    r.metric_unit, r.pid, r.pid_start, r.host, \
    (SELECT group_concat(tag, ' ') FROM (SELECT tag FROM run_tags WHERE run_id = r.id ORDER BY tag))";

/// The SELECT for `filter` (or for the one run `id`) and its parameters.
fn select_rows(filter: &RunFilter, id: Option<&str>) -> (String, Vec<rusqlite::types::Value>) {
    use rusqlite::types::Value;
    let mut clauses: Vec<String> = Vec::new();
    let mut values: Vec<Value> = Vec::new();
    let mut push = |clause: &str, value: Value| {
        values.push(value);
        clauses.push(clause.replace('?', &format!("?{}", values.len())));
    };
    if let Some(id) = id {
        push("r.id = ?", Value::Text(id.to_string()));
    }
    if let Some(t) = &filter.tag {
        push(
            "EXISTS (SELECT 1 FROM run_tags t WHERE t.run_id = r.id AND t.tag = ?)",
            Value::Text(t.clone()),
        );
    }
    if let Some(w) = &filter.workload {
        push("r.workload = ? COLLATE NOCASE", Value::Text(w.clone()));
    }
    if let Some(s) = &filter.scenario {
        push("r.scenario = ? COLLATE NOCASE", Value::Text(s.clone()));
    }
    if let Some(s) = &filter.sut {
        push("r.sut = ? COLLATE NOCASE", Value::Text(s.clone()));
    }
    if let Some(t) = filter.since {
        push("r.started_at >= ?", Value::Text(filter::date_key(t)));
    }
    if let Some(t) = filter.until {
        push("r.started_at <= ?", Value::Text(filter::date_key(t)));
    }
    if let Some(g) = &filter.group {
        push("r.group_id = ?", Value::Text(g.clone()));
    }
    if let Some(status) = filter.status {
        // Running and incomplete rows are both stored as running; which one
        // a row is gets decided when it is read.
        let stored = match status {
            RowStatus::Incomplete => RowStatus::Running,
            s => s,
        };
        push("r.status = ?", Value::Text(stored.as_str().to_string()));
    }
    let mut sql = format!("SELECT {ROW_COLUMNS} FROM runs r");
    if !clauses.is_empty() {
        sql.push_str(" WHERE ");
        sql.push_str(&clauses.join(" AND "));
    }
    sql.push_str(" ORDER BY r.started_at DESC, r.id DESC");
    // With a status filter the limit is applied after the liveness check.
    if let (Some(limit), None) = (filter.limit, filter.status) {
        sql.push_str(&format!(" LIMIT {limit}"));
    }
    (sql, values)
}

/// A row as SQLite returns it, before the liveness check.
struct RawRow {
    id: String,
    group_id: Option<String>,
    group_index: Option<i64>,
    kind: String,
    status: String,
    started_at: String,
    ended_at: Option<String>,
    workload: String,
    scenario: Option<String>,
    mode: Option<String>,
    sut: Option<String>,
    verdict: String,
    metric_name: Option<String>,
    metric_value: Option<f64>,
    metric_unit: Option<String>,
    pid: Option<i64>,
    pid_start: Option<i64>,
    host: Option<String>,
    tags: Option<String>,
}

impl RawRow {
    fn from_sql(r: &rusqlite::Row<'_>) -> rusqlite::Result<RawRow> {
        Ok(RawRow {
            id: r.get(0)?,
            group_id: r.get(1)?,
            group_index: r.get(2)?,
            kind: r.get(3)?,
            status: r.get(4)?,
            started_at: r.get(5)?,
            ended_at: r.get(6)?,
            workload: r.get(7)?,
            scenario: r.get(8)?,
            mode: r.get(9)?,
            sut: r.get(10)?,
            verdict: r.get(11)?,
            metric_name: r.get(12)?,
            metric_value: r.get(13)?,
            metric_unit: r.get(14)?,
            pid: r.get(15)?,
            pid_start: r.get(16)?,
            host: r.get(17)?,
            tags: r.get(18)?,
        })
    }

    fn into_row(self, this_host: &str, now: DateTime<Utc>) -> Result<RunRow, StoreError> {
        let time = |text: &str| {
            DateTime::parse_from_rfc3339(text)
                .map(|t| t.with_timezone(&Utc))
                .map_err(|e| {
                    StoreError::BadFilter(format!("run {} has a bad time {text:?}: {e}", self.id))
                })
        };
        let started_at = time(&self.started_at)?;
        let ended_at = self.ended_at.as_deref().map(time).transpose()?;
        let status = match self.status.as_str() {
            "running" => {
                let running = liveness::still_running(
                    self.pid.and_then(|p| u32::try_from(p).ok()),
                    self.pid_start.and_then(|s| u64::try_from(s).ok()),
                    self.host.as_deref(),
                    started_at,
                    this_host,
                    now,
                );
                if running {
                    RowStatus::Running
                } else {
                    RowStatus::Incomplete
                }
            }
            "completed" => RowStatus::Completed,
            "interrupted" => RowStatus::Interrupted,
            "failed" => RowStatus::Failed,
            _ => RowStatus::Incomplete,
        };
        Ok(RunRow {
            id: self.id,
            group_id: self.group_id,
            group_index: self.group_index.and_then(|i| u32::try_from(i).ok()),
            kind: self.kind,
            status,
            started_at,
            ended_at,
            workload: self.workload,
            scenario: self.scenario,
            mode: self.mode,
            sut: self.sut,
            verdict: self.verdict,
            metric_name: self.metric_name,
            metric_value: self.metric_value,
            metric_unit: self.metric_unit,
            tags: self
                .tags
                .map(|t| t.split(' ').map(str::to_string).collect())
                .unwrap_or_default(),
            host: self.host,
        })
    }
}
