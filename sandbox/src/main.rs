//! `mode-sandbox`: a local stand-in for Mode's REST API and the catalog's
//! ingest endpoint, for demos, manual tests and benchmarks.
//!
//! Prints the base URL on stdout once listening, logs to stderr (`RUST_LOG`
//! filters, `info` by default), and runs until SIGINT or SIGTERM. See
//! `docs/sandbox.md`.

use std::process::ExitCode;

use clap::Parser;
use mode_sandbox::cli::{self, SandboxArgs};

fn main() -> ExitCode {
    let args = SandboxArgs::parse();
    init_logging();
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

/// Plain log lines on stderr; `RUST_LOG` overrides the default `info`.
fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn,mode_sandbox=info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .init();
}
