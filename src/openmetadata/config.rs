//! The validated settings of an OpenMetadata push, [`OmConfig`], and the
//! `--db-service` mapping, [`DbServices`].

use std::path::PathBuf;
use std::time::Duration;

use secrecy::SecretString;
use url::Url;

use crate::error::{Error, Result};
use crate::http::{RetryPolicy, parse_base_url};

/// Environment variable holding the bot's JWT.
pub const TOKEN_ENV: &str = "OPENMETADATA_JWT_TOKEN";
/// Environment variable naming a file whose content is the bot's JWT.
pub const TOKEN_FILE_ENV: &str = "OPENMETADATA_JWT_TOKEN_FILE";

/// Everything a push needs, validated. `Debug` shows the JWT as `[REDACTED]`.
#[derive(Debug, Clone)]
pub struct OmConfig {
    /// OpenMetadata's API base, e.g. `http://localhost:8585/api` (no trailing
    /// slash); requests go to `{host}/v1/...`.
    pub host: Url,
    /// The bot's JWT, sent as `Authorization: Bearer …` and nowhere else.
    pub token: SecretString,
    /// The dashboard service's name (created as `serviceType: Mode` when missing).
    pub service: String,
    /// Which database service holds the tables of each Mode data source.
    pub db_services: DbServices,
    /// The run directory.
    pub dir: PathBuf,
    /// Requests in flight at once (at least 1).
    pub concurrency: usize,
    /// List what would be created, updated and deleted; write nothing.
    pub dry_run: bool,
    /// Push runs the ledger says were already pushed.
    pub force: bool,
    /// How long to wait for extract-mode's lock; `None`: do not wait.
    pub lock_timeout: Option<Duration>,
    /// Per-request time limit.
    pub timeout: Duration,
    /// Retries, backoff and `Retry-After` cap.
    pub retry: RetryPolicy,
}

impl OmConfig {
    /// Checks the values given on the command line or in the environment.
    ///
    /// `token` is the `--om-token` / `OPENMETADATA_JWT_TOKEN` value, `token_file`
    /// the `OPENMETADATA_JWT_TOKEN_FILE` path (read here, trailing newline
    /// removed); the first one given wins.
    ///
    /// # Errors
    /// [`Error::Config`] for a missing host, token, service or directory, a
    /// refused URL (see [`parse_base_url`]), an unreadable token file, a service
    /// name OpenMetadata would refuse, or a malformed `--db-service`.
    pub fn resolve(raw: RawOmSettings) -> Result<OmConfig> {
        let host = raw
            .host
            .ok_or_else(|| Error::Config("--om-host is required with --target openmetadata".into()))
            .and_then(|h| parse_base_url(&h, "--om-host"))?;
        let token = resolve_token(raw.token, raw.token_file)?;
        let service = raw.service.ok_or_else(|| {
            Error::Config("--service (the dashboard service's name) is required".into())
        })?;
        check_entity_name(&service, "--service")?;
        let db_services = DbServices::parse(raw.db_service.as_deref().unwrap_or_default())?;
        let dir = raw.dir.ok_or_else(|| {
            Error::Config("--target openmetadata needs --directory_path (a run directory)".into())
        })?;
        if !dir.is_dir() {
            return Err(Error::Config(format!(
                "--directory_path: '{}' is not a directory",
                dir.display()
            )));
        }
        Ok(OmConfig {
            host,
            token,
            service,
            db_services,
            dir,
            concurrency: raw.concurrency.max(1),
            dry_run: raw.dry_run,
            force: raw.force,
            lock_timeout: raw.lock_timeout,
            timeout: Duration::from_secs(60),
            retry: raw.retry,
        })
    }
}

/// The unvalidated settings of [`OmConfig::resolve`].
#[derive(Debug, Clone, Default)]
pub struct RawOmSettings {
    /// `--om-host`.
    pub host: Option<String>,
    /// `--om-token` or `OPENMETADATA_JWT_TOKEN`.
    pub token: Option<SecretString>,
    /// `OPENMETADATA_JWT_TOKEN_FILE`.
    pub token_file: Option<PathBuf>,
    /// `--service`.
    pub service: Option<String>,
    /// `--db-service`.
    pub db_service: Option<String>,
    /// `-d/--directory_path`.
    pub dir: Option<PathBuf>,
    /// `--concurrency`.
    pub concurrency: usize,
    /// `--dry-run`.
    pub dry_run: bool,
    /// `--force`.
    pub force: bool,
    /// `--lock-timeout`.
    pub lock_timeout: Option<Duration>,
    /// The retry policy (shared with the castor target).
    pub retry: RetryPolicy,
}

fn resolve_token(token: Option<SecretString>, file: Option<PathBuf>) -> Result<SecretString> {
    if let Some(token) = token {
        return Ok(token);
    }
    let Some(path) = file else {
        return Err(Error::Config(format!(
            "--om-token is required (or set {TOKEN_ENV} or {TOKEN_FILE_ENV})"
        )));
    };
    let text = std::fs::read_to_string(&path).map_err(|e| {
        Error::Config(format!(
            "{TOKEN_FILE_ENV}: cannot read '{}': {e}",
            path.display()
        ))
    })?;
    let trimmed = text.trim_end_matches(['\n', '\r']);
    if trimmed.is_empty() {
        return Err(Error::Config(format!(
            "{TOKEN_FILE_ENV}: '{}' is empty",
            path.display()
        )));
    }
    Ok(SecretString::from(trimmed.to_owned()))
}

/// OpenMetadata's `entityName`: 1 to 256 characters, no `::`.
fn check_entity_name(name: &str, what: &str) -> Result<()> {
    let len = name.chars().count();
    if len == 0 || len > 256 || name.contains("::") {
        return Err(Error::Config(format!(
            "{what}: '{name}' is not an OpenMetadata entity name (1 to 256 characters, no '::')"
        )));
    }
    Ok(())
}

/// `--db-service`: the database service(s) whose tables lineage points at.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum DbServices {
    /// No database service: no lineage.
    #[default]
    None,
    /// One service for every data source.
    All(String),
    /// `DATA_SOURCE=SERVICE` pairs, keyed by Mode data source id or token.
    /// Data sources not listed get no lineage.
    ByDataSource(Vec<(String, String)>),
}

impl DbServices {
    /// Parses `SERVICE`, or comma-separated `DATA_SOURCE=SERVICE` pairs.
    ///
    /// # Errors
    /// [`Error::Config`] when pairs and a bare name are mixed, a side is empty,
    /// or a data source is named twice.
    pub fn parse(raw: &str) -> Result<DbServices> {
        let raw = raw.trim();
        if raw.is_empty() {
            return Ok(DbServices::None);
        }
        if !raw.contains('=') {
            check_entity_name(raw, "--db-service")?;
            return Ok(DbServices::All(raw.to_owned()));
        }
        let mut pairs: Vec<(String, String)> = Vec::new();
        for item in raw.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let Some((source, service)) = item.split_once('=') else {
                return Err(Error::Config(format!(
                    "--db-service: '{item}' is not DATA_SOURCE=SERVICE (give one name for all, or only pairs)"
                )));
            };
            let (source, service) = (source.trim(), service.trim());
            if source.is_empty() || service.is_empty() {
                return Err(Error::Config(format!(
                    "--db-service: '{item}' has an empty side"
                )));
            }
            check_entity_name(service, "--db-service")?;
            if pairs.iter().any(|(s, _)| s == source) {
                return Err(Error::Config(format!(
                    "--db-service: data source '{source}' is named twice"
                )));
            }
            pairs.push((source.to_owned(), service.to_owned()));
        }
        Ok(DbServices::ByDataSource(pairs))
    }

    /// The service of the data source with this id and (when known) token.
    pub fn service_for(&self, id: i64, token: Option<&str>) -> Option<&str> {
        match self {
            DbServices::None => None,
            DbServices::All(s) => Some(s),
            DbServices::ByDataSource(pairs) => {
                let id = id.to_string();
                pairs
                    .iter()
                    .find(|(k, _)| *k == id || Some(k.as_str()) == token)
                    .map(|(_, s)| s.as_str())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn db_service_forms() {
        assert_eq!(DbServices::parse("").unwrap(), DbServices::None);
        assert_eq!(
            DbServices::parse("warehouse").unwrap(),
            DbServices::All("warehouse".into())
        );
        let pairs = DbServices::parse("12=pg, ab34=snow").unwrap();
        assert_eq!(pairs.service_for(12, Some("zz")), Some("pg"));
        assert_eq!(pairs.service_for(7, Some("ab34")), Some("snow"));
        assert_eq!(pairs.service_for(7, Some("other")), None);
        assert!(DbServices::parse("12=pg,snow").is_err());
        assert!(DbServices::parse("12=").is_err());
        assert!(DbServices::parse("12=a,12=b").is_err());
    }

    #[test]
    fn token_file_is_read_and_trimmed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("jwt");
        std::fs::write(&path, "abc.def\n").unwrap();
        let token = resolve_token(None, Some(path)).unwrap();
        assert_eq!(secrecy::ExposeSecret::expose_secret(&token), "abc.def");
        assert!(resolve_token(None, None).is_err());
    }
}
