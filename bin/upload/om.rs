//! `upload --target openmetadata`: the flags of the OpenMetadata target and
//! its run. Kept apart from castor's settings: the JWT comes from
//! `--om-token`, `OPENMETADATA_JWT_TOKEN` or the file named by
//! `OPENMETADATA_JWT_TOKEN_FILE`, in that order.

use std::path::PathBuf;

use clap::{Args, ValueEnum};
use mode_extractor::openmetadata::{self, OmConfig, OmReport, RawOmSettings, config};
use mode_extractor::upload::Options;
use mode_extractor::{Error, ExitCode};
use secrecy::SecretString;

/// `--target`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub enum TargetKind {
    /// castor's ingest endpoint (the default).
    #[default]
    Castor,
    /// An OpenMetadata server's REST API.
    Openmetadata,
}

/// The OpenMetadata flags.
#[derive(Args, Debug)]
pub struct OmArgs {
    /// Where to push: castor's ingest endpoint, or an OpenMetadata server
    #[arg(long, value_enum, default_value_t = TargetKind::Castor)]
    pub target: TargetKind,
    /// OpenMetadata's API base, e.g. http://localhost:8585/api (openmetadata target)
    #[arg(long, value_name = "URL")]
    om_host: Option<String>,
    /// The OpenMetadata bot's JWT [env: OPENMETADATA_JWT_TOKEN, or a file named by OPENMETADATA_JWT_TOKEN_FILE]
    #[arg(long, value_name = "JWT")]
    om_token: Option<String>,
    /// The dashboard service's name in OpenMetadata; created as a Mode service when missing
    #[arg(long, value_name = "NAME")]
    service: Option<String>,
    /// Database service(s) of the lineage tables: SERVICE for all, or DATA_SOURCE=SERVICE,… by Mode data source id or token
    #[arg(long, value_name = "SERVICE|DS=SERVICE,…")]
    db_service: Option<String>,
}

/// Pushes `dir` to OpenMetadata and returns the exit code.
pub fn run(args: OmArgs, dir: Option<PathBuf>, options: Options) -> ExitCode {
    let env = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    let mut retry = mode_extractor::http::RetryPolicy::default();
    if let Some(delay) = options.retry_initial_delay {
        retry.initial_delay = delay;
    }
    let raw = RawOmSettings {
        host: args.om_host,
        token: args
            .om_token
            .or_else(|| env(config::TOKEN_ENV))
            .map(SecretString::from),
        token_file: env(config::TOKEN_FILE_ENV).map(PathBuf::from),
        service: args.service,
        db_service: args.db_service,
        dir,
        concurrency: options.concurrency,
        dry_run: options.dry_run,
        force: options.force,
        lock_timeout: options.lock_timeout,
        retry,
    };
    let outcome = OmConfig::resolve(raw).and_then(|config| {
        let runtime = tokio::runtime::Runtime::new()
            .map_err(|e| Error::Internal(format!("cannot start the async runtime: {e}")))?;
        runtime.block_on(interruptible(&config))
    });
    match outcome {
        Ok(report) => finish(&report),
        Err(err) => {
            eprintln!("upload: error: {err}");
            err.exit_code()
        }
    }
}

async fn interruptible(config: &OmConfig) -> mode_extractor::Result<OmReport> {
    tokio::select! {
        report = openmetadata::run(config) => report,
        () = mode_extractor::signal::shutdown() => Err(Error::Interrupted),
    }
}

fn finish(report: &OmReport) -> ExitCode {
    if report.dry_run {
        let mut out = std::io::stdout().lock();
        if let Err(e) = report.write_listing(&mut out)
            && e.kind() != std::io::ErrorKind::BrokenPipe
        {
            eprintln!("upload: error: {}", Error::io("cannot write", "stdout", e));
            return ExitCode::Io;
        }
    }
    for line in &report.failures {
        eprintln!("upload: OpenMetadata refused {line}");
    }
    report.exit_code()
}
