//! Soft deletions from the run store's `{ts}-changes.json`: dashboards,
//! charts and data models of items deleted in Mode, and only those. The run
//! store records a deletion only when Mode confirmed it (a failed fetch is
//! never one), and an item present in the pushed run is never deleted.
//!
//! Reports and charts map to FQNs directly. A data model's name also holds
//! its report's token (`{report}.{query}`), which a changes row of a query
//! does not carry, so deleted queries, datasets and the queries of deleted
//! reports are found in the service's data model listing
//! (`GET /v1/dashboard/datamodels?service=…`, paged).

use std::collections::BTreeSet;

use reqwest::Method;
use serde_json::Value;

use super::client::OmClient;
use super::fqn;
use super::mapping::{Kind, Mapped};
use super::rows::ChangeRow;
use crate::error::{Error, Result};

/// One entity to soft-delete.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Deletion {
    /// Dashboard, chart or data model.
    pub kind: Kind,
    /// Its FQN.
    pub fqn: String,
}

/// What the changes rows ask for, before the data model listing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Wanted {
    /// Dashboards and charts, by FQN.
    pub direct: BTreeSet<Deletion>,
    /// Data model name prefixes `{report_or_dataset}.`.
    pub prefixes: BTreeSet<String>,
    /// Data model name suffixes `.{query}`.
    pub suffixes: BTreeSet<String>,
}

impl Wanted {
    /// True when no data model listing is needed.
    pub fn needs_listing(&self) -> bool {
        !self.prefixes.is_empty() || !self.suffixes.is_empty()
    }
}

/// The deletions asked for by `changes`, minus whatever `pushed` holds.
pub fn wanted(changes: &[ChangeRow], service: &str, pushed: &Mapped) -> Wanted {
    let present: BTreeSet<&str> = pushed
        .charts
        .iter()
        .chain(pushed.data_models.iter())
        .chain(pushed.dashboards.iter().map(|d| &d.entity))
        .map(|e| e.fqn.as_str())
        .collect();
    let mut out = Wanted::default();
    for row in changes.iter().filter(|r| r.change == "deleted") {
        match row.asset.as_str() {
            "report" => {
                let fqn = fqn::dashboard(service, &row.token);
                if !present.contains(fqn.as_str()) {
                    out.direct.insert(Deletion {
                        kind: Kind::Dashboard,
                        fqn,
                    });
                    out.prefixes.insert(format!("{}.", row.token));
                }
            }
            "dataset" => {
                out.prefixes.insert(format!("{}.", row.token));
            }
            "chart" => {
                let fqn = fqn::chart(service, &row.token);
                if !present.contains(fqn.as_str()) {
                    out.direct.insert(Deletion {
                        kind: Kind::Chart,
                        fqn,
                    });
                }
            }
            "query" => {
                out.suffixes.insert(format!(".{}", row.token));
            }
            _ => {}
        }
    }
    out.prefixes
        .retain(|p| !present.iter().any(|f| f.contains(&format!("model.\"{p}"))));
    out
}

/// The data models of `names` (the service's listing) that `wanted` matches,
/// minus those in `pushed`.
pub fn matching_models(
    wanted: &Wanted,
    names: &[String],
    service: &str,
    pushed: &Mapped,
) -> Vec<Deletion> {
    let present: BTreeSet<&str> = pushed.data_models.iter().map(|e| e.fqn.as_str()).collect();
    names
        .iter()
        .filter(|n| {
            wanted.prefixes.iter().any(|p| n.starts_with(p.as_str()))
                || wanted.suffixes.iter().any(|s| n.ends_with(s.as_str()))
        })
        .map(|n| Deletion {
            kind: Kind::DataModel,
            fqn: fqn::data_model(service, n),
        })
        .filter(|d| !present.contains(d.fqn.as_str()))
        .collect()
}

/// Names of the service's data models (not deleted), every page.
///
/// # Errors
/// Those of [`OmClient::call`]; [`Error::Http`] when the listing fails;
/// [`Error::Decode`] when a page is not `{"data":[…],"paging":{…}}`.
pub async fn list_models(client: &OmClient, service: &str) -> Result<Vec<String>> {
    let mut names = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let mut query = vec![("service", service), ("limit", "1000")];
        if let Some(a) = after.as_deref() {
            query.push(("after", a));
        }
        let url = client.url(Kind::DataModel.path(), &query);
        let answer = client.call(Method::GET, url.clone(), None).await?;
        if !answer.ok() {
            return Err(Error::Http {
                url: url.to_string(),
                status: answer.status,
                attempts: 1,
                message: answer.message(),
            });
        }
        let Some(data) = answer.body.get("data").and_then(Value::as_array) else {
            return Err(Error::Decode {
                url: url.to_string(),
                reason: "no 'data' list in the data model listing".into(),
            });
        };
        names.extend(
            data.iter()
                .filter_map(|m| m.get("name").and_then(Value::as_str).map(str::to_owned)),
        );
        after = answer
            .body
            .pointer("/paging/after")
            .and_then(Value::as_str)
            .map(str::to_owned);
        if after.is_none() {
            return Ok(names);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::openmetadata::mapping::Entity;
    use serde_json::json;

    fn row(asset: &str, token: &str, change: &str) -> ChangeRow {
        ChangeRow {
            asset: asset.into(),
            token: token.into(),
            change: change.into(),
            name: None,
        }
    }

    #[test]
    fn only_confirmed_deletions_of_absent_items() {
        let pushed = Mapped {
            charts: vec![Entity {
                kind: Kind::Chart,
                fqn: "m.back".into(),
                body: json!({}),
            }],
            ..Mapped::default()
        };
        let changes = [
            row("report", "r1", "deleted"),
            row("report", "r2", "changed"),
            row("chart", "back", "deleted"),
            row("chart", "c1", "deleted"),
            row("query", "q1", "deleted"),
            row("member", "u1", "deleted"),
        ];
        let w = wanted(&changes, "m", &pushed);
        let direct: Vec<&str> = w.direct.iter().map(|d| d.fqn.as_str()).collect();
        assert_eq!(direct, ["m.c1", "m.r1"]);
        let names = ["r1.qa", "r2.q1", "r2.qb", "d1.q9"].map(String::from);
        let models = matching_models(&w, &names, "m", &pushed);
        let fqns: Vec<&str> = models.iter().map(|d| d.fqn.as_str()).collect();
        assert_eq!(fqns, ["m.model.\"r1.qa\"", "m.model.\"r2.q1\""]);
    }
}
