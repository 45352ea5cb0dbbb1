//! Run metrics for schedulers and monitoring (`--metrics-file PATH`, issue 11).
//!
//! After every run, successful or not, both binaries can write one file in the
//! Prometheus text exposition format (version 0.0.4), atomically (a temporary
//! file renamed into place, [`crate::output::write_atomic`]), so node_exporter's
//! textfile collector or a push to a Pushgateway never reads half a file.
//!
//! Every sample carries `tool="extract-mode"` or `tool="upload"` and the job's
//! identity: `workspace` (extract-mode) or `source_id` (upload), never a secret.
//! All families are gauges describing the last run:
//!
//! | family (after the `mode_extractor_` prefix) | value | written |
//! |---|---|---|
//! | `run_start_timestamp_seconds` | start of the run, Unix seconds | always |
//! | `run_duration_seconds` | wall time, seconds | always |
//! | `run_exit_code` | the documented exit code ([`ExitCode`]) | always |
//! | `run_success` | 1 for exit 0 or 3, else 0 | always |
//! | `last_success_timestamp_seconds` | end of the last run that exited 0 or 3, Unix seconds | once a run succeeded; a failed run keeps the previous file's value |
//! | `run_api_calls`, `run_rate_limited` | requests sent to Mode (retries included), 429 answers | extract-mode, every run (a failed one too) |
//! | `run_retries` | requests repeated after a transient failure | extract-mode every run; upload completed runs |
//! | `run_items{asset=…}` | rows per asset file (the summary's `counts`) | extract-mode, completed runs |
//! | `run_item_problems` | item problems (`errors_logs`) | extract-mode, completed runs |
//! | `run_files`, `run_bytes` | files written (extract-mode) or acknowledged (upload), their bytes | completed runs |
//! | `run_files_already_sent`, `run_runs_refused`, `run_runs_incomplete` | ledger skips, runs refused, runs without a summary | upload, completed runs |
//!
//! A run that ends with an error has no report, so only the first five
//! families are written for it. Keep one file per job: the previous file's
//! `last_success` sample with the same `tool` label is what a failed run keeps.
//!
//! ```no_run
//! # fn demo(report: &mode_extractor::extract::RunReport) -> mode_extractor::Result<()> {
//! use mode_extractor::metrics::{Recorder, Tool};
//! let mut metrics = Recorder::start("/var/lib/node_exporter/mode.prom".as_ref(), Tool::Extract)?;
//! metrics.label("workspace", "acme");
//! metrics.extract(report, "/data/mode".as_ref());
//! metrics.finish(report.exit_code())?;
//! # Ok(()) }
//! ```

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use crate::error::{Error, Result};
use crate::exit::ExitCode;
use crate::extract::RunReport;
use crate::output::{RunSummary, summary_file_name, write_atomic};
use crate::upload::UploadReport;

/// Prefix of every metric family.
pub const PREFIX: &str = "mode_extractor_";

const LAST_SUCCESS: &str = "last_success_timestamp_seconds";

/// Which binary ran; the `tool` label.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tool {
    /// `extract-mode`.
    Extract,
    /// `upload`.
    Upload,
}

impl Tool {
    /// The label value: the binary's name.
    pub const fn name(self) -> &'static str {
        match self {
            Tool::Extract => "extract-mode",
            Tool::Upload => "upload",
        }
    }
}

/// One sample: family (without [`PREFIX`]), help text, one extra label, value.
#[derive(Debug, Clone, PartialEq)]
struct Sample {
    family: &'static str,
    help: &'static str,
    extra: Option<(&'static str, String)>,
    value: f64,
}

/// Collects one run's metrics and writes them when the run ends.
#[derive(Debug)]
pub struct Recorder {
    path: PathBuf,
    tool: Tool,
    started: SystemTime,
    clock: Instant,
    labels: Vec<(&'static str, String)>,
    samples: Vec<Sample>,
}

impl Recorder {
    /// Starts the clock of a run whose metrics go to `path`.
    ///
    /// # Errors
    /// [`Error::Config`] when `path` has no file name or its directory does not
    /// exist: checked before the run starts, so a typo fails fast (exit 2).
    pub fn start(path: &Path, tool: Tool) -> Result<Recorder> {
        let bad = |why: &str| Error::Config(format!("--metrics-file {}: {why}", path.display()));
        if path.file_name().is_none() || path.is_dir() {
            return Err(bad("not a file path"));
        }
        if !parent(path).is_dir() {
            return Err(bad("its directory does not exist"));
        }
        Ok(Recorder {
            path: path.to_owned(),
            tool,
            started: SystemTime::now(),
            clock: Instant::now(),
            labels: vec![("tool", tool.name().to_owned())],
            samples: Vec::new(),
        })
    }

    /// Adds a label to every sample (`workspace`, `source_id`): never a secret.
    pub fn label(&mut self, name: &'static str, value: &str) {
        self.labels.push((name, value.to_owned()));
    }

    /// Records a completed extraction; rows per asset come from its summary
    /// in `output` (a summary that cannot be read leaves them out, with a warning).
    pub fn extract(&mut self, report: &RunReport, output: &Path) {
        self.api(report.api);
        let problems = report.problems.len() as u64;
        self.push(
            "run_item_problems",
            "Item problems (errors_logs) of the run.",
            problems,
        );
        self.extract_files(report, output);
    }

    /// Records the requests made to Mode, `(calls, retries, 429s)`: from a
    /// completed run's report, or from the client's counters when the run
    /// failed (see [`crate::mode::ClientSettings::counters`]).
    pub fn api(&mut self, (calls, retries, limited): (u64, u64, u64)) {
        self.push(
            "run_api_calls",
            "Requests sent to Mode, retries included.",
            calls,
        );
        self.push(
            "run_retries",
            "Requests repeated after a transient failure.",
            retries,
        );
        self.push(
            "run_rate_limited",
            "429 answers received from Mode.",
            limited,
        );
    }

    fn extract_files(&mut self, report: &RunReport, output: &Path) {
        let bytes = report.files.iter().map(|f| f.bytes).sum();
        self.push_files(report.files.len() as u64, bytes);
        match read_counts(&output.join(summary_file_name(report.ts))) {
            Ok(counts) => {
                for (asset, rows) in counts {
                    self.samples.push(Sample {
                        family: "run_items",
                        help: "Rows written per asset file.",
                        extra: Some(("asset", asset)),
                        value: rows as f64,
                    });
                }
            }
            Err(e) => tracing::warn!("metrics: items per asset left out: {e}"),
        }
    }

    /// Records a completed upload (with `--dry-run`, nothing was sent: zeros).
    pub fn upload(&mut self, report: &UploadReport) {
        self.push_files(report.files_sent, report.bytes_sent);
        self.push(
            "run_retries",
            "Requests repeated after a transient failure.",
            report.retries,
        );
        let plan = &report.plan;
        let help = "Files skipped because the ledger says they were acknowledged.";
        self.push(
            "run_files_already_sent",
            help,
            plan.already_sent.len() as u64,
        );
        let help = "Runs refused: a file differs from its summary.";
        self.push("run_runs_refused", help, plan.refused.len() as u64);
        let help = "Runs held back: no summary yet.";
        self.push("run_runs_incomplete", help, plan.incomplete.len() as u64);
    }

    /// Writes the file for a run that ended with `code`.
    ///
    /// # Errors
    /// [`Error::Io`] when the file cannot be written; the previous file is
    /// then left as it was.
    pub fn finish(mut self, code: ExitCode) -> Result<()> {
        let duration = self.clock.elapsed().as_secs_f64();
        let start = unix_seconds(self.started);
        let success = matches!(code, ExitCode::Success | ExitCode::ItemErrors);
        let last = if success {
            Some(start + duration)
        } else {
            self.previous_success()
        };
        let mut head = vec![
            sample(
                "run_start_timestamp_seconds",
                "Start of the run, Unix seconds.",
                start,
            ),
            sample(
                "run_duration_seconds",
                "Wall time of the run, seconds.",
                duration,
            ),
            sample(
                "run_exit_code",
                "Exit code of the run (README table).",
                f64::from(code.code()),
            ),
            sample(
                "run_success",
                "1 when the run exited 0 or 3, else 0.",
                f64::from(u8::from(success)),
            ),
        ];
        if let Some(last) = last {
            let help = "End of the last run that exited 0 or 3, Unix seconds.";
            head.push(sample(LAST_SUCCESS, help, last));
        }
        head.append(&mut self.samples);
        self.samples = head;
        let (dir, name) = (parent(&self.path), file_name(&self.path));
        write_atomic(dir, &name, self.render().as_bytes()).map(drop)
    }

    /// The text exposition of the samples: `# HELP`, `# TYPE`, then the
    /// samples of each family, families in first-seen order.
    fn render(&self) -> String {
        let labels = render_labels(&self.labels, None);
        let mut out = String::new();
        let mut seen: Vec<&str> = Vec::new();
        for s in &self.samples {
            if seen.contains(&s.family) {
                continue;
            }
            seen.push(s.family);
            let _ = writeln!(out, "# HELP {PREFIX}{} {}", s.family, s.help);
            let _ = writeln!(out, "# TYPE {PREFIX}{} gauge", s.family);
            for t in self.samples.iter().filter(|t| t.family == s.family) {
                let labels = match &t.extra {
                    Some(extra) => render_labels(&self.labels, Some(extra)),
                    None => labels.clone(),
                };
                let _ = writeln!(out, "{PREFIX}{}{labels} {}", t.family, t.value);
            }
        }
        out
    }

    /// The previous file's last success for the same tool, if any. The file
    /// is ours, so its lines have our layout; anything else is ignored.
    fn previous_success(&self) -> Option<f64> {
        let text = match std::fs::read_to_string(&self.path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return None,
            Err(e) => {
                tracing::warn!(
                    "metrics: cannot read the previous {}: {e}",
                    self.path.display()
                );
                return None;
            }
        };
        // `tool` is always the first label.
        let start = format!("{PREFIX}{LAST_SUCCESS}{{tool=\"{}\"", self.tool.name());
        text.lines()
            .find_map(|l| l.strip_prefix(&start)?.rsplit_once(' '))
            .and_then(|(_, value)| value.trim().parse::<f64>().ok())
            .filter(|v| v.is_finite())
    }

    fn push(&mut self, family: &'static str, help: &'static str, value: u64) {
        self.samples.push(sample(family, help, value as f64));
    }

    fn push_files(&mut self, files: u64, bytes: u64) {
        let (f, b) = match self.tool {
            Tool::Extract => ("Files written by the run.", "Bytes of the files written."),
            Tool::Upload => ("Files sent and acknowledged.", "Bytes of the files sent."),
        };
        self.push("run_files", f, files);
        self.push("run_bytes", b, bytes);
    }
}

fn sample(family: &'static str, help: &'static str, value: f64) -> Sample {
    Sample {
        family,
        help,
        extra: None,
        value,
    }
}

/// `{a="x",b="y"}` with the text format's escapes (backslash, quote, newline).
fn render_labels(
    labels: &[(&'static str, String)],
    extra: Option<&(&'static str, String)>,
) -> String {
    let pairs: Vec<String> = labels
        .iter()
        .chain(extra)
        .map(|(name, value)| {
            let value = value
                .replace('\\', "\\\\")
                .replace('"', "\\\"")
                .replace('\n', "\\n");
            format!("{name}=\"{value}\"")
        })
        .collect();
    format!("{{{}}}", pairs.join(","))
}

fn read_counts(summary: &Path) -> Result<Vec<(String, u64)>> {
    let text = std::fs::read(summary).map_err(|e| Error::io("cannot read", summary, e))?;
    let summary: RunSummary = serde_json::from_slice(&text)
        .map_err(|e| Error::Integrity(format!("{}: not a run summary: {e}", summary.display())))?;
    Ok(summary
        .counts
        .into_iter()
        .filter_map(|(asset, rows)| Some((asset, rows.as_u64()?)))
        .collect())
}

fn parent(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

fn unix_seconds(t: SystemTime) -> f64 {
    t.duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn recorder(dir: &Path, tool: Tool) -> Recorder {
        let mut r = Recorder::start(&dir.join("run.prom"), tool).unwrap();
        r.label("workspace", "ac\"me\\\n");
        r
    }

    fn last_success(text: &str) -> Option<f64> {
        text.lines()
            .find(|l| l.starts_with("mode_extractor_last_success_timestamp_seconds{"))
            .and_then(|l| l.rsplit(' ').next()?.parse().ok())
    }

    #[test]
    fn labels_are_escaped() {
        let dir = tempfile::tempdir().unwrap();
        recorder(dir.path(), Tool::Extract)
            .finish(ExitCode::Success)
            .unwrap();
        let text = std::fs::read_to_string(dir.path().join("run.prom")).unwrap();
        assert!(
            text.contains(
                r#"mode_extractor_run_exit_code{tool="extract-mode",workspace="ac\"me\\\n"} 0"#
            ),
            "{text}"
        );
    }

    #[test]
    fn a_failed_run_keeps_the_last_success_of_the_same_tool() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("run.prom");
        recorder(dir.path(), Tool::Extract)
            .finish(ExitCode::ItemErrors)
            .unwrap();
        let first = last_success(&std::fs::read_to_string(&path).unwrap()).unwrap();
        recorder(dir.path(), Tool::Extract)
            .finish(ExitCode::Unauthorized)
            .unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(last_success(&text), Some(first));
        assert!(
            text.contains("mode_extractor_run_success{tool=\"extract-mode\""),
            "{text}"
        );
        assert!(text.contains("\"} 4\n"), "{text}");
        // Another tool's file is not this tool's history.
        recorder(dir.path(), Tool::Upload)
            .finish(ExitCode::Io)
            .unwrap();
        assert_eq!(last_success(&std::fs::read_to_string(&path).unwrap()), None);
    }

    #[test]
    fn a_missing_directory_is_a_usage_error() {
        let dir = tempfile::tempdir().unwrap();
        let err = Recorder::start(&dir.path().join("no/such.prom"), Tool::Upload).unwrap_err();
        assert_eq!(err.exit_code(), ExitCode::Usage);
        let err = Recorder::start(dir.path(), Tool::Upload).unwrap_err();
        assert_eq!(err.exit_code(), ExitCode::Usage);
    }
}
