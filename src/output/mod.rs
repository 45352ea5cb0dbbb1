//! Everything about the output directory: creating it, the run lock, run
//! timestamps and leftovers, atomic file writes, checksums, and the run summary
//! that ties a run's files together.

pub mod atomic;
pub mod lock;
pub mod runs;
pub mod summary;

pub use atomic::{FileRecord, sha256_file, write_atomic, write_json_atomic};
pub use lock::{DirLock, LockMode};
pub use runs::{create_run_dir, run_ts};
pub use summary::{RunSummary, summary_file_name};
