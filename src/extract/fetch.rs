//! Fetching a workspace: which Mode endpoints are called, in what order, and
//! how much at once.
//!
//! Three branches run concurrently and share one client (so one pace and one
//! concurrency bound):
//! - workspace lists: `/data_sources`, `/definitions`;
//! - members: `/memberships` (paged), then `GET /api/{username}` for each;
//! - collections: `/spaces?filter=all` (paged, personal collections included),
//!   then per kept collection its reports and datasets (paged, walked in two
//!   steps by `super::listings`), then per kept
//!   report its queries, each query's charts and, where the listing does not
//!   say which datasets it imports, the report detail.
//!
//! What the tasks share is a `Ctx` (`super::ctx`). Every row goes to the
//! run's [`Store`] as it arrives, with its place in the files (`ord`:
//! collections as listed, reports by collection then as listed), so two runs over the same workspace write the same files however
//! the concurrent answers interleave. The report phase reads the listed
//! reports back from the store a page at a time. With a state, a report whose
//! fingerprint is unchanged reuses what is below it (no call), member users
//! are fetched for new memberships only, and the previous run's reports
//! missing today are settled by `super::deletions` before the report phase.

use std::sync::atomic::{AtomicU64, Ordering};

use futures::{StreamExt, TryStreamExt, future, stream};
use serde_json::Value;

use super::ctx::Ctx;
use super::deletions;
use super::listings::import_tokens;
use super::problems::Problems;
use super::rows::{ChartRow, CollectionRow, DatasourceRow, DefinitionRow, MemberRow, QueryRow};
use super::store::Store;
use super::store::items::{CHART_SHIFT, Imports, Kind, Listing};
use super::store::source::PAGE;
use crate::error::{Error, Result};
use crate::extract::config::ExtractConfig;
use crate::mode::{Fetched, List, ModeClient, Scope, fetch_all_pages, for_each_item, hal};
use crate::progress::{CallCounter, Progress, Unit};

/// Fetches the workspace into `store`, each row as it arrives. Item problems
/// go to `problems`.
///
/// # Errors
/// Fatal client errors (401, 403, unknown workspace, unreachable host, 5xx after
/// every retry), store errors and, with `--strict`, the first item problem.
pub async fn fetch_workspace(
    client: &ModeClient,
    config: &ExtractConfig,
    problems: &Problems,
    store: &Store,
) -> Result<()> {
    let ctx = Ctx {
        client,
        config,
        problems,
        store,
        ws: client.workspace(),
        progress: Progress::start(
            "reports",
            Unit::Items,
            0,
            config.progress_every,
            Some(call_counter(client)),
        ),
        reused: AtomicU64::new(0),
    };
    if config.assets.needs_data_sources() {
        ctx.authenticate().await?;
    }
    tokio::try_join!(
        ctx.rows_if(
            config.assets.needs_definitions(),
            "definitions",
            Kind::Definition,
            |v| (DefinitionRow::from_mode(v), hal::str_field(v, "token"))
        ),
        ctx.members(),
        ctx.collections(),
    )?;
    let reused = ctx.reused.load(Ordering::Relaxed);
    if store.incremental() {
        tracing::info!("Reused {reused} unchanged reports and datasets from the state");
    }
    Ok(())
}

impl Ctx<'_> {
    /// The data sources, first and alone: a real list that every token kind
    /// may read proves the credentials and the workspace before anything runs
    /// in parallel. (`GET /api/account` is "Not Supported" in Mode's spec and
    /// answers 400 to a Workspace token, so nothing depends on it.) When the
    /// data sources are not wanted, the first list of each branch proves them.
    async fn authenticate(&self) -> Result<()> {
        self.rows_if(true, "data_sources", Kind::Datasource, |v| {
            (DatasourceRow::from_mode(v), hal::str_field(v, "token"))
        })
        .await?;
        tracing::info!(
            "Connected to {}, workspace {}: credentials accepted",
            self.config.mode.host,
            self.ws
        );
        Ok(())
    }

    /// A workspace-level list reduced to rows, into the store as its pages
    /// arrive; nothing when not needed.
    async fn rows_if<T: serde::Serialize>(
        &self,
        needed: bool,
        key: &'static str,
        kind: Kind,
        row: fn(&Value) -> (T, Option<&str>),
    ) -> Result<()> {
        if !needed {
            return Ok(());
        }
        tracing::info!("Extracting {key}");
        let mut ord = 0i64;
        let count = self
            .each(key, &[], |item| {
                let (row, token) = row(&item);
                self.store.put(kind, "", ord, token, &row)?;
                ord += 1;
                Ok(())
            })
            .await?;
        tracing::info!("Fetched {count} {key}");
        Ok(())
    }

    /// Walks a workspace-level list (`/api/{ws}/{key}`), handing each item
    /// to `on_item` as its page arrives, so that Mode's full objects of a
    /// large workspace (thousands of memberships, collections) are never all
    /// held; how many there were.
    async fn each(
        &self,
        key: &'static str,
        extra: &[(&str, String)],
        on_item: impl FnMut(Value) -> Result<()>,
    ) -> Result<usize> {
        let list = List {
            segments: &[key],
            extra,
            key,
            per_page: self.config.per_page,
            max_pages: self.config.max_pages,
            scope: Scope::Workspace,
        };
        // In workspace scope every failure is an error, never `Gone`.
        for_each_item(self.client, &list, on_item)
            .await?
            .map_err(|gone| Error::Decode {
                url: self.client.workspace_url(&[key], extra).to_string(),
                reason: gone.to_string(),
            })
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

    /// Memberships, then each member's user (reused from the state when the
    /// membership was there before).
    async fn members(&self) -> Result<()> {
        if !self.config.assets.needs_members() {
            return Ok(());
        }
        tracing::info!("Extracting memberships");
        let mut memberships = Vec::new();
        self.each("memberships", &[], |m| {
            memberships.push(Membership::of(&m));
            Ok(())
        })
        .await?;
        tracing::info!("Fetched {} memberships", memberships.len());
        stream::iter(memberships.iter().enumerate())
            .map(|(ord, m)| self.member(ord as i64, m))
            .buffer_unordered(self.concurrency())
            .try_collect::<()>()
            .await
    }

    async fn member(&self, ord: i64, membership: &Membership) -> Result<()> {
        let Membership { username, fields } = membership;
        let Some(username) = username.as_deref() else {
            let row = MemberRow::from_mode(None, fields);
            return self.store.put_member(ord, "", &row, true);
        };
        if self.store.reuse_member(ord, username)? {
            return Ok(());
        }
        let user = self
            .client
            .get(self.client.url(&[username], &[]), Scope::Item)
            .await?;
        if let Err(gone) = &user {
            let message =
                format!("member '{username}': user {gone}; kept with the membership's fields");
            self.problems
                .report("member", username, gone.into(), message)?;
        }
        let row = MemberRow::from_mode(user.as_ref().ok(), fields);
        self.store.put_member(ord, username, &row, user.is_ok())
    }

    /// Collections, then their reports and datasets.
    async fn collections(&self) -> Result<()> {
        let assets = &self.config.assets;
        if !assets.needs_collections() {
            return Ok(());
        }
        tracing::info!("Extracting collections");
        let filter = [("filter", "all".to_owned())];
        // Each kept collection's token, in the files' order.
        let mut kept: Vec<Option<String>> = Vec::new();
        let total = self
            .each("spaces", &filter, |space| {
                if !self.keeps_collection(&space) {
                    return Ok(());
                }
                self.check_named_item("collection", &space)?;
                let token = hal::str_field(&space, "token");
                let row = CollectionRow::from_mode(&space);
                let ord = kept.len() as i64;
                self.store.put(Kind::Collection, "", ord, token, &row)?;
                kept.push(token.map(str::to_owned));
                Ok(())
            })
            .await?;
        tracing::info!(
            "Fetched {total} collections, {} kept by the filters",
            kept.len()
        );
        if !assets.needs_reports() && !assets.needs_datasets() {
            return Ok(());
        }
        let (reports, datasets) = self.list_collections(&kept).await?;
        let kept_spaces: Vec<&str> = kept.iter().flatten().map(String::as_str).collect();
        deletions::settle(self, &kept_spaces).await?;
        tracing::info!("Listed {reports} reports and {datasets} datasets; fetching their queries");
        self.progress.grow(reports + datasets);
        tokio::try_join!(self.fetch_all(Kind::Report), self.fetch_all(Kind::Dataset))?;
        Ok(())
    }

    /// Every staged report (or dataset), read back from the store a page at
    /// a time, with what is below it.
    async fn fetch_all(&self, kind: Kind) -> Result<()> {
        let listings = stream::try_unfold(i64::MIN, move |after| async move {
            let page = self.store.listings_after(kind, after, PAGE)?;
            Ok(page.last().map(|l| l.ord).map(|next| {
                let page = stream::iter(page.into_iter().map(Ok));
                (page, next)
            }))
        })
        .try_flatten();
        listings
            .map_ok(|l| self.fetch_report(kind, l))
            .try_buffer_unordered(self.concurrency() * 2)
            .try_collect::<()>()
            .await
    }

    /// A report's queries (and their charts) and, if needed, its imports;
    /// reused from the state instead when its fingerprint is unchanged.
    async fn fetch_report(&self, kind: Kind, listing: Listing) -> Result<()> {
        if self.store.reuse_children(kind, &listing)? {
            self.reused.fetch_add(1, Ordering::Relaxed);
            self.progress.add(1);
            return self.store.set_complete(kind, listing.ord, true);
        }
        let dataset = kind == Kind::Dataset;
        let assets = &self.config.assets;
        let token = listing.row.token();
        let want_queries = !token.is_empty() && (dataset || assets.needs_queries());
        let want_detail =
            !dataset && assets.needs_imports() && matches!(listing.imports, Imports::Ask);
        let (queries_complete, detail) = tokio::try_join!(
            self.queries(want_queries, &listing, kind),
            self.detail(want_detail, token),
        )?;
        let imports = match (&listing.imports, &detail) {
            (Imports::Known(tokens), _) => tokens.clone(),
            (_, Some(Ok(detail))) => import_tokens(detail),
            _ => Vec::new(),
        };
        for (ord, dataset) in imports.iter().enumerate() {
            self.store
                .put(Kind::Import, token, ord as i64, Some(dataset), dataset)?;
        }
        self.progress.add(1);
        let complete = queries_complete && !matches!(detail, Some(Err(_)));
        self.store.set_complete(kind, listing.ord, complete)
    }

    /// Fetches a report's queries and their charts into the store; whether
    /// everything answered.
    async fn queries(&self, wanted: bool, listing: &Listing, kind: Kind) -> Result<bool> {
        if !wanted {
            return Ok(true);
        }
        let token = listing.row.token();
        let segments = ["reports", token, "queries"];
        let queries = match self.paged(&segments, &[], "queries", Scope::Item).await? {
            Ok(queries) => queries,
            Err(gone) => {
                let name = listing.row.name.as_str();
                let message = format!(
                    "{} {token} ({}): {gone} when fetching its queries; kept with its listing fields",
                    kind.name(),
                    name.unwrap_or("unnamed")
                );
                self.problems
                    .report(kind.name(), token, (&gone).into(), message)?;
                return Ok(false);
            }
        };
        let with_charts = kind == Kind::Report && self.config.assets.needs_charts();
        let queries = queries
            .iter()
            .enumerate()
            .map(|(index, q)| self.query(kind, token, index as i64, q, with_charts));
        let complete = future::try_join_all(queries).await?;
        Ok(complete.into_iter().all(|c| c))
    }

    async fn query(
        &self,
        kind: Kind,
        report: &str,
        index: i64,
        query: &Value,
        with_charts: bool,
    ) -> Result<bool> {
        let row = QueryRow::from_mode(query, report);
        self.store
            .put(kind.queries_of(), report, index, Some(row.token()), &row)?;
        let token = row.token();
        if !with_charts || token.is_empty() {
            return Ok(true);
        }
        let segments = ["reports", report, "queries", token, "charts"];
        let (charts, complete) = match self.paged(&segments, &[], "charts", Scope::Item).await? {
            Ok(charts) => (charts, true),
            Err(gone) => {
                let message =
                    format!("query {token} of report {report}: {gone} when fetching its charts");
                self.problems
                    .report("query", token, (&gone).into(), message)?;
                (Vec::new(), false)
            }
        };
        for (position, chart) in charts.iter().enumerate() {
            let row = ChartRow::from_mode(chart, report, token);
            let ord = (index << CHART_SHIFT) + position as i64;
            let chart_token = row.token.as_str().map(str::to_owned);
            self.store
                .put(Kind::Chart, report, ord, chart_token.as_deref(), &row)?;
        }
        Ok(complete)
    }
}

/// What a run keeps of one membership while its users are fetched: the
/// member's username (`member_username`, else from `_links.user.href`) and
/// the two fields its row falls back on (`member_token`, `member_username`).
struct Membership {
    username: Option<String>,
    fields: Value,
}

impl Membership {
    fn of(membership: &Value) -> Self {
        let username = hal::str_field(membership, "member_username")
            .map(str::to_owned)
            .or_else(|| {
                hal::link(membership, "user")
                    .and_then(hal::username_from_href)
                    .map(str::to_owned)
            });
        let field = |key: &str| membership.get(key).cloned().unwrap_or(Value::Null);
        let fields = serde_json::json!({
            "member_token": field("member_token"),
            "member_username": field("member_username"),
        });
        Membership { username, fields }
    }
}

/// The client's call count, for progress lines.
fn call_counter(client: &ModeClient) -> CallCounter {
    let client = client.clone();
    std::sync::Arc::new(move || client.counters().snapshot().0)
}
