//! Progress of a long phase: a bar on a terminal, INFO lines everywhere else.
//!
//! Under cron, Kubernetes or Airflow there is no terminal, and a run of a
//! 400-report workspace would otherwise be silent for minutes. A [`Progress`]
//! counts done/total units (reports, bytes) and, when bars are off (see
//! [`crate::logging::bars_on`]), logs one line at INFO every interval:
//!
//! ```text
//! progress: reports 120/400 (30%), 812 API calls, 3.9 calls/s, ETA 1m 12s
//! ```
//!
//! The ETA is at the current pace: the time per unit so far times the units
//! left. On a terminal the bar shows the same counts; until the total is known
//! it is a spinner, never a full bar at 0/0.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use tracing_indicatif::span_ext::IndicatifSpanExt;

/// What a phase counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    /// Items, named by the phase (`reports`).
    Items,
    /// Bytes, shown in KiB/MiB.
    Bytes,
}

/// A source of the API call count, for the progress line.
pub type CallCounter = Arc<dyn Fn() -> u64 + Send + Sync>;

struct State {
    task: &'static str,
    unit: Unit,
    total: AtomicU64,
    done: AtomicU64,
    calls: Option<CallCounter>,
    started: Instant,
    span: tracing::Span,
}

/// A phase's progress; stops its ticker when dropped.
pub struct Progress {
    state: Arc<State>,
    ticker: Option<tokio::task::JoinHandle<()>>,
}

impl std::fmt::Debug for Progress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Progress")
            .field("task", &self.state.task)
            .finish()
    }
}

impl Progress {
    /// Starts a phase of `total` units (0 when not known yet), logging a line
    /// every `every` when bars are off. Must run inside a tokio runtime to log
    /// lines; outside one it only counts.
    pub fn start(
        task: &'static str,
        unit: Unit,
        total: u64,
        every: Duration,
        calls: Option<CallCounter>,
    ) -> Progress {
        let state = Arc::new(State {
            task,
            unit,
            total: AtomicU64::new(total),
            done: AtomicU64::new(0),
            calls,
            started: Instant::now(),
            span: bar(task, unit, total),
        });
        let ticker = (!crate::logging::bars_on() && !every.is_zero())
            .then(|| tokio::runtime::Handle::try_current().ok())
            .flatten()
            .map(|rt| rt.spawn(tick(state.clone(), every)));
        Progress { state, ticker }
    }

    /// Adds `more` units to the total.
    pub fn grow(&self, more: u64) {
        if more == 0 {
            return;
        }
        let total = self.state.total.fetch_add(more, Ordering::Relaxed) + more;
        if total == more {
            set_style(&self.state.span, self.state.unit, true);
        }
        self.state.span.pb_set_length(total);
    }

    /// Marks `n` more units done.
    pub fn add(&self, n: u64) {
        let done = self
            .state
            .done
            .fetch_add(n, Ordering::Relaxed)
            .saturating_add(n);
        self.state.span.pb_set_position(done);
    }

    /// Takes back `n` units (the bytes of a failed attempt).
    pub fn sub(&self, n: u64) {
        if n > 0 {
            let done = self
                .state
                .done
                .fetch_sub(n, Ordering::Relaxed)
                .saturating_sub(n);
            self.state.span.pb_set_position(done);
        }
    }

    /// The progress line as logged.
    pub fn line(&self) -> String {
        self.state.line()
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        if let Some(t) = self.ticker.take() {
            t.abort();
        }
    }
}

async fn tick(state: Arc<State>, every: Duration) {
    let mut interval = tokio::time::interval(every);
    interval.tick().await;
    loop {
        interval.tick().await;
        tracing::info!(
            task = state.task,
            done = state.done.load(Ordering::Relaxed),
            total = state.total.load(Ordering::Relaxed),
            api_calls = state.calls.as_ref().map(|c| c()),
            "{}",
            state.line()
        );
    }
}

impl State {
    fn line(&self) -> String {
        let done = self.done.load(Ordering::Relaxed);
        let total = self.total.load(Ordering::Relaxed);
        let elapsed = self.started.elapsed();
        let mut line = format!("progress: {} {}", self.task, count(self.unit, done, total));
        if let Some(calls) = &self.calls {
            let calls = calls();
            let rate = calls as f64 / elapsed.as_secs_f64().max(1e-3);
            line.push_str(&format!(", {calls} API calls, {rate:.1} calls/s"));
        }
        if let Some(eta) = eta(done, total, elapsed) {
            line.push_str(&format!(", ETA {}", humantime::format_duration(eta)));
        }
        line
    }
}

fn count(unit: Unit, done: u64, total: u64) -> String {
    let pct = done.saturating_mul(100).checked_div(total).unwrap_or(0);
    match (unit, total) {
        (Unit::Items, 0) => format!("{done} (total not known yet)"),
        (Unit::Items, _) => format!("{done}/{total} ({pct}%)"),
        (Unit::Bytes, _) => format!("{}/{} ({pct}%)", mib(done), mib(total)),
    }
}

fn mib(bytes: u64) -> String {
    format!("{:.1} MiB", bytes as f64 / (1024.0 * 1024.0))
}

/// Time left at the pace so far, rounded to seconds.
fn eta(done: u64, total: u64, elapsed: Duration) -> Option<Duration> {
    if done == 0 || total <= done {
        return None;
    }
    let per_unit = elapsed.as_secs_f64() / done as f64;
    let left = Duration::try_from_secs_f64(per_unit * (total - done) as f64).ok()?;
    Some(Duration::from_secs(left.as_secs()))
}

fn bar(task: &'static str, unit: Unit, total: u64) -> tracing::Span {
    let span = tracing::info_span!("progress", indicatif.pb_show = true, task);
    set_style(&span, unit, total > 0);
    span.pb_set_length(total);
    span.pb_set_message(task);
    span.pb_start();
    span
}

fn set_style(span: &tracing::Span, unit: Unit, known: bool) {
    let template = match (unit, known) {
        (_, false) => "{spinner} {msg} (listing…) {elapsed}",
        (Unit::Items, true) => "{msg} [{wide_bar}] {pos}/{len} ({elapsed}, eta {eta})",
        (Unit::Bytes, true) => "{msg} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} eta {eta}",
    };
    if let Ok(style) = indicatif::ProgressStyle::with_template(template) {
        span.pb_set_style(&style.progress_chars("=> "));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_and_eta() {
        let calls: CallCounter = Arc::new(|| 812);
        let p = Progress::start("reports", Unit::Items, 0, Duration::ZERO, Some(calls));
        assert!(
            p.line()
                .starts_with("progress: reports 0 (total not known yet), 812 API calls"),
            "{}",
            p.line()
        );
        p.grow(400);
        p.add(120);
        assert!(
            p.line()
                .starts_with("progress: reports 120/400 (30%), 812 API calls, "),
            "{}",
            p.line()
        );
        assert_eq!(
            eta(100, 400, Duration::from_secs(10)),
            Some(Duration::from_secs(30))
        );
        assert_eq!(eta(0, 400, Duration::from_secs(10)), None);
        assert_eq!(
            count(Unit::Bytes, 1 << 20, 4 << 20),
            "1.0 MiB/4.0 MiB (25%)"
        );
    }
}
