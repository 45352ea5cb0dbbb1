//! What a push did, its `--dry-run` listing and its exit code.

use std::collections::BTreeMap;
use std::io::Write;

use crate::exit::ExitCode;

use super::mapping::Kind;

/// What a write did, from `X-OpenMetadata-Change` (a retried create that
/// happened on the first attempt reads `Unchanged`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Change {
    /// `entityCreated` (or 201).
    Created,
    /// `entityUpdated` / `entityFieldsChanged` / `entityRestored`.
    Updated,
    /// `entityNoChange`.
    Unchanged,
    /// Soft-deleted.
    Deleted,
    /// A deletion found nothing (already deleted, or never pushed).
    AlreadyGone,
    /// OpenMetadata refused it; see [`OmReport::failures`].
    Failed,
}

impl Change {
    /// The listing's word.
    pub const fn word(self) -> &'static str {
        match self {
            Change::Created => "create",
            Change::Updated => "update",
            Change::Unchanged => "unchanged",
            Change::Deleted => "delete",
            Change::AlreadyGone => "gone",
            Change::Failed => "failed",
        }
    }
}

/// The outcome of a push. Fatal failures are an [`crate::Error`] instead.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OmReport {
    /// `--dry-run`: nothing was written; [`OmReport::listing`] says what would be.
    pub dry_run: bool,
    /// The run pushed, if any.
    pub pushed_run: Option<i64>,
    /// Older pending runs whose deletions were applied with it.
    pub superseded: Vec<i64>,
    /// Runs already pushed (skipped).
    pub already: Vec<i64>,
    /// Runs refused by their summary check.
    pub refused: Vec<String>,
    /// Runs without a summary.
    pub incomplete: Vec<i64>,
    /// Count per kind and change.
    pub counts: BTreeMap<(Kind, Change), u64>,
    /// Lineage edges left out: the table is not in its database service.
    pub tables_missing: u64,
    /// Lineage edges left out: no table FQN (no `--db-service` for the data source, ...).
    pub tables_unmapped: u64,
    /// Owners set / creators OpenMetadata does not know.
    pub owners: (u64, u64),
    /// One line per entity OpenMetadata refused (with its message).
    pub failures: Vec<String>,
    /// `--dry-run`: `create|update|unchanged|delete\tkind\tfqn` lines.
    pub listing: Vec<String>,
    /// Requests answered, and retries.
    pub requests: (u64, u64),
}

impl OmReport {
    /// Adds one to a count.
    pub fn count(&mut self, kind: Kind, change: Change) {
        *self.counts.entry((kind, change)).or_default() += 1;
    }

    /// A count.
    pub fn get(&self, kind: Kind, change: Change) -> u64 {
        self.counts.get(&(kind, change)).copied().unwrap_or(0)
    }

    /// Entities with this change, over every kind but lineage edges.
    pub fn total(&self, change: Change) -> u64 {
        self.counts
            .iter()
            .filter(|((k, c), _)| *c == change && *k != Kind::Lineage)
            .map(|(_, n)| n)
            .sum()
    }

    /// `Integrity` when a run was refused or incomplete, `ItemErrors` when an
    /// entity was refused, `Success` otherwise.
    pub fn exit_code(&self) -> ExitCode {
        if !self.refused.is_empty() || !self.incomplete.is_empty() {
            ExitCode::Integrity
        } else if !self.failures.is_empty() {
            ExitCode::ItemErrors
        } else {
            ExitCode::Success
        }
    }

    /// The final log line.
    pub fn summary_line(&self) -> String {
        let run = self
            .pushed_run
            .map_or_else(|| "no run to push".to_owned(), |ts| format!("run {ts}"));
        let verb = if self.dry_run { "would be" } else { "were" };
        format!(
            "openmetadata: {run}: {} created, {} updated, {} unchanged, {} soft-deleted ({} already gone) {verb}; \
             {} lineage edge(s); {} left out as their table is not in OpenMetadata, {} as their table was not looked up (no --db-service for the data source, or no database); \
             {} owner(s) set, {} creator(s) unknown; {} failure(s); {} request(s), {} retries; \
             {} run(s) already pushed, {} refused, {} incomplete",
            self.total(Change::Created),
            self.total(Change::Updated),
            self.total(Change::Unchanged),
            self.total(Change::Deleted),
            self.total(Change::AlreadyGone),
            self.get(Kind::Lineage, Change::Created)
                + self.get(Kind::Lineage, Change::Updated)
                + self.get(Kind::Lineage, Change::Unchanged),
            self.tables_missing,
            self.tables_unmapped,
            self.owners.0,
            self.owners.1,
            self.failures.len(),
            self.requests.0,
            self.requests.1,
            self.already.len(),
            self.refused.len(),
            self.incomplete.len(),
        )
    }

    /// `--dry-run`'s listing, then the refused and incomplete runs.
    ///
    /// # Errors
    /// Whatever `out` returns.
    pub fn write_listing(&self, out: &mut impl Write) -> std::io::Result<()> {
        for line in &self.listing {
            writeln!(out, "{line}")?;
        }
        for ts in &self.already {
            writeln!(out, "skip\trun {ts}\talready pushed")?;
        }
        for line in &self.refused {
            writeln!(out, "refuse\t{line}")?;
        }
        for ts in &self.incomplete {
            writeln!(out, "incomplete\trun {ts}\tno {ts}-summary.json")?;
        }
        Ok(())
    }
}
