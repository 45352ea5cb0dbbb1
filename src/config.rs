//! The resolved settings of an extraction.
//!
//! The binary turns flags, environment variables and `.env` into one
//! [`ExtractConfig`] (castor's precedence: flag, then environment, then `.env`);
//! the library never sees clap. Secrets stay in [`SecretString`], whose `Debug`
//! prints `[REDACTED]`, so a logged config cannot leak them.

use std::path::PathBuf;
use std::time::Duration;

use regex::Regex;
use secrecy::SecretString;
use url::Url;

use crate::extract::assets::AssetSet;
use crate::http::pace::RateLimit;
use crate::http::{RetryPolicy, Timeouts};

/// Everything `extract-mode` needs to run.
#[derive(Debug, Clone)]
pub struct ExtractConfig {
    /// Mode's base URL without `/api`, e.g. `https://app.mode.com` (`-H`,
    /// `CASTOR_MODE_ANALYTICS_HOST`). Checked by [`crate::http::parse_base_url`].
    pub host: Url,
    /// The workspace username (`-w`, `CASTOR_MODE_ANALYTICS_WORKSPACE`).
    pub workspace: String,
    /// API token: the HTTP basic user (`-t`, `CASTOR_MODE_ANALYTICS_TOKEN`).
    pub token: SecretString,
    /// API token password: the HTTP basic password (`-s`, `CASTOR_MODE_ANALYTICS_SECRET`).
    pub secret: SecretString,
    /// The directory the files are written to; created when missing (`-o`,
    /// `CASTOR_OUTPUT_DIRECTORY`).
    pub output: PathBuf,
    /// Per-request connect and total time limits.
    pub timeouts: Timeouts,
    /// Retry policy for transient failures.
    pub retry: RetryPolicy,
    /// Client-side pace: Mode publishes 40 requests per 10 s per user.
    pub rate_limit: RateLimit,
    /// Requests in flight at most (the pace, not this bound, sets the speed).
    pub concurrency: usize,
    /// `per_page` sent to Mode's paged lists (Mode's default is 30).
    pub per_page: usize,
    /// How long to wait for another run's lock on the output directory
    /// (`None`: do not wait).
    pub lock_timeout: Option<Duration>,
    /// Make the first item problem fatal instead of logging it.
    pub strict: bool,
    /// Which collections and reports to extract.
    pub filters: Filters,
    /// Which asset files to write.
    pub assets: AssetSet,
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
