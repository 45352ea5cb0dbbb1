//! `extract-mode`: a Mode workspace to castor-compatible JSON files.
//! Parse → settings → `extract::run` → exit code; see `mode_extractor::extract`.

mod cli;
#[path = "../common/flags.rs"]
mod flags;

use std::path::Path;
use std::process::ExitCode as ProcessExit;

use mode_extractor::extract::{ExtractConfig, RunReport};
use mode_extractor::metrics::Tool;
use mode_extractor::settings::Layers;
use mode_extractor::{Error, ExitCode, extract, logging};

fn main() -> ProcessExit {
    let cli: cli::Cli = flags::parse_or_exit("extract-mode");
    logging::init(cli.log_options());
    let mut metrics = match cli.metrics().start(Tool::Extract) {
        Ok(metrics) => metrics,
        Err(err) => return fail(&err).into(),
    };
    let config = Layers::from_process(cli.flags(), Path::new("."))
        .and_then(|layers| ExtractConfig::resolve(&layers, cli.options()));
    let outcome = config.and_then(|config| {
        if let Some(m) = metrics.as_mut() {
            m.label("workspace", &config.mode.workspace);
        }
        let report = run(&config)?;
        if let Some(m) = metrics.as_mut() {
            m.extract(&report, &config.output);
        }
        Ok(report.exit_code())
    });
    let code = outcome.unwrap_or_else(|err| fail(&err));
    flags::finish_metrics(metrics, code);
    code.into()
}

fn fail(err: &Error) -> ExitCode {
    logging::fatal("extract-mode", err, err.exit_code().code());
    err.exit_code()
}

fn run(config: &ExtractConfig) -> Result<RunReport, Error> {
    let runtime = tokio::runtime::Runtime::new()
        .map_err(|e| Error::Internal(format!("cannot start the async runtime: {e}")))?;
    runtime.block_on(async {
        tokio::select! {
            report = extract::run(config) => {
                let report = report?;
                let (calls, retries, limited) = report.api;
                tracing::info!(
                    ts = report.ts,
                    files = report.files.len(),
                    api_calls = calls,
                    retries,
                    rate_limited = limited,
                    item_problems = report.problems.len(),
                    duration_s = report.duration.as_secs_f64(),
                    "Done in {:.1}s: run {} in {}: {} files, {calls} API calls, {retries} retries, {limited} rate-limited, {} item problem(s)",
                    report.duration.as_secs_f64(),
                    report.ts,
                    config.output.display(),
                    report.files.len(),
                    report.problems.len()
                );
                Ok(report)
            }
            () = mode_extractor::signal::shutdown() => Err(Error::Interrupted),
        }
    })
}
