//! Range checks for numeric and duration options, and the network options
//! both binaries share (same flags, same rules, same messages).
//!
//! Every bound is here so that no value a user can type reaches an overflow
//! (a pace of 4 billion requests per nanosecond, a 10⁹-year window, a zero
//! timeout that would retry for ever).

use std::time::Duration;

use super::{Found, Layers, Setting};
use crate::error::{Error, Result};
use crate::http::{RetryPolicy, Timeouts};

/// `--timeout` (castor's `CASTOR_TIMEOUT_OVERRIDE`, seconds): the limit on one request.
pub const TIMEOUT: Setting = Setting::new("--timeout", "CASTOR_TIMEOUT_OVERRIDE");
/// `--max-retries` (castor's `CASTOR_RETRY_OVERRIDE`): retries after the first attempt.
pub const RETRIES: Setting = Setting::new("--max-retries", "CASTOR_RETRY_OVERRIDE");

/// The longest timeout or delay accepted: one day.
pub const MAX_DURATION: Duration = Duration::from_secs(86_400);

/// `value` when `min <= value <= max`.
///
/// # Errors
/// [`Error::Config`] naming `what` and the range.
pub fn range(what: &str, value: u32, min: u32, max: u32) -> Result<u32> {
    range_u64(what, u64::from(value), u64::from(min), u64::from(max)).map(|v| v as u32)
}

/// [`range`] for `u64` values.
///
/// # Errors
/// [`Error::Config`] naming `what` and the range.
pub fn range_u64(what: &str, value: u64, min: u64, max: u64) -> Result<u64> {
    if (min..=max).contains(&value) {
        Ok(value)
    } else {
        Err(Error::Config(format!(
            "{what}: {value} is out of range ({min} to {max})"
        )))
    }
}

/// `value` when `min <= value <= max`.
///
/// # Errors
/// [`Error::Config`] naming `what` and the range, in human units.
pub fn duration(what: &str, value: Duration, min: Duration, max: Duration) -> Result<Duration> {
    if (min..=max).contains(&value) {
        Ok(value)
    } else {
        let show = |d: Duration| humantime::format_duration(d).to_string();
        Err(Error::Config(format!(
            "{what}: {} is out of range ({} to {})",
            show(value),
            show(min),
            show(max)
        )))
    }
}

/// Parses a duration as the flags take it: `500ms`, `1m30s`, or a bare number
/// of seconds (`2.5`, castor's `CASTOR_TIMEOUT_OVERRIDE` form).
///
/// # Errors
/// A message without the setting's name.
pub fn parse_duration(text: &str) -> std::result::Result<Duration, String> {
    let text = text.trim();
    if let Ok(secs) = text.parse::<f64>() {
        return Duration::try_from_secs_f64(secs)
            .map_err(|_| "is not a number of seconds".to_owned());
    }
    humantime::parse_duration(text)
        .map_err(|e| format!("is not a duration ({e}); e.g. 30s, 2m, 500ms"))
}

/// The network options of both binaries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NetOptions {
    /// `--connect-timeout`.
    pub connect_timeout: Duration,
    /// `--retry-initial-delay`: the first backoff delay.
    pub retry_initial_delay: Duration,
    /// `--retry-max-delay`: the cap on one backoff delay.
    pub retry_max_delay: Duration,
}

impl Default for NetOptions {
    /// 10 s to connect; backoff from 0.5 s to 30 s.
    fn default() -> Self {
        NetOptions {
            connect_timeout: Duration::from_secs(10),
            retry_initial_delay: Duration::from_millis(500),
            retry_max_delay: Duration::from_secs(30),
        }
    }
}

impl NetOptions {
    /// The timeouts and retry policy, with `--timeout` and `--max-retries`
    /// taken from `layers` (default 60 s and 6).
    ///
    /// # Errors
    /// [`Error::Config`] for a value out of range (a zero timeout included)
    /// or one that does not parse, naming where it came from.
    pub fn resolve(&self, layers: &Layers) -> Result<(Timeouts, RetryPolicy)> {
        let total = match layers.get(&TIMEOUT) {
            None => Duration::from_secs(60),
            Some(found) => parse_in(&found, parse_duration, |d| {
                (Duration::from_millis(1)..=MAX_DURATION).contains(d)
            })?,
        };
        let max_retries = match layers.get(&RETRIES) {
            None => RetryPolicy::default().max_retries,
            Some(found) => parse_in(
                &found,
                |t| t.parse::<u32>().map_err(|e| e.to_string()),
                |n| *n <= 100,
            )?,
        };
        let min = Duration::from_millis(1);
        let connect = duration("--connect-timeout", self.connect_timeout, min, MAX_DURATION)?;
        let initial = duration(
            "--retry-initial-delay",
            self.retry_initial_delay,
            min,
            MAX_DURATION,
        )?;
        let max_delay = duration("--retry-max-delay", self.retry_max_delay, min, MAX_DURATION)?;
        let timeouts = Timeouts {
            connect: connect.min(total),
            total,
        };
        let retry = RetryPolicy {
            max_retries,
            initial_delay: initial,
            max_delay: max_delay.max(initial),
            ..RetryPolicy::default()
        };
        Ok((timeouts, retry))
    }
}

/// Parses `found` and checks it is in range; the error names its source.
fn parse_in<T>(
    found: &Found,
    parse: impl Fn(&str) -> std::result::Result<T, String>,
    ok: impl Fn(&T) -> bool,
) -> Result<T> {
    match parse(&found.text) {
        Ok(v) if ok(&v) => Ok(v),
        Ok(_) => Err(found.invalid("is out of range")),
        Err(why) => Err(found.invalid(why)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn layers(pairs: &[(&str, &str)]) -> Layers {
        let env = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()));
        Layers::new(std::iter::empty(), env, std::iter::empty()).unwrap()
    }

    #[test]
    fn castor_overrides_and_our_spellings() {
        let (t, r) = NetOptions::default()
            .resolve(&layers(&[
                ("CASTOR_TIMEOUT_OVERRIDE", "2.5"),
                ("CASTOR_RETRY_OVERRIDE", "0"),
            ]))
            .unwrap();
        assert_eq!((t.total, r.max_retries), (Duration::from_millis(2500), 0));
        let (t, _) = NetOptions::default()
            .resolve(&layers(&[("CASTOR_TIMEOUT_OVERRIDE", "90s")]))
            .unwrap();
        assert_eq!(t.total, Duration::from_secs(90));
    }

    #[test]
    fn zero_absurd_and_garbage_are_refused_with_their_source() {
        for bad in [
            "0s",
            "0",
            "1000000000y",
            "18446744073709551615s",
            "soon",
            "-1",
            "1e300",
        ] {
            let err = NetOptions::default()
                .resolve(&layers(&[("CASTOR_TIMEOUT_OVERRIDE", bad)]))
                .unwrap_err()
                .to_string();
            assert!(
                err.starts_with("CASTOR_TIMEOUT_OVERRIDE (environment)"),
                "{bad}: {err}"
            );
        }
        assert!(range("--rate-limit", 4_000_000_000, 1, 100_000).is_err());
        assert!(duration("--rate-window", Duration::MAX, Duration::ZERO, MAX_DURATION).is_err());
    }
}
