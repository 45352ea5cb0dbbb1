//! Building answers, including the broken ones: a body cut short, and a
//! connection closed without any answer.

use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use serde_json::{Value, json};
use tokio::sync::Notify;

/// `Content-Type` of every `/api` answer.
pub(crate) const HAL_JSON: &str = "application/hal+json";

/// A per-connection signal: notified, the connection task drops the
/// connection at once, so the socket closes without any further byte.
#[derive(Clone, Debug, Default)]
pub(crate) struct ConnKill(pub(crate) Arc<Notify>);

impl ConnKill {
    /// Closes the connection and never returns: the pending request future is
    /// dropped together with the connection, so no status line is ever sent.
    pub(crate) async fn close_without_answer(&self) -> Response {
        self.0.notify_one();
        std::future::pending().await
    }
}

/// A JSON answer with the given status and content type.
pub(crate) fn json_response(status: u16, content_type: &str, body: &Value) -> Response {
    let bytes = serde_json::to_vec(body).unwrap_or_default();
    let mut response = Response::new(Body::from(bytes));
    *response.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
    if let Ok(value) = HeaderValue::from_str(content_type) {
        response.headers_mut().insert(header::CONTENT_TYPE, value);
    }
    response
}

/// Mode's error body `{"id":…,"message":…}` as HAL JSON.
pub(crate) fn mode_error(status: u16, id: &str, message: &str) -> Response {
    json_response(status, HAL_JSON, &json!({"id": id, "message": message}))
}

/// The catalog's error body `{"detail":…}` (Django REST framework style).
pub(crate) fn ingest_error(status: u16, detail: &str) -> Response {
    json_response(status, "application/json", &json!({"detail": detail}))
}

/// A fault-injected status answer; a 429 carries `retry_after` (one second in
/// the configured rate limit's `Retry-After` form) when given.
pub(crate) fn fault_status(status: u16, mode_side: bool, retry_after: Option<String>) -> Response {
    let message = format!("sandbox fault: injected HTTP {status}");
    let mut response = if mode_side {
        let id = if status == 429 {
            "rate_limited"
        } else {
            "internal_error"
        };
        mode_error(status, id, &message)
    } else {
        ingest_error(status, &message)
    };
    if let Some(value) = retry_after.filter(|_| status == 429) {
        set_header(&mut response, "retry-after", &value);
    }
    response
}

/// Sets a header, ignoring values that are not valid header text.
pub(crate) fn set_header(response: &mut Response, name: &'static str, value: &str) {
    if let Ok(value) = HeaderValue::from_str(value) {
        response.headers_mut().insert(name, value);
    }
}

/// Rewrites a complete answer so that it announces its full `Content-Length`
/// but sends only the first half of the body, then fails the body stream,
/// which makes the server close the connection mid-body.
pub(crate) async fn cut_body(response: Response) -> Response {
    let (parts, body) = response.into_parts();
    let bytes = axum::body::to_bytes(body, usize::MAX)
        .await
        .unwrap_or_default();
    let half = bytes.slice(..bytes.len() / 2);
    let mut cut = cut_stream(half);
    *cut.status_mut() = parts.status;
    *cut.headers_mut() = parts.headers;
    cut.headers_mut()
        .insert(header::CONTENT_LENGTH, bytes.len().into());
    cut
}

/// A 200 answer whose body is `bytes`, then a failed body stream (the server
/// closes the connection); the caller sets the `Content-Length` it announces.
pub(crate) fn cut_stream(bytes: Bytes) -> Response {
    let chunks = futures::stream::unfold(0u8, move |step| {
        let bytes = bytes.clone();
        async move {
            match step {
                0 => Some((Ok::<Bytes, std::io::Error>(bytes), 1)),
                1 => {
                    // Let the bytes reach the socket before failing.
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    let cut = std::io::Error::other("sandbox fault: body cut short");
                    Some((Err(cut), 2))
                }
                _ => None,
            }
        }
    });
    let mut response = Response::new(Body::from_stream(chunks));
    if let Ok(value) = HeaderValue::from_str(HAL_JSON) {
        response.headers_mut().insert(header::CONTENT_TYPE, value);
    }
    response
}
