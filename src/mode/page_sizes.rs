//! What a run has learned of Mode's page sizes, and when a short page is the
//! last one.
//!
//! Mode's spec lists `per_page` on its paged lists but gives no maximum, and
//! whether a list honours it is not documented: the peers agree on 30 items
//! per page by default and assume 1,000 at most (`mode-api.md` §3). So a list
//! asked for `per_page` items that answers fewer may have ended, or the
//! server may serve fewer per page than asked (ignoring `per_page`, or
//! clamping it). Nothing here trusts the guess; it reasons from what was
//! served:
//! - a server that serves at most C items per page serves exactly C on every
//!   page but the last, so a page shorter than another page of the same kind
//!   of list in this run cannot be a full page: it is the last;
//! - a page shorter than `min(per_page, 30)` is the last (Mode serves 30 when
//!   it ignores `per_page`);
//! - any other short page is in doubt, and the next page is asked (usually
//!   empty: one call) unless a longer page of the same kind settles it first.
//!
//! [`PageSizes`] keeps, per kind of list (its last path segment: `reports`,
//! `datasets`, `memberships`…) and `per_page` asked, the longest page served,
//! and which kinds refused the `per_page` asked (HTTP 400: Mode's range is
//! not documented), so that later lists of that kind ask Mode's default.

use std::collections::{HashMap, HashSet};
use std::sync::{Mutex, PoisonError};

/// Mode's default page size, and what it serves when it ignores `per_page`
/// (three peers agree, `mode-api.md` §3).
pub const MODE_PAGE_SIZE: usize = 30;

/// The `per_page` asked by default (`--per-page`): a listing of 100 reports
/// is one call instead of four, and its body (about 0.5 MB at Mode's 5 KB per
/// report object) stays small enough for eight lists in flight at once.
pub const DEFAULT_PER_PAGE: u32 = 100;

/// What a page without `_links.next_page` or `pagination` says of its list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PageEnd {
    /// The list ends here.
    Last,
    /// A full page: ask the next one.
    More,
    /// A short page that may be full for a server serving fewer per page than
    /// asked: only a longer page of the same kind, or the next page, can tell.
    Doubt,
}

/// Judges a page of `items` items asked with `per_page`, when the longest
/// page of the same kind of list served in this run (this one included) held
/// `longest` items.
pub fn page_end(items: usize, per_page: usize, longest: usize) -> PageEnd {
    let per_page = per_page.max(1);
    if items == 0 {
        PageEnd::Last
    } else if items >= per_page {
        PageEnd::More
    } else if items < per_page.min(MODE_PAGE_SIZE) || items < longest {
        PageEnd::Last
    } else {
        PageEnd::Doubt
    }
}

/// Page sizes served in one run, shared by every list of a client.
#[derive(Debug, Default)]
pub struct PageSizes {
    longest: Mutex<HashMap<(String, usize), usize>>,
    refused: Mutex<HashSet<String>>,
}

impl PageSizes {
    /// Records that a list of `kind` asked for `per_page` items got `items`.
    pub fn served(&self, kind: &str, per_page: usize, items: usize) {
        let mut longest = self.longest.lock().unwrap_or_else(PoisonError::into_inner);
        let entry = longest.entry((kind.to_owned(), per_page)).or_default();
        *entry = (*entry).max(items);
    }

    /// The longest page served so far to a list of `kind` asked for `per_page`.
    pub fn longest(&self, kind: &str, per_page: usize) -> usize {
        let longest = self.longest.lock().unwrap_or_else(PoisonError::into_inner);
        longest
            .get(&(kind.to_owned(), per_page))
            .copied()
            .unwrap_or(0)
    }

    /// Records that Mode refused the `per_page` asked on lists of `kind`;
    /// `true` the first time (say so once).
    pub fn refuse(&self, kind: &str) -> bool {
        let mut refused = self.refused.lock().unwrap_or_else(PoisonError::into_inner);
        refused.insert(kind.to_owned())
    }

    /// The `per_page` to ask on a list of `kind`: `wanted`, or Mode's default
    /// once Mode refused a larger one on that kind.
    pub fn per_page(&self, kind: &str, wanted: usize) -> usize {
        let refused = self.refused.lock().unwrap_or_else(PoisonError::into_inner);
        match refused.contains(kind) {
            true => wanted.clamp(1, MODE_PAGE_SIZE),
            false => wanted.max(1),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_and_full_pages() {
        assert_eq!(page_end(0, 100, 0), PageEnd::Last);
        assert_eq!(page_end(100, 100, 100), PageEnd::More);
        assert_eq!(page_end(30, 30, 30), PageEnd::More);
        assert_eq!(page_end(5, 3, 5), PageEnd::More);
    }

    #[test]
    fn short_of_modes_default_is_the_last() {
        assert_eq!(page_end(29, 100, 29), PageEnd::Last);
        assert_eq!(page_end(9, 10, 9), PageEnd::Last);
    }

    #[test]
    fn a_longer_page_of_the_kind_settles_a_doubt() {
        assert_eq!(page_end(34, 100, 34), PageEnd::Doubt);
        assert_eq!(page_end(30, 100, 30), PageEnd::Doubt);
        assert_eq!(page_end(34, 100, 35), PageEnd::Last);
        assert_eq!(page_end(50, 100, 50), PageEnd::Doubt, "a clamp at 50");
    }

    #[test]
    fn sizes_are_kept_per_kind_and_per_page() {
        let sizes = PageSizes::default();
        sizes.served("reports", 100, 34);
        sizes.served("reports", 100, 12);
        sizes.served("datasets", 100, 60);
        assert_eq!(sizes.longest("reports", 100), 34);
        assert_eq!(sizes.longest("reports", 30), 0);
        assert_eq!(sizes.longest("memberships", 100), 0);
        assert_eq!(sizes.per_page("reports", 100), 100);
        assert!(sizes.refuse("reports"));
        assert!(!sizes.refuse("reports"), "said once");
        assert_eq!(sizes.per_page("reports", 100), 30);
        assert_eq!(sizes.per_page("reports", 10), 10);
        assert_eq!(sizes.per_page("datasets", 100), 100);
    }
}
