//! Deletion tracking: which reports and datasets of the previous complete
//! run are gone.
//!
//! A report (or dataset) counts as deleted only when it is missing from
//! every complete listing of this run and its detail
//! (`GET /api/{ws}/reports/{token}`) answers 404, or answers 200 showing that
//! it left the selection (moved to a collection or given a name the filters
//! drop, archived under `--exclude-archived`). A 403 is not proof (Mode
//! answers 403 for some deleted objects and for lost access), nor is a 200
//! that places it in a kept collection (the listing missed it): such a report
//! is kept from the previous run, with an item problem. A collection whose
//! listing failed deletes nothing: its previous listing is kept
//! (`Store::keep_previous_listing`).
//!
//! The fail-safe: when more than `--max-deletions` of an asset's previous
//! rows would go, none does; they are all kept and an item problem says why.

use serde_json::Value;

use super::ctx::Ctx;
use super::problems::ProblemKind;
use super::store::items::Kind;
use crate::error::Result;
use crate::mode::{Gone, hal};

/// Settles the missing reports and datasets of the previous run (nothing
/// without one): deleted ones stay out, the others are kept.
///
/// # Errors
/// Fatal client errors, store errors, `--strict`'s first item problem.
pub async fn settle(ctx: &Ctx<'_>, kept_spaces: &[&str]) -> Result<()> {
    let assets = &ctx.config.assets;
    if assets.needs_reports() {
        settle_kind(ctx, Kind::Report, kept_spaces).await?;
    }
    if assets.needs_datasets() {
        settle_kind(ctx, Kind::Dataset, kept_spaces).await?;
    }
    Ok(())
}

async fn settle_kind(ctx: &Ctx<'_>, kind: Kind, kept_spaces: &[&str]) -> Result<()> {
    let store = ctx.store;
    let missing = store.missing(kind)?;
    if missing.is_empty() {
        return Ok(());
    }
    let mut deleted = Vec::new();
    for (token, name) in missing {
        let detail = ctx.detail(true, &token).await?;
        let label = format!(
            "{} {token} ({})",
            kind.name(),
            name.as_deref().unwrap_or("unnamed")
        );
        match detail {
            Some(Err(Gone::NotFound)) | None => deleted.push(token),
            Some(Ok(detail)) if !in_selection(ctx, &detail, kept_spaces) => deleted.push(token),
            Some(Ok(_)) => {
                let message = format!(
                    "{label}: missing from its collection's listing, yet its detail places it in a kept collection; kept from the previous run"
                );
                keep(ctx, kind, &token, ProblemKind::Unlisted, message)?;
            }
            Some(Err(gone)) => {
                let message = format!(
                    "{label}: missing from its collection's listing and its detail {gone} (not proof of deletion); kept from the previous run"
                );
                keep(ctx, kind, &token, (&gone).into(), message)?;
            }
        }
    }
    let previous = store.previous_count(kind)?;
    if exceeds(deleted.len(), previous, store.max_deletions()) {
        for token in &deleted {
            store.keep_previous(kind, token)?;
        }
        let message = format!(
            "{} of {previous} {}s would be deleted, more than --max-deletions ({}); none is deleted and their previous rows are kept",
            deleted.len(),
            kind.name(),
            percent(store.max_deletions())
        );
        ctx.problems
            .report(kind.name(), "", ProblemKind::TooManyDeletions, message)?;
    } else if !deleted.is_empty() {
        tracing::info!(
            "{} {}s deleted since the previous run",
            deleted.len(),
            kind.name()
        );
    }
    Ok(())
}

/// Keeps one missing item's previous rows, with an item problem.
fn keep(
    ctx: &Ctx<'_>,
    kind: Kind,
    token: &str,
    problem: ProblemKind,
    message: String,
) -> Result<()> {
    ctx.problems.report(kind.name(), token, problem, message)?;
    ctx.store.keep_previous(kind, token)
}

/// Whether a report's detail places it where this run's listings would
/// have found it.
fn in_selection(ctx: &Ctx<'_>, detail: &Value, kept_spaces: &[&str]) -> bool {
    let space = hal::str_field(detail, "space_token");
    space.is_some_and(|s| kept_spaces.contains(&s)) && ctx.keeps_report(detail)
}

/// Whether `deleted` of `previous` is more than the `max` share.
pub fn exceeds(deleted: usize, previous: usize, max: f64) -> bool {
    deleted > 0 && deleted as f64 > max * previous as f64
}

/// `0.2` → `"20 %"`.
pub fn percent(share: f64) -> String {
    format!("{} %", (share * 1000.0).round() / 10.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fail_safe_threshold() {
        assert!(!exceeds(0, 0, 0.2));
        assert!(!exceeds(2, 10, 0.2));
        assert!(exceeds(3, 10, 0.2));
        assert!(exceeds(1, 0, 0.2));
        assert!(!exceeds(10, 10, 1.0));
        assert_eq!(percent(0.2), "20 %");
        assert_eq!(percent(0.125), "12.5 %");
    }
}
