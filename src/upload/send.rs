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
//! 5xx (those in [`crate::http::is_transient_status`]), timeouts and dropped
//! connections are retried by the shared loop ([`with_retries`]), honouring
//! `Retry-After`. Unlike castor, whose
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
use secrecy::ExposeSecret;
use url::Url;

use super::config::UploadConfig;
use super::plan::PlannedFile;
use super::remote::remote_url;
use super::stream::{self, StreamCheck};
use crate::error::{Error, Result};
use crate::http::redact::Redactor;
use crate::http::retry::{Attempt, Verdict, judge, retry_after_header, with_retries};
use crate::http::{RetryPolicy, Timeouts, client_builder};
use crate::progress::Progress;

/// What the catalog's 401 adds.
pub const UNAUTHORIZED_HINT: &str =
    "check the catalog token (-k / CASTOR_UPLOADER_TOKEN) and that it belongs to this source id";

/// castor's `Accept` header.
pub const ACCEPT_VALUE: &str = "text/csv, application/json";
const MIB: u64 = 1024 * 1024;

/// Sends files to one endpoint with one token; counts retries.
#[derive(Debug)]
pub struct Sender {
    client: reqwest::Client,
    auth: HeaderValue,
    redactor: Redactor,
    endpoint: Url,
    timeout: Duration,
    retry: RetryPolicy,
    retries: AtomicU64,
    progress: Arc<Progress>,
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
        let client = client_builder(timeouts, &config.endpoint)
            .build()
            .map_err(|e| Error::Internal(format!("cannot build the HTTP client: {e}")))?;
        Ok(Sender {
            client,
            auth,
            redactor: Redactor::new([&config.token]),
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

    /// Sends `file` through the shared retry loop ([`with_retries`]) until a
    /// 2xx, a final error, or the retries run out.
    ///
    /// # Errors
    /// [`Error::Unauthorized`] / [`Error::Forbidden`] on 401 / 403;
    /// [`Error::Http`] on another non-2xx (at once, or after the retries for a
    /// transient one); [`Error::Unreachable`] when every attempt failed in
    /// transport; [`Error::Io`] when the file cannot be opened;
    /// [`Error::Integrity`] when it is no longer what was checked (size,
    /// SHA-256 while streaming, a link or not a regular file).
    pub async fn send(&self, file: &PlannedFile) -> Result<()> {
        let url = remote_url(&self.endpoint, &file.remote);
        let what = format!("{} to {}", file.name, url);
        with_retries(&self.retry, &what, &self.retries, |n| {
            self.attempt(&url, file, n)
        })
        .await
    }

    /// One request with a freshly opened file.
    async fn attempt(&self, url: &Url, file: &PlannedFile, number: u32) -> Attempt<()> {
        let sent = Arc::new(AtomicU64::new(0));
        let check = StreamCheck::new();
        let form = match self.form(file, sent.clone(), check.clone()).await {
            Ok(form) => form,
            Err(e) => return Attempt::Fatal(e),
        };
        let request = self
            .client
            .post(url.clone())
            .header(AUTHORIZATION, self.auth.clone())
            .header(ACCEPT, ACCEPT_VALUE)
            .timeout(self.timeout + Duration::from_secs(file.bytes / MIB))
            .multipart(form);
        let outcome = match request.send().await {
            Ok(response) => self.judge(url, number, response).await,
            Err(err) => Attempt::transport(url, number, &err, &self.redactor),
        };
        let outcome = check.overrule(outcome);
        if !matches!(outcome, Attempt::Done(())) {
            self.progress.sub(sent.load(Ordering::Relaxed));
        }
        outcome
    }

    /// The multipart form: one part `file`, streamed from a newly opened file
    /// and hashed on the way ([`super::stream`]): a file that is no longer
    /// what was checked fails the attempt through `check`.
    async fn form(
        &self,
        file: &PlannedFile,
        sent: Arc<AtomicU64>,
        check: StreamCheck,
    ) -> Result<Form> {
        let handle = stream::open_checked(file).await?;
        let progress = self.progress.clone();
        let on_chunk = move |n: u64| {
            sent.fetch_add(n, Ordering::Relaxed);
            progress.add(n);
        };
        let body = stream::body(handle, file, check, on_chunk);
        let part = Part::stream_with_length(body, file.bytes).file_name(file.name.clone());
        Ok(Form::new().part("file", part))
    }

    /// Sorts a response with the shared [`judge`]: 2xx done, transient
    /// retried, anything else final (a 3xx included: redirects are not followed).
    async fn judge(&self, url: &Url, number: u32, response: reqwest::Response) -> Attempt<()> {
        let status = response.status();
        let verdict = judge(status, &[]);
        if verdict == Verdict::Success {
            return Attempt::Done(());
        }
        let retry_after = retry_after_header(response.headers());
        let location = response
            .headers()
            .get(LOCATION)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let message = body_message(response, &self.redactor).await;
        let url = url.to_string();
        let code = status.as_u16();
        match (verdict, status) {
            (_, StatusCode::UNAUTHORIZED) => Attempt::Fatal(Error::Unauthorized {
                url,
                message,
                hint: UNAUTHORIZED_HINT,
            }),
            (_, StatusCode::FORBIDDEN) => Attempt::Fatal(Error::Forbidden { url, message }),
            (Verdict::Transient, _) => Attempt::Retry {
                reason: format!("HTTP {code}"),
                retry_after,
                error: Error::Http {
                    url,
                    status: code,
                    attempts: number,
                    message,
                },
            },
            (_, s) => Attempt::Fatal(Error::Http {
                url,
                status: code,
                attempts: number,
                message: match (s.is_redirection(), location) {
                    (true, Some(to)) => format!("redirect to {to} not followed"),
                    (true, None) => "redirect not followed".into(),
                    _ => message,
                },
            }),
        }
    }
}

/// The first line of the body (at most 200 characters of the first 4 KiB),
/// with the token blanked out should the server echo it.
async fn body_message(mut response: reqwest::Response, redactor: &Redactor) -> String {
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
    redactor.redact(&line)
}
