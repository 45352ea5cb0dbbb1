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
//!
//! For tests of a client's handling of answers, a script of
//! [`IngestAnswer`]s (status, headers, body) answers the next authorised
//! requests instead, after reading their parts; and every request is listed
//! as an [`IngestRequest`] (path, `Authorization`, `Accept`, parts, status).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::extract::{FromRequest, Multipart, Request};
use axum::http::{Method, header};
use axum::response::Response;
use serde_json::json;
use sha2::{Digest, Sha256};
use tokio::io::AsyncWriteExt;

use super::faults::FaultKind;
use super::ingest_log::{IngestAnswer, IngestRequest, ReceivedFile, ReceivedPart};
use super::respond::{self, ConnKill};
use super::state::{Shared, Side};

/// The upload kinds of castor's uploader (its `FileType` templates).
const KINDS: [&str; 4] = ["visualization", "warehouse", "quality", "transformation"];

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
    let (authorization, accept) = {
        let text = |name| {
            let value = request.headers().get(name)?;
            value.to_str().ok().map(str::to_owned)
        };
        (text(header::AUTHORIZATION), text(header::ACCEPT))
    };
    let (response, parts) = answer(&shared, &path, request, kill).await;
    let status = response.status().as_u16();
    shared.stats_mut(|s| s.ingest_status(status));
    shared.ingest_log.push(IngestRequest {
        path: path.clone(),
        authorization,
        accept,
        parts,
        status,
    });
    tracing::debug!(path, status, "ingest");
    response
}

/// The answer and the parts read.
type Answered = (Response, Vec<ReceivedPart>);

async fn answer(shared: &Shared, path: &str, request: Request, kill: ConnKill) -> Answered {
    let Some((kind, source_id, name)) = parse_path(path) else {
        return (respond::ingest_error(404, "Not found."), vec![]);
    };
    if request.method() != Method::POST {
        return (respond::ingest_error(405, "Method not allowed."), vec![]);
    }
    let expected = format!("Token {}", shared.config.ingest_token);
    let authorization = request.headers().get(header::AUTHORIZATION);
    if authorization.and_then(|v| v.to_str().ok()) != Some(expected.as_str()) {
        return (respond::ingest_error(401, "Invalid token."), vec![]);
    }
    if let Some(scripted) = shared.ingest_log.next_answer() {
        let parts = read_parts(request).await;
        return (scripted_response(&scripted), parts);
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
            let parts = read_parts(request).await;
            let retry_after = shared.fault_retry_after();
            (respond::fault_status(status, false, retry_after), parts)
        }
        Some(FaultKind::Stall) => {
            tokio::time::sleep(stall).await;
            store(shared, target, request).await
        }
        Some(FaultKind::DropMidBody) => {
            let (stored, parts) = store(shared, target, request).await;
            (respond::cut_body(stored).await, parts)
        }
        Some(FaultKind::DropAfterStore) => {
            let (stored, parts) = store(shared, target, request).await;
            if stored.status().is_success() {
                shared.stats_mut(|s| s.ingest_status(0));
                return (kill.close_without_answer().await, parts);
            }
            (stored, parts)
        }
        None => store(shared, target, request).await,
    }
}

fn scripted_response(scripted: &IngestAnswer) -> Response {
    let mut response = Response::new(axum::body::Body::from(scripted.body.clone()));
    *response.status_mut() =
        axum::http::StatusCode::from_u16(scripted.status).unwrap_or(axum::http::StatusCode::OK);
    respond::set_header(&mut response, "content-type", "text/plain");
    for (name, value) in &scripted.headers {
        if let (Ok(name), Ok(value)) = (
            header::HeaderName::from_bytes(name.as_bytes()),
            header::HeaderValue::from_str(value),
        ) {
            response.headers_mut().insert(name, value);
        }
    }
    response
}

/// Where an upload goes.
struct Target {
    path: String,
    kind: String,
    source_id: String,
    name: String,
}

/// Reads the body as multipart, hashing each part and storing none; the
/// parts read before a malformed or cut body. Reading it all also keeps a
/// refused upload from looking like a reset to a client still sending.
async fn read_parts(request: Request) -> Vec<ReceivedPart> {
    let Ok(mut multipart) = Multipart::from_request(request, &()).await else {
        return Vec::new();
    };
    let mut parts = Vec::new();
    while let Ok(Some(mut field)) = multipart.next_field().await {
        let (name, file_name) = field_names(&field);
        let mut hasher = Sha256::new();
        let mut bytes = 0u64;
        while let Ok(Some(chunk)) = field.chunk().await {
            hasher.update(&chunk);
            bytes += chunk.len() as u64;
        }
        let sha256 = hex::encode(hasher.finalize());
        parts.push(ReceivedPart {
            name,
            file_name,
            bytes,
            sha256,
        });
    }
    parts
}

fn field_names(field: &axum::extract::multipart::Field<'_>) -> (String, Option<String>) {
    let name = field.name().unwrap_or_default().to_owned();
    (name, field.file_name().map(str::to_owned))
}

/// Streams the `file` part to disk, records it and answers 200; 400 when the
/// body is not multipart, has no `file` part, or ends early.
async fn store(shared: &Shared, target: Target, request: Request) -> Answered {
    let Ok(mut multipart) = Multipart::from_request(request, &()).await else {
        let refused = respond::ingest_error(400, "Expected a multipart/form-data body.");
        return (refused, vec![]);
    };
    let dir = shared
        .ingest_dir
        .join(format!("{}-{}", target.kind, target.source_id));
    let temp = dir.join(format!(".{}.{}.part", target.name, shared.next_upload()));
    let mut parts = Vec::new();
    let written = loop {
        match multipart.next_field().await {
            Ok(Some(field)) if field.name() == Some("file") => {
                let (name, file_name) = field_names(&field);
                let written = write_field(field, &dir, &temp).await;
                if let Ok((bytes, sha256)) = &written {
                    let (bytes, sha256) = (*bytes, sha256.clone());
                    parts.push(ReceivedPart {
                        name,
                        file_name,
                        bytes,
                        sha256,
                    });
                }
                break written;
            }
            Ok(Some(_)) => continue,
            Ok(None) => return (respond::ingest_error(400, "No part named 'file'."), parts),
            Err(_) => {
                let refused = respond::ingest_error(400, "Malformed or truncated multipart body.");
                return (refused, parts);
            }
        }
    };
    let Ok((bytes, sha256)) = written else {
        let _ = tokio::fs::remove_file(&temp).await;
        let refused = respond::ingest_error(400, "Upload body ended early or could not be stored.");
        return (refused, parts);
    };
    let final_path = dir.join(&target.name);
    if tokio::fs::rename(&temp, &final_path).await.is_err() {
        let _ = tokio::fs::remove_file(&temp).await;
        return (
            respond::ingest_error(500, "Could not store the file."),
            parts,
        );
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
    (
        respond::json_response(200, "application/json", &body),
        parts,
    )
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
