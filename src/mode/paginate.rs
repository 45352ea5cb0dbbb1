//! Paging through Mode's HAL lists.
//!
//! Mode sends no next link: a list is paged with `page` (1-based) and
//! `per_page` (30 by default; `shared/mode-api.md` §3). Whether a given endpoint
//! honours `per_page` is not documented, so the stop rule must be right either
//! way. We stop when a page
//! - is empty (Mode answers `"_embedded": {}` past the end), or
//! - holds fewer items than `min(per_page, 30)`: whether the server used our
//!   `per_page` or its own 30, a short page is the last one, or
//! - brings no item we have not seen (a server that ignores `page` repeats page
//!   one; OpenMetadata's rule, PR #33189).
//!
//! A list is never cut short silently: more than [`MAX_PAGES`] pages is an error.

use std::collections::HashSet;

use serde_json::Value;

use super::client::{Fetched, ModeClient, Scope};
use super::hal;
use crate::error::{Error, Result};

/// Mode's default page size.
pub const MODE_PAGE_SIZE: usize = 30;

/// Guard against a server that never stops paging.
pub const MAX_PAGES: u32 = 100_000;

/// Fetches every item of the paged list at `segments` (under `/api/`), from
/// `_embedded.<key>`, with `extra` query parameters on every page.
///
/// Returns `Ok(Err(Gone))` when the first page answers 403 or 404 in
/// [`Scope::Item`] (the parent vanished); a later page doing so ends the list.
///
/// # Errors
/// Those of [`ModeClient::get`], and [`Error::Decode`] past [`MAX_PAGES`].
pub async fn fetch_all_pages(
    client: &ModeClient,
    segments: &[&str],
    extra: &[(&str, String)],
    key: &str,
    per_page: usize,
    scope: Scope,
) -> Result<Fetched<Vec<Value>>> {
    let mut items = Vec::new();
    let list = List {
        segments,
        extra,
        key,
        per_page,
        scope,
    };
    let outcome = for_each_item(client, &list, |item| {
        items.push(item);
        Ok(())
    })
    .await?;
    Ok(outcome.map(|_| items))
}

/// A paged list to walk: where it is and how to page it.
#[derive(Debug, Clone, Copy)]
pub struct List<'a> {
    /// Path segments under `/api/`, e.g. `["acme", "spaces", "tok", "reports"]`.
    pub segments: &'a [&'a str],
    /// Query parameters sent with every page, e.g. `filter=all`.
    pub extra: &'a [(&'a str, String)],
    /// The `_embedded` key holding the items.
    pub key: &'a str,
    /// `per_page` to send.
    pub per_page: usize,
    /// What a 403/404 means.
    pub scope: Scope,
}

/// Walks a paged list and hands each new item to `on_item` as soon as its page
/// arrives, so a caller that keeps only a projection of each item never holds
/// a whole list of Mode's full objects (`_forms`, preview URLs…) in memory.
/// Returns the number of items.
///
/// # Errors
/// Those of [`ModeClient::get`], [`Error::Decode`] past [`MAX_PAGES`], and any
/// error `on_item` returns (which stops the walk).
pub async fn for_each_item(
    client: &ModeClient,
    list: &List<'_>,
    mut on_item: impl FnMut(Value) -> Result<()>,
) -> Result<Fetched<usize>> {
    let per_page = list.per_page.max(1);
    let short_page = per_page.min(MODE_PAGE_SIZE);
    let mut seen = HashSet::new();
    for page in 1..=MAX_PAGES {
        let mut query: Vec<(&str, String)> = list.extra.to_vec();
        query.push(("page", page.to_string()));
        query.push(("per_page", per_page.to_string()));
        let url = client.url(list.segments, &query);
        let body = match client.get(url, list.scope).await? {
            Ok(body) => body,
            Err(gone) if page == 1 => return Ok(Err(gone)),
            Err(_) => return Ok(Ok(seen.len())),
        };
        let batch = hal::embedded(body, list.key);
        let count = batch.len();
        let mut fresh = 0usize;
        for item in batch {
            if seen.insert(identity(&item)) {
                fresh += 1;
                on_item(item)?;
            }
        }
        if count == 0 || count < short_page {
            return Ok(Ok(seen.len()));
        }
        if fresh == 0 {
            tracing::debug!(
                list = list.key,
                page,
                "page brought nothing new; the server ignores `page`"
            );
            return Ok(Ok(seen.len()));
        }
    }
    Err(Error::Decode {
        url: client.url(list.segments, list.extra).to_string(),
        reason: format!("more than {MAX_PAGES} pages; refusing to page forever"),
    })
}

/// What makes two list items the same: Mode's `token` (or a membership's
/// `member_token`), else the whole object.
fn identity(item: &Value) -> String {
    ["token", "member_token", "member_username", "id"]
        .iter()
        .find_map(|k| {
            item.get(*k)
                .filter(|v| !v.is_null())
                .map(|v| format!("{k}={v}"))
        })
        .unwrap_or_else(|| item.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn identity_prefers_tokens() {
        assert_eq!(identity(&json!({"token": "ab", "id": 1})), "token=\"ab\"");
        assert_eq!(
            identity(&json!({"member_token": "cd"})),
            "member_token=\"cd\""
        );
        assert_eq!(identity(&json!({"x": 1})), "{\"x\":1}");
    }
}
