//! What is in a run directory: runs, and files that are never sent.
//!
//! castor (`uploader/utils.py::iter_files`) sends every regular file directly in
//! the directory whose name ends in `.json` or `.csv`, and skips the rest. We
//! keep that rule and narrow it: hidden files (our lock, temporary files and
//! ledger) are never sent; symbolic links are not followed; files named
//! `{ts}-…` (ts = Unix seconds, see [`crate::output::run_ts`]) are grouped into
//! runs, which are sent only when `{ts}-summary.json` exists and vouches for
//! them (see [`super::verify`]); a file that belongs to no run (`notes.json`, a
//! hard link to a file elsewhere) is not sent at all: nothing vouches for it.

use std::collections::BTreeMap;
use std::fs::DirEntry;
use std::path::Path;

use crate::error::{Error, Result};
use crate::output::{run_ts, summary_file_name};

/// Why a directory entry is not sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SkipReason {
    /// The name starts with `.`: the lock, temporary files, the ledger.
    Hidden,
    /// A symbolic link; not followed.
    Symlink,
    /// A directory, socket, fifo or device.
    NotAFile,
    /// Not `.json`/`.csv` (castor: "Forbidden file extension").
    Extension,
    /// The name is not valid UTF-8 and cannot be put in a URL as castor would.
    NotUtf8,
    /// A `.json`/`.csv` file without a `{ts}-` prefix: it belongs to no run, so
    /// no summary vouches for it (castor would send it).
    NoRun,
}

impl SkipReason {
    /// A short phrase for logs and `--dry-run`.
    pub const fn describe(self) -> &'static str {
        match self {
            SkipReason::Hidden => "hidden file",
            SkipReason::Symlink => "symbolic link, not followed",
            SkipReason::NotAFile => "not a regular file",
            SkipReason::Extension => "not a .json or .csv file",
            SkipReason::NotUtf8 => "file name is not UTF-8",
            SkipReason::NoRun => "belongs to no run (no {ts}- prefix), nothing vouches for it",
        }
    }
}

/// The files of one timestamp, `{ts}-*.json|csv`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunFiles {
    /// The run's timestamp, Unix seconds.
    pub ts: i64,
    /// The run's files other than the summary, sorted by name.
    pub files: Vec<String>,
    /// Whether `{ts}-summary.json` exists; without it the run is incomplete.
    pub has_summary: bool,
}

impl RunFiles {
    /// `{ts}-summary.json`.
    pub fn summary_name(&self) -> String {
        summary_file_name(self.ts)
    }
}

/// The result of scanning a directory (not recursive).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Discovery {
    /// Runs by ascending timestamp, complete or not.
    pub runs: Vec<RunFiles>,
    /// Entries that are never sent, with the reason, sorted by name.
    pub skipped: Vec<(String, SkipReason)>,
}

/// Scans `dir` (one level, links not followed).
///
/// # Errors
/// [`Error::Io`] when the directory or an entry's type cannot be read.
pub fn discover(dir: &Path) -> Result<Discovery> {
    let entries = std::fs::read_dir(dir).map_err(|e| Error::io("cannot list", dir, e))?;
    let mut runs: BTreeMap<i64, RunFiles> = BTreeMap::new();
    let mut found = Discovery::default();
    for entry in entries {
        let entry = entry.map_err(|e| Error::io("cannot list", dir, e))?;
        match classify(&entry).map_err(|e| Error::io("cannot read the type of", entry.path(), e))? {
            Err((name, reason)) => found.skipped.push((name, reason)),
            Ok(name) => match run_ts(&name) {
                Some(ts) => add_to_run(&mut runs, ts, name),
                None => found.skipped.push((name, SkipReason::NoRun)),
            },
        }
    }
    found.runs = runs.into_values().collect();
    for run in &mut found.runs {
        run.files.sort();
    }
    found.skipped.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(found)
}

/// `Ok(name)` for a sendable file, `Err((name, reason))` for one to skip.
fn classify(entry: &DirEntry) -> std::io::Result<Result<String, (String, SkipReason)>> {
    let Ok(name) = entry.file_name().into_string() else {
        let lossy = entry.file_name().to_string_lossy().into_owned();
        return Ok(Err((lossy, SkipReason::NotUtf8)));
    };
    let kind = entry.file_type()?;
    let reason = if name.starts_with('.') {
        Some(SkipReason::Hidden)
    } else if kind.is_symlink() {
        Some(SkipReason::Symlink)
    } else if !kind.is_file() {
        Some(SkipReason::NotAFile)
    } else if !(name.ends_with(".json") || name.ends_with(".csv")) {
        Some(SkipReason::Extension)
    } else {
        None
    };
    Ok(match reason {
        Some(r) => Err((name, r)),
        None => Ok(name),
    })
}

fn add_to_run(runs: &mut BTreeMap<i64, RunFiles>, ts: i64, name: String) {
    let run = runs.entry(ts).or_insert_with(|| RunFiles {
        ts,
        files: Vec::new(),
        has_summary: false,
    });
    if name == summary_file_name(ts) {
        run.has_summary = true;
    } else {
        run.files.push(name);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn touch(dir: &Path, name: &str) {
        std::fs::write(dir.join(name), b"[]").unwrap();
    }

    #[test]
    fn runs_strays_and_skips() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        for name in [
            "100-report.json",
            "100-member.json",
            "100-summary.json",
            "200-report.json",
            "castor.csv",
            "notes.txt",
            "300-x.txt",
            ".mode-extractor.lock",
            ".tmp-abc",
            ".upload-ledger.json",
        ] {
            touch(d, name);
        }
        std::fs::create_dir(d.join("sub.json")).unwrap();
        std::os::unix::fs::symlink(d.join("castor.csv"), d.join("link.json")).unwrap();

        let found = discover(d).unwrap();
        assert_eq!(
            found.runs,
            vec![
                RunFiles {
                    ts: 100,
                    files: vec!["100-member.json".into(), "100-report.json".into()],
                    has_summary: true,
                },
                RunFiles {
                    ts: 200,
                    files: vec!["200-report.json".into()],
                    has_summary: false,
                },
            ]
        );
        let reason = |n: &str| found.skipped.iter().find(|(s, _)| s == n).map(|(_, r)| *r);
        assert_eq!(reason(".mode-extractor.lock"), Some(SkipReason::Hidden));
        assert_eq!(reason(".upload-ledger.json"), Some(SkipReason::Hidden));
        assert_eq!(reason(".tmp-abc"), Some(SkipReason::Hidden));
        assert_eq!(reason("link.json"), Some(SkipReason::Symlink));
        assert_eq!(reason("sub.json"), Some(SkipReason::NotAFile));
        assert_eq!(reason("notes.txt"), Some(SkipReason::Extension));
        assert_eq!(reason("300-x.txt"), Some(SkipReason::Extension));
        assert_eq!(reason("castor.csv"), Some(SkipReason::NoRun));
    }
}
