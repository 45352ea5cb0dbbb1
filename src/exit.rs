//! Exit codes shared by `extract-mode` and `upload`.
//!
//! The codes are a contract with schedulers (cron, Airflow, Kubernetes): they are
//! listed in `--help` and the README, and `tests/cases` assert them. Codes are
//! never renumbered; new ones are appended.

use std::fmt;

/// A documented process exit code.
///
/// `From<ExitCode> for i32` gives the number; [`ExitCode::ALL`] lists every code
/// with its one-line meaning, for `--help` and the README table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ExitCode {
    /// Everything was extracted or uploaded.
    Success,
    /// An unexpected internal failure (a bug); the message says what.
    Failure,
    /// A bad flag, environment variable or argument value; nothing was sent.
    Usage,
    /// `extract-mode` finished and wrote every file, but some items had problems
    /// (listed in `{ts}-errors_logs.json` and the summary).
    ItemErrors,
    /// The remote service refused the credentials (HTTP 401).
    Unauthorized,
    /// The credentials are valid but lack permission (HTTP 403).
    Forbidden,
    /// The Mode workspace does not exist or is not visible to this token (HTTP 404).
    NotFound,
    /// The host could not be reached, or kept timing out or dropping connections
    /// after every retry.
    Unreachable,
    /// The remote service kept failing (5xx, 429) after every retry, or answered
    /// with something that is not what its API documents.
    RemoteError,
    /// The output directory is locked by another run and `--lock-timeout` expired.
    Locked,
    /// `upload` refused a run: its summary is missing or a file differs from the
    /// size or SHA-256 the summary recorded.
    Integrity,
    /// A local file or directory could not be read or written.
    Io,
    /// `extract-mode --strict` stopped at the first item problem; no summary written.
    StrictAbort,
    /// Interrupted by Ctrl-C / SIGINT / SIGTERM; no partial file was left behind.
    Interrupted,
}

impl ExitCode {
    /// Every code, in numeric order, for documentation.
    pub const ALL: [ExitCode; 14] = [
        ExitCode::Success,
        ExitCode::Failure,
        ExitCode::Usage,
        ExitCode::ItemErrors,
        ExitCode::Unauthorized,
        ExitCode::Forbidden,
        ExitCode::NotFound,
        ExitCode::Unreachable,
        ExitCode::RemoteError,
        ExitCode::Locked,
        ExitCode::Integrity,
        ExitCode::Io,
        ExitCode::StrictAbort,
        ExitCode::Interrupted,
    ];

    /// The numeric process exit status.
    pub const fn code(self) -> u8 {
        match self {
            ExitCode::Success => 0,
            ExitCode::Failure => 1,
            ExitCode::Usage => 2,
            ExitCode::ItemErrors => 3,
            ExitCode::Unauthorized => 4,
            ExitCode::Forbidden => 5,
            ExitCode::NotFound => 6,
            ExitCode::Unreachable => 7,
            ExitCode::RemoteError => 8,
            ExitCode::Locked => 9,
            ExitCode::Integrity => 10,
            ExitCode::Io => 11,
            ExitCode::StrictAbort => 12,
            ExitCode::Interrupted => 130,
        }
    }

    /// A one-line description, as printed in `--help` and the README.
    pub const fn meaning(self) -> &'static str {
        match self {
            ExitCode::Success => "success",
            ExitCode::Failure => "unexpected internal error",
            ExitCode::Usage => "bad flag, environment variable or argument",
            ExitCode::ItemErrors => "completed, but some items had problems (see errors_logs)",
            ExitCode::Unauthorized => "credentials refused (HTTP 401)",
            ExitCode::Forbidden => "permission denied (HTTP 403)",
            ExitCode::NotFound => "workspace not found (HTTP 404)",
            ExitCode::Unreachable => {
                "host unreachable, or timeouts/dropped connections after all retries"
            }
            ExitCode::RemoteError => "server kept failing (5xx/429) or answered unexpectedly",
            ExitCode::Locked => "output directory locked by another run",
            ExitCode::Integrity => "run refused: summary missing or a file differs from it",
            ExitCode::Io => "local file or directory could not be read or written",
            ExitCode::StrictAbort => "--strict: stopped at the first item problem",
            ExitCode::Interrupted => "interrupted (SIGINT/SIGTERM)",
        }
    }

    /// Whether `binary` can exit with this code.
    pub const fn used_by(self, binary: Binary) -> bool {
        match self {
            ExitCode::ItemErrors | ExitCode::NotFound | ExitCode::StrictAbort => {
                matches!(binary, Binary::Extract)
            }
            ExitCode::Integrity => matches!(binary, Binary::Upload),
            _ => true,
        }
    }

    /// The table of the codes `binary` uses, as text, for clap's `after_help`.
    pub fn help_table_for(binary: Binary) -> String {
        let mut out = String::from("Exit codes:\n");
        for code in Self::ALL.into_iter().filter(|c| c.used_by(binary)) {
            out.push_str(&format!("  {:>3}  {}\n", code.code(), code.meaning()));
        }
        out
    }
}

/// The two binaries, for [`ExitCode::used_by`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Binary {
    /// `extract-mode`.
    Extract,
    /// `upload`.
    Upload,
}

impl From<ExitCode> for i32 {
    fn from(code: ExitCode) -> i32 {
        i32::from(code.code())
    }
}

impl From<ExitCode> for std::process::ExitCode {
    fn from(code: ExitCode) -> Self {
        std::process::ExitCode::from(code.code())
    }
}

impl fmt::Display for ExitCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.code(), self.meaning())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn codes_are_unique_and_sorted() {
        let codes: Vec<u8> = ExitCode::ALL.iter().map(|c| c.code()).collect();
        let unique: HashSet<u8> = codes.iter().copied().collect();
        assert_eq!(unique.len(), codes.len());
        assert!(codes.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn the_readme_table_lists_every_code() {
        let readme = include_str!("../README.md");
        let section = readme
            .split("## Exit codes")
            .nth(1)
            .expect("README has an exit code section");
        let listed: Vec<u8> = section
            .lines()
            .skip_while(|l| !l.starts_with('|'))
            .take_while(|l| l.starts_with('|'))
            .filter_map(|l| l.trim_matches('|').split('|').next()?.trim().parse().ok())
            .collect();
        let all: Vec<u8> = ExitCode::ALL.iter().map(|c| c.code()).collect();
        assert_eq!(listed, all, "README's exit code table vs ExitCode::ALL");
    }

    #[test]
    fn clap_usage_code_matches() {
        // clap exits with 2 on a usage error; our Usage must agree.
        assert_eq!(ExitCode::Usage.code(), 2);
        assert_eq!(i32::from(ExitCode::ItemErrors), 3);
    }
}
