//! `upload`'s settings: castor-upload's names, layered by [`crate::settings`].
//!
//! castor reads each setting from a flag, else from `CASTOR_UPLOADER_*` in the
//! environment (pydantic-settings), and the project adds a `.env` file in the
//! working directory below the environment. Nothing is validated here: that is
//! [`super::UploadConfig::resolve`]'s job, so a bad value gives the same message
//! whichever source it came from (and says which).

use crate::settings::Setting;

/// Environment variable names, as castor spells them (plus our own).
pub mod env {
    /// Catalog API token.
    pub const TOKEN: &str = "CASTOR_UPLOADER_TOKEN";
    /// A file holding the catalog API token (Docker/Kubernetes secrets).
    pub const TOKEN_FILE: &str = "CASTOR_UPLOADER_TOKEN_FILE";
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

/// `-k/--token`, or a file holding it (`--token-file`, `CASTOR_UPLOADER_TOKEN_FILE`).
pub const TOKEN: Setting = Setting::secret("--token", env::TOKEN, "--token-file", env::TOKEN_FILE);
/// `-s/--source_id`.
pub const SOURCE_ID: Setting = Setting::new("--source_id", env::SOURCE_ID);
/// `-f/--file_path`.
pub const FILE_PATH: Setting = Setting::new("--file_path", env::FILE_PATH);
/// `-d/--directory_path`.
pub const DIRECTORY_PATH: Setting = Setting::new("--directory_path", env::DIRECTORY_PATH);
/// `-t/--file_type`.
pub const FILE_TYPE: Setting = Setting::new("--file_type", env::FILE_TYPE);
/// `-z/--zone`.
pub const ZONE: Setting = Setting::new("--zone", env::ZONE);
/// `--project_name`.
pub const PROJECT_NAME: Setting = Setting::new("--project_name", env::PROJECT_NAME);
/// `--endpoint`.
pub const ENDPOINT: Setting = Setting::new("--endpoint", env::ENDPOINT);
