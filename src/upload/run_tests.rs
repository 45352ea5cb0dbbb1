//! Tests of [`super::run`] against a tiny local ingest server (axum) that
//! records every request and answers from a script.

use std::collections::VecDeque;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Multipart, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use secrecy::SecretString;

use super::*;
use crate::exit::ExitCode;
use crate::http::{RetryPolicy, parse_base_url};
use crate::output::{FileRecord, write_atomic, write_json_atomic};

const TOKEN: &str = "tok-5ecret-value";
const ID: &str = "8a4f2c3e-6b1d-4e5f-9a7b-1c2d3e4f5a6b";

/// One request as the server saw it.
#[derive(Debug, Clone)]
struct Seen {
    path: String,
    auth: String,
    accept: String,
    parts: Vec<(String, String, Vec<u8>)>,
}

/// A scripted answer: status and extra headers.
type Answer = (u16, Vec<(&'static str, String)>);

#[derive(Default)]
struct Script {
    seen: Mutex<Vec<Seen>>,
    answers: Mutex<VecDeque<Answer>>,
}

async fn ingest(
    State(script): State<Arc<Script>>,
    uri: Uri,
    headers: HeaderMap,
    mut form: Multipart,
) -> Response {
    let header = |n: &str| {
        headers
            .get(n)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    let mut parts = Vec::new();
    while let Ok(Some(field)) = form.next_field().await {
        let name = field.name().unwrap_or_default().to_owned();
        let file = field.file_name().unwrap_or_default().to_owned();
        let body = field.bytes().await.map(|b| b.to_vec()).unwrap_or_default();
        parts.push((name, file, body));
    }
    script.seen.lock().unwrap().push(Seen {
        path: uri.path().to_owned(),
        auth: header("authorization"),
        accept: header("accept"),
        parts,
    });
    let (status, extra) = script
        .answers
        .lock()
        .unwrap()
        .pop_front()
        .unwrap_or((200, vec![]));
    let mut response = (StatusCode::from_u16(status).unwrap(), "answer body").into_response();
    for (k, v) in extra {
        response.headers_mut().insert(k, v.parse().unwrap());
    }
    response
}

/// Starts the server; returns its base URL and script.
async fn server(answers: Vec<Answer>) -> (String, Arc<Script>) {
    let script = Arc::new(Script::default());
    script.answers.lock().unwrap().extend(answers);
    let app = axum::Router::new()
        .route("/{*path}", axum::routing::post(ingest))
        .with_state(script.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (format!("http://{addr}"), script)
}

fn config(endpoint: &str, target: Target) -> UploadConfig {
    UploadConfig {
        token: SecretString::from(TOKEN),
        source_id: ID.parse().unwrap(),
        target,
        file_type: FileType::Viz,
        project_name: None,
        endpoint: parse_base_url(endpoint, "--endpoint").unwrap(),
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

fn names(script: &Script) -> Vec<String> {
    script
        .seen
        .lock()
        .unwrap()
        .iter()
        .map(|s| s.path.rsplit('/').next().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn every_attempt_carries_the_whole_file() {
    let dir = tempfile::tempdir().unwrap();
    let body: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
    let file = dir.path().join("big.csv");
    std::fs::write(&file, &body).unwrap();
    let retry = vec![("retry-after", "0".to_string())];
    let (url, script) = server(vec![(503, retry)]).await;

    let report = run(&config(&url, Target::File(file))).await.unwrap();

    assert_eq!((report.files_sent, report.retries), (1, 1));
    let seen = script.seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 2);
    for attempt in &seen {
        assert_eq!(attempt.path, format!("/visualization-{ID}/big.csv"));
        assert_eq!(attempt.auth, format!("Token {TOKEN}"));
        assert_eq!(attempt.accept, "text/csv, application/json");
        assert_eq!(attempt.parts.len(), 1);
        let (name, file_name, received) = &attempt.parts[0];
        assert_eq!((name.as_str(), file_name.as_str()), ("file", "big.csv"));
        assert!(
            received == &body,
            "attempt carried {} bytes",
            received.len()
        );
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
    let (url, script) = server(vec![]).await;
    let cfg = config(&url, Target::Directory(dir.path().into()));

    let report = run(&cfg).await.unwrap();
    assert_eq!(report.exit_code(), ExitCode::Success);
    assert_eq!(report.files_sent, 4);
    let sent = names(&script);
    assert_eq!(sent.len(), 4);
    let summary_at = sent.iter().position(|n| n == "100-summary.json").unwrap();
    for data in ["100-report.json", "100-member.json"] {
        assert!(sent.iter().position(|n| n == data).unwrap() < summary_at);
    }
    assert!(!sent.iter().any(|n| n.starts_with('.') || n == "notes.txt"));

    // rerun: everything acknowledged, nothing sent
    let again = run(&cfg).await.unwrap();
    assert_eq!(again.files_sent, 0);
    assert_eq!(again.plan.already_sent.len(), 4);
    assert_eq!(names(&script).len(), 4);

    // a changed stray is sent again; --force sends all
    std::fs::write(dir.path().join("stray.csv"), b"a,b,c").unwrap();
    let changed = run(&cfg).await.unwrap();
    assert_eq!(
        changed.plan.files().next().unwrap().reason,
        SendReason::Changed
    );
    assert_eq!(changed.files_sent, 1);
    let mut forced = cfg.clone();
    forced.options.force = true;
    assert_eq!(run(&forced).await.unwrap().files_sent, 4);

    // another source id does not count as sent
    let mut other = cfg.clone();
    other.source_id = uuid::Uuid::nil();
    assert_eq!(run(&other).await.unwrap().files_sent, 4);
}

#[tokio::test]
async fn an_interrupted_upload_resumes_where_it_stopped() {
    let dir = tempfile::tempdir().unwrap();
    write_run(dir.path(), 100, &[("a.json", b"[1]"), ("b.json", b"[2]")]);
    // first file ok, then the server fails for good: the run stops before its summary
    let (url, script) = server(vec![
        (200, vec![]),
        (500, vec![]),
        (500, vec![]),
        (500, vec![]),
        (500, vec![]),
    ])
    .await;
    let mut cfg = config(&url, Target::Directory(dir.path().into()));
    cfg.options.concurrency = 1;
    let err = run(&cfg).await.unwrap_err();
    assert_eq!(err.exit_code(), ExitCode::RemoteError, "{err}");
    assert!(!names(&script).contains(&"100-summary.json".to_string()));

    let report = run(&cfg).await.unwrap();
    assert_eq!(report.plan.already_sent.len(), 1);
    assert_eq!(
        report.files_sent, 2,
        "the other data file, then the summary"
    );
    assert_eq!(names(&script).last().unwrap(), "100-summary.json");
}

#[tokio::test]
async fn refused_and_incomplete_runs_are_held_back_good_runs_sent() {
    let dir = tempfile::tempdir().unwrap();
    write_run(dir.path(), 100, &[("report.json", b"[1]")]);
    write_run(dir.path(), 200, &[("report.json", b"[1]")]);
    std::fs::write(dir.path().join("200-report.json"), b"[9]").unwrap();
    std::fs::write(dir.path().join("300-report.json"), b"[]").unwrap();
    let (url, script) = server(vec![]).await;

    let report = run(&config(&url, Target::Directory(dir.path().into())))
        .await
        .unwrap();
    assert_eq!(report.exit_code(), ExitCode::Integrity);
    assert_eq!(names(&script), ["100-report.json", "100-summary.json"]);
    assert_eq!(report.plan.refused.len(), 1);
    assert!(report.plan.refused[0].contains("200-report.json has SHA-256"));
    assert_eq!(
        report.plan.incomplete,
        vec![(300, vec!["300-report.json".to_string()])]
    );
}

#[tokio::test]
async fn unauthorized_stops_at_once_and_redirects_are_not_followed() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("a.json");
    std::fs::write(&file, b"[]").unwrap();
    let (url, script) = server(vec![(401, vec![])]).await;
    let err = run(&config(&url, Target::File(file.clone())))
        .await
        .unwrap_err();
    assert_eq!(err.exit_code(), ExitCode::Unauthorized);
    assert_eq!(script.seen.lock().unwrap().len(), 1);
    assert!(!err.to_string().contains(TOKEN));

    let elsewhere = vec![("location", "http://127.0.0.1:1/x".to_string())];
    let (url, script) = server(vec![(403, vec![]), (307, elsewhere)]).await;
    let cfg = config(&url, Target::File(file));
    assert_eq!(
        run(&cfg).await.unwrap_err().exit_code(),
        ExitCode::Forbidden
    );
    let err = run(&cfg).await.unwrap_err();
    assert_eq!(err.exit_code(), ExitCode::RemoteError);
    assert!(err.to_string().contains("not followed"), "{err}");
    assert_eq!(script.seen.lock().unwrap().len(), 2);
}

#[tokio::test]
async fn dry_run_sends_nothing_and_lists_why() {
    let dir = tempfile::tempdir().unwrap();
    write_run(dir.path(), 100, &[("report.json", b"[1]")]);
    let (url, script) = server(vec![]).await;
    let mut cfg = config(&url, Target::Directory(dir.path().into()));
    cfg.options.dry_run = true;
    let report = run(&cfg).await.unwrap();
    assert!(script.seen.lock().unwrap().is_empty());
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
    let (url, script) = server(vec![]).await;
    let writer = DirLock::try_acquire(dir.path(), LockMode::Exclusive).unwrap();
    let mut cfg = config(&url, Target::Directory(dir.path().into()));
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
    assert_eq!(names(&script).len(), 2);
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
    let echo = vec![("x-echo", TOKEN.to_string())];
    let (url, _script) = server(vec![(429, echo), (500, vec![]), (401, vec![])]).await;
    let cfg = config(&url, Target::Directory(dir.path().into()));
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
