//! Log and progress set-up for the binaries.
//!
//! Logs go to stderr only; stdout stays clean for data. The default level is
//! INFO for this crate (castor-style lines: authentication, each asset's start
//! and row count, each file written) and WARN for dependencies; `--quiet` keeps
//! only warnings and errors; `RUST_LOG` overrides both. `--log-format json`
//! prints one JSON object per line for schedulers. A progress bar is drawn only
//! when stderr is a terminal, the format is text and `--quiet` is off.
//!
//! The library reports progress through spans carrying the `indicatif.pb_show`
//! field (see [`progress_span`]); without a terminal they are plain spans.
//! No secret is ever a field of a span or event: the Mode secret and the ingest
//! token live in `secrecy` types whose `Debug` prints `[REDACTED]`.

use std::io::IsTerminal;

use tracing_indicatif::IndicatifLayer;
use tracing_indicatif::filter::IndicatifFilter;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{Layer, fmt};

/// The log line format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LogFormat {
    /// Human-readable lines: `2026-11-21T05:20:00.123Z  INFO message`.
    #[default]
    Text,
    /// One JSON object per line, for schedulers and log shippers.
    Json,
}

/// How the binary should log.
#[derive(Debug, Clone, Copy, Default)]
pub struct LogOptions {
    /// Only warnings and errors, no progress bar.
    pub quiet: bool,
    /// Text or JSON lines.
    pub format: LogFormat,
}

/// Installs the global subscriber. Call once, at the start of `main`.
pub fn init(options: LogOptions) {
    let default = if options.quiet {
        "warn"
    } else {
        "warn,mode_extractor=info,extract_mode=info,upload=info"
    };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    let registry = tracing_subscriber::registry();
    match options.format {
        LogFormat::Json => {
            let layer = fmt::layer()
                .json()
                .with_current_span(false)
                .with_span_list(false)
                .with_writer(std::io::stderr)
                .with_filter(filter);
            let _ = registry.with(layer).try_init();
        }
        LogFormat::Text if !options.quiet && std::io::stderr().is_terminal() => {
            let bars = IndicatifLayer::new();
            let layer = fmt::layer()
                .with_target(false)
                .with_writer(bars.get_stderr_writer())
                .with_filter(filter);
            let _ = registry
                .with(layer)
                .with(bars.with_filter(IndicatifFilter::new(false)))
                .try_init();
        }
        LogFormat::Text => {
            let layer = fmt::layer()
                .with_target(false)
                .with_ansi(std::io::stderr().is_terminal())
                .with_writer(std::io::stderr)
                .with_filter(filter);
            let _ = registry.with(layer).try_init();
        }
    }
}

/// A span drawn as a progress bar of `len` steps when bars are on.
///
/// Advance it with [`advance`]; the bar disappears when the span is dropped.
/// The bar is drawn from creation (the span is started, not entered, so log
/// lines do not carry it) until the span is dropped.
pub fn progress_span(name: &'static str, len: u64) -> tracing::Span {
    use tracing_indicatif::span_ext::IndicatifSpanExt;
    let span = tracing::info_span!("progress", indicatif.pb_show = true, task = name);
    if let Ok(style) = indicatif::ProgressStyle::with_template(
        "{msg} [{wide_bar}] {pos}/{len} ({elapsed}, eta {eta})",
    ) {
        span.pb_set_style(&style.progress_chars("=> "));
    }
    span.pb_set_length(len);
    span.pb_set_message(name);
    span.pb_start();
    span
}

/// Advances a [`progress_span`] by `n` steps and grows its length by `more`.
pub fn advance(span: &tracing::Span, n: u64, more: u64) {
    use tracing_indicatif::span_ext::IndicatifSpanExt;
    if more > 0 {
        span.pb_inc_length(more);
    }
    span.pb_inc(n);
}
