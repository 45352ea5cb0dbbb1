//! Which base URLs the binaries accept.
//!
//! Both binaries send a secret with every request (Mode: HTTP basic auth; the
//! catalog: `Authorization: Token`). A plain `http://` URL would carry it in clear,
//! so `http://` is accepted only for loopback hosts (127.0.0.0/8, `::1`,
//! `localhost`), which the sandbox and local proxies use. Credentials embedded in
//! the URL (`https://user:pass@host`) are refused, because URLs are logged.

use std::net::IpAddr;

use url::{Host, Url};

use crate::error::{Error, Result};

/// Parses and checks a base URL given by the user.
///
/// `what` names the setting in messages, e.g. `"--host"`. A trailing `/` is
/// ignored (castor strips it too). Returns the URL without a trailing slash in
/// its path.
///
/// # Errors
/// [`Error::Config`] when the URL does not parse, has a scheme other than
/// `https`/`http`, uses `http` on a non-loopback host, carries a user name or
/// password, or has a query or fragment.
pub fn parse_base_url(raw: &str, what: &str) -> Result<Url> {
    let trimmed = raw.trim().trim_end_matches('/');
    let url = match without_scheme(trimmed) {
        Some(loopback) => loopback,
        None => Url::parse(trimmed).map_err(|e| {
            let hint = if trimmed.contains("://") {
                String::new()
            } else {
                format!("; add the scheme: https://{trimmed}")
            };
            Error::Config(format!(
                "{what}: '{trimmed}' is not a valid URL ({e}){hint}"
            ))
        })?,
    };
    if !url.username().is_empty() || url.password().is_some() {
        return Err(Error::Config(format!(
            "{what}: credentials must not be part of the URL; use the token and secret settings"
        )));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(Error::Config(format!(
            "{what}: '{trimmed}' must not have a query or fragment"
        )));
    }
    match url.scheme() {
        "https" => Ok(url),
        "http" if is_loopback(&url) => Ok(url),
        "http" => Err(Error::Config(format!(
            "{what}: refusing plain http:// for remote host '{}': the secret would cross the network in clear; use https://",
            url.host_str().unwrap_or_default()
        ))),
        other => Err(Error::Config(format!(
            "{what}: unsupported scheme '{other}' in '{trimmed}'; use https://"
        ))),
    }
}

/// `localhost:8080` or `127.0.0.1:9000` without a scheme: taken as `http://`
/// (loopback only; a remote host must say `https://` itself). `None` for
/// anything else, which is parsed as a URL.
fn without_scheme(text: &str) -> Option<Url> {
    if text.contains("://") {
        return None;
    }
    let url = Url::parse(&format!("http://{text}")).ok()?;
    (is_loopback(&url) && url.port().is_some()).then_some(url)
}

/// True for `localhost`, 127.0.0.0/8 and `::1`.
pub fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn https_is_accepted_and_trailing_slash_dropped() {
        let url = parse_base_url("https://app.mode.com/", "--host").unwrap();
        assert_eq!(url.as_str(), "https://app.mode.com/");
        assert_eq!(url.host_str(), Some("app.mode.com"));
    }

    #[test]
    fn http_only_on_loopback() {
        for ok in [
            "http://127.0.0.1:8080",
            "http://127.3.2.1",
            "http://localhost:1",
            "http://[::1]:9",
            "localhost:8080",
            "127.0.0.1:9000",
        ] {
            assert!(parse_base_url(ok, "--host").is_ok(), "{ok}");
        }
        assert_eq!(
            parse_base_url("localhost:8080", "--host").unwrap().as_str(),
            "http://localhost:8080/"
        );
        let err = parse_base_url("http://app.mode.com", "--host").unwrap_err();
        assert!(err.to_string().contains("in clear"), "{err}");
        assert!(parse_base_url("http://10.0.0.1", "--host").is_err());
    }

    #[test]
    fn credentials_and_junk_are_refused() {
        assert!(parse_base_url("https://u:p@app.mode.com", "--host").is_err());
        assert!(parse_base_url("ftp://app.mode.com", "--host").is_err());
        assert!(parse_base_url("not a url", "--host").is_err());
        let hint = parse_base_url("app.mode.com", "--host")
            .unwrap_err()
            .to_string();
        assert!(
            hint.contains("add the scheme: https://app.mode.com"),
            "{hint}"
        );
        assert!(parse_base_url("https://app.mode.com/?x=1", "--host").is_err());
    }
}
