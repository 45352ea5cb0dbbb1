//! What the fetch's tasks share ([`Ctx`]), and the small questions each of
//! them asks: how much at once, whether the filters keep an item, what a
//! listed item lacks, a report's detail.

use std::sync::atomic::AtomicU64;

use serde_json::Value;

use super::config::ExtractConfig;
use super::problems::{ProblemKind, Problems};
use super::store::Store;
use crate::error::Result;
use crate::mode::{Fetched, ModeClient, Scope, hal};
use crate::progress::Progress;

/// What the fetch's tasks share.
pub(super) struct Ctx<'a> {
    pub(super) client: &'a ModeClient,
    pub(super) config: &'a ExtractConfig,
    pub(super) problems: &'a Problems,
    pub(super) store: &'a Store,
    pub(super) ws: &'a str,
    pub(super) progress: Progress,
    /// Reports and datasets reused from the state.
    pub(super) reused: AtomicU64,
}

impl Ctx<'_> {
    /// Requests in flight at most (`--concurrency`).
    pub(super) fn concurrency(&self) -> usize {
        self.config.mode.concurrency.max(1)
    }

    /// Whether a collection passes the collection filters.
    pub(super) fn keeps_collection(&self, space: &Value) -> bool {
        self.config.filters.keeps_collection(space)
    }

    /// Whether a report passes the report filters.
    pub(super) fn keeps_report(&self, report: &Value) -> bool {
        self.config.filters.keeps_report(report)
    }

    /// Reports problems of a listed collection, report or dataset.
    pub(super) fn check_named_item(&self, asset: &'static str, item: &Value) -> Result<()> {
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

    /// `GET /api/{ws}/reports/{token}` when wanted.
    pub(super) async fn detail(&self, wanted: bool, token: &str) -> Result<Option<Fetched<Value>>> {
        if !wanted || token.is_empty() {
            return Ok(None);
        }
        let url = self.client.workspace_url(&["reports", token], &[]);
        Ok(Some(self.client.get(url, Scope::Item).await?))
    }
}
