//! `--dry-run`: what a push would create, update and delete, found with
//! `GET`s only (the entity by name, compared field by field with the request;
//! tables and users looked up as a push would).

use std::collections::BTreeSet;

use serde_json::Value;

use super::client::OmClient;
use super::config::OmConfig;
use super::mapping::{Entity, Kind, Mapped};
use super::push::{get_by_name, lookup_owners, lookup_tables, resolve_deletions};
use super::report::{Change, OmReport};
use super::rows::ChangeRow;
use crate::error::Result;

/// Fills `report` with what a push would do.
///
/// # Errors
/// Those of the lookups.
pub async fn plan(
    config: &OmConfig,
    client: &OmClient,
    service_exists: bool,
    mapped: &Mapped,
    changes: &[ChangeRow],
    report: &mut OmReport,
) -> Result<()> {
    if !service_exists {
        list(report, Kind::Service, &config.service, Change::Created);
    }
    let entities = mapped
        .charts
        .iter()
        .chain(&mapped.data_models)
        .chain(mapped.dashboards.iter().map(|d| &d.entity));
    for entity in entities {
        let change = match get_by_name(client, entity.kind, &entity.fqn).await? {
            None => Change::Created,
            Some(existing) if differs(entity, &existing) => Change::Updated,
            Some(_) => Change::Unchanged,
        };
        list(report, entity.kind, &entity.fqn, change);
    }
    let n = config.concurrency;
    lookup_owners(client, &mapped.dashboards, n, report).await?;
    let tables = lookup_tables(client, mapped, n).await?;
    report.tables_unmapped = mapped.unmapped.len() as u64;
    for edge in &mapped.edges {
        if tables.contains_key(&edge.table_fqn) {
            report.count(Kind::Lineage, Change::Updated);
        } else {
            report.tables_missing += 1;
        }
    }
    for d in resolve_deletions(config, client, mapped, changes).await? {
        if get_by_name(client, d.kind, &d.fqn).await?.is_some() {
            list(report, d.kind, &d.fqn, Change::Deleted);
        }
    }
    Ok(())
}

fn list(report: &mut OmReport, kind: Kind, fqn: &str, change: Change) {
    report.count(kind, change);
    if change != Change::Unchanged {
        report
            .listing
            .push(format!("{}\t{}\t{fqn}", change.word(), kind.label()));
    }
}

/// True when a field of the request differs from the entity OpenMetadata
/// holds (references compared by FQN; `owners`, unknown before the lookup,
/// and `columns`, always empty, are left out).
fn differs(entity: &Entity, existing: &Value) -> bool {
    let Some(body) = entity.body.as_object() else {
        return true;
    };
    body.iter().any(|(key, want)| match key.as_str() {
        "owners" | "columns" | "serviceType" => false,
        "service" => ref_fqn(existing.get("service")) != want.as_str(),
        "charts" | "dataModels" => fqn_set(want) != ref_set(existing.get(key)),
        _ => existing.get(key) != Some(want),
    })
}

fn ref_fqn(reference: Option<&Value>) -> Option<&str> {
    let r = reference?;
    r.get("fullyQualifiedName")
        .or_else(|| r.get("name"))
        .and_then(Value::as_str)
}

fn fqn_set(list: &Value) -> BTreeSet<&str> {
    list.as_array()
        .map(|l| l.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default()
}

fn ref_set(list: Option<&Value>) -> BTreeSet<&str> {
    list.and_then(Value::as_array)
        .map(|l| l.iter().filter_map(|r| ref_fqn(Some(r))).collect())
        .unwrap_or_default()
}
