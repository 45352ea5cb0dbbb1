//! The validated upload configuration, [`UploadConfig`], and its value types.

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use secrecy::SecretString;
use url::Url;
use uuid::Uuid;

use super::settings::RawSettings;
use crate::error::{Error, Result};
use crate::http::{RetryPolicy, parse_base_url};

/// castor's `FileType`: decides the remote path template (see [`super::remote_path`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum FileType {
    /// dbt manifest: `transformation-{source_id}/{ts}-manifest.json`; one file (`-f`).
    Dbt,
    /// LookML archive: `visualization-{source_id}/lookml/{project}/{ts}-{file}`; one file (`-f`).
    Lookml,
    /// Data quality results: `quality-{source_id}/{ts}-{file}`.
    Quality,
    /// Visualization metadata (Mode files): `visualization-{source_id}/{file}`. The default.
    #[default]
    Viz,
    /// Warehouse metadata: `warehouse-{source_id}/{file}`.
    Warehouse,
}

impl FileType {
    /// castor's spelling, e.g. `"VIZ"`.
    pub const fn as_str(self) -> &'static str {
        match self {
            FileType::Dbt => "DBT",
            FileType::Lookml => "LOOKML",
            FileType::Quality => "QUALITY",
            FileType::Viz => "VIZ",
            FileType::Warehouse => "WAREHOUSE",
        }
    }
}

impl FromStr for FileType {
    type Err = Error;

    /// Accepts castor's names, case-insensitively.
    fn from_str(s: &str) -> Result<Self> {
        match s.trim().to_ascii_uppercase().as_str() {
            "DBT" => Ok(FileType::Dbt),
            "LOOKML" => Ok(FileType::Lookml),
            "QUALITY" => Ok(FileType::Quality),
            "VIZ" => Ok(FileType::Viz),
            "WAREHOUSE" => Ok(FileType::Warehouse),
            _ => Err(Error::Config(format!(
                "--file_type: '{s}' is not one of DBT, LOOKML, QUALITY, VIZ, WAREHOUSE"
            ))),
        }
    }
}

/// castor's `Zone`: which ingest host receives the files.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Zone {
    /// `https://ingest.castordoc.com` (castor's default).
    #[default]
    Eu,
    /// `https://ingest.us.castordoc.com`.
    Us,
}

impl Zone {
    /// castor's `INGEST_URLS` entry for this zone.
    pub const fn ingest_url(self) -> &'static str {
        match self {
            Zone::Eu => "https://ingest.castordoc.com",
            Zone::Us => "https://ingest.us.castordoc.com",
        }
    }
}

impl FromStr for Zone {
    type Err = Error;

    /// `EU` or `US`, case-insensitively.
    fn from_str(s: &str) -> Result<Self> {
        match s.trim().to_ascii_uppercase().as_str() {
            "EU" => Ok(Zone::Eu),
            "US" => Ok(Zone::Us),
            _ => Err(Error::Config(format!("--zone: '{s}' is not EU or US"))),
        }
    }
}

/// What to send: one file, or a directory of runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// `-f`: this one file, always sent (no ledger, no lock), as castor does.
    File(PathBuf),
    /// `-d`: the directory's complete, verified runs and stray `.json`/`.csv`
    /// files, under its shared lock, resumable through its ledger.
    Directory(PathBuf),
}

/// Settings that have no environment variable (flags only), already typed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Options {
    /// Files in flight at once (`--concurrency`, at least 1).
    pub concurrency: usize,
    /// How long to wait for extract-mode's lock (`--lock-timeout`); `None`: do not wait.
    pub lock_timeout: Option<Duration>,
    /// Send files the ledger says were already acknowledged (`--force`).
    pub force: bool,
    /// List what would be sent; send nothing (`--dry-run`).
    pub dry_run: bool,
    /// First backoff delay (`--retry-initial-delay-ms`); `None`: the policy default.
    pub retry_initial_delay: Option<Duration>,
}

impl Default for Options {
    /// Concurrency 4, no lock wait, no force, no dry run, default backoff.
    fn default() -> Self {
        Options {
            concurrency: 4,
            lock_timeout: None,
            force: false,
            dry_run: false,
            retry_initial_delay: None,
        }
    }
}

/// Everything an upload needs, validated. Build it with [`UploadConfig::resolve`]
/// or field by field in tests. `Debug` shows the token as `[REDACTED]`.
#[derive(Debug, Clone)]
pub struct UploadConfig {
    /// The catalog API token, sent as `Authorization: Token …` and nowhere else.
    pub token: SecretString,
    /// The source id; rendered lowercase and hyphenated in paths, as castor's `str(UUID)`.
    pub source_id: Uuid,
    /// One file or a directory.
    pub target: Target,
    /// Decides the remote path template.
    pub file_type: FileType,
    /// Looker project, required with (and only used by) `LOOKML`.
    pub project_name: Option<String>,
    /// Base URL of the ingest service, no trailing slash: the zone's, or `--endpoint`.
    pub endpoint: Url,
    /// Base per-request time limit (`CASTOR_TIMEOUT_OVERRIDE`, default 60 s); see
    /// [`super::send`] for how it grows with the file size.
    pub timeout: Duration,
    /// Retries, backoff and `Retry-After` cap.
    pub retry: RetryPolicy,
    /// Flag-only options.
    pub options: Options,
}

impl UploadConfig {
    /// Validates a stack of settings (see [`RawSettings::over`]) into a config.
    ///
    /// Defaults: file type `VIZ`, zone `EU`, timeout 60 s, retries as
    /// [`RetryPolicy::default`] (castor retries once, and only timeouts).
    ///
    /// # Errors
    /// [`Error::Config`] (exit `Usage`) for a missing token or source id, a
    /// source id that is not a UUID, both or neither of file and directory, a
    /// file or directory that does not exist, an unknown file type or zone,
    /// `DBT`/`LOOKML` with a directory, `LOOKML` without a plain project name,
    /// a refused endpoint URL, or a timeout/retry override that is not a number.
    pub fn resolve(raw: RawSettings, options: Options) -> Result<UploadConfig> {
        let token = raw
            .token
            .ok_or_else(|| missing("--token", super::env::TOKEN))?;
        let source_id = parse_source_id(raw.source_id.as_deref())?;
        let file_type = raw
            .file_type
            .as_deref()
            .map_or(Ok(FileType::Viz), str::parse)?;
        let target = resolve_target(raw.target.file, raw.target.directory)?;
        check_type_and_target(file_type, &target)?;
        let project_name = check_project_name(file_type, raw.project_name)?;
        let endpoint = resolve_endpoint(raw.endpoint.as_deref(), raw.zone.as_deref())?;
        let timeout = parse_timeout(raw.timeout.as_deref())?;
        let retry = retry_policy(raw.retries.as_deref(), options.retry_initial_delay)?;
        let options = Options {
            concurrency: options.concurrency.max(1),
            ..options
        };
        Ok(UploadConfig {
            token,
            source_id,
            target,
            file_type,
            project_name,
            endpoint,
            timeout,
            retry,
            options,
        })
    }

    /// The source id as castor prints it: lowercase, hyphenated.
    pub fn source_id_str(&self) -> String {
        self.source_id.hyphenated().to_string()
    }
}

fn missing(flag: &str, var: &str) -> Error {
    Error::Config(format!("{flag} is required (or set {var})"))
}

/// Parses the source id as a UUID, in any form the `uuid` crate reads
/// (hyphenated, simple, braced, urn). castor's pydantic `UUID4` also insists on
/// version 4; we accept any version so a valid id is never refused.
///
/// # Errors
/// [`Error::Config`] when absent or not a UUID.
pub fn parse_source_id(raw: Option<&str>) -> Result<Uuid> {
    let raw = raw.ok_or_else(|| missing("--source_id", super::env::SOURCE_ID))?;
    Uuid::parse_str(raw.trim()).map_err(|_| {
        Error::Config(format!(
            "--source_id: '{raw}' is not a UUID (expected e.g. 8a4f2c3e-6b1d-4e5f-9a7b-1c2d3e4f5a6b)"
        ))
    })
}

fn resolve_target(file: Option<PathBuf>, directory: Option<PathBuf>) -> Result<Target> {
    match (file, directory) {
        (Some(_), Some(_)) => Err(Error::Config(
            "--file_path and --directory_path exclude each other; give one".into(),
        )),
        (None, None) => Err(Error::Config(
            "give --file_path FILE or --directory_path DIR (or set CASTOR_UPLOADER_FILE_PATH / CASTOR_UPLOADER_DIRECTORY_PATH)".into(),
        )),
        (Some(f), None) => check_exists(&f, false).map(|()| Target::File(f)),
        (None, Some(d)) => check_exists(&d, true).map(|()| Target::Directory(d)),
    }
}

fn check_exists(path: &Path, want_dir: bool) -> Result<()> {
    let (flag, noun) = if want_dir {
        ("--directory_path", "a directory")
    } else {
        ("--file_path", "a regular file")
    };
    match std::fs::metadata(path) {
        Ok(m) if m.is_dir() == want_dir && (want_dir || m.is_file()) => Ok(()),
        Ok(_) => Err(Error::Config(format!(
            "{flag}: '{}' is not {noun}",
            path.display()
        ))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(Error::Config(format!(
            "{flag}: '{}' does not exist",
            path.display()
        ))),
        Err(e) => Err(Error::io("cannot access", path, e)),
    }
}

/// castor sends one DBT manifest or one LookML archive per call.
fn check_type_and_target(file_type: FileType, target: &Target) -> Result<()> {
    match (file_type, target) {
        (FileType::Dbt | FileType::Lookml, Target::Directory(_)) => Err(Error::Config(format!(
            "{} uploads one file per call: set --file_path, not --directory_path",
            file_type.as_str()
        ))),
        _ => Ok(()),
    }
}

/// castor's `upload_lookml` check: the project is one folder of the remote path.
fn check_project_name(file_type: FileType, name: Option<String>) -> Result<Option<String>> {
    if file_type != FileType::Lookml {
        return Ok(name);
    }
    let name = name.ok_or_else(|| {
        Error::Config(
            "--project_name is required with LOOKML: set it to the Looker project the archive holds"
                .into(),
        )
    })?;
    let bad = name.contains(['/', '\\'])
        || matches!(name.trim(), "" | "." | "..")
        || name.chars().any(char::is_control);
    if bad {
        return Err(Error::Config(format!(
            "--project_name must be a Looker project name, not a path: got '{name}'"
        )));
    }
    Ok(Some(name))
}

fn resolve_endpoint(endpoint: Option<&str>, zone: Option<&str>) -> Result<Url> {
    let zone: Zone = zone.map_or(Ok(Zone::Eu), str::parse)?;
    match endpoint {
        Some(raw) => parse_base_url(raw, "--endpoint"),
        None => parse_base_url(zone.ingest_url(), "--zone"),
    }
}

fn parse_timeout(raw: Option<&str>) -> Result<Duration> {
    let Some(raw) = raw else {
        return Ok(Duration::from_secs(60));
    };
    raw.trim()
        .parse::<f64>()
        .ok()
        .filter(|s| s.is_finite() && *s > 0.0 && *s <= 86_400.0)
        .map(Duration::from_secs_f64)
        .ok_or_else(|| {
            Error::Config(format!(
                "{}: '{raw}' is not a number of seconds between 0 and 86400",
                super::env::TIMEOUT
            ))
        })
}

fn retry_policy(raw: Option<&str>, initial: Option<Duration>) -> Result<RetryPolicy> {
    let mut policy = RetryPolicy::default();
    if let Some(raw) = raw {
        policy.max_retries = raw.trim().parse::<u32>().map_err(|_| {
            Error::Config(format!(
                "{}: '{raw}' is not a whole number of retries",
                super::env::RETRY
            ))
        })?;
    }
    if let Some(initial) = initial {
        policy.initial_delay = initial;
        policy.max_delay = policy.max_delay.max(initial);
    }
    Ok(policy)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exit::ExitCode;
    use crate::upload::settings::{RawTarget, env};

    const ID: &str = "8a4f2c3e-6b1d-4e5f-9a7b-1c2d3e4f5a6b";

    fn raw(dir: &Path) -> RawSettings {
        RawSettings::from_vars([
            (env::TOKEN, "tok"),
            (env::SOURCE_ID, ID),
            (env::DIRECTORY_PATH, dir.to_str().unwrap()),
        ])
    }

    fn resolve(raw: RawSettings) -> Result<UploadConfig> {
        UploadConfig::resolve(raw, Options::default())
    }

    #[test]
    fn defaults_follow_castor() {
        let dir = tempfile::tempdir().unwrap();
        let config = resolve(raw(dir.path())).unwrap();
        assert_eq!(config.file_type, FileType::Viz);
        assert_eq!(config.endpoint.as_str(), "https://ingest.castordoc.com/");
        assert_eq!(config.timeout, Duration::from_secs(60));
        assert_eq!(config.source_id_str(), ID);
        assert!(!format!("{config:?}").contains("tok\""));
    }

    #[test]
    fn source_id_must_be_a_uuid() {
        assert_eq!(
            parse_source_id(Some("8A4F2C3E6B1D4E5F9A7B1C2D3E4F5A6B"))
                .unwrap()
                .hyphenated()
                .to_string(),
            ID
        );
        for bad in [
            "",
            "not-a-uuid",
            "8a4f2c3e-6b1d-4e5f-9a7b-1c2d3e4f5a6",
            "../x",
        ] {
            let err = parse_source_id(Some(bad)).unwrap_err();
            assert_eq!(err.exit_code(), ExitCode::Usage, "{bad}");
            assert!(err.to_string().contains("is not a UUID"), "{err}");
        }
        assert!(
            parse_source_id(None)
                .unwrap_err()
                .to_string()
                .contains("required")
        );
    }

    #[test]
    fn file_and_directory_exclude_each_other_and_must_exist() {
        let dir = tempfile::tempdir().unwrap();
        let mut both = raw(dir.path());
        both.target.file = Some(dir.path().join("x.json"));
        let err = resolve(both).unwrap_err();
        assert!(err.to_string().contains("exclude each other"), "{err}");

        let mut gone = raw(dir.path());
        gone.target = RawTarget {
            file: None,
            directory: Some(dir.path().join("missing")),
        };
        let err = resolve(gone).unwrap_err();
        assert_eq!(err.exit_code(), ExitCode::Usage);
        assert!(err.to_string().contains("does not exist"), "{err}");

        let mut a_dir_as_file = raw(dir.path());
        a_dir_as_file.target = RawTarget {
            file: Some(dir.path().into()),
            directory: None,
        };
        assert!(
            resolve(a_dir_as_file)
                .unwrap_err()
                .to_string()
                .contains("not a regular file")
        );
    }

    #[test]
    fn lookml_needs_a_plain_project_name_and_a_file() {
        let dir = tempfile::tempdir().unwrap();
        let archive = dir.path().join("core.zip");
        std::fs::write(&archive, b"zip").unwrap();
        let base = || {
            let mut r = raw(dir.path());
            r.target = RawTarget {
                file: Some(archive.clone()),
                directory: None,
            };
            r.file_type = Some("LOOKML".into());
            r
        };
        assert!(
            resolve(base())
                .unwrap_err()
                .to_string()
                .contains("--project_name is required")
        );
        for bad in ["core/sales", "..", ".", " "] {
            let mut r = base();
            r.project_name = Some(bad.into());
            assert!(
                resolve(r).unwrap_err().to_string().contains("not a path"),
                "{bad}"
            );
        }
        let mut ok = base();
        ok.project_name = Some("core".into());
        assert_eq!(resolve(ok).unwrap().project_name.as_deref(), Some("core"));

        let mut on_dir = raw(dir.path());
        on_dir.file_type = Some("DBT".into());
        assert!(
            resolve(on_dir)
                .unwrap_err()
                .to_string()
                .contains("one file per call")
        );
    }

    #[test]
    fn zone_endpoint_and_overrides() {
        let dir = tempfile::tempdir().unwrap();
        let mut us = raw(dir.path());
        us.zone = Some("US".into());
        us.timeout = Some("2.5".into());
        us.retries = Some("0".into());
        let config = resolve(us).unwrap();
        assert_eq!(config.endpoint.host_str(), Some("ingest.us.castordoc.com"));
        assert_eq!(config.timeout, Duration::from_millis(2500));
        assert_eq!(config.retry.max_retries, 0);

        let mut local = raw(dir.path());
        local.endpoint = Some("http://127.0.0.1:9/".into());
        assert_eq!(
            resolve(local).unwrap().endpoint.as_str(),
            "http://127.0.0.1:9/"
        );
        let mut remote = raw(dir.path());
        remote.endpoint = Some("http://example.com".into());
        assert!(resolve(remote).is_err());

        for (field, value) in [("zone", "APAC"), ("timeout", "soon"), ("retries", "-1")] {
            let mut r = raw(dir.path());
            match field {
                "zone" => r.zone = Some(value.into()),
                "timeout" => r.timeout = Some(value.into()),
                _ => r.retries = Some(value.into()),
            }
            assert_eq!(
                resolve(r).unwrap_err().exit_code(),
                ExitCode::Usage,
                "{field}"
            );
        }
    }

    #[test]
    fn config_precedence_through_resolve() {
        let dir = tempfile::tempdir().unwrap();
        let flags = RawSettings {
            file_type: Some("WAREHOUSE".into()),
            ..Default::default()
        };
        let environ = RawSettings::from_vars([(env::FILE_TYPE, "QUALITY"), (env::ZONE, "US")]);
        let config = resolve(flags.over(environ).over(raw(dir.path()))).unwrap();
        assert_eq!(config.file_type, FileType::Warehouse);
        assert_eq!(config.endpoint.host_str(), Some("ingest.us.castordoc.com"));
    }
}
