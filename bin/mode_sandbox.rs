//! `mode-sandbox`: a local stand-in for Mode's REST API and the catalog's
//! ingest endpoint, for demos, manual tests and benchmarks.
//!
//! Prints the base URL on stdout once listening, logs to stderr, and runs
//! until SIGINT or SIGTERM. See `docs/sandbox.md`.

use std::process::ExitCode;

use clap::Parser;
use mode_extractor::logging::{self, LogOptions};
use mode_extractor::sandbox::cli::{self, SandboxArgs};

fn main() -> ExitCode {
    let args = SandboxArgs::parse();
    logging::init(LogOptions::default());
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("mode-sandbox: error: cannot start the runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(cli::run(args)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("mode-sandbox: error: {err}");
            ExitCode::FAILURE
        }
    }
}
