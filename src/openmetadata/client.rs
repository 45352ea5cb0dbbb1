//! OpenMetadata's REST API: every request goes through [`OmClient::call`], on
//! the shared retry loop ([`with_retries`]): transient statuses and transport
//! failures are retried per [`RetryPolicy`], honouring `Retry-After`; the
//! classification is the shared [`judge`].
//!
//! Every request is safe to repeat: `PUT` is create-or-update (a repeated one
//! answers `entityNoChange`), lineage `PUT` adds an edge that may exist, and a
//! repeated soft `DELETE` answers 404, taken as "already deleted". So a 504 or
//! a dropped answer after the write happened is retried without harm.
//!
//! Errors are `{"code","message"}`; the message is kept (it names the schema
//! violation of a 400), with the JWT blanked should the server echo it. The
//! JWT travels in `Authorization: Bearer …`, marked sensitive, and is never
//! logged or put in an error. Bodies are read with the shared size cap.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use reqwest::header::{AUTHORIZATION, HeaderValue};
use reqwest::{Method, StatusCode};
use secrecy::ExposeSecret;
use serde_json::Value;
use url::Url;

use super::config::OmConfig;
use crate::error::{Error, Result};
use crate::http::body::{BodyError, DEFAULT_MAX_BODY_BYTES, read_capped};
use crate::http::redact::Redactor;
use crate::http::retry::{Attempt, Verdict, judge, retry_after_header, with_retries};
use crate::http::{RetryPolicy, client_builder};

/// What to do about a refused JWT.
pub const UNAUTHORIZED_HINT: &str =
    "check the OpenMetadata JWT (--om-token / OPENMETADATA_JWT_TOKEN): a bot's token, not expired";

/// The header in which OpenMetadata says what a write did.
pub const CHANGE_HEADER: &str = "x-openmetadata-change";

/// A final answer (2xx, or a status that asking again will not change).
#[derive(Debug, Clone, PartialEq)]
pub struct Answer {
    /// The HTTP status.
    pub status: u16,
    /// `X-OpenMetadata-Change`: `entityCreated`, `entityUpdated`,
    /// `entityNoChange`, `entitySoftDeleted`, ...
    pub change: Option<String>,
    /// The JSON body (`Null` when empty or not JSON).
    pub body: Value,
}

impl Answer {
    /// A 2xx.
    pub fn ok(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// OpenMetadata's error `message` (or the status alone).
    pub fn message(&self) -> String {
        match self.body.get("message").and_then(Value::as_str) {
            Some(m) => format!("HTTP {}: {m}", self.status),
            None => format!("HTTP {}", self.status),
        }
    }

    /// The error `message` alone, empty when there is none.
    pub fn raw_message(&self) -> &str {
        self.body
            .get("message")
            .and_then(Value::as_str)
            .unwrap_or_default()
    }
}

/// A client of one OpenMetadata server with one JWT.
#[derive(Debug)]
pub struct OmClient {
    client: reqwest::Client,
    auth: HeaderValue,
    base: Url,
    retry: RetryPolicy,
    redactor: Redactor,
    retries: AtomicU64,
    requests: AtomicU64,
}

impl OmClient {
    /// A client for `config.host`.
    ///
    /// # Errors
    /// [`Error::Config`] when the JWT cannot be a header value;
    /// [`Error::Internal`] when the TLS stack cannot start.
    pub fn new(config: &OmConfig) -> Result<OmClient> {
        let mut auth = HeaderValue::from_str(&format!("Bearer {}", config.token.expose_secret()))
            .map_err(|_| {
            Error::Config("--om-token contains characters not allowed in an HTTP header".into())
        })?;
        auth.set_sensitive(true);
        let client = client_builder(config.timeouts, &config.host)
            .build()
            .map_err(|e| Error::Internal(format!("cannot build the HTTP client: {e}")))?;
        Ok(OmClient {
            client,
            auth,
            base: config.host.clone(),
            retry: config.retry,
            redactor: Redactor::new([&config.token]),
            retries: AtomicU64::new(0),
            requests: AtomicU64::new(0),
        })
    }

    /// Retries made so far.
    pub fn retries(&self) -> u64 {
        self.retries.load(Ordering::Relaxed)
    }

    /// Requests answered so far (retries included).
    pub fn requests(&self) -> u64 {
        self.requests.load(Ordering::Relaxed)
    }

    /// `{host}/v1/{segments…}?{query}`; each segment is percent-encoded, so a
    /// quoted FQN is one segment.
    pub fn url(&self, segments: &[&str], query: &[(&str, &str)]) -> Url {
        let mut url = self.base.clone();
        if let Ok(mut path) = url.path_segments_mut() {
            path.pop_if_empty().push("v1").extend(segments);
        }
        if !query.is_empty() {
            url.query_pairs_mut().extend_pairs(query);
        }
        url
    }

    /// Sends one request until a final answer (a 2xx, or a status asking
    /// again will not change, returned for the caller to judge).
    ///
    /// # Errors
    /// [`Error::Unauthorized`] / [`Error::Forbidden`] on 401 / 403 (the JWT);
    /// [`Error::Http`] when a transient status persists after the retries or
    /// the body passes the size cap; [`Error::Unreachable`] when every attempt
    /// failed in transport.
    pub async fn call(&self, method: Method, url: Url, body: Option<&Value>) -> Result<Answer> {
        let what = format!("{method} {url}");
        with_retries(&self.retry, &what, &self.retries, |n| {
            self.attempt(&method, &url, body, n)
        })
        .await
    }

    async fn attempt(
        &self,
        method: &Method,
        url: &Url,
        body: Option<&Value>,
        number: u32,
    ) -> Attempt<Answer> {
        let mut request = self
            .client
            .request(method.clone(), url.clone())
            .header(AUTHORIZATION, self.auth.clone());
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = match request.send().await {
            Ok(response) => response,
            Err(err) => return Attempt::transport(url, number, &err, &self.redactor),
        };
        let status = response.status();
        let retry_after = retry_after_header(response.headers());
        let change = response
            .headers()
            .get(CHANGE_HEADER)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let bytes = match read_capped(response, DEFAULT_MAX_BODY_BYTES).await {
            Ok(bytes) => bytes,
            Err(BodyError::Transport(err)) => {
                return Attempt::transport(url, number, &err, &self.redactor);
            }
            Err(BodyError::TooLarge { limit }) => {
                return Attempt::Fatal(Error::Http {
                    url: url.to_string(),
                    status: status.as_u16(),
                    attempts: number,
                    message: format!("the answer is larger than {limit} bytes"),
                });
            }
        };
        self.requests.fetch_add(1, Ordering::Relaxed);
        let mut body: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        if let Some(Value::String(m)) = body.get_mut("message") {
            *m = self.redactor.redact(m);
        }
        let answer = Answer {
            status: status.as_u16(),
            change,
            body,
        };
        self.verdict(url, number, status, retry_after, answer)
    }

    /// The shared [`judge`]: 2xx and final statuses are answers for the
    /// caller, except 401/403 (the JWT) and 3xx (redirects are refused).
    fn verdict(
        &self,
        url: &Url,
        number: u32,
        status: StatusCode,
        retry_after: Option<Duration>,
        answer: Answer,
    ) -> Attempt<Answer> {
        let code = status.as_u16();
        let url = url.to_string();
        match (judge(status, &[]), code) {
            (Verdict::Success, _) => Attempt::Done(answer),
            (_, 401) => Attempt::Fatal(Error::Unauthorized {
                url,
                message: answer.raw_message().to_owned(),
                hint: UNAUTHORIZED_HINT,
            }),
            (_, 403) => Attempt::Fatal(Error::Forbidden {
                url,
                message: answer.raw_message().to_owned(),
            }),
            (Verdict::Transient, _) => Attempt::Retry {
                reason: answer.message(),
                retry_after,
                error: Error::Http {
                    url,
                    status: code,
                    attempts: number,
                    message: answer.raw_message().to_owned(),
                },
            },
            _ if status.is_redirection() => Attempt::Fatal(Error::Http {
                url,
                status: code,
                attempts: number,
                message: "redirect not followed".into(),
            }),
            _ => Attempt::Done(answer),
        }
    }
}
