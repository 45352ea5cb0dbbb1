//! The store's tables (see `docs/store.md`) and their versions.
//!
//! The schema version is SQLite's `PRAGMA user_version`. [`MIGRATIONS`]`[i]`
//! takes a state from version `i` to `i + 1`; a state written by a newer tool
//! (a version above [`VERSION`]) is refused with a clear error rather than
//! read wrongly.

/// The schema version this tool writes.
pub const VERSION: i64 = 1;

/// Forward migrations, one per version step; the first creates the tables.
pub const MIGRATIONS: [&[&str]; 1] = [&[WORKSPACES, TABLES]];

/// Version 1: `workspaces`, one row per Mode host and workspace, its last
/// complete run, then [`TABLES`].
const WORKSPACES: &str = "
CREATE TABLE workspaces (
    id            INTEGER PRIMARY KEY,
    host          TEXT NOT NULL,
    workspace     TEXT NOT NULL,
    last_ts       INTEGER NOT NULL,
    last_full_ts  INTEGER NOT NULL,
    tool_version  TEXT NOT NULL,
    selection     TEXT NOT NULL,
    UNIQUE (host, workspace)
);
";

/// The rows of a run, in the state (per workspace) and in the temporary
/// store every run writes as it fetches (where `workspace_id` is 0).
///
/// - `items`: what the run fetched, reduced to rows (JSON text), from which
///   the files are made; a report's `fingerprint` decides whether its
///   children (`query`, `chart`, `import`, `dataset_query` items whose
///   `parent` is its token) can be reused.
/// - `written`: every row the run wrote, per asset file, with a hash of the
///   row without its activity keys (what `{ts}-changes.json` compares).
pub const TABLES: &str = "
CREATE TABLE items (
    workspace_id  INTEGER NOT NULL,
    kind          TEXT NOT NULL,
    parent        TEXT NOT NULL,
    ord           INTEGER NOT NULL,
    token         TEXT,
    space         TEXT,
    fingerprint   TEXT,
    hint          TEXT,
    complete      INTEGER NOT NULL DEFAULT 1,
    json          TEXT NOT NULL,
    PRIMARY KEY (workspace_id, kind, parent, ord)
);
CREATE INDEX items_by_token ON items (workspace_id, kind, token);
CREATE TABLE written (
    workspace_id  INTEGER NOT NULL,
    asset         TEXT NOT NULL,
    ord           INTEGER NOT NULL,
    token         TEXT NOT NULL,
    name          TEXT,
    hash          TEXT NOT NULL,
    PRIMARY KEY (workspace_id, asset, ord)
);
CREATE INDEX written_by_token ON written (workspace_id, asset, token);
";
