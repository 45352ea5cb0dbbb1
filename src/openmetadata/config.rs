//! The validated settings of an OpenMetadata push, [`OmConfig`], and the
//! `--db-service` mapping, [`DbServices`].

use std::path::PathBuf;
use std::time::Duration;

use secrecy::SecretString;
use url::Url;

use crate::error::{Error, Result};
use crate::http::{RetryPolicy, Timeouts, parse_base_url};
use crate::settings::limits::NetOptions;
use crate::settings::{Layers, Missing, Setting};
use crate::upload::Options;
use crate::upload::settings::DIRECTORY_PATH;

/// Environment variable holding the bot's JWT.
pub const TOKEN_ENV: &str = "OPENMETADATA_JWT_TOKEN";
/// Environment variable naming a file whose content is the bot's JWT.
pub const TOKEN_FILE_ENV: &str = "OPENMETADATA_JWT_TOKEN_FILE";

/// `--om-host` (or `OPENMETADATA_HOST`).
pub const HOST: Setting = Setting::new("--om-host", "OPENMETADATA_HOST");
/// `--om-token`, or a file holding it (`--om-token-file`, `OPENMETADATA_JWT_TOKEN_FILE`).
pub const TOKEN: Setting =
    Setting::secret("--om-token", TOKEN_ENV, "--om-token-file", TOKEN_FILE_ENV);
/// `--service` (or `OPENMETADATA_SERVICE`).
pub const SERVICE: Setting = Setting::new("--service", "OPENMETADATA_SERVICE");
/// `--db-service` (or `OPENMETADATA_DB_SERVICE`).
pub const DB_SERVICE: Setting = Setting::new("--db-service", "OPENMETADATA_DB_SERVICE");

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
    /// Per-request time limits (`--timeout`, `--connect-timeout`).
    pub timeouts: Timeouts,
    /// Retries, backoff and `Retry-After` cap (`--max-retries`, …).
    pub retry: RetryPolicy,
}

impl OmConfig {
    /// Validates the layered settings (flag > environment > `./.env`, as for
    /// the castor target) into a config.
    ///
    /// # Errors
    /// [`Error::Config`] naming every missing setting at once (host, JWT,
    /// service, directory), a refused URL (see [`parse_base_url`]), an
    /// unreadable JWT file, a service name OpenMetadata would refuse, a
    /// malformed `--db-service`, a directory that is not one, or a bad
    /// timeout or retry value.
    pub fn resolve(layers: &Layers, options: Options, net: NetOptions) -> Result<OmConfig> {
        let mut missing = Missing::default();
        let host = missing.require(layers.get(&HOST), &HOST);
        let token = missing.require(layers.secret(&TOKEN)?, &TOKEN);
        let service = missing.require(layers.get(&SERVICE), &SERVICE);
        let dir = missing.require(layers.get(&DIRECTORY_PATH), &DIRECTORY_PATH);
        missing.check()?;
        let (Some(host), Some((token, _)), Some(service), Some(dir)) = (host, token, service, dir)
        else {
            return Err(Error::Internal("a required setting went missing".into()));
        };
        let host = parse_base_url(&host.text, &host.source.to_string())?;
        check_entity_name(&service.text, &service.source.to_string())?;
        let db_services = match layers.get(&DB_SERVICE) {
            Some(found) => DbServices::parse(&found.text)?,
            None => DbServices::None,
        };
        let dir = PathBuf::from(&dir.text);
        if !dir.is_dir() {
            return Err(Error::Config(format!(
                "--directory_path: '{}' is not a directory",
                dir.display()
            )));
        }
        let (timeouts, retry) = net.resolve(layers)?;
        Ok(OmConfig {
            host,
            token,
            service: service.text,
            db_services,
            dir,
            concurrency: options.concurrency.max(1),
            dry_run: options.dry_run,
            force: options.force,
            lock_timeout: options.lock_timeout,
            timeouts,
            retry,
        })
    }
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
}
