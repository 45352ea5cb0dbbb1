//! `upload --target openmetadata`: push a run directory into an OpenMetadata
//! server, through its REST API (`{host}/v1/...`, a bot's JWT).
//!
//! From the newest complete run, verified against its summary as the castor
//! upload does ([`runs`]), [`mapping`] builds OpenMetadata's create requests:
//!
//! | Mode (run file)            | OpenMetadata                                         |
//! |----------------------------|------------------------------------------------------|
//! | the workspace              | dashboard service `--service`, `serviceType: Mode`   |
//! | report (`report`)          | Dashboard `service.{report}`, `project` = collection |
//! | chart (`chart`)            | Chart `service.{chart}`, `chartType` mapped          |
//! | query (`query`, `dataset`) | DashboardDataModel `service.model."{report}.{query}"`|
//! | table read (`lineage`)     | lineage edge table → data model, with the SQL        |
//! | deletion (`changes`)       | soft delete of the dashboard, chart or data model    |
//!
//! [`push`] writes them with `PUT` (create-or-update) in dependency order;
//! every request is safe to repeat, so retries ([`client`]) and reruns are
//! harmless, and an unchanged rerun changes nothing (`entityNoChange`).
//! `--dry-run` ([`dry`]) only reads. See `docs/openmetadata.md`.

pub mod client;
pub mod config;
pub mod deletions;
pub mod dry;
pub mod fqn;
pub mod mapping;
pub mod push;
pub mod report;
pub mod rows;
pub mod runs;

use std::path::Path;

pub use config::{DbServices, OmConfig};
pub use report::{Change, OmReport};

use crate::error::Result;
use crate::output::{DirLock, LockMode};
use crate::upload::Ledger;

use client::OmClient;
use rows::{ChangeRow, RunRows, file_name, read_rows};

/// Pushes the directory's newest unpushed run (see the module docs).
///
/// # Errors
/// Fatal ones: `Config`, `Locked`, `Io`, `Decode` (a run file that is not
/// what extract-mode writes, or a host that is not OpenMetadata),
/// `Unauthorized` (the JWT), `Forbidden`, `Unreachable`, `Http` (retries
/// exhausted). An entity OpenMetadata refuses is not fatal: it is in
/// [`OmReport::failures`].
pub async fn run(config: &OmConfig) -> Result<OmReport> {
    let _lock = DirLock::acquire(&config.dir, LockMode::Shared, config.lock_timeout).await?;
    let ledger = if config.dry_run {
        Ledger::load(&config.dir)
    } else {
        Ledger::open(&config.dir)
    };
    let selection = runs::select(config, &config.dir, &ledger)?;
    let mut report = OmReport {
        dry_run: config.dry_run,
        already: selection.already.clone(),
        refused: selection.refused.clone(),
        incomplete: selection.incomplete.clone(),
        ..OmReport::default()
    };
    for line in &report.refused {
        tracing::error!("{line}");
    }
    let client = OmClient::new(config)?;
    let service = push::connect(&client, &config.service).await?;
    let Some(newest) = selection.pending.last() else {
        report.requests = (client.requests(), client.retries());
        tracing::info!("{}", report.summary_line());
        return Ok(report);
    };
    report.pushed_run = Some(newest.ts);
    report.superseded = selection
        .pending
        .iter()
        .rev()
        .skip(1)
        .map(|r| r.ts)
        .collect();
    let rows = RunRows::read(&config.dir, newest.ts, &newest.names())?;
    let changes = read_changes(&config.dir, &selection.pending)?;
    let mapped = mapping::map_run(&rows, &config.service, &config.db_services);
    let pushed = push::push(
        config,
        &client,
        service.is_some(),
        &mapped,
        &changes,
        &mut report,
    )
    .await;
    report.requests = (client.requests(), client.retries());
    pushed?;
    if !config.dry_run && report.failures.is_empty() {
        runs::record(config, &ledger, &selection.pending);
    }
    tracing::info!("{}", report.summary_line());
    Ok(report)
}

/// The changes rows of every pending run, oldest first.
fn read_changes(dir: &Path, pending: &[runs::Run]) -> Result<Vec<ChangeRow>> {
    let mut all = Vec::new();
    for run in pending {
        let name = file_name(run.ts, "changes");
        if run.files.iter().any(|f| f.name == name) {
            all.extend(read_rows::<ChangeRow>(&dir.join(name))?);
        }
    }
    Ok(all)
}
