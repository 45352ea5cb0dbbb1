//! The validated upload configuration, [`UploadConfig`], and its value types.

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use secrecy::SecretString;
use url::Url;
use uuid::Uuid;

use super::settings::{self as vars, env};
use crate::error::{Error, Result};
use crate::http::{RetryPolicy, parse_base_url};
use crate::settings::limits::NetOptions;
use crate::settings::{Found, Layers, Missing, Origin};

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
                "'{s}' is not one of DBT, LOOKML, QUALITY, VIZ, WAREHOUSE"
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
            _ => Err(Error::Config(format!("'{s}' is not EU or US"))),
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
    /// How often a progress line is logged when no bar is drawn (`--progress-every`).
    pub progress_every: Duration,
}

impl Default for Options {
    /// Concurrency 4, no lock wait, no force, no dry run, default backoff.
    fn default() -> Self {
        Options {
            concurrency: 4,
            lock_timeout: None,
            force: false,
            dry_run: false,
            progress_every: Duration::from_secs(30),
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
    /// Validates the layered settings (see [`crate::settings`]) and the
    /// flag-only options into a config.
    ///
    /// Defaults: file type `VIZ`, zone `EU`, timeout 60 s, retries as
    /// [`RetryPolicy::default`] (castor retries once, and only timeouts).
    ///
    /// # Errors
    /// [`Error::Config`] (exit `Usage`), naming where the bad value came from,
    /// for every missing setting at once (token, source id, file or directory),
    /// a source id that is not a UUID, both file and directory in one layer, a
    /// file or directory that does not exist, an unknown file type or zone,
    /// `DBT`/`LOOKML` with a directory, `LOOKML` without a plain project name,
    /// a refused endpoint URL, or a timeout/retry value out of range.
    pub fn resolve(layers: &Layers, options: Options, net: NetOptions) -> Result<UploadConfig> {
        let mut missing = Missing::default();
        let token = missing.require(layers.secret(&vars::TOKEN)?, &vars::TOKEN);
        let source_id = missing.require(layers.get(&vars::SOURCE_ID), &vars::SOURCE_ID);
        let target = pick_target(layers, &mut missing)?;
        missing.check()?;
        let (Some((token, _)), Some(source_id), Some(target)) = (token, source_id, target) else {
            return Err(Error::Internal("a required setting went missing".into()));
        };
        let source_id = parse_source_id(&source_id)?;
        let file_type = match layers.get(&vars::FILE_TYPE) {
            Some(found) => found
                .text
                .parse()
                .map_err(|e: Error| found.invalid(bare(&e)))?,
            None => FileType::Viz,
        };
        let target = resolve_target(target)?;
        check_type_and_target(file_type, &target)?;
        let project_name = check_project_name(file_type, layers.get(&vars::PROJECT_NAME))?;
        let endpoint = resolve_endpoint(layers)?;
        let (timeouts, retry) = net.resolve(layers)?;
        let options = Options {
            concurrency: options.concurrency.clamp(1, 64),
            ..options
        };
        Ok(UploadConfig {
            token,
            source_id,
            target,
            file_type,
            project_name,
            endpoint,
            timeout: timeouts.total,
            retry,
            options,
        })
    }

    /// The source id as castor prints it: lowercase, hyphenated.
    pub fn source_id_str(&self) -> String {
        self.source_id.hyphenated().to_string()
    }
}

/// The message of a value error, without the quoted value it starts with.
fn bare(err: &Error) -> String {
    let text = err.to_string();
    match text.split_once("' ") {
        Some((_, rest)) => rest.to_owned(),
        None => text,
    }
}

/// Parses the source id as a UUID, in any form the `uuid` crate reads
/// (hyphenated, simple, braced, urn). castor's pydantic `UUID4` also insists on
/// version 4; we accept any version so a valid id is never refused.
///
/// # Errors
/// [`Error::Config`] naming where the value came from when it is not a UUID.
pub fn parse_source_id(found: &Found) -> Result<Uuid> {
    Uuid::parse_str(&found.text).map_err(|_| {
        found.invalid("is not a UUID (expected e.g. 8a4f2c3e-6b1d-4e5f-9a7b-1c2d3e4f5a6b)")
    })
}

/// `-f` or `-d`, from the highest layer naming either: a higher layer's
/// choice replaces a lower one's as a whole, so `-d DIR` on the command line
/// wins over `CASTOR_UPLOADER_FILE_PATH` in the environment.
fn pick_target(layers: &Layers, missing: &mut Missing) -> Result<Option<(bool, Found)>> {
    let rank = |f: &Found| match f.source.origin {
        Origin::Flag => 0,
        Origin::Environment => 1,
        Origin::DotEnv => 2,
    };
    match (
        layers.get(&vars::FILE_PATH),
        layers.get(&vars::DIRECTORY_PATH),
    ) {
        (Some(f), Some(d)) if rank(&f) == rank(&d) => Err(Error::Config(format!(
            "{} and {} exclude each other; give one",
            f.source, d.source
        ))),
        (Some(f), Some(d)) if rank(&f) < rank(&d) => Ok(Some((false, f))),
        (_, Some(d)) => Ok(Some((true, d))),
        (Some(f), None) => Ok(Some((false, f))),
        (None, None) => {
            missing.note(format!(
                "--file_path FILE or --directory_path DIR (or {} / {})",
                env::FILE_PATH,
                env::DIRECTORY_PATH
            ));
            Ok(None)
        }
    }
}

fn resolve_target((is_dir, found): (bool, Found)) -> Result<Target> {
    let path = PathBuf::from(&found.text);
    check_exists(&path, is_dir, &found)?;
    Ok(if is_dir {
        Target::Directory(path)
    } else {
        Target::File(path)
    })
}

fn check_exists(path: &Path, want_dir: bool, found: &Found) -> Result<()> {
    let noun = if want_dir {
        "a directory"
    } else {
        "a regular file"
    };
    match std::fs::metadata(path) {
        Ok(m) if m.is_dir() == want_dir && (want_dir || m.is_file()) => Ok(()),
        Ok(_) => Err(found.invalid(format!("is not {noun}"))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(found.invalid("does not exist")),
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
fn check_project_name(file_type: FileType, name: Option<Found>) -> Result<Option<String>> {
    if file_type != FileType::Lookml {
        return Ok(name.map(|n| n.text));
    }
    let name = name.ok_or_else(|| {
        Error::Config(
            "--project_name is required with LOOKML: set it to the Looker project the archive holds"
                .into(),
        )
    })?;
    let text = &name.text;
    let bad = text.contains(['/', '\\'])
        || matches!(text.trim(), "" | "." | "..")
        || text.chars().any(char::is_control);
    if bad {
        return Err(name.invalid("must be a Looker project name, not a path"));
    }
    Ok(Some(name.text))
}

fn resolve_endpoint(layers: &Layers) -> Result<Url> {
    let zone = match layers.get(&vars::ZONE) {
        Some(found) => found
            .text
            .parse()
            .map_err(|e: Error| found.invalid(bare(&e)))?,
        None => Zone::Eu,
    };
    match layers.get(&vars::ENDPOINT) {
        Some(found) => parse_base_url(&found.text, &found.source.to_string()),
        None => parse_base_url(zone.ingest_url(), "--zone"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exit::ExitCode;

    const ID: &str = "8a4f2c3e-6b1d-4e5f-9a7b-1c2d3e4f5a6b";

    /// Flags, environment and `.env` as `(name, value)` pairs.
    fn layers(
        flags: &[(&'static str, &str)],
        env: &[(&str, &str)],
        dotenv: &[(&str, &str)],
    ) -> Layers {
        let pairs = |l: &[(&str, &str)]| -> Vec<(String, String)> {
            l.iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect()
        };
        let flags = flags.iter().map(|(k, v)| (*k, Some((*v).to_owned())));
        Layers::new(flags, pairs(env), pairs(dotenv)).unwrap()
    }

    fn base(dir: &Path) -> Vec<(&'static str, String)> {
        vec![
            (env::TOKEN, "tok".to_owned()),
            (env::SOURCE_ID, ID.to_owned()),
            (env::DIRECTORY_PATH, dir.to_str().unwrap().to_owned()),
        ]
    }

    fn resolve_env(dir: &Path, extra: &[(&str, &str)]) -> Result<UploadConfig> {
        let mut env: Vec<(&str, &str)> = Vec::new();
        let owned = base(dir);
        env.extend(owned.iter().map(|(k, v)| (*k, v.as_str())));
        env.extend_from_slice(extra);
        UploadConfig::resolve(
            &layers(&[], &env, &[]),
            Options::default(),
            NetOptions::default(),
        )
    }

    #[test]
    fn defaults_follow_castor() {
        let dir = tempfile::tempdir().unwrap();
        let config = resolve_env(dir.path(), &[]).unwrap();
        assert_eq!(config.file_type, FileType::Viz);
        assert_eq!(config.endpoint.as_str(), "https://ingest.castordoc.com/");
        assert_eq!(config.timeout, Duration::from_secs(60));
        assert_eq!(config.source_id_str(), ID);
        assert!(!format!("{config:?}").contains("tok\""));
    }

    #[test]
    fn source_id_must_be_a_uuid_and_says_where_it_came_from() {
        let dir = tempfile::tempdir().unwrap();
        let ok = resolve_env(
            dir.path(),
            &[(env::SOURCE_ID, "8A4F2C3E6B1D4E5F9A7B1C2D3E4F5A6B")],
        );
        assert_eq!(ok.unwrap().source_id_str(), ID);
        for bad in ["not-a-uuid", "8a4f2c3e-6b1d-4e5f-9a7b-1c2d3e4f5a6", "../x"] {
            let err = resolve_env(dir.path(), &[(env::SOURCE_ID, bad)]).unwrap_err();
            assert_eq!(err.exit_code(), ExitCode::Usage, "{bad}");
            let text = err.to_string();
            assert!(
                text.contains("is not a UUID")
                    && text.starts_with("CASTOR_UPLOADER_SOURCE_ID (environment)"),
                "{text}"
            );
        }
    }

    #[test]
    fn every_missing_setting_is_reported_at_once() {
        let none = UploadConfig::resolve(
            &layers(&[], &[], &[]),
            Options::default(),
            NetOptions::default(),
        );
        let err = none.unwrap_err().to_string();
        for needed in [
            "--token",
            "--source_id",
            "--file_path FILE or --directory_path DIR",
        ] {
            assert!(err.contains(needed), "{err}");
        }
    }

    #[test]
    fn file_and_directory_exclude_each_other_in_one_layer_and_must_exist() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("x.json");
        let err = resolve_env(dir.path(), &[(env::FILE_PATH, file.to_str().unwrap())]).unwrap_err();
        assert!(err.to_string().contains("exclude each other"), "{err}");

        // a flag naming -f replaces the environment's -d as a whole
        std::fs::write(&file, b"[]").unwrap();
        let owned = base(dir.path());
        let env: Vec<(&str, &str)> = owned.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let l = layers(&[("--file_path", file.to_str().unwrap())], &env, &[]);
        let config = UploadConfig::resolve(&l, Options::default(), NetOptions::default()).unwrap();
        assert_eq!(config.target, Target::File(file.clone()));

        let missing = dir.path().join("missing");
        let err = resolve_env(dir.path(), &[]).map(|_| ()).and_then(|()| {
            let l = layers(
                &[("--directory_path", missing.to_str().unwrap())],
                &env,
                &[],
            );
            UploadConfig::resolve(&l, Options::default(), NetOptions::default()).map(|_| ())
        });
        let err = err.unwrap_err();
        assert_eq!(err.exit_code(), ExitCode::Usage);
        assert!(
            err.to_string().contains("--directory_path: '")
                && err.to_string().contains("does not exist"),
            "{err}"
        );

        let l = layers(&[("--file_path", dir.path().to_str().unwrap())], &env, &[]);
        let err = UploadConfig::resolve(&l, Options::default(), NetOptions::default()).unwrap_err();
        assert!(err.to_string().contains("not a regular file"), "{err}");
    }

    #[test]
    fn lookml_needs_a_plain_project_name_and_a_file() {
        let dir = tempfile::tempdir().unwrap();
        let archive = dir.path().join("core.zip");
        std::fs::write(&archive, b"zip").unwrap();
        let a = archive.to_str().unwrap();
        let with = |project: Option<&str>| {
            let mut flags = vec![
                ("--file_path", a),
                ("--file_type", "LOOKML"),
                ("--token", "t"),
                ("--source_id", ID),
            ];
            if let Some(p) = project {
                flags.push(("--project_name", p));
            }
            UploadConfig::resolve(
                &layers(&flags, &[], &[]),
                Options::default(),
                NetOptions::default(),
            )
        };
        assert!(
            with(None)
                .unwrap_err()
                .to_string()
                .contains("--project_name is required")
        );
        for bad in ["core/sales", "..", "."] {
            assert!(
                with(Some(bad))
                    .unwrap_err()
                    .to_string()
                    .contains("not a path"),
                "{bad}"
            );
        }
        assert_eq!(
            with(Some("core")).unwrap().project_name.as_deref(),
            Some("core")
        );

        let err = resolve_env(dir.path(), &[(env::FILE_TYPE, "DBT")]).unwrap_err();
        assert!(err.to_string().contains("one file per call"), "{err}");
    }

    #[test]
    fn zone_endpoint_and_overrides() {
        let dir = tempfile::tempdir().unwrap();
        let config = resolve_env(
            dir.path(),
            &[(env::ZONE, "US"), (env::TIMEOUT, "2.5"), (env::RETRY, "0")],
        )
        .unwrap();
        assert_eq!(config.endpoint.host_str(), Some("ingest.us.castordoc.com"));
        assert_eq!(config.timeout, Duration::from_millis(2500));
        assert_eq!(config.retry.max_retries, 0);

        let local = resolve_env(dir.path(), &[(env::ENDPOINT, "http://127.0.0.1:9/")]).unwrap();
        assert_eq!(local.endpoint.as_str(), "http://127.0.0.1:9/");
        assert!(resolve_env(dir.path(), &[(env::ENDPOINT, "http://example.com")]).is_err());

        for (var, value) in [
            (env::ZONE, "APAC"),
            (env::TIMEOUT, "soon"),
            (env::TIMEOUT, "0"),
            (env::RETRY, "-1"),
        ] {
            let err = resolve_env(dir.path(), &[(var, value)]).unwrap_err();
            assert_eq!(err.exit_code(), ExitCode::Usage, "{var}={value}");
            assert!(
                err.to_string()
                    .starts_with(&format!("{var} (environment): '{value}'")),
                "{err}"
            );
        }
    }

    #[test]
    fn flag_beats_environment_beats_dotenv() {
        let dir = tempfile::tempdir().unwrap();
        let owned = base(dir.path());
        let dotenv: Vec<(&str, &str)> = owned.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let l = layers(
            &[("--file_type", "WAREHOUSE")],
            &[(env::FILE_TYPE, "QUALITY"), (env::ZONE, "US")],
            &dotenv,
        );
        let config = UploadConfig::resolve(&l, Options::default(), NetOptions::default()).unwrap();
        assert_eq!(config.file_type, FileType::Warehouse);
        assert_eq!(config.endpoint.host_str(), Some("ingest.us.castordoc.com"));
    }
}
