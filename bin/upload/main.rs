//! `upload`: push a file or a run directory to the catalog (drop-in for
//! castor-extractor's `castor-upload`). Parse → config → library → exit code.

mod cli;
mod om;

use clap::Parser;
use mode_extractor::upload::{self, RawSettings, UploadConfig, UploadReport};
use mode_extractor::{Error, ExitCode};

fn main() -> std::process::ExitCode {
    let cli = cli::Cli::parse();
    mode_extractor::logging::init(cli.log_options());
    if cli.om.target == om::TargetKind::Openmetadata {
        if cli.file_path_given() {
            eprintln!(
                "upload: error: --target openmetadata pushes a run directory (-d DIR), not one file"
            );
            return ExitCode::Usage.into();
        }
        let (dir, options) = (cli.directory_path(), cli.options());
        return om::run(cli.om, dir, options).into();
    }
    // Read before any thread exists; `.env` is parsed, never put in the process env.
    let config = dotenv().and_then(|dotenv| {
        let options = cli.options();
        let layers = cli.into_settings().over(environment()).over(dotenv);
        UploadConfig::resolve(layers, options)
    });
    let outcome = config.and_then(|config| {
        let runtime = tokio::runtime::Runtime::new()
            .map_err(|e| Error::Internal(format!("cannot start the async runtime: {e}")))?;
        runtime.block_on(interruptible(&config))
    });
    match outcome {
        Ok(report) => finish(&report),
        Err(err) => fail(&err),
    }
    .into()
}

/// The process environment's `CASTOR_*` settings (names or values that are not
/// UTF-8 are ignored rather than panicking).
fn environment() -> RawSettings {
    RawSettings::from_vars(
        std::env::vars_os()
            .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?))),
    )
}

/// `./.env`, if present. A parse error never echoes the line: it may hold the token.
fn dotenv() -> mode_extractor::Result<RawSettings> {
    let iter = match dotenvy::from_path_iter(".env") {
        Ok(iter) => iter,
        Err(e) if e.not_found() => return Ok(RawSettings::default()),
        Err(e) => return Err(dotenv_error(e)),
    };
    let vars: Result<Vec<_>, _> = iter.collect();
    vars.map(RawSettings::from_vars).map_err(dotenv_error)
}

fn dotenv_error(err: dotenvy::Error) -> Error {
    match err {
        dotenvy::Error::Io(e) => Error::io("cannot read", ".env", e),
        _ => {
            Error::Config(".env: a line is not NAME=VALUE (not shown: it may hold a secret)".into())
        }
    }
}

async fn interruptible(config: &UploadConfig) -> mode_extractor::Result<UploadReport> {
    tokio::select! {
        report = upload::run(config) => report,
        () = mode_extractor::signal::shutdown() => Err(Error::Interrupted),
    }
}

fn finish(report: &UploadReport) -> ExitCode {
    if report.dry_run {
        let mut out = std::io::stdout().lock();
        if let Err(e) = report.plan.write_listing(&mut out)
            && e.kind() != std::io::ErrorKind::BrokenPipe
        {
            return fail(&Error::io("cannot write", "stdout", e));
        }
    }
    report.exit_code()
}

fn fail(err: &Error) -> ExitCode {
    eprintln!("upload: error: {err}");
    err.exit_code()
}
