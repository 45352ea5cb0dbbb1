//! The writer seam: one stream of rows per run ([`super::stream`]) feeding
//! every output of the run.
//!
//! Each output is a [`Writer`]: it sees every row, in stream order, then is
//! finished in registration order ([`writers`]): the asset files in
//! [`Asset::ALL`] order, then `{ts}-errors_logs.json`, then `{ts}-summary.json`
//! last (a directory holding a run's files but not its summary holds an
//! incomplete run). A new output format is one module implementing
//! [`Writer`] and one line in [`writers`]; a new asset is one row type in
//! [`super::rows`] and its place in the stream.
//!
//! Nothing is final until its writer is finished: a writer's error (a full
//! disk, `--strict`'s first item problem) ends the run with no file renamed
//! into place after it.

mod changes;
mod checks;
mod files;
mod summary;

use std::time::Instant;

use serde_json::{Map, Value};

use super::problems::Problems;
use super::rows::RunRow;
use super::store::Store;
use super::stream;
use crate::error::Result;
use crate::extract::config::ExtractConfig;
use crate::mode::ModeClient;
use crate::output::FileRecord;

/// What the finished writers have produced so far, in order.
#[derive(Debug, Default)]
pub struct Written {
    /// Files written, in the order they were finished.
    pub files: Vec<FileRecord>,
    /// Rows written per asset file, e.g. `{"report": 400}`, in file order.
    pub counts: Map<String, Value>,
}

/// One output of a run.
pub trait Writer {
    /// Takes one row of the stream (every writer sees every row).
    ///
    /// # Errors
    /// [`crate::Error::Io`] when a file cannot be written;
    /// [`crate::Error::Strict`] for an item problem under `--strict`.
    fn row(&mut self, row: &RunRow) -> Result<()>;

    /// After the last row: finishes the output and records what it wrote.
    ///
    /// # Errors
    /// As [`Writer::row`].
    fn finish(self: Box<Self>, written: &mut Written) -> Result<()>;
}

/// What the writers of a run need to know about it.
pub struct RunContext<'a> {
    /// The run's settings.
    pub config: &'a ExtractConfig,
    /// The run's timestamp (Unix seconds).
    pub ts: i64,
    /// The run's item problems.
    pub problems: &'a Problems,
    /// The Mode client (its call counters go into the summary).
    pub client: &'a ModeClient,
    /// When the run started.
    pub started: Instant,
    /// The run's store: the rows' source, and the state.
    pub store: &'a Store,
}

/// The writers of a run, in the order they are finished.
///
/// # Errors
/// [`crate::Error::Io`] when an asset file cannot be created.
pub fn writers<'a>(run: &'a RunContext<'a>) -> Result<Vec<Box<dyn Writer + 'a>>> {
    let mut writers: Vec<Box<dyn Writer + 'a>> = Vec::new();
    if run.config.assets.needs_data_sources() {
        writers.push(Box::new(checks::DataSourceCheck::new(run.problems)));
    }
    for asset in run.config.assets.iter() {
        writers.push(Box::new(files::AssetFile::create(run, asset)?));
    }
    if run.store.has_state() {
        writers.push(Box::new(changes::Changes::create(run, run.store)?));
    }
    writers.push(Box::new(summary::ErrorsLog::new(run)));
    writers.push(Box::new(summary::Summary::new(run)));
    Ok(writers)
}

/// Streams the run's store through the run's writers and returns every
/// file written, summary last.
///
/// This is synchronous work that does not yield, so it polls
/// [`crate::signal::check`] at every row and before every file is finished:
/// a SIGTERM mid-write stops it within a row, the unfinished temporary files
/// are dropped (removed), and no summary is written.
///
/// # Errors
/// The first writer error; [`crate::Error::Interrupted`] after a signal.
pub fn write_run(run: &RunContext<'_>) -> Result<Vec<FileRecord>> {
    let mut writers = writers(run)?;
    stream::each_row(run.store, &run.config.assets, &mut |row| {
        crate::signal::check()?;
        writers.iter_mut().try_for_each(|w| w.row(&row))
    })?;
    let mut written = Written::default();
    for writer in writers {
        crate::signal::check()?;
        writer.finish(&mut written)?;
    }
    Ok(written.files)
}
