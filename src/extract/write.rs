//! Turning a fetched workspace into the run's files.
//!
//! Files are written in [`Asset::ALL`] order, each atomically, then
//! `{ts}-errors_logs.json`, then `{ts}-summary.json` last: a directory holding
//! a run's files but not its summary holds an incomplete run.

use std::collections::{HashMap, HashSet};
use std::time::Instant;

use serde_json::Value;

use super::assets::Asset;
use super::fetch::{ReportData, Workspace};
use super::problems::{ProblemKind, Problems};
use super::rows::{self, Row};
use crate::config::ExtractConfig;
use crate::error::Result;
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
    let mut files = Vec::new();
    let mut counts = serde_json::Map::new();
    for asset in config.assets.iter() {
        let rows = asset_rows(asset, &ws);
        let record = write_json_atomic(&config.output, &asset.file_name(ts), &rows)?;
        tracing::info!(
            "Wrote {} ({} rows, {} bytes)",
            record.name,
            rows.len(),
            record.bytes
        );
        counts.insert(asset.name().into(), rows.len().into());
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
                config.host.as_str().trim_end_matches('/'),
                config.workspace
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

fn asset_rows(asset: Asset, ws: &Workspace) -> Vec<Row> {
    match asset {
        Asset::Datasource => ws.data_sources.iter().map(rows::datasource_row).collect(),
        Asset::Collection => ws.collections.clone(),
        Asset::Report => report_rows(ws),
        Asset::Query => ws
            .reports
            .iter()
            .flat_map(|r| r.queries.iter().map(|q| q.row.clone()))
            .collect(),
        Asset::Member => ws.members.clone(),
        Asset::Chart => ws
            .reports
            .iter()
            .flat_map(|r| r.queries.iter().flat_map(|q| q.charts.iter().cloned()))
            .collect(),
        Asset::Dataset => dataset_rows(ws),
        Asset::Definition => ws.definitions.iter().map(rows::definition_row).collect(),
        Asset::Lineage => super::lineage_rows::build(ws),
    }
}

/// Report rows with `creator_email` from the members already fetched.
fn report_rows(ws: &Workspace) -> Vec<Row> {
    let emails: HashMap<&str, &Value> = ws
        .members
        .iter()
        .filter_map(|m| Some((m.get("username")?.as_str()?, m.get("email")?)))
        .collect();
    ws.reports
        .iter()
        .map(|r| {
            let mut row = r.row.clone();
            let email = row
                .get("creator")
                .and_then(Value::as_str)
                .and_then(|c| emails.get(c))
                .map(|e| (*e).clone())
                .unwrap_or(Value::Null);
            row.insert("creator_email".into(), email);
            row
        })
        .collect()
}

/// Dataset rows: castor's report keys, then `queries` and `imported_by`.
fn dataset_rows(ws: &Workspace) -> Vec<Row> {
    let mut importers: HashMap<&str, Vec<&str>> = HashMap::new();
    for report in &ws.reports {
        for dataset in &report.imports {
            importers
                .entry(dataset.as_str())
                .or_default()
                .push(report.token.as_str());
        }
    }
    ws.datasets
        .iter()
        .map(|d: &ReportData| {
            let mut row = d.row.clone();
            let queries: Vec<Value> = d
                .queries
                .iter()
                .map(|q| Value::Object(q.row.clone()))
                .collect();
            row.insert("queries".into(), Value::Array(queries));
            let by = importers.get(d.token.as_str()).cloned().unwrap_or_default();
            row.insert("imported_by".into(), by.into());
            row
        })
        .collect()
}

/// ISO 8601 UTC of a Unix time, e.g. `2026-11-21T05:20:00Z`.
fn iso8601(ts: i64) -> String {
    chrono::DateTime::from_timestamp(ts, 0)
        .map(|d| d.format("%Y-%m-%dT%H:%M:%SZ").to_string())
        .unwrap_or_default()
}
