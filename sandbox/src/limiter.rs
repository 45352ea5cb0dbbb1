//! Mode's per-user rate limit as a sliding window.
//!
//! Mode publishes "about 40 requests per 10 s per username" and an
//! `X-RateLimit-Limit` header, but neither the 429 body nor `Retry-After`; the
//! sandbox answers `{"id":"rate_limited",…}` and sends `Retry-After` in the
//! configured form so clients are tested against all of them.

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant, SystemTime};

use super::config::{RateLimitConfig, RetryAfterForm};

/// The limiter's verdict on one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// Accepted; `remaining` more requests fit in the current window.
    Accepted { limit: u32, remaining: u32 },
    /// Refused; `retry_after` is the header value to send, if any.
    Limited {
        limit: u32,
        retry_after: Option<String>,
    },
}

/// Accepted-request times per basic-auth user.
#[derive(Debug)]
pub(crate) struct Limiter {
    config: RateLimitConfig,
    users: HashMap<String, VecDeque<Instant>>,
}

impl Limiter {
    pub(crate) fn new(config: RateLimitConfig) -> Self {
        Limiter {
            config,
            users: HashMap::new(),
        }
    }

    /// Decides on a request of `user` arriving at `now`. Refused requests are
    /// not counted in the window.
    pub(crate) fn check(&mut self, user: &str, now: Instant) -> Verdict {
        let limit = self.config.requests;
        let window = self.config.window;
        let times = self.users.entry(user.to_owned()).or_default();
        while times
            .front()
            .is_some_and(|first| now.duration_since(*first) >= window)
        {
            times.pop_front();
        }
        let used = u32::try_from(times.len()).unwrap_or(u32::MAX);
        if used >= limit {
            let free_at = times.front().map_or(now, |first| *first + window);
            let wait = free_at.saturating_duration_since(now);
            let retry_after = retry_after_value(self.config.retry_after, wait);
            return Verdict::Limited { limit, retry_after };
        }
        times.push_back(now);
        Verdict::Accepted {
            limit,
            remaining: limit - used - 1,
        }
    }
}

/// The `Retry-After` value for a wait: whole seconds rounded up (at least 1),
/// or the HTTP date of the end of the wait rounded up to the next second.
pub(crate) fn retry_after_value(form: RetryAfterForm, wait: Duration) -> Option<String> {
    let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    let seconds = seconds.max(1);
    match form {
        RetryAfterForm::Seconds => Some(seconds.to_string()),
        RetryAfterForm::HttpDate => {
            let at = SystemTime::now() + Duration::from_secs(seconds);
            Some(httpdate::fmt_http_date(at))
        }
        RetryAfterForm::Omitted => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limiter(form: RetryAfterForm) -> Limiter {
        Limiter::new(RateLimitConfig {
            requests: 2,
            window: Duration::from_millis(1500),
            retry_after: form,
        })
    }

    #[test]
    fn third_request_in_window_is_limited_and_not_counted() {
        let mut limiter = limiter(RetryAfterForm::Seconds);
        let t0 = Instant::now();
        let first = limiter.check("a", t0);
        assert_eq!(
            first,
            Verdict::Accepted {
                limit: 2,
                remaining: 1
            }
        );
        limiter.check("a", t0 + Duration::from_millis(100));
        let third = limiter.check("a", t0 + Duration::from_millis(200));
        assert_eq!(
            third,
            Verdict::Limited {
                limit: 2,
                retry_after: Some("2".to_owned())
            }
        );
        // Another user has its own window.
        assert!(matches!(limiter.check("b", t0), Verdict::Accepted { .. }));
        // The refused request did not extend the window.
        let later = limiter.check("a", t0 + Duration::from_millis(1550));
        assert!(matches!(later, Verdict::Accepted { remaining: 0, .. }));
    }

    #[test]
    fn retry_after_forms() {
        let wait = Duration::from_millis(200);
        assert_eq!(
            retry_after_value(RetryAfterForm::Seconds, wait).as_deref(),
            Some("1")
        );
        assert_eq!(retry_after_value(RetryAfterForm::Omitted, wait), None);
        let date = retry_after_value(RetryAfterForm::HttpDate, wait).unwrap_or_default();
        assert!(httpdate::parse_http_date(&date).is_ok(), "{date}");
    }
}
