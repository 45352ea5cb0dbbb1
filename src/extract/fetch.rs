//! Fetching a workspace: which Mode endpoints are called, in what order, and
//! how much at once.
//!
//! Three branches run concurrently and share one client (so one pace and one
//! concurrency bound):
//! - workspace lists: `/data_sources`, `/definitions`;
//! - members: `/memberships` (paged), then `GET /api/{username}` for each;
//! - collections: `/spaces?filter=all` (paged, personal collections included),
//!   then per kept collection its reports and datasets (paged), then per kept
//!   report its queries, each query's charts and, where the listing does not
//!   say which datasets it imports, the report detail.
//!
//! Lists keep Mode's order (collections as listed, reports by collection then
//! as listed), so two runs over the same workspace write the same files.

use futures::{StreamExt, TryStreamExt, future, stream};
use serde_json::Value;

use super::problems::{ProblemKind, Problems};
use super::rows::{self, Row};
use crate::error::Result;
use crate::extract::config::ExtractConfig;
use crate::mode::{Fetched, List, ModeClient, Scope, fetch_all_pages, for_each_item, hal};
use crate::progress::{CallCounter, Progress, Unit};

/// Everything fetched from a workspace, already reduced to rows.
#[derive(Debug, Default)]
pub struct Workspace {
    /// Data sources as Mode sent them (few; lineage reads adapter, database, host).
    pub data_sources: Vec<Value>,
    /// Definitions as Mode sent them (lineage expands their `source`).
    pub definitions: Vec<Value>,
    /// Kept collections.
    pub collections: Vec<Row>,
    /// Kept reports with their queries and charts.
    pub reports: Vec<ReportData>,
    /// Kept datasets with their queries.
    pub datasets: Vec<ReportData>,
    /// Members: one row per membership.
    pub members: Vec<Row>,
}

/// A report (or dataset) and what was fetched below it.
#[derive(Debug, Clone)]
pub struct ReportData {
    /// The report row.
    pub row: Row,
    /// The report token.
    pub token: String,
    /// Its queries, each with its charts.
    pub queries: Vec<QueryData>,
    /// Tokens of the datasets it imports.
    pub imports: Vec<String>,
}

/// A query and its charts.
#[derive(Debug, Clone)]
pub struct QueryData {
    /// The query row.
    pub row: Row,
    /// Its chart rows.
    pub charts: Vec<Row>,
}

/// What the report listing says about imported datasets.
#[derive(Debug, Clone)]
enum Imports {
    /// The listing carried `imported_datasets`.
    Known(Vec<String>),
    /// `has_imported_datasets` is true, or the listing says nothing: ask the detail.
    Ask,
    /// `has_imported_datasets` is false.
    None,
}

#[derive(Debug)]
struct Listing {
    row: Row,
    token: String,
    imports: Imports,
}

/// Fetches the workspace. Item problems go to `problems`.
///
/// # Errors
/// Fatal client errors (401, 403, unknown workspace, unreachable host, 5xx after
/// every retry) and, with `--strict`, the first item problem.
pub async fn fetch_workspace(
    client: &ModeClient,
    config: &ExtractConfig,
    problems: &Problems,
) -> Result<Workspace> {
    let ctx = Ctx {
        client,
        config,
        problems,
        ws: client.workspace(),
        progress: Progress::start(
            "reports",
            Unit::Items,
            0,
            config.progress_every,
            Some(call_counter(client)),
        ),
    };
    let data_sources = if config.assets.needs_data_sources() {
        ctx.authenticate().await?
    } else {
        Vec::new()
    };
    let (definitions, members, (collections, reports, datasets)) = tokio::try_join!(
        ctx.list_if(config.assets.needs_definitions(), "definitions"),
        ctx.members(),
        ctx.collections(),
    )?;
    Ok(Workspace {
        data_sources,
        definitions,
        collections,
        reports,
        datasets,
        members,
    })
}

struct Ctx<'a> {
    client: &'a ModeClient,
    config: &'a ExtractConfig,
    problems: &'a Problems,
    ws: &'a str,
    progress: Progress,
}

impl Ctx<'_> {
    fn concurrency(&self) -> usize {
        self.config.mode.concurrency.max(1)
    }

    /// The data sources, first and alone: a real list that every token kind
    /// may read proves the credentials and the workspace before anything runs
    /// in parallel. (`GET /api/account` is "Not Supported" in Mode's spec and
    /// answers 400 to a Workspace token, so nothing depends on it.) When the
    /// data sources are not wanted, the first list of each branch proves them.
    async fn authenticate(&self) -> Result<Vec<Value>> {
        let sources = self.list_if(true, "data_sources").await?;
        tracing::info!(
            "Connected to {}, workspace {}: credentials accepted",
            self.config.mode.host,
            self.ws
        );
        Ok(sources)
    }

    /// A workspace-level list, paged defensively; empty when not needed.
    async fn list_if(&self, needed: bool, key: &'static str) -> Result<Vec<Value>> {
        if !needed {
            return Ok(Vec::new());
        }
        tracing::info!("Extracting {key}");
        let items = self
            .paged(&[self.ws, key], &[], key, Scope::Workspace)
            .await?;
        let items = items.unwrap_or_default();
        tracing::info!("Fetched {} {key}", items.len());
        Ok(items)
    }

    async fn paged(
        &self,
        segments: &[&str],
        extra: &[(&str, String)],
        key: &str,
        scope: Scope,
    ) -> Result<Fetched<Vec<Value>>> {
        let list = List {
            segments,
            extra,
            key,
            per_page: self.config.per_page,
            max_pages: self.config.max_pages,
            scope,
        };
        fetch_all_pages(self.client, &list).await
    }

    /// Memberships, then each member's user.
    async fn members(&self) -> Result<Vec<Row>> {
        if !self.config.assets.needs_members() {
            return Ok(Vec::new());
        }
        let memberships = self.list_if(true, "memberships").await?;
        let rows: Vec<Row> = stream::iter(memberships.iter())
            .map(|m| self.member(m))
            .buffered(self.concurrency())
            .try_collect()
            .await?;
        Ok(rows)
    }

    async fn member(&self, membership: &Value) -> Result<Row> {
        let username = hal::str_field(membership, "member_username")
            .map(str::to_owned)
            .or_else(|| {
                hal::link(membership, "user")
                    .and_then(hal::username_from_href)
                    .map(str::to_owned)
            });
        let Some(username) = username else {
            return Ok(rows::member_row(None, membership));
        };
        let user = self
            .client
            .get(self.client.url(&[&username], &[]), Scope::Item)
            .await?;
        if let Err(gone) = &user {
            let message =
                format!("member '{username}': user {gone}; kept with the membership's fields");
            self.problems
                .report("member", &username, gone.into(), message)?;
        }
        Ok(rows::member_row(user.ok().as_ref(), membership))
    }

    /// Collections, then their reports and datasets.
    async fn collections(&self) -> Result<(Vec<Row>, Vec<ReportData>, Vec<ReportData>)> {
        let assets = &self.config.assets;
        if !assets.needs_collections() {
            return Ok(Default::default());
        }
        tracing::info!("Extracting collections");
        let filter = [("filter", "all".to_owned())];
        let spaces = self
            .paged(&[self.ws, "spaces"], &filter, "spaces", Scope::Workspace)
            .await?
            .unwrap_or_default();
        let total = spaces.len();
        let kept: Vec<Value> = spaces
            .into_iter()
            .filter(|s| self.keeps_collection(s))
            .collect();
        tracing::info!(
            "Fetched {total} collections, {} kept by the filters",
            kept.len()
        );
        let mut rows = Vec::with_capacity(kept.len());
        for space in &kept {
            self.check_named_item("collection", space)?;
            rows.push(rows::collection_row(space));
        }
        if !assets.needs_reports() && !assets.needs_datasets() {
            return Ok((rows, Vec::new(), Vec::new()));
        }
        let listings: Vec<(Vec<Listing>, Vec<Listing>)> = stream::iter(kept.iter())
            .map(|s| self.list_collection(s))
            .buffered(self.concurrency())
            .try_collect()
            .await?;
        let (reports, datasets): (Vec<_>, Vec<_>) = listings.into_iter().unzip();
        let reports: Vec<Listing> = reports.into_iter().flatten().collect();
        let datasets: Vec<Listing> = datasets.into_iter().flatten().collect();
        tracing::info!(
            "Listed {} reports and {} datasets; fetching their queries",
            reports.len(),
            datasets.len()
        );
        self.progress.grow((reports.len() + datasets.len()) as u64);
        let (reports, datasets) = tokio::try_join!(
            self.fetch_all(reports, false),
            self.fetch_all(datasets, true)
        )?;
        Ok((rows, reports, datasets))
    }

    fn keeps_collection(&self, space: &Value) -> bool {
        self.config.filters.keeps_collection(space)
    }

    fn keeps_report(&self, report: &Value) -> bool {
        self.config.filters.keeps_report(report)
    }

    /// Reports problems of a listed collection, report or dataset.
    fn check_named_item(&self, asset: &'static str, item: &Value) -> Result<()> {
        let token = hal::str_field(item, "token").unwrap_or("(no token)");
        if hal::str_field(item, "name").is_none() {
            let message = format!("{asset} {token}: name is null");
            self.problems
                .report(asset, token, ProblemKind::NullName, message)?;
        }
        if hal::creator(item).is_none() {
            let message = format!("{asset} {token}: no creator link; creator left null");
            self.problems
                .report(asset, token, ProblemKind::MissingCreator, message)?;
        }
        Ok(())
    }

    /// One collection's report and dataset listings.
    async fn list_collection(&self, space: &Value) -> Result<(Vec<Listing>, Vec<Listing>)> {
        let Some(token) = hal::str_field(space, "token") else {
            return Ok(Default::default());
        };
        let assets = &self.config.assets;
        let (reports, datasets) = tokio::try_join!(
            self.list_reports(assets.needs_reports(), token, "reports"),
            self.list_reports(assets.needs_datasets(), token, "datasets"),
        )?;
        Ok((reports, datasets))
    }

    async fn list_reports(
        &self,
        needed: bool,
        space: &str,
        kind: &'static str,
    ) -> Result<Vec<Listing>> {
        if !needed {
            return Ok(Vec::new());
        }
        let segments = [self.ws, "spaces", space, kind];
        let asset = if kind == "reports" {
            "report"
        } else {
            "dataset"
        };
        let list = List {
            segments: &segments,
            extra: &[],
            key: "reports",
            per_page: self.config.per_page,
            max_pages: self.config.max_pages,
            scope: Scope::Item,
        };
        // Each report is reduced to its row as its page arrives: Mode's full
        // listing objects (with `_forms` and preview URLs) are never all held.
        let mut listings = Vec::new();
        let walked = for_each_item(self.client, &list, |item| {
            if self.keeps_report(&item) {
                self.check_named_item(asset, &item)?;
                listings.push(Listing {
                    row: rows::report_row(&item, &self.config.mode.host),
                    token: hal::str_field(&item, "token")
                        .unwrap_or_default()
                        .to_owned(),
                    imports: imports_of(&item),
                });
            }
            Ok(())
        })
        .await?;
        if let Err(gone) = walked {
            let message = format!("collection {space}: {gone} when listing its {kind}");
            self.problems
                .report("collection", space, gone.into(), message)?;
        }
        Ok(listings)
    }

    async fn fetch_all(&self, listings: Vec<Listing>, dataset: bool) -> Result<Vec<ReportData>> {
        stream::iter(listings)
            .map(|l| self.fetch_report(l, dataset))
            .buffered(self.concurrency() * 2)
            .try_collect()
            .await
    }

    /// A report's queries (and their charts) and, if needed, its imports.
    async fn fetch_report(&self, listing: Listing, dataset: bool) -> Result<ReportData> {
        let assets = &self.config.assets;
        let want_queries = !listing.token.is_empty() && (dataset || assets.needs_queries());
        let want_detail =
            !dataset && assets.needs_imports() && matches!(listing.imports, Imports::Ask);
        let (queries, detail) = tokio::try_join!(
            self.queries(want_queries, &listing, dataset),
            self.detail(want_detail, &listing.token),
        )?;
        let imports = match (listing.imports, detail) {
            (Imports::Known(tokens), _) => tokens,
            (_, Some(detail)) => import_tokens(&detail),
            _ => Vec::new(),
        };
        self.progress.add(1);
        Ok(ReportData {
            row: listing.row,
            token: listing.token,
            queries,
            imports,
        })
    }

    async fn queries(
        &self,
        wanted: bool,
        listing: &Listing,
        dataset: bool,
    ) -> Result<Vec<QueryData>> {
        if !wanted {
            return Ok(Vec::new());
        }
        let token = listing.token.as_str();
        let segments = [self.ws, "reports", token, "queries"];
        let queries = match self.paged(&segments, &[], "queries", Scope::Item).await? {
            Ok(queries) => queries,
            Err(gone) => {
                let asset = if dataset { "dataset" } else { "report" };
                let name = listing.row.get("name").and_then(Value::as_str);
                let message = format!(
                    "{asset} {token} ({}): {gone} when fetching its queries; kept with its listing fields",
                    name.unwrap_or("unnamed")
                );
                self.problems.report(asset, token, gone.into(), message)?;
                return Ok(Vec::new());
            }
        };
        let with_charts = !dataset && self.config.assets.needs_charts();
        let queries = queries.iter().map(|q| self.query(token, q, with_charts));
        future::try_join_all(queries).await
    }

    async fn query(&self, report: &str, query: &Value, with_charts: bool) -> Result<QueryData> {
        let row = rows::query_row(query, report);
        let token = hal::str_field(query, "token").unwrap_or_default();
        if !with_charts || token.is_empty() {
            return Ok(QueryData {
                row,
                charts: Vec::new(),
            });
        }
        let segments = [self.ws, "reports", report, "queries", token, "charts"];
        let charts = match self.paged(&segments, &[], "charts", Scope::Item).await? {
            Ok(charts) => charts,
            Err(gone) => {
                let message =
                    format!("query {token} of report {report}: {gone} when fetching its charts");
                self.problems.report("query", token, gone.into(), message)?;
                Vec::new()
            }
        };
        let charts = charts
            .iter()
            .map(|c| rows::chart_row(c, report, token))
            .collect();
        Ok(QueryData { row, charts })
    }

    async fn detail(&self, wanted: bool, token: &str) -> Result<Option<Value>> {
        if !wanted || token.is_empty() {
            return Ok(None);
        }
        let url = self.client.url(&[self.ws, "reports", token], &[]);
        Ok(self.client.get(url, Scope::Item).await?.ok())
    }
}

/// The client's call count, for progress lines.
fn call_counter(client: &ModeClient) -> CallCounter {
    let client = client.clone();
    std::sync::Arc::new(move || client.counters().snapshot().0)
}

/// What a report listing says about imported datasets (mode-api.md §2 note 8).
fn imports_of(report: &Value) -> Imports {
    if report.get("imported_datasets").is_some_and(Value::is_array) {
        return Imports::Known(import_tokens(report));
    }
    match report.get("has_imported_datasets") {
        Some(Value::Bool(false)) => Imports::None,
        _ => Imports::Ask,
    }
}

fn import_tokens(report: &Value) -> Vec<String> {
    report
        .get("imported_datasets")
        .and_then(Value::as_array)
        .map(|list| {
            list.iter()
                .filter_map(|d| hal::str_field(d, "token").map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn import_hints() {
        assert!(matches!(
            imports_of(&json!({"has_imported_datasets": false})),
            Imports::None
        ));
        assert!(matches!(
            imports_of(&json!({"has_imported_datasets": true})),
            Imports::Ask
        ));
        assert!(matches!(imports_of(&json!({})), Imports::Ask));
        let known = json!({"imported_datasets": [{"token": "24f66e1701b6"}]});
        assert!(matches!(imports_of(&known), Imports::Known(t) if t == ["24f66e1701b6"]));
    }
}
