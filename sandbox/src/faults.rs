//! Fault injection: which request of a side (Mode API or ingest) fails, and how.
//!
//! A side counts its requests from 0 (control endpoints are never counted).
//! Request `n` gets `script[n]` while the script lasts; after that, with
//! probability `rate`, one of `kinds`. The random draw for request `n` comes
//! from a ChaCha8 stream numbered `n` under `seed`, so the same seed and the
//! same request order always fault the same requests, whatever the timing.

use std::time::Duration;

use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// How a faulted request fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaultKind {
    /// Answer this status with a small error body instead of the real answer.
    /// Meant for 500, 502, 503, 504 and 429 (a 429 carries `Retry-After: 1`).
    Status(u16),
    /// Sleep [`FaultConfig::stall`] before answering normally; a client with a
    /// shorter timeout gives up first.
    Stall,
    /// Send the status line and headers with the full `Content-Length`, then
    /// half of the body, then close the connection.
    DropMidBody,
    /// Ingest: store and record the file, then close the connection without
    /// sending any status line. On the Mode side: close without answering.
    DropAfterStore,
}

/// Which requests of one side fail, and how. See the module docs for the order.
#[derive(Debug, Clone, PartialEq)]
pub struct FaultConfig {
    /// Probability (0..=1) that a request past the script fails.
    pub rate: f64,
    /// The kinds a random fault picks from, uniformly. Empty = no random faults.
    pub kinds: Vec<FaultKind>,
    /// Applied in order to the first requests of the side (`None` = no fault),
    /// before `rate` applies.
    pub script: Vec<Option<FaultKind>>,
    /// How long a [`FaultKind::Stall`] sleeps.
    pub stall: Duration,
    /// Seed of the random draws.
    pub seed: u64,
}

impl FaultConfig {
    /// No faults at all.
    pub fn none() -> Self {
        FaultConfig::default()
    }

    /// Only the given script, then no faults.
    pub fn scripted(script: Vec<Option<FaultKind>>) -> Self {
        FaultConfig {
            script,
            ..FaultConfig::default()
        }
    }

    /// The fault for request number `n` (0-based) of this side, if any.
    pub fn pick(&self, n: u64) -> Option<FaultKind> {
        if let Some(scripted) = usize::try_from(n).ok().and_then(|i| self.script.get(i)) {
            return *scripted;
        }
        if self.kinds.is_empty() || self.rate <= 0.0 {
            return None;
        }
        let mut rng = ChaCha8Rng::seed_from_u64(self.seed);
        rng.set_stream(n);
        if rng.random_bool(self.rate.min(1.0)) {
            self.kinds.choose(&mut rng).copied()
        } else {
            None
        }
    }
}

impl Default for FaultConfig {
    /// Rate 0, no kinds, no script, a 30 s stall, seed 0.
    fn default() -> Self {
        FaultConfig {
            rate: 0.0,
            kinds: Vec::new(),
            script: Vec::new(),
            stall: Duration::from_secs(30),
            seed: 0,
        }
    }
}

/// A side's fault configuration plus its request counter.
#[derive(Debug, Default)]
pub(crate) struct FaultState {
    config: FaultConfig,
    next: u64,
}

impl FaultState {
    pub(crate) fn new(config: FaultConfig) -> Self {
        FaultState { config, next: 0 }
    }

    /// Replaces the configuration and restarts the count (the script applies
    /// again to the next requests).
    pub(crate) fn set(&mut self, config: FaultConfig) {
        *self = FaultState::new(config);
    }

    /// Counts one request and returns its fault and the stall duration.
    pub(crate) fn next(&mut self) -> (Option<FaultKind>, Duration) {
        let fault = self.config.pick(self.next);
        self.next += 1;
        (fault, self.config.stall)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn random(rate: f64, seed: u64) -> FaultConfig {
        FaultConfig {
            rate,
            kinds: vec![FaultKind::Status(500), FaultKind::Status(503)],
            seed,
            ..FaultConfig::default()
        }
    }

    #[test]
    fn script_comes_first_then_rate() {
        let mut config = random(1.0, 7);
        config.script = vec![None, Some(FaultKind::Stall)];
        assert_eq!(config.pick(0), None);
        assert_eq!(config.pick(1), Some(FaultKind::Stall));
        assert!(matches!(config.pick(2), Some(FaultKind::Status(_))));
    }

    #[test]
    fn random_faults_are_deterministic_and_near_the_rate() {
        let a: Vec<_> = (0..1000).map(|n| random(0.2, 3).pick(n)).collect();
        let b: Vec<_> = (0..1000).map(|n| random(0.2, 3).pick(n)).collect();
        let c: Vec<_> = (0..1000).map(|n| random(0.2, 4).pick(n)).collect();
        assert_eq!(a, b);
        assert_ne!(a, c);
        let hits = a.iter().filter(|f| f.is_some()).count();
        assert!((120..280).contains(&hits), "{hits} faults out of 1000");
    }

    #[test]
    fn none_never_faults() {
        assert!((0..100).all(|n| FaultConfig::none().pick(n).is_none()));
    }
}
