//! The one retry loop of both binaries, and the one classification it runs on.
//!
//! Policy (the Mode client and the uploader alike):
//! - every answer is sorted by [`judge`] into success, gone (403/404 where the
//!   caller says an item may have vanished), transient, or fatal;
//! - transient: 408, 429, 500, 502, 503 and 504 answers, connection resets and
//!   refusals, bodies cut short and timeouts ([`transport_reason`]). They are
//!   retried up to [`RetryPolicy::max_retries`] times with capped exponential
//!   backoff and full jitter (computed by `backon`). When the server sends
//!   `Retry-After`, in either of its forms (delta seconds or an HTTP date), that
//!   wait is used instead; a `Retry-After` longer than
//!   [`RetryPolicy::max_retry_after`] ends the request at once with a clear
//!   error (castor's shared retry gives up above an hour; we hold a directory
//!   lock, so we give up sooner);
//! - fatal: every other status (a 401 or a 400 will not change by asking again),
//!   TLS and protocol errors (https to a plain-http port, a bad certificate),
//!   and bodies over the size cap;
//! - the first failure and every retry are logged at WARN with the reason and
//!   the wait: `GET …: HTTP 503; retrying in 2.0s, attempt 2/7`.

use std::fmt;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

use backon::{BackoffBuilder, ExponentialBuilder};
use reqwest::StatusCode;

use crate::error::{Error, Result};

/// How often and how long to retry transient failures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Retries after the first attempt (so `max_retries + 1` attempts at most).
    pub max_retries: u32,
    /// The first backoff delay, before jitter.
    pub initial_delay: Duration,
    /// The cap on one backoff delay.
    pub max_delay: Duration,
    /// The cap on a server-requested `Retry-After` wait.
    pub max_retry_after: Duration,
}

impl Default for RetryPolicy {
    /// 6 retries, 0.5 s doubling to at most 30 s; `Retry-After` honoured up to 10 min.
    fn default() -> Self {
        RetryPolicy {
            max_retries: 6,
            initial_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(30),
            max_retry_after: Duration::from_secs(600),
        }
    }
}

impl RetryPolicy {
    /// The sequence of backoff delays: `max_retries` items, exponential with jitter.
    pub fn delays(&self) -> impl Iterator<Item = Duration> + Send + use<> {
        ExponentialBuilder::default()
            .with_min_delay(self.initial_delay)
            .with_max_delay(self.max_delay)
            .with_max_times(self.max_retries as usize)
            .with_jitter()
            .build()
    }

    /// The wait before the next attempt: the server's `Retry-After` when it sent
    /// one (capped), otherwise the next backoff delay.
    pub fn wait(&self, retry_after: Option<Duration>, backoff: Duration) -> Duration {
        match retry_after {
            Some(d) => d.min(self.max_retry_after),
            None => backoff,
        }
    }
}

/// True for the statuses worth asking again: 408, 429, 500, 502, 503, 504.
pub fn is_transient_status(status: StatusCode) -> bool {
    matches!(status.as_u16(), 408 | 429 | 500 | 502 | 503 | 504)
}

/// What an answer's status means to the retry loop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// 2xx.
    Success,
    /// One of the statuses the caller listed as "the item is gone" (the Mode
    /// client lists 403 and 404 for one item; nobody else lists any).
    Gone,
    /// Worth asking again ([`is_transient_status`]).
    Transient,
    /// Asking again will not help.
    Fatal,
}

/// Sorts a status: the single classification both binaries use.
pub fn judge(status: StatusCode, gone: &[u16]) -> Verdict {
    if status.is_success() {
        Verdict::Success
    } else if gone.contains(&status.as_u16()) {
        Verdict::Gone
    } else if is_transient_status(status) {
        Verdict::Transient
    } else {
        Verdict::Fatal
    }
}

/// How one attempt ended, as the retry loop sees it.
#[derive(Debug)]
pub enum Attempt<T> {
    /// Finished: a success, or an answer the caller handles itself (an item
    /// that is gone).
    Done(T),
    /// Worth another attempt after `retry_after` (the server's wait) or the
    /// next backoff delay; `error` is returned if none is left.
    Retry {
        /// Short reason for the log line, e.g. `HTTP 503`.
        reason: String,
        /// The server's `Retry-After`, if it sent one.
        retry_after: Option<Duration>,
        /// The error to return when the retries run out.
        error: Error,
    },
    /// Final failure.
    Fatal(Error),
}

impl<T> Attempt<T> {
    /// A request that failed in transport (no HTTP status): [`Attempt::Retry`]
    /// when [`transport_reason`] says asking again may help, else
    /// [`Attempt::Fatal`]; the error is [`Error::Unreachable`], with any
    /// secret the reason echoes blanked by `redactor`.
    pub fn transport(
        url: &url::Url,
        attempts: u32,
        err: &reqwest::Error,
        redactor: &super::redact::Redactor,
    ) -> Attempt<T> {
        let (transient, reason) = transport_reason(err);
        let reason = redactor.redact(&reason);
        let error = Error::Unreachable {
            url: url.to_string(),
            attempts,
            reason: reason.clone(),
        };
        if transient {
            Attempt::Retry {
                reason,
                retry_after: None,
                error,
            }
        } else {
            Attempt::Fatal(error)
        }
    }
}

/// Runs `attempt` (given the 1-based attempt number) until it is done, fatal,
/// or the retries of `policy` run out, sleeping between attempts as the module
/// documentation says. `what` names the request in log lines (never a secret);
/// `retries` counts the retries made.
///
/// # Errors
/// The attempt's fatal error; the last transient error once the retries are
/// used up; [`Error::Http`] when the server asks to wait longer than
/// [`RetryPolicy::max_retry_after`].
pub async fn with_retries<T, F, Fut>(
    policy: &RetryPolicy,
    what: &dyn fmt::Display,
    retries: &AtomicU64,
    mut attempt: F,
) -> Result<T>
where
    F: FnMut(u32) -> Fut,
    Fut: Future<Output = Attempt<T>>,
{
    let mut delays = policy.delays();
    let mut number = 0u32;
    loop {
        number += 1;
        let (reason, retry_after, error) = match attempt(number).await {
            Attempt::Done(value) => return Ok(value),
            Attempt::Fatal(error) => return Err(error),
            Attempt::Retry {
                reason,
                retry_after,
                error,
            } => (reason, retry_after, error),
        };
        if let Some(wait) = retry_after.filter(|w| *w > policy.max_retry_after) {
            return Err(too_long(what, &reason, wait, policy.max_retry_after));
        }
        let Some(backoff) = delays.next() else {
            tracing::warn!("{what}: {reason}; giving up after {number} attempt(s)");
            return Err(error);
        };
        let wait = retry_after.unwrap_or(backoff);
        tracing::warn!(
            "{what}: {reason}; retrying in {:.1}s, attempt {}/{}",
            wait.as_secs_f64(),
            number + 1,
            policy.max_retries.saturating_add(1)
        );
        retries.fetch_add(1, Ordering::Relaxed);
        tokio::time::sleep(wait).await;
    }
}

fn too_long(what: &dyn fmt::Display, reason: &str, wait: Duration, cap: Duration) -> Error {
    Error::Http {
        url: what.to_string(),
        status: 429,
        attempts: 1,
        message: format!(
            "{reason}: the server asks to wait {}, more than the {} cap on Retry-After; giving up",
            human(wait),
            human(cap)
        ),
    }
}

/// A duration rounded to whole seconds for messages, e.g. `1day 3h 46m 40s`.
pub fn human(d: Duration) -> String {
    humantime::format_duration(Duration::from_secs(d.as_secs())).to_string()
}

/// Parses a `Retry-After` value: delta seconds (`"120"`, fractions accepted) or
/// an HTTP date (`"Wed, 21 Oct 2015 07:28:00 GMT"`, taken relative to `now`;
/// a date in the past means "now"). `None` for anything else.
pub fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<f64>() {
        // `try_from`: a huge value (1e20) is an absurd wait, not a panic.
        return (secs >= 0.0)
            .then(|| Duration::try_from_secs_f64(secs).unwrap_or(Duration::MAX))
            .filter(|_| secs.is_finite());
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

/// Reads `Retry-After` from response headers, relative to the current time.
pub fn retry_after_header(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    let value = headers.get(reqwest::header::RETRY_AFTER)?.to_str().ok()?;
    parse_retry_after(value, SystemTime::now())
}

/// Whether a transport-level error (no HTTP status) is worth retrying, and a
/// short reason for logs. reqwest errors never contain the basic-auth secret:
/// credentials travel in a header, not in the URL.
pub fn transport_reason(err: &reqwest::Error) -> (bool, String) {
    if let Some(reason) = tls_or_protocol(err) {
        return (false, reason);
    }
    let kind = if err.is_timeout() {
        "timed out"
    } else if err.is_connect() {
        "connection failed"
    } else if err.is_body() || err.is_decode() {
        "response body cut short"
    } else if err.is_request() {
        "connection dropped"
    } else if err.is_redirect() {
        return (false, "redirect refused".into());
    } else if err.is_builder() {
        return (false, format!("invalid request: {err}"));
    } else {
        "transport error"
    };
    (true, format!("{kind}: {}", root_cause(err)))
}

/// A TLS or HTTP protocol failure: asking again will fail the same way
/// (https to a plain-http port, an untrusted certificate, a server that does
/// not speak HTTP). reqwest exposes no kind for these, so the typed source
/// chain is read: a `rustls::Error` (inside the `io::Error` the TLS connector
/// returns) or a hyper parse error.
fn tls_or_protocol(err: &reqwest::Error) -> Option<String> {
    let mut source: Option<&(dyn std::error::Error + 'static)> = std::error::Error::source(err);
    while let Some(cause) = source {
        if is_rustls(cause) {
            return Some(format!(
                "TLS or protocol error: {}; check the URL's scheme (https:// vs http://) and port",
                root_cause(err)
            ));
        }
        if let Some(h) = cause.downcast_ref::<hyper::Error>()
            && h.is_parse()
        {
            return Some(format!(
                "the server does not speak HTTP as expected ({}); check the URL's scheme and port",
                root_cause(err)
            ));
        }
        source = cause.source();
    }
    None
}

/// A `rustls::Error`, possibly inside nested `io::Error`s (the TLS stream
/// wraps it in one, the connector in another; `io::Error::source` skips them).
fn is_rustls(cause: &(dyn std::error::Error + 'static)) -> bool {
    let mut current = cause;
    for _ in 0..8 {
        if current.downcast_ref::<rustls::Error>().is_some() {
            return true;
        }
        match current
            .downcast_ref::<std::io::Error>()
            .and_then(std::io::Error::get_ref)
        {
            Some(inner) => current = inner,
            None => return false,
        }
    }
    false
}

/// The innermost source of an error: for a refused connection, "Connection
/// refused (os error 111)" rather than reqwest's outer "error sending request".
pub fn root_cause(err: &dyn std::error::Error) -> String {
    let mut last = err;
    while let Some(source) = last.source() {
        last = source;
    }
    last.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_seconds_and_date() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_445_412_470);
        assert_eq!(parse_retry_after("3", now), Some(Duration::from_secs(3)));
        assert_eq!(
            parse_retry_after("0.25", now),
            Some(Duration::from_millis(250))
        );
        // 2015-10-21T07:28:00Z is 10 s after `now`.
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now),
            Some(Duration::from_secs(10))
        );
        let later = now + Duration::from_secs(100);
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", later),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("soon", now), None);
        assert_eq!(parse_retry_after("1e20", now), Some(Duration::MAX));
        assert!(parse_retry_after("9300000000000000000", now).is_some());
        assert_eq!(parse_retry_after("NaN", now), None);
        assert_eq!(parse_retry_after("inf", now), None);
        assert_eq!(parse_retry_after("-1", now), None);
    }

    #[test]
    fn transient_statuses() {
        for s in [408u16, 429, 500, 502, 503, 504] {
            assert!(is_transient_status(StatusCode::from_u16(s).unwrap()), "{s}");
        }
        for s in [400u16, 401, 403, 404, 409, 501] {
            assert!(
                !is_transient_status(StatusCode::from_u16(s).unwrap()),
                "{s}"
            );
        }
    }

    #[test]
    fn delays_are_capped_and_counted() {
        let policy = RetryPolicy {
            max_retries: 5,
            initial_delay: Duration::from_millis(10),
            max_delay: Duration::from_millis(40),
            max_retry_after: Duration::from_secs(1),
        };
        let delays: Vec<_> = policy.delays().collect();
        assert_eq!(delays.len(), 5);
        // jitter adds at most the delay itself
        assert!(delays.iter().all(|d| *d <= Duration::from_millis(80)));
        assert_eq!(
            policy.wait(Some(Duration::from_secs(9)), Duration::ZERO),
            Duration::from_secs(1)
        );
    }
}
