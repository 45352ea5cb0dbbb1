//! The sandbox's settings: what workspace it generates (or replays), how it
//! paginates, rate-limits and fails.

use std::path::PathBuf;
use std::time::Duration;

use super::faults::FaultConfig;
use super::hostile::{Hostile, HostileScope};

/// Everything a [`Sandbox`](super::Sandbox) needs to start. All fields are
/// public; start from [`SandboxConfig::default`] and override what a test needs.
#[derive(Debug, Clone)]
pub struct SandboxConfig {
    /// TCP port on 127.0.0.1; 0 picks a free ephemeral port.
    pub port: u16,
    /// Seed of the generated workspace: the same seed, `collections` and
    /// `reports` always give byte-identical answers.
    pub seed: u64,
    /// Number of collections (Mode "spaces"), personal and empty ones included.
    pub collections: usize,
    /// Number of reports over all collections (datasets are extra).
    pub reports: usize,
    /// The workspace username served under `/api/{workspace}`.
    pub workspace: String,
    /// HTTP basic user accepted on `/api` (Mode's API token).
    pub token: String,
    /// HTTP basic password accepted on `/api` (Mode's API secret).
    pub secret: String,
    /// Token accepted on the ingest side as `Authorization: Token {ingest_token}`.
    pub ingest_token: String,
    /// Serve the recorded responses of this directory (workspace `acryl`)
    /// instead of a generated workspace.
    pub replay_dir: Option<PathBuf>,
    /// `true`: `per_page` is honoured up to `max_per_page`; `false`: every
    /// page holds 30 items whatever the client asks (imitates a Mode that
    /// ignores the parameter).
    pub per_page_honoured: bool,
    /// Largest `per_page` honoured; larger values are clamped to it, or
    /// refused with `refuse_large_per_page`.
    pub max_per_page: usize,
    /// `true`: a `per_page` over `max_per_page` answers `400 {"id":
    /// "bad_request"}` (a Mode that validates the range) instead of a clamped page.
    pub refuse_large_per_page: bool,
    /// Delay added before every answer of the Mode and ingest sides.
    pub latency: Duration,
    /// Mode's per-user rate limit; `None` means unlimited.
    pub rate_limit: Option<RateLimitConfig>,
    /// Faults injected into `/api` answers.
    pub mode_faults: FaultConfig,
    /// Faults injected into ingest answers.
    pub ingest_faults: FaultConfig,
    /// Add exactly five broken items (see [`Truth::problems`](super::Truth)).
    pub item_problems: bool,
    /// Where uploaded files are stored; `None` = a temporary directory owned
    /// and removed by the sandbox.
    pub ingest_dir: Option<PathBuf>,
    /// Every workspace-level `/api/{workspace}/…` call answers 403, as Mode
    /// does for a token that is valid but not privileged enough.
    pub forbidden: bool,
    /// The kind of Mode API token `token`/`secret` stand for. With a
    /// [`TokenKind::Workspace`] token (the default, as Mode issues them
    /// today) `GET /api/account` answers Mode's 400.
    pub token_kind: TokenKind,
    /// Add Mode's optional `pagination` object and `_links.next_page` /
    /// `_links.prev_page` to every paged list (off: Mode's HAL lists as
    /// recorded, which carry neither).
    pub pagination_links: bool,
    /// A deliberately broken Mode API (see [`Hostile`]); `None` = faithful.
    pub hostile: Option<Hostile>,
    /// Which list a [`Hostile`] kind breaks (default: one collection's
    /// report listing, an item-level list).
    pub hostile_scope: HostileScope,
}

/// The kinds of Mode API token (personal tokens were retired on 2025-02-28).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TokenKind {
    /// An admin-created Workspace API token: acts as a workspace admin;
    /// `GET /api/account` answers `400 {"id":"bad_request","message":"This
    /// endpoint is unsupported for use with Api Keys"}` (Mode's spec marks it
    /// "(Not Supported)").
    #[default]
    Workspace,
    /// A Member token: acts with its member's own access (the generated token
    /// owner, `users[0]`, is an admin, so it sees what a Workspace token
    /// sees); `GET /api/account` answers that member.
    Member,
}

impl Default for SandboxConfig {
    /// Ephemeral port, seed 0, 12 collections, 400 reports, workspace `demo`,
    /// credentials `sandbox-token` / `sandbox-secret` / `sandbox-ingest-token`,
    /// `per_page` honoured up to 1000, no latency, no rate limit, no faults,
    /// a Workspace API token, no pagination metadata, not hostile.
    fn default() -> Self {
        SandboxConfig {
            port: 0,
            seed: 0,
            collections: 12,
            reports: 400,
            workspace: "demo".to_owned(),
            token: "sandbox-token".to_owned(),
            secret: "sandbox-secret".to_owned(),
            ingest_token: "sandbox-ingest-token".to_owned(),
            replay_dir: None,
            per_page_honoured: true,
            max_per_page: 1000,
            refuse_large_per_page: false,
            latency: Duration::ZERO,
            rate_limit: None,
            mode_faults: FaultConfig::none(),
            ingest_faults: FaultConfig::none(),
            item_problems: false,
            ingest_dir: None,
            forbidden: false,
            token_kind: TokenKind::Workspace,
            pagination_links: false,
            hostile: None,
            hostile_scope: HostileScope::Items,
        }
    }
}

/// A sliding-window rate limit per basic-auth user, like Mode's published
/// "about 40 requests per 10 s per username".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RateLimitConfig {
    /// Requests accepted per window; the next one answers 429.
    pub requests: u32,
    /// Length of the sliding window.
    pub window: Duration,
    /// How a 429 tells the client when to come back.
    pub retry_after: RetryAfterForm,
}

impl RateLimitConfig {
    /// Mode's published limit: 40 requests per 10 s, `Retry-After` in seconds.
    pub fn mode_default() -> Self {
        RateLimitConfig {
            requests: 40,
            window: Duration::from_secs(10),
            retry_after: RetryAfterForm::Seconds,
        }
    }
}

/// The form of the `Retry-After` header on a 429. Mode documents none of them,
/// so the client must cope with all three.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RetryAfterForm {
    /// Delta-seconds, rounded up: `Retry-After: 3`.
    #[default]
    Seconds,
    /// An HTTP date: `Retry-After: Wed, 21 Oct 2026 07:28:00 GMT`.
    HttpDate,
    /// No `Retry-After` header at all.
    Omitted,
}
