//! upload end to end: the real binary against the sandbox's ingest side, on
//! runs written by the real extract-mode.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use assert_cmd::Command;
use mode_sandbox::{FaultConfig, FaultKind, SandboxConfig, SandboxThread};

use crate::support::*;

const SOURCE_ID: &str = "7b2f9a4e-3c1d-4e8f-9a6b-2d5c8e1f0a37";

/// `upload` with an empty environment, the sandbox's ingest token and fast retries.
fn upload_cmd(sb: &SandboxThread, cwd: &Path) -> Command {
    Command::from_std(upload_std(sb, cwd))
}

/// [`upload_cmd`] as a plain `std::process::Command`, for tests that spawn and kill.
fn upload_std(sb: &SandboxThread, cwd: &Path) -> std::process::Command {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_upload"));
    cmd.env_clear()
        .current_dir(cwd)
        .env("CASTOR_UPLOADER_TOKEN", "sandbox-ingest-token")
        .env("CASTOR_UPLOADER_SOURCE_ID", SOURCE_ID)
        .env("CASTOR_UPLOADER_ENDPOINT", sb.url())
        .args(["--retry-initial-delay-ms", "5"]);
    cmd
}

/// `upload -d out` from `cwd`, with no other argument.
fn upload_dir(sb: &SandboxThread, cwd: &Path, out: &Path) -> std::process::Output {
    upload_cmd(sb, cwd).arg("-d").arg(out).output().unwrap()
}

/// The name of the run's `{ts}-{asset}.json` in `out`.
fn run_file(out: &Path, asset: &str) -> String {
    let suffix = format!("-{asset}.json");
    json_names(out)
        .into_iter()
        .find(|n| n.ends_with(&suffix))
        .unwrap()
}

/// A small workspace extracted into `<tmp>/out`.
fn extracted(sb: &SandboxThread) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let output = extract(sb, &out, &[]);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    (dir, out)
}

/// Local run files (name → (bytes, sha256)).
fn local_files(out: &Path) -> BTreeMap<String, (u64, String)> {
    json_names(out)
        .into_iter()
        .map(|n| {
            let rec = mode_extractor::output::sha256_file(&out.join(&n)).unwrap();
            (n, rec)
        })
        .collect()
}

fn assert_all_arrived(sb: &SandboxThread, out: &Path) {
    let received = sb.received();
    for r in &received {
        assert!(r.bytes > 0, "no empty body is ever stored: {r:?}");
    }
    let by_name: BTreeMap<&str, _> = received.iter().map(|r| (r.name.as_str(), r)).collect();
    for (name, (bytes, sha)) in local_files(out) {
        let got = by_name
            .get(name.as_str())
            .unwrap_or_else(|| panic!("{name} arrived"));
        assert_eq!(
            (got.bytes, &got.sha256),
            (bytes, &sha),
            "{name} byte-identical"
        );
        assert_eq!(got.path, format!("/visualization-{SOURCE_ID}/{name}"));
    }
    // every stored copy is intact, including those stored by attempts whose answer was lost
    let local = local_files(out);
    for r in &received {
        assert_eq!(
            local.get(&r.name).map(|(_, s)| s),
            Some(&r.sha256),
            "{} intact",
            r.name
        );
    }
}

#[test]
fn a_run_arrives_byte_identical_summary_last_and_a_rerun_sends_nothing() {
    let sb = sandbox(small_config());
    let (dir, out) = extracted(&sb);
    let output = upload_dir(&sb, dir.path(), &out);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    assert_all_arrived(&sb, &out);
    let received = sb.received();
    assert_eq!(received.len(), json_names(&out).len());
    assert!(
        received.last().unwrap().name.ends_with("-summary.json"),
        "summary sent last"
    );

    let before = sb.stats().ingest_requests;
    let output = upload_dir(&sb, dir.path(), &out);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    assert_eq!(sb.stats().ingest_requests, before, "a rerun sends nothing");

    let output = upload_cmd(&sb, dir.path())
        .arg("-d")
        .arg(&out)
        .arg("--force")
        .output()
        .unwrap();
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    assert_eq!(sb.stats().ingest_requests, before + received.len() as u64);
}

#[test]
fn thirty_percent_faults_every_file_arrives_intact_in_one_invocation() {
    let sb = sandbox(small_config());
    let (dir, out) = extracted(&sb);
    sb.set_ingest_faults(FaultConfig {
        rate: 0.3,
        kinds: vec![
            FaultKind::Status(429),
            FaultKind::Status(500),
            FaultKind::Status(502),
            FaultKind::Status(503),
            FaultKind::Status(504),
            FaultKind::DropAfterStore,
        ],
        seed: 17,
        ..FaultConfig::none()
    });
    let output = upload_cmd(&sb, dir.path())
        .arg("-d")
        .arg(&out)
        .env("CASTOR_RETRY_OVERRIDE", "10")
        .output()
        .unwrap();
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let stats = sb.stats();
    assert!(
        stats.faults_injected >= 2,
        "faults were injected: {stats:?}"
    );
    assert_all_arrived(&sb, &out);

    let before = sb.stats().ingest_requests;
    let output = upload_dir(&sb, dir.path(), &out);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    assert_eq!(
        sb.stats().ingest_requests,
        before,
        "the second invocation sends nothing"
    );
}

#[test]
fn a_run_without_summary_or_with_a_changed_file_is_refused() {
    let sb = sandbox(small_config());
    let (dir, out) = extracted(&sb);
    let report = run_file(&out, "report");
    let mut content = std::fs::read(out.join(&report)).unwrap();
    content.push(b'\n');
    std::fs::write(out.join(&report), content).unwrap();
    let output = upload_dir(&sb, dir.path(), &out);
    assert_eq!(code(&output), 10, "{}", stderr(&output));
    assert!(
        stderr(&output).contains(&report),
        "names the file that differs"
    );
    assert!(sb.received().is_empty(), "nothing of the run is sent");

    let (dir2, out2) = extracted(&sb);
    let summary = run_file(&out2, "summary");
    std::fs::remove_file(out2.join(summary)).unwrap();
    let output = upload_dir(&sb, dir2.path(), &out2);
    assert_eq!(code(&output), 10, "{}", stderr(&output));
    assert!(sb.received().is_empty(), "an incomplete run is not sent");
    assert_eq!(sb.stats().ingest_requests, 0);
}

#[test]
fn upload_waits_for_a_running_extract_then_sends_the_complete_run() {
    let sb = sandbox(SandboxConfig {
        latency: Duration::from_millis(60),
        ..small_config()
    });
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let mut extract = extract_std(&sb, &out)
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // wait until extract-mode holds the lock, i.e. it has started writing the run
    let lock = out.join(".mode-extractor.lock");
    for _ in 0..200 {
        if lock.exists() {
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    std::thread::sleep(Duration::from_millis(100));
    assert!(
        extract.try_wait().unwrap().is_none(),
        "extract-mode is still running"
    );
    let output = upload_cmd(&sb, dir.path())
        .arg("-d")
        .arg(&out)
        .args(["--lock-timeout", "60s"])
        .output()
        .unwrap();
    assert!(extract.wait().unwrap().success());
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    assert_all_arrived(&sb, &out);
    assert!(
        sb.received()
            .iter()
            .any(|r| r.name.ends_with("-summary.json"))
    );
}

/// Arguments, environment overrides, expected exit code, expected text.
type BadInput<'a> = (Vec<String>, Vec<(&'a str, &'a str)>, i32, &'a str);

#[test]
fn bad_inputs_fail_before_any_request() {
    let sb = sandbox(small_config());
    let (dir, out) = extracted(&sb);
    let file = out.join(json_names(&out).into_iter().next().unwrap());
    let cases: Vec<BadInput> = vec![
        (
            vec!["-d".into(), out.display().to_string()],
            vec![("CASTOR_UPLOADER_SOURCE_ID", "not-a-uuid")],
            2,
            "UUID",
        ),
        (
            vec![
                "-d".into(),
                out.display().to_string(),
                "-f".into(),
                file.display().to_string(),
            ],
            vec![],
            2,
            "",
        ),
        (
            vec![
                "-d".into(),
                dir.path().join("missing").display().to_string(),
            ],
            vec![],
            2,
            "missing",
        ),
        (
            vec![
                "-f".into(),
                dir.path().join("nope.json").display().to_string(),
            ],
            vec![],
            2,
            "nope.json",
        ),
        (vec!["-f".into(), out.display().to_string()], vec![], 2, ""),
        (
            vec!["-d".into(), out.display().to_string()],
            vec![("CASTOR_UPLOADER_ENDPOINT", "http://ingest.example.com")],
            2,
            "in clear",
        ),
    ];
    for (args, env, expect, needle) in cases {
        let mut cmd = upload_cmd(&sb, dir.path());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let output = cmd.args(&args).output().unwrap();
        let err = stderr(&output);
        assert_eq!(code(&output), expect, "{args:?}: {err}");
        assert!(err.contains(needle), "{args:?}: {err}");
        assert_eq!(
            err.lines().filter(|l| l.contains("error")).count(),
            1,
            "{err}"
        );
    }
    assert_eq!(sb.stats().ingest_requests, 0, "no request was sent");

    let output = upload_cmd(&sb, dir.path())
        .env("CASTOR_UPLOADER_TOKEN", "wrong-token")
        .arg("-d")
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(code(&output), 4, "{}", stderr(&output));
    assert!(!stderr(&output).contains("wrong-token"));
    assert!(sb.received().is_empty());
}

#[test]
fn one_file_with_f_uses_castors_path() {
    let sb = sandbox(small_config());
    let (dir, out) = extracted(&sb);
    let name = run_file(&out, "query");
    let output = upload_cmd(&sb, dir.path())
        .arg("-f")
        .arg(out.join(&name))
        .output()
        .unwrap();
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let received = sb.received();
    assert_eq!(received.len(), 1);
    assert_eq!(
        received[0].path,
        format!("/visualization-{SOURCE_ID}/{name}")
    );
    let err = stderr(&output);
    let line = format!("{name} as VIZ to visualization-{SOURCE_ID}/{name}");
    assert!(err.contains("Uploaded ") && err.contains(&line), "{err}");
}

#[test]
fn the_ingest_token_never_appears_even_at_trace_level() {
    let token = "ingest-UNIQUE-5521";
    let sb = sandbox(SandboxConfig {
        ingest_token: token.into(),
        ..small_config()
    });
    let (dir, out) = extracted(&sb);
    for (given, expect) in [(token, 0), ("ingest-WRONG-0007", 4)] {
        let output = upload_cmd(&sb, dir.path())
            .env("CASTOR_UPLOADER_TOKEN", given)
            .env("RUST_LOG", "trace")
            .arg("-d")
            .arg(&out)
            .arg("--force")
            .output()
            .unwrap();
        assert_eq!(code(&output), expect, "{}", stderr(&output));
        assert_output_free_of(&output, &[token, given]);
    }
    assert_files_free_of(&out, &[token]);
}

#[test]
fn dry_run_lists_and_sends_nothing() {
    let sb = sandbox(small_config());
    let (dir, out) = extracted(&sb);
    let output = upload_cmd(&sb, dir.path())
        .arg("-d")
        .arg(&out)
        .arg("--dry-run")
        .output()
        .unwrap();
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let listing = String::from_utf8_lossy(&output.stdout);
    for name in json_names(&out) {
        assert!(listing.contains(&name), "{name} listed:\n{listing}");
    }
    assert_eq!(sb.stats().ingest_requests, 0);
}

#[test]
fn an_interrupted_upload_resumes_where_it_stopped() {
    let sb = sandbox(small_config());
    let (dir, out) = extracted(&sb);
    let total = json_names(&out).len();
    // a second sandbox, slow, receives the upload so the kill lands mid-run
    let slow = sandbox(SandboxConfig {
        latency: Duration::from_millis(150),
        ..small_config()
    });
    let mut running = upload_std(&slow, dir.path())
        .arg("-d")
        .arg(&out)
        .args(["--concurrency", "1"])
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    for _ in 0..100 {
        if slow.received().len() >= 3 {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    running.kill().unwrap();
    running.wait().unwrap();
    let before = slow.received().len();
    assert!(
        before >= 3 && before < total,
        "killed mid-run: {before} of {total}"
    );

    let output = upload_dir(&slow, dir.path(), &out);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let received = slow.received();
    let names: std::collections::BTreeSet<&str> =
        received.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(names.len(), total, "every file arrived");
    // only the file in flight at the kill may be sent twice
    assert!(
        received.len() <= total + 1,
        "{} requests stored for {total} files",
        received.len()
    );
}
