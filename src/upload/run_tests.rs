//! Tests of [`super::run`] and [`super::Sender`] against the sandbox's ingest
//! side (`mode_sandbox`), which records every request (headers and parts) and
//! answers from a script when a test needs a particular status or header.

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use mode_sandbox::{IngestAnswer, Sandbox, SandboxConfig};
use secrecy::SecretString;
use sha2::{Digest, Sha256};

use super::*;
use crate::exit::ExitCode;
use crate::http::{RetryPolicy, parse_base_url};
use crate::output::{FileRecord, write_atomic, write_json_atomic};

const TOKEN: &str = "tok-5ecret-value";
const ID: &str = "8a4f2c3e-6b1d-4e5f-9a7b-1c2d3e4f5a6b";

/// A sandbox with a tiny workspace whose ingest side takes [`TOKEN`], answering
/// `script` first.
async fn server(script: Vec<IngestAnswer>) -> Sandbox {
    let sandbox = Sandbox::start(SandboxConfig {
        collections: 2,
        reports: 3,
        ingest_token: TOKEN.into(),
        ..SandboxConfig::default()
    })
    .await
    .unwrap();
    sandbox.script_ingest(script);
    sandbox
}

fn config(sandbox: &Sandbox, target: Target) -> UploadConfig {
    UploadConfig {
        token: SecretString::from(TOKEN),
        source_id: ID.parse().unwrap(),
        target,
        file_type: FileType::Viz,
        project_name: None,
        endpoint: parse_base_url(&sandbox.url(), "--endpoint").unwrap(),
        timeout: Duration::from_secs(5),
        retry: RetryPolicy {
            max_retries: 3,
            initial_delay: Duration::from_millis(1),
            max_delay: Duration::from_millis(5),
            max_retry_after: Duration::from_secs(1),
        },
        options: Options::default(),
    }
}

/// A run as extract-mode writes it: data files, then the summary listing them.
fn write_run(dir: &Path, ts: i64, files: &[(&str, &[u8])]) {
    let records: Vec<FileRecord> = files
        .iter()
        .map(|(name, body)| write_atomic(dir, &format!("{ts}-{name}"), body).unwrap())
        .collect();
    let summary = serde_json::json!({
        "version": "0.1.0", "executed_at": "x", "connection_identity": {"base_url": "b"},
        "client_name": "ModeAnalytics/API", "ts": ts, "files": records,
    });
    write_json_atomic(dir, &format!("{ts}-summary.json"), &summary).unwrap();
}

/// The file names of every request the ingest side saw, in order.
fn names(sandbox: &Sandbox) -> Vec<String> {
    sandbox
        .ingest_requests()
        .iter()
        .map(|s| s.path.rsplit('/').next().unwrap().to_owned())
        .collect()
}

fn sha256(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

#[tokio::test]
async fn every_attempt_carries_the_whole_file() {
    let dir = tempfile::tempdir().unwrap();
    let body: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
    let file = dir.path().join("big.csv");
    std::fs::write(&file, &body).unwrap();
    let sandbox = server(vec![IngestAnswer::status(503).header("retry-after", "0")]).await;

    let report = run(&config(&sandbox, Target::File(file))).await.unwrap();

    assert_eq!((report.files_sent, report.retries), (1, 1));
    let seen = sandbox.ingest_requests();
    assert_eq!(
        seen.iter().map(|s| s.status).collect::<Vec<_>>(),
        [503, 200]
    );
    for attempt in &seen {
        assert_eq!(attempt.path, format!("/visualization-{ID}/big.csv"));
        assert_eq!(attempt.authorization, Some(format!("Token {TOKEN}")));
        assert_eq!(
            attempt.accept.as_deref(),
            Some("text/csv, application/json")
        );
        assert_eq!(attempt.parts.len(), 1);
        let part = &attempt.parts[0];
        assert_eq!(
            (part.name.as_str(), part.file_name.as_deref()),
            ("file", Some("big.csv"))
        );
        assert_eq!((part.bytes, part.sha256.clone()), (200_000, sha256(&body)));
    }
}

#[tokio::test]
async fn a_run_is_sent_summary_last_then_skipped_on_rerun() {
    let dir = tempfile::tempdir().unwrap();
    write_run(
        dir.path(),
        100,
        &[("report.json", b"[1]"), ("member.json", b"[]")],
    );
    std::fs::write(dir.path().join("stray.csv"), b"a,b").unwrap();
    std::fs::write(dir.path().join("notes.txt"), b"x").unwrap();
    let sandbox = server(vec![]).await;
    let cfg = config(&sandbox, Target::Directory(dir.path().into()));

    let report = run(&cfg).await.unwrap();
    assert_eq!(report.exit_code(), ExitCode::Success);
    assert_eq!(report.files_sent, 3, "the run, not the file of no run");
    let sent = names(&sandbox);
    assert_eq!(sent.len(), 3);
    assert_eq!(sent.last().unwrap(), "100-summary.json");
    assert!(
        !sent
            .iter()
            .any(|n| n.starts_with('.') || n == "notes.txt" || n == "stray.csv")
    );
    let skipped = |name: &str| {
        report
            .plan
            .skipped
            .iter()
            .find(|(n, _)| n == name)
            .map(|s| s.1)
    };
    assert_eq!(skipped("stray.csv"), Some(discover::SkipReason::NoRun));

    // rerun: everything acknowledged, nothing sent
    let again = run(&cfg).await.unwrap();
    assert_eq!(again.files_sent, 0);
    assert_eq!(again.plan.already_sent.len(), 3);
    assert_eq!(names(&sandbox).len(), 3);
    assert!(
        again.summary_line().contains(": no new run;"),
        "{}",
        again.summary_line()
    );

    // a run file with other content (and its summary) is sent again; --force sends all
    write_run(
        dir.path(),
        100,
        &[("report.json", b"[2]"), ("member.json", b"[]")],
    );
    let changed = run(&cfg).await.unwrap();
    let first = changed.plan.files().next().unwrap();
    assert_eq!(
        (first.name.as_str(), first.reason),
        ("100-report.json", SendReason::Changed)
    );
    assert_eq!(changed.files_sent, 2);
    let mut forced = cfg.clone();
    forced.options.force = true;
    assert_eq!(run(&forced).await.unwrap().files_sent, 3);

    // another source id does not count as sent
    let mut other = cfg.clone();
    other.source_id = uuid::Uuid::nil();
    assert_eq!(run(&other).await.unwrap().files_sent, 3);
}

#[tokio::test]
async fn an_interrupted_upload_resumes_where_it_stopped() {
    let dir = tempfile::tempdir().unwrap();
    write_run(dir.path(), 100, &[("a.json", b"[1]"), ("b.json", b"[2]")]);
    // first file ok, then the server fails for good: the run stops before its summary
    let sandbox = server(vec![
        IngestAnswer::status(200),
        IngestAnswer::status(500),
        IngestAnswer::status(500),
        IngestAnswer::status(500),
        IngestAnswer::status(500),
    ])
    .await;
    let mut cfg = config(&sandbox, Target::Directory(dir.path().into()));
    cfg.options.concurrency = 1;
    let err = run(&cfg).await.unwrap_err();
    assert_eq!(err.exit_code(), ExitCode::RemoteError, "{err}");
    assert!(!names(&sandbox).contains(&"100-summary.json".to_string()));

    let report = run(&cfg).await.unwrap();
    assert_eq!(report.plan.already_sent.len(), 1);
    assert_eq!(
        report.files_sent, 2,
        "the other data file, then the summary"
    );
    assert_eq!(names(&sandbox).last().unwrap(), "100-summary.json");
}

#[tokio::test]
async fn refused_runs_fail_incomplete_ones_are_reported_good_runs_sent() {
    let dir = tempfile::tempdir().unwrap();
    write_run(dir.path(), 100, &[("report.json", b"[1]")]);
    write_run(dir.path(), 200, &[("report.json", b"[1]")]);
    std::fs::write(dir.path().join("200-report.json"), b"[9]").unwrap();
    std::fs::write(dir.path().join("300-report.json"), b"[]").unwrap();
    let sandbox = server(vec![]).await;
    let cfg = config(&sandbox, Target::Directory(dir.path().into()));

    let report = run(&cfg).await.unwrap();
    assert_eq!(report.exit_code(), ExitCode::Integrity);
    assert_eq!(names(&sandbox), ["100-report.json", "100-summary.json"]);
    assert_eq!(report.plan.refused.len(), 1);
    assert!(report.plan.refused[0].contains("200-report.json has SHA-256"));
    assert_eq!(
        report.plan.incomplete,
        vec![(300, vec!["300-report.json".to_string()])]
    );

    // without the refused run: the incomplete one is reported, not an error
    for name in ["200-report.json", "200-summary.json"] {
        std::fs::remove_file(dir.path().join(name)).unwrap();
    }
    let report = run(&cfg).await.unwrap();
    assert_eq!(report.exit_code(), ExitCode::Success);
    assert_eq!(report.plan.incomplete.len(), 1);
}

#[tokio::test]
async fn a_directory_without_a_complete_run_has_its_own_exit_code() {
    let dir = tempfile::tempdir().unwrap();
    let sandbox = server(vec![]).await;
    let cfg = config(&sandbox, Target::Directory(dir.path().into()));
    assert_eq!(run(&cfg).await.unwrap().exit_code(), ExitCode::NoRun);
    std::fs::write(dir.path().join("notes.json"), b"[]").unwrap();
    std::fs::write(dir.path().join("300-report.json"), b"[]").unwrap();
    let report = run(&cfg).await.unwrap();
    assert_eq!(report.exit_code(), ExitCode::NoRun);
    assert!(
        report.summary_line().contains(": no complete run;"),
        "{}",
        report.summary_line()
    );
    assert!(sandbox.ingest_requests().is_empty());
}

#[tokio::test]
async fn unauthorized_stops_at_once_and_redirects_are_not_followed() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("a.json");
    std::fs::write(&file, b"[]").unwrap();
    let echo = format!("bad token {TOKEN}");
    let sandbox = server(vec![IngestAnswer::status(401).body(&echo)]).await;
    let err = run(&config(&sandbox, Target::File(file.clone())))
        .await
        .unwrap_err();
    assert_eq!(err.exit_code(), ExitCode::Unauthorized);
    assert_eq!(sandbox.ingest_requests().len(), 1);
    assert!(!err.to_string().contains(TOKEN), "{err}");
    assert!(err.to_string().contains("[REDACTED]"), "{err}");

    let sandbox = server(vec![
        IngestAnswer::status(403),
        IngestAnswer::status(307).header("location", "http://127.0.0.1:1/x"),
    ])
    .await;
    let cfg = config(&sandbox, Target::File(file));
    assert_eq!(
        run(&cfg).await.unwrap_err().exit_code(),
        ExitCode::Forbidden
    );
    let err = run(&cfg).await.unwrap_err();
    assert_eq!(err.exit_code(), ExitCode::RemoteError);
    assert!(
        err.to_string()
            .contains("redirect to http://127.0.0.1:1/x not followed"),
        "{err}"
    );
    assert_eq!(sandbox.ingest_requests().len(), 2);
}

#[tokio::test]
async fn content_that_differs_from_the_check_never_completes_a_body() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("100-report.json");
    let content: Vec<u8> = (0..300_000u32).map(|i| (i % 241) as u8).collect();
    std::fs::write(&path, &content).unwrap();
    let sandbox = server(vec![]).await;
    let cfg = config(&sandbox, Target::Directory(dir.path().into()));
    let progress = Progress::start("upload", Unit::Bytes, 0, Duration::ZERO, None);
    let sender = Sender::new(&cfg, Arc::new(progress)).unwrap();
    let planned = |sha: String| PlannedFile {
        name: "100-report.json".into(),
        path: path.clone(),
        bytes: content.len() as u64,
        sha256: Some(sha),
        remote: remote_segments(FileType::Viz, cfg.source_id, "100-report.json", "", 0),
        reason: SendReason::New,
    };
    // checked as other content of the same size: the stream fails at its end
    let err = sender
        .send(&planned(sha256(b"something else")))
        .await
        .unwrap_err();
    assert_eq!(err.exit_code(), ExitCode::Integrity, "{err}");
    assert!(
        err.to_string()
            .contains("changed after the check (SHA-256 "),
        "{err}"
    );
    assert_eq!(sender.retries(), 0, "not retried");
    assert!(sandbox.received().is_empty(), "no complete body arrived");
    // the same content as checked goes through
    sender.send(&planned(sha256(&content))).await.unwrap();
    assert_eq!(sandbox.received().len(), 1);
    assert_eq!(sandbox.received()[0].sha256, sha256(&content));
}

#[tokio::test]
async fn dry_run_sends_nothing_and_lists_why() {
    let dir = tempfile::tempdir().unwrap();
    write_run(dir.path(), 100, &[("report.json", b"[1]")]);
    let sandbox = server(vec![]).await;
    let mut cfg = config(&sandbox, Target::Directory(dir.path().into()));
    cfg.options.dry_run = true;
    let report = run(&cfg).await.unwrap();
    assert!(sandbox.ingest_requests().is_empty());
    let mut out = Vec::new();
    report.plan.write_listing(&mut out).unwrap();
    let text = String::from_utf8(out).unwrap();
    assert!(
        text.starts_with(&format!(
            "send\t100-report.json\t3 bytes\tvisualization-{ID}/100-report.json\tnot sent before\n"
        )),
        "{text}"
    );
    assert!(!dir.path().join(LEDGER_FILE_NAME).exists());
}

#[tokio::test]
async fn a_locked_directory_is_not_read() {
    let dir = tempfile::tempdir().unwrap();
    write_run(dir.path(), 100, &[("report.json", b"[1]")]);
    let sandbox = server(vec![]).await;
    let writer = DirLock::try_acquire(dir.path(), LockMode::Exclusive).unwrap();
    let mut cfg = config(&sandbox, Target::Directory(dir.path().into()));
    let err = run(&cfg).await.unwrap_err();
    assert_eq!(err.exit_code(), ExitCode::Locked);
    // with a lock timeout, upload waits for the writer and then sends the run
    cfg.options.lock_timeout = Some(Duration::from_secs(5));
    let release = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(300)).await;
        drop(writer);
    });
    assert_eq!(run(&cfg).await.unwrap().files_sent, 2);
    release.await.unwrap();
    assert_eq!(names(&sandbox).len(), 2);
}

#[tokio::test]
async fn the_token_never_reaches_any_log_line() {
    use tracing_subscriber::layer::SubscriberExt;
    let buffer = Arc::new(Mutex::new(Vec::<u8>::new()));
    let sink = buffer.clone();
    let layer = tracing_subscriber::fmt::layer()
        .with_writer(move || Writer(sink.clone()))
        .with_ansi(false);
    let subscriber = tracing_subscriber::registry()
        .with(layer)
        .with(tracing_subscriber::filter::LevelFilter::TRACE);
    let _guard = tracing::subscriber::set_default(subscriber);

    let dir = tempfile::tempdir().unwrap();
    write_run(dir.path(), 100, &[("report.json", b"[1]")]);
    let echo = format!("you sent {TOKEN}");
    let sandbox = server(vec![
        IngestAnswer::status(429)
            .header("x-echo", TOKEN)
            .body(&echo),
        IngestAnswer::status(500).body(&echo),
        IngestAnswer::status(401).body(&echo),
    ])
    .await;
    let cfg = config(&sandbox, Target::Directory(dir.path().into()));
    tracing::debug!(?cfg, "config");
    let err = run(&cfg).await.unwrap_err();
    let logs = String::from_utf8(buffer.lock().unwrap().clone()).unwrap();
    assert!(logs.contains("retrying"), "{logs}");
    assert!(logs.contains("[REDACTED]"), "{logs}");
    assert!(
        !logs.contains(TOKEN) && !err.to_string().contains(TOKEN),
        "{logs}"
    );
    assert!(!std::fs::read_dir(dir.path()).unwrap().any(|e| {
        std::fs::read(e.unwrap().path()).is_ok_and(|b| String::from_utf8_lossy(&b).contains(TOKEN))
    }));
}

struct Writer(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Writer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
