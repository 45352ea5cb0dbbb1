//! A deliberately broken Mode API (`SandboxConfig::hostile`), to prove that a
//! client never turns a broken server into a silent "complete" run, unbounded
//! memory, an endless stall or a leaked secret.
//!
//! Each kind breaks one list, the *target*: with [`HostileScope::Items`] (the
//! default) the report listing of the collection with the most reports
//! (`/api/{ws}/spaces/{s}/reports`, an item-level list; more than 100 reports
//! from 200 reports up, so several pages at 30); with
//! [`HostileScope::Workspace`] the collections list (`/api/{ws}/spaces`, any
//! `filter`; the later-page kinds need more than `per_page` collections).
//! Every other request is answered faithfully, except that
//! [`Hostile::EchoCredentials`] echoes credentials in every error body.
//! A hostile answer replaces the real one after authentication, the rate
//! limiter, injected faults and `forbidden`.
//!
//! Bounded on the sandbox side: endless pages are made one page at a time and
//! never stored; endless bodies stream one shared 64 KiB chunk and stop (the
//! connection is dropped) after [`ENDLESS_CAP_BYTES`] or [`ENDLESS_CAP_TIME`],
//! so a client that never stops reading cannot run a test away.

use std::str::FromStr;
use std::sync::LazyLock;
use std::time::{Duration, Instant};

use axum::body::{Body, Bytes};
use axum::http::{HeaderValue, Version, header};
use axum::response::Response;
use serde_json::{Map, Value, json};

use super::respond::{self, HAL_JSON};
use super::route::Route;
use super::store::{PageLinks, PageRequest, Store};
use super::truth::Truth;

/// An endless body stops after this many bytes (1 GiB)…
pub const ENDLESS_CAP_BYTES: u64 = 1 << 30;
/// …or after this long, whichever comes first.
pub const ENDLESS_CAP_TIME: Duration = Duration::from_secs(120);
/// The `Content-Length` announced by [`Hostile::HugeContentLength`] (5 GB).
pub const HUGE_CONTENT_LENGTH: u64 = 5_000_000_000;
/// How many items [`Hostile::ShortTotal`]'s `total_count` claims beyond those served.
pub const SHORT_TOTAL_MISSING: usize = 10;

/// One way of being a broken Mode API. Names (for `--hostile`) in brackets;
/// "the target" is the list [`HostileScope`] names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hostile {
    /// (`embedded-null`) every page of the target: `"_embedded": null`.
    EmbeddedNull,
    /// (`embedded-object`) every page of the target: the item list is an
    /// object keyed by item token, `"_embedded": {"reports": {"tok": {…}}}`.
    EmbeddedObject,
    /// (`bare-array`) every page of the target is a top-level array of its items.
    BareArray,
    /// (`later-page-403`) page ≥ 2 of the target answers 403 `forbidden`.
    LaterPage403,
    /// (`later-page-404`) page ≥ 2 of the target answers 404 `not_found`.
    LaterPage404,
    /// (`repeat-page`) page ≥ 2 of the target repeats page 1 exactly (page 1
    /// is full when the target has more than `per_page` items).
    RepeatPage,
    /// (`endless-pages`) every page of the target brings `per_page` new items
    /// (copies of its first item with fresh tokens, ids and names), forever.
    EndlessPages,
    /// (`short-total`) every page of the target carries Mode's `pagination`
    /// object claiming [`SHORT_TOTAL_MISSING`] more items than are served.
    ShortTotal,
    /// (`huge-content-length`) the target announces `Content-Length:`
    /// [`HUGE_CONTENT_LENGTH`], sends its small real body, then the
    /// connection closes.
    HugeContentLength,
    /// (`endless-chunked`) the target answers 200 with a chunked body that
    /// never ends (a HAL list whose item array goes on).
    EndlessChunked,
    /// (`endless-until-close`) the same body with no length at all
    /// (HTTP/1.0-style, delimited by closing the connection, which never comes).
    EndlessUntilClose,
    /// (`retry-after-huge`) the target answers 429 `rate_limited` with
    /// `Retry-After: 100000` (27.8 hours).
    RetryAfterHuge,
    /// (`retry-after-overflow`) the target answers 429 `rate_limited` with
    /// `Retry-After: 9300000000000000000` (beyond any clock).
    RetryAfterOverflow,
    /// (`echo-credentials`) the target answers 400 `bad_request`, and every
    /// error body of the Mode side (401, 403, 404, 429…) gets the request's
    /// `Authorization` header, in full, appended to its `message`.
    EchoCredentials,
}

impl Hostile {
    /// Every kind, in the order documented.
    pub const ALL: [Hostile; 14] = [
        Hostile::EmbeddedNull,
        Hostile::EmbeddedObject,
        Hostile::BareArray,
        Hostile::LaterPage403,
        Hostile::LaterPage404,
        Hostile::RepeatPage,
        Hostile::EndlessPages,
        Hostile::ShortTotal,
        Hostile::HugeContentLength,
        Hostile::EndlessChunked,
        Hostile::EndlessUntilClose,
        Hostile::RetryAfterHuge,
        Hostile::RetryAfterOverflow,
        Hostile::EchoCredentials,
    ];

    /// The kebab-case name `--hostile` takes.
    pub fn name(self) -> &'static str {
        match self {
            Hostile::EmbeddedNull => "embedded-null",
            Hostile::EmbeddedObject => "embedded-object",
            Hostile::BareArray => "bare-array",
            Hostile::LaterPage403 => "later-page-403",
            Hostile::LaterPage404 => "later-page-404",
            Hostile::RepeatPage => "repeat-page",
            Hostile::EndlessPages => "endless-pages",
            Hostile::ShortTotal => "short-total",
            Hostile::HugeContentLength => "huge-content-length",
            Hostile::EndlessChunked => "endless-chunked",
            Hostile::EndlessUntilClose => "endless-until-close",
            Hostile::RetryAfterHuge => "retry-after-huge",
            Hostile::RetryAfterOverflow => "retry-after-overflow",
            Hostile::EchoCredentials => "echo-credentials",
        }
    }
}

impl FromStr for Hostile {
    type Err = String;

    /// Parses a [`Hostile::name`]; errors list every valid name.
    fn from_str(value: &str) -> Result<Self, String> {
        let found = Hostile::ALL.into_iter().find(|k| k.name() == value.trim());
        found.ok_or_else(|| {
            let names: Vec<&str> = Hostile::ALL.iter().map(|k| k.name()).collect();
            format!("'{value}' is not a hostile kind ({})", names.join(", "))
        })
    }
}

/// Which list a [`Hostile`] kind breaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum HostileScope {
    /// The report listing of the collection with the most reports (ties: the
    /// first in `spaces`): an item-level list.
    #[default]
    Items,
    /// The collections list `/api/{ws}/spaces`: a workspace-level list.
    Workspace,
}

impl FromStr for HostileScope {
    type Err = String;

    /// `items` or `workspace`.
    fn from_str(value: &str) -> Result<Self, String> {
        match value.trim() {
            "items" => Ok(HostileScope::Items),
            "workspace" => Ok(HostileScope::Workspace),
            other => Err(format!("'{other}' is not one of items, workspace")),
        }
    }
}

/// The collection whose report listing is the [`HostileScope::Items`] target.
pub(crate) fn target_space(truth: &Truth) -> Option<&str> {
    let counts = truth.spaces.iter().filter_map(|s| s["token"].as_str());
    let counts = counts.map(|t| (t, truth.reports_in(t).len()));
    // `max_by_key` keeps the last maximum; reversing keeps the first.
    let rev: Vec<(&str, usize)> = counts.collect::<Vec<_>>().into_iter().rev().collect();
    rev.into_iter().max_by_key(|(_, n)| *n).map(|(t, _)| t)
}

/// Whether `route` is the target of `scope`; `space` is [`target_space`].
pub(crate) fn is_target(scope: HostileScope, route: &Route, space: Option<&str>) -> bool {
    match (scope, route) {
        (HostileScope::Items, Route::Reports { space: s, .. }) => space == Some(s.as_str()),
        (HostileScope::Workspace, Route::Spaces { .. }) => true,
        _ => false,
    }
}

/// One request to the target, as the hostile answer needs it.
pub(crate) struct Target<'a> {
    pub(crate) store: &'a Store,
    pub(crate) route: &'a Route,
    pub(crate) query: &'a str,
    pub(crate) page: PageRequest,
    pub(crate) links: Option<PageLinks<'a>>,
    pub(crate) authorization: &'a str,
}

impl Target<'_> {
    fn body(&self, page: PageRequest) -> Value {
        let body = self.store.answer(self.route, self.query, page, self.links);
        body.unwrap_or_else(super::store::final_page)
    }

    fn key(&self) -> &'static str {
        match self.route {
            Route::Spaces { .. } => "spaces",
            _ => "reports",
        }
    }
}

/// The hostile answer of `kind` to a request of its target; `None` when this
/// request is answered faithfully (page 1 of the later-page kinds).
pub(crate) fn answer(kind: Hostile, t: &Target) -> Option<Response> {
    let ok = |body: &Value| respond::json_response(200, HAL_JSON, body);
    let response = match kind {
        Hostile::EmbeddedNull => {
            let mut body = t.body(t.page);
            body["_embedded"] = Value::Null;
            ok(&body)
        }
        Hostile::EmbeddedObject => ok(&embedded_object(t.body(t.page), t.key())),
        Hostile::BareArray => {
            let body = t.body(t.page);
            let items = body["_embedded"][t.key()].clone();
            ok(&(if items.is_array() { items } else { json!([]) }))
        }
        Hostile::LaterPage403 | Hostile::LaterPage404 if t.page.page < 2 => return None,
        Hostile::LaterPage403 => respond::mode_error(403, "forbidden", "Forbidden"),
        Hostile::LaterPage404 => respond::mode_error(404, "not_found", "Not found"),
        Hostile::RepeatPage => ok(&t.body(PageRequest { page: 1, ..t.page })),
        Hostile::EndlessPages => ok(&endless_page(t)),
        Hostile::ShortTotal => ok(&short_total(t)),
        Hostile::HugeContentLength => huge_content_length(&t.body(t.page)),
        Hostile::EndlessChunked => endless(t.key(), false),
        Hostile::EndlessUntilClose => endless(t.key(), true),
        Hostile::RetryAfterHuge => too_many("100000"),
        Hostile::RetryAfterOverflow => too_many("9300000000000000000"),
        Hostile::EchoCredentials => {
            let message = format!("Bad request: Authorization: {}", t.authorization);
            respond::mode_error(400, "bad_request", &message)
        }
    };
    Some(response)
}

fn embedded_object(mut body: Value, key: &str) -> Value {
    let items = body["_embedded"][key]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let object: Map<String, Value> = items
        .into_iter()
        .enumerate()
        .map(|(i, item)| {
            let token = item["token"].as_str().map_or(i.to_string(), str::to_owned);
            (token, item)
        })
        .collect();
    body["_embedded"] = json!({ key: object });
    body
}

/// Page `page` of a list that never ends: copies of the target's first item
/// (or a bare object) with tokens, ids and names unique per (page, index).
fn endless_page(t: &Target) -> Value {
    let template = t
        .store
        .items(t.route, t.query)
        .and_then(|items| items.first().cloned())
        .unwrap_or_else(|| json!({}));
    let page = t.page.page;
    let items: Vec<Value> = (0..t.page.per_page)
        .map(|i| {
            let mut item = template.clone();
            item["token"] = json!(format!("e{page:07x}{i:04x}"));
            item["id"] = json!(page.saturating_mul(10_000).saturating_add(i));
            item["name"] = json!(format!("Endless page {page} item {i}"));
            item
        })
        .collect();
    json!({"_links": {"self": {"href": ""}}, "_embedded": {t.key(): items}})
}

fn short_total(t: &Target) -> Value {
    let mut body = t.body(t.page);
    let served = t.store.items(t.route, t.query).map_or(0, <[Value]>::len);
    let claimed = served + SHORT_TOTAL_MISSING;
    let pages = claimed.div_ceil(t.page.per_page.max(1)).max(1);
    if let Some(map) = body.as_object_mut() {
        let pagination = json!({"first_page": 1, "last_page": pages, "total_pages": pages, "total_count": claimed});
        map.insert("pagination".into(), pagination);
    }
    body
}

fn too_many(retry_after: &str) -> Response {
    let mut response = respond::mode_error(429, "rate_limited", "Rate limit exceeded");
    respond::set_header(&mut response, "retry-after", retry_after);
    response
}

/// The real (small) body under a 5 GB `Content-Length`, then a dropped
/// connection.
fn huge_content_length(body: &Value) -> Response {
    let bytes = Bytes::from(serde_json::to_vec(body).unwrap_or_default());
    let mut response = respond::cut_stream(bytes);
    response
        .headers_mut()
        .insert(header::CONTENT_LENGTH, HUGE_CONTENT_LENGTH.into());
    response
}

/// 64 KiB of list items, shared by every endless body.
static CHUNK: LazyLock<Bytes> = LazyLock::new(|| {
    let item = br#"{"token":"endless00000","name":"endless body","_links":{}},"#;
    let copies = (64 * 1024) / item.len();
    Bytes::from(item.repeat(copies))
});

/// A 200 HAL body that never ends: chunked, or (`until_close`) HTTP/1.0-style
/// with no length, delimited only by a close that never comes. Stops after
/// [`ENDLESS_CAP_BYTES`] or [`ENDLESS_CAP_TIME`] by dropping the connection.
fn endless(key: &str, until_close: bool) -> Response {
    let head = Bytes::from(format!(
        r#"{{"_links":{{"self":{{"href":""}}}},"_embedded":{{"{key}":["#
    ));
    let started = Instant::now();
    // State: bytes sent so far, `None` once the cap ended the body.
    let chunks = futures::stream::unfold(Some(0u64), move |sent| {
        let head = head.clone();
        async move {
            let sent = sent?;
            if sent == 0 {
                return Some((Ok::<Bytes, std::io::Error>(head), Some(1)));
            }
            if sent >= ENDLESS_CAP_BYTES || started.elapsed() >= ENDLESS_CAP_TIME {
                let cap = std::io::Error::other("sandbox: endless body capped");
                return Some((Err(cap), None));
            }
            let chunk = CHUNK.clone();
            let sent = sent + chunk.len() as u64;
            Some((Ok(chunk), Some(sent)))
        }
    });
    let mut response = Response::new(Body::from_stream(chunks));
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(HAL_JSON));
    if until_close {
        *response.version_mut() = Version::HTTP_10;
        response
            .headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    response
}

/// `message` with ` (request Authorization: …)` appended, for
/// [`Hostile::EchoCredentials`]: the error body of `response` rewritten.
pub(crate) async fn echo(response: Response, authorization: &str) -> Response {
    let (parts, body) = response.into_parts();
    let bytes = axum::body::to_bytes(body, 1 << 20)
        .await
        .unwrap_or_default();
    let mut value: Value = serde_json::from_slice(&bytes).unwrap_or_else(|_| json!({}));
    let message = value["message"].as_str().unwrap_or_default().to_owned();
    value["message"] = json!(format!(
        "{message} (request Authorization: {authorization})"
    ));
    let body = Body::from(serde_json::to_vec(&value).unwrap_or_default());
    let mut response = Response::from_parts(parts, body);
    response.headers_mut().remove(header::CONTENT_LENGTH);
    response
}
