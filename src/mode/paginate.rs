//! Paging through Mode's HAL lists.
//!
//! Mode's spec defines an optional `_links.next_page` and `pagination
//! {first_page, last_page, total_pages, total_count}` on list bodies, but none
//! has been seen on a real HAL list (none in `fixtures/mode-recorded`). So:
//! - when a page carries `next_page`, it is followed (same origin only), and a
//!   page with `pagination` but no `next_page` is the last;
//! - otherwise a list is paged with `page` (1-based) and `per_page` (100 by
//!   default, `--per-page`). Whether an endpoint honours `per_page` is not
//!   documented, so the stop rule holds whatever Mode serves per page: the
//!   last page is empty (Mode answers `"_embedded": {}` past the end), holds
//!   fewer items than `min(per_page, 30)`, or fewer than another page of the
//!   same kind of list in this run; a short page none of these settles is
//!   followed by one more request ([`super::page_sizes`]). A `per_page` Mode
//!   refuses (HTTP 400 on the first page) is replaced by its default, 30.
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
use url::Url;

use super::client::{Cut, Fetched, Gone, ModeClient, Scope};
use super::hal;
use super::page_sizes::{MODE_PAGE_SIZE, PageEnd, page_end};
use crate::error::{Error, Result};

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
    /// `per_page` to ask (Mode's default [`MODE_PAGE_SIZE`] once Mode refuses it).
    pub per_page: usize,
    /// Pages at most before the walk fails.
    pub max_pages: u32,
    /// What a 403/404 means.
    pub scope: Scope,
}

impl List<'_> {
    /// The kind of list, for [`super::PageSizes`]: its last path segment.
    fn kind(&self) -> &str {
        self.segments.last().copied().unwrap_or(self.key)
    }
}

/// Walks a paged list and hands each new item to `on_item` as soon as its page
/// arrives, so a caller that keeps only a projection of each item never holds
/// a whole list of Mode's full objects (`_forms`, preview URLs…) in memory.
/// Returns the number of items, or how the list was cut short (see the module
/// documentation). A short page in doubt is settled at once (see
/// [`super::page_sizes`]); [`Walk`] can leave it for later.
///
/// # Errors
/// Those of [`ModeClient::get`]; [`Error::Decode`] past `max_pages`, and for a
/// cut in [`Scope::Workspace`]; any error `on_item` returns (which stops the walk).
pub async fn for_each_item(
    client: &ModeClient,
    list: &List<'_>,
    mut on_item: impl FnMut(Value) -> Result<()>,
) -> Result<Fetched<usize>> {
    Walk::new(*list).to_end(client, &mut on_item).await
}

/// A walk through one paged list that can stop at a page in doubt (a short
/// page that may be full for a server serving fewer items than asked) and
/// resume later, when more lists of the same kind have shown how long Mode's
/// pages are: the collections' listings all walk to their first doubt, then
/// the doubts are settled, most of them without a call.
#[derive(Debug)]
pub struct Walk<'a> {
    list: List<'a>,
    per_page: usize,
    seen: HashSet<String>,
    /// The page fetched next (1-based) and its URL (`None`: built when asked).
    page: u32,
    next: Option<Url>,
    total: Option<u64>,
    /// The last page's `(items, new items)` while its end is in doubt.
    doubt: Option<(usize, usize)>,
}

impl<'a> Walk<'a> {
    /// A walk of `list` from its first page.
    pub fn new(list: List<'a>) -> Self {
        Walk {
            list,
            per_page: list.per_page.max(1),
            seen: HashSet::new(),
            page: 1,
            next: None,
            total: None,
            doubt: None,
        }
    }

    /// Walks on until the list ends, settling any doubt with the next page.
    ///
    /// # Errors
    /// Those of [`for_each_item`].
    pub async fn to_end(
        mut self,
        client: &ModeClient,
        on_item: &mut impl FnMut(Value) -> Result<()>,
    ) -> Result<Fetched<usize>> {
        loop {
            if let Some(outcome) = self.walk(client, on_item, false).await? {
                return Ok(outcome);
            }
        }
    }

    /// Walks on until the list ends (`Some`: its outcome, as
    /// [`for_each_item`]'s) or, with `defer`, until a page in doubt (`None`:
    /// call again, with or without `defer`, once other lists have been walked).
    ///
    /// # Errors
    /// Those of [`for_each_item`].
    pub async fn walk(
        &mut self,
        client: &ModeClient,
        on_item: &mut impl FnMut(Value) -> Result<()>,
        defer: bool,
    ) -> Result<Option<Fetched<usize>>> {
        if let Some((items, fresh)) = self.doubt.take() {
            let longest = client.page_sizes().longest(self.list.kind(), self.per_page);
            match page_end(items, self.per_page, longest) {
                PageEnd::Last => return self.ended(client).map(Some),
                _ if defer => {
                    self.doubt = Some((items, fresh));
                    return Ok(None);
                }
                _ => {
                    if let Some(cut) = self.repeated(client, fresh)? {
                        return Ok(Some(cut));
                    }
                    self.page += 1;
                    self.next = Some(self.page_url(client, self.page));
                }
            }
        }
        while self.page <= self.list.max_pages.max(1) {
            match self.step(client, on_item, defer).await? {
                Step::More => self.page += 1,
                Step::Again => {}
                Step::Doubt => return Ok(None),
                Step::Ended(outcome) => return Ok(Some(outcome)),
            }
        }
        Err(Error::Decode {
            url: client
                .workspace_url(self.list.segments, self.list.extra)
                .to_string(),
            reason: format!(
                "more than {} pages; refusing to page forever (raise --max-pages if the list is real)",
                self.list.max_pages
            ),
        })
    }

    /// Fetches page `self.page`, hands on its new items and judges its end.
    async fn step(
        &mut self,
        client: &ModeClient,
        on_item: &mut impl FnMut(Value) -> Result<()>,
        defer: bool,
    ) -> Result<Step> {
        let list = self.list;
        let Some(body) = self.fetch(client).await? else {
            return Ok(Step::Again);
        };
        let body = match body {
            Ok(body) => body,
            Err(gone) if self.page == 1 => return Ok(Step::Ended(Err(gone))),
            Err(gone) => {
                let (page, items) = (self.page, self.seen.len());
                return cut(client, &list, page, items, gone.to_string()).map(Step::Ended);
            }
        };
        self.total = body.total_count.or(self.total);
        let count = body.items.len();
        let mut fresh = 0usize;
        for item in body.items {
            if self.seen.insert(identity(&item)) {
                fresh += 1;
                on_item(item)?;
            }
        }
        let sizes = client.page_sizes();
        sizes.served(list.kind(), self.per_page, count);
        let next = match (&body.next, body.paginated) {
            (Some(href), _) => client.resolve_href(href),
            (None, true) => None,
            (None, false) => match page_end(
                count,
                self.per_page,
                sizes.longest(list.kind(), self.per_page),
            ) {
                PageEnd::Last => None,
                PageEnd::Doubt if defer => {
                    self.doubt = Some((count, fresh));
                    return Ok(Step::Doubt);
                }
                PageEnd::More | PageEnd::Doubt => Some(self.page_url(client, self.page + 1)),
            },
        };
        let Some(next) = next else {
            return self.ended(client).map(Step::Ended);
        };
        if let Some(cut) = self.repeated(client, fresh)? {
            return Ok(Step::Ended(cut));
        }
        self.next = Some(next);
        Ok(Step::More)
    }

    /// GETs the page due. `None` when Mode refused the `per_page` asked on
    /// the first page (HTTP 400): the walk then asks Mode's default instead.
    async fn fetch(&mut self, client: &ModeClient) -> Result<Option<Fetched<hal::Page>>> {
        let sizes = client.page_sizes();
        if self.page == 1 {
            self.per_page = sizes.per_page(self.list.kind(), self.list.per_page);
        }
        let url = match self.next.take() {
            Some(url) => url,
            None => self.page_url(client, self.page),
        };
        let key = self.list.key;
        match client
            .get_parsed(url, self.list.scope, |b| hal::page(b, key))
            .await
        {
            Err(Error::Http {
                status: 400 | 422,
                message,
                ..
            }) if self.page == 1 && self.per_page > MODE_PAGE_SIZE => {
                if sizes.refuse(self.list.kind()) {
                    tracing::warn!(
                        "Mode refused per_page={} on {} lists ({message}); asking its default {MODE_PAGE_SIZE} per page instead",
                        self.per_page,
                        self.list.kind()
                    );
                }
                Ok(None)
            }
            other => other.map(Some),
        }
    }

    /// The end of the list: its count, or a cut if `total_count` said more.
    fn ended(&self, client: &ModeClient) -> Result<Fetched<usize>> {
        match self.total {
            Some(t) if (self.seen.len() as u64) < t => {
                let why = format!("{} item(s) listed, total_count said {t}", self.seen.len());
                cut(client, &self.list, self.page, self.seen.len(), why)
            }
            _ => Ok(Ok(self.seen.len())),
        }
    }

    /// A cut when a page to be followed brought nothing new.
    fn repeated(&self, client: &ModeClient, fresh: usize) -> Result<Option<Fetched<usize>>> {
        if fresh > 0 {
            return Ok(None);
        }
        let why = "a full page brought nothing new (it repeats the page before)".to_owned();
        cut(client, &self.list, self.page, self.seen.len(), why).map(Some)
    }

    /// The `page`th page, by `page` and `per_page`.
    fn page_url(&self, client: &ModeClient, page: u32) -> Url {
        let mut query: Vec<(&str, String)> = self.list.extra.to_vec();
        query.push(("page", page.to_string()));
        query.push(("per_page", self.per_page.to_string()));
        client.workspace_url(self.list.segments, &query)
    }
}

/// What one page leaves a walk to do.
enum Step {
    /// The next page is due.
    More,
    /// The same page again (with Mode's default `per_page`).
    Again,
    /// A page in doubt, left for later.
    Doubt,
    /// The list ended, or was cut.
    Ended(Fetched<usize>),
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
