//! OpenMetadata's REST API: every request goes through [`OmClient::call`], the
//! one place that retries (transient statuses and transport failures, per
//! [`RetryPolicy`], honouring `Retry-After`).
//!
//! Every request is safe to repeat: `PUT` is create-or-update (a repeated one
//! answers `entityNoChange`), lineage `PUT` adds an edge that may exist, and a
//! repeated soft `DELETE` answers 404, taken as "already deleted". So a 504 or
//! a dropped answer after the write happened is retried without harm.
//!
//! Errors are `{"code","message"}`; the message is kept (it names the schema
//! violation of a 400). The JWT travels in `Authorization: Bearer …`, marked
//! sensitive, and is never logged or put in an error.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use reqwest::header::{AUTHORIZATION, HeaderValue};
use reqwest::{Method, StatusCode};
use secrecy::ExposeSecret;
use serde_json::Value;
use url::Url;

use super::config::OmConfig;
use crate::error::{Error, Result};
use crate::http::retry::retry_after_header;
use crate::http::{RetryPolicy, Timeouts, client_builder, is_transient_status, transport_reason};

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
        let timeouts = Timeouts {
            connect: config.timeout.min(Duration::from_secs(10)),
            total: config.timeout,
        };
        let client = client_builder(timeouts)
            .build()
            .map_err(|e| Error::Internal(format!("cannot build the HTTP client: {e}")))?;
        Ok(OmClient {
            client,
            auth,
            base: config.host.clone(),
            retry: config.retry,
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

    /// Sends one request until a final answer.
    ///
    /// # Errors
    /// [`Error::Unauthorized`] / [`Error::Forbidden`] on 401 / 403 (the JWT);
    /// [`Error::Http`] when a transient status persists after the retries;
    /// [`Error::Unreachable`] when every attempt failed in transport.
    pub async fn call(&self, method: Method, url: Url, body: Option<&Value>) -> Result<Answer> {
        let mut delays = self.retry.delays();
        let mut attempts = 0u32;
        loop {
            attempts += 1;
            let (reason, status, retry_after) = match self.attempt(&method, &url, body).await {
                Ok(answer) => match answer {
                    Attempt::Final(answer) => return self.final_answer(&url, answer),
                    Attempt::Transient(status, retry_after, message) => {
                        (message, Some(status), retry_after)
                    }
                },
                Err((retryable, reason)) if retryable => (reason, None, None),
                Err((_, reason)) => {
                    return Err(Error::Unreachable {
                        url: url.to_string(),
                        attempts,
                        reason,
                    });
                }
            };
            let Some(backoff) = delays.next() else {
                return Err(match status {
                    Some(status) => Error::Http {
                        url: url.to_string(),
                        status,
                        attempts,
                        message: reason,
                    },
                    None => Error::Unreachable {
                        url: url.to_string(),
                        attempts,
                        reason,
                    },
                });
            };
            let wait = self.retry.wait(retry_after, backoff);
            tracing::warn!(
                "{method} {url}: {reason}; retrying in {} (retry {attempts} of {})",
                humantime::format_duration(Duration::from_millis(wait.as_millis() as u64)),
                self.retry.max_retries
            );
            self.retries.fetch_add(1, Ordering::Relaxed);
            tokio::time::sleep(wait).await;
        }
    }

    fn final_answer(&self, url: &Url, answer: Answer) -> Result<Answer> {
        match answer.status {
            401 => Err(Error::Unauthorized {
                url: url.to_string(),
                message: format!("({}); check the OpenMetadata JWT", answer.raw_message()),
            }),
            403 => Err(Error::Forbidden {
                url: url.to_string(),
                message: answer.raw_message().to_owned(),
            }),
            _ => Ok(answer),
        }
    }

    async fn attempt(
        &self,
        method: &Method,
        url: &Url,
        body: Option<&Value>,
    ) -> std::result::Result<Attempt, (bool, String)> {
        let mut request = self
            .client
            .request(method.clone(), url.clone())
            .header(AUTHORIZATION, self.auth.clone());
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = request.send().await.map_err(|e| transport_reason(&e))?;
        let status = response.status();
        let retry_after = retry_after_header(response.headers());
        let change = response
            .headers()
            .get(CHANGE_HEADER)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let bytes = response.bytes().await.map_err(|e| transport_reason(&e))?;
        self.requests.fetch_add(1, Ordering::Relaxed);
        let body: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        let answer = Answer {
            status: status.as_u16(),
            change,
            body,
        };
        if is_transient_status(status) {
            return Ok(Attempt::Transient(
                status.as_u16(),
                retry_after,
                answer.message(),
            ));
        }
        if status.is_redirection() || status == StatusCode::NOT_MODIFIED {
            return Err((
                false,
                format!("answered HTTP {status}; redirects are refused"),
            ));
        }
        Ok(Attempt::Final(answer))
    }
}

enum Attempt {
    Final(Answer),
    Transient(u16, Option<Duration>, String),
}
