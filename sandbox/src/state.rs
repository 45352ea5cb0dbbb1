//! The state shared by every connection of one sandbox.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, RwLock};
use std::time::Duration;

use super::config::{RetryAfterForm, SandboxConfig};
use super::day::{DayLog, DayPlan};
use super::faults::{FaultConfig, FaultKind, FaultState};
use super::ingest_log::{IngestLog, ReceivedFile};
use super::limiter::Limiter;
use super::stats::{Stats, StatsState};
use super::store::Store;
use super::truth::Truth;
use super::{generate, replay};

pub(crate) use super::sync::lock;

/// Which side a fault applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Side {
    Mode,
    Ingest,
}

/// What the Mode side serves and its truth, swapped together by a day.
pub(crate) struct Served {
    pub(crate) truth: Arc<Truth>,
    pub(crate) store: Store,
    /// The collection whose report listing a hostile kind breaks (items scope).
    pub(crate) hostile_space: Option<String>,
}

impl Served {
    fn new(truth: Truth, store: Store) -> Served {
        let hostile_space = super::hostile::target_space(&truth).map(str::to_owned);
        Served {
            truth: Arc::new(truth),
            store,
            hostile_space,
        }
    }
}

/// Everything the handlers read and update.
pub(crate) struct Shared {
    pub(crate) config: SandboxConfig,
    served: RwLock<Arc<Served>>,
    /// The generated workspace's model for simulated days (`None` in replay).
    day: Mutex<Option<generate::day::Model>>,
    pub(crate) ingest_dir: PathBuf,
    pub(crate) openmetadata: super::openmetadata::OmState,
    stats: Mutex<StatsState>,
    mode_faults: Mutex<FaultState>,
    ingest_faults: Mutex<FaultState>,
    pub(crate) limiter: Option<Mutex<Limiter>>,
    received: Mutex<Vec<ReceivedFile>>,
    /// Scripted ingest answers and every ingest request seen.
    pub(crate) ingest_log: IngestLog,
    upload_seq: AtomicU64,
    _temp: Option<tempfile::TempDir>,
}

impl Shared {
    /// `Retry-After` of an injected 429: one second, in the rate limit's form
    /// (seconds when no rate limit is configured).
    pub(crate) fn fault_retry_after(&self) -> Option<String> {
        let form = self
            .config
            .rate_limit
            .as_ref()
            .map_or(RetryAfterForm::Seconds, |r| r.retry_after);
        super::limiter::retry_after_value(form, Duration::from_secs(1))
    }

    /// Generates (or loads) the workspace and prepares the ingest directory.
    pub(crate) fn new(config: SandboxConfig) -> std::io::Result<Shared> {
        let (truth, store, model) = match &config.replay_dir {
            Some(dir) => {
                let (truth, store) = replay::load(dir)?;
                (truth, store, None)
            }
            None => {
                let (truth, model) = generate::build(&config);
                let store = Store::from_truth(&truth, &config.workspace);
                (truth, store, Some(model))
            }
        };
        let (ingest_dir, temp) = match &config.ingest_dir {
            Some(dir) => {
                std::fs::create_dir_all(dir)?;
                (dir.clone(), None)
            }
            None => {
                let temp = tempfile::Builder::new()
                    .prefix("mode-sandbox-ingest-")
                    .tempdir()?;
                (temp.path().to_path_buf(), Some(temp))
            }
        };
        let window = config
            .rate_limit
            .as_ref()
            .map_or(Duration::from_secs(10), |r| r.window);
        let openmetadata = super::openmetadata::OmState::new(&truth);
        let served = Served::new(truth, store);
        Ok(Shared {
            openmetadata,
            served: RwLock::new(Arc::new(served)),
            day: Mutex::new(model),
            ingest_dir,
            stats: Mutex::new(StatsState::new(window)),
            mode_faults: Mutex::new(FaultState::new(config.mode_faults.clone())),
            ingest_faults: Mutex::new(FaultState::new(config.ingest_faults.clone())),
            limiter: config
                .rate_limit
                .clone()
                .map(|r| Mutex::new(Limiter::new(r))),
            received: Mutex::new(Vec::new()),
            ingest_log: IngestLog::default(),
            upload_seq: AtomicU64::new(0),
            _temp: temp,
            config,
        })
    }

    /// What is served now (a request keeps the snapshot it started with).
    pub(crate) fn served(&self) -> Arc<Served> {
        self.served
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Moves the generated workspace a simulated day forward: the new truth
    /// and the answers built from it replace the old ones in one swap. In
    /// replay mode nothing changes and the log is empty.
    pub(crate) fn advance_day(&self, plan: &DayPlan) -> DayLog {
        let mut model = lock(&self.day);
        let Some(model) = model.as_mut() else {
            tracing::warn!("advance_day: replay mode has no simulated days");
            return DayLog::default();
        };
        let started = std::time::Instant::now();
        let mut truth = Truth::clone(&self.served().truth);
        let log = model.advance(&mut truth, plan);
        let store = Store::from_truth(&truth, &self.config.workspace);
        tracing::info!(
            edited = log.edited.len(),
            added = log.added.len(),
            deleted = log.deleted.len(),
            elapsed = ?started.elapsed(),
            "simulated day"
        );
        let served = Arc::new(Served::new(truth, store));
        *self.served.write().unwrap_or_else(PoisonError::into_inner) = served;
        log
    }

    /// Runs `update` on the live counters.
    pub(crate) fn stats_mut(&self, update: impl FnOnce(&mut StatsState)) {
        update(&mut lock(&self.stats));
    }

    pub(crate) fn stats(&self) -> Stats {
        lock(&self.stats).snapshot()
    }

    pub(crate) fn reset_stats(&self) {
        lock(&self.stats).reset();
    }

    pub(crate) fn received(&self) -> Vec<ReceivedFile> {
        lock(&self.received).clone()
    }

    pub(crate) fn record(&self, file: ReceivedFile) {
        lock(&self.received).push(file);
    }

    /// A number unique among this sandbox's uploads (for temporary names).
    pub(crate) fn next_upload(&self) -> u64 {
        self.upload_seq.fetch_add(1, Ordering::Relaxed)
    }

    pub(crate) fn set_faults(&self, side: Side, faults: FaultConfig) {
        self.faults(side).set(faults);
    }

    /// Counts one request of `side` and returns its fault, if any (counted in
    /// the stats), and the stall duration.
    pub(crate) fn next_fault(&self, side: Side) -> (Option<FaultKind>, Duration) {
        let (fault, stall) = self.faults(side).next();
        if fault.is_some() {
            self.stats_mut(StatsState::fault);
        }
        (fault, stall)
    }

    fn faults(&self, side: Side) -> MutexGuard<'_, FaultState> {
        match side {
            Side::Mode => lock(&self.mode_faults),
            Side::Ingest => lock(&self.ingest_faults),
        }
    }
}
