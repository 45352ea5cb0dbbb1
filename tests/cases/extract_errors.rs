//! extract-mode's failure paths: item problems, bad credentials, forbidden,
//! unknown workspace, lock contention, kills, and secrets kept out of every output.

use std::collections::BTreeSet;
use std::time::Duration;

use mode_extractor::output::{DirLock, LockMode};
use mode_sandbox::SandboxConfig;

use crate::support::*;

#[test]
fn item_problems_are_logged_kept_and_exit_3() {
    let sb = sandbox(SandboxConfig {
        item_problems: true,
        ..small_config()
    });
    let truth = sb.truth();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let output = extract(&sb, &out, &[]);
    assert_eq!(code(&output), 3, "{}", stderr(&output));
    let run = read_run(&out);
    let kinds: BTreeSet<&str> = run.summary["item_errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    let expected: BTreeSet<&str> = truth.problems.iter().map(|p| p.kind.as_str()).collect();
    assert_eq!(
        kinds,
        [
            "deleted",
            "inaccessible",
            "missing_creator",
            "null_name",
            "unknown_data_source"
        ]
        .into(),
        "truth says {expected:?}"
    );
    let logged = run.rows("errors_logs");
    assert_eq!(
        logged.len(),
        run.summary["item_errors"].as_array().unwrap().len()
    );
    assert!(
        logged.iter().all(|m| m.is_string()),
        "castor's errors_logs is a list of messages"
    );
    // the affected items are still in the files
    let reports = run.by_token("report");
    for problem in truth
        .problems
        .iter()
        .filter(|p| p.kind != "unknown_data_source")
    {
        assert!(
            reports.contains_key(&problem.token),
            "{} kept",
            problem.token
        );
    }
    assert_eq!(reports.len(), truth.reports.len());
}

#[test]
fn strict_stops_at_the_first_item_problem_without_a_summary() {
    let sb = sandbox(SandboxConfig {
        item_problems: true,
        ..small_config()
    });
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let output = extract(&sb, &out, &["--strict"]);
    assert_eq!(code(&output), 12, "{}", stderr(&output));
    assert!(stderr(&output).contains("extract-mode: error: --strict"));
    assert!(
        json_names(&out)
            .iter()
            .all(|n| !n.ends_with("-summary.json"))
    );
}

#[test]
fn bad_credentials_exit_4_with_one_clear_line() {
    let sb = sandbox(small_config());
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let output = extract_cmd(&sb, &out)
        .env("CASTOR_MODE_ANALYTICS_SECRET", "wrong-secret")
        .output()
        .unwrap();
    assert_eq!(code(&output), 4);
    let err = stderr(&output);
    let error_lines: Vec<&str> = err.lines().filter(|l| l.contains("error")).collect();
    assert_eq!(error_lines.len(), 1, "{err}");
    assert!(error_lines[0].starts_with("extract-mode: error: authentication failed"));
    assert!(json_names(&out).is_empty(), "nothing written");
    assert_eq!(sb.stats().total, 1, "the first 401 stops the run");
}

#[test]
fn forbidden_and_unknown_workspace_have_their_codes() {
    let sb = sandbox(SandboxConfig {
        forbidden: true,
        ..small_config()
    });
    let dir = tempfile::tempdir().unwrap();
    let output = extract(&sb, &dir.path().join("a"), &[]);
    assert_eq!(code(&output), 5, "{}", stderr(&output));

    let sb = sandbox(small_config());
    let output = extract_cmd(&sb, &dir.path().join("b"))
        .env("CASTOR_MODE_ANALYTICS_WORKSPACE", "no-such-workspace")
        .output()
        .unwrap();
    assert_eq!(code(&output), 6, "{}", stderr(&output));
    assert!(stderr(&output).contains("workspace 'no-such-workspace' not found"));
}

#[test]
fn unreachable_host_and_bad_arguments() {
    let dir = tempfile::tempdir().unwrap();
    let sb = sandbox(small_config());
    let output = extract_cmd(&sb, &dir.path().join("a"))
        .env("CASTOR_MODE_ANALYTICS_HOST", "http://127.0.0.1:9")
        .args(["--max-retries", "1"])
        .output()
        .unwrap();
    assert_eq!(code(&output), 7, "{}", stderr(&output));
    let output = extract_cmd(&sb, &dir.path().join("a"))
        .env("CASTOR_MODE_ANALYTICS_HOST", "http://mode.example.com")
        .output()
        .unwrap();
    assert_eq!(code(&output), 2);
    assert!(stderr(&output).contains("in clear"));
    assert_eq!(
        sb.stats().total,
        0,
        "no request before the arguments are valid"
    );
}

#[test]
fn a_locked_output_directory_exits_9_or_waits() {
    let sb = sandbox(small_config());
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    std::fs::create_dir_all(&out).unwrap();
    let lock = DirLock::try_acquire(&out, LockMode::Shared).unwrap();
    let output = extract(&sb, &out, &[]);
    assert_eq!(code(&output), 9, "{}", stderr(&output));
    assert_eq!(sb.stats().total, 0, "nothing fetched without the lock");

    let release = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(400));
        drop(lock);
    });
    let output = extract(
        &sb,
        &out,
        &["--lock-timeout", "10s", "--assets", "collection"],
    );
    release.join().unwrap();
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    read_run(&out);
}

#[test]
fn no_secret_in_any_output_even_at_trace_level() {
    let token = "tok-UNIQUE-7731";
    let secret = "sec-UNIQUE-9942";
    let sb = sandbox(SandboxConfig {
        token: token.into(),
        secret: secret.into(),
        item_problems: true,
        ..small_config()
    });
    let basic = base64_basic(token, secret);
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    for (secret_env, expect) in [(secret, 3), ("sec-WRONG-1234", 4)] {
        let output = extract_cmd(&sb, &out)
            .env("CASTOR_MODE_ANALYTICS_TOKEN", token)
            .env("CASTOR_MODE_ANALYTICS_SECRET", secret_env)
            .env("RUST_LOG", "trace")
            .output()
            .unwrap();
        assert_eq!(code(&output), expect, "{}", stderr(&output));
        assert_output_free_of(&output, &[secret, secret_env, &basic]);
    }
    assert_files_free_of(&out, &[secret, &basic]);
}

/// The `Authorization: Basic` value for token:secret.
fn base64_basic(token: &str, secret: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(format!("{token}:{secret}"))
}

#[test]
fn a_killed_run_leaves_no_partial_file_and_the_next_run_cleans_up() {
    let sb = sandbox(SandboxConfig {
        latency: Duration::from_millis(100),
        ..small_config()
    });
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    for delay_ms in [300u64, 900] {
        let mut child = extract_std(&sb, &out)
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(delay_ms));
        assert!(child.try_wait().unwrap().is_none(), "killed while running");
        child.kill().unwrap();
        child.wait().unwrap();
        for name in json_names(&out) {
            read_json(&out.join(&name)); // every .json present is complete
            assert!(
                !name.ends_with("-summary.json"),
                "a killed run has no summary"
            );
        }
    }
    let output = extract(&sb, &out, &[]);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    read_run(&out);
    let leftovers: Vec<_> = std::fs::read_dir(&out)
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with(".tmp-"))
        .collect();
    assert!(leftovers.is_empty(), "stale temporary files removed");
}

#[cfg(unix)]
#[test]
fn sigterm_exits_130() {
    let sb = sandbox(SandboxConfig {
        latency: Duration::from_millis(100),
        ..small_config()
    });
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let child = extract_std(&sb, &out)
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(500));
    let status = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let output = child.wait_with_output().unwrap();
    assert_eq!(code(&output), 130, "{}", stderr(&output));
    assert!(json_names(&out).is_empty());
}

#[test]
fn a_flag_beats_the_environment_which_beats_dotenv() {
    let sb = sandbox(small_config());
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let dotenv = dir.path().join(".env");
    let quick = ["--assets", "datasource"];
    // .env alone supplies the secret
    std::fs::write(&dotenv, "CASTOR_MODE_ANALYTICS_SECRET=sandbox-secret\n").unwrap();
    let output = extract_cmd(&sb, &out)
        .env_remove("CASTOR_MODE_ANALYTICS_SECRET")
        .args(quick)
        .output()
        .unwrap();
    assert_eq!(code(&output), 0, ".env is read: {}", stderr(&output));
    // the environment beats .env
    std::fs::write(&dotenv, "CASTOR_MODE_ANALYTICS_SECRET=wrong-from-dotenv\n").unwrap();
    let output = extract_cmd(&sb, &out).args(quick).output().unwrap();
    assert_eq!(code(&output), 0, "env beats .env: {}", stderr(&output));
    // a flag beats the environment
    let output = extract_cmd(&sb, &out)
        .env("CASTOR_MODE_ANALYTICS_SECRET", "wrong-from-env")
        .args(["-s", "sandbox-secret"])
        .args(quick)
        .output()
        .unwrap();
    assert_eq!(code(&output), 0, "flag beats env: {}", stderr(&output));
    // a malformed .env is a usage error that does not echo the line
    std::fs::write(
        &dotenv,
        "CASTOR_MODE_ANALYTICS_SECRET='unterminated-s3cret\n",
    )
    .unwrap();
    let output = extract_cmd(&sb, &out).args(quick).output().unwrap();
    assert_eq!(code(&output), 2, "{}", stderr(&output));
    assert!(!stderr(&output).contains("unterminated-s3cret"));
}
