//! `mode-extractor`: Mode Analytics metadata to catalog files, and files to the
//! catalog's ingest endpoint.
//!
//! The library core behind two binaries that are drop-in replacements for
//! castor-extractor's `castor-extract-mode` and `castor-upload`:
//!
//! - [`extract`] reads a Mode workspace through Mode's REST API ([`mode`]) and
//!   writes one timestamped JSON file per asset plus a summary ([`output`]);
//! - [`upload`] pushes a file or a whole run directory to the catalog's ingest
//!   endpoint, verified against the run's summary, retried and resumable;
//!
//! The sandbox (the `mode-sandbox` crate beside this one) is a faithful local
//! stand-in for both remote services, used by the tests, the demo and the
//! benchmarks; it is not part of this library.

pub mod error;
pub mod exit;
pub mod extract;
pub mod http;
pub mod lineage;
pub mod logging;
pub mod metrics;
pub mod mode;
pub mod openmetadata;
pub mod output;
pub mod progress;
pub mod settings;
pub mod signal;
pub mod upload;

#[cfg(test)]
mod proptests;

pub use error::{Error, Result};

/// The version both binaries print: the crate version and the commit they
/// were built from, e.g. `0.1.0 (abc123def456)`.
pub const VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (",
    env!("MODE_EXTRACTOR_COMMIT"),
    ")"
);
pub use exit::ExitCode;
pub use extract::{ExtractConfig, ExtractOptions};
