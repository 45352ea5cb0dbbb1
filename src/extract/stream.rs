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
use super::lineage_rows::LineageContext;
use super::rows::{
    ChartRow, DatasetRow, DatasourceRow, DefinitionRow, MemberRow, QueryRow, ReportListing,
    ReportRow, RunRow,
};
use super::store::Store;
use super::store::items::{CHART_SHIFT, Kind};
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
    pub fn dataset(&self, listing: ReportListing, queries: Vec<QueryRow>) -> DatasetRow {
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
    pub fn lineage_row(&self, report: &str, query: &QueryRow) -> Option<RunRow> {
        let context = self.lineage.as_ref()?;
        Some(RunRow::Lineage(context.row(report, query)))
    }
}

/// Feeds every row of the run's store to `sink`, in stream order.
///
/// # Errors
/// [`crate::Error::Io`] when the store cannot be read, and the first error
/// `sink` returns.
pub fn each_row(
    store: &Store,
    assets: &AssetSet,
    sink: &mut dyn FnMut(RunRow) -> Result<()>,
) -> Result<()> {
    let mut derive = Derive::default();
    let sources: Vec<DatasourceRow> = top(store, Kind::Datasource)?;
    let definitions: Vec<DefinitionRow> = top(store, Kind::Definition)?;
    if assets.writes(Asset::Lineage) {
        derive.lineage(LineageContext::new(&sources, &definitions));
    }
    sources
        .into_iter()
        .try_for_each(|row| sink(RunRow::Datasource(row)))?;
    definitions
        .into_iter()
        .try_for_each(|row| sink(RunRow::Definition(row)))?;
    store.each(Kind::Member, |_, row: MemberRow| {
        derive.members([&row]);
        sink(RunRow::Member(row))
    })?;
    store.each(Kind::Collection, |_, row| sink(RunRow::Collection(row)))?;
    store.imports(|report, dataset| derive.import(report, dataset))?;
    store.each(Kind::Report, |token, listing| {
        report_rows(store, &derive, &token, listing, sink)
    })?;
    store.each(Kind::Dataset, |token, listing| {
        dataset_rows(store, &derive, &token, listing, sink)
    })
}

/// Every top-level item of `kind` (data sources, definitions: few).
fn top<T: serde::de::DeserializeOwned + Default>(store: &Store, kind: Kind) -> Result<Vec<T>> {
    Ok(store
        .all(kind, "")?
        .into_iter()
        .map(|(_, _, row)| row)
        .collect())
}

fn report_rows(
    store: &Store,
    derive: &Derive,
    token: &str,
    listing: ReportListing,
    sink: &mut dyn FnMut(RunRow) -> Result<()>,
) -> Result<()> {
    sink(RunRow::Report(derive.report(listing)))?;
    let queries = store.all::<QueryRow>(Kind::Query, token)?;
    let mut charts = store
        .all::<ChartRow>(Kind::Chart, token)?
        .into_iter()
        .peekable();
    for (index, _, query) in queries {
        if let Some(lineage) = derive.lineage_row(token, &query) {
            sink(lineage)?;
        }
        sink(RunRow::Query(query))?;
        while let Some((_, _, chart)) = charts.next_if(|(ord, _, _)| ord >> CHART_SHIFT == index) {
            sink(RunRow::Chart(chart))?;
        }
    }
    Ok(())
}

fn dataset_rows(
    store: &Store,
    derive: &Derive,
    token: &str,
    listing: ReportListing,
    sink: &mut dyn FnMut(RunRow) -> Result<()>,
) -> Result<()> {
    let queries: Vec<QueryRow> = store
        .all(Kind::DatasetQuery, token)?
        .into_iter()
        .map(|(_, _, row)| row)
        .collect();
    let lineage: Vec<RunRow> = queries
        .iter()
        .filter_map(|q| derive.lineage_row(token, q))
        .collect();
    sink(RunRow::Dataset(derive.dataset(listing, queries)))?;
    lineage.into_iter().try_for_each(sink)
}
