//! Which failures are retried, how long to wait, and `Retry-After`.
//!
//! Policy (both binaries): 429, 500, 502, 503 and 504 answers, connection
//! resets and refusals, bodies cut short and timeouts are transient and retried
//! up to [`RetryPolicy::max_retries`] times with capped exponential backoff and
//! full jitter (computed by `backon`). When the server sends `Retry-After`, in
//! either of its forms (delta seconds or an HTTP date), that wait is used instead,
//! capped at [`RetryPolicy::max_retry_after`]. Any other status is final: a 401
//! or 404 will not change by asking again.

use std::time::{Duration, SystemTime};

use backon::{BackoffBuilder, ExponentialBuilder};
use reqwest::StatusCode;

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

/// Parses a `Retry-After` value: delta seconds (`"120"`, fractions accepted) or
/// an HTTP date (`"Wed, 21 Oct 2015 07:28:00 GMT"`, taken relative to `now`;
/// a date in the past means "now"). `None` for anything else.
pub fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<f64>() {
        return (secs.is_finite() && secs >= 0.0).then(|| Duration::from_secs_f64(secs));
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
