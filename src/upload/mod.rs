//! `upload`: push a file or a run directory to the catalog's ingest endpoint.
//!
//! A drop-in for castor-extractor's `castor-upload` (0.26.131): same settings
//! ([`settings`]), same remote paths ([`remote`]), same request ([`send`]).
//! Beyond castor, a directory upload:
//!
//! - takes the directory's shared lock, so it never reads a run extract-mode is
//!   still writing (extract-mode holds it exclusively);
//! - sends a run (`{ts}-*` files) only when `{ts}-summary.json` exists and every
//!   file matches the size and SHA-256 it records ([`verify`]), summary last;
//! - records each acknowledged file in a ledger and skips it next time
//!   ([`ledger`]), so a rerun resumes where the last one stopped;
//! - sends up to `--concurrency` files at once and retries transient failures
//!   with the whole file each time.
//!
//! ```no_run
//! # async fn demo(config: mode_extractor::upload::UploadConfig) -> mode_extractor::Result<()> {
//! let report = mode_extractor::upload::run(&config).await?;
//! std::process::exit(report.exit_code().code().into());
//! # }
//! ```

pub mod config;
pub mod discover;
pub mod ledger;
pub mod plan;
pub mod remote;
pub mod report;
pub mod send;
pub mod settings;
pub mod verify;

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use futures::{StreamExt, TryStreamExt};

pub use config::{FileType, Options, Target, UploadConfig, Zone};
pub use ledger::{LEDGER_FILE_NAME, Ledger};
pub use plan::{Plan, PlannedFile, SendReason};
pub use remote::{remote_path, remote_segments};
pub use report::UploadReport;
pub use send::Sender;
pub use settings::env;

use crate::error::{Error, Result};
use crate::output::{DirLock, LockMode};
use crate::progress::{Progress, Unit};

/// Plans, then (unless `--dry-run`) sends, and reports.
///
/// For a directory the shared lock is held from planning to the last
/// acknowledgement. The first fatal error (401, 403, retries exhausted, an
/// unreadable file) stops the upload; files acknowledged before it are in the
/// ledger, so the next run resumes.
///
/// # Errors
/// See [`Error`]: `Config`, `Locked`, `Io`, `Unauthorized`, `Forbidden`,
/// `Http`, `Unreachable`, `Integrity` (a file changed during the upload).
pub async fn run(config: &UploadConfig) -> Result<UploadReport> {
    let now_ts = chrono::Utc::now().timestamp();
    let (plan, ledger, _lock) = match &config.target {
        Target::File(path) => (plan::plan_file(config, path, now_ts)?, None, None),
        Target::Directory(dir) => {
            let lock = acquire(dir, config.options.lock_timeout).await?;
            let ledger = if config.options.dry_run {
                Ledger::load(dir)
            } else {
                Ledger::open(dir)
            };
            let plan = plan::plan_directory(config, dir, &ledger, now_ts)?;
            (plan, Some(Arc::new(ledger)), Some(lock))
        }
    };
    log_plan(&plan);
    let mut report = UploadReport {
        dry_run: config.options.dry_run,
        ..UploadReport::default()
    };
    if !report.dry_run {
        let progress = Arc::new(Progress::start(
            "upload",
            Unit::Bytes,
            plan.total_bytes(),
            config.options.progress_every,
            None,
        ));
        let sender = Sender::new(config, progress)?;
        let counts = execute(config, &sender, &plan, ledger).await;
        report.retries = sender.retries();
        let (files, bytes) = counts?;
        report.files_sent = files;
        report.bytes_sent = bytes;
    }
    report.plan = plan;
    tracing::info!("{}", report.summary_line());
    Ok(report)
}

async fn acquire(dir: &Path, timeout: Option<std::time::Duration>) -> Result<DirLock> {
    let dir = dir.to_owned();
    tokio::task::spawn_blocking(move || DirLock::acquire(&dir, LockMode::Shared, timeout))
        .await
        .map_err(|e| Error::Internal(format!("lock task failed: {e}")))?
}

fn log_plan(plan: &Plan) {
    for reason in &plan.refused {
        tracing::error!("{reason}");
    }
    for (ts, files) in &plan.incomplete {
        tracing::warn!(
            "run {ts} is incomplete (no {ts}-summary.json): {} file(s) not sent",
            files.len()
        );
    }
    for f in plan.files().filter(|f| f.stray) {
        tracing::warn!("{}: not part of a run; sending it as castor would", f.name);
    }
    for (name, reason) in &plan.skipped {
        if *reason != discover::SkipReason::Hidden {
            tracing::info!("skipping {name}: {}", reason.describe());
        }
    }
}

/// Files and bytes acknowledged so far.
#[derive(Default)]
struct Counts {
    files: AtomicU64,
    bytes: AtomicU64,
}

/// Sends the batches in order; returns (files, bytes) acknowledged.
async fn execute(
    config: &UploadConfig,
    sender: &Sender,
    plan: &Plan,
    ledger: Option<Arc<Ledger>>,
) -> Result<(u64, u64)> {
    let counts = Counts::default();
    for batch in &plan.batches {
        let sends = batch
            .files
            .iter()
            .map(|f| send_counted(config, sender, f, ledger.clone(), &counts));
        futures::stream::iter(sends)
            .buffer_unordered(config.options.concurrency)
            .try_collect::<()>()
            .await?;
        if let Some(last) = &batch.last {
            send_counted(config, sender, last, ledger.clone(), &counts).await?;
        }
    }
    Ok((counts.files.into_inner(), counts.bytes.into_inner()))
}

async fn send_counted(
    config: &UploadConfig,
    sender: &Sender,
    file: &PlannedFile,
    ledger: Option<Arc<Ledger>>,
    counts: &Counts,
) -> Result<()> {
    send_one(config, sender, file, ledger).await?;
    counts.files.fetch_add(1, Ordering::Relaxed);
    counts.bytes.fetch_add(file.bytes, Ordering::Relaxed);
    Ok(())
}

async fn send_one(
    config: &UploadConfig,
    sender: &Sender,
    file: &PlannedFile,
    ledger: Option<Arc<Ledger>>,
) -> Result<()> {
    sender.send(file).await?;
    let remote = file.remote_path();
    tracing::info!(
        "Uploaded {} as {} to {remote}",
        file.path.display(),
        config.file_type.as_str()
    );
    let (Some(ledger), Some(sha256)) = (ledger, file.sha256.clone()) else {
        return Ok(());
    };
    let scope = plan::scope(config);
    let entry = ledger::LedgerEntry {
        name: file.name.clone(),
        bytes: file.bytes,
        sha256,
        source_id: scope.source_id,
        endpoint: scope.endpoint,
        file_type: scope.file_type,
        remote_path: remote,
        acknowledged_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
    };
    let written = tokio::task::spawn_blocking(move || ledger.record(&entry)).await;
    match written {
        Ok(Ok(())) => {}
        Ok(Err(e)) => tracing::warn!("{}: sent, but not recorded in the ledger: {e}", file.name),
        Err(e) => tracing::warn!("{}: sent, but not recorded in the ledger: {e}", file.name),
    }
    Ok(())
}

#[cfg(test)]
mod run_tests;
