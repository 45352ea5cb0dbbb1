//! The generator's deterministic source of tokens, ids, timestamps and choices.

use std::collections::HashSet;

use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::{Value, json};

/// 2021-01-01T00:00:00Z in Unix milliseconds: generated timestamps start here.
const EPOCH_MS: i64 = 1_609_459_200_000;
/// Generated timestamps span about four years.
const SPAN_MS: i64 = 4 * 365 * 24 * 3_600_000;
/// One simulated day, in milliseconds.
pub(crate) const DAY_MS: i64 = 86_400_000;
/// The first simulated day starts here (2026-01-01T00:00:00Z): later than
/// every generated timestamp (span plus at most 155 days of offsets).
pub(crate) const FIRST_DAY_MS: i64 = 1_767_225_600_000;

/// Deterministic randomness plus uniqueness of tokens and ids.
pub(crate) struct Gen {
    rng: ChaCha8Rng,
    tokens: HashSet<String>,
    next_id: i64,
    /// The workspace username.
    pub(crate) ws: String,
}

impl Gen {
    pub(crate) fn new(seed: u64, ws: &str) -> Self {
        Gen {
            rng: ChaCha8Rng::seed_from_u64(seed),
            tokens: HashSet::new(),
            next_id: 1_900_000,
            ws: ws.to_owned(),
        }
    }

    /// Restarts the random stream from `seed`, keeping the tokens and ids
    /// already handed out (a simulated day draws from its own stream).
    pub(crate) fn reseed(&mut self, seed: u64) {
        self.rng = ChaCha8Rng::seed_from_u64(seed);
    }

    /// A fresh 12-character lowercase hex token, unique in this workspace.
    pub(crate) fn token(&mut self) -> String {
        loop {
            let value: u64 = self.rng.random_range(0..(1u64 << 48));
            let token = format!("{value:012x}");
            if self.tokens.insert(token.clone()) {
                return token;
            }
        }
    }

    /// A fresh positive id, increasing with small random gaps.
    pub(crate) fn id(&mut self) -> i64 {
        self.next_id += self.rng.random_range(1..=97);
        self.next_id
    }

    /// A random integer in `range`.
    pub(crate) fn int(&mut self, range: std::ops::RangeInclusive<i64>) -> i64 {
        self.rng.random_range(range)
    }

    /// A random index below `n` (`n` > 0).
    pub(crate) fn below(&mut self, n: usize) -> usize {
        self.rng.random_range(0..n.max(1))
    }

    /// `true` with probability `p`.
    pub(crate) fn chance(&mut self, p: f64) -> bool {
        self.rng.random_bool(p.clamp(0.0, 1.0))
    }

    /// One element of a non-empty slice (the first if it is empty-proof).
    pub(crate) fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        match items.choose(&mut self.rng) {
            Some(item) => item,
            None => &items[0],
        }
    }

    /// `k` distinct indices below `n`, in random order.
    pub(crate) fn distinct(&mut self, n: usize, k: usize) -> Vec<usize> {
        rand::seq::index::sample(&mut self.rng, n, k.min(n)).into_vec()
    }

    /// A random instant in the generated span, in Unix milliseconds.
    pub(crate) fn instant(&mut self) -> i64 {
        EPOCH_MS + self.rng.random_range(0..SPAN_MS)
    }

    /// An instant up to `max_days` after `after`.
    pub(crate) fn later(&mut self, after: i64, max_days: i64) -> i64 {
        after + self.rng.random_range(1..=max_days.max(1) * 86_400_000)
    }

    /// A float with three decimals in `[lo, hi)`.
    pub(crate) fn decimal(&mut self, lo: f64, hi: f64) -> f64 {
        let value = self.rng.random_range(lo..hi);
        (value * 1000.0).round() / 1000.0
    }
}

/// Unix milliseconds as Mode writes them: `2021-12-10T20:55:24.316Z`.
pub(crate) fn iso(ms: i64) -> String {
    chrono::DateTime::<chrono::Utc>::from_timestamp_millis(ms)
        .map(|t| t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string())
        .unwrap_or_default()
}

/// A HAL link: `{"href": href}`.
pub(crate) fn link(href: impl Into<String>) -> Value {
    json!({"href": href.into()})
}

/// A templated HAL link: `{"templated": true, "href": href}`.
pub(crate) fn templated(href: impl Into<String>) -> Value {
    json!({"templated": true, "href": href.into()})
}

/// A small `_forms` block with the edit and destroy actions of `action`.
pub(crate) fn forms(action: &str) -> Value {
    json!({
        "edit": {"method": "patch", "action": action, "content_type": "application/json"},
        "destroy": {"method": "delete", "action": action},
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_unique_lowercase_hex() {
        let mut g = Gen::new(1, "demo");
        let tokens: HashSet<String> = (0..2000).map(|_| g.token()).collect();
        assert_eq!(tokens.len(), 2000);
        assert!(tokens.iter().all(|t| {
            t.len() == 12
                && t.chars()
                    .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
        }));
    }

    #[test]
    fn iso_has_milliseconds_and_z() {
        assert_eq!(iso(1_639_169_724_316), "2021-12-10T20:55:24.316Z");
    }
}
