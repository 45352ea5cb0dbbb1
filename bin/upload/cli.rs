//! `upload`'s command line: castor-upload's flags (and kebab-case aliases),
//! plus ours. Values are kept raw here and validated by the library, so a bad
//! value gets the same message from a flag, the environment or `.env`.

use std::time::Duration;

use clap::Parser;
use mode_extractor::logging::LogOptions;
use mode_extractor::settings::limits::{self, NetOptions};
use mode_extractor::upload::{Options, settings as vars};

use crate::flags::{GenerateFlags, LogFlags, MetricsFlags, NetFlags};

const ABOUT: &str = "Push a file or a run directory to the catalog's ingest endpoint \
(drop-in for castor-upload).";

const AFTER: &str = "Every setting with [env: …] is read from the flag, else from that \
environment variable, else from a .env file in the working directory (never a parent \
directory); an empty variable counts as unset. Prefer --token-file, the environment or \
.env for the token: a flag is visible to every user of the machine (ps).";

/// `upload`'s flags.
#[derive(Parser)]
#[command(name = "upload", version = mode_extractor::VERSION, about = ABOUT, after_help = after_help())]
pub struct Cli {
    /// Catalog API token [env: CASTOR_UPLOADER_TOKEN]
    #[arg(short = 'k', long = "token", value_name = "TOKEN")]
    token: Option<String>,
    /// File holding the catalog API token [env: CASTOR_UPLOADER_TOKEN_FILE]
    #[arg(long = "token-file", value_name = "FILE")]
    token_file: Option<String>,
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
    file_path: Option<String>,
    /// A directory to push: its complete runs and .json/.csv files [env: CASTOR_UPLOADER_DIRECTORY_PATH]
    #[arg(
        short = 'd',
        long = "directory_path",
        visible_alias = "directory-path",
        value_name = "DIR"
    )]
    directory_path: Option<String>,
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
    /// Files sent at once, 1 to 64
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..=64))]
    concurrency: u16,
    /// Wait this long for a running extract-mode to finish, e.g. 10m (default: do not wait)
    #[arg(long, value_name = "DURATION", value_parser = limits::parse_duration)]
    lock_timeout: Option<Duration>,
    /// Send files the ledger says were already sent
    #[arg(long)]
    force: bool,
    #[command(flatten)]
    net: NetFlags,
    /// Deprecated spelling of --retry-initial-delay, in milliseconds
    #[arg(long, value_name = "MS", hide = true)]
    retry_initial_delay_ms: Option<u64>,
    #[command(flatten)]
    log: LogFlags,
    /// `--target` and the OpenMetadata target's flags.
    #[command(flatten)]
    pub om: crate::om::OmFlags,

    #[command(flatten)]
    pub generate: GenerateFlags,

    #[command(flatten)]
    metrics: MetricsFlags,
}

fn after_help() -> String {
    format!(
        "{AFTER}\n\n{}",
        mode_extractor::ExitCode::help_table_for(mode_extractor::exit::Binary::Upload)
    )
}

impl Cli {
    /// `--metrics-file`.
    pub fn metrics(&self) -> &MetricsFlags {
        &self.metrics
    }

    /// How to log.
    pub fn log_options(&self) -> LogOptions {
        self.log.options()
    }

    /// The flag-only options.
    pub fn options(&self) -> Options {
        Options {
            concurrency: usize::from(self.concurrency),
            lock_timeout: self.lock_timeout,
            force: self.force,
            dry_run: self.dry_run,
            progress_every: self.log.progress_every,
        }
    }

    /// The network options (`--retry-initial-delay-ms` still read).
    pub fn net(&self) -> NetOptions {
        let mut net = self.net.options();
        if let Some(ms) = self.retry_initial_delay_ms {
            net.retry_initial_delay = Duration::from_millis(ms);
        }
        net
    }

    /// The layered settings given as flags, keyed by castor's long flag.
    pub fn flags(&self) -> Vec<(&'static str, Option<String>)> {
        vec![
            (vars::TOKEN.flag, self.token.clone()),
            ("--token-file", self.token_file.clone()),
            (vars::SOURCE_ID.flag, self.source_id.clone()),
            (vars::FILE_PATH.flag, self.file_path.clone()),
            (vars::DIRECTORY_PATH.flag, self.directory_path.clone()),
            (vars::FILE_TYPE.flag, self.file_type.clone()),
            (vars::ZONE.flag, self.zone.clone()),
            (vars::PROJECT_NAME.flag, self.project_name.clone()),
            (vars::ENDPOINT.flag, self.endpoint.clone()),
            (limits::TIMEOUT.flag, self.net.timeout.clone()),
            (limits::RETRIES.flag, self.net.max_retries.clone()),
        ]
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
        let flags = cli.flags();
        let get = |k: &str| {
            flags
                .iter()
                .find(|(f, _)| *f == k)
                .and_then(|(_, v)| v.clone())
        };
        assert_eq!(get("--source_id").as_deref(), Some("x"));
        assert_eq!(get("--file_type").as_deref(), Some("VIZ"));
    }
}
