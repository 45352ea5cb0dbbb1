//! `{ts}-changes.json` (with `--state` only): a JSON array of
//! `{"asset", "token", "change", "name"}` rows, `change` one of `added`,
//! `changed`, `deleted`, for every row of every asset file (asset names as in
//! the file names; a lineage row's token is its `query_token`) that differs
//! from the previous complete run's. Without a previous run every row is
//! `added`.
//!
//! Rows are compared by a hash of the row as written, less the keys a new
//! run alone moves ([`ACTIVITY_KEYS`]): a report that was only run is not
//! changed. Each row's hash goes to the store's `written` table, the next
//! run's previous side.

use std::collections::HashMap;
use std::io::Write;

use sha2::{Digest, Sha256};

use super::{RunContext, Writer, Written};
use crate::error::Result;
use crate::extract::assets::Asset;
use crate::extract::deletions::{exceeds, percent};
use crate::extract::problems::{ProblemKind, Problems};
use crate::extract::rows::RunRow;
use crate::extract::store::Store;
use crate::output::atomic::AtomicFile;

/// Report and dataset keys left out of the comparison: a run of the report
/// moves them, an edit does not need them to show.
pub const ACTIVITY_KEYS: [&str; 4] = [
    "view_count",
    "last_run_at",
    "last_successfully_run_at",
    "runs_count",
];

/// The changes file and the run's `written` rows.
pub struct Changes<'a> {
    store: &'a Store,
    assets: Vec<Asset>,
    problems: &'a Problems,
    file: AtomicFile,
    ords: HashMap<Asset, i64>,
}

impl<'a> Changes<'a> {
    /// Opens the changes file of `run`.
    ///
    /// # Errors
    /// [`crate::Error::Io`] when it cannot be created.
    pub fn create(run: &RunContext<'a>, store: &'a Store) -> Result<Self> {
        let name = format!("{}-changes.json", run.ts);
        Ok(Changes {
            store,
            assets: run.config.assets.iter().collect(),
            problems: run.problems,
            file: AtomicFile::create(&run.config.output, &name)?,
            ords: HashMap::new(),
        })
    }

    /// Withholds the deletions of every asset that would lose more than
    /// `--max-deletions` of its previous rows (reports and datasets are
    /// already kept by the fetch; this covers the other assets).
    fn fail_safe(&self) -> Result<()> {
        let max = self.store.max_deletions();
        for (asset, deleted, previous) in self.store.deletion_counts(&self.assets)? {
            if exceeds(deleted, previous, max) {
                self.store.withhold_deletions(&asset)?;
                let message = format!(
                    "{deleted} of {previous} {asset} rows would be deleted, more than --max-deletions ({}); none is recorded as deleted",
                    percent(max)
                );
                let asset = Asset::ALL
                    .into_iter()
                    .find(|a| a.name() == asset)
                    .map_or("asset", Asset::name);
                self.problems
                    .report(asset, "", ProblemKind::TooManyDeletions, message)?;
            }
        }
        Ok(())
    }
}

/// The comparison hash of a row: SHA-256 of its JSON less [`ACTIVITY_KEYS`].
pub fn row_hash(row: &RunRow) -> String {
    let mut value = serde_json::to_value(row).unwrap_or_default();
    if matches!(row, RunRow::Report(_) | RunRow::Dataset(_))
        && let Some(map) = value.as_object_mut()
    {
        for key in ACTIVITY_KEYS {
            map.remove(key);
        }
    }
    let text = serde_json::to_string(&value).unwrap_or_default();
    hex::encode(&Sha256::digest(text.as_bytes())[..16])
}

impl Writer for Changes<'_> {
    fn row(&mut self, row: &RunRow) -> Result<()> {
        let Some(token) = row.token().as_str() else {
            return Ok(());
        };
        let ord = self.ords.entry(row.asset()).or_default();
        *ord += 1;
        let name = row.name().as_str();
        self.store
            .put_written(row.asset(), *ord, token, name, &row_hash(row))
    }

    fn finish(mut self: Box<Self>, written: &mut Written) -> Result<()> {
        self.fail_safe()?;
        let mut count = 0usize;
        let file = &mut self.file;
        self.store.changes(&self.assets, |change| {
            file.write_all(if count == 0 { b"[" } else { b"," })
                .and_then(|()| serde_json::to_writer(&mut *file, &change).map_err(Into::into))
                .map_err(|e| file.write_error(e))?;
            count += 1;
            Ok(())
        })?;
        let end: &[u8] = if count == 0 { b"[]" } else { b"]" };
        self.file
            .write_all(end)
            .map_err(|e| self.file.write_error(e))?;
        let record = self.file.commit()?;
        tracing::info!("Wrote {} ({count} changes)", record.name);
        written.files.push(record);
        Ok(())
    }
}
