//! `extract-mode --check` and `--dry-run`: what a run would do, in a few
//! calls, with nothing written.
//!
//! - [`check`] is the set-up test (like OpenMetadata's "Test Connection"):
//!   credentials and workspace, then what the token can list, one line each.
//!   `GET /api/account` is an optional extra: Mode marks it "Not Supported",
//!   and its 400 to a Workspace token changes nothing.
//! - [`plan`] lists the collections and their report and dataset listings (the
//!   cheap part of a run), applies the filters, and says what a full run would
//!   fetch, how many calls that is and how long it takes at the current pace.
//!   The estimate counts the listing calls it made itself (a run makes the
//!   same), reads each listed report's `query_count` (one call for its
//!   queries, one per query for charts) and counts one call per member.

use std::fmt;
use std::time::Duration;

use serde_json::Value;

use super::config::ExtractConfig;
use crate::error::{Error, Result};
use crate::mode::{List, ModeClient, Scope, fetch_all_pages, for_each_item, hal};

/// One line of `--check`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckLine {
    /// Whether the check passed (an optional check that could not be made passes).
    pub ok: bool,
    /// What was checked.
    pub what: &'static str,
    /// What was found.
    pub detail: String,
}

impl fmt::Display for CheckLine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mark = if self.ok { "ok  " } else { "FAIL" };
        write!(f, "{mark}  {:<26} {}", self.what, self.detail)
    }
}

/// Runs the connection check; returns its lines (the first failure ends it).
///
/// # Errors
/// [`Error::Internal`] when the client cannot be built; every failed check is
/// a line, not an error, except that the caller maps the first failed line's
/// cause to the exit code through [`CheckReport::error`].
pub async fn check(config: &ExtractConfig) -> Result<CheckReport> {
    let client = ModeClient::new(&config.mode)?;
    let mut report = CheckReport::default();
    let ws = config.workspace();
    let sources = first_page(&client, &["data_sources"], "data_sources", Scope::Workspace).await;
    if !report.push("credentials and workspace", sources, |n| {
        format!(
            "{} at {}: accepted; {n} data source(s)",
            ws, config.mode.host
        )
    }) {
        return Ok(report);
    }
    for (what, path, key) in [
        ("collections", "spaces", "spaces"),
        ("memberships", "memberships", "memberships"),
        ("definitions", "definitions", "definitions"),
    ] {
        let listed = first_page(&client, &[path], key, Scope::Workspace).await;
        if !report.push(what, listed, |n| {
            format!("can list ({n} on the first page)")
        }) {
            return Ok(report);
        }
    }
    report.lines.push(token_kind(&client).await);
    Ok(report)
}

/// The outcome of [`check`].
#[derive(Debug, Default)]
pub struct CheckReport {
    /// One line per check, in order.
    pub lines: Vec<CheckLine>,
    /// The error behind the first failed check, if any.
    pub error: Option<Error>,
}

impl CheckReport {
    fn push(
        &mut self,
        what: &'static str,
        outcome: Result<usize>,
        ok: impl Fn(usize) -> String,
    ) -> bool {
        match outcome {
            Ok(n) => {
                self.lines.push(CheckLine {
                    ok: true,
                    what,
                    detail: ok(n),
                });
                true
            }
            Err(e) => {
                self.lines.push(CheckLine {
                    ok: false,
                    what,
                    detail: e.to_string(),
                });
                self.error = Some(e);
                false
            }
        }
    }
}

/// Page 1 of a workspace list: how many items it holds.
async fn first_page(client: &ModeClient, path: &[&str], key: &str, scope: Scope) -> Result<usize> {
    let url = client.workspace_url(path, &[("page", "1".into())]);
    match client.get_parsed(url, scope, |b| hal::page(b, key)).await? {
        Ok(page) => Ok(page.items.len()),
        Err(gone) => Err(Error::Decode {
            url: key.to_owned(),
            reason: gone.to_string(),
        }),
    }
}

/// The optional `GET /api/account`: a Member token reads its user; a
/// Workspace token gets Mode's 400 "unsupported for use with Api Keys".
async fn token_kind(client: &ModeClient) -> CheckLine {
    let what = "token kind (optional)";
    let url = client.url(&["account"], &[]);
    let detail = match client.get(url, Scope::Item).await {
        Ok(Ok(user)) => format!(
            "a Member token of user {}",
            hal::str_field(&user, "username").unwrap_or("(unnamed)")
        ),
        Err(Error::Http { status: 400, .. }) => {
            "a Workspace API token (Mode answers /api/account with 400 for those, as expected)"
                .into()
        }
        Ok(Err(gone)) => format!("not told (/api/account: {gone})"),
        Err(e) => format!("not told (/api/account: {e})"),
    };
    CheckLine {
        ok: true,
        what,
        detail,
    }
}

/// What a full run would fetch, from the listings.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Plan {
    /// Collections listed, and kept by the filters.
    pub collections: (usize, usize),
    /// Reports kept, and their queries (from `query_count`).
    pub reports: (usize, u64),
    /// Datasets kept.
    pub datasets: usize,
    /// Memberships (one user call each).
    pub members: usize,
    /// Calls this preview made.
    pub calls_made: u64,
    /// Calls a full run needs, this preview's listings included.
    pub calls_needed: u64,
    /// The pace in force, requests per second.
    pub rate: f64,
}

impl Plan {
    /// The time a full run takes at the pace, rounded to seconds.
    pub fn duration(&self) -> Duration {
        let secs = self.calls_needed as f64 / self.rate.max(1e-9);
        Duration::from_secs(Duration::try_from_secs_f64(secs).map_or(u64::MAX, |d| d.as_secs()))
    }
}

impl fmt::Display for Plan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "collections\t{} listed, {} kept by the filters",
            self.collections.0, self.collections.1
        )?;
        writeln!(
            f,
            "reports\t{} kept, {} queries",
            self.reports.0, self.reports.1
        )?;
        writeln!(f, "datasets\t{} kept", self.datasets)?;
        writeln!(f, "members\t{}", self.members)?;
        writeln!(
            f,
            "calls\t{} needed for a full run ({} made by this preview)",
            self.calls_needed, self.calls_made
        )?;
        writeln!(
            f,
            "time\t{} at {:.2} requests/s",
            humantime::format_duration(self.duration()),
            self.rate
        )
    }
}

/// Lists collections and their reports and datasets, and estimates a run.
///
/// # Errors
/// The fatal errors of the listings (401, 403, 404, unreachable, 5xx).
pub async fn plan(config: &ExtractConfig) -> Result<Plan> {
    let client = ModeClient::new(&config.mode)?;
    let filter = [("filter", "all".to_owned())];
    let list = List {
        segments: &["spaces"],
        extra: &filter,
        key: "spaces",
        per_page: config.per_page,
        max_pages: config.max_pages,
        scope: Scope::Workspace,
    };
    let spaces = fetch_all_pages(&client, &list).await?.unwrap_or_default();
    let kept: Vec<&Value> = spaces
        .iter()
        .filter(|s| config.filters.keeps_collection(s))
        .collect();
    let mut plan = Plan {
        collections: (spaces.len(), kept.len()),
        ..Plan::default()
    };
    for space in &kept {
        let Some(token) = hal::str_field(space, "token") else {
            continue;
        };
        for kind in ["reports", "datasets"] {
            let (count, queries) = list_count(&client, config, token, kind).await?;
            if kind == "reports" {
                plan.reports.0 += count;
                plan.reports.1 += queries;
            } else {
                plan.datasets += count;
            }
        }
    }
    let members = if config.assets.needs_members() {
        let list = List {
            segments: &["memberships"],
            extra: &[],
            key: "memberships",
            per_page: config.per_page,
            max_pages: config.max_pages,
            scope: Scope::Workspace,
        };
        let count = fetch_all_pages(&client, &list)
            .await?
            .map_or(0, |m| m.len());
        plan.members = count;
        count as u64
    } else {
        0
    };
    let reports = plan.reports.0 as u64 + plan.datasets as u64;
    let charts = if config.assets.needs_charts() {
        plan.reports.1
    } else {
        0
    };
    let workspace_lists = 2; // data sources and definitions: one page each
    plan.calls_made = client.counters().snapshot().0;
    let listings = plan.calls_made;
    plan.calls_needed = listings + reports + charts + members + workspace_lists;
    plan.rate = client.requests_per_second();
    Ok(plan)
}

/// Kept items of one collection's report or dataset listing, and their queries.
async fn list_count(
    client: &ModeClient,
    config: &ExtractConfig,
    space: &str,
    kind: &str,
) -> Result<(usize, u64)> {
    let segments = ["spaces", space, kind];
    let list = List {
        segments: &segments,
        extra: &[],
        key: "reports",
        per_page: config.per_page,
        max_pages: config.max_pages,
        scope: Scope::Item,
    };
    let (mut kept, mut queries) = (0usize, 0u64);
    let walked = for_each_item(client, &list, |item| {
        if config.filters.keeps_report(&item) {
            kept += 1;
            queries += item.get("query_count").and_then(Value::as_u64).unwrap_or(1);
        }
        Ok(())
    })
    .await?;
    if let Err(gone) = walked {
        tracing::warn!("collection {space}: {gone} when listing its {kind}");
    }
    Ok((kept, queries))
}
