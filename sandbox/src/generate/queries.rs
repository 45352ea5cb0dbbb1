//! Generated queries and their charts, shaped like Mode's recorded
//! `queries.json`, `dataset_queries_*.json` and `charts.json`.

use std::collections::BTreeSet;

use serde_json::{Value, json};

use super::ctx::{Gen, forms, iso, link, templated};
use super::sources::Source;
use super::sql::{Definition, query_sql};

/// A generated query with its charts.
pub(crate) struct GenQuery {
    pub(crate) token: String,
    pub(crate) value: Value,
    pub(crate) charts: Vec<Value>,
    /// What its SQL reads itself, and the definition it references.
    pub(crate) lineage: QueryLineage,
}

/// Where a query's tables come from, kept so that a simulated day can
/// recompute them when its SQL or a definition changes.
#[derive(Debug, Clone)]
pub(crate) struct QueryLineage {
    /// The data source's id as generated (a problem may rewrite the served one).
    pub(crate) source_id: i64,
    /// Tables the SQL names itself.
    pub(crate) own: BTreeSet<String>,
    /// The definition it references.
    pub(crate) definition: Option<String>,
    /// Output columns (for chart encodings).
    pub(crate) columns: Vec<String>,
}

const QUERY_NAMES: [&str; 8] = [
    "Query 1",
    "Revenue by segment",
    "Top customers",
    "Daily orders",
    "Funnel",
    "Retention cohort",
    "売上集計",
    "Données brutes",
];

/// Legacy (`view`) and vega (`view_vegas`) chart kinds.
const LEGACY_KINDS: [&str; 6] = ["bar", "line", "table", "pie", "bigNumber", "area"];
const VEGAS_KINDS: [&str; 8] = [
    "table",
    "bar",
    "line",
    "pivotTable",
    "hStackedBar",
    "donut",
    "scatter",
    "bigValue",
];

/// Who and where a query belongs.
pub(crate) struct QueryOwner<'a> {
    pub(crate) report: &'a str,
    pub(crate) creator: &'a str,
    pub(crate) title: &'a str,
    /// Datasets' queries have no charts and carry `report_imports_count`.
    pub(crate) dataset: bool,
}

/// One query on `source`, with 0–3 charts unless it belongs to a dataset.
pub(crate) fn query(
    g: &mut Gen,
    owner: &QueryOwner,
    source: &Source,
    defs: &[Definition],
) -> GenQuery {
    let sql = query_sql(g, source, defs, owner.title);
    let (id, token) = (g.id(), g.token());
    let created = g.instant();
    let ws = g.ws.clone();
    let report_href = format!("/api/{ws}/reports/{}", owner.report);
    let href = format!("{report_href}/queries/{token}");
    let mut value = json!({
        "id": id, "token": token, "raw_query": sql.sql,
        "created_at": iso(created), "updated_at": iso(g.later(created, 60)),
        "name": g.pick(&QUERY_NAMES), "last_run_id": 3_000_000_000_i64 + g.int(0..=999_999_999),
        "data_source_id": source.id, "explorations_count": g.int(0..=4),
    });
    let mut links = json!({
        "self": link(&href), "report": link(&report_href),
        "report_runs": link(format!("{report_href}/runs")),
    });
    if owner.dataset {
        value["report_imports_count"] = json!(g.int(0..=3));
        value["dbt_metric_id"] = Value::Null;
    } else {
        links["charts"] = link(format!("{href}/charts"));
        links["new_chart"] = link(format!("{href}/charts/new"));
        links["new_query_table"] = link(format!("{href}/tables/new"));
        links["query_tables"] = link(format!("{href}/tables"));
    }
    links["query_runs"] = link(format!("{href}/runs"));
    links["creator"] = link(format!("/api/{}", owner.creator));
    value["_links"] = links;
    value["_forms"] = forms(&href);
    let count = if owner.dataset { 0 } else { g.below(4) };
    let charts = (0..count)
        .map(|_| chart(g, owner, &token, &sql.columns))
        .collect();
    let lineage = QueryLineage {
        source_id: source.id,
        own: sql.own,
        definition: sql.definition,
        columns: sql.columns,
    };
    GenQuery {
        token,
        value,
        charts,
        lineage,
    }
}

/// One chart of `query` (legacy or vega shape at random).
pub(crate) fn chart(g: &mut Gen, owner: &QueryOwner, query: &str, columns: &[String]) -> Value {
    let token = g.token();
    let created = g.instant();
    let ws = g.ws.clone();
    let report = owner.report;
    let title = format!(
        "{} {}",
        g.pick(&["Trend of", "Breakdown of", "Total"]),
        columns.join(", ")
    );
    let (view, view_vegas, version) = if g.chance(0.4) {
        (legacy_view(g, &title, columns), json!({}), 1)
    } else {
        (json!({}), vegas_view(g, &title, columns), 2)
    };
    let href = format!("/api/{ws}/reports/{report}/queries/{query}/charts/{token}");
    json!({
        "view": view, "view_version": version, "view_vegas": view_vegas,
        "token": token, "created_at": iso(created), "updated_at": iso(g.later(created, 30)),
        "color_palette_token": "e7882faa26e7", "switch_view_token": g.token(),
        "_links": {
            "self": link(&href),
            "color_palette": link(format!("/api/{ws}/color_palettes/e7882faa26e7")),
            "report_viz_web": link(format!("/{ws}/reports/{report}/viz/{token}")),
            "preview": templated(format!("/api/{ws}/reports/{report}/runs/{{token}}/charts/{token}/preview")),
            "report_run_viz_web": templated(format!("/{ws}/reports/{report}/runs/{{token}}/viz/{token}")),
            "creator": link(format!("/api/{}", owner.creator)),
        },
        "_forms": forms(&href),
    })
}

fn formula(column: &str) -> Value {
    json!({"formula": format!("[{column}]")})
}

fn column(columns: &[String], i: usize) -> &str {
    columns
        .get(i)
        .or(columns.first())
        .map_or("value", String::as_str)
}

/// A legacy chart: one object for its kind plus `selectedChart`/`chartTitle`.
fn legacy_view(g: &mut Gen, title: &str, columns: &[String]) -> Value {
    let kind = *g.pick(&LEGACY_KINDS);
    json!({
        "selectedChart": kind,
        "chartTitle": title,
        "chartDescription": "",
        kind: {
            "x": formula(column(columns, 0)),
            "y": [formula(column(columns, 1))],
        },
    })
}

/// A vega chart: `title`, `chartType`, encodings with `[column]` formulas.
fn vegas_view(g: &mut Gen, title: &str, columns: &[String]) -> Value {
    let kind = *g.pick(&VEGAS_KINDS);
    let formats: serde_json::Map<String, Value> = columns
        .iter()
        .map(|c| (format!("[{c}]"), json!({})))
        .collect();
    let mut view = json!({
        "title": title,
        "description": Value::Null,
        "chartType": kind,
        "encoding": {
            "x": [formula(column(columns, 0))], "y": [formula(column(columns, 1))],
            "x2": [], "y2": [], "value": [],
            "filter": [formula(column(columns, 2))],
        },
        "fieldFormats": formats,
    });
    if kind == "pivotTable" {
        view["pivotTable"] = json!({
            "columns": [column(columns, 0)], "rows": [column(columns, 1)],
            "values": [column(columns, 2)], "filters": [], "filterValues": {},
        });
    }
    view
}
