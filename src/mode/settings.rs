//! What the Mode client needs to know: where, who, and how patiently.

use std::sync::Arc;

use secrecy::SecretString;
use url::Url;

use super::counters::ApiCounters;
use crate::http::body::DEFAULT_MAX_BODY_BYTES;
use crate::http::pace::RateLimit;
use crate::http::{RetryPolicy, Timeouts};

/// HTTP basic credentials of a Mode API token: the token is the user name, its
/// secret the password (Mode's API authentication). Both kinds Mode issues today work:
/// Workspace API tokens (admin-created, act as a workspace admin) and Member
/// tokens (act with the member's own access). `Debug` prints `[REDACTED]`.
#[derive(Debug, Clone)]
pub struct Credentials {
    /// The API token (basic user).
    pub token: SecretString,
    /// The token's secret (basic password).
    pub secret: SecretString,
}

/// The Mode client's settings, independent of what is extracted.
#[derive(Debug, Clone)]
pub struct ClientSettings {
    /// Mode's base URL without `/api`, e.g. `https://app.mode.com`
    /// (checked by [`crate::http::parse_base_url`]).
    pub host: Url,
    /// The workspace username every workspace-scoped URL starts with
    /// (checked by [`validate_workspace`]).
    pub workspace: String,
    /// The API token and secret.
    pub credentials: Credentials,
    /// Per-request connect and total time limits.
    pub timeouts: Timeouts,
    /// Retries of transient failures.
    pub retry: RetryPolicy,
    /// Client-side pace: Mode publishes 40 requests per 10 s per user.
    pub rate_limit: RateLimit,
    /// Requests in flight at most (the pace, not this bound, sets the speed).
    pub concurrency: usize,
    /// The largest response body accepted, in bytes.
    pub max_body_bytes: u64,
    /// The client's request counters, shared with whoever holds these
    /// settings, so a caller can read them even when the run failed.
    pub counters: Arc<ApiCounters>,
}

impl ClientSettings {
    /// Settings with the defaults: Mode's rate limit, 8 in flight, default
    /// timeouts, retries and body cap.
    pub fn new(host: Url, workspace: String, credentials: Credentials) -> ClientSettings {
        ClientSettings {
            host,
            workspace,
            credentials,
            timeouts: Timeouts::default(),
            retry: RetryPolicy::default(),
            rate_limit: RateLimit::MODE,
            concurrency: 8,
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            counters: Arc::default(),
        }
    }
}

/// Checks a workspace username: it becomes a URL path segment, so it must be a
/// plain name. Mode usernames are letters, digits, `_`, `-` and `.`.
///
/// # Errors
/// A message (without the setting's name) when it is empty, `.` or `..`,
/// longer than 100 characters, or holds any other character.
pub fn validate_workspace(name: &str) -> Result<String, String> {
    let name = name.trim();
    let plain = name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
    if name.is_empty() || name == "." || name == ".." || name.len() > 100 || !plain {
        return Err(
            "is not a workspace username (letters, digits, '_', '-' and '.'; as in app.mode.com/NAME)"
                .into(),
        );
    }
    Ok(name.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn workspace_names() {
        assert_eq!(validate_workspace(" acme_co.1 ").unwrap(), "acme_co.1");
        for bad in ["", "..", ".", "a/b", "a b", "x?y", "%2e%2e"] {
            assert!(validate_workspace(bad).is_err(), "{bad}");
        }
    }
}
