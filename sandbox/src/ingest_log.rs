//! What the ingest side received and answered: the records tests read
//! ([`ReceivedFile`], [`IngestRequest`], [`ReceivedPart`]) and the script of
//! [`IngestAnswer`]s, kept apart from the request handling in `ingest` so
//! that the sandbox's shared state holds them without importing the handler.

use std::collections::VecDeque;
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

use super::sync::lock;

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

/// A scripted ingest answer (see [`crate::Handle::script_ingest`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IngestAnswer {
    /// The HTTP status, e.g. 503 or 307.
    pub status: u16,
    /// Extra headers, e.g. `("retry-after", "0")` or `("location", "…")`.
    pub headers: Vec<(String, String)>,
    /// The body, sent as `text/plain`.
    pub body: String,
}

impl IngestAnswer {
    /// `status` with no extra header and the body `scripted answer`.
    pub fn status(status: u16) -> IngestAnswer {
        IngestAnswer {
            status,
            headers: Vec::new(),
            body: "scripted answer".into(),
        }
    }

    /// Adds a header.
    pub fn header(mut self, name: &str, value: &str) -> IngestAnswer {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    /// Replaces the body.
    pub fn body(mut self, body: &str) -> IngestAnswer {
        self.body = body.to_owned();
        self
    }
}

/// One part of a multipart body as the ingest side read it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReceivedPart {
    /// The part's name (`file` for castor's uploader).
    pub name: String,
    /// The part's file name, if it has one.
    pub file_name: Option<String>,
    /// Bytes read.
    pub bytes: u64,
    /// SHA-256 of those bytes, lowercase hex.
    pub sha256: String,
}

/// One request to the ingest side, whatever its answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IngestRequest {
    /// The URL path.
    pub path: String,
    /// The `Authorization` header, if any and if text.
    pub authorization: Option<String>,
    /// The `Accept` header, if any and if text.
    pub accept: Option<String>,
    /// The parts read, in order (empty when the body was not read: a 401, a
    /// 404, or a body that is not multipart; a body cut short lists the
    /// parts read before the cut).
    pub parts: Vec<ReceivedPart>,
    /// The status answered.
    pub status: u16,
}

/// The script of answers and the list of requests of one sandbox.
#[derive(Debug, Default)]
pub(crate) struct IngestLog {
    answers: Mutex<VecDeque<IngestAnswer>>,
    requests: Mutex<Vec<IngestRequest>>,
}

impl IngestLog {
    pub(crate) fn script(&self, answers: Vec<IngestAnswer>) {
        *lock(&self.answers) = answers.into();
    }

    pub(crate) fn requests(&self) -> Vec<IngestRequest> {
        lock(&self.requests).clone()
    }

    pub(crate) fn next_answer(&self) -> Option<IngestAnswer> {
        lock(&self.answers).pop_front()
    }

    pub(crate) fn push(&self, request: IngestRequest) {
        lock(&self.requests).push(request);
    }
}
