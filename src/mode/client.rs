//! The Mode API client: basic auth, timeouts, pacing, bounded concurrency and
//! retries on every request.
//!
//! Every GET goes through [`ModeClient::get`]:
//! 1. wait for a concurrency slot, then for the [`Pacer`] (Mode's 40 req/10 s);
//! 2. send with HTTP basic auth (token, secret), `Accept: application/hal+json`,
//!    and read the body within the total timeout and the body cap;
//! 3. on 429 (or Mode's `{"id":"rate_limited"}` body), 5xx, timeouts, resets
//!    and bodies cut short: retry through [`with_retries`], honouring
//!    `Retry-After`; a 429 also pauses the pacer so the other in-flight tasks
//!    back off too;
//! 4. on 401: stop the run ([`Error::Unauthorized`]); on 403 and 404, [`Scope`]
//!    decides: for a workspace-level list the run stops ([`Error::Forbidden`],
//!    [`Error::WorkspaceNotFound`]); for one item the caller gets [`Gone`] and
//!    records an item problem (Mode answers 403, not 404, for a collection
//!    deleted a moment ago, and member tokens may not see every report).

use std::sync::Arc;

use reqwest::header::{ACCEPT, HeaderMap, HeaderValue};
use reqwest::{StatusCode, Url};
use secrecy::{ExposeSecret, SecretString};
use serde_json::Value;
use tokio::sync::Semaphore;

use super::counters::ApiCounters;
use super::page_sizes::PageSizes;
use super::settings::ClientSettings;
use crate::error::{Error, Result};
use crate::http::body::{BodyError, read_capped};
use crate::http::pace::Pacer;
use crate::http::redact::Redactor;
use crate::http::retry::{Attempt, Verdict, judge, retry_after_header, with_retries};
use crate::http::{RetryPolicy, client_builder};

/// What a 403 or 404 means for a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// A workspace-level list (`/api/{ws}/…`): 404 means the workspace is
    /// unknown, 403 that the token may not read it; both end the run.
    Workspace,
    /// One item (a report's queries, a user…): 404 or 403 means it is gone or
    /// hidden from this token; the caller gets [`Gone`].
    Item,
}

/// Why an item, or the rest of an item's list, could not be fetched
/// ([`Scope::Item`] only). The caller records it as an item problem.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Gone {
    /// HTTP 404: deleted between listing and fetch.
    NotFound,
    /// HTTP 403: deleted a moment ago (Mode answers 403 then) or not visible to this token.
    Forbidden,
    /// The body is not the shape Mode sends, after every retry.
    Malformed(String),
    /// A list ended early: the items before the cut were delivered.
    Cut(Cut),
}

/// How a paged list ended before Mode's normal last page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cut {
    /// The page where it ended (1-based).
    pub page: u32,
    /// Items delivered before the cut.
    pub items: usize,
    /// Why.
    pub why: String,
}

impl std::fmt::Display for Gone {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Gone::NotFound => f.write_str("deleted between listing and fetch (HTTP 404)"),
            Gone::Forbidden => f.write_str("deleted or not accessible to this token (HTTP 403)"),
            Gone::Malformed(why) => write!(f, "answered a body Mode does not send ({why})"),
            Gone::Cut(cut) => write!(
                f,
                "list cut short at page {} ({}); the {} item(s) before it are kept",
                cut.page, cut.why, cut.items
            ),
        }
    }
}

/// An item's body, or why it is gone.
pub type Fetched<T> = std::result::Result<T, Gone>;

/// A Mode API client for one workspace; cheap to clone.
#[derive(Clone)]
pub struct ModeClient {
    inner: Arc<Inner>,
}

struct Inner {
    http: reqwest::Client,
    api: Url,
    workspace: String,
    token: SecretString,
    secret: SecretString,
    redactor: Redactor,
    pacer: Pacer,
    slots: Semaphore,
    retry: RetryPolicy,
    max_body: u64,
    counters: Arc<ApiCounters>,
    page_sizes: PageSizes,
}

/// What Mode's message on a 401 adds: where a new token comes from.
pub const UNAUTHORIZED_HINT: &str = "the token or secret is wrong, or the token expired or was \
rotated (Mode's Workspace and Member tokens expire after 90 days by default): create a new one \
in Mode (Workspace Settings > API Tokens for a Workspace token, or My Account > API Tokens for \
a Member token) and update CASTOR_MODE_ANALYTICS_TOKEN and CASTOR_MODE_ANALYTICS_SECRET";

impl ModeClient {
    /// Builds the client from its settings.
    ///
    /// # Errors
    /// [`Error::Internal`] when the TLS stack cannot be initialised;
    /// [`Error::Config`] when the host cannot be a base URL.
    pub fn new(settings: &ClientSettings) -> Result<Self> {
        let mut headers = HeaderMap::new();
        headers.insert(ACCEPT, HeaderValue::from_static("application/hal+json"));
        let http = client_builder(settings.timeouts, &settings.host)
            .default_headers(headers)
            .build()
            .map_err(|e| Error::Internal(format!("cannot build the HTTP client: {e}")))?;
        let mut api = settings.host.clone();
        api.path_segments_mut()
            .map_err(|()| Error::Config(format!("{}: cannot be a base URL", settings.host)))?
            .pop_if_empty()
            .push("api");
        let creds = &settings.credentials;
        Ok(ModeClient {
            inner: Arc::new(Inner {
                http,
                api,
                workspace: settings.workspace.clone(),
                token: creds.token.clone(),
                secret: creds.secret.clone(),
                redactor: Redactor::default().with_basic(&creds.token, &creds.secret),
                pacer: Pacer::new(settings.rate_limit),
                slots: Semaphore::new(settings.concurrency.max(1)),
                retry: settings.retry,
                max_body: settings.max_body_bytes,
                counters: settings.counters.clone(),
                page_sizes: PageSizes::default(),
            }),
        })
    }

    /// The workspace username.
    pub fn workspace(&self) -> &str {
        &self.inner.workspace
    }

    /// The run's request counters.
    pub fn counters(&self) -> &ApiCounters {
        &self.inner.counters
    }

    /// The page sizes Mode has served this client, which settle when a short
    /// page is the last ([`super::page_sizes`]).
    pub fn page_sizes(&self) -> &PageSizes {
        &self.inner.page_sizes
    }

    /// The pace in force, in requests per second (for progress lines).
    pub fn requests_per_second(&self) -> f64 {
        let limit = self.inner.pacer.limit();
        f64::from(limit.requests.get()) / limit.window.as_secs_f64().max(1e-9)
    }

    /// `{host}/api/{segments…}?{query}`, each segment percent-encoded.
    pub fn url(&self, segments: &[&str], query: &[(&str, String)]) -> Url {
        let mut url = self.inner.api.clone();
        if let Ok(mut path) = url.path_segments_mut() {
            path.extend(segments);
        }
        if !query.is_empty() {
            url.query_pairs_mut()
                .extend_pairs(query.iter().map(|(k, v)| (*k, v.as_str())));
        }
        url
    }

    /// `{host}/api/{workspace}/{segments…}?{query}`: a workspace-scoped URL.
    pub fn workspace_url(&self, segments: &[&str], query: &[(&str, String)]) -> Url {
        let mut all = Vec::with_capacity(segments.len() + 1);
        all.push(self.inner.workspace.as_str());
        all.extend_from_slice(segments);
        self.url(&all, query)
    }

    /// Resolves a HAL `href` (e.g. `_links.next_page`) against the API host;
    /// `None` when it points at another origin (credentials never go there).
    pub fn resolve_href(&self, href: &str) -> Option<Url> {
        let url = self.inner.api.join(href).ok()?;
        (url.origin() == self.inner.api.origin()).then_some(url)
    }

    /// GETs a JSON document, retrying transient failures.
    ///
    /// Returns `Ok(Err(Gone))` for a 403 or 404 in [`Scope::Item`].
    ///
    /// # Errors
    /// [`Error::Unauthorized`], [`Error::Forbidden`] and [`Error::WorkspaceNotFound`]
    /// (403 and 404 in [`Scope::Workspace`]), [`Error::Unreachable`] (transport
    /// failures after every retry, or a TLS/protocol error at once),
    /// [`Error::Http`] (other statuses, transient ones after every retry, or a
    /// `Retry-After` past the cap), [`Error::Decode`] (a 2xx body that is not
    /// JSON after every retry, or a body over the size cap).
    pub async fn get(&self, url: Url, scope: Scope) -> Result<Fetched<Value>> {
        self.get_parsed(url, scope, Ok).await
    }

    /// [`ModeClient::get`], with the JSON checked by `parse`: a body `parse`
    /// refuses is retried like a body cut short, then, in [`Scope::Item`],
    /// returned as [`Gone::Malformed`] (an item problem) and, in
    /// [`Scope::Workspace`], as [`Error::Decode`] (fatal).
    ///
    /// # Errors
    /// Those of [`ModeClient::get`].
    pub async fn get_parsed<T>(
        &self,
        url: Url,
        scope: Scope,
        parse: impl Fn(Value) -> std::result::Result<T, String>,
    ) -> Result<Fetched<T>> {
        let what = format!("GET {url}");
        let retries = &self.inner.counters.retries;
        let (url, parse) = (&url, &parse);
        let outcome = with_retries(&self.inner.retry, &what, retries, |n| async move {
            match self.attempt(url, scope, n).await {
                Attempt::Done(Ok(json)) => match parse(json) {
                    Ok(value) => Attempt::Done(Ok(value)),
                    Err(why) => Attempt::Retry {
                        reason: format!("unexpected body: {why}"),
                        retry_after: None,
                        error: Error::Decode {
                            url: url.to_string(),
                            reason: why,
                        },
                    },
                },
                Attempt::Done(Err(gone)) => Attempt::Done(Err(gone)),
                Attempt::Retry {
                    reason,
                    retry_after,
                    error,
                } => Attempt::Retry {
                    reason,
                    retry_after,
                    error,
                },
                Attempt::Fatal(e) => Attempt::Fatal(e),
            }
        })
        .await;
        match outcome {
            Err(Error::Decode { reason, .. }) if scope == Scope::Item => {
                Ok(Err(Gone::Malformed(reason)))
            }
            other => other,
        }
    }

    /// One request: slot, pace, send, read the body, judge.
    async fn attempt(&self, url: &Url, scope: Scope, number: u32) -> Attempt<Fetched<Value>> {
        let inner = &self.inner;
        let Ok(_slot) = inner.slots.acquire().await else {
            return Attempt::Fatal(Error::Internal("the client was closed".into()));
        };
        let ours = inner.pacer.acquire().await;
        ApiCounters::bump(&inner.counters.calls);
        tracing::trace!(%url, "GET");
        let sent = inner
            .http
            .get(url.clone())
            .basic_auth(
                inner.token.expose_secret(),
                Some(inner.secret.expose_secret()),
            )
            .send()
            .await;
        let response = match sent {
            Ok(r) => r,
            Err(e) => return Attempt::transport(url, number, &e, &self.inner.redactor),
        };
        let status = response.status();
        self.observe_rate_headers(response.headers(), ours);
        let retry_after = retry_after_header(response.headers());
        let body = match read_capped(response, inner.max_body).await {
            Ok(b) => b,
            Err(BodyError::Transport(e)) => {
                return Attempt::transport(url, number, &e, &self.inner.redactor);
            }
            Err(BodyError::TooLarge { limit }) => {
                return Attempt::Fatal(Error::Decode {
                    url: url.to_string(),
                    reason: format!("the body is larger than the {limit}-byte cap (--max-body)"),
                });
            }
        };
        self.judge(url, scope, number, status, retry_after, &body)
    }

    fn judge(
        &self,
        url: &Url,
        scope: Scope,
        number: u32,
        status: StatusCode,
        retry_after: Option<std::time::Duration>,
        body: &[u8],
    ) -> Attempt<Fetched<Value>> {
        let error = mode_error(body);
        let rate_limited =
            status == StatusCode::TOO_MANY_REQUESTS || error.id.as_deref() == Some("rate_limited");
        if rate_limited {
            ApiCounters::bump(&self.inner.counters.rate_limited);
            // A Retry-After past the cap fails this request at once (and so the
            // run): pausing every other request for it would only hold that
            // failure behind them (order-keeping streams wait for each other).
            if retry_after.is_none_or(|w| w <= self.inner.retry.max_retry_after) {
                self.inner.pacer.pause_for(retry_after);
            }
        }
        let gone: &[u16] = match scope {
            Scope::Item => &[403, 404],
            Scope::Workspace => &[],
        };
        let message = self.inner.redactor.redact(&error.message);
        let verdict = if rate_limited && !status.is_success() {
            Verdict::Transient
        } else {
            judge(status, gone)
        };
        match verdict {
            Verdict::Success => match serde_json::from_slice(body) {
                Ok(json) => Attempt::Done(Ok(json)),
                // A 2xx that is not JSON is most often a body cut short behind a
                // proxy; ask again, and report it as a decode error if it persists.
                Err(e) => Attempt::Retry {
                    reason: "the body is not JSON".into(),
                    retry_after: None,
                    error: Error::Decode {
                        url: url.to_string(),
                        reason: format!("the body is not JSON ({e})"),
                    },
                },
            },
            Verdict::Gone if status == StatusCode::NOT_FOUND => Attempt::Done(Err(Gone::NotFound)),
            Verdict::Gone => Attempt::Done(Err(Gone::Forbidden)),
            Verdict::Transient => Attempt::Retry {
                reason: format!("HTTP {}", status.as_u16()),
                retry_after,
                error: Error::Http {
                    url: url.to_string(),
                    status: status.as_u16(),
                    attempts: number,
                    message,
                },
            },
            Verdict::Fatal => Attempt::Fatal(self.fatal(url, status, number, message)),
        }
    }

    fn fatal(&self, url: &Url, status: StatusCode, attempts: u32, message: String) -> Error {
        let url = url.to_string();
        match status.as_u16() {
            401 => Error::Unauthorized {
                url,
                message,
                hint: UNAUTHORIZED_HINT,
            },
            403 => Error::Forbidden { url, message },
            404 => Error::WorkspaceNotFound {
                workspace: self.inner.workspace.clone(),
                url,
            },
            code => Error::Http {
                url,
                status: code,
                attempts,
                message,
            },
        }
    }

    fn observe_rate_headers(&self, headers: &HeaderMap, ours: u32) {
        let number = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<u32>().ok())
        };
        let (limit, remaining) = (number("x-ratelimit-limit"), number("x-ratelimit-remaining"));
        if limit.is_some() || remaining.is_some() {
            self.inner.pacer.observe(limit, remaining, ours);
        }
    }
}

/// Mode's error body, `{"id": "...", "message": "..."}`.
struct ModeError {
    id: Option<String>,
    message: String,
}

/// Reads Mode's error body; the message is cut to 200 characters (never echo
/// a whole body into logs).
fn mode_error(body: &[u8]) -> ModeError {
    let json = serde_json::from_slice::<Value>(body).ok();
    let text = |key: &str| {
        json.as_ref()
            .and_then(|v| v.get(key))
            .and_then(Value::as_str)
            .map(str::to_owned)
    };
    ModeError {
        id: text("id"),
        message: text("message")
            .unwrap_or_default()
            .chars()
            .take(200)
            .collect(),
    }
}

impl std::fmt::Debug for ModeClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ModeClient")
            .field("api", &self.inner.api.as_str())
            .field("workspace", &self.inner.workspace)
            .finish_non_exhaustive()
    }
}
