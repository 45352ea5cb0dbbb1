//! `upload`: push a file or a run directory to the catalog (drop-in for
//! castor-extractor's `castor-upload`). Parse → settings → library → exit code.

mod cli;
#[path = "../common/flags.rs"]
mod flags;
mod om;

use std::path::Path;

use mode_extractor::metrics::Tool;
use mode_extractor::settings::Layers;
use mode_extractor::upload::{self, UploadConfig, UploadReport};
use mode_extractor::{Error, ExitCode, logging};

fn main() -> std::process::ExitCode {
    let cli: cli::Cli = flags::parse_or_exit("upload");
    match cli.generate.print::<cli::Cli>() {
        Ok(true) => return ExitCode::Success.into(),
        Ok(false) => {}
        Err(e) => {
            eprintln!("upload: error: cannot write to stdout: {e}");
            return ExitCode::Io.into();
        }
    }
    logging::init(cli.log_options());
    if cli.om.target == om::TargetKind::Openmetadata {
        if cli.metrics().metrics_file.is_some() {
            let err = Error::Config(
                "--metrics-file is not supported with --target openmetadata yet".into(),
            );
            return fail(&err).into();
        }
        let mut flags = cli.flags();
        flags.extend(cli.om.flags());
        return om::run(flags, cli.options(), cli.net()).into();
    }
    let mut metrics = match cli.metrics().start(Tool::Upload) {
        Ok(metrics) => metrics,
        Err(err) => return fail(&err).into(),
    };
    let config = Layers::from_process(cli.flags(), Path::new("."))
        .and_then(|layers| UploadConfig::resolve(&layers, cli.options(), cli.net()));
    let outcome = config.and_then(|config| {
        if config.options.dry_run {
            metrics = None; // nothing is sent: not a run to report
        }
        if let Some(m) = metrics.as_mut() {
            m.label("source_id", &config.source_id.to_string());
        }
        let runtime = tokio::runtime::Runtime::new()
            .map_err(|e| Error::Internal(format!("cannot start the async runtime: {e}")))?;
        runtime.block_on(interruptible(&config))
    });
    let code = match outcome {
        Ok(report) => {
            if let Some(m) = metrics.as_mut() {
                m.upload(&report);
            }
            finish(&report)
        }
        Err(err) => fail(&err),
    };
    flags::finish_metrics(metrics, code);
    code.into()
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
    logging::fatal("upload", err, err.exit_code().code());
    err.exit_code()
}
