//! `{ts}-summary.json`: the last file of a run, which proves the run complete.
//!
//! castor's summary keys come first (`version`, `executed_at`,
//! `connection_identity`, `client_name`); ours follow. `files` lists every other
//! file of the run with its size and SHA-256: `upload` checks them before it
//! sends anything, so a run that was cut short or edited afterwards is never
//! pushed to the catalog. No field ever holds a secret.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::atomic::FileRecord;

/// castor's `client_name` for Mode.
pub const CLIENT_NAME: &str = "ModeAnalytics/API";

/// The summary's file name for a run timestamp.
pub fn summary_file_name(ts: i64) -> String {
    format!("{ts}-summary.json")
}

/// castor's `connection_identity` for Mode: only non-secret identity fields.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConnectionIdentity {
    /// `"<host>/<workspace>"`, e.g. `"https://app.mode.com/acme"`.
    pub base_url: String,
}

/// The content of `{ts}-summary.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunSummary {
    /// The extractor's version (castor key).
    pub version: String,
    /// ISO 8601 UTC time of the run's `ts` (castor key).
    pub executed_at: String,
    /// Non-secret identity of the source (castor key).
    pub connection_identity: ConnectionIdentity,
    /// `"ModeAnalytics/API"` (castor key).
    pub client_name: String,
    /// The run's timestamp, Unix seconds: the prefix of every file name.
    #[serde(default)]
    pub ts: i64,
    /// `"complete"` or `"complete_with_item_errors"`.
    #[serde(default)]
    pub status: String,
    /// Wall time of the run in seconds.
    #[serde(default)]
    pub duration_seconds: f64,
    /// Rows written per asset, e.g. `{"report": 400}`, in file order.
    #[serde(default)]
    pub counts: serde_json::Map<String, Value>,
    /// HTTP requests made to Mode, retries included.
    #[serde(default)]
    pub api_calls: u64,
    /// Requests that were repeated after a transient failure.
    #[serde(default)]
    pub retries: u64,
    /// 429 answers received.
    #[serde(default)]
    pub rate_limited: u64,
    /// Item problems that did not stop the run (same as `{ts}-errors_logs.json`,
    /// with structure).
    #[serde(default)]
    pub item_errors: Vec<Value>,
    /// The include/exclude filters and asset selection in force.
    #[serde(default)]
    pub filters: Value,
    /// Every other file of the run with size and SHA-256. `upload` refuses a
    /// summary whose list is missing or empty (castor's own summary has none).
    #[serde(default)]
    pub files: Vec<FileRecord>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn castor_keys_come_first_in_order() {
        let summary = RunSummary {
            version: "0.1.0".into(),
            executed_at: "2026-01-01T00:00:00Z".into(),
            connection_identity: ConnectionIdentity {
                base_url: "https://app.mode.com/acme".into(),
            },
            client_name: CLIENT_NAME.into(),
            ts: 1,
            status: "complete".into(),
            duration_seconds: 1.5,
            counts: Default::default(),
            api_calls: 3,
            retries: 0,
            rate_limited: 0,
            item_errors: vec![],
            filters: Value::Null,
            files: vec![],
        };
        let value = serde_json::to_value(&summary).unwrap();
        let keys: Vec<_> = value.as_object().unwrap().keys().take(4).cloned().collect();
        assert_eq!(
            keys,
            [
                "version",
                "executed_at",
                "connection_identity",
                "client_name"
            ]
        );
        let back: RunSummary = serde_json::from_value(value).unwrap();
        assert_eq!(back, summary);
    }

    #[test]
    fn a_castor_summary_without_our_keys_still_reads() {
        let castor = r#"{"version":"0.26.131","executed_at":"2024-01-01T00:00:00","connection_identity":{"base_url":"https://app.mode.com/x"},"client_name":"ModeAnalytics/API"}"#;
        let summary: RunSummary = serde_json::from_str(castor).unwrap();
        assert!(summary.files.is_empty());
    }
}
