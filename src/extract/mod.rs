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
pub mod fetch;
mod lineage_rows;
pub mod preview;
pub mod problems;
pub mod rows;
mod write;

use std::path::Path;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::error::{Error, Result};
use crate::exit::ExitCode;
use crate::mode::ModeClient;
use crate::output::atomic::TEMP_PREFIX;
use crate::output::{DirLock, FileRecord, LockMode};
pub use config::{Action, ExtractConfig, ExtractOptions, Filters};

pub use problems::{ItemProblem, ProblemKind};

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

/// Runs one extraction into `config.output`.
///
/// # Errors
/// [`Error::Io`] when the output directory cannot be created or written,
/// [`Error::Locked`] when another run holds it, and every fatal error of
/// [`fetch::fetch_workspace`]. On any error no summary is written, and no
/// partially written file is left under a final name.
pub async fn run(config: &ExtractConfig) -> Result<RunReport> {
    let started = Instant::now();
    let ts = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or_default();
    let dir = config.output.clone();
    std::fs::create_dir_all(&dir)
        .map_err(|e| Error::io("cannot create output directory", &dir, e))?;
    let timeout = config.lock_timeout;
    let lock_dir = dir.clone();
    let _lock = tokio::task::spawn_blocking(move || {
        DirLock::acquire(&lock_dir, LockMode::Exclusive, timeout)
    })
    .await
    .map_err(|e| Error::Internal(format!("lock task failed: {e}")))??;
    remove_stale_temp_files(&dir);
    let client = ModeClient::new(&config.mode)?;
    let problems = problems::Problems::new(config.strict);
    let workspace = fetch::fetch_workspace(&client, config, &problems).await?;
    write::check_data_sources(&workspace, config, &problems)?;
    let files = write::write_run(config, ts, workspace, &problems, &client, started)?;
    Ok(RunReport {
        ts,
        files,
        problems: problems.sorted(),
        api: client.counters().snapshot(),
        duration: started.elapsed(),
    })
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
