//! HTTP building blocks shared by the Mode client and the uploader: the base-URL
//! policy, the retry policy with `Retry-After`, and the request pacer.

pub mod pace;
pub mod retry;
pub mod url_policy;

use std::time::Duration;

pub use pace::Pacer;
pub use retry::{RetryPolicy, is_transient_status, parse_retry_after, transport_reason};
pub use url_policy::parse_base_url;

/// The `User-Agent` both binaries send: `mode-extractor/<version>`.
pub const USER_AGENT: &str = concat!("mode-extractor/", env!("CARGO_PKG_VERSION"));

/// Per-request time limits, in the units the flags take.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    /// Limit on establishing a TCP + TLS connection.
    pub connect: Duration,
    /// Limit on a whole request, from sending to the last byte of the body.
    pub total: Duration,
}

impl Default for Timeouts {
    /// 10 s to connect, 60 s in total (castor's uploader default is 60 s).
    fn default() -> Self {
        Timeouts {
            connect: Duration::from_secs(10),
            total: Duration::from_secs(60),
        }
    }
}

/// A `reqwest` client builder with our user agent, timeouts, rustls and no
/// redirects: a 3xx is returned to the caller, which treats it as an error, so
/// credentials are never replayed to another origin.
pub fn client_builder(timeouts: Timeouts) -> reqwest::ClientBuilder {
    reqwest::Client::builder()
        .user_agent(USER_AGENT)
        .connect_timeout(timeouts.connect)
        .timeout(timeouts.total)
        .redirect(reqwest::redirect::Policy::none())
}
