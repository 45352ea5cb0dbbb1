//! What the Mode side serves, indexed by endpoint, and Mode's HAL pagination.
//!
//! Every answer is pre-built from the [`Truth`] (or, in replay mode, from the
//! recorded files) and stored under a key derived from its [`Route`]; a
//! request whose key is absent answers 404.
//!
//! Paged lists (spaces, reports, datasets, memberships) take `page` (1-based,
//! default 1) and `per_page` (default 30). Mode sends no `next` link and no
//! `pagination` object (unless `pagination_links` asks for the spec's optional
//! ones); the page after the last answers the shape DataHub
//! recorded: `{"_links":{"self":{"href":""}},"_embedded":{}}`. Non-paged
//! lists ignore both parameters. An unparsable or zero `page`/`per_page` is
//! taken as the default.
//!
//! Collections: `filter=all` lists every collection, personal ones included;
//! `filter=custom` (or any other value) only shared ones. Without `filter`
//! the generated workspace lists shared ones only (an assumption: Mode's
//! default is undocumented), while replay serves the recording, which holds
//! the personal collection too.

use std::collections::HashMap;

use serde_json::{Value, json};

use super::route::Route;
use super::truth::Truth;

/// Mode's page size when `per_page` is absent or ignored.
pub(crate) const DEFAULT_PER_PAGE: usize = 30;

/// A HAL list: its `_embedded` key, its `self` link and all its items.
#[derive(Debug, Clone)]
pub(crate) struct Listing {
    pub(crate) key: String,
    pub(crate) self_href: String,
    pub(crate) items: Vec<Value>,
    pub(crate) paged: bool,
}

/// One servable answer.
#[derive(Debug, Clone)]
pub(crate) enum Resource {
    /// A bare object.
    Object(Value),
    /// A list, paged or not.
    List(Listing),
}

/// How the client asked for a page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct PageRequest {
    pub(crate) page: usize,
    pub(crate) per_page: usize,
}

/// The request a page answers, for Mode's optional pagination metadata:
/// `Some` adds `pagination` and `_links.next_page`/`prev_page` to paged lists.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PageLinks<'a> {
    /// The request path (links keep it: a datasets listing's `self` link
    /// names `/reports`).
    pub(crate) path: &'a str,
    /// The request's query string (links keep its other parameters).
    pub(crate) query: &'a str,
}

/// Every answer of the Mode side, by key.
#[derive(Debug, Default)]
pub(crate) struct Store {
    pub(crate) workspace: String,
    resources: HashMap<String, Resource>,
    /// Replay: a paged list is served whole on page 1, whatever `per_page`.
    pub(crate) recorded: bool,
    /// Keys answered 403 (an item this token may not read).
    forbidden: std::collections::HashSet<String>,
}

impl Store {
    pub(crate) fn new(workspace: &str) -> Self {
        Store {
            workspace: workspace.to_owned(),
            resources: HashMap::new(),
            recorded: false,
            forbidden: Default::default(),
        }
    }

    pub(crate) fn insert(&mut self, key: String, resource: Resource) {
        self.resources.insert(key, resource);
    }

    /// Inserts a list under `key`.
    pub(crate) fn list(&mut self, key: String, listing: (&str, String, Vec<Value>, bool)) {
        let (name, self_href, items, paged) = listing;
        let listing = Listing {
            key: name.to_owned(),
            self_href,
            items,
            paged,
        };
        self.insert(key, Resource::List(listing));
    }

    /// Whether a route answers 403 (see `item_problems`).
    pub(crate) fn is_forbidden(&self, route: &Route, query: &str) -> bool {
        key_for(route, query).is_some_and(|key| self.forbidden.contains(&key))
    }

    /// The answer body for a route, or `None` for 404.
    pub(crate) fn answer(
        &self,
        route: &Route,
        query: &str,
        page: PageRequest,
        links: Option<PageLinks>,
    ) -> Option<Value> {
        let key = key_for(route, query)?;
        let page = match self.recorded {
            true => PageRequest {
                per_page: usize::MAX,
                ..page
            },
            false => page,
        };
        match self.resources.get(&key)? {
            Resource::Object(value) => Some(value.clone()),
            Resource::List(listing) => {
                let mut body = render(listing, page);
                if let Some(links) = links.filter(|_| listing.paged) {
                    paginate(&mut body, listing.items.len(), page, links);
                }
                Some(body)
            }
        }
    }

    /// The items of a list route (all pages), or `None` when it is not a list.
    pub(crate) fn items(&self, route: &Route, query: &str) -> Option<&[Value]> {
        match self.resources.get(&key_for(route, query)?)? {
            Resource::List(listing) => Some(&listing.items),
            Resource::Object(_) => None,
        }
    }

    /// Builds the store of a generated workspace from its truth.
    pub(crate) fn from_truth(truth: &Truth, ws: &str) -> Store {
        let mut store = Store::new(ws);
        store.objects(truth, ws);
        store.space_lists(truth, ws);
        store.report_lists(truth, ws);
        let api = format!("/api/{ws}");
        let flat = [
            ("data_sources", &truth.data_sources, false),
            ("definitions", &truth.definitions, false),
            ("memberships", &truth.memberships, true),
        ];
        for (name, items, paged) in flat {
            let listing = (name, format!("{api}/{name}"), items.clone(), paged);
            store.list(format!("{name}/{ws}"), listing);
        }
        let hidden = truth
            .problems
            .iter()
            .filter(|p| p.kind == "inaccessible_report");
        for problem in hidden {
            store
                .forbidden
                .insert(format!("queries/{ws}/{}", problem.token));
        }
        store
    }

    fn objects(&mut self, truth: &Truth, ws: &str) {
        if let Some(account) = truth.account() {
            self.insert("account".into(), Resource::Object(account.clone()));
        }
        if !truth.workspace.is_null() {
            let verify = json!({
                "workspace": ws,
                "workspace_token": truth.workspace["token"],
                "_links": {"self": {"href": format!("/api/{ws}")}},
            });
            self.insert("verify".into(), Resource::Object(verify));
            let workspace = Resource::Object(truth.workspace.clone());
            self.insert(format!("named/{ws}"), workspace);
        }
        for user in &truth.users {
            if let Some(name) = user["username"].as_str() {
                self.insert(format!("named/{name}"), Resource::Object(user.clone()));
            }
        }
        for (token, detail) in &truth.report_details {
            let key = format!("report/{ws}/{token}");
            self.insert(key, Resource::Object(detail.clone()));
        }
    }

    fn space_lists(&mut self, truth: &Truth, ws: &str) {
        let href = format!("/api/{ws}/collections");
        let shared: Vec<Value> = truth
            .spaces
            .iter()
            .filter(|s| s["space_type"] != "private")
            .cloned()
            .collect();
        let all = ("spaces", href.clone(), truth.spaces.clone(), true);
        self.list(format!("spaces/{ws}/all"), all);
        // Assumption: without `filter`, Mode lists shared collections only.
        let default = ("spaces", href.clone(), shared.clone(), true);
        self.list(format!("spaces/{ws}/default"), default);
        self.list(
            format!("spaces/{ws}/custom"),
            ("spaces", href, shared, true),
        );
        for space in &truth.spaces {
            let Some(token) = space["token"].as_str() else {
                continue;
            };
            let href = format!("/api/{ws}/collections/{token}/reports");
            let reports = truth.reports_in(token).into_iter().cloned().collect();
            let datasets = truth.datasets_in(token).into_iter().cloned().collect();
            let reports = ("reports", href.clone(), reports, true);
            self.list(format!("reports/{ws}/{token}"), reports);
            self.list(
                format!("datasets/{ws}/{token}"),
                ("reports", href, datasets, true),
            );
        }
    }

    fn report_lists(&mut self, truth: &Truth, ws: &str) {
        for (report, queries) in &truth.queries {
            let href = format!("/api/{ws}/reports/{report}/queries");
            let listing = ("queries", href.clone(), queries.clone(), false);
            self.list(format!("queries/{ws}/{report}"), listing);
            for query in queries {
                let Some(token) = query["token"].as_str() else {
                    continue;
                };
                let Some(charts) = truth.charts.get(token) else {
                    continue;
                };
                let href = format!("{href}/{token}/charts");
                let listing = ("charts", href, charts.clone(), false);
                self.list(format!("charts/{ws}/{report}/{token}"), listing);
            }
        }
    }
}

/// The resource key of a route; `None` when the route is never served.
pub(crate) fn key_for(route: &Route, query: &str) -> Option<String> {
    let key = match route {
        Route::Account => "account".to_owned(),
        Route::Verify => "verify".to_owned(),
        Route::Named(name) => format!("named/{name}"),
        Route::Spaces { ws } => {
            let filter = match query_param(query, "filter").as_deref() {
                Some("all") => "all",
                Some(_) => "custom",
                None => "default",
            };
            format!("spaces/{ws}/{filter}")
        }
        Route::Reports { ws, space } => format!("reports/{ws}/{space}"),
        Route::Datasets { ws, space } => format!("datasets/{ws}/{space}"),
        Route::Report { ws, report } => format!("report/{ws}/{report}"),
        Route::Queries { ws, report } => format!("queries/{ws}/{report}"),
        Route::Charts { ws, report, query } => format!("charts/{ws}/{report}/{query}"),
        Route::DataSources { ws } => format!("data_sources/{ws}"),
        Route::Definitions { ws } => format!("definitions/{ws}"),
        Route::Memberships { ws } => format!("memberships/{ws}"),
        Route::Other { .. } => return None,
    };
    Some(key)
}

/// The first value of a query-string parameter, percent-decoded.
pub(crate) fn query_param(query: &str, name: &str) -> Option<String> {
    url::form_urlencoded::parse(query.as_bytes())
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.into_owned())
}

/// The `per_page` a request asks, when it is a number.
pub(crate) fn requested_per_page(query: &str) -> Option<usize> {
    query_param(query, "per_page").and_then(|v| v.trim().parse::<usize>().ok())
}

/// Reads `page` and `per_page`; `honoured == false` forces 30 per page.
pub(crate) fn page_request(query: &str, honoured: bool, max_per_page: usize) -> PageRequest {
    let number = |name| {
        query_param(query, name)
            .and_then(|v| v.trim().parse::<usize>().ok())
            .filter(|n| *n > 0)
    };
    let per_page = match number("per_page") {
        Some(n) if honoured => n.min(max_per_page.max(1)),
        _ => DEFAULT_PER_PAGE,
    };
    PageRequest {
        page: number("page").unwrap_or(1),
        per_page,
    }
}

/// One page of a listing (or the whole of a non-paged one).
fn render(listing: &Listing, page: PageRequest) -> Value {
    let items: &[Value] = if listing.paged {
        let start = (page.page - 1).saturating_mul(page.per_page);
        let end = start.saturating_add(page.per_page).min(listing.items.len());
        listing.items.get(start..end).unwrap_or(&[])
    } else {
        &listing.items
    };
    if listing.paged && page.page > 1 && items.is_empty() {
        return final_page();
    }
    let mut embedded = serde_json::Map::new();
    embedded.insert(listing.key.clone(), Value::Array(items.to_vec()));
    json!({"_links": {"self": {"href": listing.self_href}}, "_embedded": embedded})
}

/// Mode's optional pagination metadata for a list of `total` items: the
/// spec's `pagination {first_page, last_page, total_pages, total_count}` (an
/// empty list has one, empty, page) and `_links.next_page` / `prev_page`
/// (the same path and parameters with another `page`) where such a page
/// exists.
pub(crate) fn paginate(body: &mut Value, total: usize, page: PageRequest, links: PageLinks) {
    let pages = total.div_ceil(page.per_page.max(1)).max(1);
    let Some(map) = body.as_object_mut() else {
        return;
    };
    map.insert(
        "pagination".into(),
        json!({"first_page": 1, "last_page": pages, "total_pages": pages, "total_count": total}),
    );
    let mut extra = Vec::new();
    if page.page < pages {
        extra.push(("next_page", page.page + 1));
    }
    if page.page > 1 {
        extra.push(("prev_page", (page.page - 1).min(pages)));
    }
    let Some(hal) = map.get_mut("_links").and_then(Value::as_object_mut) else {
        return;
    };
    for (name, number) in extra {
        let href = page_href(links, number, page.per_page);
        hal.insert(name.into(), json!({"href": href}));
    }
}

/// `path?…&page=N&per_page=P`, the request's other parameters kept.
fn page_href(links: PageLinks, number: usize, per_page: usize) -> String {
    let mut out = url::form_urlencoded::Serializer::new(String::new());
    let kept = url::form_urlencoded::parse(links.query.as_bytes())
        .filter(|(key, _)| key != "page" && key != "per_page");
    for (key, value) in kept {
        out.append_pair(&key, &value);
    }
    out.append_pair("page", &number.to_string());
    if per_page != usize::MAX {
        out.append_pair("per_page", &per_page.to_string());
    }
    format!("{}?{}", links.path, out.finish())
}

/// The answer past the last page, as recorded in DataHub's `final_page.json`.
pub(crate) fn final_page() -> Value {
    json!({"_links": {"self": {"href": ""}}, "_embedded": {}})
}

#[cfg(test)]
mod tests {
    use super::*;

    fn listing(n: usize) -> Listing {
        Listing {
            key: "reports".into(),
            self_href: "/x".into(),
            items: (0..n).map(|i| json!(i)).collect(),
            paged: true,
        }
    }

    #[test]
    fn pages_split_and_end_with_the_final_page() {
        let page = |page, per_page| PageRequest { page, per_page };
        let first = render(&listing(31), page(1, 30));
        assert_eq!(
            first["_embedded"]["reports"].as_array().map(Vec::len),
            Some(30)
        );
        let second = render(&listing(31), page(2, 30));
        assert_eq!(second["_embedded"]["reports"], json!([30]));
        assert_eq!(render(&listing(31), page(3, 30)), final_page());
        assert_eq!(
            render(&listing(0), page(1, 30))["_embedded"]["reports"],
            json!([])
        );
        assert_eq!(render(&listing(5), page(usize::MAX, 30)), final_page());
    }

    #[test]
    fn page_parameters() {
        let p = page_request("page=2&per_page=5000", true, 1000);
        assert_eq!((p.page, p.per_page), (2, 1000));
        let p = page_request("per_page=5", false, 1000);
        assert_eq!((p.page, p.per_page), (1, 30));
        let p = page_request("page=zero&per_page=0", true, 1000);
        assert_eq!((p.page, p.per_page), (1, 30));
    }
}
