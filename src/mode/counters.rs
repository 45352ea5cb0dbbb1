//! The request counters of a run ([`ApiCounters`]): shared through
//! [`super::ClientSettings`] so that they outlive the client, and a failed
//! run still reports the calls, retries and 429s it made.

use std::sync::atomic::{AtomicU64, Ordering};

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
    /// Adds one to `counter`.
    pub(super) fn bump(counter: &AtomicU64) {
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
