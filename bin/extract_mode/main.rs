//! `extract-mode`: a Mode workspace to castor-compatible JSON files.
//! Parse → config → `extract::run` → exit code; see `mode_extractor::extract`.

mod cli;

use std::process::ExitCode as ProcessExit;

use clap::Parser;
use mode_extractor::{Error, ExitCode, extract, logging};

fn main() -> ProcessExit {
    // `.env` first, before any thread exists (dotenvy sets process variables);
    // it never overrides a variable already set.
    let _ = dotenvy::dotenv();
    let cli = cli::Cli::parse();
    logging::init(cli.log_options());
    let code = match cli.into_config().and_then(run) {
        Ok(code) => code,
        Err(err) => {
            eprintln!("extract-mode: error: {err}");
            err.exit_code()
        }
    };
    code.into()
}

fn run(config: mode_extractor::ExtractConfig) -> Result<ExitCode, Error> {
    let runtime = tokio::runtime::Runtime::new()
        .map_err(|e| Error::Config(format!("cannot start the async runtime: {e}")))?;
    runtime.block_on(async {
        tokio::select! {
            report = extract::run(&config) => {
                let report = report?;
                let (calls, retries, limited) = report.api;
                tracing::info!(
                    "Done in {:.1}s: {} files, {calls} API calls, {retries} retries, {limited} rate-limited, {} item problem(s)",
                    report.duration.as_secs_f64(), report.files.len(), report.problems.len()
                );
                Ok(report.exit_code())
            }
            () = shutdown_signal() => Err(Error::Interrupted),
        }
    })
}

/// Ctrl-C or SIGTERM (Kubernetes stops pods with SIGTERM).
async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let Ok(mut term) = signal(SignalKind::terminate()) else {
            let _ = tokio::signal::ctrl_c().await;
            return;
        };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
