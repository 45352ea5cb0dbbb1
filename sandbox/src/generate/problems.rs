//! The five deliberately broken items of `item_problems`.
//!
//! Four distinct non-archived reports are broken: one is deleted (still
//! listed, but its detail and `/queries` answer 404), one loses
//! `_links.creator`, one gets `"name": null`, and one's `/queries` answers 403
//! (what Mode answers just after a deletion, or for an item the token may not
//! read). The first query of the third report gets a `data_source_id` that
//! matches no data source. A workspace with fewer than four non-archived
//! reports gets no problems.

use serde_json::Value;

use super::ctx::Gen;
use crate::truth::{ItemProblem, Truth};

/// A `data_source_id` no generated data source has (ids start at 1 900 000).
pub(crate) const UNKNOWN_DATA_SOURCE_ID: i64 = 424_242;

pub(crate) fn apply(g: &mut Gen, truth: &mut Truth) {
    let candidates: Vec<usize> = (0..truth.reports.len())
        .filter(|&i| truth.reports[i]["archived"] == false)
        .collect();
    if candidates.len() < 4 {
        return;
    }
    let picked = g.distinct(candidates.len(), 4);
    let token = |i: usize| {
        truth.reports[candidates[picked[i]]]["token"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    };
    let (deleted, no_creator, null_name) = (token(0), token(1), token(2));
    let hidden = token(3);
    delete_report(truth, &deleted);
    hide_queries(truth, &hidden);
    edit_report(truth, &no_creator, |report| {
        if let Some(links) = report["_links"].as_object_mut() {
            links.shift_remove("creator");
        }
    });
    edit_report(truth, &null_name, |report| report["name"] = Value::Null);
    let bad_query = truth
        .queries
        .get_mut(&null_name)
        .and_then(|queries| queries.first_mut())
        .map(|query| {
            query["data_source_id"] = Value::from(UNKNOWN_DATA_SOURCE_ID);
            query["token"].as_str().unwrap_or_default().to_owned()
        });
    let mut problems = vec![
        problem("deleted_report", deleted),
        problem("missing_creator", no_creator),
        problem("null_name", null_name),
        problem("inaccessible_report", hidden),
    ];
    if let Some(query) = bad_query {
        problems.push(problem("unknown_data_source", query));
    }
    truth.problems = problems;
}

fn problem(kind: &str, token: String) -> ItemProblem {
    ItemProblem {
        kind: kind.to_owned(),
        token,
    }
}

/// Keeps the listing; drops the detail, the queries and everything under them.
fn delete_report(truth: &mut Truth, token: &str) {
    truth.report_details.remove(token);
    hide_queries(truth, token);
}

/// Drops the queries and everything under them from what a client can read.
fn hide_queries(truth: &mut Truth, token: &str) {
    let queries = truth.queries.remove(token).unwrap_or_default();
    for query in queries {
        let Some(query_token) = query["token"].as_str() else {
            continue;
        };
        truth.charts.remove(query_token);
        truth.expected_tables.remove(query_token);
    }
    truth.chart_owner.retain(|_, (report, _)| report != token);
}

/// Applies `edit` to a report's listing and detail.
fn edit_report(truth: &mut Truth, token: &str, edit: impl Fn(&mut Value)) {
    for report in truth.reports.iter_mut() {
        if report["token"] == token {
            edit(report);
        }
    }
    if let Some(detail) = truth.report_details.get_mut(token) {
        edit(detail);
    }
}
