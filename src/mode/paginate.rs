//! Paging through Mode's HAL lists.
//!
//! Mode's spec defines an optional `_links.next_page` and `pagination
//! {first_page, last_page, total_pages, total_count}` on list bodies, but none
//! has been seen on a real HAL list (none in `fixtures/mode-recorded`). So:
//! - when a page carries `next_page`, it is followed (same origin only), and a
//!   page with `pagination` but no `next_page` is the last;
//! - otherwise a list is paged with `page` (1-based) and `per_page` (30 by
//!   default). Whether an endpoint honours `per_page` is not documented, so the
//!   stop rule is right either way: the last page is empty (Mode answers
//!   `"_embedded": {}` past the end) or holds fewer items than
//!   `min(per_page, 30)`.
//!
//! Every other end is recorded, never quiet: in [`Scope::Item`] the caller gets
//! [`Gone::Cut`] (an item problem; the items before it were delivered), in
//! [`Scope::Workspace`] the run fails ([`Error::Decode`]):
//! - a later page answering 403 or 404;
//! - a full page that brings nothing new (it repeats the one before: a server
//!   that ignores `page`, OpenMetadata's PR #33189, cannot be told apart from
//!   one that loops);
//! - a list that ends with fewer items than its `total_count`;
//! - a body that is not a HAL list ([`hal::page`]), after every retry;
//! - more than `max_pages` pages (`--max-pages`, default [`MAX_PAGES`]): a
//!   server that pages for ever is refused, whatever the scope.

use std::collections::HashSet;

use serde_json::Value;

use super::client::{Cut, Fetched, Gone, ModeClient, Scope};
use super::hal;
use crate::error::{Error, Result};

/// Mode's default page size.
pub const MODE_PAGE_SIZE: usize = 30;

/// The default cap on the pages of one list (`--max-pages`): 10,000 pages of
/// 30 is 300,000 items, thirty times the largest workspace we know of, and
/// keeps the memory of a server that pages for ever bounded.
pub const MAX_PAGES: u32 = 10_000;

/// Fetches every item of a paged list.
///
/// Returns `Ok(Err(Gone))` when the first page answers 403 or 404 in
/// [`Scope::Item`] (the parent vanished), or the list was cut short (the
/// items before the cut are dropped here; use [`for_each_item`] to keep them).
///
/// # Errors
/// Those of [`for_each_item`].
pub async fn fetch_all_pages(client: &ModeClient, list: &List<'_>) -> Result<Fetched<Vec<Value>>> {
    let mut items = Vec::new();
    let outcome = for_each_item(client, list, |item| {
        items.push(item);
        Ok(())
    })
    .await?;
    Ok(outcome.map(|_| items))
}

/// A paged list to walk: where it is and how to page it.
#[derive(Debug, Clone, Copy)]
pub struct List<'a> {
    /// Path segments under `/api/{workspace}/`, e.g. `["spaces", "tok", "reports"]`
    /// (every paged list of Mode's is workspace-scoped; the client adds the workspace).
    pub segments: &'a [&'a str],
    /// Query parameters sent with every page, e.g. `filter=all`.
    pub extra: &'a [(&'a str, String)],
    /// The `_embedded` key holding the items.
    pub key: &'a str,
    /// `per_page` to send.
    pub per_page: usize,
    /// Pages at most before the walk fails.
    pub max_pages: u32,
    /// What a 403/404 means.
    pub scope: Scope,
}

/// Walks a paged list and hands each new item to `on_item` as soon as its page
/// arrives, so a caller that keeps only a projection of each item never holds
/// a whole list of Mode's full objects (`_forms`, preview URLs…) in memory.
/// Returns the number of items, or how the list was cut short (see the module
/// documentation).
///
/// # Errors
/// Those of [`ModeClient::get`]; [`Error::Decode`] past `max_pages`, and for a
/// cut in [`Scope::Workspace`]; any error `on_item` returns (which stops the walk).
pub async fn for_each_item(
    client: &ModeClient,
    list: &List<'_>,
    mut on_item: impl FnMut(Value) -> Result<()>,
) -> Result<Fetched<usize>> {
    let per_page = list.per_page.max(1);
    let short_page = per_page.min(MODE_PAGE_SIZE);
    let mut seen = HashSet::new();
    let mut url = page_url(client, list, 1);
    let mut total = None;
    for page in 1..=list.max_pages.max(1) {
        let body = match client
            .get_parsed(url.clone(), list.scope, |b| hal::page(b, list.key))
            .await?
        {
            Ok(body) => body,
            Err(gone) if page == 1 => return Ok(Err(gone)),
            Err(gone) => return cut(client, list, page, seen.len(), gone.to_string()),
        };
        total = body.total_count.or(total);
        let count = body.items.len();
        let mut fresh = 0usize;
        for item in body.items {
            if seen.insert(identity(&item)) {
                fresh += 1;
                on_item(item)?;
            }
        }
        let next = match (&body.next, body.paginated) {
            (Some(href), _) => client.resolve_href(href),
            (None, true) => None,
            (None, false) => {
                (count > 0 && count >= short_page).then(|| page_url(client, list, page + 1))
            }
        };
        let Some(next) = next else {
            return match total {
                Some(t) if (seen.len() as u64) < t => {
                    let why = format!("{} item(s) listed, total_count said {t}", seen.len());
                    cut(client, list, page, seen.len(), why)
                }
                _ => Ok(Ok(seen.len())),
            };
        };
        if fresh == 0 {
            let why = "a full page brought nothing new (it repeats the page before)".to_owned();
            return cut(client, list, page, seen.len(), why);
        }
        url = next;
    }
    Err(Error::Decode {
        url: client.workspace_url(list.segments, list.extra).to_string(),
        reason: format!(
            "more than {} pages; refusing to page forever (raise --max-pages if the list is real)",
            list.max_pages
        ),
    })
}

/// The `page`th page of `list`, by `page` and `per_page`.
fn page_url(client: &ModeClient, list: &List<'_>, page: u32) -> url::Url {
    let mut query: Vec<(&str, String)> = list.extra.to_vec();
    query.push(("page", page.to_string()));
    query.push(("per_page", list.per_page.max(1).to_string()));
    client.workspace_url(list.segments, &query)
}

/// A list cut short: an item problem in [`Scope::Item`], fatal otherwise.
fn cut(
    client: &ModeClient,
    list: &List<'_>,
    page: u32,
    items: usize,
    why: String,
) -> Result<Fetched<usize>> {
    tracing::warn!(list = list.key, page, items, "list cut short: {why}");
    match list.scope {
        Scope::Item => Ok(Err(Gone::Cut(Cut { page, items, why }))),
        Scope::Workspace => Err(Error::Decode {
            url: client.workspace_url(list.segments, list.extra).to_string(),
            reason: format!("list cut short at page {page} after {items} item(s): {why}"),
        }),
    }
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
