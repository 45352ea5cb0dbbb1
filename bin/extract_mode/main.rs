//! `extract-mode`: a Mode workspace to castor-compatible JSON files.
//! Parse → settings → `extract::run` → exit code; see `mode_extractor::extract`.

mod cli;
#[path = "../common/flags.rs"]
mod flags;

use std::path::Path;
use std::process::ExitCode as ProcessExit;

use mode_extractor::extract::{Action, ExtractConfig};
use mode_extractor::metrics::{Recorder, Tool};
use mode_extractor::settings::Layers;
use mode_extractor::{Error, ExitCode, extract, logging};

fn main() -> ProcessExit {
    let cli: cli::Cli = flags::parse_or_exit("extract-mode");
    match cli.generate.print::<cli::Cli>() {
        Ok(true) => return ExitCode::Success.into(),
        Ok(false) => {}
        Err(e) => {
            eprintln!("extract-mode: error: cannot write to stdout: {e}");
            return ExitCode::Io.into();
        }
    }
    logging::init(cli.log_options());
    let mut metrics = match cli.metrics().start(Tool::Extract) {
        Ok(metrics) => metrics,
        Err(err) => return fail(&err).into(),
    };
    let config = Layers::from_process(cli.flags(), Path::new("."))
        .and_then(|layers| ExtractConfig::resolve(&layers, cli.options()));
    let outcome = config.and_then(|config| {
        if !matches!(config.action, Action::Run) {
            metrics = None; // --dry-run, --check: not a run to report
        }
        if let Some(m) = metrics.as_mut() {
            m.label("workspace", &config.mode.workspace);
        }
        let result = run(&config, metrics.as_mut());
        if result.is_err()
            && let Some(m) = metrics.as_mut()
        {
            // The run failed: its report is gone, the client's counters are not.
            m.api(config.mode.counters.snapshot());
        }
        result
    });
    let code = outcome.unwrap_or_else(|err| fail(&err));
    flags::finish_metrics(metrics, code);
    code.into()
}

fn fail(err: &Error) -> ExitCode {
    logging::fatal("extract-mode", err, err.exit_code().code());
    err.exit_code()
}

fn run(config: &ExtractConfig, metrics: Option<&mut Recorder>) -> Result<ExitCode, Error> {
    let runtime = tokio::runtime::Runtime::new()
        .map_err(|e| Error::Internal(format!("cannot start the async runtime: {e}")))?;
    runtime.block_on(async {
        tokio::select! {
            code = act(config, metrics) => code,
            () = mode_extractor::signal::shutdown() => Err(Error::Interrupted),
        }
    })
}

/// Runs the action the flags asked for.
async fn act(config: &ExtractConfig, metrics: Option<&mut Recorder>) -> Result<ExitCode, Error> {
    match config.action {
        Action::Run => extract_run(config, metrics).await,
        Action::DryRun => {
            let plan = extract::preview::plan(config).await?;
            print!("{plan}");
            Ok(ExitCode::Success)
        }
        Action::Check => {
            let report = extract::preview::check(config).await?;
            for line in &report.lines {
                println!("{line}");
            }
            match report.error {
                Some(e) => Err(e),
                None => Ok(ExitCode::Success),
            }
        }
    }
}

async fn extract_run(
    config: &ExtractConfig,
    metrics: Option<&mut Recorder>,
) -> Result<ExitCode, Error> {
    let report = extract::run(config).await?;
    if let Some(m) = metrics {
        m.extract(&report, &config.output);
    }
    let (calls, retries, limited) = report.api;
    tracing::info!(
        ts = report.ts,
        files = report.files.len(),
        api_calls = calls,
        retries,
        rate_limited = limited,
        item_problems = report.problems.len(),
        duration_s = report.duration.as_secs_f64(),
        "Done in {:.1}s: run {} written to {}: {} files, {calls} API calls, {retries} retries, \
         {limited} rate-limited, {} item problem(s)",
        report.duration.as_secs_f64(),
        report.ts,
        config.output.display(),
        report.files.len(),
        report.problems.len()
    );
    Ok(report.exit_code())
}
