//! The ingest side: plays the catalog's upload endpoint that castor's
//! uploader posts to.
//!
//! `POST /{kind}-{source_id}/{file name}` with `kind` one of `visualization`,
//! `warehouse`, `quality`, `transformation`, header
//! `Authorization: Token {ingest_token}` (else 401 `{"detail":…}`), and a
//! `multipart/form-data` body whose part named `file` holds the bytes. The
//! part is streamed to `ingest_dir/{kind}-{source_id}/{file name}` through a
//! temporary file (never held in memory) while its SHA-256 is computed; only a
//! complete body is renamed into place and recorded. The answer is 200
//! `{"path":…,"bytes":…,"sha256":…}`.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::extract::{FromRequest, Multipart, Request};
use axum::http::{Method, header};
use axum::response::Response;
use serde::{Deserialize, Serialize};
use serde_json::json;
use sha2::{Digest, Sha256};
use tokio::io::AsyncWriteExt;

use super::faults::FaultKind;
use super::respond::{self, ConnKill};
use super::state::{Shared, Side};

/// The upload kinds of castor's uploader (its `FileType` templates).
const KINDS: [&str; 4] = ["visualization", "warehouse", "quality", "transformation"];

/// One file the ingest side received completely and stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReceivedFile {
    /// The URL path it was posted to, e.g. `/visualization-<uuid>/1700000000-report.json`.
    pub path: String,
    /// The file name (last path segment).
    pub name: String,
    /// Size of the stored `file` part, in bytes.
    pub bytes: u64,
    /// SHA-256 of the stored bytes, lowercase hex.
    pub sha256: String,
    /// The source id of the URL (`{kind}-{source_id}`).
    pub source_id: String,
    /// The kind of the URL: `visualization|warehouse|quality|transformation`.
    pub kind: String,
}

/// `(kind, source_id, name)` of an ingest path, if it is one.
pub(crate) fn parse_path(path: &str) -> Option<(String, String, String)> {
    let (dir, name) = path.strip_prefix('/')?.split_once('/')?;
    let (kind, source_id) = dir.split_once('-')?;
    let safe = |s: &str| !s.is_empty() && !s.starts_with('.') && !s.contains(['/', '\\']);
    let known = KINDS.contains(&kind);
    (known && safe(source_id) && safe(name))
        .then(|| (kind.to_owned(), source_id.to_owned(), name.to_owned()))
}

/// Answers one ingest request.
pub(crate) async fn handle(shared: Arc<Shared>, request: Request, kill: ConnKill) -> Response {
    shared.stats_mut(|s| s.ingest_request());
    tokio::time::sleep(shared.config.latency).await;
    let path = request.uri().path().to_owned();
    let response = answer(&shared, &path, request, kill).await;
    let status = response.status().as_u16();
    shared.stats_mut(|s| s.ingest_status(status));
    tracing::debug!(path, status, "ingest");
    response
}

async fn answer(shared: &Shared, path: &str, request: Request, kill: ConnKill) -> Response {
    let Some((kind, source_id, name)) = parse_path(path) else {
        return respond::ingest_error(404, "Not found.");
    };
    if request.method() != Method::POST {
        return respond::ingest_error(405, "Method not allowed.");
    }
    let expected = format!("Token {}", shared.config.ingest_token);
    let authorization = request.headers().get(header::AUTHORIZATION);
    if authorization.and_then(|v| v.to_str().ok()) != Some(expected.as_str()) {
        return respond::ingest_error(401, "Invalid token.");
    }
    let target = Target {
        path: path.to_owned(),
        kind,
        source_id,
        name,
    };
    let (fault, stall) = shared.next_fault(Side::Ingest);
    match fault {
        Some(FaultKind::Status(status)) => {
            drain(request).await;
            respond::fault_status(status, false, shared.fault_retry_after())
        }
        Some(FaultKind::Stall) => {
            tokio::time::sleep(stall).await;
            store(shared, target, request).await
        }
        Some(FaultKind::DropMidBody) => {
            respond::cut_body(store(shared, target, request).await).await
        }
        Some(FaultKind::DropAfterStore) => {
            let stored = store(shared, target, request).await;
            if stored.status().is_success() {
                shared.stats_mut(|s| s.ingest_status(0));
                return kill.close_without_answer().await;
            }
            stored
        }
        None => store(shared, target, request).await,
    }
}

/// Where an upload goes.
struct Target {
    path: String,
    kind: String,
    source_id: String,
    name: String,
}

/// Reads and discards the body, so a refused upload is not seen by the client
/// as a connection reset while it is still sending.
async fn drain(request: Request) {
    let _ = axum::body::to_bytes(request.into_body(), usize::MAX).await;
}

/// Streams the `file` part to disk, records it and answers 200; 400 when the
/// body is not multipart, has no `file` part, or ends early.
async fn store(shared: &Shared, target: Target, request: Request) -> Response {
    let Ok(mut multipart) = Multipart::from_request(request, &()).await else {
        return respond::ingest_error(400, "Expected a multipart/form-data body.");
    };
    let dir = shared
        .ingest_dir
        .join(format!("{}-{}", target.kind, target.source_id));
    let temp = dir.join(format!(".{}.{}.part", target.name, shared.next_upload()));
    let written = loop {
        match multipart.next_field().await {
            Ok(Some(field)) if field.name() == Some("file") => {
                break write_field(field, &dir, &temp).await;
            }
            Ok(Some(_)) => continue,
            Ok(None) => return respond::ingest_error(400, "No part named 'file'."),
            Err(_) => return respond::ingest_error(400, "Malformed or truncated multipart body."),
        }
    };
    let Ok((bytes, sha256)) = written else {
        let _ = tokio::fs::remove_file(&temp).await;
        return respond::ingest_error(400, "Upload body ended early or could not be stored.");
    };
    let final_path = dir.join(&target.name);
    if tokio::fs::rename(&temp, &final_path).await.is_err() {
        let _ = tokio::fs::remove_file(&temp).await;
        return respond::ingest_error(500, "Could not store the file.");
    }
    let body = json!({"path": target.path, "bytes": bytes, "sha256": sha256});
    shared.record(ReceivedFile {
        path: target.path,
        name: target.name,
        bytes,
        sha256,
        source_id: target.source_id,
        kind: target.kind,
    });
    respond::json_response(200, "application/json", &body)
}

/// Writes one field chunk by chunk, returning its size and SHA-256.
async fn write_field(
    mut field: axum::extract::multipart::Field<'_>,
    dir: &Path,
    temp: &PathBuf,
) -> std::io::Result<(u64, String)> {
    tokio::fs::create_dir_all(dir).await?;
    let mut file = tokio::fs::File::create(temp).await?;
    let mut hasher = Sha256::new();
    let mut bytes = 0u64;
    loop {
        match field.chunk().await {
            Ok(Some(chunk)) => {
                hasher.update(&chunk);
                bytes += chunk.len() as u64;
                file.write_all(&chunk).await?;
            }
            Ok(None) => break,
            Err(err) => return Err(std::io::Error::other(err)),
        }
    }
    file.flush().await?;
    Ok((bytes, hex::encode(hasher.finalize())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ingest_paths() {
        let parsed = parse_path("/visualization-abc-123/1700-report.json");
        let expected = (
            "visualization".into(),
            "abc-123".into(),
            "1700-report.json".into(),
        );
        assert_eq!(parsed, Some(expected));
        assert_eq!(parse_path("/nope-abc/x.json"), None);
        assert_eq!(parse_path("/warehouse-abc/../x.json"), None);
        assert_eq!(parse_path("/warehouse-abc/"), None);
        assert_eq!(parse_path("/warehouse-/x.json"), None);
    }
}
