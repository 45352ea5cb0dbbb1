//! The sandbox on its own thread and runtime, for plain `#[test]` functions
//! that run the real binaries (e.g. with `assert_cmd`).

use std::sync::Arc;
use std::sync::mpsc;

use tokio::sync::oneshot;

use super::state::{Shared, Side};
use super::{FaultConfig, ReceivedFile, Sandbox, SandboxConfig, Stats, Truth};

/// A [`Sandbox`] running on a dedicated thread with a two-worker runtime.
/// Dropping it stops the server and joins the thread.
pub struct SandboxThread {
    shared: Arc<Shared>,
    url: String,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl SandboxThread {
    /// Starts the server on a new thread and waits until it listens.
    ///
    /// Errors: as [`Sandbox::start`], or the runtime cannot be built.
    pub fn start(config: SandboxConfig) -> std::io::Result<SandboxThread> {
        let (ready_tx, ready_rx) = mpsc::channel();
        let (stop, stop_rx) = oneshot::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("mode-sandbox".into())
            .spawn(move || run(config, ready_tx, stop_rx))?;
        match ready_rx.recv() {
            Ok(Ok((shared, url))) => Ok(SandboxThread {
                shared,
                url,
                stop: Some(stop),
                thread: Some(thread),
            }),
            Ok(Err(err)) => Err(err),
            Err(_) => Err(std::io::Error::other(
                "sandbox thread ended before listening",
            )),
        }
    }

    /// The base URL, `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        self.url.clone()
    }

    /// The ground truth of the served workspace.
    pub fn truth(&self) -> Arc<Truth> {
        self.shared.truth.clone()
    }

    /// A snapshot of the counters.
    pub fn stats(&self) -> Stats {
        self.shared.stats()
    }

    /// Files received completely on the ingest side, in arrival order.
    pub fn received(&self) -> Vec<ReceivedFile> {
        self.shared.received()
    }

    /// Replaces the Mode-side faults; the script restarts at the next request.
    pub fn set_mode_faults(&self, faults: FaultConfig) {
        self.shared.set_faults(Side::Mode, faults);
    }

    /// Replaces the ingest-side faults; the script restarts at the next request.
    pub fn set_ingest_faults(&self, faults: FaultConfig) {
        self.shared.set_faults(Side::Ingest, faults);
    }

    /// Zeroes every counter of [`Stats`].
    pub fn reset_stats(&self) {
        self.shared.reset_stats();
    }

    /// Where uploaded files are stored.
    pub fn ingest_dir(&self) -> std::path::PathBuf {
        self.shared.ingest_dir.clone()
    }
}

type Ready = std::io::Result<(Arc<Shared>, String)>;

fn run(config: SandboxConfig, ready: mpsc::Sender<Ready>, stop: oneshot::Receiver<()>) {
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            let _ = ready.send(Err(err));
            return;
        }
    };
    runtime.block_on(async move {
        match Sandbox::start(config).await {
            Ok(sandbox) => {
                let _ = ready.send(Ok((sandbox.shared(), sandbox.url())));
                let _ = stop.await;
                sandbox.shutdown().await;
            }
            Err(err) => {
                let _ = ready.send(Err(err));
            }
        }
    });
}

impl Drop for SandboxThread {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
