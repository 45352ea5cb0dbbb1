//! The integrity check of a run before it is sent.
//!
//! `{ts}-summary.json` lists every other file of the run with its size and
//! SHA-256 (see [`crate::output::RunSummary`]). A run is sent only if every
//! listed file exists with exactly that size and hash, and no other file of the
//! same timestamp is present. A summary without a `files` list (castor's own,
//! or one edited) vouches for nothing, so its run is refused: no check is ever
//! switched off.

use std::path::Path;

use crate::error::{Error, Result};
use crate::output::{FileRecord, RunSummary, sha256_file};

use super::discover::RunFiles;

/// A run that passed the check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedRun {
    /// The run's timestamp.
    pub ts: i64,
    /// The run's files, without the summary, sorted by name.
    pub files: Vec<FileRecord>,
    /// The summary itself, sent last.
    pub summary: FileRecord,
}

/// Checks a run that has a summary.
///
/// Returns `Ok(Err(reason))` when the run must not be sent: the reason is one
/// line naming the file that differs, e.g. `run 1700000000 refused:
/// 1700000000-report.json has 10 bytes, the summary recorded 12`.
///
/// # Errors
/// [`Error::Io`] when a file that exists cannot be read.
pub fn verify_run(dir: &Path, run: &RunFiles) -> Result<Result<VerifiedRun, String>> {
    let summary_name = run.summary_name();
    let summary = record(dir, &summary_name)?.ok_or_else(|| {
        Error::io(
            "cannot open",
            dir.join(&summary_name),
            std::io::ErrorKind::NotFound.into(),
        )
    })?;
    let refuse = |why: String| Ok(Err(format!("run {} refused: {why}", run.ts)));
    let parsed = match read_summary(&dir.join(&summary_name)) {
        Ok(parsed) => parsed,
        Err(why) => return refuse(format!("{summary_name} is not a valid run summary ({why})")),
    };
    if parsed.files.is_empty() {
        return refuse(format!(
            "{summary_name} lists no files (a castor summary?), so nothing vouches for the run; send its files with -f"
        ));
    }
    if let Some(extra) = run
        .files
        .iter()
        .find(|f| !parsed.files.iter().any(|r| &r.name == *f))
    {
        return refuse(format!(
            "{extra} has the run's timestamp but is not listed in {summary_name}"
        ));
    }
    let mut files = Vec::with_capacity(parsed.files.len());
    for expected in &parsed.files {
        match check_one(dir, expected, &summary_name)? {
            Ok(rec) => files.push(rec),
            Err(why) => return refuse(why),
        }
    }
    files.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(Ok(VerifiedRun {
        ts: run.ts,
        files,
        summary,
    }))
}

fn read_summary(path: &Path) -> std::result::Result<RunSummary, String> {
    let text = std::fs::read(path).map_err(|e| e.to_string())?;
    serde_json::from_slice(&text).map_err(|e| e.to_string())
}

/// Compares one listed file with the disk; `Ok(Err(reason))` when it differs.
fn check_one(
    dir: &Path,
    expected: &FileRecord,
    summary_name: &str,
) -> Result<Result<FileRecord, String>> {
    let name = &expected.name;
    let prefix = summary_name.trim_end_matches("summary.json");
    if !is_plain_name(name) || name == summary_name || !name.starts_with(prefix) {
        return Ok(Err(format!(
            "{summary_name} lists '{name}', which is not a file of this directory"
        )));
    }
    let Some(actual) = record(dir, name)? else {
        return Ok(Err(format!(
            "{name} is listed in {summary_name} but missing"
        )));
    };
    if actual.bytes != expected.bytes {
        return Ok(Err(format!(
            "{name} has {} bytes, the summary recorded {}",
            actual.bytes, expected.bytes
        )));
    }
    if !actual.sha256.eq_ignore_ascii_case(&expected.sha256) {
        return Ok(Err(format!(
            "{name} has SHA-256 {}, the summary recorded {}",
            actual.sha256, expected.sha256
        )));
    }
    Ok(Ok(actual))
}

/// A name with no directory part, not hidden, not `..`.
fn is_plain_name(name: &str) -> bool {
    !name.is_empty() && !name.starts_with('.') && !name.contains(['/', '\\', '\0'])
}

/// Size and hash of `dir/name`, `None` if it does not exist (or is not a
/// regular file: links are not followed).
pub fn record(dir: &Path, name: &str) -> Result<Option<FileRecord>> {
    let path = dir.join(name);
    match std::fs::symlink_metadata(&path) {
        Ok(m) if m.is_file() => {}
        Ok(_) => return Ok(None),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(Error::io("cannot read", &path, e)),
    }
    let (bytes, sha256) = sha256_file(&path)?;
    Ok(Some(FileRecord {
        name: name.to_owned(),
        bytes,
        sha256,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::output::{write_atomic, write_json_atomic};
    use crate::upload::discover::discover;

    /// Writes a run like extract-mode does: files, then a summary listing them.
    fn write_run(dir: &Path, ts: i64) -> Vec<FileRecord> {
        let recs = vec![
            write_atomic(dir, &format!("{ts}-report.json"), b"[{\"id\":1}]").unwrap(),
            write_atomic(dir, &format!("{ts}-member.json"), b"[]").unwrap(),
        ];
        let summary = serde_json::json!({
            "version": "0.1.0", "executed_at": "x",
            "connection_identity": {"base_url": "b"}, "client_name": "c",
            "ts": ts, "files": recs,
        });
        write_json_atomic(dir, &format!("{ts}-summary.json"), &summary).unwrap();
        recs
    }

    fn check(dir: &Path) -> std::result::Result<VerifiedRun, String> {
        let found = discover(dir).unwrap();
        verify_run(dir, &found.runs[0]).unwrap()
    }

    #[test]
    fn an_intact_run_passes() {
        let dir = tempfile::tempdir().unwrap();
        let recs = write_run(dir.path(), 7);
        let run = check(dir.path()).unwrap();
        assert_eq!(run.files.len(), 2);
        assert!(run.files.iter().all(|f| recs.contains(f)));
        assert_eq!(run.summary.name, "7-summary.json");
    }

    #[test]
    fn size_mismatch_names_the_file() {
        let dir = tempfile::tempdir().unwrap();
        write_run(dir.path(), 7);
        std::fs::write(dir.path().join("7-member.json"), b"[1]").unwrap();
        let why = check(dir.path()).unwrap_err();
        assert_eq!(
            why,
            "run 7 refused: 7-member.json has 3 bytes, the summary recorded 2"
        );
    }

    #[test]
    fn same_size_other_content_is_a_sha_mismatch() {
        let dir = tempfile::tempdir().unwrap();
        write_run(dir.path(), 7);
        std::fs::write(dir.path().join("7-member.json"), b"{}").unwrap();
        let why = check(dir.path()).unwrap_err();
        assert!(
            why.starts_with("run 7 refused: 7-member.json has SHA-256 "),
            "{why}"
        );
    }

    #[test]
    fn missing_and_unlisted_files_are_named() {
        let dir = tempfile::tempdir().unwrap();
        write_run(dir.path(), 7);
        std::fs::remove_file(dir.path().join("7-report.json")).unwrap();
        assert_eq!(
            check(dir.path()).unwrap_err(),
            "run 7 refused: 7-report.json is listed in 7-summary.json but missing"
        );
        std::fs::write(dir.path().join("7-report.json"), b"[{\"id\":1}]").unwrap();
        std::fs::write(dir.path().join("7-extra.json"), b"[]").unwrap();
        assert_eq!(
            check(dir.path()).unwrap_err(),
            "run 7 refused: 7-extra.json has the run's timestamp but is not listed in 7-summary.json"
        );
    }

    #[test]
    fn bad_summary_and_path_names_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("7-summary.json"), b"{not json").unwrap();
        assert!(
            check(dir.path())
                .unwrap_err()
                .contains("is not a valid run summary")
        );
        let evil = serde_json::json!({
            "version": "v", "executed_at": "x", "connection_identity": {"base_url": "b"},
            "client_name": "c", "files": [{"name": "../etc/passwd", "bytes": 1, "sha256": "00"}],
        });
        write_json_atomic(dir.path(), "7-summary.json", &evil).unwrap();
        assert!(
            check(dir.path())
                .unwrap_err()
                .contains("not a file of this directory")
        );
    }

    #[test]
    fn a_summary_without_files_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("7-report.json"), b"[]").unwrap();
        let castor = r#"{"version":"0.26.131","executed_at":"x","connection_identity":{"base_url":"b"},"client_name":"ModeAnalytics/API"}"#;
        for summary in [castor.to_owned(), castor.replace('}', r#","files":[]}"#)] {
            std::fs::write(dir.path().join("7-summary.json"), summary).unwrap();
            let why = check(dir.path()).unwrap_err();
            assert_eq!(
                why,
                "run 7 refused: 7-summary.json lists no files (a castor summary?), so nothing vouches for the run; send its files with -f"
            );
        }
    }
}
