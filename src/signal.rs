//! Shutdown signals for both binaries.

/// Resolves on Ctrl-C (SIGINT) or, on Unix, SIGTERM (how Kubernetes and most
/// schedulers stop a job). The binaries race their work against it and exit
/// with [`crate::ExitCode::Interrupted`]; atomic writes mean no partial file is
/// left behind.
pub async fn shutdown() {
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
