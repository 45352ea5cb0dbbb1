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
    let per_page = per_page.max(1);
    let short_page = per_page.min(MODE_PAGE_SIZE);
    let mut items = Vec::new();
    let mut seen = HashSet::new();
    for page in 1..=MAX_PAGES {
        let mut query: Vec<(&str, String)> = extra.to_vec();
        query.push(("page", page.to_string()));
        query.push(("per_page", per_page.to_string()));
        let url = client.url(segments, &query);
        let body = match client.get(url, scope).await? {
            Ok(body) => body,
            Err(gone) if page == 1 => return Ok(Err(gone)),
            Err(_) => return Ok(Ok(items)),
        };
        let batch = hal::embedded(body, key);
        let count = batch.len();
        let mut fresh = 0usize;
        for item in batch {
            if seen.insert(identity(&item)) {
                items.push(item);
                fresh += 1;
            }
        }
        if count == 0 || count < short_page {
            return Ok(Ok(items));
        }
        if fresh == 0 {
            tracing::debug!(
                list = key,
                page,
                "page brought nothing new; the server ignores `page`"
            );
            return Ok(Ok(items));
        }
    }
    Err(Error::Decode {
        url: client.url(segments, extra).to_string(),
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
