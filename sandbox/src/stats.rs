//! Request counters, served at `GET /_sandbox/stats`.

use std::collections::{BTreeMap, VecDeque};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

/// A snapshot of what the sandbox has answered since start or the last reset.
/// Control endpoints (`/_sandbox/…`) are never counted.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stats {
    /// Every `/api` request, whatever its answer.
    pub total: u64,
    /// `/api` requests by endpoint kind: `account, verify, workspace, user,
    /// spaces, reports, datasets, report, queries, charts, data_sources,
    /// definitions, memberships, other`.
    pub by_kind: BTreeMap<String, u64>,
    /// `/api` requests by path, query string removed.
    pub by_path: BTreeMap<String, u64>,
    /// `/api` answers by status. A connection closed without any status line
    /// counts as 0.
    pub by_status: BTreeMap<u16, u64>,
    /// 429 answers sent by the rate limiter (fault-injected 429s not included).
    pub rate_limited: u64,
    /// Faults injected on both sides.
    pub faults_injected: u64,
    /// Ingest requests (any path that is not `/api` nor `/_sandbox`).
    pub ingest_requests: u64,
    /// Ingest answers by status; 0 = connection closed without a status line.
    pub ingest_by_status: BTreeMap<u16, u64>,
    /// Most `/api` requests (all users) accepted within any one rate window
    /// (the configured window, or 10 s without a rate limit).
    pub max_in_window: u64,
}

/// Live counters plus the sliding window behind `max_in_window`.
#[derive(Debug)]
pub(crate) struct StatsState {
    stats: Stats,
    window: Duration,
    accepted: VecDeque<Instant>,
}

impl StatsState {
    pub(crate) fn new(window: Duration) -> Self {
        StatsState {
            stats: Stats::default(),
            window,
            accepted: VecDeque::new(),
        }
    }

    pub(crate) fn snapshot(&self) -> Stats {
        self.stats.clone()
    }

    pub(crate) fn reset(&mut self) {
        self.stats = Stats::default();
        self.accepted.clear();
    }

    /// Counts an `/api` request on arrival.
    pub(crate) fn api_request(&mut self, kind: &str, path: &str) {
        self.stats.total += 1;
        *self.stats.by_kind.entry(kind.to_owned()).or_default() += 1;
        *self.stats.by_path.entry(path.to_owned()).or_default() += 1;
    }

    /// Counts an `/api` request that passed authentication and the limiter.
    pub(crate) fn api_accepted(&mut self, now: Instant) {
        while let Some(first) = self.accepted.front() {
            if now.duration_since(*first) < self.window {
                break;
            }
            self.accepted.pop_front();
        }
        self.accepted.push_back(now);
        let in_window = self.accepted.len() as u64;
        self.stats.max_in_window = self.stats.max_in_window.max(in_window);
    }

    pub(crate) fn api_status(&mut self, status: u16) {
        *self.stats.by_status.entry(status).or_default() += 1;
    }

    pub(crate) fn rate_limited(&mut self) {
        self.stats.rate_limited += 1;
    }

    pub(crate) fn fault(&mut self) {
        self.stats.faults_injected += 1;
    }

    pub(crate) fn ingest_request(&mut self) {
        self.stats.ingest_requests += 1;
    }

    pub(crate) fn ingest_status(&mut self, status: u16) {
        *self.stats.ingest_by_status.entry(status).or_default() += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn max_in_window_forgets_old_requests() {
        let mut state = StatsState::new(Duration::from_secs(10));
        let start = Instant::now();
        for i in 0..5 {
            state.api_accepted(start + Duration::from_secs(i));
        }
        state.api_accepted(start + Duration::from_secs(30));
        assert_eq!(state.snapshot().max_in_window, 5);
        state.reset();
        assert_eq!(state.snapshot(), Stats::default());
    }
}
