//! extract-mode under a hostile network: 429 with each Retry-After form, 5xx,
//! stalls and connections dropped mid-body are recovered, and the output is
//! the same as a fault-free run's.

use std::collections::BTreeMap;
use std::time::Duration;

use mode_sandbox::{FaultConfig, FaultKind, RateLimitConfig, RetryAfterForm, SandboxConfig};
use serde_json::Value;

use crate::support::*;

/// A run's asset files, keyed by asset (the ts prefix differs between runs).
fn assets(out: &std::path::Path) -> BTreeMap<String, Value> {
    let mut run = read_run(out);
    run.files.remove("summary");
    run.files
}

#[test]
fn faults_are_recovered_and_the_output_is_identical() {
    let clean = sandbox(small_config());
    let dir = tempfile::tempdir().unwrap();
    let output = extract(&clean, &dir.path().join("clean"), &[]);
    assert_eq!(code(&output), 0, "{}", stderr(&output));

    let faulty = sandbox(SandboxConfig {
        mode_faults: FaultConfig {
            rate: 0.08,
            kinds: vec![
                FaultKind::Status(500),
                FaultKind::Status(502),
                FaultKind::Status(503),
                FaultKind::Status(504),
                FaultKind::DropMidBody,
                FaultKind::Stall,
            ],
            stall: Duration::from_secs(3),
            seed: 99,
            ..FaultConfig::none()
        },
        ..small_config()
    });
    let out = dir.path().join("faulty");
    let output = extract(&faulty, &out, &["--timeout", "600ms", "--max-retries", "8"]);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let stats = faulty.stats();
    assert!(
        stats.faults_injected >= 10,
        "faults were injected: {stats:?}"
    );
    assert_eq!(
        assets(&out),
        assets(&dir.path().join("clean")),
        "same files as a fault-free run"
    );
    let summary = read_run(&out).summary;
    assert!(summary["retries"].as_u64().unwrap() >= stats.faults_injected);
}

/// The server answers the first two requests 429 with `Retry-After` in each
/// form; the client waits as told, counts them, and finishes complete.
#[test]
fn rate_limit_429_is_honoured_in_both_retry_after_forms() {
    for form in [RetryAfterForm::Seconds, RetryAfterForm::HttpDate] {
        let sb = sandbox(SandboxConfig {
            collections: 3,
            reports: 20,
            rate_limit: Some(RateLimitConfig {
                requests: 10_000,
                window: Duration::from_secs(1),
                retry_after: form,
            }),
            mode_faults: FaultConfig {
                script: vec![Some(FaultKind::Status(429)), Some(FaultKind::Status(429))],
                ..FaultConfig::none()
            },
            ..SandboxConfig::default()
        });
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out");
        let started = std::time::Instant::now();
        // backoff alone would retry after 5 to 50 ms: only Retry-After explains a wait
        let output = extract(&sb, &out, &[]);
        let elapsed = started.elapsed();
        assert_eq!(code(&output), 0, "{form:?}: {}", stderr(&output));
        let run = read_run(&out);
        assert_eq!(run.summary["rate_limited"], 2, "{form:?}");
        assert_eq!(run.summary["retries"], 2, "{form:?}");
        assert_eq!(run.rows("report").len(), sb.truth().reports.len());
        if form == RetryAfterForm::Seconds {
            assert!(
                elapsed >= Duration::from_secs(2),
                "waited 2 x 1 s: {elapsed:?}"
            );
        }
    }
}

/// Two jobs share one Mode user and each is configured for the whole limit.
/// Each sees in `X-RateLimit-Remaining` what the other uses and leaves it that
/// share, so together they stay near the limit; both finish complete and every
/// 429 the server sent is counted in a summary.
#[test]
fn two_jobs_sharing_one_mode_user_share_the_limit() {
    let sb = sandbox(SandboxConfig {
        collections: 3,
        reports: 20,
        rate_limit: Some(RateLimitConfig {
            requests: 25,
            window: Duration::from_secs(1),
            retry_after: RetryAfterForm::Seconds,
        }),
        ..SandboxConfig::default()
    });
    let dir = tempfile::tempdir().unwrap();
    let jobs: Vec<_> = ["a", "b"]
        .iter()
        .map(|name| {
            let out = dir.path().join(name);
            let child = extract_std(&sb, &out)
                .args([
                    "--rate-limit",
                    "25",
                    "--rate-window",
                    "1s",
                    "--max-retries",
                    "10",
                ])
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap();
            (out, child)
        })
        .collect();
    let mut limited = 0;
    for (out, child) in jobs {
        let output = child.wait_with_output().unwrap();
        assert_eq!(code(&output), 0, "{}", stderr(&output));
        let run = read_run(&out);
        assert_eq!(run.rows("report").len(), sb.truth().reports.len());
        limited += run.summary["rate_limited"].as_u64().unwrap();
    }
    let stats = sb.stats();
    assert_eq!(
        limited, stats.rate_limited,
        "every 429 counted in a summary"
    );
    println!(
        "two jobs: {} calls, {} rate-limited",
        stats.total, stats.rate_limited
    );
    // each 429 pauses its job for Retry-After and cuts its pace, so they stay
    // a minority even while both jobs start at full speed
    assert!(
        stats.rate_limited * 5 <= stats.total,
        "429s stay rare: {stats:?}"
    );
}

#[test]
fn a_paced_run_provokes_no_429() {
    let sb = sandbox(SandboxConfig {
        collections: 3,
        reports: 30,
        rate_limit: Some(RateLimitConfig {
            requests: 40,
            window: Duration::from_secs(1),
            retry_after: RetryAfterForm::Seconds,
        }),
        ..SandboxConfig::default()
    });
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    // Mode's window is 10 s, where the pacer's 2 % margin is 200 ms of slack;
    // this test's 1 s window would leave 20 ms, less than a loaded CI machine's
    // scheduling jitter, so the client asks for 39 (about 45 ms of slack).
    let output = extract(&sb, &out, &["--rate-limit", "39", "--rate-window", "1s"]);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let stats = sb.stats();
    assert!(stats.total > 60, "enough calls to span several windows");
    assert!(
        stats.max_in_window >= 35,
        "the run went at the limit: {stats:?}"
    );
    assert_eq!(stats.rate_limited, 0, "{stats:?}");
}

#[test]
fn persistent_5xx_ends_with_exit_8_and_no_summary() {
    let sb = sandbox(SandboxConfig {
        mode_faults: FaultConfig {
            rate: 1.0,
            kinds: vec![FaultKind::Status(503)],
            ..FaultConfig::none()
        },
        ..small_config()
    });
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let output = extract(&sb, &out, &["--max-retries", "2"]);
    assert_eq!(code(&output), 8, "{}", stderr(&output));
    assert!(stderr(&output).contains("HTTP 503 after 3 attempt(s)"));
    assert_eq!(sb.stats().total, 3);
    assert!(json_names(&out).is_empty());
}
