//! `extract-mode`'s flags: castor's (`-H -w -t -s -o` and their environment
//! variables) plus ours. The settings castor also reads from the environment
//! stay raw strings here and are layered and validated by the library
//! (`ExtractConfig::resolve`), so a bad value gets the same message whichever
//! source it came from; flag-only options are typed here and range-checked there.

use std::time::Duration;

use clap::Parser;
use mode_extractor::extract::assets::{Asset, AssetSet};
use mode_extractor::extract::config::vars;
use mode_extractor::extract::{Action, ExtractOptions, Filters};
use mode_extractor::logging::LogOptions;
use mode_extractor::mode::page_sizes::DEFAULT_PER_PAGE;
use mode_extractor::mode::paginate::MAX_PAGES;
use mode_extractor::settings::limits;

use crate::flags::{GenerateFlags, LogFlags, MetricsFlags, NetFlags};
use mode_extractor::ExitCode;
use regex::Regex;

/// Extract a Mode Analytics workspace's metadata into castor-compatible JSON files.
///
/// Writes `{ts}-datasource.json`, `-collection`, `-report`, `-query`, `-member`
/// (castor's files), `-chart`, `-dataset`, `-definition`, `-lineage`,
/// `-errors_logs`, and `{ts}-summary.json` last, into the output directory.
#[derive(Debug, Parser)]
#[command(name = "extract-mode", version = mode_extractor::VERSION, after_help = after_help(), max_term_width = 100, args_override_self = true)]
pub struct Cli {
    /// Mode's base URL; https:// (http:// only for loopback hosts); default
    /// https://app.mode.com [env: CASTOR_MODE_ANALYTICS_HOST]
    #[arg(short = 'H', long, value_name = "URL")]
    host: Option<String>,

    /// Workspace username, as in app.mode.com/NAME [env: CASTOR_MODE_ANALYTICS_WORKSPACE]
    #[arg(short, long, value_name = "NAME")]
    workspace: Option<String>,

    /// API token (HTTP basic user) [env: CASTOR_MODE_ANALYTICS_TOKEN]
    #[arg(short, long, value_name = "TOKEN")]
    token: Option<String>,

    /// File holding the API token [env: CASTOR_MODE_ANALYTICS_TOKEN_FILE]
    #[arg(long, value_name = "FILE")]
    token_file: Option<String>,

    /// API token's secret (HTTP basic password). On a command line it is visible
    /// to other users of the machine (ps); prefer --secret-file, the environment
    /// or a .env file [env: CASTOR_MODE_ANALYTICS_SECRET]
    #[arg(short, long, value_name = "SECRET")]
    secret: Option<String>,

    /// File holding the secret, e.g. a mounted Kubernetes Secret
    /// [env: CASTOR_MODE_ANALYTICS_SECRET_FILE]
    #[arg(long, value_name = "FILE")]
    secret_file: Option<String>,

    /// Directory the files are written to (created 0700 when missing)
    /// [env: CASTOR_OUTPUT_DIRECTORY]
    #[arg(short, long, value_name = "DIR")]
    output: Option<String>,

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

    /// List collections and reports (a few calls), print what a run would fetch,
    /// the calls it needs and the time at the current pace; write nothing
    #[arg(long, conflicts_with = "check")]
    dry_run: bool,

    /// Test the set-up: credentials, workspace and what the token can list, one
    /// line per check on stdout; write nothing
    #[arg(long)]
    check: bool,

    /// Wait this long for another run's lock on the output directory (e.g. 30s, 5m)
    #[arg(long, value_parser = limits::parse_duration, value_name = "DURATION")]
    lock_timeout: Option<Duration>,

    /// Requests allowed per --rate-window (Mode publishes 40 per 10 s per user)
    #[arg(long, default_value_t = 40, value_name = "N")]
    rate_limit: u32,

    /// The rate limit's window (10ms to 1 day)
    #[arg(long, default_value = "10s", value_parser = limits::parse_duration, value_name = "DURATION")]
    rate_window: Duration,

    /// Requests in flight at most, 1 to 256 (the rate limit sets the pace)
    #[arg(long, default_value_t = 8, value_name = "N")]
    concurrency: u32,

    #[command(flatten)]
    net: NetFlags,

    /// per_page asked of Mode's paged lists, 1 to 1000 (Mode's default is 30;
    /// a value Mode refuses falls back to it, a page shorter than asked is checked)
    #[arg(long, default_value_t = DEFAULT_PER_PAGE, value_name = "N")]
    per_page: u32,

    /// Pages of one list at most; a list longer than this fails the run
    #[arg(long, default_value_t = MAX_PAGES, value_name = "N")]
    max_pages: u32,

    /// Largest response body accepted, in bytes (64 KiB to 4 GiB)
    #[arg(long, default_value_t = 64 * 1024 * 1024, value_name = "BYTES")]
    max_body: u64,

    /// State file (SQLite) remembering the last complete run: later runs fetch
    /// only what changed and write {ts}-changes.json (see docs/store.md)
    /// [env: MODE_EXTRACTOR_STATE]
    #[arg(long, value_name = "PATH")]
    state: Option<String>,

    /// With --state: fetch everything this time (the state is still updated)
    #[arg(long)]
    full: bool,

    /// With --state: fetch everything when the last full fetch is older than this
    #[arg(long, default_value = "7days", value_parser = limits::parse_duration, value_name = "DURATION")]
    full_refresh_after: Duration,

    /// With --state: delete nothing when more than this share of an asset's
    /// previous rows would go (20%, or 0.2)
    #[arg(long, default_value = "20%", value_parser = parse_share, value_name = "SHARE")]
    max_deletions: f64,

    #[command(flatten)]
    log: LogFlags,

    #[command(flatten)]
    pub generate: GenerateFlags,

    #[command(flatten)]
    metrics: MetricsFlags,
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

fn after_help() -> String {
    format!(
        "Settings: a flag wins over its environment variable [env: …], which wins over a .env\n\
         file in the working directory (never a parent directory). An empty variable counts as\n\
         unset. Secrets are never printed, logged or written to any file.\n\n{}",
        ExitCode::help_table_for(mode_extractor::exit::Binary::Extract)
    )
}

impl Cli {
    /// `--metrics-file`.
    pub fn metrics(&self) -> &MetricsFlags {
        &self.metrics
    }

    /// Log settings, needed before anything else.
    pub fn log_options(&self) -> LogOptions {
        self.log.options()
    }

    /// The layered settings given as flags, keyed by long flag.
    pub fn flags(&self) -> Vec<(&'static str, Option<String>)> {
        vec![
            (vars::HOST.flag, self.host.clone()),
            (vars::WORKSPACE.flag, self.workspace.clone()),
            (vars::TOKEN.flag, self.token.clone()),
            ("--token-file", self.token_file.clone()),
            (vars::SECRET.flag, self.secret.clone()),
            ("--secret-file", self.secret_file.clone()),
            (vars::OUTPUT.flag, self.output.clone()),
            (vars::STATE.flag, self.state.clone()),
            (limits::TIMEOUT.flag, self.net.timeout.clone()),
            (limits::RETRIES.flag, self.net.max_retries.clone()),
        ]
    }

    /// The flag-only options.
    pub fn options(&self) -> ExtractOptions {
        ExtractOptions {
            assets: if self.assets.is_empty() {
                AssetSet::default()
            } else {
                AssetSet::new(self.assets.clone())
            },
            filters: Filters {
                include_collections: self.include_collection.clone(),
                exclude_collections: self.exclude_collection.clone(),
                include_reports: self.include_report.clone(),
                exclude_reports: self.exclude_report.clone(),
                exclude_archived: self.exclude_archived,
                exclude_personal: self.exclude_personal,
            },
            strict: self.strict,
            lock_timeout: self.lock_timeout,
            rate_limit: self.rate_limit,
            rate_window: self.rate_window,
            concurrency: self.concurrency,
            per_page: self.per_page,
            max_pages: self.max_pages,
            max_body_bytes: self.max_body,
            net: self.net.options(),
            progress_every: self.log.progress_every,
            action: match (self.dry_run, self.check) {
                (true, _) => Action::DryRun,
                (_, true) => Action::Check,
                _ => Action::Run,
            },
            full: self.full,
            full_refresh_after: self.full_refresh_after,
            max_deletions: self.max_deletions,
        }
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
