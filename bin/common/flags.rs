//! Flags both binaries share, with the same spellings and rules: the network
//! options, the logging options and `--metrics-file`. Included by each
//! binary's `cli.rs`.

use std::path::PathBuf;
use std::time::Duration;

use clap::ValueEnum;
use mode_extractor::ExitCode;
use mode_extractor::logging::{LogFormat, LogOptions};
use mode_extractor::metrics::{Recorder, Tool};
use mode_extractor::settings::limits::{self, NetOptions};

/// The network flags both binaries share (same spellings, same rules).
#[derive(Debug, clap::Args)]
pub struct NetFlags {
    /// Time limit on one whole request, e.g. 60s or 2.5 (seconds); default 60s
    /// [env: CASTOR_TIMEOUT_OVERRIDE]
    #[arg(long, value_name = "DURATION")]
    pub timeout: Option<String>,

    /// Time limit on connecting
    #[arg(long, default_value = "10s", value_parser = limits::parse_duration, value_name = "DURATION")]
    pub connect_timeout: Duration,

    /// Retries of a transient failure (429, 5xx, timeout, dropped connection);
    /// default 6 [env: CASTOR_RETRY_OVERRIDE]
    #[arg(long, value_name = "N")]
    pub max_retries: Option<String>,

    /// First retry delay; doubles up to --retry-max-delay, with jitter
    #[arg(long, default_value = "500ms", value_parser = limits::parse_duration, value_name = "DURATION")]
    pub retry_initial_delay: Duration,

    /// Longest retry delay (a server's Retry-After is honoured up to 10 min)
    #[arg(long, default_value = "30s", value_parser = limits::parse_duration, value_name = "DURATION")]
    pub retry_max_delay: Duration,
}

impl NetFlags {
    /// The typed part; `--timeout` and `--max-retries` are layered settings.
    pub fn options(&self) -> NetOptions {
        NetOptions {
            connect_timeout: self.connect_timeout,
            retry_initial_delay: self.retry_initial_delay,
            retry_max_delay: self.retry_max_delay,
        }
    }
}

/// The logging flags both binaries share.
#[derive(Debug, clap::Args)]
pub struct LogFlags {
    /// Only warnings and errors on stderr; no progress bar or progress lines
    /// (RUST_LOG, when set, replaces the level filter, -q included)
    #[arg(short, long)]
    pub quiet: bool,

    /// Log line format on stderr: text, or json (one JSON object per line, the
    /// fatal error included)
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub log_format: Format,

    /// How often a progress line is logged when no progress bar is drawn
    /// (not a terminal, --quiet off); 0s for none
    #[arg(long, default_value = "30s", value_parser = limits::parse_duration, value_name = "DURATION")]
    pub progress_every: Duration,
}

/// `--log-format` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

impl LogFlags {
    /// The library's log settings.
    pub fn options(&self) -> LogOptions {
        LogOptions {
            quiet: self.quiet,
            format: match self.log_format {
                Format::Text => LogFormat::Text,
                Format::Json => LogFormat::Json,
            },
        }
    }
}

/// `--metrics-file`, shared by both binaries (see `mode_extractor::metrics`).
#[derive(Debug, clap::Args)]
pub struct MetricsFlags {
    /// After the run, successful or not, write its metrics to this file
    /// (Prometheus text format, replaced atomically: for node_exporter's
    /// textfile collector); its directory must exist
    #[arg(long, value_name = "PATH")]
    pub metrics_file: Option<PathBuf>,
}

impl MetricsFlags {
    /// A recorder whose clock starts now, when `--metrics-file` is given.
    pub fn start(&self, tool: Tool) -> mode_extractor::Result<Option<Recorder>> {
        let path = self.metrics_file.as_deref();
        path.map(|p| Recorder::start(p, tool)).transpose()
    }
}

/// Writes the metrics of a run that ended with `code`; a failure to write them
/// is a warning, never a change of the run's exit code.
pub fn finish_metrics(metrics: Option<Recorder>, code: ExitCode) {
    if let Some(Err(err)) = metrics.map(|m| m.finish(code)) {
        tracing::warn!("metrics not written: {err}");
    }
}

/// `--completions SHELL` and `--man`: generated from the clap definitions.
#[derive(Debug, clap::Args)]
pub struct GenerateFlags {
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell) and exit
    #[arg(long, value_name = "SHELL")]
    pub completions: Option<clap_complete::Shell>,

    /// Print the man page (roff) and exit
    #[arg(long)]
    pub man: bool,
}

impl GenerateFlags {
    /// Prints what was asked for to stdout; `true` when something was printed.
    pub fn print<C: clap::CommandFactory>(&self) -> std::io::Result<bool> {
        let mut command = C::command();
        let name = command.get_name().to_owned();
        let mut out = std::io::stdout().lock();
        if let Some(shell) = self.completions {
            clap_complete::generate(shell, &mut command, name, &mut out);
            return Ok(true);
        }
        if self.man {
            clap_mangen::Man::new(command).render(&mut out)?;
            return Ok(true);
        }
        Ok(false)
    }
}

/// Whether the command line asks for JSON logs: clap's own errors happen
/// before the flags are parsed, and must still come out as JSON.
pub fn wants_json() -> bool {
    let args: Vec<String> = std::env::args().collect();
    args.iter().any(|a| a == "--log-format=json")
        || args
            .windows(2)
            .any(|w| w[0] == "--log-format" && w[1] == "json")
}

/// Parses the command line; a usage error is printed as clap does (or as one
/// JSON line with `--log-format json`) and exits 2; `--help` and `--version`
/// print and exit 0.
pub fn parse_or_exit<C: clap::Parser>(program: &str) -> C {
    match C::try_parse() {
        Ok(cli) => cli,
        Err(e) if !e.use_stderr() => e.exit(),
        Err(e) if wants_json() => {
            let text = e.to_string();
            let line = text.lines().next().unwrap_or_default();
            let line = line.trim_start_matches("error: ");
            eprintln!("{}", mode_extractor::logging::fatal_json(program, line, 2));
            std::process::exit(2);
        }
        Err(e) => e.exit(),
    }
}
