//! The output directory's lock.
//!
//! `extract-mode` holds an exclusive lock on `<dir>/.mode-extractor.lock` for its
//! whole run; `upload -d` holds a shared one while it reads, so it never sends a
//! run that is still being written, and several uploads may read at once. The
//! lock is an OS advisory lock (std `File::lock`, `flock` on Unix): it is released
//! when the process exits, however it exits, so a killed run never leaves a
//! stale lock behind.
//!
//! [`DirLock::acquire`] is the one way both binaries take it: an async wait
//! that polls a non-blocking `try_lock` every 100 ms, so it occupies no thread
//! and ends as soon as its future is dropped (a signal handled by the caller's
//! `select!` is honoured at once, not after the wait).

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
    /// wait) while another process holds it; logs once (INFO) when it has to
    /// wait. The directory must exist. Cancel-safe: dropping the future stops
    /// the wait.
    ///
    /// # Errors
    /// [`Error::Locked`] when the wait ends with the lock still held elsewhere;
    /// [`Error::Io`] when the lock file cannot be opened or locked.
    pub async fn acquire(dir: &Path, mode: LockMode, timeout: Option<Duration>) -> Result<DirLock> {
        let path = dir.join(LOCK_FILE_NAME);
        let file = open(&path)?;
        let start = Instant::now();
        let timeout = timeout.unwrap_or(Duration::ZERO);
        let mut announced = false;
        loop {
            if try_lock(&file, mode).map_err(|e| Error::io("cannot lock", &path, e))? {
                return Ok(DirLock { _file: file, path });
            }
            let left = timeout.saturating_sub(start.elapsed());
            if left.is_zero() {
                return Err(Error::Locked {
                    path,
                    waited: humantime::format_duration(round_ms(start.elapsed())).to_string(),
                });
            }
            if !announced {
                tracing::info!(
                    "{} is locked by another run; waiting up to {}",
                    dir.display(),
                    humantime::format_duration(timeout)
                );
                announced = true;
            }
            tokio::time::sleep(POLL.min(left)).await;
        }
    }

    /// Takes the lock of `dir` if it is free now, without waiting: for
    /// synchronous callers (tests, tools) that hold a directory.
    ///
    /// # Errors
    /// [`Error::Locked`] when another process holds it; [`Error::Io`] as
    /// [`DirLock::acquire`].
    pub fn try_acquire(dir: &Path, mode: LockMode) -> Result<DirLock> {
        let path = dir.join(LOCK_FILE_NAME);
        let file = open(&path)?;
        match try_lock(&file, mode) {
            Ok(true) => Ok(DirLock { _file: file, path }),
            Ok(false) => Err(Error::Locked {
                path,
                waited: "0s".into(),
            }),
            Err(e) => Err(Error::io("cannot lock", &path, e)),
        }
    }

    /// The lock file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

fn open(path: &Path) -> Result<File> {
    OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(path)
        .map_err(|e| Error::io("cannot open lock file", path, e))
}

/// One non-blocking attempt: `Ok(false)` when another process holds it.
fn try_lock(file: &File, mode: LockMode) -> std::io::Result<bool> {
    let attempt = match mode {
        LockMode::Exclusive => file.try_lock(),
        LockMode::Shared => file.try_lock_shared(),
    };
    match attempt {
        Ok(()) => Ok(true),
        Err(TryLockError::WouldBlock) => Ok(false),
        Err(TryLockError::Error(e)) => Err(e),
    }
}

fn round_ms(d: Duration) -> Duration {
    Duration::from_millis(d.as_millis() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn exclusive_excludes_and_shared_shares() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let a = DirLock::acquire(d, LockMode::Shared, None).await.unwrap();
        let b = DirLock::acquire(d, LockMode::Shared, None).await.unwrap();
        let err = DirLock::acquire(d, LockMode::Exclusive, None)
            .await
            .unwrap_err();
        assert!(matches!(err, Error::Locked { .. }), "{err}");
        drop((a, b));
        let w = DirLock::acquire(d, LockMode::Exclusive, None)
            .await
            .unwrap();
        let wait = Some(Duration::from_millis(250));
        let err = DirLock::acquire(d, LockMode::Shared, wait)
            .await
            .unwrap_err();
        assert_eq!(err.exit_code(), crate::exit::ExitCode::Locked);
        drop(w);
        let sync = DirLock::try_acquire(d, LockMode::Exclusive).unwrap();
        assert!(DirLock::try_acquire(d, LockMode::Shared).is_err());
        drop(sync);
    }

    #[tokio::test]
    async fn a_waiter_gets_the_lock_once_released_and_can_be_cancelled() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().to_owned();
        let w = DirLock::acquire(&d, LockMode::Exclusive, None)
            .await
            .unwrap();
        // dropping the waiting future ends the wait at once (no blocking thread)
        let wait = Some(Duration::from_secs(30));
        let started = Instant::now();
        let cancelled = tokio::time::timeout(
            Duration::from_millis(150),
            DirLock::acquire(&d, LockMode::Shared, wait),
        )
        .await;
        assert!(cancelled.is_err());
        assert!(started.elapsed() < Duration::from_secs(1));
        let release = tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(200)).await;
            drop(w);
        });
        DirLock::acquire(&d, LockMode::Shared, wait).await.unwrap();
        release.await.unwrap();
    }
}
