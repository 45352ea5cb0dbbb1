//! What an operator sees: `--check`, `--dry-run`, progress lines outside a
//! terminal, JSON lines to the last one, one clear line for a TLS mistake, and
//! no proxy for a loopback host.

use std::io::Read;
use std::net::TcpListener;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use mode_sandbox::SandboxConfig;
use serde_json::Value;

use crate::support::*;

#[test]
fn check_prints_one_line_per_check_and_fails_on_bad_credentials() {
    let sb = sandbox(small_config());
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("never-created");
    let ok = extract(&sb, &out, &["--check"]);
    assert_eq!(code(&ok), 0, "{}", stderr(&ok));
    let stdout = String::from_utf8_lossy(&ok.stdout);
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 5, "{stdout}");
    assert!(lines.iter().all(|l| l.starts_with("ok ")), "{stdout}");
    assert!(lines[0].contains("credentials and workspace"), "{stdout}");
    assert!(!out.exists(), "--check writes nothing");

    let bad = extract_cmd(&sb, &out)
        .env("CASTOR_MODE_ANALYTICS_SECRET", "wrong")
        .arg("--check")
        .output()
        .unwrap();
    assert_eq!(code(&bad), 4);
    let stdout = String::from_utf8_lossy(&bad.stdout);
    assert!(
        stdout.starts_with("FAIL  credentials and workspace"),
        "{stdout}"
    );
    assert!(
        stderr(&bad).contains("expire after 90 days"),
        "{}",
        stderr(&bad)
    );
}

#[test]
fn dry_run_estimates_the_calls_of_a_real_run_and_writes_nothing() {
    let sb = sandbox(small_config());
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let plan = extract(&sb, &out, &["--dry-run"]);
    assert_eq!(code(&plan), 0, "{}", stderr(&plan));
    assert!(!out.exists(), "--dry-run writes nothing");
    let text = String::from_utf8_lossy(&plan.stdout).into_owned();
    let needed: u64 = text
        .lines()
        .find_map(|l| l.strip_prefix("calls\t"))
        .and_then(|l| l.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no calls line in {text}"));
    let made_by_preview = sb.stats().total;

    let run = extract(&sb, &out, &[]);
    assert_eq!(code(&run), 0, "{}", stderr(&run));
    let real = read_run(&out).summary["api_calls"].as_u64().unwrap();
    let off = needed.abs_diff(real) as f64 / real as f64;
    assert!(off <= 0.10, "estimated {needed}, the run made {real} calls");
    assert!(
        made_by_preview < real / 3,
        "the preview made {made_by_preview} of {real} calls"
    );
}

#[test]
fn progress_lines_outside_a_terminal() {
    let sb = sandbox(SandboxConfig {
        latency: Duration::from_millis(4),
        ..small_config()
    });
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let run = extract(
        &sb,
        &out,
        &["--progress-every", "100ms", "--concurrency", "2"],
    );
    assert_eq!(code(&run), 0, "{}", stderr(&run));
    let err = stderr(&run);
    let lines: Vec<&str> = err
        .lines()
        .filter(|l| l.contains("progress: reports "))
        .collect();
    assert!(lines.len() >= 2, "{err}");
    assert!(
        lines
            .iter()
            .any(|l| l.contains(" API calls, ") && l.contains("calls/s")),
        "{err}"
    );
    let last = err.lines().last().unwrap();
    assert!(
        last.contains("written to") && last.contains(out.to_str().unwrap()),
        "{last}"
    );
}

#[test]
fn json_mode_keeps_every_line_json_the_fatal_one_included() {
    let sb = sandbox(small_config());
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let failing = extract_cmd(&sb, &out)
        .env("CASTOR_MODE_ANALYTICS_SECRET", "wrong")
        .args(["--log-format", "json"])
        .output()
        .unwrap();
    assert_eq!(code(&failing), 4);
    let usage = extract_cmd(&sb, &out)
        .args(["--log-format", "json", "--rate-limit", "many"])
        .output()
        .unwrap();
    assert_eq!(code(&usage), 2);
    for (output, exit) in [(&failing, 4), (&usage, 2)] {
        let err = stderr(output);
        assert!(!err.trim().is_empty());
        let events: Vec<Value> = err
            .lines()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
            .collect();
        let last = events.last().unwrap();
        assert_eq!(last["fields"]["exit_code"], exit, "{err}");
        assert_eq!(last["level"], "ERROR");
    }
}

#[test]
fn https_to_a_plain_http_port_is_one_clear_line_not_seven_retries() {
    let sb = sandbox(small_config());
    let dir = tempfile::tempdir().unwrap();
    let https = sb.url().replacen("http://", "https://", 1);
    let started = Instant::now();
    let output = extract_cmd(&sb, &dir.path().join("out"))
        .env("CASTOR_MODE_ANALYTICS_HOST", &https)
        .output()
        .unwrap();
    assert_eq!(code(&output), 7, "{}", stderr(&output));
    let err = stderr(&output);
    assert!(err.contains("TLS or protocol error"), "{err}");
    assert!(!err.contains("retrying"), "{err}");
    assert!(started.elapsed() < Duration::from_secs(5));
}

/// A listener standing in for a proxy: counts the connections it is offered.
fn fake_proxy() -> (String, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let seen = Arc::new(AtomicUsize::new(0));
    let count = seen.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            count.fetch_add(1, Ordering::SeqCst);
            let mut stream = stream;
            let _ = stream.set_read_timeout(Some(Duration::from_millis(200)));
            let _ = stream.read(&mut [0u8; 1024]);
        }
    });
    (url, seen)
}

#[test]
fn a_loopback_host_never_goes_through_a_proxy() {
    let sb = sandbox(small_config());
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let (proxy, seen) = fake_proxy();
    let mut cmd = extract_cmd(&sb, &out);
    for var in [
        "HTTP_PROXY",
        "http_proxy",
        "HTTPS_PROXY",
        "https_proxy",
        "ALL_PROXY",
        "all_proxy",
    ] {
        cmd.env(var, &proxy);
    }
    let run = cmd.output().unwrap();
    assert_eq!(code(&run), 0, "{}", stderr(&run));
    let upload = assert_cmd::Command::new(env!("CARGO_BIN_EXE_upload"))
        .env_clear()
        .current_dir(dir.path())
        .env("HTTP_PROXY", &proxy)
        .env("ALL_PROXY", &proxy)
        .env("CASTOR_UPLOADER_TOKEN", "sandbox-ingest-token")
        .args([
            "-s",
            "7b2f9a4e-3c1d-4e8f-9a6b-2d5c8e1f0a37",
            "--endpoint",
            &sb.url(),
        ])
        .arg("-d")
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(code(&upload), 0, "{}", stderr(&upload));
    assert!(!sb.received().is_empty());
    assert_eq!(
        seen.load(Ordering::SeqCst),
        0,
        "the proxy was offered a connection"
    );
}

#[test]
fn each_help_lists_only_its_own_exit_codes() {
    let help = |bin: &str| {
        let out = std::process::Command::new(bin)
            .arg("--help")
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let extract = help(env!("CARGO_BIN_EXE_extract-mode"));
    let upload = help(env!("CARGO_BIN_EXE_upload"));
    assert!(
        extract.contains("   12  --strict") && !extract.contains("   10  "),
        "{extract}"
    );
    assert!(
        upload.contains("   10  run refused")
            && !upload.contains("   12  ")
            && !upload.contains("    3  "),
        "{upload}"
    );
}
