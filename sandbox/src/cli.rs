//! The `mode-sandbox` command line, resolved once into a [`SandboxConfig`].
//!
//! Kept in the library (not the binary) so the flag parsing is unit-tested and
//! the binary stays a few lines: parse, configure, [`run`].

use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;

use super::{
    FaultConfig, FaultKind, Hostile, HostileScope, RateLimitConfig, RetryAfterForm, Sandbox,
    SandboxConfig, TokenKind,
};

/// Local stand-in for Mode's REST API and the catalog's ingest endpoint.
///
/// Prints the base URL on stdout once listening, logs to stderr, and runs
/// until SIGINT or SIGTERM.
#[derive(Debug, Parser)]
#[command(name = "mode-sandbox", version)]
pub struct SandboxArgs {
    /// Port on 127.0.0.1 (0 = any free port).
    #[arg(long, default_value_t = 0)]
    pub port: u16,
    /// Seed of the generated workspace.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Number of collections, personal and empty ones included.
    #[arg(long, default_value_t = 12)]
    pub collections: usize,
    /// Number of reports over all collections.
    #[arg(long, default_value_t = 400)]
    pub reports: usize,
    /// Workspace username.
    #[arg(long, default_value = "demo")]
    pub workspace: String,
    /// Serve the recorded responses of DIR (workspace `acryl`) instead.
    #[arg(long, value_name = "DIR")]
    pub replay: Option<PathBuf>,
    /// Delay before every answer, in milliseconds.
    #[arg(long, default_value_t = 0)]
    pub latency_ms: u64,
    /// Requests accepted per user and window; more answer 429.
    #[arg(long, value_name = "N")]
    pub rate_limit: Option<u32>,
    /// Length of the rate-limit window, in milliseconds.
    #[arg(long, default_value_t = 10_000)]
    pub rate_window_ms: u64,
    /// Form of Retry-After on a 429: seconds, date or none.
    #[arg(long, default_value = "seconds", value_parser = parse_retry_after)]
    pub retry_after: RetryAfterForm,
    /// Probability (0..1) of a random fault on each /api request.
    #[arg(long, default_value_t = 0.0)]
    pub fault_rate: f64,
    /// Mode-side fault kinds: 500,502,503,504,429,stall,drop.
    #[arg(long, value_delimiter = ',', value_parser = parse_fault)]
    pub faults: Vec<FaultKind>,
    /// How long a stall fault sleeps, in milliseconds.
    #[arg(long, default_value_t = 30_000)]
    pub stall_ms: u64,
    /// Always serve 30 items per page, whatever per_page asks.
    #[arg(long)]
    pub ignore_per_page: bool,
    /// Largest per_page honoured; a larger one is clamped to it.
    #[arg(long, default_value_t = 1000, value_name = "N")]
    pub max_per_page: usize,
    /// Answer 400 bad_request to a per_page over --max-per-page instead of clamping it.
    #[arg(long)]
    pub refuse_large_per_page: bool,
    /// Add the five deliberately broken items.
    #[arg(long)]
    pub item_problems: bool,
    /// Answer 403 to every workspace-level call.
    #[arg(long)]
    pub forbidden: bool,
    /// Token expected as `Authorization: Token …` on the ingest side.
    #[arg(long, default_value = "sandbox-ingest-token")]
    pub ingest_token: String,
    /// Where uploads are stored (default: a temporary directory).
    #[arg(long, value_name = "DIR")]
    pub ingest_dir: Option<PathBuf>,
    /// Probability (0..1) of a random fault on each ingest request.
    #[arg(long, default_value_t = 0.0)]
    pub ingest_fault_rate: f64,
    /// Ingest-side fault kinds: 429,500,502,503,504,stall,drop,drop_after_store.
    #[arg(long, value_delimiter = ',', value_parser = parse_fault)]
    pub ingest_faults: Vec<FaultKind>,
    /// Kind of API token: workspace (GET /api/account answers Mode's 400) or member.
    #[arg(long, default_value = "workspace", value_parser = parse_token_kind)]
    pub token_kind: TokenKind,
    /// Add Mode's optional pagination object and next_page/prev_page links to paged lists.
    #[arg(long)]
    pub pagination_links: bool,
    /// Break the Mode API deliberately: embedded-null, embedded-object,
    /// bare-array, later-page-403, later-page-404, repeat-page, endless-pages,
    /// short-total, huge-content-length, endless-chunked, endless-until-close,
    /// retry-after-huge, retry-after-overflow, echo-credentials.
    #[arg(long, value_name = "KIND", value_parser = parse_hostile)]
    pub hostile: Option<Hostile>,
    /// Which list --hostile breaks: items (the largest collection's report
    /// listing) or workspace (the collections list).
    #[arg(long, default_value = "items", value_parser = parse_hostile_scope)]
    pub hostile_scope: HostileScope,
    /// Write the base URL to PATH once listening.
    #[arg(long, value_name = "PATH")]
    pub ready_file: Option<PathBuf>,
}

fn parse_retry_after(value: &str) -> Result<RetryAfterForm, String> {
    match value {
        "seconds" => Ok(RetryAfterForm::Seconds),
        "date" => Ok(RetryAfterForm::HttpDate),
        "none" => Ok(RetryAfterForm::Omitted),
        other => Err(format!("'{other}' is not one of seconds, date, none")),
    }
}

fn parse_token_kind(value: &str) -> Result<TokenKind, String> {
    match value {
        "workspace" => Ok(TokenKind::Workspace),
        "member" => Ok(TokenKind::Member),
        other => Err(format!("'{other}' is not one of workspace, member")),
    }
}

fn parse_hostile(value: &str) -> Result<Hostile, String> {
    value.parse()
}

fn parse_hostile_scope(value: &str) -> Result<HostileScope, String> {
    value.parse()
}

fn parse_fault(value: &str) -> Result<FaultKind, String> {
    match value.trim() {
        "stall" => Ok(FaultKind::Stall),
        "drop" | "drop_mid_body" => Ok(FaultKind::DropMidBody),
        "drop_after_store" => Ok(FaultKind::DropAfterStore),
        code => match code.parse::<u16>() {
            Ok(status @ (429 | 500..=599)) => Ok(FaultKind::Status(status)),
            _ => Err(format!(
                "'{code}' is not a fault kind (a 429/5xx status, stall, drop, drop_after_store)"
            )),
        },
    }
}

impl SandboxArgs {
    /// The configuration these flags describe. Fault seeds follow `--seed`.
    pub fn to_config(&self) -> SandboxConfig {
        let stall = Duration::from_millis(self.stall_ms);
        let faults = |rate: f64, kinds: &[FaultKind]| FaultConfig {
            rate,
            kinds: kinds.to_vec(),
            stall,
            seed: self.seed,
            ..FaultConfig::default()
        };
        SandboxConfig {
            port: self.port,
            seed: self.seed,
            collections: self.collections,
            reports: self.reports,
            workspace: self.workspace.clone(),
            ingest_token: self.ingest_token.clone(),
            replay_dir: self.replay.clone(),
            per_page_honoured: !self.ignore_per_page,
            max_per_page: self.max_per_page,
            refuse_large_per_page: self.refuse_large_per_page,
            latency: Duration::from_millis(self.latency_ms),
            rate_limit: self.rate_limit.map(|requests| RateLimitConfig {
                requests,
                window: Duration::from_millis(self.rate_window_ms),
                retry_after: self.retry_after,
            }),
            mode_faults: faults(self.fault_rate, &self.faults),
            ingest_faults: faults(self.ingest_fault_rate, &self.ingest_faults),
            item_problems: self.item_problems,
            ingest_dir: self.ingest_dir.clone(),
            forbidden: self.forbidden,
            token_kind: self.token_kind,
            pagination_links: self.pagination_links,
            hostile: self.hostile,
            hostile_scope: self.hostile_scope,
            ..SandboxConfig::default()
        }
    }
}

/// Starts the sandbox, prints its URL on stdout (and to `--ready-file`),
/// then serves until SIGINT or SIGTERM.
pub async fn run(args: SandboxArgs) -> std::io::Result<()> {
    let sandbox = Sandbox::start(args.to_config()).await?;
    let url = sandbox.url();
    println!("{url}");
    if let Some(path) = &args.ready_file {
        std::fs::write(path, format!("{url}\n"))?;
    }
    wait_for_signal().await?;
    tracing::info!("stopping");
    sandbox.shutdown().await;
    Ok(())
}

#[cfg(unix)]
async fn wait_for_signal() -> std::io::Result<()> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate())?;
    tokio::select! {
        result = tokio::signal::ctrl_c() => result,
        _ = term.recv() => Ok(()),
    }
}

#[cfg(not(unix))]
async fn wait_for_signal() -> std::io::Result<()> {
    tokio::signal::ctrl_c().await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_resolve_into_a_config() {
        let args = SandboxArgs::parse_from([
            "mode-sandbox",
            "--rate-limit",
            "40",
            "--retry-after",
            "date",
            "--faults",
            "500,429,stall,drop",
            "--fault-rate",
            "0.1",
            "--ingest-faults",
            "drop_after_store",
            "--ignore-per-page",
        ]);
        let config = args.to_config();
        let limit = config.rate_limit.expect("rate limit set");
        assert_eq!(
            (limit.requests, limit.retry_after),
            (40, RetryAfterForm::HttpDate)
        );
        let kinds = vec![
            FaultKind::Status(500),
            FaultKind::Status(429),
            FaultKind::Stall,
            FaultKind::DropMidBody,
        ];
        assert_eq!(config.mode_faults.kinds, kinds);
        assert_eq!(config.ingest_faults.kinds, vec![FaultKind::DropAfterStore]);
        assert!(!config.per_page_honoured);
        assert_eq!(config.token_kind, TokenKind::Workspace);
        assert_eq!((config.hostile, config.pagination_links), (None, false));
    }

    #[test]
    fn token_kinds_hostile_kinds_and_pagination_parse() {
        let args = SandboxArgs::parse_from([
            "mode-sandbox",
            "--token-kind",
            "member",
            "--pagination-links",
            "--hostile",
            "later-page-403",
            "--hostile-scope",
            "workspace",
        ]);
        let config = args.to_config();
        assert_eq!(config.token_kind, TokenKind::Member);
        assert!(config.pagination_links);
        assert_eq!(config.hostile, Some(Hostile::LaterPage403));
        assert_eq!(config.hostile_scope, HostileScope::Workspace);
        for kind in Hostile::ALL {
            let parsed = SandboxArgs::try_parse_from(["mode-sandbox", "--hostile", kind.name()]);
            assert_eq!(parsed.ok().and_then(|a| a.hostile), Some(kind));
        }
        for bad in [
            ["--hostile", "later-page-500"],
            ["--token-kind", "personal"],
        ] {
            assert!(SandboxArgs::try_parse_from(["mode-sandbox", bad[0], bad[1]]).is_err());
        }
    }

    #[test]
    fn bad_fault_kinds_are_refused() {
        assert!(SandboxArgs::try_parse_from(["mode-sandbox", "--faults", "404"]).is_err());
        assert!(SandboxArgs::try_parse_from(["mode-sandbox", "--retry-after", "x"]).is_err());
    }

    #[test]
    fn clap_definition_is_valid() {
        use clap::CommandFactory;
        SandboxArgs::command().debug_assert();
    }
}
