//! The run store: SQLite tables that every run writes its rows into as they
//! arrive, and from which its files are streamed (so memory stays flat,
//! whatever the workspace's size).
//!
//! Each run writes a temporary store in the output directory
//! (`.tmp-store-*`, removed at the end, or at the next run's start after a
//! kill). With `--state PATH` the state file remembers, per Mode host and
//! workspace, the last complete run (tables: [`schema`], `docs/store.md`);
//! the run then reuses what has not changed ([`Fetch::Incremental`]) and
//! writes `{ts}-changes.json`. The state is replaced in one transaction by
//! [`Store::commit`], after the run's summary is written: a failed,
//! interrupted or killed run leaves the previous state as it was.

pub mod items;
pub mod schema;
pub mod source;
pub mod written;

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use rusqlite::{Connection, OptionalExtension, params};

use crate::error::{Error, Result};
use crate::output::atomic::TEMP_PREFIX;

/// The state settings of a run (`--state`, `--full`, `--full-refresh-after`,
/// `--max-deletions`).
#[derive(Debug, Clone, PartialEq)]
pub struct StoreSettings {
    /// The state file (`--state`, `MODE_EXTRACTOR_STATE`); `None`: no state,
    /// a full run as castor does it, and no changes file.
    pub path: Option<PathBuf>,
    /// Fetch everything even when the state would allow reuse (`--full`);
    /// the state is still updated.
    pub full: bool,
    /// A full fetch happens by itself when the state's last one is older
    /// than this (`--full-refresh-after`, default 7 days).
    pub full_refresh_after: Duration,
    /// The largest share (0..=1) of an asset's previous rows a run may delete
    /// (`--max-deletions`, default 0.2); above it none are deleted.
    pub max_deletions: f64,
}

impl Default for StoreSettings {
    fn default() -> Self {
        StoreSettings {
            path: None,
            full: false,
            full_refresh_after: Duration::from_secs(7 * 24 * 3600),
            max_deletions: 0.2,
        }
    }
}

/// What a run's state is about: the Mode host and workspace, and the
/// selection (assets and filters, as JSON text) it was made with.
#[derive(Debug, Clone)]
pub struct StateKey {
    /// Mode's base URL.
    pub host: String,
    /// The workspace username.
    pub workspace: String,
    /// Assets and filters; a change forces a full fetch.
    pub selection: String,
}

/// How a run fetches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fetch {
    /// Everything, for the reason given.
    Full(String),
    /// Reusing what the previous complete run fetched, where unchanged.
    Incremental,
}

/// The last complete run a state remembers for a workspace.
#[derive(Debug, Clone)]
pub struct Previous {
    /// Its row in `workspaces`.
    pub id: i64,
    /// Its timestamp.
    pub ts: i64,
    /// The timestamp of the last full fetch.
    pub full_ts: i64,
    /// Written by this tool's version with the same selection: its rows may
    /// be reused (otherwise only compared against).
    pub reusable: bool,
}

/// What the state file held when the run started.
#[derive(Debug)]
enum StateFile {
    /// No `--state`.
    None,
    /// `--state` given; the previous run, if any.
    Usable(PathBuf, Option<Previous>),
    /// Unreadable: moved aside to `PATH.corrupt` when the run commits.
    Corrupt(PathBuf),
}

/// The store of one run. Shared by the fetch's concurrent tasks.
pub struct Store {
    conn: Mutex<Connection>,
    staging: tempfile::TempPath,
    state: StateFile,
    key: StateKey,
    fetch: Fetch,
    max_deletions: f64,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("staging", &self.staging)
            .field("state", &self.state)
            .field("fetch", &self.fetch)
            .finish_non_exhaustive()
    }
}

/// A SQLite error as the library's I/O error on `path`.
pub(crate) fn sql_error(action: &'static str, path: &Path, e: rusqlite::Error) -> Error {
    Error::io(action, path, std::io::Error::other(e))
}

impl Store {
    /// Opens the run's temporary store in `dir` and reads the state, if
    /// any, deciding how the run fetches (`now`: the run's timestamp).
    ///
    /// # Errors
    /// [`Error::Io`] when the temporary store cannot be created;
    /// [`Error::Config`] when the state was written by a newer schema.
    pub fn open(settings: &StoreSettings, dir: &Path, key: StateKey, now: i64) -> Result<Store> {
        let state = match &settings.path {
            None => StateFile::None,
            Some(path) => read_state(path, &key)?,
        };
        let fetch = decide(settings, &state, now);
        let staging = tempfile::Builder::new()
            .prefix(&format!("{TEMP_PREFIX}store-"))
            .tempfile_in(dir)
            .map_err(|e| Error::io("cannot create the run's store in", dir, e))?
            .into_temp_path();
        let conn = open_staging(&staging, &state)?;
        Ok(Store {
            conn: Mutex::new(conn),
            staging,
            state,
            key,
            fetch,
            max_deletions: settings.max_deletions,
        })
    }

    /// How this run fetches.
    pub fn fetch(&self) -> &Fetch {
        &self.fetch
    }

    /// Whether reports unchanged since the previous run are reused.
    pub fn incremental(&self) -> bool {
        self.fetch == Fetch::Incremental
    }

    /// The previous complete run, when the state has one.
    pub fn previous(&self) -> Option<&Previous> {
        match &self.state {
            StateFile::Usable(_, previous) => previous.as_ref(),
            _ => None,
        }
    }

    /// Whether the run has a state (and so tracks changes).
    pub fn has_state(&self) -> bool {
        !matches!(self.state, StateFile::None)
    }

    /// The largest share of an asset's previous rows a run may delete.
    pub fn max_deletions(&self) -> f64 {
        self.max_deletions
    }

    /// The connection (one statement at a time; held briefly).
    pub(crate) fn conn(&self) -> MutexGuard<'_, Connection> {
        self.conn.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The error of a failed statement on the run's store.
    pub(crate) fn error(&self, e: rusqlite::Error) -> Error {
        sql_error("cannot use the run's store", &self.staging, e)
    }

    /// Replaces the state's rows for this workspace by this run's, in one
    /// transaction. Called once the run's summary is written; without
    /// `--state` it does nothing.
    ///
    /// # Errors
    /// [`Error::Io`] when the state cannot be written (it is then unchanged).
    pub fn commit(self, ts: i64) -> Result<()> {
        let path = match &self.state {
            StateFile::None => return Ok(()),
            StateFile::Usable(path, _) => path.clone(),
            StateFile::Corrupt(path) => {
                let aside = corrupt_name(path);
                std::fs::rename(path, &aside)
                    .map_err(|e| Error::io("cannot move the unreadable state aside", path, e))?;
                tracing::warn!("the unreadable state was moved to {}", aside.display());
                path.clone()
            }
        };
        let full_ts = match (&self.fetch, self.previous()) {
            (Fetch::Incremental, Some(p)) => p.full_ts,
            _ => ts,
        };
        {
            let conn = self.conn();
            conn.execute_batch("COMMIT").map_err(|e| self.error(e))?;
            if self.previous().is_some() {
                conn.execute_batch("DETACH DATABASE state")
                    .map_err(|e| self.error(e))?;
            }
        }
        let mut state = open_state_for_write(&path)?;
        let fail = |e| sql_error("cannot update the state", &path, e);
        state
            .execute(
                "ATTACH DATABASE ?1 AS run",
                [self.staging.to_string_lossy()],
            )
            .map_err(fail)?;
        let tx = state.transaction().map_err(fail)?;
        write_state(&tx, &self.key, ts, full_ts).map_err(fail)?;
        tx.commit().map_err(fail)?;
        Ok(())
    }
}

/// `PATH.corrupt`.
fn corrupt_name(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(".corrupt");
    PathBuf::from(name)
}

/// Reads what the state file holds for `key`.
fn read_state(path: &Path, key: &StateKey) -> Result<StateFile> {
    if !path.exists() {
        return Ok(StateFile::Usable(path.to_owned(), None));
    }
    match check_state(path, key) {
        Ok(previous) => Ok(StateFile::Usable(path.to_owned(), previous)),
        Err(StateError::Newer(version)) => Err(Error::Config(format!(
            "--state {}: schema version {version} is newer than this extract-mode's ({}); \
             use a newer extract-mode or another state file",
            path.display(),
            schema::VERSION
        ))),
        Err(StateError::Unreadable(reason)) => {
            tracing::warn!(
                "the state {} is unreadable ({reason}); running a full fetch, and a new state replaces it",
                path.display()
            );
            Ok(StateFile::Corrupt(path.to_owned()))
        }
    }
}

enum StateError {
    Newer(i64),
    Unreadable(String),
}

impl From<rusqlite::Error> for StateError {
    fn from(e: rusqlite::Error) -> Self {
        StateError::Unreadable(e.to_string())
    }
}

/// Checks an existing state file, migrates an older schema forward, and
/// returns the previous run of `key` (`None` when it has none).
fn check_state(path: &Path, key: &StateKey) -> std::result::Result<Option<Previous>, StateError> {
    let mut conn = Connection::open(path)?;
    let check: String = conn.query_row("PRAGMA quick_check", [], |r| r.get(0))?;
    if check != "ok" {
        return Err(StateError::Unreadable(check));
    }
    let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if version > schema::VERSION {
        return Err(StateError::Newer(version));
    }
    migrate(&mut conn, version)?;
    if version < schema::VERSION && version > 0 {
        tracing::info!(
            "state schema migrated from version {version} to {}",
            schema::VERSION
        );
    }
    let previous = conn
        .query_row(
            "SELECT id, last_ts, last_full_ts, tool_version, selection FROM workspaces
             WHERE host = ?1 AND workspace = ?2",
            params![key.host, key.workspace],
            |r| {
                Ok((
                    Previous {
                        id: r.get(0)?,
                        ts: r.get(1)?,
                        full_ts: r.get(2)?,
                        reusable: false,
                    },
                    r.get::<_, String>(3)?,
                    r.get::<_, String>(4)?,
                ))
            },
        )
        .optional()?;
    Ok(previous.map(|(previous, tool, selection)| Previous {
        reusable: tool == env!("CARGO_PKG_VERSION") && selection == key.selection,
        ..previous
    }))
}

/// Applies the forward migrations from `version` in one transaction.
fn migrate(conn: &mut Connection, version: i64) -> rusqlite::Result<()> {
    if version >= schema::VERSION {
        return Ok(());
    }
    let tx = conn.transaction()?;
    for step in &schema::MIGRATIONS[usize::try_from(version).unwrap_or(0)..] {
        for sql in *step {
            tx.execute_batch(sql)?;
        }
    }
    tx.pragma_update(None, "user_version", schema::VERSION)?;
    tx.commit()
}

/// Full or incremental, and why.
fn decide(settings: &StoreSettings, state: &StateFile, now: i64) -> Fetch {
    let full = |why: &str| Fetch::Full(why.to_owned());
    match state {
        StateFile::None => full("no --state"),
        StateFile::Corrupt(_) => full("the state is unreadable"),
        StateFile::Usable(_, None) => full("the state has no previous run of this workspace"),
        StateFile::Usable(_, Some(_)) if settings.full => full("--full"),
        StateFile::Usable(_, Some(p)) if !p.reusable => {
            full("the tool's version or the selection of assets and filters changed")
        }
        StateFile::Usable(_, Some(p)) => {
            let age = now.saturating_sub(p.full_ts);
            if age < 0 || age as u64 >= settings.full_refresh_after.as_secs() {
                full("the last full fetch is older than --full-refresh-after")
            } else {
                Fetch::Incremental
            }
        }
    }
}

/// The temporary store: no journal, no sync (it is thrown away on any
/// failure), one transaction until [`Store::commit`]; the state attached
/// read side as `state` when it has a previous run.
fn open_staging(path: &Path, state: &StateFile) -> Result<Connection> {
    let fail = |e| sql_error("cannot create the run's store", path, e);
    let conn = Connection::open(path).map_err(fail)?;
    conn.execute_batch("PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF;")
        .map_err(fail)?;
    conn.execute_batch(schema::TABLES).map_err(fail)?;
    if let StateFile::Usable(state_path, Some(_)) = state {
        conn.execute(
            "ATTACH DATABASE ?1 AS state",
            [state_path.to_string_lossy()],
        )
        .map_err(|e| sql_error("cannot read the state", state_path, e))?;
    }
    conn.execute_batch("BEGIN").map_err(fail)?;
    Ok(conn)
}

/// The state file for the commit, created and migrated when new.
fn open_state_for_write(path: &Path) -> Result<Connection> {
    let fail = |e| sql_error("cannot open the state", path, e);
    let mut conn = Connection::open(path).map_err(fail)?;
    conn.busy_timeout(Duration::from_secs(60)).map_err(fail)?;
    let version: i64 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .map_err(fail)?;
    migrate(&mut conn, version).map_err(fail)?;
    Ok(conn)
}

/// The commit's statements: the workspace's row, then its items and written
/// rows replaced by the run's.
fn write_state(
    tx: &rusqlite::Transaction<'_>,
    key: &StateKey,
    ts: i64,
    full_ts: i64,
) -> rusqlite::Result<()> {
    tx.execute(
        "INSERT INTO workspaces (host, workspace, last_ts, last_full_ts, tool_version, selection)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)
         ON CONFLICT (host, workspace) DO UPDATE SET last_ts = ?3, last_full_ts = ?4,
             tool_version = ?5, selection = ?6",
        params![
            key.host,
            key.workspace,
            ts,
            full_ts,
            env!("CARGO_PKG_VERSION"),
            key.selection
        ],
    )?;
    let id: i64 = tx.query_row(
        "SELECT id FROM workspaces WHERE host = ?1 AND workspace = ?2",
        params![key.host, key.workspace],
        |r| r.get(0),
    )?;
    tx.execute("DELETE FROM main.items WHERE workspace_id = ?1", [id])?;
    tx.execute("DELETE FROM main.written WHERE workspace_id = ?1", [id])?;
    tx.execute(
        "INSERT INTO main.items SELECT ?1, kind, parent, ord, token, space, fingerprint, hint,
             complete, json FROM run.items",
        [id],
    )?;
    tx.execute(
        "INSERT INTO main.written SELECT ?1, asset, ord, token, name, hash FROM run.written",
        [id],
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> StateKey {
        StateKey {
            host: "https://app.mode.com".into(),
            workspace: "acme".into(),
            selection: "all".into(),
        }
    }

    fn settings(path: &Path) -> StoreSettings {
        StoreSettings {
            path: Some(path.to_owned()),
            ..StoreSettings::default()
        }
    }

    #[test]
    fn first_run_is_full_then_incremental_then_refreshed() {
        let dir = tempfile::tempdir().unwrap();
        let state = dir.path().join("state.sqlite");
        let store = Store::open(&settings(&state), dir.path(), key(), 1000).unwrap();
        assert!(matches!(store.fetch(), Fetch::Full(_)));
        store.commit(1000).unwrap();
        let store = Store::open(&settings(&state), dir.path(), key(), 2000).unwrap();
        assert_eq!(store.fetch(), &Fetch::Incremental);
        assert_eq!(store.previous().map(|p| p.ts), Some(1000));
        store.commit(2000).unwrap();
        let week = 7 * 24 * 3600;
        let store = Store::open(&settings(&state), dir.path(), key(), 1000 + week).unwrap();
        assert!(matches!(store.fetch(), Fetch::Full(_)));
        let other = StateKey {
            selection: "charts only".into(),
            ..key()
        };
        let store = Store::open(&settings(&state), dir.path(), other, 2001).unwrap();
        assert!(matches!(store.fetch(), Fetch::Full(_)));
        assert!(store.previous().is_some(), "still compared against");
    }

    #[test]
    fn newer_schema_is_refused_and_garbage_is_set_aside() {
        let dir = tempfile::tempdir().unwrap();
        let state = dir.path().join("state.sqlite");
        Connection::open(&state)
            .unwrap()
            .pragma_update(None, "user_version", 99)
            .unwrap();
        let err = Store::open(&settings(&state), dir.path(), key(), 1).unwrap_err();
        assert!(err.to_string().contains("schema version 99"), "{err}");
        std::fs::write(&state, b"not a database, not at all, no").unwrap();
        let store = Store::open(&settings(&state), dir.path(), key(), 1).unwrap();
        assert!(matches!(store.fetch(), Fetch::Full(_)));
        store.commit(1).unwrap();
        assert!(corrupt_name(&state).exists());
        let store = Store::open(&settings(&state), dir.path(), key(), 2).unwrap();
        assert_eq!(store.fetch(), &Fetch::Incremental);
    }
}
