//! The resolved settings of an extraction, and how they are resolved.
//!
//! The binary parses the command line with clap (raw strings for the settings
//! castor also reads from the environment, typed values for flag-only options);
//! [`ExtractConfig::resolve`] layers the raw ones (see [`crate::settings`]) and
//! validates everything. The library never sees clap. Secrets stay in
//! [`secrecy::SecretString`], whose `Debug` prints `[REDACTED]`, so a logged
//! config cannot leak them.

use std::num::NonZeroU32;
use std::path::PathBuf;
use std::time::Duration;

use regex::Regex;

use super::assets::AssetSet;
use super::store::StoreSettings;
use crate::error::{Error, Result};
use crate::http::pace::RateLimit;
use crate::http::{RetryPolicy, Timeouts, parse_base_url};
use crate::mode::page_sizes::DEFAULT_PER_PAGE;
use crate::mode::{ClientSettings, Credentials, validate_workspace};
use crate::settings::{Layers, Missing, limits};

/// castor's settings of `castor-extract-mode`, with our `_FILE` forms.
pub mod vars {
    use crate::settings::Setting;

    /// `-H/--host`: Mode's base URL (default `https://app.mode.com`).
    pub const HOST: Setting = Setting::new("--host", "CASTOR_MODE_ANALYTICS_HOST");
    /// `-w/--workspace`: the workspace username.
    pub const WORKSPACE: Setting = Setting::new("--workspace", "CASTOR_MODE_ANALYTICS_WORKSPACE");
    /// `-t/--token`: the API token (HTTP basic user).
    pub const TOKEN: Setting = Setting::secret(
        "--token",
        "CASTOR_MODE_ANALYTICS_TOKEN",
        "--token-file",
        "CASTOR_MODE_ANALYTICS_TOKEN_FILE",
    );
    /// `-s/--secret`: the API token's secret (HTTP basic password).
    pub const SECRET: Setting = Setting::secret(
        "--secret",
        "CASTOR_MODE_ANALYTICS_SECRET",
        "--secret-file",
        "CASTOR_MODE_ANALYTICS_SECRET_FILE",
    );
    /// `-o/--output`: the output directory.
    pub const OUTPUT: Setting = Setting::new("--output", "CASTOR_OUTPUT_DIRECTORY");
    /// `--state`: the run store's state file (ours; see `docs/store.md`).
    pub const STATE: Setting = Setting::new("--state", "MODE_EXTRACTOR_STATE");

    /// Every layered setting of `extract-mode`, for the binary's flag list.
    pub const ALL: [Setting; 6] = [HOST, WORKSPACE, TOKEN, SECRET, OUTPUT, STATE];
}

/// Mode's public host, castor's default for `--host`.
pub const DEFAULT_HOST: &str = "https://app.mode.com";

/// Everything `extract-mode` needs to run.
#[derive(Debug, Clone)]
pub struct ExtractConfig {
    /// The Mode client's settings: host, workspace, credentials, timeouts,
    /// retries, pace, concurrency and body cap.
    pub mode: ClientSettings,
    /// The directory the files are written to; created (0700) when missing.
    pub output: PathBuf,
    /// `per_page` asked of Mode's paged lists (`--per-page`, default
    /// [`DEFAULT_PER_PAGE`]; Mode's own default is 30).
    pub per_page: usize,
    /// Pages of one list at most before the run fails (`--max-pages`).
    pub max_pages: u32,
    /// How long to wait for another run's lock on the output directory
    /// (`None`: do not wait).
    pub lock_timeout: Option<Duration>,
    /// Make the first item problem fatal instead of logging it.
    pub strict: bool,
    /// Which collections and reports to extract.
    pub filters: Filters,
    /// Which asset files to write.
    pub assets: AssetSet,
    /// How often a progress line is logged when no bar is drawn.
    pub progress_every: Duration,
    /// Run, dry run or check.
    pub action: Action,
    /// `--state` and the flags that go with it.
    pub state: StoreSettings,
}

/// What `extract-mode` is asked to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Action {
    /// Extract and write the run.
    #[default]
    Run,
    /// `--dry-run`: list collections and reports, print the plan, write nothing.
    DryRun,
    /// `--check`: test the connection, one line per check, write nothing.
    Check,
}

/// `extract-mode`'s flag-only options, typed by clap, validated by
/// [`ExtractConfig::resolve`].
#[derive(Debug, Clone)]
pub struct ExtractOptions {
    /// `--assets` (empty: all).
    pub assets: AssetSet,
    /// `--include-collection` and the other filters.
    pub filters: Filters,
    /// `--strict`.
    pub strict: bool,
    /// `--lock-timeout`.
    pub lock_timeout: Option<Duration>,
    /// `--rate-limit` requests per `--rate-window`.
    pub rate_limit: u32,
    /// `--rate-window`.
    pub rate_window: Duration,
    /// `--concurrency`.
    pub concurrency: u32,
    /// `--per-page`.
    pub per_page: u32,
    /// `--max-pages`.
    pub max_pages: u32,
    /// `--max-body`, bytes.
    pub max_body_bytes: u64,
    /// `--timeout`, `--connect-timeout`, `--max-retries`, `--retry-*-delay`.
    pub net: limits::NetOptions,
    /// `--progress-every`.
    pub progress_every: Duration,
    /// `--dry-run` / `--check`.
    pub action: Action,
    /// `--full`.
    pub full: bool,
    /// `--full-refresh-after`.
    pub full_refresh_after: Duration,
    /// `--max-deletions`, a share between 0 and 1.
    pub max_deletions: f64,
}

impl Default for ExtractOptions {
    /// Mode's 40 requests per 10 s, 8 in flight, 30 per page, 100,000 pages,
    /// a 64 MiB body cap, and [`limits::NetOptions::default`].
    fn default() -> Self {
        ExtractOptions {
            assets: AssetSet::default(),
            filters: Filters::default(),
            strict: false,
            lock_timeout: None,
            rate_limit: 40,
            rate_window: Duration::from_secs(10),
            concurrency: 8,
            per_page: DEFAULT_PER_PAGE,
            max_pages: crate::mode::paginate::MAX_PAGES,
            max_body_bytes: crate::http::body::DEFAULT_MAX_BODY_BYTES,
            net: limits::NetOptions::default(),
            progress_every: Duration::from_secs(30),
            action: Action::Run,
            full: false,
            full_refresh_after: StoreSettings::default().full_refresh_after,
            max_deletions: StoreSettings::default().max_deletions,
        }
    }
}

impl ExtractConfig {
    /// Resolves the layered settings and the flag-only options.
    ///
    /// # Errors
    /// [`Error::Config`] naming the setting and where its value came from, for
    /// every missing setting at once, a bad URL (with a hint), a bad workspace
    /// username, or an option out of its range.
    pub fn resolve(layers: &Layers, options: ExtractOptions) -> Result<ExtractConfig> {
        let mut missing = Missing::default();
        let workspace = missing.require(layers.get(&vars::WORKSPACE), &vars::WORKSPACE);
        let token = missing.require(layers.secret(&vars::TOKEN)?, &vars::TOKEN);
        let secret = missing.require(layers.secret(&vars::SECRET)?, &vars::SECRET);
        let output = match options.action {
            Action::Run => missing.require(layers.get(&vars::OUTPUT), &vars::OUTPUT),
            _ => layers.get(&vars::OUTPUT),
        };
        missing.check()?;
        let (Some(workspace), Some(token), Some(secret)) = (workspace, token, secret) else {
            return Err(Error::Internal("a required setting went missing".into()));
        };
        let host = resolve_host(layers)?;
        let workspace =
            validate_workspace(&workspace.text).map_err(|why| workspace.invalid(why))?;
        let mut mode = ClientSettings::new(
            host,
            workspace,
            Credentials {
                token: token.0,
                secret: secret.0,
            },
        );
        apply_options(&mut mode, layers, &options)?;
        let state = resolve_state(layers, &options)?;
        Ok(ExtractConfig {
            mode,
            output: output.map_or_else(PathBuf::new, |o| PathBuf::from(o.text)),
            per_page: limits::range("--per-page", options.per_page, 1, 1000)? as usize,
            max_pages: limits::range("--max-pages", options.max_pages, 1, u32::MAX)?,
            lock_timeout: options.lock_timeout,
            strict: options.strict,
            filters: options.filters,
            assets: options.assets,
            progress_every: options.progress_every,
            action: options.action,
            state,
        })
    }

    /// The workspace username.
    pub fn workspace(&self) -> &str {
        &self.mode.workspace
    }
}

/// `--state` (layered: flag, `MODE_EXTRACTOR_STATE`, `.env`) and its flags.
fn resolve_state(layers: &Layers, options: &ExtractOptions) -> Result<StoreSettings> {
    if !(0.0..=1.0).contains(&options.max_deletions) {
        return Err(Error::Config(format!(
            "--max-deletions: {} is not between 0% and 100%",
            options.max_deletions
        )));
    }
    Ok(StoreSettings {
        path: layers
            .get(&vars::STATE)
            .map(|found| PathBuf::from(found.text)),
        full: options.full,
        full_refresh_after: options.full_refresh_after,
        max_deletions: options.max_deletions,
    })
}

fn resolve_host(layers: &Layers) -> Result<url::Url> {
    let Some(found) = layers.get(&vars::HOST) else {
        return parse_base_url(DEFAULT_HOST, vars::HOST.flag);
    };
    parse_base_url(&found.text, &found.source.to_string())
}

fn apply_options(
    mode: &mut ClientSettings,
    layers: &Layers,
    options: &ExtractOptions,
) -> Result<()> {
    let requests = limits::range("--rate-limit", options.rate_limit, 1, 100_000)?;
    let window = limits::duration(
        "--rate-window",
        options.rate_window,
        Duration::from_millis(10),
        Duration::from_secs(86_400),
    )?;
    mode.rate_limit = RateLimit {
        requests: NonZeroU32::new(requests).unwrap_or(NonZeroU32::MIN),
        window,
    };
    mode.concurrency = limits::range("--concurrency", options.concurrency, 1, 256)? as usize;
    mode.max_body_bytes = limits::range_u64(
        "--max-body",
        options.max_body_bytes,
        64 * 1024,
        4 * 1024 * 1024 * 1024,
    )?;
    let (timeouts, retry): (Timeouts, RetryPolicy) = options.net.resolve(layers)?;
    mode.timeouts = timeouts;
    mode.retry = retry;
    Ok(())
}

/// Include/exclude rules, applied before anything below the item is fetched.
///
/// A collection is kept when it matches at least one include pattern (or there
/// are none) and no exclude pattern; the same for reports, by report name. An
/// excluded collection or report costs no call below it.
#[derive(Debug, Clone, Default)]
pub struct Filters {
    /// Regular expressions on collection names; keep only matching ones.
    pub include_collections: Vec<Regex>,
    /// Regular expressions on collection names; drop matching ones.
    pub exclude_collections: Vec<Regex>,
    /// Regular expressions on report names; keep only matching ones.
    pub include_reports: Vec<Regex>,
    /// Regular expressions on report names; drop matching ones.
    pub exclude_reports: Vec<Regex>,
    /// Drop archived reports.
    pub exclude_archived: bool,
    /// Drop personal collections (`space_type` `private`).
    pub exclude_personal: bool,
}

impl Filters {
    /// Whether a name passes include/exclude lists. A `null` name matches no
    /// pattern: it is kept unless include patterns exist.
    pub fn keeps(include: &[Regex], exclude: &[Regex], name: Option<&str>) -> bool {
        let matches = |set: &[Regex]| name.is_some_and(|n| set.iter().any(|r| r.is_match(n)));
        (include.is_empty() || matches(include)) && !matches(exclude)
    }

    /// Whether a listed collection is kept: not a personal one when those are
    /// excluded, and its name passes the collection patterns.
    pub fn keeps_collection(&self, space: &serde_json::Value) -> bool {
        use crate::mode::hal::str_field;
        if self.exclude_personal && str_field(space, "space_type") == Some("private") {
            return false;
        }
        Filters::keeps(
            &self.include_collections,
            &self.exclude_collections,
            str_field(space, "name"),
        )
    }

    /// Whether a listed report (or dataset) is kept: not archived when those
    /// are excluded, and its name passes the report patterns.
    pub fn keeps_report(&self, report: &serde_json::Value) -> bool {
        use crate::mode::hal::str_field;
        if self.exclude_archived && report.get("archived") == Some(&serde_json::Value::Bool(true)) {
            return false;
        }
        Filters::keeps(
            &self.include_reports,
            &self.exclude_reports,
            str_field(report, "name"),
        )
    }

    /// The filters as JSON, for the summary.
    pub fn to_json(&self) -> serde_json::Value {
        let pats = |v: &[Regex]| v.iter().map(|r| r.as_str().to_owned()).collect::<Vec<_>>();
        serde_json::json!({
            "include_collection": pats(&self.include_collections),
            "exclude_collection": pats(&self.exclude_collections),
            "include_report": pats(&self.include_reports),
            "exclude_report": pats(&self.exclude_reports),
            "exclude_archived": self.exclude_archived,
            "exclude_personal": self.exclude_personal,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn include_and_exclude() {
        let inc = vec![Regex::new("^Sales").unwrap()];
        let exc = vec![Regex::new("draft").unwrap()];
        assert!(Filters::keeps(&inc, &exc, Some("Sales weekly")));
        assert!(!Filters::keeps(&inc, &exc, Some("Sales draft")));
        assert!(!Filters::keeps(&inc, &exc, Some("Finance")));
        assert!(!Filters::keeps(&inc, &exc, None));
        assert!(Filters::keeps(&[], &exc, None));
    }
}
