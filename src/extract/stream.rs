//! The run's one stream of rows, in an order where everything a row is
//! derived from comes before it.
//!
//! Order: data sources, definitions, members, collections, then each report
//! followed by each of its queries (with the query's lineage row and its
//! charts), then each dataset followed by its queries' lineage rows. Within
//! an asset the rows keep the fetch order (collections as listed, reports by
//! collection then as listed), which is each file's order.
//!
//! Derived values are computed here, from this run's rows: a report's
//! `creator_email` (from the members), a dataset's `imported_by` (from the
//! reports' imports) and the lineage rows (from the data sources and
//! definitions).

use std::collections::HashMap;

use serde_json::Value;

use super::assets::{Asset, AssetSet};
use super::fetch::{ReportData, Workspace};
use super::lineage_rows::LineageContext;
use super::rows::{DatasetRow, MemberRow, ReportListing, ReportRow, RunRow};
use crate::error::Result;

/// Derives the computed fields of a run's rows.
#[derive(Debug, Default)]
pub struct Derive {
    /// Member username → email.
    emails: HashMap<String, Value>,
    /// Dataset token → the tokens of the reports importing it, in report order.
    importers: HashMap<String, Vec<String>>,
    /// Present when the lineage file is written.
    lineage: Option<LineageContext>,
}

impl Derive {
    /// Remembers the members' emails (a later duplicate username wins).
    pub fn members<'a>(&mut self, members: impl IntoIterator<Item = &'a MemberRow>) {
        for m in members {
            if let Some(username) = m.username.as_str() {
                self.emails.insert(username.to_owned(), m.email.clone());
            }
        }
    }

    /// Remembers that `report` imports `dataset`.
    pub fn import(&mut self, report: &str, dataset: &str) {
        self.importers
            .entry(dataset.to_owned())
            .or_default()
            .push(report.to_owned());
    }

    /// Sets the lineage context (only when lineage rows are wanted).
    pub fn lineage(&mut self, context: LineageContext) {
        self.lineage = Some(context);
    }

    /// A report's row: its listing and its creator's email.
    pub fn report(&self, listing: ReportListing) -> ReportRow {
        ReportRow::new(listing, |creator| self.emails.get(creator).cloned())
    }

    /// A dataset's row (`creator_email` stays `null`, as it always has).
    pub fn dataset(
        &self,
        listing: ReportListing,
        queries: Vec<super::rows::QueryRow>,
    ) -> DatasetRow {
        let imported_by = self
            .importers
            .get(listing.token())
            .cloned()
            .unwrap_or_default();
        DatasetRow {
            report: ReportRow::new(listing, |_| None),
            queries,
            imported_by,
        }
    }

    /// The lineage row of a query, when lineage is written.
    pub fn lineage_row(&self, report: &str, query: &super::rows::QueryRow) -> Option<RunRow> {
        let context = self.lineage.as_ref()?;
        Some(RunRow::Lineage(context.row(report, query)))
    }
}

/// Feeds every row of a fetched workspace to `sink`, in stream order.
///
/// # Errors
/// The first error `sink` returns.
pub fn each_row(
    ws: &Workspace,
    assets: &AssetSet,
    sink: &mut dyn FnMut(RunRow) -> Result<()>,
) -> Result<()> {
    let mut derive = Derive::default();
    derive.members(&ws.members);
    for report in &ws.reports {
        for dataset in &report.imports {
            derive.import(report.listing.token(), dataset);
        }
    }
    if assets.writes(Asset::Lineage) {
        derive.lineage(LineageContext::new(&ws.data_sources, &ws.definitions));
    }
    for row in &ws.data_sources {
        sink(RunRow::Datasource(row.clone()))?;
    }
    for row in &ws.definitions {
        sink(RunRow::Definition(row.clone()))?;
    }
    for row in &ws.members {
        sink(RunRow::Member(row.clone()))?;
    }
    for row in &ws.collections {
        sink(RunRow::Collection(row.clone()))?;
    }
    for report in &ws.reports {
        report_rows(&derive, report, sink)?;
    }
    for dataset in &ws.datasets {
        dataset_rows(&derive, dataset, sink)?;
    }
    Ok(())
}

fn report_rows(
    derive: &Derive,
    report: &ReportData,
    sink: &mut dyn FnMut(RunRow) -> Result<()>,
) -> Result<()> {
    let token = report.listing.token();
    sink(RunRow::Report(derive.report(report.listing.clone())))?;
    for query in &report.queries {
        if let Some(lineage) = derive.lineage_row(token, &query.row) {
            sink(lineage)?;
        }
        sink(RunRow::Query(query.row.clone()))?;
        for chart in &query.charts {
            sink(RunRow::Chart(chart.clone()))?;
        }
    }
    Ok(())
}

fn dataset_rows(
    derive: &Derive,
    dataset: &ReportData,
    sink: &mut dyn FnMut(RunRow) -> Result<()>,
) -> Result<()> {
    let token = dataset.listing.token();
    let lineage: Vec<RunRow> = dataset
        .queries
        .iter()
        .filter_map(|q| derive.lineage_row(token, &q.row))
        .collect();
    let queries = dataset.queries.iter().map(|q| q.row.clone()).collect();
    sink(RunRow::Dataset(
        derive.dataset(dataset.listing.clone(), queries),
    ))?;
    for row in lineage {
        sink(row)?;
    }
    Ok(())
}
