//! Raw upload settings as strings, and how their sources are layered.
//!
//! castor reads each setting from a flag, else from `CASTOR_UPLOADER_*` in the
//! environment (pydantic-settings), and the project adds a `.env` file in the
//! working directory below the environment. [`RawSettings`] is one such layer;
//! [`RawSettings::over`] stacks two. Nothing is validated here: that is
//! [`super::UploadConfig::resolve`]'s job, so a bad value gives the same message
//! whichever source it came from.

use std::path::PathBuf;

use secrecy::SecretString;

/// Environment variable names, as castor spells them (plus our own two).
pub mod env {
    /// Catalog API token.
    pub const TOKEN: &str = "CASTOR_UPLOADER_TOKEN";
    /// Source id (a UUID).
    pub const SOURCE_ID: &str = "CASTOR_UPLOADER_SOURCE_ID";
    /// One file to push.
    pub const FILE_PATH: &str = "CASTOR_UPLOADER_FILE_PATH";
    /// A directory to push.
    pub const DIRECTORY_PATH: &str = "CASTOR_UPLOADER_DIRECTORY_PATH";
    /// `DBT`, `LOOKML`, `QUALITY`, `VIZ` or `WAREHOUSE`.
    pub const FILE_TYPE: &str = "CASTOR_UPLOADER_FILE_TYPE";
    /// `EU` or `US`.
    pub const ZONE: &str = "CASTOR_UPLOADER_ZONE";
    /// Looker project name for `LOOKML` (castor reads it through the same prefix).
    pub const PROJECT_NAME: &str = "CASTOR_UPLOADER_PROJECT_NAME";
    /// Ours: replaces the zone's ingest URL (tests, proxies).
    pub const ENDPOINT: &str = "CASTOR_UPLOADER_ENDPOINT";
    /// Seconds per request (castor: float, default 60).
    pub const TIMEOUT: &str = "CASTOR_TIMEOUT_OVERRIDE";
    /// Retries after the first attempt (castor: int, default 1).
    pub const RETRY: &str = "CASTOR_RETRY_OVERRIDE";
}

/// Where to read files from: one file (`-f`) or one directory (`-d`).
///
/// Kept as a pair so a higher layer that names either one replaces the lower
/// layer's choice as a whole: `-d DIR` on the command line wins over
/// `CASTOR_UPLOADER_FILE_PATH` in the environment instead of clashing with it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RawTarget {
    /// `-f/--file_path`.
    pub file: Option<PathBuf>,
    /// `-d/--directory_path`.
    pub directory: Option<PathBuf>,
}

impl RawTarget {
    fn is_set(&self) -> bool {
        self.file.is_some() || self.directory.is_some()
    }
}

/// One source of settings (flags, environment or `.env`), unvalidated.
///
/// `Debug` never shows the token (`SecretString` prints `[REDACTED]`).
#[derive(Debug, Clone, Default)]
pub struct RawSettings {
    /// `-k/--token`.
    pub token: Option<SecretString>,
    /// `-s/--source_id`.
    pub source_id: Option<String>,
    /// `-f` / `-d`.
    pub target: RawTarget,
    /// `-t/--file_type`.
    pub file_type: Option<String>,
    /// `-z/--zone`.
    pub zone: Option<String>,
    /// `--project_name` (LOOKML only).
    pub project_name: Option<String>,
    /// `--endpoint`.
    pub endpoint: Option<String>,
    /// `CASTOR_TIMEOUT_OVERRIDE`, seconds.
    pub timeout: Option<String>,
    /// `CASTOR_RETRY_OVERRIDE`, a count.
    pub retries: Option<String>,
}

impl RawSettings {
    /// The layer made of the variables named in [`env`], from any list of
    /// `(name, value)` pairs: the process environment or a parsed `.env` file.
    /// Empty values count as unset (castor treats an empty override as absent).
    pub fn from_vars<I, K, V>(vars: I) -> RawSettings
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<str>,
        V: Into<String>,
    {
        let mut raw = RawSettings::default();
        for (key, value) in vars {
            let value: String = value.into();
            if !value.is_empty() {
                raw.set(key.as_ref(), value);
            }
        }
        raw
    }

    fn set(&mut self, key: &str, value: String) {
        match key {
            env::TOKEN => self.token = Some(SecretString::from(value)),
            env::SOURCE_ID => self.source_id = Some(value),
            env::FILE_PATH => self.target.file = Some(value.into()),
            env::DIRECTORY_PATH => self.target.directory = Some(value.into()),
            env::FILE_TYPE => self.file_type = Some(value),
            env::ZONE => self.zone = Some(value),
            env::PROJECT_NAME => self.project_name = Some(value),
            env::ENDPOINT => self.endpoint = Some(value),
            env::TIMEOUT => self.timeout = Some(value),
            env::RETRY => self.retries = Some(value),
            _ => {}
        }
    }

    /// Stacks `self` over `lower`: each setting `self` has wins, the rest come
    /// from `lower`. The file/directory pair is taken as a whole (see [`RawTarget`]).
    pub fn over(self, lower: RawSettings) -> RawSettings {
        RawSettings {
            token: self.token.or(lower.token),
            source_id: self.source_id.or(lower.source_id),
            target: if self.target.is_set() {
                self.target
            } else {
                lower.target
            },
            file_type: self.file_type.or(lower.file_type),
            zone: self.zone.or(lower.zone),
            project_name: self.project_name.or(lower.project_name),
            endpoint: self.endpoint.or(lower.endpoint),
            timeout: self.timeout.or(lower.timeout),
            retries: self.retries.or(lower.retries),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::ExposeSecret;

    #[test]
    fn flag_beats_env_beats_dotenv() {
        let flags = RawSettings {
            source_id: Some("flag".into()),
            ..Default::default()
        };
        let environ = RawSettings::from_vars([
            (env::SOURCE_ID, "env"),
            (env::ZONE, "US"),
            ("UNRELATED", "x"),
        ]);
        let dotenv = RawSettings::from_vars([
            (env::SOURCE_ID, "dotenv"),
            (env::ZONE, "EU"),
            (env::TOKEN, "from-dotenv"),
        ]);
        let merged = flags.over(environ).over(dotenv);
        assert_eq!(merged.source_id.as_deref(), Some("flag"));
        assert_eq!(merged.zone.as_deref(), Some("US"));
        assert_eq!(merged.token.unwrap().expose_secret(), "from-dotenv");
    }

    #[test]
    fn a_directory_flag_replaces_an_env_file_path() {
        let flags = RawSettings {
            target: RawTarget {
                file: None,
                directory: Some("out".into()),
            },
            ..Default::default()
        };
        let environ = RawSettings::from_vars([(env::FILE_PATH, "a.json")]);
        let merged = flags.over(environ);
        assert_eq!(merged.target.file, None);
        assert_eq!(merged.target.directory, Some("out".into()));
    }

    #[test]
    fn empty_values_are_unset_and_debug_hides_the_token() {
        let raw = RawSettings::from_vars([(env::RETRY, ""), (env::TOKEN, "s3cr3t-token")]);
        assert_eq!(raw.retries, None);
        assert!(!format!("{raw:?}").contains("s3cr3t-token"));
    }
}
