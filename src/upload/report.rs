//! The outcome of an upload, its exit code and its last line.

use crate::exit::ExitCode;

use super::discover::SkipReason;
use super::plan::Plan;

/// Runs named in the last line before the rest is only counted.
const RUNS_SHOWN: usize = 5;

/// What an upload did. Fatal failures are an [`crate::Error`] instead.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UploadReport {
    /// What was planned (with `--dry-run`, all that happened).
    pub plan: Plan,
    /// `--dry-run`: nothing was sent.
    pub dry_run: bool,
    /// Files the endpoint acknowledged.
    pub files_sent: u64,
    /// Their bytes.
    pub bytes_sent: u64,
    /// Attempts repeated after a transient failure.
    pub retries: u64,
}

impl UploadReport {
    /// The exit code of an upload that ran to its end:
    ///
    /// - [`ExitCode::Integrity`] (10) when a run was refused (a file differs
    ///   from its summary, or the summary lists no files); the good runs were
    ///   still sent;
    /// - else [`ExitCode::NoRun`] (13) when a `-d` directory holds no complete
    ///   run at all (empty, only incomplete runs, or only files of no run);
    /// - else [`ExitCode::Success`]: an incomplete run (no summary: a killed
    ///   extract-mode) next to complete ones is reported, not an error.
    pub fn exit_code(&self) -> ExitCode {
        if !self.plan.refused.is_empty() {
            ExitCode::Integrity
        } else if self.plan.directory && self.plan.complete.is_empty() {
            ExitCode::NoRun
        } else {
            ExitCode::Success
        }
    }

    /// The final line: what was sent where (files, bytes, retries, endpoint
    /// host, source id, runs sent), then what was skipped, refused and
    /// incomplete, e.g. `sent 9 file(s), 5120 bytes, 0 retries to
    /// ingest.castordoc.com, source 8a4f…: run 1700000000; skipped 0 already
    /// sent and 1 other; 0 run(s) refused, 0 incomplete`.
    pub fn summary_line(&self) -> String {
        let verb = if self.dry_run { "would send" } else { "sent" };
        let (files, bytes) = if self.dry_run {
            (self.plan.files().count() as u64, self.plan.total_bytes())
        } else {
            (self.files_sent, self.bytes_sent)
        };
        let to = &self.plan.destination;
        format!(
            "{verb} {files} file(s), {bytes} bytes, {} retries to {}, source {}: {}; skipped {} already sent and {} other; {} run(s) refused, {} incomplete",
            self.retries,
            to.host,
            to.source_id,
            self.what_was_sent(),
            self.plan.already_sent.len(),
            self.plan
                .skipped
                .iter()
                .filter(|(_, r)| *r != SkipReason::Hidden)
                .count(),
            self.plan.refused.len(),
            self.plan.incomplete.len()
        )
    }

    /// `run 1700000000`, `runs 1, 2 and 3 more`, `no new run`, or `file a.json`.
    fn what_was_sent(&self) -> String {
        if !self.plan.directory {
            let names: Vec<&str> = self.plan.files().map(|f| f.name.as_str()).collect();
            return format!("file {}", names.join(", "));
        }
        let runs: Vec<i64> = self.plan.batches.iter().filter_map(|b| b.run).collect();
        let shown: Vec<String> = runs.iter().take(RUNS_SHOWN).map(i64::to_string).collect();
        let more = runs.len().saturating_sub(RUNS_SHOWN);
        match runs.len() {
            0 if self.plan.complete.is_empty() => "no complete run".into(),
            0 => "no new run".into(),
            1 => format!("run {}", shown[0]),
            _ if more == 0 => format!("runs {}", shown.join(", ")),
            _ => format!("runs {} and {more} more", shown.join(", ")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::upload::plan::{Batch, Destination};

    fn report(runs: &[i64], complete: &[i64]) -> UploadReport {
        UploadReport {
            plan: Plan {
                destination: Destination {
                    host: "ingest.example.com".into(),
                    source_id: "8a4f".into(),
                },
                directory: true,
                complete: complete.to_vec(),
                batches: runs
                    .iter()
                    .map(|ts| Batch {
                        run: Some(*ts),
                        ..Batch::default()
                    })
                    .collect(),
                ..Plan::default()
            },
            ..UploadReport::default()
        }
    }

    #[test]
    fn the_last_line_names_host_source_and_runs() {
        let line = report(&[100, 200], &[100, 200]).summary_line();
        assert!(
            line.starts_with(
                "sent 0 file(s), 0 bytes, 0 retries to ingest.example.com, source 8a4f: runs 100, 200; "
            ),
            "{line}"
        );
        let many: Vec<i64> = (1..=7).collect();
        assert!(
            report(&many, &many)
                .summary_line()
                .contains(": runs 1, 2, 3, 4, 5 and 2 more;")
        );
        assert!(report(&[], &[100]).summary_line().contains(": no new run;"));
        assert!(
            report(&[], &[])
                .summary_line()
                .contains(": no complete run;")
        );
    }

    #[test]
    fn exit_codes_of_a_directory() {
        assert_eq!(report(&[], &[]).exit_code(), ExitCode::NoRun);
        let mut incomplete = report(&[], &[]);
        incomplete
            .plan
            .incomplete
            .push((50, vec!["50-report.json".into()]));
        assert_eq!(incomplete.exit_code(), ExitCode::NoRun);
        incomplete.plan.complete.push(100);
        assert_eq!(incomplete.exit_code(), ExitCode::Success);
        incomplete.plan.refused.push("run 7 refused: …".into());
        assert_eq!(incomplete.exit_code(), ExitCode::Integrity);
        let file = UploadReport::default();
        assert_eq!(file.exit_code(), ExitCode::Success);
    }
}
