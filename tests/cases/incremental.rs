//! `--state`: incremental runs after a simulated day equal a full run's
//! files, list exactly what changed, cost a fraction of the calls, survive a
//! kill and a corrupt state, and refuse a mass deletion.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Output;
use std::time::Duration;

use mode_sandbox::{DayLog, DayPlan, SandboxConfig, SandboxThread};
use serde_json::Value;

use crate::support::*;

/// The acceptance workspace of the issue: 300 reports.
fn acceptance_config() -> SandboxConfig {
    SandboxConfig {
        collections: 10,
        reports: 300,
        seed: 21,
        ..SandboxConfig::default()
    }
}

/// `extract-mode --state STATE` with extra arguments into `out`.
fn extract_with_state(sb: &SandboxThread, out: &Path, state: &Path, args: &[&str]) -> Output {
    let mut all = vec!["--state", state.to_str().unwrap()];
    all.extend_from_slice(args);
    extract(sb, out, &all)
}

/// The run of `dir` with the latest timestamp (a directory may hold several).
fn latest_run(dir: &Path) -> RunFiles {
    let names = json_names(dir);
    let ts = names
        .iter()
        .filter_map(|n| n.strip_suffix("-summary.json"))
        .max()
        .expect("a summary")
        .to_owned();
    let mut files = BTreeMap::new();
    for name in names.iter().filter(|n| n.starts_with(&format!("{ts}-"))) {
        let asset = name[ts.len() + 1..].trim_end_matches(".json").to_owned();
        files.insert(asset, read_json(&dir.join(name)));
    }
    let summary = files["summary"].clone();
    RunFiles { ts, files, summary }
}

/// The raw bytes of `{ts}-{asset}.json` of a run.
fn file_bytes(dir: &Path, run: &RunFiles, asset: &str) -> Vec<u8> {
    std::fs::read(dir.join(format!("{}-{asset}.json", run.ts))).unwrap()
}

fn calls(run: &RunFiles) -> u64 {
    run.summary["api_calls"].as_u64().unwrap()
}

/// Runs into the same directory must not share a timestamp (Unix seconds).
fn next_second() {
    std::thread::sleep(Duration::from_millis(1100));
}

/// `(token, change)` of the changes rows of `asset`.
fn changes_of(run: &RunFiles, asset: &str) -> BTreeMap<String, String> {
    changes_by(run, asset, "token")
}

/// `(key, change)` of the changes rows of `asset`, `key` one of `token`, `name`.
fn changes_by(run: &RunFiles, asset: &str, key: &str) -> BTreeMap<String, String> {
    run.rows("changes")
        .iter()
        .filter(|c| c["asset"] == asset)
        .map(|c| {
            (
                c[key].as_str().unwrap_or_default().to_owned(),
                c["change"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn set(items: &[String]) -> BTreeSet<String> {
    items.iter().cloned().collect()
}

fn with(map: &BTreeMap<String, String>, change: &str) -> BTreeSet<String> {
    map.iter()
        .filter(|(_, c)| *c == change)
        .map(|(t, _)| t.clone())
        .collect()
}

/// Reports whose creator is a member added or removed today: their
/// `creator_email` changes, so their rows do.
fn reports_of_members(run: &RunFiles, log: &DayLog) -> BTreeSet<String> {
    let members: BTreeSet<&String> = log
        .members_added
        .iter()
        .chain(&log.members_removed)
        .collect();
    run.rows("report")
        .iter()
        .filter(|r| {
            r["creator"]
                .as_str()
                .is_some_and(|c| members.iter().any(|m| *m == c))
        })
        .map(|r| r["token"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn after_a_day_the_incremental_run_equals_a_full_run_and_lists_exactly_what_changed() {
    let sb = sandbox(acceptance_config());
    let dir = tempfile::tempdir().unwrap();
    let (out, state) = (dir.path().join("out"), dir.path().join("state.sqlite"));
    let first = extract_with_state(&sb, &out, &state, &[]);
    assert_eq!(code(&first), 0, "{}", stderr(&first));
    let log = sb.advance_day(&DayPlan::default());
    assert_eq!(
        (
            log.edited.len(),
            log.added.len(),
            log.deleted.len(),
            log.moved.len()
        ),
        (3, 2, 2, 1)
    );
    next_second();
    let second = extract_with_state(&sb, &out, &state, &[]);
    assert_eq!(code(&second), 0, "{}", stderr(&second));
    let incremental = latest_run(&out);
    let fresh_dir = dir.path().join("fresh");
    let fresh = extract(&sb, &fresh_dir, &[]);
    assert_eq!(code(&fresh), 0, "{}", stderr(&fresh));
    let full = read_run(&fresh_dir);

    for asset in [
        "datasource",
        "collection",
        "report",
        "query",
        "member",
        "chart",
        "dataset",
        "definition",
        "lineage",
        "errors_logs",
    ] {
        assert!(
            file_bytes(&out, &incremental, asset) == file_bytes(&fresh_dir, &full, asset),
            "{asset}: the incremental run's file differs from a full run's"
        );
    }
    assert!(
        !full.files.contains_key("changes"),
        "no state, no changes file"
    );
    // The target: at most 5 % of a full run's calls (measured 48 of
    // 1,008 on this day, 26 of them the listings every run reads).
    let ratio = calls(&incremental) as f64 / calls(&full) as f64;
    assert!(
        ratio <= 0.05,
        "{} calls against a full run's {}",
        calls(&incremental),
        calls(&full)
    );

    let reports = changes_of(&incremental, "report");
    assert_eq!(with(&reports, "deleted"), set(&log.deleted));
    assert_eq!(with(&reports, "added"), set(&log.added));
    let touched: BTreeSet<String> = [&log.edited, &log.moved, &log.archived]
        .into_iter()
        .flat_map(|l| l.iter().cloned())
        .collect();
    let changed = with(&reports, "changed");
    assert!(changed.is_superset(&touched), "{changed:?} ⊇ {touched:?}");
    let explained: BTreeSet<String> = touched
        .union(&reports_of_members(&full, &log))
        .cloned()
        .collect();
    assert!(explained.is_superset(&changed), "only runs: not a change");
    assert!(
        log.runs_only
            .iter()
            .all(|t| !changed.contains(t) || explained.contains(t))
    );
    let members = changes_by(&incremental, "member", "name");
    assert_eq!(with(&members, "added"), set(&log.members_added));
    assert_eq!(with(&members, "deleted"), set(&log.members_removed));
    let definitions = changes_of(&incremental, "definition");
    assert_eq!(with(&definitions, "changed"), set(&log.definitions));
    let listed: Vec<&str> = incremental.summary["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["name"].as_str().unwrap())
        .collect();
    assert!(listed.contains(&format!("{}-changes.json", incremental.ts).as_str()));

    next_second();
    let again = extract_with_state(&sb, &out, &state, &[]);
    assert_eq!(code(&again), 0, "{}", stderr(&again));
    let quiet = latest_run(&out);
    assert_eq!(quiet.rows("changes").len(), 0, "nothing changed since");
}

#[test]
fn full_and_full_refresh_after_fetch_everything_and_still_update_the_state() {
    let sb = sandbox(small_config());
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state.sqlite");
    let run = |name: &str, args: &[&str]| {
        let out = dir.path().join(name);
        let output = extract_with_state(&sb, &out, &state, args);
        assert_eq!(code(&output), 0, "{}", stderr(&output));
        calls(&read_run(&out))
    };
    let full = run("first", &[]);
    let incremental = run("second", &[]);
    assert!(incremental * 5 < full, "{incremental} vs {full}");
    assert_eq!(run("forced", &["--full"]), full);
    assert_eq!(run("stale", &["--full-refresh-after", "0s"]), full);
    assert_eq!(run("fresh", &["--full-refresh-after", "1h"]), incremental);
    let selection_changed = run("charts", &["--assets", "report,chart"]);
    assert!(
        selection_changed > incremental * 5,
        "a new selection fetches in full"
    );
}

#[test]
fn a_killed_incremental_run_leaves_the_state_as_it_was() {
    let sb = sandbox(SandboxConfig {
        latency: Duration::from_millis(60),
        ..small_config()
    });
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state.sqlite");
    let first = extract_with_state(&sb, &dir.path().join("a"), &state, &[]);
    assert_eq!(code(&first), 0, "{}", stderr(&first));
    let before = std::fs::read(&state).unwrap();
    sb.advance_day(&DayPlan {
        edited_fraction: 0.3,
        ..DayPlan::default()
    });
    let out = dir.path().join("b");
    let mut child = extract_std(&sb, &out)
        .args(["--state", state.to_str().unwrap(), "--concurrency", "2"])
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(900));
    assert!(child.try_wait().unwrap().is_none(), "killed while running");
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(
        std::fs::read(&state).unwrap() == before,
        "the state is untouched"
    );
    let after = extract_with_state(&sb, &out, &state, &[]);
    assert_eq!(code(&after), 0, "{}", stderr(&after));
    let run = read_run(&out);
    assert!(
        !run.rows("changes").is_empty(),
        "the day's changes are still reported"
    );
    let leftovers: Vec<_> = std::fs::read_dir(&out)
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with(".tmp-"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn a_corrupt_state_gives_a_warning_and_a_full_run_then_a_new_state() {
    let sb = sandbox(small_config());
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state.sqlite");
    std::fs::write(&state, "this is not an SQLite database, it is a sentence.").unwrap();
    let out = dir.path().join("a");
    let output = extract_with_state(&sb, &out, &state, &[]);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    assert!(
        stderr(&output).contains("unreadable"),
        "{}",
        stderr(&output)
    );
    let fresh = dir.path().join("fresh");
    extract(&sb, &fresh, &[]);
    assert_eq!(
        calls(&read_run(&out)),
        calls(&read_run(&fresh)),
        "a full run"
    );
    assert!(
        dir.path().join("state.sqlite.corrupt").exists(),
        "set aside, not lost"
    );
    let out = dir.path().join("b");
    let output = extract_with_state(&sb, &out, &state, &[]);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    assert!(
        calls(&read_run(&out)) * 5 < calls(&read_run(&fresh)),
        "incremental again"
    );
}

#[test]
fn a_state_of_a_newer_schema_is_refused() {
    let sb = sandbox(small_config());
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state.sqlite");
    let first = extract_with_state(&sb, &dir.path().join("a"), &state, &[]);
    assert_eq!(code(&first), 0, "{}", stderr(&first));
    let status = std::process::Command::new("sqlite3")
        .arg(&state)
        .arg("PRAGMA user_version = 99;")
        .status();
    if !status.is_ok_and(|s| s.success()) {
        // no sqlite3 shell here: rewrite the header's user_version (offset 60)
        let mut bytes = std::fs::read(&state).unwrap();
        bytes[60..64].copy_from_slice(&99u32.to_be_bytes());
        std::fs::write(&state, bytes).unwrap();
    }
    let output = extract_with_state(&sb, &dir.path().join("b"), &state, &[]);
    assert_eq!(code(&output), 2, "{}", stderr(&output));
    assert!(
        stderr(&output).contains("schema version 99"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn a_mass_deletion_is_refused_and_the_rows_are_kept() {
    let sb = sandbox(small_config());
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state.sqlite");
    let first_out = dir.path().join("a");
    let first = extract_with_state(&sb, &first_out, &state, &[]);
    assert_eq!(code(&first), 0, "{}", stderr(&first));
    let before = read_run(&first_out).by_token("report");
    let log = sb.advance_day(&DayPlan {
        edited_fraction: 0.0,
        added: 0,
        deleted: 30,
        moved: 0,
        runs_only_fraction: 0.0,
        archived: 0,
        definitions_rewritten: 0,
        members_added: 0,
        members_removed: 0,
        ..DayPlan::default()
    });
    assert_eq!(log.deleted.len(), 30);
    let out = dir.path().join("b");
    let output = extract_with_state(&sb, &out, &state, &[]);
    assert_eq!(code(&output), 3, "an item problem: {}", stderr(&output));
    assert!(
        stderr(&output).contains("--max-deletions"),
        "{}",
        stderr(&output)
    );
    let run = read_run(&out);
    let kept = run.by_token("report");
    assert_eq!(
        kept.keys().collect::<BTreeSet<_>>(),
        before.keys().collect::<BTreeSet<_>>(),
        "every report kept"
    );
    assert!(with(&changes_of(&run, "report"), "deleted").is_empty());

    let out = dir.path().join("c");
    let output = extract_with_state(&sb, &out, &state, &["--max-deletions", "50%"]);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let run = read_run(&out);
    assert_eq!(run.by_token("report").len(), before.len() - 30);
    assert_eq!(
        with(&changes_of(&run, "report"), "deleted"),
        set(&log.deleted)
    );
    let queries_gone = with(&changes_of(&run, "query"), "deleted");
    assert!(!queries_gone.is_empty(), "their queries go with them");
    let _: &Value = &run.summary;
}
