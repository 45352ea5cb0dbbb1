//! A faithful local stand-in for Mode's REST API and the catalog's ingest
//! endpoint, on one port, that knows its own ground truth.
//!
//! - `/api/…` imitates Mode: HTTP basic auth, HAL JSON, 30-per-page lists,
//!   `filter` on collections, 401/403/404 bodies, a per-user rate limit and
//!   injected faults. The workspace is generated from a seed (or replayed from
//!   recorded responses) and recorded as a [`Truth`].
//! - `POST /{kind}-{source_id}/{name}` imitates the catalog's ingest endpoint
//!   that castor's uploader posts to; files are stored and listed as
//!   [`ReceivedFile`]s.
//! - `/_sandbox/{truth,stats,received,reset,advance}` expose the ground truth
//!   and counters and move the workspace a simulated day forward; they are
//!   never faulted, limited or counted.
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! use mode_sandbox::{Sandbox, SandboxConfig};
//! let sandbox = Sandbox::start(SandboxConfig::default()).await?;
//! let url = sandbox.url(); // "http://127.0.0.1:PORT"
//! let reports = sandbox.truth().reports.len();
//! sandbox.shutdown().await;
//! # Ok(()) }
//! ```
//!
//! See `docs/sandbox.md` for the behaviour in full and the assumptions made
//! where Mode's documentation is silent.

pub mod cli;
mod config;
mod day;
mod faults;
mod generate;
mod hostile;
mod ingest;
mod ingest_log;
mod limiter;
mod mode_api;
pub mod openmetadata;
mod replay;
mod respond;
mod route;
mod server;
mod state;
mod stats;
mod store;
mod sync;
mod thread;
mod truth;

#[cfg(test)]
mod tests;

use std::net::SocketAddr;
use std::sync::Arc;

use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

pub use config::{RateLimitConfig, RetryAfterForm, SandboxConfig, TokenKind};
pub use day::{DayLog, DayPlan, MAX_ADDED_PER_DAY};
pub use faults::{FaultConfig, FaultKind};
pub use hostile::{
    ENDLESS_CAP_BYTES, ENDLESS_CAP_TIME, HUGE_CONTENT_LENGTH, Hostile, HostileScope,
    SHORT_TOTAL_MISSING,
};
pub use ingest_log::{IngestAnswer, IngestRequest, ReceivedFile, ReceivedPart};
pub use replay::REPLAY_WORKSPACE;
pub use stats::Stats;
pub use thread::SandboxThread;
pub use truth::{ItemProblem, Truth};

use state::{Shared, Side};

/// What a test reads and steers on a running sandbox. [`Sandbox`] and
/// [`SandboxThread`] both dereference to it.
#[derive(Clone)]
pub struct Handle {
    shared: Arc<Shared>,
    url: String,
}

impl Handle {
    /// The base URL, `http://127.0.0.1:PORT`, without a trailing slash.
    pub fn url(&self) -> String {
        self.url.clone()
    }

    /// The ground truth of the served workspace (as of the last simulated day).
    pub fn truth(&self) -> Arc<Truth> {
        self.shared.served().truth.clone()
    }

    /// Moves the generated workspace one simulated day forward as `plan`
    /// says, deterministically (same workspace, same plans in the same order:
    /// same days), and returns what changed. The served answers and the
    /// [`truth`](Handle::truth) change together, atomically: a request sees
    /// the workspace before or after the day, never a mix. Also
    /// `POST /_sandbox/advance` with a [`DayPlan`] JSON body. In replay mode
    /// nothing changes and the log is empty.
    pub fn advance_day(&self, plan: &DayPlan) -> DayLog {
        self.shared.advance_day(plan)
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

    /// Zeroes every counter of [`Stats`] (received files are kept).
    pub fn reset_stats(&self) {
        self.shared.reset_stats();
    }

    /// Answers the next authorised ingest requests with `answers`, in order,
    /// instead of storing them (their parts are read and listed in
    /// [`Handle::ingest_requests`]); then ingest behaves as configured again.
    /// Replaces any script not used up yet.
    pub fn script_ingest(&self, answers: Vec<IngestAnswer>) {
        self.shared.ingest_log.script(answers);
    }

    /// Every ingest request so far, in the order their answers were made,
    /// with the headers a client sent and the parts read; requests whose
    /// connection the sandbox closed without an answer are not listed.
    pub fn ingest_requests(&self) -> Vec<IngestRequest> {
        self.shared.ingest_log.requests()
    }

    /// Where uploaded files are stored.
    pub fn ingest_dir(&self) -> std::path::PathBuf {
        self.shared.ingest_dir.clone()
    }
}

/// A running sandbox server inside the caller's tokio runtime; its accessors
/// are [`Handle`]'s.
///
/// Dropping it stops the server too; [`Sandbox::shutdown`] also waits for the
/// accept loop to end.
pub struct Sandbox {
    handle: Handle,
    shutdown: watch::Sender<bool>,
    task: Option<JoinHandle<()>>,
}

impl std::ops::Deref for Sandbox {
    type Target = Handle;

    fn deref(&self) -> &Handle {
        &self.handle
    }
}

impl Sandbox {
    /// Generates (or loads, with `replay_dir`) the workspace, binds
    /// `127.0.0.1:config.port` (0 = ephemeral) and starts serving.
    ///
    /// Errors: the port cannot be bound, the ingest directory cannot be
    /// created, or a recorded file is missing or not JSON.
    pub async fn start(config: SandboxConfig) -> std::io::Result<Sandbox> {
        let port = config.port;
        let shared = Arc::new(Shared::new(config)?);
        let listener = TcpListener::bind(("127.0.0.1", port)).await?;
        let addr: SocketAddr = listener.local_addr()?;
        let (shutdown, watcher) = watch::channel(false);
        let task = tokio::spawn(server::serve(listener, shared.clone(), watcher));
        let reports = shared.served().truth.reports.len();
        tracing::info!(%addr, reports, "sandbox listening");
        let url = format!("http://{addr}");
        Ok(Sandbox {
            handle: Handle { shared, url },
            shutdown,
            task: Some(task),
        })
    }

    /// Stops accepting, drops every open connection and waits for the loop.
    pub async fn shutdown(mut self) {
        let _ = self.shutdown.send(true);
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        let _ = self.shutdown.send(true);
    }
}
