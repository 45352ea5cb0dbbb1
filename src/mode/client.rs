//! The Mode API client: basic auth, timeouts, pacing, bounded concurrency and
//! retries on every request.
//!
//! Every GET goes through [`ModeClient::get`]:
//! 1. wait for a concurrency slot, then for the [`Pacer`] (Mode's 40 req/10 s);
//! 2. send with HTTP basic auth (token, secret), `Accept: application/hal+json`,
//!    and read the whole body within the total timeout;
//! 3. on 429, 5xx, timeouts, resets and bodies cut short: retry per
//!    [`RetryPolicy`], honouring `Retry-After`; a 429 also pauses the pacer so the
//!    other in-flight tasks back off too;
//! 4. on 401: stop the run ([`Error::Unauthorized`]); on 403 and 404, [`Scope`]
//!    decides: for a workspace-level list the run stops ([`Error::Forbidden`],
//!    [`Error::WorkspaceNotFound`]); for one item the caller gets [`Gone`] and
//!    records an item problem (Mode answers 403, not 404, for a collection
//!    deleted a moment ago, and member tokens may not see every report).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use reqwest::header::{ACCEPT, HeaderMap};
use reqwest::{StatusCode, Url};
use secrecy::{ExposeSecret, SecretString};
use serde_json::Value;
use tokio::sync::Semaphore;

use crate::config::ExtractConfig;
use crate::error::{Error, Result};
use crate::http::pace::Pacer;
use crate::http::retry::retry_after_header;
use crate::http::{RetryPolicy, client_builder, is_transient_status, transport_reason};

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

/// Why an item could not be fetched ([`Scope::Item`] only).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gone {
    /// HTTP 404: deleted between listing and fetch.
    NotFound,
    /// HTTP 403: deleted a moment ago (Mode answers 403 then) or not visible to this token.
    Forbidden,
}

impl std::fmt::Display for Gone {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Gone::NotFound => "deleted between listing and fetch (HTTP 404)",
            Gone::Forbidden => "deleted or not accessible to this token (HTTP 403)",
        })
    }
}

/// An item's body, or why it is gone.
pub type Fetched<T> = std::result::Result<T, Gone>;

/// Request counters of a run, for the summary and the benchmark.
#[derive(Debug, Default)]
pub struct ApiCounters {
    /// Requests sent, retries included.
    pub calls: AtomicU64,
    /// Requests repeated after a transient failure.
    pub retries: AtomicU64,
    /// 429 answers received.
    pub rate_limited: AtomicU64,
}

impl ApiCounters {
    fn bump(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }

    /// `(calls, retries, rate_limited)` now.
    pub fn snapshot(&self) -> (u64, u64, u64) {
        (
            self.calls.load(Ordering::Relaxed),
            self.retries.load(Ordering::Relaxed),
            self.rate_limited.load(Ordering::Relaxed),
        )
    }
}

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
    pacer: Pacer,
    slots: Semaphore,
    retry: RetryPolicy,
    counters: ApiCounters,
}

/// The outcome of one attempt.
enum Attempt {
    Json(Value),
    Status {
        status: StatusCode,
        retry_after: Option<Duration>,
        message: String,
    },
    Transport {
        transient: bool,
        reason: String,
    },
    NotJson(String),
}

impl ModeClient {
    /// Builds the client from the run's settings.
    ///
    /// # Errors
    /// [`Error::Internal`] when the TLS stack cannot be initialised.
    pub fn new(config: &ExtractConfig) -> Result<Self> {
        let mut headers = HeaderMap::new();
        headers.insert(
            ACCEPT,
            "application/hal+json".parse().expect("static header"),
        );
        let http = client_builder(config.timeouts)
            .default_headers(headers)
            .build()
            .map_err(|e| Error::Internal(format!("cannot build the HTTP client: {e}")))?;
        let mut api = config.host.clone();
        api.path_segments_mut()
            .map_err(|()| Error::Config("--host cannot be a base URL".into()))?
            .pop_if_empty()
            .push("api");
        Ok(ModeClient {
            inner: Arc::new(Inner {
                http,
                api,
                workspace: config.workspace.clone(),
                token: config.token.clone(),
                secret: config.secret.clone(),
                pacer: Pacer::new(config.rate_limit),
                slots: Semaphore::new(config.concurrency.max(1)),
                retry: config.retry,
                counters: ApiCounters::default(),
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

    /// GETs a JSON document, retrying transient failures.
    ///
    /// Returns `Ok(Err(Gone))` for a 403 or 404 in [`Scope::Item`].
    ///
    /// # Errors
    /// [`Error::Unauthorized`], [`Error::Forbidden`] and [`Error::WorkspaceNotFound`]
    /// (403 and 404 in [`Scope::Workspace`]), [`Error::Unreachable`] (transport
    /// failures after every retry), [`Error::Http`] (other statuses, or transient
    /// ones after every retry), [`Error::Decode`] (a 2xx body that is not JSON).
    pub async fn get(&self, url: Url, scope: Scope) -> Result<Fetched<Value>> {
        let inner = &self.inner;
        let mut delays = inner.retry.delays();
        let mut attempts = 0u32;
        loop {
            attempts += 1;
            let (transient, retry_after, failure) = match self.attempt(&url).await {
                Attempt::Json(body) => return Ok(Ok(body)),
                Attempt::Status {
                    status,
                    retry_after,
                    message,
                } => {
                    let fatal = self.status_error(&url, scope, status, attempts, message);
                    match fatal {
                        StatusOutcome::Gone(gone) => return Ok(Err(gone)),
                        StatusOutcome::Fatal(e) => return Err(e),
                        StatusOutcome::Transient(e) => (true, retry_after, e),
                    }
                }
                Attempt::NotJson(reason) => {
                    let err = Error::Decode {
                        url: url.to_string(),
                        reason,
                    };
                    (true, None, err)
                }
                Attempt::Transport { transient, reason } => {
                    let err = Error::Unreachable {
                        url: url.to_string(),
                        attempts,
                        reason,
                    };
                    (transient, None, err)
                }
            };
            let next = delays.next().filter(|_| transient);
            let Some(backoff) = next else {
                return Err(failure);
            };
            let wait = inner.retry.wait(retry_after, backoff);
            ApiCounters::bump(&inner.counters.retries);
            tracing::debug!(%url, attempt = attempts, wait_ms = wait.as_millis() as u64, "retrying: {failure}");
            tokio::time::sleep(wait).await;
        }
    }

    /// One request: slot, pace, send, read the body.
    async fn attempt(&self, url: &Url) -> Attempt {
        let inner = &self.inner;
        let Ok(_slot) = inner.slots.acquire().await else {
            return Attempt::Transport {
                transient: false,
                reason: "client closed".into(),
            };
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
            Err(e) => return transport(&e),
        };
        let status = response.status();
        self.observe_rate_headers(response.headers(), ours);
        let retry_after = retry_after_header(response.headers());
        if status == StatusCode::TOO_MANY_REQUESTS {
            ApiCounters::bump(&inner.counters.rate_limited);
            inner.pacer.pause_for(retry_after);
        }
        let body = match response.bytes().await {
            Ok(b) => b,
            Err(e) => return transport(&e),
        };
        if !status.is_success() {
            return Attempt::Status {
                status,
                retry_after,
                message: mode_message(&body),
            };
        }
        match serde_json::from_slice(&body) {
            Ok(json) => Attempt::Json(json),
            // A 2xx that is not JSON is most often a body cut short behind a
            // proxy; ask again, and report it as a decode error if it persists.
            Err(e) => Attempt::NotJson(format!("the body is not JSON ({e})")),
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

    fn status_error(
        &self,
        url: &Url,
        scope: Scope,
        status: StatusCode,
        attempts: u32,
        message: String,
    ) -> StatusOutcome {
        let url_s = url.to_string();
        match status.as_u16() {
            401 => StatusOutcome::Fatal(Error::Unauthorized {
                url: url_s,
                message,
            }),
            403 if scope == Scope::Item => StatusOutcome::Gone(Gone::Forbidden),
            403 => StatusOutcome::Fatal(Error::Forbidden {
                url: url_s,
                message,
            }),
            404 if scope == Scope::Item => StatusOutcome::Gone(Gone::NotFound),
            404 => StatusOutcome::Fatal(Error::WorkspaceNotFound {
                workspace: self.inner.workspace.clone(),
                url: url_s,
            }),
            _ => {
                let err = Error::Http {
                    url: url_s,
                    status: status.as_u16(),
                    attempts,
                    message,
                };
                if is_transient_status(status) {
                    StatusOutcome::Transient(err)
                } else {
                    StatusOutcome::Fatal(err)
                }
            }
        }
    }
}

enum StatusOutcome {
    Gone(Gone),
    Fatal(Error),
    Transient(Error),
}

fn transport(err: &reqwest::Error) -> Attempt {
    let (transient, reason) = transport_reason(err);
    Attempt::Transport { transient, reason }
}

/// Mode's error body is `{"id": "...", "message": "..."}`; keep the message
/// only, cut to 200 characters (never echo a whole body into logs).
fn mode_message(body: &[u8]) -> String {
    let message = serde_json::from_slice::<Value>(body)
        .ok()
        .and_then(|v| v.get("message").and_then(Value::as_str).map(str::to_owned))
        .unwrap_or_default();
    message.chars().take(200).collect()
}

impl std::fmt::Debug for ModeClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ModeClient")
            .field("api", &self.inner.api.as_str())
            .field("workspace", &self.inner.workspace)
            .finish_non_exhaustive()
    }
}
