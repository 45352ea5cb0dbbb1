//! A simulated day: what [`Handle::advance_day`](super::Handle::advance_day)
//! is asked to change, and what it changed.
//!
//! The day is drawn from `DayPlan::seed` and the sandbox's day number, so the
//! same workspace and the same sequence of plans always give the same days.
//! See `docs/sandbox.md` ("Simulated days") for what each change does to the
//! served objects and the truth.

use serde::{Deserialize, Serialize};

/// What one simulated day changes. Default = issue 9's acceptance day: 1 % of
/// reports edited, 2 added, 2 deleted, 1 moved, 5 % runs-only, 1 archived,
/// 1 definition rewritten, 1 member added, 1 member removed.
///
/// Fractions are of the listed reports (datasets excluded), rounded to the
/// nearest whole report and at least one when positive. Edited, deleted,
/// moved, archived and runs-only reports are distinct, non-archived and never
/// one of the deliberately broken items of `item_problems`; when the
/// workspace has too few of them, fewer change (the [`DayLog`] tells).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct DayPlan {
    /// Seed of the day's random choices (mixed with the day number).
    pub seed: u64,
    /// Fraction (0..=1) of reports edited: SQL changed, a query or chart added
    /// or removed, or a chart retitled.
    pub edited_fraction: f64,
    /// Reports added to shared collections (at most [`MAX_ADDED_PER_DAY`]).
    pub added: usize,
    /// Reports deleted (gone from listings; every URL under them answers 404).
    pub deleted: usize,
    /// Reports moved to another shared collection.
    pub moved: usize,
    /// Fraction (0..=1) of reports that only ran (`last_run_at`,
    /// `last_successfully_run_at`, `runs_count` change).
    pub runs_only_fraction: f64,
    /// Reports archived (`archived: true`, `edited_at` moves).
    pub archived: usize,
    /// Definitions whose `source` is rewritten to read other tables.
    pub definitions_rewritten: usize,
    /// Members added (a membership and a user; at most [`MAX_ADDED_PER_DAY`]).
    pub members_added: usize,
    /// Members removed (never the token owner, `users[0]`).
    pub members_removed: usize,
}

impl Default for DayPlan {
    fn default() -> Self {
        DayPlan {
            seed: 0,
            edited_fraction: 0.01,
            added: 2,
            deleted: 2,
            moved: 1,
            runs_only_fraction: 0.05,
            archived: 1,
            definitions_rewritten: 1,
            members_added: 1,
            members_removed: 1,
        }
    }
}

/// What the day changed (report tokens, definition tokens, member usernames),
/// each list sorted. A report is in exactly one of the report lists.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DayLog {
    /// Reports edited (see [`DayPlan::edited_fraction`]).
    pub edited: Vec<String>,
    /// Reports added.
    pub added: Vec<String>,
    /// Reports deleted.
    pub deleted: Vec<String>,
    /// Reports moved to another collection.
    pub moved: Vec<String>,
    /// Reports archived.
    pub archived: Vec<String>,
    /// Reports that only ran.
    pub runs_only: Vec<String>,
    /// Definitions rewritten (definition tokens).
    pub definitions: Vec<String>,
    /// Members added (usernames).
    pub members_added: Vec<String>,
    /// Members removed (usernames).
    pub members_removed: Vec<String>,
}

impl DayLog {
    /// Sorts every list (called once the day is done).
    pub(crate) fn sort(&mut self) {
        for list in [
            &mut self.edited,
            &mut self.added,
            &mut self.deleted,
            &mut self.moved,
            &mut self.archived,
            &mut self.runs_only,
            &mut self.definitions,
            &mut self.members_added,
            &mut self.members_removed,
        ] {
            list.sort();
        }
    }
}

/// Most reports or members one day adds (larger plans are clamped).
pub const MAX_ADDED_PER_DAY: usize = 100_000;

/// How many of `n` reports a fraction means: rounded, at least one when the
/// fraction is positive, never more than `n`.
pub(crate) fn share(fraction: f64, n: usize) -> usize {
    if fraction.is_nan() || fraction <= 0.0 || n == 0 {
        return 0;
    }
    let wanted = (fraction.min(1.0) * n as f64).round() as usize;
    wanted.clamp(1, n)
}
