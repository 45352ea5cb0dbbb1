//! The rows of a run's files that a push reads, as extract-mode writes them
//! (castor's file formats plus our `lineage`, `dataset` and `changes` files).
//! Unknown fields are ignored; a file that is not a JSON array of these rows
//! stops the push (the run passed its summary check, so it is a bug or a
//! foreign file, never something to skip silently).

use std::path::Path;

use serde::Deserialize;
use serde::de::DeserializeOwned;

use crate::error::{Error, Result};

/// A row of `{ts}-report.json` (Mode's report listing, flattened by castor).
#[derive(Debug, Clone, Deserialize)]
pub struct ReportRow {
    /// The report token: the dashboard's `name`.
    pub token: String,
    /// The report's title.
    #[serde(default)]
    pub name: Option<String>,
    /// Its description (Markdown).
    #[serde(default)]
    pub description: Option<String>,
    /// Token of the collection holding it.
    #[serde(default)]
    pub space_token: Option<String>,
    /// `https://app.mode.com/{ws}/reports/{token}`.
    #[serde(default)]
    pub web_url: Option<String>,
    /// The creator's email, from the workspace's members.
    #[serde(default)]
    pub creator_email: Option<String>,
}

/// A row of `{ts}-dataset.json`: a Mode dataset with its queries.
#[derive(Debug, Clone, Deserialize)]
pub struct DatasetRow {
    /// The dataset token.
    pub token: String,
    /// Its title.
    #[serde(default)]
    pub name: Option<String>,
    /// Its description.
    #[serde(default)]
    pub description: Option<String>,
    /// Token of the collection holding it.
    #[serde(default)]
    pub space_token: Option<String>,
    /// `https://app.mode.com/{ws}/datasets/{token}`.
    #[serde(default)]
    pub web_url: Option<String>,
    /// The creator's email.
    #[serde(default)]
    pub creator_email: Option<String>,
    /// Its queries.
    #[serde(default)]
    pub queries: Vec<QueryRow>,
    /// Tokens of the reports importing it.
    #[serde(default)]
    pub imported_by: Vec<String>,
}

/// A row of `{ts}-query.json` (also a dataset's `queries` item).
#[derive(Debug, Clone, Deserialize)]
pub struct QueryRow {
    /// The query token.
    pub token: String,
    /// Its name.
    #[serde(default)]
    pub name: Option<String>,
    /// Its SQL as written in Mode.
    #[serde(default)]
    pub raw_query: Option<String>,
    /// The report (or dataset) it belongs to.
    pub report_token: String,
    /// The Mode data source it runs on.
    #[serde(default)]
    pub data_source_id: Option<i64>,
}

/// A row of `{ts}-chart.json`.
#[derive(Debug, Clone, Deserialize)]
pub struct ChartRow {
    /// The chart token: the chart's `name`.
    pub token: String,
    /// The report it belongs to.
    pub report_token: String,
    /// The query it draws.
    #[serde(default)]
    pub query_token: Option<String>,
    /// Its title.
    #[serde(default)]
    pub title: Option<String>,
    /// Mode's chart type, e.g. `hStackedBar`.
    #[serde(default)]
    pub chart_type: Option<String>,
    /// `/{ws}/reports/{report}/viz/{chart}`.
    #[serde(default)]
    pub web_path: Option<String>,
}

/// A row of `{ts}-collection.json`.
#[derive(Debug, Clone, Deserialize)]
pub struct CollectionRow {
    /// The collection token.
    pub token: String,
    /// Its name: the dashboards' `project`.
    #[serde(default)]
    pub name: Option<String>,
}

/// A row of `{ts}-datasource.json`.
#[derive(Debug, Clone, Deserialize)]
pub struct DataSourceRow {
    /// Mode's numeric id.
    pub id: i64,
    /// Its token.
    #[serde(default)]
    pub token: Option<String>,
    /// Its default database (qualifies `schema.table` names).
    #[serde(default)]
    pub database: Option<String>,
}

/// A row of `{ts}-lineage.json`: the tables one query reads.
#[derive(Debug, Clone, Deserialize)]
pub struct LineageRow {
    /// The report (or dataset) of the query.
    pub report_token: String,
    /// The query.
    pub query_token: String,
    /// The query's data source, when known.
    #[serde(default)]
    pub data_source: Option<LineageSource>,
    /// The tables read, canonical names.
    #[serde(default)]
    pub tables: Vec<LineageTable>,
}

/// The data source of a lineage row.
#[derive(Debug, Clone, Deserialize)]
pub struct LineageSource {
    /// Mode's data source id.
    pub id: i64,
    /// Its default database.
    #[serde(default)]
    pub database: Option<String>,
}

/// One table of a lineage row.
#[derive(Debug, Clone, Deserialize)]
pub struct LineageTable {
    /// Lowercase `database.schema.table` (or shorter when unqualified).
    pub name: String,
}

/// A row of the run store's `{ts}-changes.json`.
#[derive(Debug, Clone, Deserialize)]
pub struct ChangeRow {
    /// The asset, as a file name: `report`, `query`, `chart`, `dataset`, ...
    pub asset: String,
    /// The item's token.
    pub token: String,
    /// `added`, `changed` or `deleted`.
    pub change: String,
    /// The item's name, when it had one.
    #[serde(default)]
    pub name: Option<String>,
}

/// Everything read from one run.
#[derive(Debug, Clone, Default)]
pub struct RunRows {
    /// The run's timestamp.
    pub ts: i64,
    /// Reports.
    pub reports: Vec<ReportRow>,
    /// Datasets with their queries.
    pub datasets: Vec<DatasetRow>,
    /// Report queries.
    pub queries: Vec<QueryRow>,
    /// Charts.
    pub charts: Vec<ChartRow>,
    /// Collections.
    pub collections: Vec<CollectionRow>,
    /// Data sources.
    pub data_sources: Vec<DataSourceRow>,
    /// Lineage rows.
    pub lineage: Vec<LineageRow>,
}

impl RunRows {
    /// Reads `{ts}-{asset}.json` for every asset of `names` (the run's file
    /// names); a missing file is an empty asset (the run was filtered).
    ///
    /// # Errors
    /// [`Error::Io`] when a file cannot be read; [`Error::Decode`] when it is
    /// not a JSON array of the expected rows.
    pub fn read(dir: &Path, ts: i64, names: &[String]) -> Result<RunRows> {
        let has = |asset: &str| names.iter().any(|n| *n == file_name(ts, asset));
        let load = |asset: &str| -> Result<Option<std::path::PathBuf>> {
            Ok(has(asset).then(|| dir.join(file_name(ts, asset))))
        };
        Ok(RunRows {
            ts,
            reports: read_opt(load("report")?)?,
            datasets: read_opt(load("dataset")?)?,
            queries: read_opt(load("query")?)?,
            charts: read_opt(load("chart")?)?,
            collections: read_opt(load("collection")?)?,
            data_sources: read_opt(load("datasource")?)?,
            lineage: read_opt(load("lineage")?)?,
        })
    }
}

/// `{ts}-{asset}.json`.
pub fn file_name(ts: i64, asset: &str) -> String {
    format!("{ts}-{asset}.json")
}

fn read_opt<T: DeserializeOwned>(path: Option<std::path::PathBuf>) -> Result<Vec<T>> {
    path.map_or(Ok(Vec::new()), |p| read_rows(&p))
}

/// Reads a JSON array of rows.
///
/// # Errors
/// [`Error::Io`] or [`Error::Decode`].
pub fn read_rows<T: DeserializeOwned>(path: &Path) -> Result<Vec<T>> {
    let file = std::fs::File::open(path).map_err(|e| Error::io("cannot open", path, e))?;
    serde_json::from_reader(std::io::BufReader::new(file)).map_err(|e| Error::Decode {
        url: path.display().to_string(),
        reason: format!("not the rows extract-mode writes: {e}"),
    })
}
