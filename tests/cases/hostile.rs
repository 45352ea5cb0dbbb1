//! A deliberately broken Mode API (the sandbox's hostile mode) against the real
//! `extract-mode`: never a silent "complete" run, never a panic, an endless
//! stall or a leaked secret. Each case is bounded in time.

use std::time::{Duration, Instant};

use mode_sandbox::{Hostile, HostileScope, SandboxConfig, TokenKind};
use serde_json::Value;

use crate::support::*;

fn hostile(kind: Hostile, scope: HostileScope) -> SandboxConfig {
    SandboxConfig {
        collections: 3,
        reports: 100,
        seed: 11,
        hostile: Some(kind),
        hostile_scope: scope,
        ..SandboxConfig::default()
    }
}

/// Runs against `kind`; returns the output and how long it took.
fn run(
    kind: Hostile,
    scope: HostileScope,
    args: &[&str],
) -> (std::process::Output, Duration, tempfile::TempDir) {
    let sb = sandbox(hostile(kind, scope));
    let dir = tempfile::tempdir().unwrap();
    let started = Instant::now();
    let mut all = vec![
        "--max-retries",
        "2",
        "--max-pages",
        "40",
        "--max-body",
        "1048576",
    ];
    all.extend_from_slice(args);
    let output = extract(&sb, &dir.path().join("out"), &all);
    (output, started.elapsed(), dir)
}

/// The problems of the single run in `dir/out`, by kind.
fn problem_kinds(dir: &tempfile::TempDir) -> Vec<String> {
    let run = read_run(&dir.path().join("out"));
    assert_eq!(run.summary["status"], "complete_with_item_errors");
    run.summary["item_errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["kind"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn a_broken_item_list_is_an_item_problem_never_an_empty_complete_run() {
    for (kind, expected) in [
        (Hostile::EmbeddedNull, "malformed"),
        (Hostile::EmbeddedObject, "malformed"),
        (Hostile::BareArray, "malformed"),
        (Hostile::LaterPage403, "truncated"),
        (Hostile::LaterPage404, "truncated"),
        (Hostile::RepeatPage, "truncated"),
        (Hostile::ShortTotal, "truncated"),
        (Hostile::HugeContentLength, "malformed"),
        (Hostile::EndlessChunked, "malformed"),
        (Hostile::EndlessUntilClose, "malformed"),
    ] {
        let (output, took, dir) = run(kind, HostileScope::Items, &[]);
        assert_eq!(code(&output), 3, "{kind:?}: {}", stderr(&output));
        assert!(took < Duration::from_secs(30), "{kind:?} took {took:?}");
        let kinds = problem_kinds(&dir);
        assert!(kinds.iter().any(|k| k == expected), "{kind:?}: {kinds:?}");
        if expected == "truncated" && kind != Hostile::ShortTotal {
            // the items before the cut are kept
            let reports = read_run(&dir.path().join("out")).rows("report").len();
            assert!(reports >= 30, "{kind:?}: {reports} reports kept");
        }
    }
}

#[test]
fn a_broken_workspace_list_ends_the_run() {
    for (kind, exit) in [
        (Hostile::EmbeddedNull, 8),
        (Hostile::BareArray, 8),
        (Hostile::HugeContentLength, 8),
        (Hostile::EndlessChunked, 8),
    ] {
        let (output, _, dir) = run(kind, HostileScope::Workspace, &[]);
        assert_eq!(code(&output), exit, "{kind:?}: {}", stderr(&output));
        assert!(
            crate::support::json_names(&dir.path().join("out"))
                .iter()
                .all(|n| !n.ends_with("-summary.json"))
        );
    }
}

#[test]
fn endless_pages_stop_at_the_page_cap() {
    let (output, took, _dir) = run(Hostile::EndlessPages, HostileScope::Items, &[]);
    assert_eq!(code(&output), 8, "{}", stderr(&output));
    assert!(
        stderr(&output).contains("more than 40 pages"),
        "{}",
        stderr(&output)
    );
    assert!(took < Duration::from_secs(30), "{took:?}");
}

#[test]
fn a_retry_after_past_the_cap_fails_at_once() {
    for kind in [Hostile::RetryAfterHuge, Hostile::RetryAfterOverflow] {
        let (output, took, _dir) = run(kind, HostileScope::Items, &[]);
        assert_eq!(code(&output), 8, "{kind:?}: {}", stderr(&output));
        assert!(took < Duration::from_secs(10), "{kind:?} took {took:?}");
        let err = stderr(&output);
        assert!(
            err.contains("cap on Retry-After") && !err.contains("panicked"),
            "{err}"
        );
    }
}

#[test]
fn a_server_echoing_the_credentials_gets_nothing_on_stderr() {
    use base64::Engine;
    let sb = sandbox(hostile(Hostile::EchoCredentials, HostileScope::Items));
    let dir = tempfile::tempdir().unwrap();
    let output = extract_cmd(&sb, &dir.path().join("out"))
        .env("RUST_LOG", "trace")
        .args(["--max-retries", "1"])
        .output()
        .unwrap();
    assert_ne!(code(&output), 0);
    let basic = base64::engine::general_purpose::STANDARD.encode("sandbox-token:sandbox-secret");
    assert_output_free_of(
        &output,
        &["sandbox-secret", &basic, basic.trim_end_matches('=')],
    );
    assert!(
        stderr(&output).contains("[REDACTED]"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn both_token_kinds_extract_completely_without_the_account_endpoint() {
    for kind in [TokenKind::Workspace, TokenKind::Member] {
        let sb = sandbox(SandboxConfig {
            token_kind: kind,
            ..small_config()
        });
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out");
        let output = extract(&sb, &out, &[]);
        assert_eq!(code(&output), 0, "{kind:?}: {}", stderr(&output));
        let run = read_run(&out);
        assert_eq!(
            run.rows("report").len(),
            sb.truth().reports.len(),
            "{kind:?}"
        );
        assert_eq!(
            sb.stats().by_kind.get("account").copied().unwrap_or(0),
            0,
            "{kind:?}"
        );
    }
}

#[test]
fn next_page_links_and_total_count_are_followed() {
    let sb = sandbox(SandboxConfig {
        pagination_links: true,
        ..small_config()
    });
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let output = extract(&sb, &out, &[]);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let run = read_run(&out);
    assert_eq!(run.rows("report").len(), sb.truth().reports.len());
    let summary: &Value = &run.summary;
    assert_eq!(summary["status"], "complete");
}
