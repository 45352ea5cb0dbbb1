//! `extract-mode`'s flags: castor's (`-H -w -t -s -o` and their environment
//! variables) plus ours. Resolved once into the library's `ExtractConfig`.

use std::num::NonZeroU32;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Parser, ValueEnum};
use mode_extractor::config::{ExtractConfig, Filters};
use mode_extractor::extract::StoreSettings;
use mode_extractor::extract::assets::{Asset, AssetSet};
use mode_extractor::http::pace::RateLimit;
use mode_extractor::http::{RetryPolicy, Timeouts, parse_base_url};
use mode_extractor::logging::{LogFormat, LogOptions};
use mode_extractor::{Error, ExitCode};
use regex::Regex;
use secrecy::SecretString;

/// Extract a Mode Analytics workspace's metadata into castor-compatible JSON files.
///
/// Writes `{ts}-datasource.json`, `-collection`, `-report`, `-query`, `-member`
/// (castor's files), `-chart`, `-dataset`, `-definition`, `-lineage`,
/// `-errors_logs`, and `{ts}-summary.json` last, into the output directory.
#[derive(Debug, Parser)]
#[command(name = "extract-mode", version, after_help = after_help(), max_term_width = 100, args_override_self = true)]
pub struct Cli {
    /// Mode's base URL; https:// (http:// only for loopback hosts)
    #[arg(
        short = 'H',
        long,
        env = "CASTOR_MODE_ANALYTICS_HOST",
        default_value = "https://app.mode.com"
    )]
    host: String,

    /// Workspace username
    #[arg(short, long, env = "CASTOR_MODE_ANALYTICS_WORKSPACE")]
    workspace: String,

    /// API token (HTTP basic user)
    #[arg(
        short,
        long,
        env = "CASTOR_MODE_ANALYTICS_TOKEN",
        hide_env_values = true
    )]
    token: String,

    /// API token password (HTTP basic password). On a command line it is visible
    /// to other users of the machine (ps); prefer the environment or a .env file
    #[arg(
        short,
        long,
        env = "CASTOR_MODE_ANALYTICS_SECRET",
        hide_env_values = true
    )]
    secret: String,

    /// Directory the files are written to (created when missing)
    #[arg(short, long, env = "CASTOR_OUTPUT_DIRECTORY")]
    output: PathBuf,

    /// Asset files to write, comma-separated (default: all): datasource,
    /// collection, report, query, member, chart, dataset, definition, lineage
    #[arg(long, value_delimiter = ',', value_name = "ASSET")]
    assets: Vec<Asset>,

    /// Keep only collections whose name matches this regex (repeatable)
    #[arg(long, value_name = "REGEX")]
    include_collection: Vec<Regex>,

    /// Drop collections whose name matches this regex (repeatable)
    #[arg(long, value_name = "REGEX")]
    exclude_collection: Vec<Regex>,

    /// Keep only reports whose name matches this regex (repeatable)
    #[arg(long, value_name = "REGEX")]
    include_report: Vec<Regex>,

    /// Drop reports whose name matches this regex (repeatable)
    #[arg(long, value_name = "REGEX")]
    exclude_report: Vec<Regex>,

    /// Drop archived reports
    #[arg(long)]
    exclude_archived: bool,

    /// Drop personal collections (space_type "private")
    #[arg(long)]
    exclude_personal: bool,

    /// Make the first item problem fatal (exit 12) instead of logging it
    #[arg(long)]
    strict: bool,

    /// Wait this long for another run's lock on the output directory (e.g. 30s, 5m)
    #[arg(long, value_parser = humantime::parse_duration, value_name = "DURATION")]
    lock_timeout: Option<Duration>,

    /// Requests allowed per --rate-window (Mode publishes 40 per 10 s per user)
    #[arg(long, default_value_t = NonZeroU32::new(40).expect("40 > 0"), value_name = "N")]
    rate_limit: NonZeroU32,

    /// The rate limit's window
    #[arg(long, default_value = "10s", value_parser = humantime::parse_duration, value_name = "DURATION")]
    rate_window: Duration,

    /// Requests in flight at most (the rate limit sets the pace)
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u16).range(1..=256), value_name = "N")]
    concurrency: u16,

    /// Time limit on one whole request
    #[arg(long, default_value = "60s", value_parser = humantime::parse_duration, value_name = "DURATION")]
    timeout: Duration,

    /// Time limit on connecting
    #[arg(long, default_value = "10s", value_parser = humantime::parse_duration, value_name = "DURATION")]
    connect_timeout: Duration,

    /// Retries of a transient failure (429, 5xx, timeout, dropped connection)
    #[arg(long, default_value_t = 6, value_name = "N")]
    max_retries: u32,

    /// First retry delay; doubles up to --retry-max-delay, with jitter
    #[arg(long, default_value = "500ms", value_parser = humantime::parse_duration, value_name = "DURATION")]
    retry_initial_delay: Duration,

    /// Longest retry delay (a server's Retry-After is honoured up to 10 min)
    #[arg(long, default_value = "30s", value_parser = humantime::parse_duration, value_name = "DURATION")]
    retry_max_delay: Duration,

    /// per_page sent to Mode's paged lists
    #[arg(long, default_value_t = 30, value_parser = clap::value_parser!(u16).range(1..=1000), value_name = "N")]
    per_page: u16,

    /// State file (SQLite) remembering the last complete run: later runs fetch
    /// only what changed and write {ts}-changes.json
    #[arg(long, env = "MODE_EXTRACTOR_STATE", value_name = "PATH")]
    state: Option<PathBuf>,

    /// With --state: fetch everything this time (the state is still updated)
    #[arg(long)]
    full: bool,

    /// With --state: fetch everything when the last full fetch is older than this
    #[arg(long, default_value = "7days", value_parser = humantime::parse_duration, value_name = "DURATION")]
    full_refresh_after: Duration,

    /// With --state: delete nothing when more than this share of an asset's
    /// rows would go (e.g. 20%, 0.2)
    #[arg(long, default_value = "20%", value_parser = parse_share, value_name = "SHARE")]
    max_deletions: f64,

    /// Only warnings and errors on stderr; no progress bar
    #[arg(short, long)]
    quiet: bool,

    /// Log line format on stderr
    #[arg(long, value_enum, default_value_t = Format::Text)]
    log_format: Format,
}

/// `--log-format` values.
#[derive(Debug, Clone, Copy, ValueEnum)]
enum Format {
    Text,
    Json,
}

fn after_help() -> String {
    format!(
        "Settings: a flag wins over its environment variable, which wins over a .env file in the\n\
         working directory. Secrets are never printed, logged or written to any file.\n\n{}",
        ExitCode::help_table()
    )
}

/// `20%` or `0.2` → 0.2; between 0 and 1.
fn parse_share(text: &str) -> Result<f64, String> {
    let text = text.trim();
    let share = match text.strip_suffix('%') {
        Some(percent) => percent.trim().parse::<f64>().map(|p| p / 100.0),
        None => text.parse::<f64>(),
    }
    .map_err(|_| format!("'{text}' is not a share such as 20% or 0.2"))?;
    if (0.0..=1.0).contains(&share) {
        Ok(share)
    } else {
        Err(format!("'{text}' is not between 0% and 100%"))
    }
}

impl Cli {
    /// The state settings (`--state` and the flags that go with it).
    pub fn store_settings(&self) -> StoreSettings {
        StoreSettings {
            path: self.state.clone().filter(|p| !p.as_os_str().is_empty()),
            full: self.full,
            full_refresh_after: self.full_refresh_after,
            max_deletions: self.max_deletions,
        }
    }

    /// Log settings, needed before anything else.
    pub fn log_options(&self) -> LogOptions {
        LogOptions {
            quiet: self.quiet,
            format: match self.log_format {
                Format::Text => LogFormat::Text,
                Format::Json => LogFormat::Json,
            },
        }
    }

    /// Resolves the flags into the library's config.
    pub fn into_config(self) -> Result<ExtractConfig, Error> {
        let workspace = self.workspace.trim().to_owned();
        if workspace.is_empty() || workspace.contains('/') {
            return Err(Error::Config(format!(
                "--workspace: '{workspace}' is not a workspace username"
            )));
        }
        Ok(ExtractConfig {
            host: parse_base_url(&self.host, "--host")?,
            workspace,
            token: SecretString::from(self.token),
            secret: SecretString::from(self.secret),
            output: self.output,
            timeouts: Timeouts {
                connect: self.connect_timeout,
                total: self.timeout,
            },
            retry: RetryPolicy {
                max_retries: self.max_retries,
                initial_delay: self.retry_initial_delay,
                max_delay: self.retry_max_delay.max(self.retry_initial_delay),
                ..RetryPolicy::default()
            },
            rate_limit: RateLimit {
                requests: self.rate_limit,
                window: self.rate_window.max(Duration::from_millis(1)),
            },
            concurrency: usize::from(self.concurrency),
            per_page: usize::from(self.per_page),
            lock_timeout: self.lock_timeout,
            strict: self.strict,
            filters: Filters {
                include_collections: self.include_collection,
                exclude_collections: self.exclude_collection,
                include_reports: self.include_report,
                exclude_reports: self.exclude_report,
                exclude_archived: self.exclude_archived,
                exclude_personal: self.exclude_personal,
            },
            assets: if self.assets.is_empty() {
                AssetSet::default()
            } else {
                AssetSet::new(self.assets)
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn verify_cli() {
        Cli::command().debug_assert();
    }

    #[test]
    fn shares() {
        assert_eq!(parse_share("20%"), Ok(0.2));
        assert_eq!(parse_share("0.5"), Ok(0.5));
        assert!(parse_share("120%").is_err());
        assert!(parse_share("lots").is_err());
    }
}
