//! The sandbox on its own thread and runtime, for plain `#[test]` functions
//! that run the real binaries (e.g. with `assert_cmd`).

use std::sync::mpsc;

use tokio::sync::oneshot;

use super::{Handle, Sandbox, SandboxConfig};

/// A [`Sandbox`] running on a dedicated thread with a two-worker runtime; its
/// accessors are [`Handle`]'s. Dropping it stops the server and joins the thread.
pub struct SandboxThread {
    handle: Handle,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl std::ops::Deref for SandboxThread {
    type Target = Handle;

    fn deref(&self) -> &Handle {
        &self.handle
    }
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
            Ok(Ok(handle)) => Ok(SandboxThread {
                handle,
                stop: Some(stop),
                thread: Some(thread),
            }),
            Ok(Err(err)) => Err(err),
            Err(_) => Err(std::io::Error::other(
                "sandbox thread ended before listening",
            )),
        }
    }
}

type Ready = std::io::Result<Handle>;

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
                let _ = ready.send(Ok(Handle::clone(&sandbox)));
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
