//! Client-side pacing so that a healthy run provokes no 429.
//!
//! Mode publishes a limit of about 40 requests per 10 s per user. The [`Pacer`]
//! spaces request starts evenly (a GCRA limiter from `governor` with a burst of
//! one), so no window of the server's length ever sees more than the limit, with
//! a 2 % margin for network jitter. The concurrency bound only decides how many
//! requests may be in flight; the pacer decides how fast they start.
//!
//! Adjustments from the server:
//! - `X-RateLimit-Limit` lower than the configured limit lowers the pace (a higher
//!   one is ignored: the user may keep headroom for other jobs on purpose);
//! - a 429 pauses every request of the client until its `Retry-After` has passed,
//!   or for one whole window when the server gave no `Retry-After`.

use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use tokio::time::Instant;

/// The safety margin on the pacing interval (2 %).
const MARGIN: f64 = 1.02;

/// A rate limit: at most `requests` request starts per `window`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    /// Requests allowed per window.
    pub requests: NonZeroU32,
    /// The window length.
    pub window: Duration,
}

impl RateLimit {
    /// Mode's published limit: 40 requests per 10 seconds.
    pub const MODE: RateLimit = RateLimit {
        requests: NonZeroU32::new(40).unwrap(),
        window: Duration::from_secs(10),
    };

    /// The interval between two request starts, with the safety margin.
    pub fn interval(&self) -> Duration {
        self.window.mul_f64(MARGIN) / self.requests.get()
    }
}

/// Shared request pacer; cheap to clone.
#[derive(Clone)]
pub struct Pacer {
    inner: Arc<Inner>,
}

struct Inner {
    state: Mutex<State>,
}

struct State {
    limit: RateLimit,
    limiter: Arc<DefaultDirectRateLimiter>,
    paused_until: Option<Instant>,
}

fn limiter_for(limit: RateLimit) -> Arc<DefaultDirectRateLimiter> {
    let quota = Quota::with_period(limit.interval())
        .expect("interval is positive")
        .allow_burst(NonZeroU32::MIN);
    Arc::new(RateLimiter::direct(quota))
}

impl Pacer {
    /// A pacer for `limit`.
    pub fn new(limit: RateLimit) -> Self {
        Pacer {
            inner: Arc::new(Inner {
                state: Mutex::new(State {
                    limit,
                    limiter: limiter_for(limit),
                    paused_until: None,
                }),
            }),
        }
    }

    /// The limit in force now.
    pub fn limit(&self) -> RateLimit {
        self.lock().limit
    }

    /// Waits until the next request may start.
    pub async fn acquire(&self) {
        loop {
            let (limiter, paused_until) = {
                let state = self.lock();
                (state.limiter.clone(), state.paused_until)
            };
            if let Some(until) = paused_until.filter(|u| *u > Instant::now()) {
                tokio::time::sleep_until(until).await;
                continue;
            }
            limiter.until_ready().await;
            // A pause may have started while we waited for the limiter.
            let still_paused = self.lock().paused_until.is_some_and(|u| u > Instant::now());
            if !still_paused {
                return;
            }
        }
    }

    /// Stops all request starts for `wait` (a 429's `Retry-After`, or one window).
    pub fn pause_for(&self, wait: Option<Duration>) {
        let mut state = self.lock();
        let until = Instant::now() + wait.unwrap_or(state.limit.window);
        if state.paused_until.is_none_or(|u| u < until) {
            state.paused_until = Some(until);
        }
    }

    /// Applies an `X-RateLimit-Limit` value: lowers the pace if it is below the
    /// limit in force (the window is kept).
    pub fn observe_limit(&self, server_limit: u32) {
        let Some(requests) = NonZeroU32::new(server_limit) else {
            return;
        };
        let mut state = self.lock();
        if requests < state.limit.requests {
            tracing::debug!(
                from = state.limit.requests.get(),
                to = requests.get(),
                "server rate limit is lower than configured; slowing down"
            );
            state.limit.requests = requests;
            state.limiter = limiter_for(state.limit);
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // The state stays consistent even if a holder panicked.
        self.inner.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl std::fmt::Debug for Pacer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pacer")
            .field("limit", &self.limit())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limit(requests: u32, window_ms: u64) -> RateLimit {
        RateLimit {
            requests: NonZeroU32::new(requests).unwrap(),
            window: Duration::from_millis(window_ms),
        }
    }

    #[tokio::test]
    async fn starts_are_spaced_by_the_interval() {
        let pacer = Pacer::new(limit(10, 1000));
        let start = Instant::now();
        for _ in 0..11 {
            pacer.acquire().await;
        }
        // 11 starts need 10 intervals of 102 ms
        let elapsed = start.elapsed();
        assert!(elapsed >= Duration::from_millis(1000), "{elapsed:?}");
    }

    #[test]
    fn lower_server_limit_slows_down_higher_is_ignored() {
        let pacer = Pacer::new(limit(40, 10_000));
        pacer.observe_limit(100);
        assert_eq!(pacer.limit().requests.get(), 40);
        pacer.observe_limit(20);
        assert_eq!(pacer.limit().requests.get(), 20);
        pacer.observe_limit(0);
        assert_eq!(pacer.limit().requests.get(), 20);
    }
}
