//! `{ts}-lineage.json`: one row per query of every report and dataset, with
//! the warehouse tables it reads (see [`crate::lineage`]).
//!
//! Row keys: `report_token`, `query_token`, `data_source` (`id`, `adapter`,
//! `database`, `host`, or `null` when the query names no known data source),
//! `tables` (`name` canonical, `as_written`, `via_definition`), `method`
//! (`parsed`, `parsed_after_templating`, `fallback`, `unparsed`), `dialect`,
//! `error` (the parser's message when unparsed), `definitions` (names used).
//! Lineage never fails the run: an unparsable query is reported as such.

use std::collections::HashMap;

use serde_json::{Value, json};

use super::fetch::Workspace;
use super::rows::Row;
use crate::lineage::{DataSourceInfo, Definitions, analyze};
use crate::mode::hal;

/// The lineage rows, in query-file order (reports, then datasets), computed
/// one at a time as they are written.
pub fn rows(ws: &Workspace) -> impl Iterator<Item = Row> + '_ {
    let definitions = Definitions::new(ws.definitions.iter().filter_map(|d| {
        let name = hal::str_field(d, "name")?;
        let source = hal::str_field(d, "source")?;
        Some((name.to_owned(), source.to_owned()))
    }));
    let sources: HashMap<String, (&Value, DataSourceInfo)> = ws
        .data_sources
        .iter()
        .filter_map(|d| Some((d.get("id")?.to_string(), (d, source_info(d)))))
        .collect();
    let queries = ws
        .reports
        .iter()
        .chain(&ws.datasets)
        .flat_map(|report| report.queries.iter().map(move |q| (report, q)));
    queries.map(move |(report, query)| {
        let source = query
            .row
            .get("data_source_id")
            .and_then(|id| sources.get(&id.to_string()));
        lineage_row(&report.token, &query.row, source, &definitions)
    })
}

fn source_info(source: &Value) -> DataSourceInfo {
    let text = |k: &str| hal::str_field(source, k).map(str::to_owned);
    DataSourceInfo {
        adapter: text("adapter"),
        database: text("database"),
        host: text("host"),
    }
}

fn lineage_row(
    report: &str,
    query: &Row,
    source: Option<&(&Value, DataSourceInfo)>,
    definitions: &Definitions,
) -> Row {
    let sql = query
        .get("raw_query")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let lineage = analyze(sql, source.map(|(_, info)| info), definitions);
    let data_source = source.map_or(Value::Null, |(raw, _)| {
        json!({
            "id": raw.get("id"),
            "adapter": raw.get("adapter"),
            "database": raw.get("database"),
            "host": raw.get("host"),
        })
    });
    let mut row = Row::new();
    row.insert("report_token".into(), report.into());
    row.insert(
        "query_token".into(),
        query.get("token").cloned().unwrap_or(Value::Null),
    );
    row.insert("data_source".into(), data_source);
    let tables = serde_json::to_value(&lineage.tables).unwrap_or(Value::Null);
    row.insert("tables".into(), tables);
    row.insert(
        "method".into(),
        serde_json::to_value(lineage.method).unwrap_or(Value::Null),
    );
    row.insert("dialect".into(), lineage.dialect.into());
    row.insert(
        "error".into(),
        lineage.error.map_or(Value::Null, Value::String),
    );
    row.insert("definitions".into(), lineage.definitions.into());
    row
}
