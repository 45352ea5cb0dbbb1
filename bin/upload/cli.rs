//! `upload`'s command line: castor-upload's flags (and kebab-case aliases),
//! plus ours. Values are kept raw here and validated by the library, so a bad
//! value gets the same message from a flag, the environment or `.env`.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Parser, ValueEnum};
use mode_extractor::logging::{LogFormat, LogOptions};
use mode_extractor::upload::{Options, RawSettings, RawTarget};
use secrecy::SecretString;

const ABOUT: &str = "Push a file or a run directory to the catalog's ingest endpoint \
(drop-in for castor-upload).";

const AFTER: &str = "Every setting with [env: …] is read from the flag, else from that \
environment variable, else from a .env file in the working directory. Also read: \
CASTOR_TIMEOUT_OVERRIDE (seconds per request, default 60) and CASTOR_RETRY_OVERRIDE \
(retries, default 6). Prefer the environment or .env for the token: a flag is visible \
to every user of the machine (ps).";

/// `upload`'s flags.
#[derive(Parser)]
#[command(name = "upload", version, about = ABOUT, after_help = after_help())]
pub struct Cli {
    /// Catalog API token [env: CASTOR_UPLOADER_TOKEN]
    #[arg(short = 'k', long = "token", value_name = "TOKEN")]
    token: Option<String>,
    /// Source id given by the catalog, a UUID [env: CASTOR_UPLOADER_SOURCE_ID]
    #[arg(
        short = 's',
        long = "source_id",
        visible_alias = "source-id",
        value_name = "UUID"
    )]
    source_id: Option<String>,
    /// One file to push [env: CASTOR_UPLOADER_FILE_PATH]
    #[arg(
        short = 'f',
        long = "file_path",
        visible_alias = "file-path",
        value_name = "FILE"
    )]
    file_path: Option<PathBuf>,
    /// A directory to push: its complete runs and .json/.csv files [env: CASTOR_UPLOADER_DIRECTORY_PATH]
    #[arg(
        short = 'd',
        long = "directory_path",
        visible_alias = "directory-path",
        value_name = "DIR"
    )]
    directory_path: Option<PathBuf>,
    /// DBT, LOOKML, QUALITY, VIZ or WAREHOUSE; default VIZ (Mode files) [env: CASTOR_UPLOADER_FILE_TYPE]
    #[arg(
        short = 't',
        long = "file_type",
        visible_alias = "file-type",
        value_name = "TYPE"
    )]
    file_type: Option<String>,
    /// EU (default, ingest.castordoc.com) or US (ingest.us.castordoc.com) [env: CASTOR_UPLOADER_ZONE]
    #[arg(short = 'z', long = "zone", value_name = "ZONE")]
    zone: Option<String>,
    /// Looker project the LookML archive holds, required with LOOKML [env: CASTOR_UPLOADER_PROJECT_NAME]
    #[arg(
        long = "project_name",
        visible_alias = "project-name",
        value_name = "NAME"
    )]
    project_name: Option<String>,
    /// Ingest base URL replacing the zone's; http:// only for loopback [env: CASTOR_UPLOADER_ENDPOINT]
    #[arg(long, value_name = "URL")]
    endpoint: Option<String>,
    /// List what would be sent and why (on stdout); send nothing
    #[arg(long)]
    dry_run: bool,
    /// Files sent at once
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..=64))]
    concurrency: u16,
    /// Wait this long for a running extract-mode to finish, e.g. 10m (default: do not wait)
    #[arg(long, value_name = "DURATION", value_parser = humantime::parse_duration)]
    lock_timeout: Option<Duration>,
    /// Send files the ledger says were already sent
    #[arg(long)]
    force: bool,
    /// Only warnings and errors; no progress bar
    #[arg(short, long)]
    quiet: bool,
    /// Log line format on stderr
    #[arg(long, value_enum, default_value_t = Format::Text)]
    log_format: Format,
    /// First retry delay in milliseconds, doubling up to 30 s (default 500; tests use less)
    #[arg(long, value_name = "MS")]
    retry_initial_delay_ms: Option<u64>,
    /// `--target` and the OpenMetadata target's flags.
    #[command(flatten)]
    pub om: crate::om::OmArgs,
}

/// `--log-format`.
#[derive(Clone, Copy, ValueEnum)]
enum Format {
    Text,
    Json,
}

fn after_help() -> String {
    format!("{AFTER}\n\n{}", mode_extractor::ExitCode::help_table())
}

impl Cli {
    /// How to log.
    pub fn log_options(&self) -> LogOptions {
        let format = match self.log_format {
            Format::Text => LogFormat::Text,
            Format::Json => LogFormat::Json,
        };
        LogOptions {
            quiet: self.quiet,
            format,
        }
    }

    /// The flag-only options.
    pub fn options(&self) -> Options {
        Options {
            concurrency: usize::from(self.concurrency),
            lock_timeout: self.lock_timeout,
            force: self.force,
            dry_run: self.dry_run,
            retry_initial_delay: self.retry_initial_delay_ms.map(Duration::from_millis),
        }
    }

    /// `-f`, refused by the OpenMetadata target.
    pub fn file_path_given(&self) -> bool {
        self.file_path.is_some()
    }

    /// `-d`, for the OpenMetadata target.
    pub fn directory_path(&self) -> Option<PathBuf> {
        self.directory_path.clone()
    }

    /// The settings given as flags: the top layer.
    pub fn into_settings(self) -> RawSettings {
        RawSettings {
            token: self.token.map(SecretString::from),
            source_id: self.source_id,
            target: RawTarget {
                file: self.file_path,
                directory: self.directory_path,
            },
            file_type: self.file_type,
            zone: self.zone,
            project_name: self.project_name,
            endpoint: self.endpoint,
            timeout: None,
            retries: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn verify_cli() {
        Cli::command().debug_assert();
    }

    #[test]
    fn castor_and_kebab_spellings() {
        let cli = Cli::try_parse_from([
            "upload",
            "--source-id",
            "x",
            "--file_type",
            "VIZ",
            "-k",
            "t",
        ])
        .unwrap();
        let raw = cli.into_settings();
        assert_eq!(raw.source_id.as_deref(), Some("x"));
        assert_eq!(raw.file_type.as_deref(), Some("VIZ"));
    }
}
