//! Test helpers: start a sandbox, run a binary against it in an isolated
//! environment, read a run directory back.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Output;

use assert_cmd::Command;
use mode_sandbox::{FaultConfig, SandboxConfig, SandboxThread};
use serde_json::Value;

/// A small generated workspace: fast, but still with a personal and an empty
/// collection and paging past 30.
pub fn small_config() -> SandboxConfig {
    SandboxConfig {
        collections: 6,
        reports: 90,
        seed: 7,
        ..SandboxConfig::default()
    }
}

/// Starts a sandbox on an ephemeral port.
pub fn sandbox(config: SandboxConfig) -> SandboxThread {
    SandboxThread::start(config).expect("sandbox starts")
}

/// `extract-mode` with an empty environment, the sandbox's credentials, fast
/// retries and a high rate limit, run from `cwd` (no stray `.env`).
pub fn extract_cmd(sb: &SandboxThread, out: &Path) -> Command {
    Command::from_std(extract_std(sb, out))
}

/// [`extract_cmd`] as a plain `std::process::Command`, for tests that spawn and kill.
pub fn extract_std(sb: &SandboxThread, out: &Path) -> std::process::Command {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_extract-mode"));
    cmd.env_clear()
        .current_dir(out.parent().unwrap_or(out))
        .env("CASTOR_MODE_ANALYTICS_HOST", sb.url())
        .env("CASTOR_MODE_ANALYTICS_WORKSPACE", workspace_of(sb))
        .env("CASTOR_MODE_ANALYTICS_TOKEN", "sandbox-token")
        .env("CASTOR_MODE_ANALYTICS_SECRET", "sandbox-secret")
        .env("CASTOR_OUTPUT_DIRECTORY", out)
        .args([
            "--rate-limit",
            "5000",
            "--rate-window",
            "1s",
            "--concurrency",
            "16",
            "--retry-initial-delay",
            "5ms",
            "--retry-max-delay",
            "50ms",
            "--timeout",
            "5s",
        ]);
    cmd
}

/// The sandbox's workspace username (replay mode serves Mode's recorded `acryl`).
pub fn workspace_of(sb: &SandboxThread) -> String {
    sb.truth().workspace["username"]
        .as_str()
        .unwrap_or(mode_sandbox::REPLAY_WORKSPACE)
        .to_owned()
}

/// Runs `extract-mode` with extra arguments and returns its output.
pub fn extract(sb: &SandboxThread, out: &Path, args: &[&str]) -> Output {
    extract_cmd(sb, out)
        .args(args)
        .output()
        .expect("extract-mode runs")
}

/// The exit code (panics on a signal death).
pub fn code(output: &Output) -> i32 {
    output.status.code().expect("exited normally")
}

/// stderr as text.
pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// A run directory read back: asset name → parsed file, plus the summary.
#[derive(Debug)]
pub struct RunFiles {
    pub ts: String,
    pub files: BTreeMap<String, Value>,
    pub summary: Value,
}

impl RunFiles {
    /// The rows of `{ts}-{asset}.json`.
    pub fn rows(&self, asset: &str) -> &Vec<Value> {
        self.files[asset].as_array().expect("an array file")
    }

    /// Rows keyed by `token`.
    pub fn by_token(&self, asset: &str) -> BTreeMap<String, Value> {
        self.rows(asset)
            .iter()
            .map(|r| {
                (
                    r["token"].as_str().unwrap_or_default().to_owned(),
                    r.clone(),
                )
            })
            .collect()
    }
}

/// Reads the single run in `dir` (panics if there is not exactly one summary).
pub fn read_run(dir: &Path) -> RunFiles {
    let names = json_names(dir);
    let summaries: Vec<&String> = names
        .iter()
        .filter(|n| n.ends_with("-summary.json"))
        .collect();
    assert_eq!(summaries.len(), 1, "one summary in {names:?}");
    let ts = summaries[0].trim_end_matches("-summary.json").to_owned();
    let mut files = BTreeMap::new();
    for name in &names {
        let asset = name
            .strip_prefix(&format!("{ts}-"))
            .and_then(|n| n.strip_suffix(".json"))
            .expect("run file name");
        files.insert(asset.to_owned(), read_json(&dir.join(name)));
    }
    let summary = files["summary"].clone();
    RunFiles { ts, files, summary }
}

/// `.json` file names directly in `dir`, sorted.
pub fn json_names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n.ends_with(".json") && !n.starts_with('.'))
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

/// Parses a JSON file.
pub fn read_json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The username in a `_links.creator.href`.
pub fn creator_of(object: &Value) -> Value {
    object["_links"]["creator"]["href"]
        .as_str()
        .and_then(|h| h.rsplit('/').find(|s| !s.is_empty()))
        .map(|s| Value::String(s.to_owned()))
        .unwrap_or(Value::Null)
}

/// The repository's recorded Mode responses.
pub fn recorded_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/mode-recorded")
}

/// No faults at all.
pub fn no_faults() -> FaultConfig {
    FaultConfig::none()
}

/// Asserts that a trace-level run's stdout and stderr (which must be long: the
/// trace is on) contain none of `secrets`.
pub fn assert_output_free_of(output: &Output, secrets: &[&str]) {
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        stderr(output)
    );
    assert!(all.len() > 1000, "trace logging is on");
    for secret in secrets {
        assert!(!all.contains(secret), "{secret} leaked to stdout/stderr");
    }
}

/// Asserts that no file directly in `dir` (hidden ones included) contains any of `secrets`.
pub fn assert_files_free_of(dir: &Path, secrets: &[&str]) {
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let content = std::fs::read_to_string(entry.path()).unwrap_or_default();
        for secret in secrets {
            assert!(!content.contains(secret), "{secret} in {:?}", entry.path());
        }
    }
}
