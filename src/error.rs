//! The library's typed errors and their exit codes.
//!
//! Every fatal failure of either binary is one [`Error`]; the binaries print it
//! on one line (`extract-mode: error: …`) and exit with [`Error::exit_code`].
//! No variant ever holds a secret: URLs are stored without credentials and
//! response bodies are reduced to Mode's `message` field.

use std::path::PathBuf;

use crate::exit::ExitCode;

/// Result alias for the library.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// A fatal error of an extraction or upload.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A setting is missing or invalid (flag, environment variable or `.env`).
    #[error("{0}")]
    Config(String),

    /// The server refused the credentials (HTTP 401).
    #[error("authentication failed for {url}: HTTP 401{}; {hint}", fmt_message(.message))]
    Unauthorized {
        /// The URL that was refused (no credentials in it).
        url: String,
        /// The server's message, if it gave one (secrets redacted).
        message: String,
        /// What to do: where new credentials come from.
        hint: &'static str,
    },

    /// The credentials are valid but not allowed to read the resource (HTTP 403).
    #[error("permission denied for {url}: HTTP 403 {message}")]
    Forbidden {
        /// The URL that was refused.
        url: String,
        /// The server's message, if it gave one.
        message: String,
    },

    /// The workspace does not exist or this token cannot see it (HTTP 404 on a
    /// workspace-level list).
    #[error("workspace '{workspace}' not found at {url} (HTTP 404); check --workspace")]
    WorkspaceNotFound {
        /// The workspace username that was asked for.
        workspace: String,
        /// The URL that answered 404.
        url: String,
    },

    /// The host could not be reached, or every attempt timed out or dropped.
    #[error("cannot reach {url} after {attempts} attempt(s): {reason}")]
    Unreachable {
        /// The URL that was being fetched.
        url: String,
        /// How many attempts were made.
        attempts: u32,
        /// The last transport error, without credentials.
        reason: String,
    },

    /// The server answered with an unexpected or persistently failing status.
    #[error("{url} answered HTTP {status} after {attempts} attempt(s){}", fmt_message(.message))]
    Http {
        /// The URL.
        url: String,
        /// The last HTTP status.
        status: u16,
        /// How many attempts were made.
        attempts: u32,
        /// The server's message (Mode's `message` field), if any.
        message: String,
    },

    /// The server answered 2xx with a body that is not the JSON its API documents.
    #[error("unexpected response from {url}: {reason}")]
    Decode {
        /// The URL.
        url: String,
        /// What was wrong with the body.
        reason: String,
    },

    /// The output directory is locked by another run.
    #[error(
        "{path} is locked by another run (waited {waited}); retry later or raise --lock-timeout"
    )]
    Locked {
        /// The lock file.
        path: PathBuf,
        /// How long this process waited, human-readable.
        waited: String,
    },

    /// A run failed its integrity check before upload.
    #[error("{0}")]
    Integrity(String),

    /// A local file operation failed.
    #[error("{action} {path}: {source}")]
    Io {
        /// What was being done, e.g. "cannot write".
        action: &'static str,
        /// The path involved.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },

    /// `--strict` turned an item problem into a fatal error.
    #[error("--strict: {0}")]
    Strict(String),

    /// The process was interrupted by a signal.
    #[error("interrupted; no partial file was written")]
    Interrupted,

    /// Something that should not fail did (the async runtime, the TLS stack, a
    /// worker thread): a bug or a broken machine, not a bad setting.
    #[error("internal error: {0}")]
    Internal(String),
}

fn fmt_message(message: &str) -> String {
    if message.is_empty() {
        String::new()
    } else {
        format!(": {message}")
    }
}

impl Error {
    /// The documented exit code for this error.
    pub fn exit_code(&self) -> ExitCode {
        match self {
            Error::Config(_) => ExitCode::Usage,
            Error::Unauthorized { .. } => ExitCode::Unauthorized,
            Error::Forbidden { .. } => ExitCode::Forbidden,
            Error::WorkspaceNotFound { .. } => ExitCode::NotFound,
            Error::Unreachable { .. } => ExitCode::Unreachable,
            Error::Http { .. } | Error::Decode { .. } => ExitCode::RemoteError,
            Error::Locked { .. } => ExitCode::Locked,
            Error::Integrity(_) => ExitCode::Integrity,
            Error::Io { .. } => ExitCode::Io,
            Error::Strict(_) => ExitCode::StrictAbort,
            Error::Interrupted => ExitCode::Interrupted,
            Error::Internal(_) => ExitCode::Failure,
        }
    }

    /// Builds an [`Error::Io`] with the action and path that failed.
    pub fn io(action: &'static str, path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            action,
            path: path.into(),
            source,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One error of each variant with its documented code. The `match` has
    /// no wildcard, so a new variant does not compile until it is listed here.
    fn every_variant() -> Vec<(Error, u8)> {
        let io = || std::io::Error::other("x");
        let all = vec![
            (Error::Config("x".into()), 2),
            (
                Error::Unauthorized {
                    url: "u".into(),
                    message: String::new(),
                    hint: "h",
                },
                4,
            ),
            (
                Error::Forbidden {
                    url: "u".into(),
                    message: String::new(),
                },
                5,
            ),
            (
                Error::WorkspaceNotFound {
                    workspace: "w".into(),
                    url: "u".into(),
                },
                6,
            ),
            (
                Error::Unreachable {
                    url: "u".into(),
                    attempts: 1,
                    reason: "r".into(),
                },
                7,
            ),
            (
                Error::Http {
                    url: "u".into(),
                    status: 503,
                    attempts: 3,
                    message: String::new(),
                },
                8,
            ),
            (
                Error::Decode {
                    url: "u".into(),
                    reason: "r".into(),
                },
                8,
            ),
            (
                Error::Locked {
                    path: "p".into(),
                    waited: "1s".into(),
                },
                9,
            ),
            (Error::Integrity("x".into()), 10),
            (Error::io("cannot write", "p", io()), 11),
            (Error::Strict("x".into()), 12),
            (Error::Interrupted, 130),
            (Error::Internal("x".into()), 1),
        ];
        for (e, _) in &all {
            match e {
                Error::Config(_)
                | Error::Unauthorized { .. }
                | Error::Forbidden { .. }
                | Error::WorkspaceNotFound { .. }
                | Error::Unreachable { .. }
                | Error::Http { .. }
                | Error::Decode { .. }
                | Error::Locked { .. }
                | Error::Integrity(_)
                | Error::Io { .. }
                | Error::Strict(_)
                | Error::Interrupted
                | Error::Internal(_) => {}
            }
        }
        all
    }

    #[test]
    fn every_variant_maps_to_a_documented_code() {
        for (err, code) in every_variant() {
            assert_eq!(err.exit_code().code(), code, "{err}");
        }
    }

    #[test]
    fn http_message_is_appended_only_when_present() {
        let err = Error::Http {
            url: "https://x/api".into(),
            status: 500,
            attempts: 2,
            message: "boom".into(),
        };
        assert_eq!(
            err.to_string(),
            "https://x/api answered HTTP 500 after 2 attempt(s): boom"
        );
    }
}
