//! Turning a fetched workspace into the run's files.
//!
//! Files are written in [`Asset::ALL`] order, each atomically, then
//! `{ts}-errors_logs.json`, then `{ts}-summary.json` last: a directory holding
//! a run's files but not its summary holds an incomplete run.

use std::cell::Cell;
use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::time::Instant;

use serde::Serialize;

use serde_json::Value;

use super::assets::Asset;
use super::fetch::{ReportData, Workspace};
use super::problems::{ProblemKind, Problems};
use super::rows::{self, Row};
use crate::error::Result;
use crate::extract::config::ExtractConfig;
use crate::mode::ModeClient;
use crate::output::summary::{CLIENT_NAME, ConnectionIdentity};
use crate::output::{FileRecord, RunSummary, summary_file_name, write_json_atomic};

/// Reports queries whose `data_source_id` is not a workspace data source.
///
/// # Errors
/// [`crate::Error::Strict`] in strict mode.
pub fn check_data_sources(
    ws: &Workspace,
    config: &ExtractConfig,
    problems: &Problems,
) -> Result<()> {
    if !config.assets.needs_data_sources() {
        return Ok(());
    }
    let known: HashSet<&Value> = ws.data_sources.iter().filter_map(|d| d.get("id")).collect();
    for report in ws.reports.iter().chain(&ws.datasets) {
        for query in &report.queries {
            let id = query.row.get("data_source_id").unwrap_or(&Value::Null);
            if !id.is_null() && !known.contains(id) {
                let token = query
                    .row
                    .get("token")
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                let message = format!(
                    "query {token} of report {}: data source {id} is not among the workspace's data sources",
                    report.token
                );
                problems.report("query", token, ProblemKind::UnknownDataSource, message)?;
            }
        }
    }
    Ok(())
}

/// Writes every selected asset file, the errors log and the summary.
///
/// # Errors
/// [`crate::Error::Io`] when a file cannot be written.
pub fn write_run(
    config: &ExtractConfig,
    ts: i64,
    ws: Workspace,
    problems: &Problems,
    client: &ModeClient,
    started: Instant,
) -> Result<Vec<FileRecord>> {
    let mut ws = ws;
    fill_creator_emails(&mut ws);
    let mut files = Vec::new();
    let mut counts = serde_json::Map::new();
    for asset in config.assets.iter() {
        let (record, rows) = write_asset(&config.output, &asset.file_name(ts), asset, &ws)?;
        tracing::info!(
            "Wrote {} ({} rows, {} bytes)",
            record.name,
            rows,
            record.bytes
        );
        counts.insert(asset.name().into(), rows.into());
        files.push(record);
    }
    let problems = problems.sorted();
    let messages: Vec<&str> = problems.iter().map(|p| p.message.as_str()).collect();
    files.push(write_json_atomic(
        &config.output,
        &format!("{ts}-errors_logs.json"),
        &messages,
    )?);
    let (api_calls, retries, rate_limited) = client.counters().snapshot();
    let summary = RunSummary {
        version: env!("CARGO_PKG_VERSION").into(),
        executed_at: iso8601(ts),
        connection_identity: ConnectionIdentity {
            base_url: format!(
                "{}/{}",
                config.mode.host.as_str().trim_end_matches('/'),
                config.workspace()
            ),
        },
        client_name: CLIENT_NAME.into(),
        ts,
        status: if problems.is_empty() {
            "complete"
        } else {
            "complete_with_item_errors"
        }
        .into(),
        duration_seconds: started.elapsed().as_secs_f64(),
        counts,
        api_calls,
        retries,
        rate_limited,
        item_errors: problems
            .iter()
            .filter_map(|p| serde_json::to_value(p).ok())
            .collect(),
        filters: serde_json::json!({
            "assets": config.assets.names(),
            "filters": config.filters.to_json(),
        }),
        files: files.clone(),
    };
    let record = write_json_atomic(&config.output, &summary_file_name(ts), &summary)?;
    tracing::info!(
        "Wrote {} ({} API calls, {} retries, {} rate-limited)",
        record.name,
        api_calls,
        retries,
        rate_limited
    );
    files.push(record);
    Ok(files)
}

/// Writes one asset file straight from the fetched rows (nothing is copied
/// or collected first) and returns its record and row count.
fn write_asset(
    dir: &Path,
    name: &str,
    asset: Asset,
    ws: &Workspace,
) -> Result<(FileRecord, usize)> {
    let queries = || ws.reports.iter().flat_map(|r| r.queries.iter());
    match asset {
        Asset::Datasource => {
            write_rows(dir, name, ws.data_sources.iter().map(rows::datasource_row))
        }
        Asset::Collection => write_rows(dir, name, ws.collections.iter()),
        Asset::Report => write_rows(dir, name, ws.reports.iter().map(|r| &r.row)),
        Asset::Query => write_rows(dir, name, queries().map(|q| &q.row)),
        Asset::Member => write_rows(dir, name, ws.members.iter()),
        Asset::Chart => write_rows(dir, name, queries().flat_map(|q| q.charts.iter())),
        Asset::Dataset => {
            let importers = importers(ws);
            write_rows(
                dir,
                name,
                ws.datasets.iter().map(|d| dataset_row(d, &importers)),
            )
        }
        Asset::Definition => write_rows(dir, name, ws.definitions.iter().map(rows::definition_row)),
        Asset::Lineage => write_rows(dir, name, super::lineage_rows::rows(ws)),
    }
}

/// Serialises `rows` as one JSON array into an atomic file, counting them.
fn write_rows<T: Serialize>(
    dir: &Path,
    name: &str,
    rows: impl Iterator<Item = T>,
) -> Result<(FileRecord, usize)> {
    let count = Cell::new(0usize);
    let counted = rows.inspect(|_| count.set(count.get() + 1));
    let record = write_json_atomic(dir, name, &JsonArray(Cell::new(Some(counted))))?;
    Ok((record, count.get()))
}

/// An iterator serialised as a JSON array, item by item, without collecting it.
struct JsonArray<I>(Cell<Option<I>>);

impl<I, T> Serialize for JsonArray<I>
where
    I: Iterator<Item = T>,
    T: Serialize,
{
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let rows = self
            .0
            .take()
            .ok_or_else(|| serde::ser::Error::custom("rows serialised twice"))?;
        serializer.collect_seq(rows)
    }
}

/// Sets each report's `creator_email` from the members already fetched.
fn fill_creator_emails(ws: &mut Workspace) {
    let emails: HashMap<String, Value> = ws
        .members
        .iter()
        .filter_map(|m| {
            Some((
                m.get("username")?.as_str()?.to_owned(),
                m.get("email")?.clone(),
            ))
        })
        .collect();
    for report in &mut ws.reports {
        let email = report
            .row
            .get("creator")
            .and_then(Value::as_str)
            .and_then(|c| emails.get(c))
            .cloned()
            .unwrap_or(Value::Null);
        report.row.insert("creator_email".into(), email);
    }
}

/// Dataset token → tokens of the reports importing it.
fn importers(ws: &Workspace) -> HashMap<&str, Vec<&str>> {
    let mut importers: HashMap<&str, Vec<&str>> = HashMap::new();
    for report in &ws.reports {
        for dataset in &report.imports {
            importers
                .entry(dataset.as_str())
                .or_default()
                .push(report.token.as_str());
        }
    }
    importers
}

/// A dataset row: castor's report keys, then `queries` and `imported_by`.
fn dataset_row(dataset: &ReportData, importers: &HashMap<&str, Vec<&str>>) -> Row {
    let mut row = dataset.row.clone();
    let queries: Vec<Value> = dataset
        .queries
        .iter()
        .map(|q| Value::Object(q.row.clone()))
        .collect();
    row.insert("queries".into(), Value::Array(queries));
    let by = importers
        .get(dataset.token.as_str())
        .cloned()
        .unwrap_or_default();
    row.insert("imported_by".into(), by.into());
    row
}

/// ISO 8601 UTC of a Unix time, e.g. `2026-11-21T05:20:00Z`.
fn iso8601(ts: i64) -> String {
    chrono::DateTime::from_timestamp(ts, 0)
        .map(|d| d.format("%Y-%m-%dT%H:%M:%SZ").to_string())
        .unwrap_or_default()
}
