//! One file, one `POST`, retried: the wire format castor's `_upload` uses.
//!
//! ```text
//! POST {endpoint}/{remote path}
//! Authorization: Token {token}          (marked sensitive)
//! Accept: text/csv, application/json
//! Content-Type: multipart/form-data; boundary=…
//!   one part named "file", filename = the local base name, streamed from disk
//!   with its length (Content-Length is known; the file is never in memory),
//!   hashed while it streams and held to the checked size and SHA-256
//!   ([`super::stream`])
//! ```
//!
//! Any 2xx is success. A 3xx is an error (redirects are not followed, so the
//! token never reaches another origin). 401 and 403 stop at once. 408, 429,
//! 5xx (those in [`is_transient_status`]), timeouts and dropped connections are
//! retried per [`RetryPolicy`], honouring `Retry-After`. Unlike castor, whose
//! retry re-sends an already consumed file handle (an empty body), every
//! attempt reopens the file and sends all of it again.
//!
//! Time limit per attempt: the configured timeout (castor's
//! `CASTOR_TIMEOUT_OVERRIDE`, default 60 s) plus one second per MiB of the file,
//! so a large file on a link of at least 1 MiB/s is not cut off.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use reqwest::StatusCode;
use reqwest::header::{ACCEPT, AUTHORIZATION, HeaderValue, LOCATION};
use reqwest::multipart::{Form, Part};
use secrecy::{ExposeSecret, SecretString};
use url::Url;

use super::plan::PlannedFile;
use super::remote::remote_url;
use super::stream::{self, Verdict};
use super::{Progress, UploadConfig};
use crate::error::{Error, Result};
use crate::http::retry::retry_after_header;
use crate::http::{RetryPolicy, Timeouts, client_builder, is_transient_status, transport_reason};

/// castor's `Accept` header.
pub const ACCEPT_VALUE: &str = "text/csv, application/json";
const MIB: u64 = 1024 * 1024;

/// Sends files to one endpoint with one token; counts retries.
#[derive(Debug)]
pub struct Sender {
    client: reqwest::Client,
    auth: HeaderValue,
    token: SecretString,
    endpoint: Url,
    timeout: Duration,
    retry: RetryPolicy,
    retries: AtomicU64,
    progress: Arc<Progress>,
}

/// What went wrong with one attempt, when it is worth another.
struct Transient {
    reason: String,
    status: Option<u16>,
    retry_after: Option<Duration>,
}

impl Sender {
    /// A sender for `config`, reporting streamed bytes to `progress`.
    ///
    /// # Errors
    /// [`Error::Config`] when the token cannot be an HTTP header value (control
    /// characters); the message never contains the token.
    pub fn new(config: &UploadConfig, progress: Arc<Progress>) -> Result<Sender> {
        let value = format!("Token {}", config.token.expose_secret());
        let mut auth = HeaderValue::from_str(&value).map_err(|_| {
            Error::Config("--token contains characters not allowed in an HTTP header".into())
        })?;
        auth.set_sensitive(true);
        let timeouts = Timeouts {
            connect: config.timeout.min(Duration::from_secs(10)),
            total: config.timeout,
        };
        let client = client_builder(timeouts)
            .build()
            .map_err(|e| Error::Internal(format!("cannot build the HTTP client: {e}")))?;
        Ok(Sender {
            client,
            auth,
            token: config.token.clone(),
            endpoint: config.endpoint.clone(),
            timeout: config.timeout,
            retry: config.retry,
            retries: AtomicU64::new(0),
            progress,
        })
    }

    /// Retries made so far, over all files.
    pub fn retries(&self) -> u64 {
        self.retries.load(Ordering::Relaxed)
    }

    /// Sends `file` until a 2xx, a final error, or the retries run out.
    /// Returns the number of attempts made.
    ///
    /// # Errors
    /// [`Error::Unauthorized`] / [`Error::Forbidden`] on 401 / 403;
    /// [`Error::Http`] on another non-2xx (at once, or after the retries for a
    /// transient one); [`Error::Unreachable`] when every attempt failed in
    /// transport; [`Error::Io`] when the file cannot be opened;
    /// [`Error::Integrity`] when it is no longer what was checked (size,
    /// SHA-256 while streaming, a link or not a regular file).
    pub async fn send(&self, file: &PlannedFile) -> Result<u32> {
        let url = remote_url(&self.endpoint, &file.remote);
        let mut delays = self.retry.delays();
        let mut attempts = 0u32;
        loop {
            attempts += 1;
            let failure = match self.attempt(&url, file).await? {
                Ok(()) => return Ok(attempts),
                Err(failure) => failure,
            };
            let Some(backoff) = delays.next() else {
                return Err(self.exhausted(&url, attempts, failure));
            };
            let wait = self.retry.wait(failure.retry_after, backoff);
            tracing::warn!(
                "{}: {}; retrying in {} (retry {attempts} of {})",
                file.name,
                failure.reason,
                humantime::format_duration(Duration::from_millis(wait.as_millis() as u64)),
                self.retry.max_retries
            );
            self.retries.fetch_add(1, Ordering::Relaxed);
            tokio::time::sleep(wait).await;
        }
    }

    /// One request with a freshly opened file. `Ok(Err(_))`: worth retrying.
    async fn attempt(&self, url: &Url, file: &PlannedFile) -> Result<Result<(), Transient>> {
        let sent = Arc::new(AtomicU64::new(0));
        let verdict = Verdict::new();
        let form = self.form(file, sent.clone(), verdict.clone()).await?;
        let request = self
            .client
            .post(url.clone())
            .header(AUTHORIZATION, self.auth.clone())
            .header(ACCEPT, ACCEPT_VALUE)
            .timeout(self.timeout + Duration::from_secs(file.bytes / MIB))
            .multipart(form);
        let outcome = match request.send().await {
            Ok(response) => self.judge(url, response).await,
            Err(err) => transport(&err, &self.token),
        };
        let outcome = verdict.overrule(outcome);
        if outcome.as_ref().map_or(true, Result::is_err) {
            self.progress.sub(sent.load(Ordering::Relaxed));
        }
        outcome
    }

    /// The multipart form: one part `file`, streamed from a newly opened file
    /// and hashed on the way ([`super::stream`]): a file that is no longer
    /// what was checked fails the attempt through `verdict`.
    async fn form(
        &self,
        file: &PlannedFile,
        sent: Arc<AtomicU64>,
        verdict: Verdict,
    ) -> Result<Form> {
        let handle = stream::open_checked(file).await?;
        let progress = self.progress.clone();
        let on_chunk = move |n: u64| {
            sent.fetch_add(n, Ordering::Relaxed);
            progress.add(n);
        };
        let body = stream::body(handle, file, verdict, on_chunk);
        let part = Part::stream_with_length(body, file.bytes).file_name(file.name.clone());
        Ok(Form::new().part("file", part))
    }

    /// Sorts a response: 2xx done, transient retried, anything else final.
    async fn judge(&self, url: &Url, response: reqwest::Response) -> Result<Result<(), Transient>> {
        let status = response.status();
        if status.is_success() {
            return Ok(Ok(()));
        }
        let retry_after = retry_after_header(response.headers());
        let location = response
            .headers()
            .get(LOCATION)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let message = body_message(response, &self.token).await;
        let url = url.to_string();
        match status {
            StatusCode::UNAUTHORIZED => Err(Error::Unauthorized { url, message }),
            StatusCode::FORBIDDEN => Err(Error::Forbidden { url, message }),
            s if is_transient_status(s) => Ok(Err(Transient {
                reason: format!("HTTP {}", s.as_u16()),
                status: Some(s.as_u16()),
                retry_after,
            })),
            s => Err(Error::Http {
                url,
                status: s.as_u16(),
                attempts: 1,
                message: match (s.is_redirection(), location) {
                    (true, Some(to)) => format!("redirect to {to} not followed"),
                    (true, None) => "redirect not followed".into(),
                    _ => message,
                },
            }),
        }
    }

    fn exhausted(&self, url: &Url, attempts: u32, last: Transient) -> Error {
        match last.status {
            Some(status) => Error::Http {
                url: url.to_string(),
                status,
                attempts,
                message: String::new(),
            },
            None => Error::Unreachable {
                url: url.to_string(),
                attempts,
                reason: last.reason,
            },
        }
    }
}

fn transport(err: &reqwest::Error, token: &SecretString) -> Result<Result<(), Transient>> {
    let (retryable, reason) = transport_reason(err);
    let reason = redact(&reason, token);
    if retryable {
        Ok(Err(Transient {
            reason,
            status: None,
            retry_after: None,
        }))
    } else {
        Err(Error::Unreachable {
            url: err.url().map(Url::to_string).unwrap_or_default(),
            attempts: 1,
            reason,
        })
    }
}

/// The first line of the body (at most 200 characters of the first 4 KiB),
/// with the token blanked out should the server echo it.
async fn body_message(mut response: reqwest::Response, token: &SecretString) -> String {
    let mut body = Vec::new();
    while body.len() < 4096 {
        match response.chunk().await {
            Ok(Some(chunk)) => body.extend_from_slice(&chunk),
            _ => break,
        }
    }
    let text = String::from_utf8_lossy(&body);
    let line: String = text
        .lines()
        .next()
        .unwrap_or_default()
        .trim()
        .chars()
        .take(200)
        .collect();
    redact(&line, token)
}

/// `text` with every occurrence of the token replaced by `[REDACTED]`.
pub fn redact(text: &str, token: &SecretString) -> String {
    let secret = token.expose_secret();
    if secret.is_empty() {
        text.to_owned()
    } else {
        text.replace(secret, "[REDACTED]")
    }
}
