//! `{ts}-lineage.json`: one row per query of every report and dataset, with
//! the warehouse tables it reads (see [`crate::lineage`] and
//! [`LineageRow`]). Lineage never fails the run: an unparsable query is
//! reported as such.

use std::collections::HashMap;

use super::rows::{DatasourceRow, DefinitionRow, LineageRow, LineageSource, QueryRow};
use crate::lineage::{DataSourceInfo, Definitions, analyze};

/// What lineage needs from the workspace: the data sources (dialect, default
/// database) and the definitions (templating), both from this run.
#[derive(Debug, Default)]
pub struct LineageContext {
    definitions: Definitions,
    /// Data source `id` (as JSON text) → its lineage keys and parser info.
    sources: HashMap<String, (LineageSource, DataSourceInfo)>,
}

impl LineageContext {
    /// The context of a run's data sources and definitions.
    pub fn new<'a>(
        data_sources: impl IntoIterator<Item = &'a DatasourceRow>,
        definitions: impl IntoIterator<Item = &'a DefinitionRow>,
    ) -> Self {
        let definitions = Definitions::new(definitions.into_iter().filter_map(|d| {
            let name = d.name.as_str()?;
            let source = d.source.as_str()?;
            Some((name.to_owned(), source.to_owned()))
        }));
        let sources = data_sources
            .into_iter()
            .filter(|d| !d.id.is_null())
            .map(|d| (d.id.to_string(), (LineageSource::from(d), source_info(d))))
            .collect();
        LineageContext {
            definitions,
            sources,
        }
    }

    /// The lineage row of one query of `report_token`.
    pub fn row(&self, report_token: &str, query: &QueryRow) -> LineageRow {
        let source = self.sources.get(&query.data_source_id.to_string());
        let sql = query.raw_query.as_str().unwrap_or_default();
        let lineage = analyze(sql, source.map(|(_, info)| info), &self.definitions);
        LineageRow {
            report_token: report_token.to_owned(),
            query_token: query.token.clone(),
            data_source: source.map(|(keys, _)| keys.clone()),
            tables: lineage.tables,
            method: lineage.method,
            dialect: lineage.dialect,
            error: lineage.error,
            definitions: lineage.definitions,
        }
    }
}

fn source_info(source: &DatasourceRow) -> DataSourceInfo {
    let text = |v: &serde_json::Value| v.as_str().map(str::to_owned);
    DataSourceInfo {
        adapter: text(&source.adapter),
        database: text(&source.database),
        host: text(&source.host),
    }
}
