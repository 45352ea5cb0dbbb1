//! Item problems: things wrong with one item that retrying cannot fix and that
//! must not end the run (a report deleted between listing and fetch, a missing
//! creator link, a `null` name, a query on an unknown data source, a member
//! whose user is gone).
//!
//! The item is kept with what is known; the problem is logged as a warning and
//! goes to `{ts}-errors_logs.json` (castor's file: a JSON array of messages) and,
//! with structure, to the summary. The run then exits with
//! [`crate::ExitCode::ItemErrors`]. With `--strict` the first problem is fatal.

use std::sync::Mutex;

use serde::Serialize;

use crate::error::{Error, Result};
use crate::mode::Gone;

/// What kind of problem an item has.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ProblemKind {
    /// Listed, then 404 when it or its children were fetched.
    Deleted,
    /// Listed, then 403 (Mode's answer just after a deletion, or an item this
    /// token may not read).
    Inaccessible,
    /// No `_links.creator`.
    MissingCreator,
    /// `name` is `null` or missing.
    NullName,
    /// A query's `data_source_id` is not among the workspace's data sources.
    UnknownDataSource,
    /// Mode answered a body that is not the shape it documents, after every retry.
    Malformed,
    /// A list ended before Mode's normal last page (a later page failed or
    /// repeated the one before, or fewer items came than `total_count` said):
    /// the items before the cut are kept.
    Truncated,
}

impl From<Gone> for ProblemKind {
    fn from(gone: Gone) -> Self {
        ProblemKind::from(&gone)
    }
}

impl From<&Gone> for ProblemKind {
    fn from(gone: &Gone) -> Self {
        match gone {
            Gone::NotFound => ProblemKind::Deleted,
            Gone::Forbidden => ProblemKind::Inaccessible,
            Gone::Malformed(_) => ProblemKind::Malformed,
            Gone::Cut(_) => ProblemKind::Truncated,
        }
    }
}

/// One item problem.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ItemProblem {
    /// The asset type: `report`, `collection`, `query`, `member`, …
    pub asset: &'static str,
    /// The item's token (a member's username).
    pub token: String,
    /// What is wrong.
    pub kind: ProblemKind,
    /// One human-readable line.
    pub message: String,
}

/// Collects the problems of a run (shared by the concurrent tasks).
#[derive(Debug)]
pub struct Problems {
    strict: bool,
    list: Mutex<Vec<ItemProblem>>,
}

impl Problems {
    /// A collector; `strict` makes [`Problems::report`] fail.
    pub fn new(strict: bool) -> Self {
        Problems {
            strict,
            list: Mutex::new(Vec::new()),
        }
    }

    /// Records a problem.
    ///
    /// # Errors
    /// [`Error::Strict`] in strict mode.
    pub fn report(
        &self,
        asset: &'static str,
        token: &str,
        kind: ProblemKind,
        message: String,
    ) -> Result<()> {
        if self.strict {
            return Err(Error::Strict(message));
        }
        tracing::warn!("{message}");
        let problem = ItemProblem {
            asset,
            token: token.to_owned(),
            kind,
            message,
        };
        self.list
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(problem);
        Ok(())
    }

    /// The problems so far, sorted by asset, token and kind (deterministic output
    /// whatever the order the concurrent tasks finished in).
    pub fn sorted(&self) -> Vec<ItemProblem> {
        let mut list = self.list.lock().unwrap_or_else(|e| e.into_inner()).clone();
        list.sort_by(|a, b| {
            (a.asset, &a.token, a.kind as u8).cmp(&(b.asset, &b.token, b.kind as u8))
        });
        list
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strict_fails_lenient_collects() {
        let lenient = Problems::new(false);
        lenient
            .report("report", "b", ProblemKind::NullName, "x".into())
            .unwrap();
        lenient
            .report("report", "a", ProblemKind::Deleted, "y".into())
            .unwrap();
        let tokens: Vec<_> = lenient.sorted().into_iter().map(|p| p.token).collect();
        assert_eq!(tokens, ["a", "b"]);
        let strict = Problems::new(true);
        let err = strict
            .report("report", "a", ProblemKind::Deleted, "gone".into())
            .unwrap_err();
        assert_eq!(err.exit_code(), crate::ExitCode::StrictAbort);
    }
}
