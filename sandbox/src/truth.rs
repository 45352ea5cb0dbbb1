//! The sandbox's ground truth: every object it serves, exactly as served, plus
//! what a correct extractor should conclude from them.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Everything the Mode side serves, as the JSON values it serves them.
///
/// Lists keep the order in which Mode lists them. A test can compare an
/// extractor's output field by field with these values. Served at
/// `GET /_sandbox/truth`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Truth {
    /// The workspace object served at `/api/{ws}` (in replay mode a
    /// synthesised one: none was recorded).
    pub workspace: Value,
    /// Items of `/api/{ws}/data_sources`.
    pub data_sources: Vec<Value>,
    /// Every collection, personal ones included (`/api/{ws}/spaces?filter=all`).
    pub spaces: Vec<Value>,
    /// Every report of every collection as listed by
    /// `/api/{ws}/spaces/{s}/reports`, archived ones included. Generated in
    /// collection order then listing order; a collection lists its reports in
    /// the order of this list (reports added by a simulated day come last).
    /// Datasets are not included.
    pub reports: Vec<Value>,
    /// Every dataset (`type: "DatasetReport"`) as listed by
    /// `/api/{ws}/spaces/{s}/datasets`.
    pub datasets: Vec<Value>,
    /// Report token → the object served at `/api/{ws}/reports/{token}`
    /// (reports and datasets). A report listed but deleted has no entry.
    pub report_details: BTreeMap<String, Value>,
    /// Report or dataset token → items of `/api/{ws}/reports/{token}/queries`.
    pub queries: BTreeMap<String, Vec<Value>>,
    /// Query token → items of `…/reports/{r}/queries/{q}/charts`.
    pub charts: BTreeMap<String, Vec<Value>>,
    /// Chart token → (report token, query token) it belongs to.
    pub chart_owner: BTreeMap<String, (String, String)>,
    /// Items of `/api/{ws}/definitions`.
    pub definitions: Vec<Value>,
    /// Items of `/api/{ws}/memberships`, all pages.
    pub memberships: Vec<Value>,
    /// One user per membership, as `/api/{username}` serves it. The first one
    /// owns the API token and is also served at `/api/account`.
    pub users: Vec<Value>,
    /// Query token → the tables its SQL reads, definitions expanded, canonical:
    /// lowercase `database.schema.table`, the query's data source supplying the
    /// database when the SQL names only `schema.table` (BigQuery: the project in
    /// `host`; MySQL: `database.table`), sorted and de-duplicated. CTE names
    /// are never tables.
    pub expected_tables: BTreeMap<String, Vec<String>>,
    /// The deliberately broken items (only with `item_problems`).
    pub problems: Vec<ItemProblem>,
}

/// A deliberately broken item that a robust extractor must survive.
///
/// `kind` is one of:
/// - `deleted_report`: listed in its collection, but its detail and
///   `/queries` answer 404 (`token` = the report);
/// - `missing_creator`: a report without `_links.creator` (`token` = report);
/// - `null_name`: a report whose `name` is `null` (`token` = report);
/// - `inaccessible_report`: listed, detail served, but `/queries` answers
///   403 (`token` = report);
/// - `unknown_data_source`: a query whose `data_source_id` matches no data
///   source (`token` = the query).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ItemProblem {
    /// What is wrong; see the type docs.
    pub kind: String,
    /// The token of the broken report or query.
    pub token: String,
}

impl Truth {
    /// The token-owner user (also served at `/api/account`), if any.
    pub fn account(&self) -> Option<&Value> {
        self.users.first()
    }

    /// Number of charts over all queries.
    pub fn chart_total(&self) -> usize {
        self.charts.values().map(Vec::len).sum()
    }

    /// Number of queries over all reports and datasets.
    pub fn query_total(&self) -> usize {
        self.queries.values().map(Vec::len).sum()
    }

    /// The listed reports of one collection, in listing order.
    pub fn reports_in(&self, space_token: &str) -> Vec<&Value> {
        in_space(&self.reports, space_token)
    }

    /// The listed datasets of one collection, in listing order.
    pub fn datasets_in(&self, space_token: &str) -> Vec<&Value> {
        in_space(&self.datasets, space_token)
    }
}

fn in_space<'a>(items: &'a [Value], space_token: &str) -> Vec<&'a Value> {
    items
        .iter()
        .filter(|item| item["space_token"].as_str() == Some(space_token))
        .collect()
}
