//! `--metrics-file` on both binaries, read back with a real Prometheus
//! text-format parser (`prometheus-parse`) and checked against what the
//! sandbox saw: API calls, items, files and bytes received; a failed run keeps
//! the last success; labels carry the workspace or source id, never a secret.

use std::collections::HashMap;
use std::path::Path;

use assert_cmd::Command;
use mode_sandbox::SandboxThread;
use prometheus_parse::{Scrape, Value};

use crate::support::*;

const SOURCE_ID: &str = "7b2f9a4e-3c1d-4e8f-9a6b-2d5c8e1f0a37";

/// Sample name (without `mode_extractor_`) and its one extra label value, if
/// any → value; every sample must carry `expected` labels.
fn parse(path: &Path, expected: &[(&str, &str)]) -> HashMap<(String, String), f64> {
    let text = std::fs::read_to_string(path).expect("metrics file written");
    for secret in ["sandbox-secret", "sandbox-ingest-token", "wrong-secret"] {
        assert!(!text.contains(secret), "a secret in the metrics:\n{text}");
    }
    let scrape = Scrape::parse(text.lines().map(|l| Ok(l.to_owned()))).expect("parses");
    let mut out = HashMap::new();
    for sample in scrape.samples {
        for (name, value) in expected {
            assert_eq!(sample.labels.get(name), Some(*value), "{}", sample.metric);
        }
        let Value::Gauge(value) = sample.value else {
            panic!("{} is not a gauge", sample.metric);
        };
        let name = sample
            .metric
            .strip_prefix("mode_extractor_")
            .expect("prefixed");
        let asset = sample.labels.get("asset").unwrap_or_default().to_owned();
        out.insert((name.to_owned(), asset), value);
    }
    out
}

fn get(m: &HashMap<(String, String), f64>, name: &str) -> f64 {
    m[&(name.to_owned(), String::new())]
}

fn extract_with_metrics(sb: &SandboxThread, out: &Path, prom: &Path, secret: &str) -> i32 {
    let output = extract_cmd(sb, out)
        .env("CASTOR_MODE_ANALYTICS_SECRET", secret)
        .arg("--metrics-file")
        .arg(prom)
        .output()
        .expect("extract-mode runs");
    code(&output)
}

#[test]
fn extract_metrics_match_the_run_and_a_failure_keeps_the_last_success() {
    let sb = sandbox(mode_sandbox::SandboxConfig {
        item_problems: true,
        ..small_config()
    });
    let dir = tempfile::tempdir().unwrap();
    let (out, prom) = (dir.path().join("out"), dir.path().join("extract.prom"));
    assert_eq!(extract_with_metrics(&sb, &out, &prom, "sandbox-secret"), 3);
    let labels = [("tool", "extract-mode"), ("workspace", "demo")];
    let m = parse(&prom, &labels);
    let run = read_run(&out);
    assert_eq!(get(&m, "run_exit_code"), 3.0);
    assert_eq!(get(&m, "run_success"), 1.0);
    assert_eq!(get(&m, "run_api_calls"), sb.stats().total as f64);
    let problems = run.files["errors_logs"].as_array().unwrap().len();
    assert!(problems > 0);
    assert_eq!(get(&m, "run_item_problems"), problems as f64);
    for asset in ["report", "query", "member", "chart"] {
        let rows = run.rows(asset).len() as f64;
        assert_eq!(
            m[&("run_items".to_owned(), asset.to_owned())],
            rows,
            "{asset}"
        );
    }
    let start = get(&m, "run_start_timestamp_seconds");
    let last = get(&m, "last_success_timestamp_seconds");
    assert!(last >= start + get(&m, "run_duration_seconds") - 0.001);

    let calls_before = sb.stats().total;
    assert_eq!(extract_with_metrics(&sb, &out, &prom, "wrong-secret"), 4);
    let failed = parse(&prom, &labels);
    assert_eq!(get(&failed, "run_exit_code"), 4.0);
    assert_eq!(get(&failed, "run_success"), 0.0);
    assert_eq!(get(&failed, "last_success_timestamp_seconds"), last);
    assert!(get(&failed, "run_start_timestamp_seconds") > start);
    // A failed run still reports the requests it made (the client's counters
    // outlive its report).
    let failed_calls = (sb.stats().total - calls_before) as f64;
    assert!(failed_calls >= 1.0);
    assert_eq!(get(&failed, "run_api_calls"), failed_calls);
    assert_eq!(get(&failed, "run_retries"), 0.0);
}

#[test]
fn upload_metrics_count_what_the_ingest_received() {
    let sb = sandbox(small_config());
    let dir = tempfile::tempdir().unwrap();
    let (out, prom) = (dir.path().join("out"), dir.path().join("upload.prom"));
    assert_eq!(code(&extract(&sb, &out, &[])), 0);
    let output = Command::new(env!("CARGO_BIN_EXE_upload"))
        .env_clear()
        .current_dir(dir.path())
        .env("CASTOR_UPLOADER_TOKEN", "sandbox-ingest-token")
        .env("CASTOR_UPLOADER_SOURCE_ID", SOURCE_ID)
        .env("CASTOR_UPLOADER_ENDPOINT", sb.url())
        .arg("-d")
        .arg(&out)
        .arg("--metrics-file")
        .arg(&prom)
        .output()
        .unwrap();
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let m = parse(&prom, &[("tool", "upload"), ("source_id", SOURCE_ID)]);
    let received = sb.received();
    assert!(!received.is_empty());
    assert_eq!(get(&m, "run_files"), received.len() as f64);
    let bytes: u64 = received.iter().map(|f| f.bytes).sum();
    assert_eq!(get(&m, "run_bytes"), bytes as f64);
    assert_eq!(get(&m, "run_exit_code"), 0.0);
    assert_eq!(get(&m, "run_files_already_sent"), 0.0);
}

#[test]
fn a_metrics_file_in_a_missing_directory_stops_before_any_call() {
    let sb = sandbox(small_config());
    let dir = tempfile::tempdir().unwrap();
    let prom = dir.path().join("no-such-dir/extract.prom");
    let out = dir.path().join("out");
    assert_eq!(extract_with_metrics(&sb, &out, &prom, "sandbox-secret"), 2);
    assert_eq!(sb.stats().total, 0);
    assert!(!out.exists());
}

#[test]
fn a_dry_run_is_not_a_run_and_writes_no_metrics() {
    let sb = sandbox(small_config());
    let dir = tempfile::tempdir().unwrap();
    let (out, prom) = (dir.path().join("out"), dir.path().join("extract.prom"));
    let output = extract(
        &sb,
        &out,
        &["--dry-run", "--metrics-file", prom.to_str().unwrap()],
    );
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    assert!(!prom.exists());
}
