//! The Mode side: `/api/…` with HTTP basic auth, the rate limiter, faults,
//! 403/404 errors and HAL answers.
//!
//! Order of checks, as a request meets them: latency; basic auth (401);
//! rate limit (429, refused requests not counted); injected fault; `forbidden`
//! (403 on workspace-level calls); `/api/account` with a Workspace API token
//! (400); a hostile answer on its target; unknown workspace or resource
//! (404); the answer. Every request is counted in [`Stats`](super::Stats); only those
//! past auth and the limiter count in `max_in_window` and in the fault script.

use std::sync::Arc;
use std::time::Instant;

use axum::http::{HeaderMap, header};
use axum::response::Response;
use base64_decode::decode_basic;

use super::config::TokenKind;
use super::faults::FaultKind;
use super::hostile::{self, Hostile, Target};
use super::limiter::Verdict;
use super::respond::{self, ConnKill, HAL_JSON};
use super::route::Route;
use super::state::{Shared, Side, lock};
use super::stats::StatsState;
use super::store::{PageLinks, page_request, requested_per_page};

/// Mode's answer to `GET /api/account` with a Workspace API token.
pub(crate) const API_KEY_ACCOUNT_MESSAGE: &str =
    "This endpoint is unsupported for use with Api Keys";

/// One `/api` request as the answer needs it.
struct Request<'a> {
    route: Route,
    path: &'a str,
    query: &'a str,
    /// The `Authorization` header as sent (for `echo-credentials`).
    authorization: String,
}

/// Answers one `/api` request.
pub(crate) async fn handle(
    shared: Arc<Shared>,
    path: &str,
    query: &str,
    headers: &HeaderMap,
    kill: ConnKill,
) -> Response {
    let route = Route::parse(path);
    let kind = route.kind(&shared.served().store.workspace);
    shared.stats_mut(|s| s.api_request(kind, path));
    tokio::time::sleep(shared.config.latency).await;
    let authorization = headers
        .get(header::AUTHORIZATION)
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
        .unwrap_or_default();
    let request = Request {
        route,
        path,
        query,
        authorization,
    };
    let response = match gate(&shared, headers) {
        Ok(rate_headers) => {
            let mut response = faulted(&shared, &request, kill).await;
            if let Some((limit, remaining)) = rate_headers {
                respond::set_header(&mut response, "x-ratelimit-limit", &limit.to_string());
                respond::set_header(
                    &mut response,
                    "x-ratelimit-remaining",
                    &remaining.to_string(),
                );
            }
            response
        }
        Err(refusal) => *refusal,
    };
    let echo = shared.config.hostile == Some(Hostile::EchoCredentials);
    let response = match echo && response.status().as_u16() >= 400 {
        true => hostile::echo(response, &request.authorization).await,
        false => response,
    };
    let status = response.status().as_u16();
    shared.stats_mut(|s| s.api_status(status));
    tracing::debug!(path, status, "mode api");
    response
}

/// Authentication and the rate limiter. `Ok` carries the rate-limit header
/// values when a limit is configured.
fn gate(shared: &Shared, headers: &HeaderMap) -> Result<Option<(u32, u32)>, Box<Response>> {
    let config = &shared.config;
    let user = match decode_basic(headers.get(header::AUTHORIZATION)) {
        Some((user, secret)) if user == config.token && secret == config.secret => user,
        _ => {
            let message = "Unauthorized: a valid API token and secret are required";
            return Err(Box::new(respond::mode_error(401, "unauthorized", message)));
        }
    };
    let now = Instant::now();
    let verdict = shared.limiter.as_ref().map(|l| lock(l).check(&user, now));
    match verdict {
        Some(Verdict::Limited { limit, retry_after }) => {
            shared.stats_mut(StatsState::rate_limited);
            Err(Box::new(rate_limited(limit, retry_after)))
        }
        Some(Verdict::Accepted { limit, remaining }) => {
            shared.stats_mut(|s| s.api_accepted(now));
            Ok(Some((limit, remaining)))
        }
        None => {
            shared.stats_mut(|s| s.api_accepted(now));
            Ok(None)
        }
    }
}

fn rate_limited(limit: u32, retry_after: Option<String>) -> Response {
    let message = "Rate limit exceeded; retry later";
    let mut response = respond::mode_error(429, "rate_limited", message);
    respond::set_header(&mut response, "x-ratelimit-limit", &limit.to_string());
    respond::set_header(&mut response, "x-ratelimit-remaining", "0");
    if let Some(value) = retry_after {
        respond::set_header(&mut response, "retry-after", &value);
    }
    response
}

/// Applies this request's fault, if any, around the real answer.
async fn faulted(shared: &Shared, request: &Request<'_>, kill: ConnKill) -> Response {
    let (fault, stall) = shared.next_fault(Side::Mode);
    match fault {
        None => answer(shared, request),
        Some(FaultKind::Status(status)) => {
            respond::fault_status(status, true, shared.fault_retry_after())
        }
        Some(FaultKind::Stall) => {
            tokio::time::sleep(stall).await;
            answer(shared, request)
        }
        Some(FaultKind::DropMidBody) => respond::cut_body(answer(shared, request)).await,
        Some(FaultKind::DropAfterStore) => {
            shared.stats_mut(|s| s.api_status(0));
            kill.close_without_answer().await
        }
    }
}

/// The real answer: 403, 400, a hostile one, 404 or the HAL body.
fn answer(shared: &Shared, request: &Request<'_>) -> Response {
    let (route, query) = (&request.route, request.query);
    let served = shared.served();
    let store = &served.store;
    let workspace_level = match route {
        Route::Named(name) => *name == store.workspace,
        other => other.workspace().is_some(),
    };
    if shared.config.forbidden && workspace_level {
        let message = "Forbidden: this token may not access the workspace";
        return respond::mode_error(403, "forbidden", message);
    }
    if store.is_forbidden(route, query) {
        let message = "Forbidden: this token may not read this resource";
        return respond::mode_error(403, "forbidden", message);
    }
    let config = &shared.config;
    if *route == Route::Account && config.token_kind == TokenKind::Workspace {
        return respond::mode_error(400, "bad_request", API_KEY_ACCOUNT_MESSAGE);
    }
    if config.refuse_large_per_page
        && requested_per_page(query).is_some_and(|n| n > config.max_per_page)
    {
        let message = format!("per_page must be between 1 and {}", config.max_per_page);
        return respond::mode_error(400, "bad_request", &message);
    }
    let page = page_request(query, config.per_page_honoured, config.max_per_page);
    let links = config.pagination_links.then_some(PageLinks {
        path: request.path,
        query,
    });
    let same_workspace = route.workspace().is_none_or(|ws| ws == store.workspace);
    if let Some(kind) = config.hostile.filter(|_| same_workspace)
        && hostile::is_target(config.hostile_scope, route, served.hostile_space.as_deref())
    {
        let target = Target {
            store,
            route,
            query,
            page,
            links,
            authorization: &request.authorization,
        };
        if let Some(response) = hostile::answer(kind, &target) {
            return response;
        }
    }
    let body = match same_workspace {
        false => None,
        true => store.answer(route, query, page, links),
    };
    match body {
        Some(body) => respond::json_response(200, HAL_JSON, &body),
        None => respond::mode_error(404, "not_found", "The requested resource was not found"),
    }
}

/// Decoding of `Authorization: Basic …`.
mod base64_decode {
    use axum::http::HeaderValue;
    use base64::Engine;

    /// `(user, password)` of a basic `Authorization` header, if well formed.
    pub(crate) fn decode_basic(value: Option<&HeaderValue>) -> Option<(String, String)> {
        let text = value?.to_str().ok()?;
        let (scheme, encoded) = text.trim().split_once(' ')?;
        if !scheme.eq_ignore_ascii_case("basic") {
            return None;
        }
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(encoded.trim())
            .ok()?;
        let pair = String::from_utf8(bytes).ok()?;
        let (user, password) = pair.split_once(':')?;
        Some((user.to_owned(), password.to_owned()))
    }
}
