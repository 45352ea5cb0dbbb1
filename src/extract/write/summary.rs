//! The last two files of a run: `{ts}-errors_logs.json` (castor's: a JSON
//! array of the item problems' messages) and `{ts}-summary.json`
//! ([`RunSummary`]), which lists every file before it.

use std::path::Path;
use std::time::Instant;

use super::{RunContext, Writer, Written};
use crate::error::Result;
use crate::extract::config::ExtractConfig;
use crate::extract::problems::Problems;
use crate::extract::rows::RunRow;
use crate::mode::ModeClient;
use crate::output::summary::{CLIENT_NAME, ConnectionIdentity};
use crate::output::{RunSummary, summary_file_name, write_json_atomic};

/// `{ts}-errors_logs.json`.
pub struct ErrorsLog<'a> {
    dir: &'a Path,
    ts: i64,
    problems: &'a Problems,
}

impl<'a> ErrorsLog<'a> {
    /// The errors log of `run`.
    pub fn new(run: &RunContext<'a>) -> Self {
        ErrorsLog {
            dir: &run.config.output,
            ts: run.ts,
            problems: run.problems,
        }
    }
}

impl Writer for ErrorsLog<'_> {
    fn row(&mut self, _: &RunRow) -> Result<()> {
        Ok(())
    }

    fn finish(self: Box<Self>, written: &mut Written) -> Result<()> {
        let problems = self.problems.sorted();
        let messages: Vec<&str> = problems.iter().map(|p| p.message.as_str()).collect();
        let name = format!("{}-errors_logs.json", self.ts);
        written
            .files
            .push(write_json_atomic(self.dir, &name, &messages)?);
        Ok(())
    }
}

/// `{ts}-summary.json`.
pub struct Summary<'a> {
    config: &'a ExtractConfig,
    ts: i64,
    problems: &'a Problems,
    client: &'a ModeClient,
    started: Instant,
}

impl<'a> Summary<'a> {
    /// The summary of `run`.
    pub fn new(run: &RunContext<'a>) -> Self {
        Summary {
            config: run.config,
            ts: run.ts,
            problems: run.problems,
            client: run.client,
            started: run.started,
        }
    }

    fn summary(&self, written: &Written) -> RunSummary {
        let config = self.config;
        let problems = self.problems.sorted();
        let (api_calls, retries, rate_limited) = self.client.counters().snapshot();
        RunSummary {
            version: env!("CARGO_PKG_VERSION").into(),
            executed_at: iso8601(self.ts),
            connection_identity: ConnectionIdentity {
                base_url: format!(
                    "{}/{}",
                    config.mode.host.as_str().trim_end_matches('/'),
                    config.workspace()
                ),
            },
            client_name: CLIENT_NAME.into(),
            ts: self.ts,
            status: if problems.is_empty() {
                "complete"
            } else {
                "complete_with_item_errors"
            }
            .into(),
            duration_seconds: self.started.elapsed().as_secs_f64(),
            counts: written.counts.clone(),
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
            files: written.files.clone(),
        }
    }
}

impl Writer for Summary<'_> {
    fn row(&mut self, _: &RunRow) -> Result<()> {
        Ok(())
    }

    fn finish(self: Box<Self>, written: &mut Written) -> Result<()> {
        let summary = self.summary(written);
        let record = write_json_atomic(&self.config.output, &summary_file_name(self.ts), &summary)?;
        tracing::info!(
            "Wrote {} ({} API calls, {} retries, {} rate-limited)",
            record.name,
            summary.api_calls,
            summary.retries,
            summary.rate_limited
        );
        written.files.push(record);
        Ok(())
    }
}

/// ISO 8601 UTC of a Unix time, e.g. `2026-11-21T05:20:00Z`.
fn iso8601(ts: i64) -> String {
    chrono::DateTime::from_timestamp(ts, 0)
        .map(|d| d.format("%Y-%m-%dT%H:%M:%SZ").to_string())
        .unwrap_or_default()
}
