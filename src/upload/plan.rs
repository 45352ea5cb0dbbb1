//! What one upload will send, in which order, and why: the [`Plan`].
//!
//! Order: runs by ascending timestamp, each run's files before its summary
//! (the summary is sent only once every other file of the run is
//! acknowledged). Files that belong to no run are never sent. `--dry-run`
//! prints the plan and stops.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::output::FileRecord;

use super::discover::{Discovery, SkipReason, discover};
use super::ledger::{Ledger, LedgerScope};
use super::remote::{remote_path, remote_segments};
use super::verify::verify_run;
use super::{Target, UploadConfig};

/// Why a file is in the plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SendReason {
    /// `-f`: asked for explicitly.
    Requested,
    /// Not in the ledger for this source id, endpoint and type.
    New,
    /// In the ledger with other content.
    Changed,
    /// In the ledger, but `--force`.
    Forced,
}

impl SendReason {
    /// A short phrase for `--dry-run`.
    pub const fn describe(self) -> &'static str {
        match self {
            SendReason::Requested => "requested with --file_path",
            SendReason::New => "not sent before",
            SendReason::Changed => "changed since it was last sent",
            SendReason::Forced => "already sent, --force",
        }
    }
}

/// One file to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedFile {
    /// Base name (the multipart part's file name).
    pub name: String,
    /// Local path.
    pub path: PathBuf,
    /// Size in bytes at planning time.
    pub bytes: u64,
    /// SHA-256 at planning time; `None` for `-f` (no ledger, not hashed).
    pub sha256: Option<String>,
    /// Remote path segments (see [`super::remote_segments`]).
    pub remote: Vec<String>,
    /// Why it is sent.
    pub reason: SendReason,
}

impl PlannedFile {
    /// The remote path, `visualization-{id}/{name}` etc.
    pub fn remote_path(&self) -> String {
        remote_path(&self.remote)
    }
}

/// Files sent together, then one sent last (a run's summary).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Batch {
    /// The run's timestamp; `None` for a `-f` file.
    pub run: Option<i64>,
    /// Sent concurrently.
    pub files: Vec<PlannedFile>,
    /// Sent after every file of `files` was acknowledged.
    pub last: Option<PlannedFile>,
}

/// Where an upload goes, for its last line.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Destination {
    /// The endpoint's host, with its port when the URL names one
    /// (`ingest.castordoc.com`, `127.0.0.1:8080`).
    pub host: String,
    /// The source id, lowercase hyphenated.
    pub source_id: String,
}

impl Destination {
    /// The destination of `config`.
    pub fn of(config: &UploadConfig) -> Destination {
        let url = &config.endpoint;
        let host = url.host_str().unwrap_or_default();
        let host = match url.port() {
            Some(port) => format!("{host}:{port}"),
            None => host.to_owned(),
        };
        Destination {
            host,
            source_id: config.source_id_str(),
        }
    }
}

/// Everything an upload decided before sending.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Plan {
    /// Where the files go.
    pub destination: Destination,
    /// `-d`: a directory was planned (`false` for `-f`).
    pub directory: bool,
    /// Timestamps of the runs that passed their check, ascending, whether or
    /// not any of their files still had to be sent.
    pub complete: Vec<i64>,
    /// What to send, in order.
    pub batches: Vec<Batch>,
    /// Files skipped because the ledger says they were acknowledged: (name, when).
    pub already_sent: Vec<(String, String)>,
    /// Files never sent (not json/csv, link, no run, …), hidden files included
    /// (they are left out of listings and logs).
    pub skipped: Vec<(String, SkipReason)>,
    /// Runs that failed their integrity check, one line each.
    pub refused: Vec<String>,
    /// Runs without a summary: (ts, their files).
    pub incomplete: Vec<(i64, Vec<String>)>,
}

impl Plan {
    /// Every file to send, in order.
    pub fn files(&self) -> impl Iterator<Item = &PlannedFile> {
        self.batches
            .iter()
            .flat_map(|b| b.files.iter().chain(b.last.as_ref()))
    }

    /// Total bytes to send.
    pub fn total_bytes(&self) -> u64 {
        self.files().map(|f| f.bytes).sum()
    }

    /// `--dry-run`'s listing, one line per file or run: `send`, `skip`,
    /// `refuse` or `incomplete`, tab-separated.
    ///
    /// # Errors
    /// Whatever `out` returns.
    pub fn write_listing(&self, out: &mut impl Write) -> std::io::Result<()> {
        for f in self.files() {
            let why = f.reason.describe();
            writeln!(
                out,
                "send\t{}\t{} bytes\t{}\t{why}",
                f.name,
                f.bytes,
                f.remote_path()
            )?;
        }
        for (name, when) in &self.already_sent {
            writeln!(out, "skip\t{name}\talready acknowledged at {when}")?;
        }
        for (ts, files) in &self.incomplete {
            writeln!(
                out,
                "incomplete\trun {ts}\tno {ts}-summary.json (killed or failed extract-mode); {} file(s) held back",
                files.len()
            )?;
        }
        for line in &self.refused {
            writeln!(out, "refuse\t{line}")?;
        }
        for (name, reason) in self
            .skipped
            .iter()
            .filter(|(_, r)| *r != SkipReason::Hidden)
        {
            writeln!(out, "skip\t{name}\t{}", reason.describe())?;
        }
        Ok(())
    }

    /// Logs what the plan holds back: refused runs (ERROR), incomplete runs
    /// (WARN), skipped files other than hidden ones (INFO), and a directory
    /// with no complete run (ERROR).
    pub fn log(&self) {
        for reason in &self.refused {
            tracing::error!("{reason}");
        }
        for (ts, files) in &self.incomplete {
            tracing::warn!(
                "run {ts} is incomplete (no {ts}-summary.json: extract-mode was killed or failed): {} file(s) not sent; the next extract-mode into this directory removes them",
                files.len()
            );
        }
        for (name, reason) in self
            .skipped
            .iter()
            .filter(|(_, r)| *r != SkipReason::Hidden)
        {
            tracing::info!("skipping {name}: {}", reason.describe());
        }
        if self.directory && self.complete.is_empty() && self.refused.is_empty() {
            tracing::error!(
                "the directory holds no complete run ({{ts}}-summary.json and its files): nothing to upload"
            );
        }
    }
}

/// Plans a `-f` upload: the file must be readable now, so an unreadable file
/// fails before any request. `now_ts` is the upload time in Unix seconds.
///
/// # Errors
/// [`Error::Io`] when the file cannot be opened.
pub fn plan_file(config: &UploadConfig, path: &Path, now_ts: i64) -> Result<Plan> {
    let file = std::fs::File::open(path).map_err(|e| Error::io("cannot open", path, e))?;
    let bytes = file
        .metadata()
        .map_err(|e| Error::io("cannot read", path, e))?
        .len();
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .ok_or_else(|| {
            Error::Config(format!(
                "--file_path: '{}' has no file name",
                path.display()
            ))
        })?;
    let remote = segments(config, &name, now_ts);
    let planned = PlannedFile {
        name,
        path: path.to_owned(),
        bytes,
        sha256: None,
        remote,
        reason: SendReason::Requested,
    };
    Ok(Plan {
        destination: Destination::of(config),
        batches: vec![Batch {
            run: None,
            files: vec![planned],
            last: None,
        }],
        ..Plan::default()
    })
}

/// Plans a `-d` upload against the ledger. The caller holds the directory lock.
///
/// # Errors
/// [`Error::Io`] when the directory or a file in it cannot be read.
pub fn plan_directory(
    config: &UploadConfig,
    dir: &Path,
    ledger: &Ledger,
    now_ts: i64,
) -> Result<Plan> {
    let found: Discovery = discover(dir)?;
    let planner = Planner {
        config,
        dir,
        ledger,
        scope: scope(config),
        now_ts,
    };
    let mut plan = Plan {
        destination: Destination::of(config),
        directory: true,
        skipped: found.skipped,
        ..Plan::default()
    };
    for run in &found.runs {
        if !run.has_summary {
            plan.incomplete.push((run.ts, run.files.clone()));
            continue;
        }
        match verify_run(dir, run)? {
            Err(reason) => plan.refused.push(reason),
            Ok(verified) => {
                plan.complete.push(verified.ts);
                let files = planner.select(&verified.files, &mut plan.already_sent);
                let last = planner.select(&[verified.summary], &mut plan.already_sent);
                plan.push(Batch {
                    run: Some(verified.ts),
                    files,
                    last: last.into_iter().next(),
                });
            }
        }
    }
    Ok(plan)
}

impl Plan {
    fn push(&mut self, batch: Batch) {
        if !batch.files.is_empty() || batch.last.is_some() {
            self.batches.push(batch);
        }
    }
}

/// The ledger scope of a config.
pub fn scope(config: &UploadConfig) -> LedgerScope {
    LedgerScope {
        source_id: config.source_id_str(),
        endpoint: config.endpoint.as_str().trim_end_matches('/').to_owned(),
        file_type: config.file_type.as_str().to_owned(),
    }
}

fn segments(config: &UploadConfig, name: &str, now_ts: i64) -> Vec<String> {
    let project = config.project_name.as_deref().unwrap_or_default();
    remote_segments(config.file_type, config.source_id, name, project, now_ts)
}

struct Planner<'a> {
    config: &'a UploadConfig,
    dir: &'a Path,
    ledger: &'a Ledger,
    scope: LedgerScope,
    now_ts: i64,
}

impl Planner<'_> {
    /// The records to send; acknowledged ones go to `already`.
    fn select(
        &self,
        records: &[FileRecord],
        already: &mut Vec<(String, String)>,
    ) -> Vec<PlannedFile> {
        let mut out = Vec::new();
        for rec in records {
            let reason = match self.ledger.acknowledged(rec, &self.scope) {
                Some(_) if self.config.options.force => SendReason::Forced,
                Some(entry) => {
                    already.push((rec.name.clone(), entry.acknowledged_at.clone()));
                    continue;
                }
                None if self.ledger.has_name(&rec.name, &self.scope) => SendReason::Changed,
                None => SendReason::New,
            };
            out.push(self.planned(rec, reason));
        }
        out
    }

    fn planned(&self, rec: &FileRecord, reason: SendReason) -> PlannedFile {
        PlannedFile {
            name: rec.name.clone(),
            path: self.dir.join(&rec.name),
            bytes: rec.bytes,
            sha256: Some(rec.sha256.clone()),
            remote: segments(self.config, &rec.name, self.now_ts),
            reason,
        }
    }
}

/// The target's directory, if it is one.
pub fn target_dir(config: &UploadConfig) -> Option<&Path> {
    match &config.target {
        Target::Directory(d) => Some(d),
        Target::File(_) => None,
    }
}
