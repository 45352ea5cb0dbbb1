//! The run directory as a whole: creating it, naming runs, and clearing what a
//! killed run of ours left behind.
//!
//! A run is the set of files `{ts}-{rest}` (ts = Unix seconds, all digits) of
//! one timestamp; `{ts}-summary.json`, written last, proves it complete. These
//! rules are shared by `extract-mode` (which writes runs) and `upload` (which
//! sends them, see `upload::discover`).

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::error::{Error, Result};

use super::summary::summary_file_name;

/// The `ts` of a run file name `{ts}-{rest}`, when the prefix is all digits and
/// `rest` is not empty.
pub fn run_ts(name: &str) -> Option<i64> {
    let (prefix, rest) = name.split_once('-')?;
    let digits = !prefix.is_empty() && prefix.bytes().all(|b| b.is_ascii_digit());
    (digits && !rest.is_empty()).then(|| prefix.parse().ok())?
}

/// Creates the output directory (and missing parents) with mode `0700` on
/// Unix, so the run's SQL and member emails are readable by its owner only
/// whatever the umask. A directory that already exists is left as it is.
///
/// # Errors
/// [`Error::Io`] when it cannot be created.
pub fn create_run_dir(dir: &Path) -> Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder
        .create(dir)
        .map_err(|e| Error::io("cannot create output directory", dir, e))
}

/// A timestamp for a new run in `dir` that no file of the directory uses yet:
/// now, or the next second when a run of this second is already there (two
/// runs started in the same second never share a `ts`). Call it with the
/// directory's exclusive lock held.
///
/// # Errors
/// [`Error::Io`] when the directory cannot be listed, or when it still holds
/// files of the new `ts` after waiting for the next second (files dated in
/// the future: a clock set back, or runs copied in from elsewhere).
pub async fn new_run_ts(dir: &Path) -> Result<i64> {
    let mut ts = now_ts();
    if !ts_in_use(dir, ts)? {
        return Ok(ts);
    }
    tracing::info!(
        "{} already holds a run of {ts}; waiting for the next second",
        dir.display()
    );
    tokio::time::sleep(until_next_second()).await;
    ts = now_ts().max(ts + 1);
    if ts_in_use(dir, ts)? {
        let why = format!(
            "it already holds files of run {ts}, dated after the clock (move them away or check the clock)"
        );
        return Err(Error::io(
            "cannot start a new run in",
            dir,
            std::io::Error::new(std::io::ErrorKind::AlreadyExists, why),
        ));
    }
    Ok(ts)
}

/// Files of runs older than `current` that have no summary, as `(ts, names)`
/// by ascending `ts`: a run that was killed or failed.
///
/// # Errors
/// [`Error::Io`] when the directory cannot be listed.
pub fn incomplete_runs_before(dir: &Path, current: i64) -> Result<Vec<(i64, Vec<String>)>> {
    let mut runs: BTreeMap<i64, (bool, Vec<String>)> = BTreeMap::new();
    for name in file_names(dir)? {
        let Some(ts) = run_ts(&name).filter(|ts| *ts < current) else {
            continue;
        };
        let run = runs.entry(ts).or_default();
        if name == summary_file_name(ts) {
            run.0 = true;
        } else {
            run.1.push(name);
        }
    }
    Ok(runs
        .into_iter()
        .filter(|(_, (complete, _))| !complete)
        .map(|(ts, (_, mut names))| {
            names.sort();
            (ts, names)
        })
        .collect())
}

/// Removes the files of incomplete runs older than `current` whose name
/// after `{ts}-` satisfies `is_ours` (the files this tool writes), and logs
/// each run removed at WARN. Other files (someone's `{ts}-notes.json`) are
/// left alone. Call it with the directory's exclusive lock held. Returns the
/// number of files removed.
///
/// # Errors
/// [`Error::Io`] when the directory cannot be listed or a file removed.
pub fn remove_incomplete_runs(
    dir: &Path,
    current: i64,
    is_ours: impl Fn(&str) -> bool,
) -> Result<usize> {
    let mut removed = 0;
    for (ts, names) in incomplete_runs_before(dir, current)? {
        let prefix = format!("{ts}-");
        let ours: Vec<&String> = names
            .iter()
            .filter(|n| n.strip_prefix(&prefix).is_some_and(&is_ours))
            .collect();
        for name in &ours {
            let path = dir.join(name);
            std::fs::remove_file(&path).map_err(|e| Error::io("cannot remove", &path, e))?;
        }
        if !ours.is_empty() {
            tracing::warn!(
                "removed the incomplete run {ts} left by an earlier extract-mode (killed or failed: no {}): {} file(s){}",
                summary_file_name(ts),
                ours.len(),
                kept_note(names.len() - ours.len())
            );
            removed += ours.len();
        }
    }
    Ok(removed)
}

fn kept_note(kept: usize) -> String {
    if kept == 0 {
        String::new()
    } else {
        format!("; {kept} file(s) not written by extract-mode kept")
    }
}

/// Names of regular files and links directly in `dir` (not UTF-8 names skipped).
fn file_names(dir: &Path) -> Result<Vec<String>> {
    let entries = std::fs::read_dir(dir).map_err(|e| Error::io("cannot list", dir, e))?;
    let mut names = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| Error::io("cannot list", dir, e))?;
        let is_dir = entry.file_type().is_ok_and(|t| t.is_dir());
        if let (false, Ok(name)) = (is_dir, entry.file_name().into_string()) {
            names.push(name);
        }
    }
    Ok(names)
}

fn ts_in_use(dir: &Path, ts: i64) -> Result<bool> {
    let prefix = format!("{ts}-");
    Ok(file_names(dir)?.iter().any(|n| n.starts_with(&prefix)))
}

fn now_ts() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or_default()
}

fn until_next_second() -> Duration {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or_default();
    Duration::from_nanos(u64::from(1_000_000_000 - nanos)) + Duration::from_millis(5)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn touch(dir: &Path, name: &str) {
        std::fs::write(dir.join(name), b"[]").unwrap();
    }

    #[test]
    fn run_prefix_is_digits_then_dash() {
        assert_eq!(run_ts("1700000000-report.json"), Some(1_700_000_000));
        assert_eq!(run_ts("v1-report.json"), None);
        assert_eq!(run_ts("-report.json"), None);
        assert_eq!(run_ts("report.json"), None);
        assert_eq!(run_ts("7-"), None);
        assert_eq!(run_ts("99999999999999999999999-x.json"), None);
    }

    #[tokio::test]
    async fn a_taken_second_is_never_reused() {
        let dir = tempfile::tempdir().unwrap();
        let first = new_run_ts(dir.path()).await.unwrap();
        touch(dir.path(), &format!("{first}-report.json"));
        let second = new_run_ts(dir.path()).await.unwrap();
        assert!(second > first, "{second} after {first}");
        // files of the next seconds too (dated in the future): refused
        let now = now_ts();
        for ts in now..now + 5 {
            touch(dir.path(), &format!("{ts}-report.json"));
        }
        let err = new_run_ts(dir.path()).await.unwrap_err();
        assert!(err.to_string().contains("dated after the clock"), "{err}");
    }

    #[test]
    fn only_our_files_of_older_incomplete_runs_are_removed() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        for name in [
            "100-report.json",
            "100-summary.json",
            "200-report.json",
            "200-member.json",
            "200-notes.json",
            "300-report.json",
            "castor.csv",
        ] {
            touch(d, name);
        }
        assert_eq!(
            incomplete_runs_before(d, 300).unwrap(),
            vec![(
                200,
                vec![
                    "200-member.json".to_string(),
                    "200-notes.json".into(),
                    "200-report.json".into()
                ]
            )]
        );
        let ours = |rest: &str| ["report.json", "member.json"].contains(&rest);
        assert_eq!(remove_incomplete_runs(d, 300, ours).unwrap(), 2);
        let mut left: Vec<String> = file_names(d).unwrap();
        left.sort();
        assert_eq!(
            left,
            [
                "100-report.json",
                "100-summary.json",
                "200-notes.json",
                "300-report.json",
                "castor.csv"
            ]
        );
    }

    #[cfg(unix)]
    #[test]
    fn a_created_run_directory_is_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("a/b");
        create_run_dir(&out).unwrap();
        for d in [dir.path().join("a"), out.clone()] {
            let mode = std::fs::metadata(&d).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o700, "{}", d.display());
        }
        // an existing directory keeps its mode
        std::fs::set_permissions(&out, std::fs::Permissions::from_mode(0o755)).unwrap();
        create_run_dir(&out).unwrap();
        let mode = std::fs::metadata(&out).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o755);
    }
}
