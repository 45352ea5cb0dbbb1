//! One extraction run: lock the output directory, fetch the workspace, write
//! the files, write the summary last.
//!
//! ```no_run
//! # async fn demo(config: mode_extractor::ExtractConfig) -> mode_extractor::Result<()> {
//! let report = mode_extractor::extract::run(&config).await?;
//! println!("{} files, exit code {}", report.files.len(), report.exit_code());
//! # Ok(()) }
//! ```

pub mod assets;
pub mod config;
mod ctx;
mod deletions;
pub mod fetch;
mod lineage_rows;
mod listings;
pub mod preview;
pub mod problems;
pub mod rows;
pub mod store;
mod stream;
mod write;

use std::path::Path;
use std::time::{Duration, Instant};

use crate::error::Result;
use crate::exit::ExitCode;
use crate::mode::ModeClient;
use crate::output::atomic::TEMP_PREFIX;
use crate::output::{DirLock, FileRecord, LockMode, create_run_dir, runs};
pub use config::{Action, ExtractConfig, ExtractOptions, Filters};

use assets::Asset;

pub use problems::{ItemProblem, ProblemKind};
pub use store::{Fetch, StoreSettings};

/// `{ts}-errors_logs.json`'s part after `{ts}-`.
const ERRORS_LOG_SUFFIX: &str = "errors_logs.json";

/// `{ts}-changes.json`'s part after `{ts}-` (written with a state).
const CHANGES_SUFFIX: &str = "changes.json";

/// What a finished run produced.
#[derive(Debug, Clone)]
pub struct RunReport {
    /// The run's timestamp (Unix seconds), the prefix of every file name.
    pub ts: i64,
    /// Every file written, summary last.
    pub files: Vec<FileRecord>,
    /// Item problems (empty for a clean run).
    pub problems: Vec<ItemProblem>,
    /// `(calls, retries, 429s)` made to Mode.
    pub api: (u64, u64, u64),
    /// Wall time.
    pub duration: Duration,
}

impl RunReport {
    /// [`ExitCode::Success`], or [`ExitCode::ItemErrors`] when items had problems.
    pub fn exit_code(&self) -> ExitCode {
        if self.problems.is_empty() {
            ExitCode::Success
        } else {
            ExitCode::ItemErrors
        }
    }
}

/// Runs one extraction into `config.output`; with `config.state.path`, an
/// incremental one against the state's previous complete run, which it
/// then replaces (see [`store`]).
///
/// The directory is created (mode `0700`, see [`create_run_dir`]) when
/// missing, then locked exclusively. Under the lock: the run's `ts` is chosen
/// so that no file of the directory has it yet ([`runs::new_run_ts`]: now, or
/// the next second), and the files of an older run of ours without a summary
/// (killed or failed) are removed, with a warning naming the run.
///
/// # Errors
/// [`crate::Error::Io`] when the output directory, the run's store or the
/// state cannot be created, listed or written, or the directory already holds
/// files of the new `ts` after a one-second wait; [`crate::Error::Locked`] when
/// another run holds the directory; [`crate::Error::Config`] for a state of a
/// newer schema; and every fatal error of [`fetch::fetch_workspace`]. On any
/// error no summary is written, no partially written file is left under a
/// final name, and the state is unchanged.
pub async fn run(config: &ExtractConfig) -> Result<RunReport> {
    let started = Instant::now();
    let dir = config.output.clone();
    create_run_dir(&dir)?;
    let _lock = DirLock::acquire(&dir, LockMode::Exclusive, config.lock_timeout).await?;
    remove_stale_temp_files(&dir);
    let ts = runs::new_run_ts(&dir).await?;
    runs::remove_incomplete_runs(&dir, ts, is_our_file)?;
    let client = ModeClient::new(&config.mode)?;
    let store = store::Store::open(&config.state, &dir, state_key(config), ts)?;
    if let Fetch::Full(why) = store.fetch()
        && store.has_state()
    {
        tracing::info!("Full fetch: {why}");
    } else if store.incremental() {
        tracing::info!(
            "Incremental fetch against the state's run of {}",
            store.previous().map_or(0, |p| p.ts)
        );
    }
    let problems = problems::Problems::new(config.strict);
    fetch::fetch_workspace(&client, config, &problems, &store).await?;
    let context = write::RunContext {
        config,
        ts,
        problems: &problems,
        client: &client,
        started,
        store: &store,
    };
    let files = write::write_run(&context)?;
    store.commit(ts)?;
    Ok(RunReport {
        ts,
        files,
        problems: problems.sorted(),
        api: client.counters().snapshot(),
        duration: started.elapsed(),
    })
}

/// Whether `{ts}-{rest}` is a file extract-mode writes: an asset's file, the
/// changes file or the errors log (the summary marks a run complete and is
/// never removed).
fn is_our_file(rest: &str) -> bool {
    rest == ERRORS_LOG_SUFFIX
        || rest == CHANGES_SUFFIX
        || Asset::ALL
            .iter()
            .any(|a| rest.strip_suffix(".json") == Some(a.name()))
}

/// What a state is about: host, workspace, and the selection it was made with.
fn state_key(config: &ExtractConfig) -> store::StateKey {
    store::StateKey {
        host: config.mode.host.as_str().trim_end_matches('/').to_owned(),
        workspace: config.workspace().to_owned(),
        selection: serde_json::json!({
            "assets": config.assets.names(),
            "filters": config.filters.to_json(),
        })
        .to_string(),
    }
}

/// Removes `.tmp-*` files a killed run may have left (we hold the lock, so no
/// live run is writing them).
fn remove_stale_temp_files(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        if name.to_string_lossy().starts_with(TEMP_PREFIX) {
            tracing::debug!(file = %name.to_string_lossy(), "removing a stale temporary file");
            let _ = std::fs::remove_file(entry.path());
        }
    }
}
