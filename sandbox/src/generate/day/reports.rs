//! Report-level changes of a day: the listing and the detail always move
//! together; a deleted report takes everything under it along.

use std::collections::HashMap;

use serde_json::Value;

use super::super::World;
use super::super::ctx::iso;
use crate::truth::Truth;

/// Report token → its position in `truth.reports` (rebuilt after deletions).
pub(super) type Index = HashMap<String, usize>;

/// The index of `truth.reports`.
pub(super) fn index(truth: &Truth) -> Index {
    let tokens = truth.reports.iter().enumerate();
    tokens
        .filter_map(|(i, r)| r["token"].as_str().map(|t| (t.to_owned(), i)))
        .collect()
}

/// The position of a report's listing.
fn position(truth: &Truth, index: &Index, token: &str) -> Option<usize> {
    let at = *index.get(token)?;
    (truth.reports.get(at)?["token"] == token).then_some(at)
}

/// The listing of a report.
pub(super) fn listing<'a>(truth: &'a Truth, index: &Index, token: &str) -> Option<&'a Value> {
    position(truth, index, token).and_then(|at| truth.reports.get(at))
}

/// Applies `edit` to a report's listing and detail.
pub(super) fn edit_report(
    truth: &mut Truth,
    index: &Index,
    token: &str,
    edit: impl Fn(&mut Value),
) {
    if let Some(at) = position(truth, index, token) {
        edit(&mut truth.reports[at]);
    }
    if let Some(detail) = truth.report_details.get_mut(token) {
        edit(detail);
    }
}

/// Gives a report a new collection: `space_token` and the links naming it.
pub(super) fn relink(truth: &mut Truth, index: &Index, ws: &str, token: &str, space: &str) {
    let space_href = format!("/api/{ws}/collections/{space}");
    let index_href = format!("/{ws}/spaces/{space}/reports/{token}");
    edit_report(truth, index, token, |r| {
        r["space_token"] = Value::from(space);
        r["_links"]["space"]["href"] = Value::from(space_href.clone());
        r["_links"]["report_index_web"]["href"] = Value::from(index_href.clone());
    });
}

/// Removes reports: listings, details, queries, charts, lineage.
pub(super) fn delete(truth: &mut Truth, world: &mut World, tokens: &[String]) {
    truth
        .reports
        .retain(|r| !tokens.iter().any(|t| r["token"] == t.as_str()));
    for token in tokens {
        truth.report_details.remove(token);
        for query in truth.queries.remove(token).unwrap_or_default() {
            if let Some(query) = query["token"].as_str() {
                drop_query(truth, world, query);
            }
        }
    }
}

/// Forgets one query's charts, expected tables and lineage (the caller
/// removes it from its report's list).
pub(super) fn drop_query(truth: &mut Truth, world: &mut World, query: &str) {
    for chart in truth.charts.remove(query).unwrap_or_default() {
        if let Some(chart) = chart["token"].as_str() {
            truth.chart_owner.remove(chart);
        }
    }
    truth.expected_tables.remove(query);
    world.lineage.remove(query);
}

/// `query_count`, `chart_count` and `query_preview` from the report's queries.
pub(super) fn refresh_counts(truth: &mut Truth, index: &Index, token: &str) {
    let queries = truth.queries.get(token).cloned().unwrap_or_default();
    let charts: usize = queries
        .iter()
        .filter_map(|q| q["token"].as_str())
        .map(|q| truth.charts.get(q).map_or(0, Vec::len))
        .sum();
    let preview: String = queries
        .first()
        .and_then(|q| q["raw_query"].as_str())
        .unwrap_or_default()
        .chars()
        .take(120)
        .collect();
    edit_report(truth, index, token, |r| {
        r["query_count"] = Value::from(queries.len());
        r["chart_count"] = Value::from(charts);
        r["query_preview"] = Value::from(preview.clone());
    });
}

/// A report created at `t`: not archived, its timestamps (and its queries'
/// and charts') inside the day, one run.
pub(super) fn stamp_new(truth: &mut Truth, index: &Index, token: &str, t: i64) {
    let edited = t + 300_000;
    edit_report(truth, index, token, |r| {
        r["archived"] = Value::Bool(false);
        r["created_at"] = Value::from(iso(t));
        r["edited_at"] = Value::from(iso(edited));
        r["last_saved_at"] = Value::from(iso(edited + 11));
        r["updated_at"] = Value::from(iso(edited + 60_000));
        r["last_run_at"] = Value::from(iso(edited + 120_000));
        r["last_successfully_run_at"] = Value::from(iso(edited + 121_650));
        r["runs_count"] = Value::from(1);
        if !r["published_at"].is_null() {
            r["published_at"] = Value::from(iso(edited));
        }
    });
    let queries: Vec<String> = truth
        .queries
        .get_mut(token)
        .into_iter()
        .flatten()
        .map(|q| {
            stamp_created(q, t);
            q["token"].as_str().unwrap_or_default().to_owned()
        })
        .collect();
    for query in queries {
        for chart in truth.charts.get_mut(&query).into_iter().flatten() {
            stamp_created(chart, t);
        }
    }
}

/// `created_at` and `updated_at` of a query or chart made at `t`.
pub(super) fn stamp_created(value: &mut Value, t: i64) {
    value["created_at"] = Value::from(iso(t));
    value["updated_at"] = Value::from(iso(t));
}
