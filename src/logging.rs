//! Log and progress set-up for the binaries.
//!
//! Logs go to stderr only; stdout stays clean for data. The default level is
//! INFO for this crate (castor-style lines: authentication, each asset's start
//! and row count, each file written) and WARN for dependencies; `--quiet` keeps
//! only warnings and errors; `RUST_LOG` overrides both. `--log-format json`
//! prints one JSON object per line for schedulers. A progress bar is drawn only
//! when stderr is a terminal, the format is text and `--quiet` is off.
//!
//! The library reports progress through [`crate::progress::Progress`]: a bar
//! when bars are on, INFO lines otherwise.
//! No secret is ever a field of a span or event: the Mode secret and the ingest
//! token live in `secrecy` types whose `Debug` prints `[REDACTED]`.

use std::io::IsTerminal;
use std::sync::OnceLock;

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

static INSTALLED: OnceLock<(LogFormat, bool)> = OnceLock::new();

/// Whether progress bars are drawn (text format on a terminal, not quiet).
/// When they are not, [`crate::progress::Progress`] logs lines instead.
pub fn bars_on() -> bool {
    INSTALLED.get().is_some_and(|(_, bars)| *bars)
}

/// The format [`init`] installed (text before it ran).
pub fn format() -> LogFormat {
    INSTALLED.get().map_or(LogFormat::Text, |(f, _)| *f)
}

/// Prints a fatal error as the last stderr line: `{program}: error: {err}`
/// in text mode, or one JSON object with the message and `exit_code` in JSON
/// mode (so every stderr line of a failing run parses as JSON).
pub fn fatal(program: &str, err: &dyn std::fmt::Display, exit_code: u8) {
    match format() {
        LogFormat::Text => eprintln!("{program}: error: {err}"),
        LogFormat::Json => eprintln!("{}", fatal_json(program, &err.to_string(), exit_code)),
    }
}

/// The JSON line of a fatal error, shaped like the subscriber's own lines.
pub fn fatal_json(program: &str, message: &str, exit_code: u8) -> String {
    serde_json::json!({
        "timestamp": chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
        "level": "ERROR",
        "fields": {"message": format!("{program}: error: {message}"), "exit_code": exit_code},
        "target": program,
    })
    .to_string()
}

/// Installs the global subscriber. Call once, at the start of `main`.
pub fn init(options: LogOptions) {
    let bars =
        options.format == LogFormat::Text && !options.quiet && std::io::stderr().is_terminal();
    let _ = INSTALLED.set((options.format, bars));
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
        LogFormat::Text if bars => {
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
