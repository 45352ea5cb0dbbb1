//! `upload --target openmetadata`: the flags of the OpenMetadata target and
//! its run. Settings are layered like castor's (flag > environment >
//! `./.env`); see `docs/openmetadata.md`.

use std::path::Path;

use clap::{Args, ValueEnum};
use mode_extractor::openmetadata::{self, OmConfig, OmReport, config};
use mode_extractor::settings::Layers;
use mode_extractor::settings::limits::NetOptions;
use mode_extractor::upload::Options;
use mode_extractor::{Error, ExitCode, logging};

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
pub struct OmFlags {
    /// Where to push: castor's ingest endpoint, or an OpenMetadata server
    #[arg(long, value_enum, default_value_t = TargetKind::Castor)]
    pub target: TargetKind,
    /// OpenMetadata's API base, e.g. http://localhost:8585/api [env: OPENMETADATA_HOST]
    #[arg(long = "om-host", value_name = "URL")]
    om_host: Option<String>,
    /// The OpenMetadata bot's JWT [env: OPENMETADATA_JWT_TOKEN]
    #[arg(long = "om-token", value_name = "JWT")]
    om_token: Option<String>,
    /// File holding the bot's JWT [env: OPENMETADATA_JWT_TOKEN_FILE]
    #[arg(long = "om-token-file", value_name = "FILE")]
    om_token_file: Option<String>,
    /// Dashboard service in OpenMetadata, created as a Mode service when missing [env: OPENMETADATA_SERVICE]
    #[arg(long, value_name = "NAME")]
    service: Option<String>,
    /// Database service(s) of the lineage tables: SERVICE, or DATA_SOURCE=SERVICE,… by Mode data source id or token [env: OPENMETADATA_DB_SERVICE]
    #[arg(long = "db-service", value_name = "SERVICE|DS=SERVICE,…")]
    db_service: Option<String>,
}

impl OmFlags {
    /// The layered settings given as flags.
    pub fn flags(&self) -> Vec<(&'static str, Option<String>)> {
        vec![
            (config::HOST.flag, self.om_host.clone()),
            (config::TOKEN.flag, self.om_token.clone()),
            ("--om-token-file", self.om_token_file.clone()),
            (config::SERVICE.flag, self.service.clone()),
            (config::DB_SERVICE.flag, self.db_service.clone()),
        ]
    }
}

/// Pushes the run directory named in `flags` to OpenMetadata; the exit code.
pub fn run(
    flags: Vec<(&'static str, Option<String>)>,
    options: Options,
    net: NetOptions,
) -> ExitCode {
    if flags
        .iter()
        .any(|(k, v)| *k == "--file_path" && v.is_some())
    {
        return fail(&Error::Config(
            "--target openmetadata pushes a run directory (-d DIR), not one file".into(),
        ));
    }
    let outcome = Layers::from_process(flags, Path::new("."))
        .and_then(|layers| OmConfig::resolve(&layers, options, net))
        .and_then(|config| {
            let runtime = tokio::runtime::Runtime::new()
                .map_err(|e| Error::Internal(format!("cannot start the async runtime: {e}")))?;
            runtime.block_on(interruptible(&config))
        });
    match outcome {
        Ok(report) => finish(&report),
        Err(err) => fail(&err),
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
            return fail(&Error::io("cannot write", "stdout", e));
        }
    }
    for line in &report.failures {
        eprintln!("upload: OpenMetadata refused {line}");
    }
    report.exit_code()
}

fn fail(err: &Error) -> ExitCode {
    logging::fatal("upload", err, err.exit_code().code());
    err.exit_code()
}
