//! Which runs of a directory a push covers, verified against their summaries
//! exactly as the castor upload does ([`crate::upload::verify`]), and the
//! ledger that makes a pushed run count as done.
//!
//! The newest complete, verified run is pushed. Older runs not yet pushed are
//! superseded by it, except for their deletions: every pending run's
//! `{ts}-changes.json` is applied (an item deleted on Monday stays deleted
//! even if Tuesday's run is the one pushed). Once a push ends without an
//! entity failure, every file of every pending run is recorded in the upload
//! ledger under the scope `openmetadata:{service}` @ `{host}`, so a rerun
//! finds nothing to do (`--force` pushes again).

use std::path::Path;

use crate::error::Result;
use crate::output::FileRecord;
use crate::upload::discover::discover;
use crate::upload::ledger::{Ledger, LedgerEntry, LedgerScope};
use crate::upload::verify::verify_run;

use super::config::OmConfig;

/// The ledger's `file_type` for OpenMetadata pushes.
pub const LEDGER_TYPE: &str = "OPENMETADATA";

/// A verified run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Run {
    /// Its timestamp.
    pub ts: i64,
    /// Its files, summary last.
    pub files: Vec<FileRecord>,
}

impl Run {
    /// The file names.
    pub fn names(&self) -> Vec<String> {
        self.files.iter().map(|f| f.name.clone()).collect()
    }
}

/// What the directory holds for this push.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Selection {
    /// Verified runs not pushed yet (all of them with `--force`), oldest first;
    /// the last one is pushed.
    pub pending: Vec<Run>,
    /// Timestamps of verified runs already pushed.
    pub already: Vec<i64>,
    /// Runs refused by their summary check, one line each.
    pub refused: Vec<String>,
    /// Runs without a summary.
    pub incomplete: Vec<i64>,
}

/// The ledger scope of a push.
pub fn scope(config: &OmConfig) -> LedgerScope {
    LedgerScope {
        source_id: format!("openmetadata:{}", config.service),
        endpoint: config.host.as_str().trim_end_matches('/').to_owned(),
        file_type: LEDGER_TYPE.to_owned(),
    }
}

/// Discovers and verifies the runs of `dir`.
///
/// # Errors
/// [`crate::Error::Io`] when the directory or a file cannot be read.
pub fn select(config: &OmConfig, dir: &Path, ledger: &Ledger) -> Result<Selection> {
    let scope = scope(config);
    let mut out = Selection::default();
    for run in discover(dir)?.runs {
        if !run.has_summary {
            out.incomplete.push(run.ts);
            continue;
        }
        match verify_run(dir, &run)? {
            Err(reason) => out.refused.push(reason),
            Ok(v) => {
                let done = ledger.acknowledged(&v.summary, &scope).is_some();
                if done && !config.force {
                    out.already.push(v.ts);
                    continue;
                }
                let mut files = v.files;
                files.push(v.summary);
                out.pending.push(Run { ts: v.ts, files });
            }
        }
    }
    Ok(out)
}

/// Records every file of `runs` as pushed.
pub fn record(config: &OmConfig, ledger: &Ledger, runs: &[Run]) {
    let scope = scope(config);
    let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    for file in runs.iter().flat_map(|r| &r.files) {
        let entry = LedgerEntry {
            name: file.name.clone(),
            bytes: file.bytes,
            sha256: file.sha256.clone(),
            source_id: scope.source_id.clone(),
            endpoint: scope.endpoint.clone(),
            file_type: scope.file_type.clone(),
            remote_path: format!("{}/v1", scope.endpoint),
            acknowledged_at: now.clone(),
        };
        if let Err(e) = ledger.record(&entry) {
            tracing::warn!("{}: pushed, but not recorded in the ledger: {e}", file.name);
        }
    }
}
