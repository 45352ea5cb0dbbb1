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
fn a_changed_file_is_refused_and_a_run_without_summary_is_not_sent() {
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

    // a run without its summary: incomplete; with no other run, nothing to send (13)
    let (dir2, out2) = extracted(&sb);
    let summary = run_file(&out2, "summary");
    std::fs::remove_file(out2.join(summary)).unwrap();
    let output = upload_dir(&sb, dir2.path(), &out2);
    assert_eq!(code(&output), 13, "{}", stderr(&output));
    assert!(
        stderr(&output).contains("is incomplete"),
        "{}",
        stderr(&output)
    );
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

/// The last line of stderr.
fn last_line(output: &std::process::Output) -> String {
    stderr(output).lines().last().unwrap_or_default().to_owned()
}

/// The `ts` of the single run in `out`.
fn run_ts(out: &Path) -> String {
    run_file(out, "summary")
        .trim_end_matches("-summary.json")
        .to_owned()
}

#[test]
fn the_last_line_names_the_host_the_source_and_the_runs() {
    let sb = sandbox(small_config());
    let (dir, out) = extracted(&sb);
    let ts = run_ts(&out);
    let host = sb.url().trim_start_matches("http://").to_owned();
    let output = upload_dir(&sb, dir.path(), &out);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let line = last_line(&output);
    let sent = format!("to {host}, source {SOURCE_ID}: run {ts}; ");
    assert!(line.contains(&sent), "{line}");
    let output = upload_dir(&sb, dir.path(), &out);
    assert!(last_line(&output).contains(": no new run; skipped 11 already sent"));
}

#[test]
fn a_directory_without_any_run_exits_13() {
    let sb = sandbox(small_config());
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    std::fs::create_dir(&out).unwrap();
    let output = upload_dir(&sb, dir.path(), &out);
    assert_eq!(code(&output), 13, "{}", stderr(&output));
    assert!(
        stderr(&output).contains("holds no complete run"),
        "{}",
        stderr(&output)
    );
    assert!(
        last_line(&output).contains(": no complete run;"),
        "{}",
        stderr(&output)
    );
    // files of no run do not count as a run, and are not sent
    std::fs::write(out.join("notes.json"), b"[]").unwrap();
    let output = upload_dir(&sb, dir.path(), &out);
    assert_eq!(code(&output), 13, "{}", stderr(&output));
    assert_eq!(sb.stats().ingest_requests, 0);
    let help = upload_cmd(&sb, dir.path()).arg("--help").output().unwrap();
    let help = String::from_utf8_lossy(&help.stdout);
    assert!(
        help.contains(" 13  upload -d: the directory holds no complete run"),
        "{help}"
    );
}

#[test]
fn files_of_no_run_and_hard_links_are_not_sent() {
    let sb = sandbox(small_config());
    let (dir, out) = extracted(&sb);
    let report = run_file(&out, "report");
    let outside = dir.path().join("secret.json");
    std::fs::write(&outside, b"{\"password\":\"hunter2\"}").unwrap();
    std::fs::write(out.join("notes.json"), b"[]").unwrap();
    std::fs::hard_link(out.join(&report), out.join("copy.json")).unwrap();
    std::fs::hard_link(&outside, out.join("linked.csv")).unwrap();
    let output = upload_dir(&sb, dir.path(), &out);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let names: Vec<String> = sb.received().into_iter().map(|r| r.name).collect();
    for name in ["notes.json", "copy.json", "linked.csv"] {
        assert!(!names.contains(&name.to_string()), "{name} sent");
        assert!(stderr(&output).contains(&format!("skipping {name}: belongs to no run")));
    }
    assert_eq!(names.len(), 11, "the run's files: {names:?}");
}

#[test]
fn a_summary_without_a_files_list_is_refused() {
    let sb = sandbox(small_config());
    let (dir, out) = extracted(&sb);
    let summary_path = out.join(run_file(&out, "summary"));
    let mut summary = read_json(&summary_path);
    summary.as_object_mut().unwrap().remove("files");
    std::fs::write(&summary_path, serde_json::to_vec(&summary).unwrap()).unwrap();
    let output = upload_dir(&sb, dir.path(), &out);
    assert_eq!(code(&output), 10, "{}", stderr(&output));
    assert!(
        stderr(&output).contains("lists no files"),
        "{}",
        stderr(&output)
    );
    assert_eq!(sb.stats().ingest_requests, 0, "nothing of the run is sent");
}

#[test]
fn complete_runs_are_sent_next_to_a_killed_runs_leftovers_until_extract_removes_them() {
    let sb = sandbox(small_config());
    let (dir, out) = extracted(&sb);
    let ts: i64 = run_ts(&out).parse().unwrap();
    // what a run killed before its summary leaves: some of our files, and a file of someone else
    let old = ts - 100;
    for asset in ["collection", "report"] {
        let from = out.join(run_file(&out, asset));
        std::fs::copy(from, out.join(format!("{old}-{asset}.json"))).unwrap();
    }
    std::fs::write(out.join(format!("{old}-notes.json")), b"[]").unwrap();

    let output = upload_dir(&sb, dir.path(), &out);
    let err = stderr(&output);
    assert_eq!(code(&output), 0, "complete + incomplete run: exit 0\n{err}");
    assert!(err.contains(&format!("run {old} is incomplete")), "{err}");
    assert!(
        last_line(&output).contains(&format!(": run {ts}; ")),
        "{err}"
    );
    assert!(
        last_line(&output).ends_with("0 run(s) refused, 1 incomplete"),
        "{err}"
    );
    assert_eq!(sb.received().len(), 11);
    assert!(
        !sb.received()
            .iter()
            .any(|r| r.name.starts_with(&old.to_string()))
    );

    // the next extraction removes our leftovers (logged) and keeps the other file
    let output = extract(&sb, &out, &["--assets", "collection"]);
    let err = stderr(&output);
    assert_eq!(code(&output), 0, "{err}");
    assert!(
        err.contains(&format!(
            "removed the incomplete run {old} left by an earlier extract-mode"
        )),
        "{err}"
    );
    assert!(
        err.contains("2 file(s); 1 file(s) not written by extract-mode kept"),
        "{err}"
    );
    assert!(!out.join(format!("{old}-report.json")).exists());
    assert!(out.join(format!("{old}-notes.json")).exists());
    let output = upload_dir(&sb, dir.path(), &out);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
}

/// Starts `upload -d out` (concurrency 1) against a slow ingest, waits for its
/// first answered request, runs `tamper`, and returns the finished output.
fn tamper_during_upload(
    out: &Path,
    cwd: &Path,
    tamper: impl FnOnce(),
) -> (SandboxThread, std::process::Output) {
    let slow = sandbox(SandboxConfig {
        latency: Duration::from_millis(150),
        ..small_config()
    });
    let running = upload_std(&slow, cwd)
        .arg("-d")
        .arg(out)
        .args(["--concurrency", "1"])
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    for _ in 0..200 {
        if !slow.ingest_requests().is_empty() {
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    tamper();
    let output = running.wait_with_output().unwrap();
    (slow, output)
}

#[test]
fn a_file_rewritten_with_the_same_size_after_the_check_is_not_sent() {
    let sb = sandbox(small_config());
    let (dir, out) = extracted(&sb);
    // sent in name order: report.json is the last data file
    let report = run_file(&out, "report");
    let path = out.join(&report);
    let (slow, output) = tamper_during_upload(&out, dir.path(), || {
        let mut content = std::fs::read(&path).unwrap();
        let at = content.iter().position(u8::is_ascii_lowercase).unwrap();
        content[at] = if content[at] == b'a' { b'b' } else { b'a' };
        std::fs::write(&path, content).unwrap();
    });
    let err = stderr(&output);
    assert_eq!(code(&output), 10, "{err}");
    assert!(
        err.contains(&format!("{report} changed after the check (SHA-256 ")),
        "{err}"
    );
    let names: Vec<String> = slow.received().into_iter().map(|r| r.name).collect();
    assert!(
        !names.contains(&report),
        "the changed content never arrived whole"
    );
    assert!(
        !names.iter().any(|n| n.ends_with("-summary.json")),
        "summary held back"
    );
    let ledger = std::fs::read_to_string(out.join(".upload-ledger.jsonl")).unwrap();
    assert!(!ledger.contains(&report), "no ledger line for it");
    assert!(!names.is_empty() && ledger.lines().count() == names.len());
}

#[test]
fn a_file_swapped_for_a_symbolic_link_after_the_check_is_not_sent() {
    let sb = sandbox(small_config());
    let (dir, out) = extracted(&sb);
    let report = run_file(&out, "report");
    let path = out.join(&report);
    // the link points at the very same bytes: only not following it catches the swap
    let copy = dir.path().join("copy.json");
    std::fs::copy(&path, &copy).unwrap();
    let (slow, output) = tamper_during_upload(&out, dir.path(), || {
        let link = out.join(".swap");
        std::os::unix::fs::symlink(&copy, &link).unwrap();
        std::fs::rename(&link, &path).unwrap();
    });
    let err = stderr(&output);
    assert_eq!(code(&output), 10, "{err}");
    assert!(
        err.contains("was replaced by a symbolic link after the check"),
        "{err}"
    );
    let names: Vec<String> = slow.received().into_iter().map(|r| r.name).collect();
    assert!(!names.contains(&report));
    assert!(!names.iter().any(|n| n.ends_with("-summary.json")));
}
