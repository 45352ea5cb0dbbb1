//! `extract-mode`: a Mode workspace to castor-compatible JSON files.
//! Parse → config → `extract::run` → exit code; see `mode_extractor::extract`.

mod cli;

use std::process::ExitCode as ProcessExit;

use clap::Parser;
use mode_extractor::extract::StoreSettings;
use mode_extractor::{Error, ExitCode, extract, logging};

fn main() -> ProcessExit {
    // `.env` first, before any thread exists (dotenvy sets process variables);
    // it never overrides a variable already set.
    let dotenv = load_dotenv();
    let cli = cli::Cli::parse();
    logging::init(cli.log_options());
    let state = cli.store_settings();
    let code = match dotenv
        .and_then(|()| cli.into_config())
        .and_then(|config| run(config, state))
    {
        Ok(code) => code,
        Err(err) => {
            eprintln!("extract-mode: error: {err}");
            err.exit_code()
        }
    };
    code.into()
}

fn run(config: mode_extractor::ExtractConfig, state: StoreSettings) -> Result<ExitCode, Error> {
    let runtime = tokio::runtime::Runtime::new()
        .map_err(|e| Error::Internal(format!("cannot start the async runtime: {e}")))?;
    runtime.block_on(async {
        tokio::select! {
            report = extract::run_with_state(&config, &state) => {
                let report = report?;
                let (calls, retries, limited) = report.api;
                tracing::info!(
                    "Done in {:.1}s: {} files, {calls} API calls, {retries} retries, {limited} rate-limited, {} item problem(s)",
                    report.duration.as_secs_f64(), report.files.len(), report.problems.len()
                );
                Ok(report.exit_code())
            }
            () = mode_extractor::signal::shutdown() => Err(Error::Interrupted),
        }
    })
}

/// Loads `./.env` if present. A malformed line is an error whose message never
/// echoes the line: it may hold the secret.
fn load_dotenv() -> Result<(), Error> {
    match dotenvy::dotenv() {
        Ok(_) => Ok(()),
        Err(e) if e.not_found() => Ok(()),
        Err(dotenvy::Error::Io(e)) => Err(Error::io("cannot read", ".env", e)),
        Err(_) => Err(Error::Config(
            ".env: a line is not NAME=VALUE (not shown: it may hold a secret)".into(),
        )),
    }
}
