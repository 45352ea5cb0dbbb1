//! The ingest side: stored bytes, refused tokens, cut bodies and faults.

use std::time::Duration;

use sha2::{Digest, Sha256};
use tokio::io::AsyncWriteExt;

use super::{client, small, start};
use crate::{FaultConfig, FaultKind, Sandbox, SandboxConfig};

const SOURCE: &str = "6a1b3c4d-0000-4000-8000-000000000001";

fn config() -> SandboxConfig {
    SandboxConfig {
        reports: 20,
        ..small()
    }
}

/// Bytes that are not all alike: a counter mixed with its square.
fn payload(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i ^ ((i * i) >> 7)) as u8).collect()
}

async fn upload(
    sandbox: &Sandbox,
    name: &str,
    bytes: Vec<u8>,
    token: &str,
) -> reqwest::Result<reqwest::Response> {
    let part = reqwest::multipart::Part::bytes(bytes).file_name(name.to_owned());
    let form = reqwest::multipart::Form::new().part("file", part);
    client()
        .post(format!("{}/visualization-{SOURCE}/{name}", sandbox.url()))
        .header("Authorization", format!("Token {token}"))
        .multipart(form)
        .send()
        .await
}

#[tokio::test]
async fn stores_byte_identical_files_and_records_them() {
    let sandbox = start(config()).await;
    let bytes = payload(3 * 1024 * 1024 + 17);
    let response = upload(
        &sandbox,
        "1700000000-report.json",
        bytes.clone(),
        "sandbox-ingest-token",
    )
    .await;
    assert_eq!(response.map(|r| r.status().as_u16()).ok(), Some(200));
    let received = sandbox.received();
    assert_eq!(received.len(), 1);
    let file = &received[0];
    let path = format!("/visualization-{SOURCE}/1700000000-report.json");
    assert_eq!(
        (
            file.path.as_str(),
            file.kind.as_str(),
            file.source_id.as_str()
        ),
        (path.as_str(), "visualization", SOURCE)
    );
    assert_eq!(file.bytes, bytes.len() as u64);
    assert_eq!(file.sha256, hex::encode(Sha256::digest(&bytes)));
    let stored =
        std::fs::read(sandbox.ingest_dir().join(path.trim_start_matches('/'))).expect("stored");
    assert!(stored == bytes);
    let stats = sandbox.stats();
    assert_eq!((stats.ingest_requests, stats.total), (1, 0));
}

#[tokio::test]
async fn refuses_a_bad_token_and_a_bad_path() {
    let sandbox = start(config()).await;
    let refused = upload(&sandbox, "x.json", b"[]".to_vec(), "wrong")
        .await
        .expect("answer");
    assert_eq!(refused.status(), 401);
    let body: serde_json::Value = refused.json().await.expect("json");
    assert!(body["detail"].is_string());
    let unknown = client()
        .post(format!("{}/elsewhere-1/x.json", sandbox.url()))
        .send()
        .await
        .expect("answer");
    assert_eq!(unknown.status(), 404);
    let not_multipart = client()
        .post(format!("{}/warehouse-{SOURCE}/x.json", sandbox.url()))
        .header("Authorization", "Token sandbox-ingest-token")
        .body("[]")
        .send()
        .await
        .expect("answer");
    assert_eq!(not_multipart.status(), 400);
    assert!(sandbox.received().is_empty());
}

#[tokio::test]
async fn a_body_cut_short_is_not_recorded() {
    let sandbox = start(config()).await;
    let address = sandbox.url().trim_start_matches("http://").to_owned();
    let mut stream = tokio::net::TcpStream::connect(&address)
        .await
        .expect("connects");
    let head = format!(
        "POST /visualization-{SOURCE}/cut.json HTTP/1.1\r\nHost: {address}\r\nAuthorization: Token sandbox-ingest-token\r\nContent-Type: multipart/form-data; boundary=XyZ\r\nContent-Length: 100000\r\n\r\n--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"cut.json\"\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).await.expect("sends");
    stream.write_all(&payload(5000)).await.expect("sends");
    drop(stream);
    for _ in 0..50 {
        if sandbox.stats().ingest_by_status.contains_key(&400) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(sandbox.stats().ingest_by_status.get(&400), Some(&1));
    assert!(sandbox.received().is_empty());
    let dir = sandbox.ingest_dir().join(format!("visualization-{SOURCE}"));
    let leftovers = std::fs::read_dir(&dir).map(|d| d.count()).unwrap_or(0);
    assert_eq!(leftovers, 0, "temporary file left behind");
}

#[tokio::test]
async fn drop_after_store_records_the_file_but_never_answers() {
    let sandbox = start(config()).await;
    sandbox.set_ingest_faults(FaultConfig::scripted(vec![Some(FaultKind::DropAfterStore)]));
    let bytes = payload(10_000);
    let result = upload(
        &sandbox,
        "1-collection.json",
        bytes.clone(),
        "sandbox-ingest-token",
    )
    .await;
    assert!(result.is_err(), "client saw an answer: {result:?}");
    let received = sandbox.received();
    assert_eq!(received.len(), 1);
    assert_eq!(received[0].sha256, hex::encode(Sha256::digest(&bytes)));
    let stats = sandbox.stats();
    assert_eq!(
        (stats.ingest_by_status.get(&0), stats.faults_injected),
        (Some(&1), 1)
    );
    let retried = upload(&sandbox, "1-collection.json", bytes, "sandbox-ingest-token").await;
    assert_eq!(retried.map(|r| r.status().as_u16()).ok(), Some(200));
    assert_eq!(sandbox.received().len(), 2);
}

#[tokio::test]
async fn status_faults_refuse_without_storing() {
    let sandbox = start(config()).await;
    let script = vec![Some(FaultKind::Status(429)), Some(FaultKind::Status(502))];
    sandbox.set_ingest_faults(FaultConfig::scripted(script));
    let limited = upload(&sandbox, "a.json", payload(2000), "sandbox-ingest-token")
        .await
        .expect("answer");
    assert_eq!(limited.status(), 429);
    assert!(limited.headers().contains_key("retry-after"));
    let failed = upload(&sandbox, "a.json", payload(2000), "sandbox-ingest-token")
        .await
        .expect("answer");
    assert_eq!(failed.status(), 502);
    assert!(sandbox.received().is_empty());
}

#[tokio::test]
async fn scripted_answers_come_first_and_every_request_is_listed() {
    let sandbox = start(config()).await;
    sandbox.script_ingest(vec![
        crate::IngestAnswer::status(503).header("retry-after", "0"),
        crate::IngestAnswer::status(307)
            .header("location", "http://127.0.0.1:1/x")
            .body("moved"),
    ]);
    let bytes = payload(1000);
    let sha = hex::encode(Sha256::digest(&bytes));
    let mut answers = Vec::new();
    for _ in 0..3 {
        let response = upload(&sandbox, "1-a.json", bytes.clone(), "sandbox-ingest-token")
            .await
            .unwrap();
        let header = |n: &str| {
            response
                .headers()
                .get(n)
                .map(|v| v.to_str().unwrap().to_owned())
        };
        answers.push((
            response.status().as_u16(),
            header("retry-after"),
            header("location"),
        ));
    }
    assert_eq!(
        answers,
        [
            (503, Some("0".into()), None),
            (307, None, Some("http://127.0.0.1:1/x".into())),
            (200, None, None),
        ]
    );
    let _ = upload(&sandbox, "1-a.json", bytes.clone(), "wrong").await;
    let seen = sandbox.ingest_requests();
    let statuses: Vec<u16> = seen.iter().map(|r| r.status).collect();
    assert_eq!(statuses, [503, 307, 200, 401]);
    for request in &seen[..3] {
        assert_eq!(
            request.authorization.as_deref(),
            Some("Token sandbox-ingest-token")
        );
        assert_eq!(request.path, format!("/visualization-{SOURCE}/1-a.json"));
        assert_eq!(request.parts.len(), 1);
        let part = &request.parts[0];
        assert_eq!(
            (part.name.as_str(), part.file_name.as_deref()),
            ("file", Some("1-a.json"))
        );
        assert_eq!((part.bytes, part.sha256.as_str()), (1000, sha.as_str()));
    }
    assert!(seen[3].parts.is_empty());
    assert_eq!(
        sandbox.received().len(),
        1,
        "only the unscripted one is stored"
    );
}
