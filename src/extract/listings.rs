//! Each kept collection's report and dataset listings, walked in two steps:
//! first every listing to its end or to a short page in doubt (one that may
//! be full for a Mode serving fewer items than asked), then the doubts, most
//! of them settled without a call by a longer page of another collection
//! (`mode::page_sizes`). Each listed report goes to the store as its page
//! arrives, with its place in the files and its change fingerprint.

use futures::{StreamExt, TryStreamExt, stream};
use serde_json::Value;

use super::ctx::Ctx;
use super::rows::ReportListing;
use super::store::items::{Imports, Kind, Listing, fingerprint};
use crate::error::Result;
use crate::mode::{Fetched, List, Scope, Walk, hal};

impl Ctx<'_> {
    /// Lists the reports and datasets of the kept collections (their
    /// tokens, in the files' order) into the store; how many of each.
    ///
    /// # Errors
    /// Fatal client and store errors; a listing cut short is an item problem.
    pub(super) async fn list_collections(&self, kept: &[Option<String>]) -> Result<(u64, u64)> {
        let targets = self.listing_targets(kept);
        let doubtful: Vec<SpaceList<'_>> = stream::iter(&targets)
            .map(|(index, kind, segments)| self.list_space(*index, *kind, segments))
            .buffer_unordered(self.concurrency())
            .try_collect()
            .await?;
        // Every listing has shown its first page: most short pages in doubt
        // are settled now without a call (see `mode::page_sizes`).
        let listed: Vec<(Kind, u64)> = stream::iter(doubtful)
            .map(|list| self.finish_space(list))
            .buffer_unordered(self.concurrency())
            .try_collect()
            .await?;
        let count = |want: Kind| -> u64 {
            listed
                .iter()
                .filter(|(k, _)| *k == want)
                .map(|(_, n)| n)
                .sum()
        };
        Ok((count(Kind::Report), count(Kind::Dataset)))
    }

    /// The report and dataset listings to walk: `(collection index, kind,
    /// path segments)` for each kept collection and wanted kind.
    fn listing_targets<'k>(&self, kept: &'k [Option<String>]) -> Vec<(i64, Kind, [&'k str; 3])> {
        let assets = &self.config.assets;
        let kinds = [
            (assets.needs_reports(), Kind::Report),
            (assets.needs_datasets(), Kind::Dataset),
        ];
        let mut targets = Vec::new();
        for (index, token) in kept.iter().enumerate() {
            let Some(token) = token.as_deref() else {
                continue;
            };
            for (_, kind) in kinds.iter().filter(|(needed, _)| *needed) {
                targets.push((index as i64, *kind, ["spaces", token, plural(*kind)]));
            }
        }
        targets
    }

    /// Walks one collection's report (or dataset) listing into the store,
    /// up to its end or a page in doubt.
    async fn list_space<'s>(
        &self,
        index: i64,
        kind: Kind,
        segments: &'s [&'s str; 3],
    ) -> Result<SpaceList<'s>> {
        let list = List {
            segments,
            extra: &[],
            key: "reports",
            per_page: self.config.per_page,
            max_pages: self.config.max_pages,
            scope: Scope::Item,
        };
        let (high, mut position) = (index << 32, 0);
        let mut walk = Walk::new(list);
        let mut on_item = |item| self.listed(kind, high, &mut position, item);
        // An ended walk is dropped here, with the tokens it has seen.
        let stage = match walk.walk(self.client, &mut on_item, true).await? {
            Some(outcome) => Stage::Ended(outcome),
            None => Stage::InDoubt(Box::new(walk)),
        };
        Ok(SpaceList {
            kind,
            space: segments[1],
            high,
            position,
            stage,
        })
    }

    /// Walks a listing to its end; records a listing cut short as an item
    /// problem and keeps that collection's previous rows. How many were listed.
    async fn finish_space(&self, space: SpaceList<'_>) -> Result<(Kind, u64)> {
        let SpaceList {
            kind,
            space,
            high,
            mut position,
            stage,
        } = space;
        let walked = match stage {
            Stage::Ended(outcome) => outcome,
            Stage::InDoubt(walk) => {
                let mut on_item = |item| self.listed(kind, high, &mut position, item);
                walk.to_end(self.client, &mut on_item).await?
            }
        };
        let Err(gone) = walked else {
            return Ok((kind, position as u64));
        };
        let plural = plural(kind);
        let message = format!("collection {space}: {gone} when listing its {plural}");
        self.problems
            .report("collection", space, (&gone).into(), message)?;
        let kept = self.store.keep_previous_listing(kind, space, high)?;
        if kept > 0 {
            tracing::warn!(
                "collection {space}: {kept} {plural} of the previous run kept (an incomplete listing deletes nothing)"
            );
        }
        Ok((kind, position as u64 + kept as u64))
    }

    /// One listed report (or dataset): reduced to its row as its page
    /// arrives and put in the store, so Mode's full listing objects are
    /// never all held.
    fn listed(&self, kind: Kind, high: i64, position: &mut i64, item: Value) -> Result<()> {
        if !self.keeps_report(&item) {
            return Ok(());
        }
        self.check_named_item(kind.name(), &item)?;
        let row = ReportListing::from_mode(&item, &self.config.mode.host);
        let listing = Listing {
            ord: high + *position,
            fingerprint: fingerprint(&row),
            row,
            imports: imports_of(&item),
        };
        self.store.put_listing(kind, &listing)?;
        *position += 1;
        Ok(())
    }
}

/// One collection's report or dataset listing between its two steps.
struct SpaceList<'s> {
    kind: Kind,
    space: &'s str,
    /// The collection's place in the files, shifted (`ord` = `high + position`).
    high: i64,
    /// Reports kept so far.
    position: i64,
    stage: Stage<'s>,
}

/// Where a listing stands after the first step.
enum Stage<'s> {
    /// Walked to its end (or cut short).
    Ended(Fetched<usize>),
    /// Stopped at a page in doubt, to be settled in the second step.
    InDoubt(Box<Walk<'s>>),
}

/// `reports` or `datasets`: the listing's last path segment.
fn plural(kind: Kind) -> &'static str {
    if kind == Kind::Dataset {
        "datasets"
    } else {
        "reports"
    }
}

/// What a report listing says about imported datasets (the listing sends `has_imported_datasets`, the detail `imported_datasets`).
fn imports_of(report: &Value) -> Imports {
    if report.get("imported_datasets").is_some_and(Value::is_array) {
        return Imports::Known(import_tokens(report));
    }
    match report.get("has_imported_datasets") {
        Some(Value::Bool(false)) => Imports::None,
        _ => Imports::Ask,
    }
}

/// The tokens of a report's `imported_datasets` (listing or detail).
pub(super) fn import_tokens(report: &Value) -> Vec<String> {
    report
        .get("imported_datasets")
        .and_then(Value::as_array)
        .map(|list| {
            list.iter()
                .filter_map(|d| hal::str_field(d, "token").map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn import_hints() {
        assert!(matches!(
            imports_of(&json!({"has_imported_datasets": false})),
            Imports::None
        ));
        assert!(matches!(
            imports_of(&json!({"has_imported_datasets": true})),
            Imports::Ask
        ));
        assert!(matches!(imports_of(&json!({})), Imports::Ask));
        let known = json!({"imported_datasets": [{"token": "24f66e1701b6"}]});
        assert!(matches!(imports_of(&known), Imports::Known(t) if t == ["24f66e1701b6"]));
    }
}
