//! Shutdown signals for both binaries.
//!
//! SIGINT (Ctrl-C) and SIGTERM (how Kubernetes, systemd and most schedulers
//! stop a job) are honoured within a second everywhere:
//! - async waits (requests, pacing, retry sleeps, the lock wait) are raced
//!   against [`shutdown`] by the binaries and dropped at once;
//! - synchronous work that does not yield (writing the files) polls
//!   [`interrupted`] / [`check`] between rows, so a signal mid-write leaves no
//!   partial file (the temporary file is removed) and no summary.
//!
//! Either way the binary exits with [`crate::ExitCode::Interrupted`] (130).

use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};

use tokio::sync::watch;

use crate::error::{Error, Result};

static INTERRUPTED: AtomicBool = AtomicBool::new(false);
static WATCH: OnceLock<watch::Receiver<bool>> = OnceLock::new();

/// Whether a shutdown signal has arrived.
pub fn interrupted() -> bool {
    INTERRUPTED.load(Ordering::Relaxed)
}

/// `Err(Error::Interrupted)` once a shutdown signal has arrived.
///
/// # Errors
/// [`Error::Interrupted`] after SIGINT or SIGTERM.
pub fn check() -> Result<()> {
    if interrupted() {
        Err(Error::Interrupted)
    } else {
        Ok(())
    }
}

/// Starts the signal listener on the current tokio runtime (once per process;
/// later calls do nothing). It runs as its own task, so it sets the flag even
/// while another task is busy with synchronous work.
pub fn listen() -> watch::Receiver<bool> {
    WATCH
        .get_or_init(|| {
            let (tx, rx) = watch::channel(false);
            tokio::spawn(async move {
                wait_for_signal().await;
                INTERRUPTED.store(true, Ordering::Relaxed);
                let _ = tx.send(true);
                // Keep the sender alive: receivers see `true`, not a closed channel.
                std::future::pending::<()>().await;
            });
            rx
        })
        .clone()
}

/// Resolves on SIGINT or SIGTERM (starting the listener if needed). The
/// binaries race their work against it and exit with
/// [`crate::ExitCode::Interrupted`]; atomic writes mean no partial file is left.
pub async fn shutdown() {
    let mut rx = listen();
    let _ = rx.wait_for(|fired| *fired).await;
}

async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}
