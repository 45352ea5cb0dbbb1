//! Everything about the output directory: the run lock, atomic file writes,
//! checksums, and the run summary that ties a run's files together.

pub mod atomic;
pub mod lock;
pub mod summary;

pub use atomic::{FileRecord, sha256_file, write_atomic, write_json_atomic};
pub use lock::{DirLock, LockMode};
pub use summary::{RunSummary, summary_file_name};
