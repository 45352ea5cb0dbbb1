//! The run directory as extract-mode makes it: private when it creates it,
//! and never two runs under one `ts`.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

use crate::support::*;

/// Summary names in `dir`, sorted.
fn summaries(dir: &Path) -> Vec<String> {
    json_names(dir)
        .into_iter()
        .filter(|n| n.ends_with("-summary.json"))
        .collect()
}

fn contents(dir: &Path, prefix: &str) -> BTreeMap<String, Vec<u8>> {
    json_names(dir)
        .into_iter()
        .filter(|n| n.starts_with(prefix))
        .map(|n| (n.clone(), std::fs::read(dir.join(n)).unwrap()))
        .collect()
}

#[cfg(unix)]
#[test]
fn a_created_output_directory_is_private_an_existing_one_untouched() {
    use std::os::unix::fs::PermissionsExt;
    let sb = sandbox(small_config());
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let output = extract(&sb, &out, &["--assets", "collection"]);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&out), 0o700);

    let shared = dir.path().join("shared");
    std::fs::create_dir(&shared).unwrap();
    std::fs::set_permissions(&shared, std::fs::Permissions::from_mode(0o750)).unwrap();
    let output = extract(&sb, &shared, &["--assets", "collection"]);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    assert_eq!(mode(&shared), 0o750);
}

#[test]
fn runs_started_in_the_same_second_never_share_a_ts() {
    let sb = sandbox(small_config());
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    // a full run, then an --assets subset right after it (within the same second
    // for a small workspace): each must get its own ts
    let output = extract(&sb, &out, &[]);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let first = summaries(&out)[0]
        .trim_end_matches("-summary.json")
        .to_owned();
    let before = contents(&out, &format!("{first}-"));
    for _ in 0..2 {
        let output = extract(&sb, &out, &["--assets", "collection"]);
        assert_eq!(code(&output), 0, "{}", stderr(&output));
    }
    let names = summaries(&out);
    assert_eq!(names.len(), 3, "three runs, three ts: {names:?}");
    assert_eq!(
        contents(&out, &format!("{first}-")),
        before,
        "the first run is untouched"
    );
    for name in &names {
        let summary = read_json(&out.join(name));
        let files = summary["files"].as_array().unwrap();
        let ts = name.trim_end_matches("-summary.json");
        let on_disk = json_names(&out)
            .into_iter()
            .filter(|n| n.starts_with(&format!("{ts}-")) && n != name)
            .count();
        assert_eq!(files.len(), on_disk, "run {ts} holds only its own files");
    }
}

#[test]
fn files_dated_after_the_clock_are_refused_clearly() {
    let sb = sandbox(small_config());
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    std::fs::create_dir(&out).unwrap();
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    for ts in now..now + 10 {
        std::fs::write(out.join(format!("{ts}-collection.json")), b"[]").unwrap();
    }
    let output = extract(&sb, &out, &["--assets", "collection"]);
    let err = stderr(&output);
    assert_eq!(code(&output), 11, "{err}");
    assert!(err.contains("dated after the clock"), "{err}");
    assert_eq!(
        err.lines().filter(|l| l.contains("error")).count(),
        1,
        "{err}"
    );
    assert_eq!(sb.stats().total, 0, "nothing fetched");
    assert!(summaries(&out).is_empty());
}

/// Sends SIGTERM to `child` and waits up to 10 s (the lock wait is 60 s) for it
/// to end; its exit code.
fn terminate(child: &mut std::process::Child) -> Option<i32> {
    let pid = child.id().to_string();
    let sent = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap();
    assert!(sent.success());
    for _ in 0..200 {
        if let Some(status) = child.try_wait().unwrap() {
            return status.code();
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let _ = child.kill();
    None
}

#[test]
fn a_signal_during_a_lock_wait_is_honoured_at_once() {
    use mode_extractor::output::{DirLock, LockMode};
    let sb = sandbox(small_config());
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    std::fs::create_dir(&out).unwrap();
    let held = DirLock::try_acquire(&out, LockMode::Exclusive).unwrap();
    let mut extract = extract_std(&sb, &out)
        .args(["--lock-timeout", "60s"])
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut upload = std::process::Command::new(env!("CARGO_BIN_EXE_upload"))
        .env_clear()
        .current_dir(dir.path())
        .env("CASTOR_UPLOADER_TOKEN", "sandbox-ingest-token")
        .env(
            "CASTOR_UPLOADER_SOURCE_ID",
            "7b2f9a4e-3c1d-4e8f-9a6b-2d5c8e1f0a37",
        )
        .env("CASTOR_UPLOADER_ENDPOINT", sb.url())
        .arg("-d")
        .arg(&out)
        .args(["--lock-timeout", "60s"])
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(700));
    assert_eq!(terminate(&mut extract), Some(130), "extract-mode");
    assert_eq!(terminate(&mut upload), Some(130), "upload");
    drop(held);
    assert_eq!(sb.stats().total, 0);
}

#[test]
fn a_signal_during_the_write_phase_leaves_no_partial_file_and_no_summary() {
    let sb = sandbox(mode_sandbox::SandboxConfig {
        collections: 20,
        reports: 2000,
        seed: 5,
        ..mode_sandbox::SandboxConfig::default()
    });
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let mut child = extract_std(&sb, &out)
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // The first file (the data sources) is renamed into place when the write
    // phase starts; the lineage and the rest follow.
    let started = std::time::Instant::now();
    while !std::fs::read_dir(&out).is_ok_and(|rd| {
        rd.flatten().any(|e| {
            e.file_name()
                .to_string_lossy()
                .ends_with("-datasource.json")
        })
    }) {
        assert!(
            started.elapsed() < std::time::Duration::from_secs(120),
            "no write phase"
        );
        if child.try_wait().unwrap().is_some() {
            panic!("the run ended before its write phase was seen");
        }
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
    let signalled = std::time::Instant::now();
    let code = terminate(&mut child);
    let took = signalled.elapsed();
    eprintln!("write-phase signal: exit {code:?} after {took:?}");
    if code == Some(0) {
        // The write phase finished before the signal landed: nothing to check.
        return;
    }
    assert_eq!(code, Some(130));
    assert!(took < std::time::Duration::from_secs(1), "took {took:?}");
    assert!(summaries(&out).is_empty());
    let temps: Vec<String> = std::fs::read_dir(&out)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".tmp-") && !n.starts_with(".tmp-store"))
        .collect();
    assert!(temps.is_empty(), "{temps:?}");
}
