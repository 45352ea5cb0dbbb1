//! Parsing of `/api/…` paths into the endpoints of Mode's REST API.
//!
//! `spaces` and `collections` are the same segment (Mode renamed Spaces to
//! Collections in its UI; the API answers both and its own links say
//! `collections`). A trailing slash is ignored.

/// One Mode endpoint, with the path parameters it names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Route {
    /// `/api/account`: the token owner.
    Account,
    /// `/api/verify`: the token's workspace.
    Verify,
    /// `/api/{name}`: the workspace when `name` is the workspace, else a user.
    Named(String),
    /// `/api/{ws}/spaces` (or `/collections`).
    Spaces { ws: String },
    /// `/api/{ws}/spaces/{space}/reports`.
    Reports { ws: String, space: String },
    /// `/api/{ws}/spaces/{space}/datasets`.
    Datasets { ws: String, space: String },
    /// `/api/{ws}/reports/{report}`.
    Report { ws: String, report: String },
    /// `/api/{ws}/reports/{report}/queries`.
    Queries { ws: String, report: String },
    /// `/api/{ws}/reports/{report}/queries/{query}/charts`.
    Charts {
        ws: String,
        report: String,
        query: String,
    },
    /// `/api/{ws}/data_sources`.
    DataSources { ws: String },
    /// `/api/{ws}/definitions`.
    Definitions { ws: String },
    /// `/api/{ws}/memberships`.
    Memberships { ws: String },
    /// Anything else under `/api` (answers 404); `ws` is its first segment.
    Other { ws: Option<String> },
}

impl Route {
    /// Parses a path (query string already removed).
    pub(crate) fn parse(path: &str) -> Route {
        let rest = path.strip_prefix("/api/").unwrap_or("");
        let segments: Vec<&str> = rest
            .trim_end_matches('/')
            .split('/')
            .filter(|s| !s.is_empty())
            .collect();
        let ws = |s: &str| s.to_owned();
        match segments.as_slice() {
            ["account"] => Route::Account,
            ["verify"] => Route::Verify,
            [name] => Route::Named(ws(name)),
            [w, "spaces" | "collections"] => Route::Spaces { ws: ws(w) },
            [w, "spaces" | "collections", s, "reports"] => Route::Reports {
                ws: ws(w),
                space: ws(s),
            },
            [w, "spaces" | "collections", s, "datasets"] => Route::Datasets {
                ws: ws(w),
                space: ws(s),
            },
            [w, "reports", r] => Route::Report {
                ws: ws(w),
                report: ws(r),
            },
            [w, "reports", r, "queries"] => Route::Queries {
                ws: ws(w),
                report: ws(r),
            },
            [w, "reports", r, "queries", q, "charts"] => Route::Charts {
                ws: ws(w),
                report: ws(r),
                query: ws(q),
            },
            [w, "data_sources"] => Route::DataSources { ws: ws(w) },
            [w, "definitions"] => Route::Definitions { ws: ws(w) },
            [w, "memberships"] => Route::Memberships { ws: ws(w) },
            [w, ..] => Route::Other { ws: Some(ws(w)) },
            [] => Route::Other { ws: None },
        }
    }

    /// The stats kind of this route; `workspace_name` tells a workspace from a
    /// user in `/api/{name}`.
    pub(crate) fn kind(&self, workspace_name: &str) -> &'static str {
        match self {
            Route::Account => "account",
            Route::Verify => "verify",
            Route::Named(name) if name == workspace_name => "workspace",
            Route::Named(_) => "user",
            Route::Spaces { .. } => "spaces",
            Route::Reports { .. } => "reports",
            Route::Datasets { .. } => "datasets",
            Route::Report { .. } => "report",
            Route::Queries { .. } => "queries",
            Route::Charts { .. } => "charts",
            Route::DataSources { .. } => "data_sources",
            Route::Definitions { .. } => "definitions",
            Route::Memberships { .. } => "memberships",
            Route::Other { .. } => "other",
        }
    }

    /// The workspace a workspace-level route names (`None` for account,
    /// verify and users).
    pub(crate) fn workspace(&self) -> Option<&str> {
        match self {
            Route::Account | Route::Verify | Route::Named(_) | Route::Other { ws: None } => None,
            Route::Spaces { ws }
            | Route::Reports { ws, .. }
            | Route::Datasets { ws, .. }
            | Route::Report { ws, .. }
            | Route::Queries { ws, .. }
            | Route::Charts { ws, .. }
            | Route::DataSources { ws }
            | Route::Definitions { ws }
            | Route::Memberships { ws }
            | Route::Other { ws: Some(ws) } => Some(ws),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_endpoint() {
        assert_eq!(Route::parse("/api/account"), Route::Account);
        assert_eq!(Route::parse("/api/demo/"), Route::Named("demo".into()));
        let reports = Route::parse("/api/demo/collections/abc/reports");
        assert_eq!(
            reports,
            Route::Reports {
                ws: "demo".into(),
                space: "abc".into()
            }
        );
        let charts = Route::parse("/api/demo/reports/r/queries/q/charts");
        assert_eq!(charts.kind("demo"), "charts");
        assert_eq!(charts.workspace(), Some("demo"));
        assert_eq!(Route::parse("/api/jdoe").kind("demo"), "user");
        assert_eq!(Route::parse("/api/demo").kind("demo"), "workspace");
        assert_eq!(Route::parse("/api/demo/groups").kind("demo"), "other");
        assert_eq!(Route::parse("/api/").kind("demo"), "other");
    }
}
