//! The output directory's lock.
//!
//! `extract-mode` holds an exclusive lock on `<dir>/.mode-extractor.lock` for its
//! whole run; `upload -d` holds a shared one while it reads, so it never sends a
//! run that is still being written, and several uploads may read at once. The
//! lock is an OS advisory lock (std `File::lock`, `flock` on Unix): it is released
//! when the process exits, however it exits, so a killed run never leaves a
//! stale lock behind.

use std::fs::{File, OpenOptions, TryLockError};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::error::{Error, Result};

/// The lock file's name inside the output directory.
pub const LOCK_FILE_NAME: &str = ".mode-extractor.lock";

/// How often a waiting process tries the lock again.
const POLL: Duration = Duration::from_millis(100);

/// Exclusive for a writer (`extract-mode`), shared for readers (`upload`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LockMode {
    /// One holder at a time, no readers.
    Exclusive,
    /// Any number of readers, no writer.
    Shared,
}

/// A held lock; released on drop.
#[derive(Debug)]
pub struct DirLock {
    _file: File,
    path: PathBuf,
}

impl DirLock {
    /// Takes the lock of `dir`, waiting up to `timeout` (`None` or zero: do not
    /// wait) while another process holds it. The directory must exist.
    ///
    /// # Errors
    /// [`Error::Locked`] when the wait ends with the lock still held elsewhere;
    /// [`Error::Io`] when the lock file cannot be opened.
    pub fn acquire(dir: &Path, mode: LockMode, timeout: Option<Duration>) -> Result<DirLock> {
        let path = dir.join(LOCK_FILE_NAME);
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(|e| Error::io("cannot open lock file", &path, e))?;
        let start = Instant::now();
        let timeout = timeout.unwrap_or(Duration::ZERO);
        let mut announced = false;
        loop {
            let attempt = match mode {
                LockMode::Exclusive => file.try_lock(),
                LockMode::Shared => file.try_lock_shared(),
            };
            match attempt {
                Ok(()) => return Ok(DirLock { _file: file, path }),
                Err(TryLockError::WouldBlock) if start.elapsed() < timeout => {
                    if !announced {
                        tracing::info!(
                            "{} is locked by another run; waiting up to {}",
                            dir.display(),
                            humantime::format_duration(timeout)
                        );
                        announced = true;
                    }
                    std::thread::sleep(POLL.min(timeout.saturating_sub(start.elapsed())));
                }
                Err(TryLockError::WouldBlock) => {
                    return Err(Error::Locked {
                        path,
                        waited: humantime::format_duration(round_ms(start.elapsed())).to_string(),
                    });
                }
                Err(TryLockError::Error(e)) => {
                    return Err(Error::io("cannot lock", &path, e));
                }
            }
        }
    }

    /// The lock file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

fn round_ms(d: Duration) -> Duration {
    Duration::from_millis(d.as_millis() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exclusive_excludes_and_shared_shares() {
        let dir = tempfile::tempdir().unwrap();
        let a = DirLock::acquire(dir.path(), LockMode::Shared, None).unwrap();
        let b = DirLock::acquire(dir.path(), LockMode::Shared, None).unwrap();
        let err = DirLock::acquire(dir.path(), LockMode::Exclusive, None).unwrap_err();
        assert!(matches!(err, Error::Locked { .. }), "{err}");
        drop((a, b));
        let w = DirLock::acquire(dir.path(), LockMode::Exclusive, None).unwrap();
        let err = DirLock::acquire(
            dir.path(),
            LockMode::Shared,
            Some(Duration::from_millis(250)),
        )
        .unwrap_err();
        assert_eq!(err.exit_code(), crate::exit::ExitCode::Locked);
        drop(w);
    }
}
