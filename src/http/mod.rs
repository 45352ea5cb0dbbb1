//! HTTP building blocks shared by the Mode client and the uploader: the base-URL
//! policy, the one retry loop with its classification and `Retry-After`, the
//! request pacer, the body cap, and the redaction of echoed secrets.

pub mod body;
pub mod pace;
pub mod redact;
pub mod retry;
pub mod url_policy;

use std::time::Duration;

pub use pace::Pacer;
pub use retry::{
    Attempt, RetryPolicy, Verdict, is_transient_status, judge, parse_retry_after, transport_reason,
    with_retries,
};
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

/// A `reqwest` client builder for requests to `base`, with our user agent,
/// timeouts, rustls and no redirects: a 3xx is returned to the caller, which
/// treats it as an error, so credentials are never replayed to another origin.
///
/// Proxies: for a loopback `base` (the sandbox, a local tunnel) no proxy is
/// ever used, whatever `HTTP_PROXY`/`ALL_PROXY` say, so credentials meant for
/// this machine never reach a proxy. For any other host the system proxy
/// settings apply as curl reads them: `HTTPS_PROXY`/`https_proxy` (and
/// `HTTP_PROXY` for http), `ALL_PROXY`, with `NO_PROXY` honoured.
pub fn client_builder(timeouts: Timeouts, base: &url::Url) -> reqwest::ClientBuilder {
    let builder = reqwest::Client::builder()
        .user_agent(USER_AGENT)
        .connect_timeout(timeouts.connect)
        .timeout(timeouts.total)
        .redirect(reqwest::redirect::Policy::none());
    if url_policy::is_loopback(base) {
        builder.no_proxy()
    } else {
        builder
    }
}
