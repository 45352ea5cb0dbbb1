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
//! - `X-RateLimit-Remaining` tells how many requests the server counted in its
//!   window (`limit - remaining`). The pacer counts its own starts in the last
//!   window; what the server counted beyond those was sent by someone else using
//!   the same Mode user (another job, a colleague's script). The pace then leaves
//!   them that share (`limit - others`, less a small margin) at once, and climbs
//!   back to the full limit gradually when they stop (at most an eighth of the
//!   limit per window, so two jobs that both paused do not collide again at
//!   full speed).
//!   A lone job is never slowed: at full pace `remaining` is always near 0,
//!   which says nothing by itself, but its own starts account for the count;
//! - a 429 pauses every request of the client until its `Retry-After` has passed,
//!   or for one whole window when the server gave no `Retry-After`, and cuts the
//!   pace by a quarter (additive increase, multiplicative decrease, as TCP does).

use std::collections::VecDeque;
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use tokio::time::Instant;

/// The longest pause a 429 imposes on the whole client (one hour): a longer
/// `Retry-After` fails its request instead (see [`crate::http::retry`]).
const MAX_PAUSE: Duration = Duration::from_secs(3600);

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
    /// The configured limit, lowered by `X-RateLimit-Limit`.
    cap: RateLimit,
    /// The limit in force: `cap` less what other clients use.
    limit: RateLimit,
    limiter: Arc<DefaultDirectRateLimiter>,
    paused_until: Option<Instant>,
    /// This client's request starts within the last window.
    starts: VecDeque<Instant>,
    /// When the limit in force last changed.
    changed_at: Instant,
}

impl State {
    /// The limit to switch to when `others` requests of the window were not
    /// ours, or `None` to keep the current one. Down at once; up by at most an
    /// eighth of the cap per window; no change for a wobble under 5 %.
    fn next_limit(&self, others: u32) -> Option<u32> {
        let cap = self.cap.requests.get();
        // Requests in flight and window edges blur both counts a little.
        let slack = (cap / 20).max(2);
        // Their share, and the slack as a margin: two clients that each took
        // `cap - others` exactly would together sit just over the limit.
        let share = if others > slack {
            cap.saturating_sub(others + slack).max(1)
        } else {
            cap
        };
        let current = self.limit.requests.get();
        let target = if share > current {
            if self.changed_at.elapsed() < self.cap.window {
                return None;
            }
            share.min(current + (cap / 8).max(1))
        } else {
            share
        };
        let worth_it = target == cap || target.abs_diff(current) >= (current / 20).max(2);
        (target != current && worth_it).then_some(target)
    }
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
                    cap: limit,
                    limit,
                    limiter: limiter_for(limit),
                    paused_until: None,
                    starts: VecDeque::new(),
                    changed_at: Instant::now(),
                }),
            }),
        }
    }

    /// The limit in force now.
    pub fn limit(&self) -> RateLimit {
        self.lock().limit
    }

    /// Waits until the next request may start; returns how many requests this
    /// client started within the last window, this one included (pass it to
    /// [`Pacer::observe`] with the answer's rate-limit headers).
    pub async fn acquire(&self) -> u32 {
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
            let mut state = self.lock();
            let now = Instant::now();
            if state.paused_until.is_some_and(|u| u > now) {
                continue;
            }
            let window = state.cap.window;
            while state
                .starts
                .front()
                .is_some_and(|t| now.duration_since(*t) > window)
            {
                state.starts.pop_front();
            }
            state.starts.push_back(now);
            return u32::try_from(state.starts.len()).unwrap_or(u32::MAX);
        }
    }

    /// Stops all request starts for `wait` (a 429's `Retry-After`, or one window).
    pub fn pause_for(&self, wait: Option<Duration>) {
        let mut state = self.lock();
        // Bounded: an absurd Retry-After (10^19 s) fails its request in the
        // retry loop; here it must not overflow the clock.
        let wait = wait.unwrap_or(state.limit.window).min(MAX_PAUSE);
        let now = Instant::now();
        let until = now.checked_add(wait).unwrap_or(now);
        if state.paused_until.is_none_or(|u| u < until) {
            state.paused_until = Some(until);
            // A 429 means the pace was too high for the server's view of the
            // window (shared with other clients, or a stricter server): cut it
            // by a quarter, and do not climb back right after the pause.
            let current = state.limit.requests.get();
            let lower = (current - current / 4).max(1);
            if lower < current {
                tracing::debug!(from = current, to = lower, "rate limited: slowing down");
                state.limit.requests = NonZeroU32::new(lower).unwrap_or(NonZeroU32::MIN);
                state.limiter = limiter_for(state.limit);
            }
            state.changed_at = until;
        }
    }

    /// Applies an answer's `X-RateLimit-Limit` and `X-RateLimit-Remaining`;
    /// `ours` is what [`Pacer::acquire`] returned for that request.
    pub fn observe(&self, server_limit: Option<u32>, remaining: Option<u32>, ours: u32) {
        let mut state = self.lock();
        if let Some(limit) = server_limit.and_then(NonZeroU32::new)
            && limit < state.cap.requests
        {
            tracing::debug!(
                from = state.cap.requests.get(),
                to = limit.get(),
                "server rate limit is lower than configured"
            );
            state.cap.requests = limit;
        }
        let others = match (server_limit, remaining) {
            (Some(limit), Some(remaining)) if remaining <= limit => {
                (limit - remaining).saturating_sub(ours)
            }
            _ => 0,
        };
        let current = state.limit.requests.get();
        let Some(target) = state.next_limit(others) else {
            return;
        };
        tracing::debug!(
            others,
            from = current,
            to = target,
            "sharing the rate limit with other clients"
        );
        state.limit.requests = NonZeroU32::new(target).unwrap_or(NonZeroU32::MIN);
        state.limit.window = state.cap.window;
        state.limiter = limiter_for(state.limit);
        state.changed_at = Instant::now();
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
        pacer.observe(Some(100), None, 1);
        assert_eq!(pacer.limit().requests.get(), 40);
        pacer.observe(Some(20), None, 1);
        assert_eq!(pacer.limit().requests.get(), 20);
        pacer.observe(Some(0), None, 1);
        assert_eq!(pacer.limit().requests.get(), 20);
    }

    #[test]
    fn remaining_explained_by_our_own_starts_changes_nothing() {
        let pacer = Pacer::new(limit(40, 10_000));
        // a lone job at full pace: the server's count is ours (a few in flight)
        for ours in [1, 10, 39, 40] {
            pacer.observe(Some(40), Some(40 - ours.min(40)), ours);
            pacer.observe(Some(40), Some(0), 40);
            assert_eq!(pacer.limit().requests.get(), 40);
        }
    }

    #[test]
    fn other_clients_get_their_share_and_it_comes_back() {
        let pacer = Pacer::new(limit(40, 1_000));
        // the server counted 36 but we started 18: 18 are someone else's;
        // we leave them that, and the slack (2) as a margin
        pacer.observe(Some(40), Some(4), 18);
        assert_eq!(pacer.limit().requests.get(), 20);
        // a small wobble does not rebuild the limiter
        pacer.observe(Some(40), Some(5), 18);
        assert_eq!(pacer.limit().requests.get(), 20);
        // the other job stopped: the pace climbs back gradually
        pacer.observe(Some(40), Some(20), 20);
        assert_eq!(
            pacer.limit().requests.get(),
            20,
            "not within a quarter window"
        );
        std::thread::sleep(Duration::from_millis(1_100));
        pacer.observe(Some(40), Some(20), 20);
        assert_eq!(pacer.limit().requests.get(), 25, "one eighth of the limit");
    }

    #[tokio::test]
    async fn acquire_counts_starts_within_the_window() {
        let pacer = Pacer::new(limit(1000, 200));
        let mut last = 0;
        for _ in 0..5 {
            last = pacer.acquire().await;
        }
        assert_eq!(last, 5);
        tokio::time::sleep(Duration::from_millis(250)).await;
        assert_eq!(pacer.acquire().await, 1, "older starts left the window");
    }
}
