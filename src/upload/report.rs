//! The outcome of an upload and its exit code.

use crate::exit::ExitCode;

use super::plan::Plan;

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
    /// `Integrity` when a run was refused or held back as incomplete (the good
    /// runs were still sent), `Success` otherwise.
    pub fn exit_code(&self) -> ExitCode {
        if self.plan.refused.is_empty() && self.plan.incomplete.is_empty() {
            ExitCode::Success
        } else {
            ExitCode::Integrity
        }
    }

    /// The final line: files, bytes, retries, skipped, refused, incomplete.
    pub fn summary_line(&self) -> String {
        let verb = if self.dry_run { "would send" } else { "sent" };
        let (files, bytes) = if self.dry_run {
            (self.plan.files().count() as u64, self.plan.total_bytes())
        } else {
            (self.files_sent, self.bytes_sent)
        };
        format!(
            "{verb} {files} file(s), {bytes} bytes, {} retries; skipped {} already sent and {} other; {} run(s) refused, {} incomplete",
            self.retries,
            self.plan.already_sent.len(),
            self.plan
                .skipped
                .iter()
                .filter(|(_, r)| *r != super::discover::SkipReason::Hidden)
                .count(),
            self.plan.refused.len(),
            self.plan.incomplete.len()
        )
    }
}
