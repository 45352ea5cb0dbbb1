//! The push itself, in dependency order: connection check, dashboard
//! service, charts and data models, dashboards (with owners), lineage, then
//! deletions. An entity OpenMetadata refuses (400 naming the schema
//! violation, 404 for a missing reference, ...) is recorded and left out of
//! what depends on it; the run goes on.

use std::collections::{BTreeSet, HashMap};

use futures::StreamExt;
use reqwest::Method;
use serde_json::{Value, json};

use super::client::{Answer, OmClient};
use super::config::OmConfig;
use super::deletions::{self, Deletion};
use super::dry;
use super::mapping::{self, DashboardPlan, Entity, Kind, Mapped};
use super::report::{Change, OmReport};
use super::rows::ChangeRow;
use crate::error::{Error, Result};

/// Checks that `host` is OpenMetadata (`GET /v1/system/version`) and that it
/// accepts the JWT (`GET` of the dashboard service); returns the service if
/// it exists.
///
/// # Errors
/// [`Error::Unreachable`], [`Error::Decode`] when the version answer is not
/// OpenMetadata's, [`Error::Unauthorized`] when the JWT is refused,
/// [`Error::Config`] when the service exists with another type.
pub async fn connect(client: &OmClient, service: &str) -> Result<Option<Value>> {
    let url = client.url(&["system", "version"], &[]);
    let not_om = |what: String| Error::Decode {
        url: url.to_string(),
        reason: format!(
            "{what}: not OpenMetadata's version answer; check --om-host (its API base, e.g. http://localhost:8585/api)"
        ),
    };
    // OpenMetadata answers its version without authentication: a 401/403
    // here is another server.
    let answer = match client.call(Method::GET, url.clone(), None).await {
        Err(Error::Unauthorized { .. }) => return Err(not_om("HTTP 401".into())),
        Err(Error::Forbidden { .. }) => return Err(not_om("HTTP 403".into())),
        other => other?,
    };
    let version = answer.body.get("version").and_then(Value::as_str);
    let Some(version) = version.filter(|_| answer.ok()) else {
        return Err(not_om(answer.message()));
    };
    tracing::info!("OpenMetadata {version} at {}", client.url(&[], &[]));
    let found = get_by_name(client, Kind::Service, service).await?;
    if let Some(existing) = &found {
        let kind = existing.get("serviceType").and_then(Value::as_str);
        if kind != Some("Mode") {
            return Err(Error::Config(format!(
                "--service: '{service}' exists in OpenMetadata as a {} service, not a Mode one",
                kind.unwrap_or("different")
            )));
        }
    }
    Ok(found)
}

/// `GET /v1/{kind}/name/{fqn}`: the entity, or `None` on 404.
///
/// # Errors
/// Those of [`OmClient::call`]; [`Error::Http`] on another non-2xx.
pub async fn get_by_name(client: &OmClient, kind: Kind, fqn: &str) -> Result<Option<Value>> {
    let mut segments = kind.path().to_vec();
    segments.extend(["name", fqn]);
    let url = client.url(&segments, &[("include", "non-deleted")]);
    get_optional(client, url).await
}

/// A GET whose 404 means "no such entity": the body, or `None`.
async fn get_optional(client: &OmClient, url: url::Url) -> Result<Option<Value>> {
    let answer = client.call(Method::GET, url.clone(), None).await?;
    match answer.status {
        404 => Ok(None),
        _ if answer.ok() => Ok(Some(answer.body)),
        status => Err(Error::Http {
            url: url.to_string(),
            status,
            attempts: 1,
            message: answer.message(),
        }),
    }
}

/// Pushes everything mapped, and the deletions of `changes`.
///
/// # Errors
/// Fatal ones only: the JWT refused, the server unreachable or failing after
/// every retry.
pub async fn push(
    config: &OmConfig,
    client: &OmClient,
    service_exists: bool,
    mapped: &Mapped,
    changes: &[ChangeRow],
    report: &mut OmReport,
) -> Result<()> {
    if config.dry_run {
        return dry::plan(config, client, service_exists, mapped, changes, report).await;
    }
    if !service_exists {
        let service = Entity {
            kind: Kind::Service,
            fqn: config.service.clone(),
            body: mapping::service_body(&config.service),
        };
        if put_all(client, std::slice::from_ref(&service), 1, report)
            .await?
            .is_empty()
        {
            return Err(Error::Config(format!(
                "OpenMetadata refused to create the dashboard service '{}': {}",
                config.service,
                report.failures.last().cloned().unwrap_or_default()
            )));
        }
    }
    let n = config.concurrency;
    let mut ids = put_all(client, &mapped.charts, n, report).await?;
    ids.extend(put_all(client, &mapped.data_models, n, report).await?);
    let owners = lookup_owners(client, &mapped.dashboards, n, report).await?;
    let dashboards: Vec<Entity> = mapped
        .dashboards
        .iter()
        .map(|d| with_refs(d, &ids, &owners))
        .collect();
    put_all(client, &dashboards, n, report).await?;
    add_lineage(client, mapped, &ids, n, report).await?;
    delete(config, client, mapped, changes, report).await
}

/// PUTs entities, `n` at once; returns FQN → id of those written.
async fn put_all(
    client: &OmClient,
    entities: &[Entity],
    n: usize,
    report: &mut OmReport,
) -> Result<HashMap<String, String>> {
    let answers: Vec<Result<(usize, Answer)>> = futures::stream::iter(entities.iter().enumerate())
        .map(|(i, e)| async move {
            let url = client.url(e.kind.path(), &[]);
            client
                .call(Method::PUT, url, Some(&e.body))
                .await
                .map(|a| (i, a))
        })
        .buffer_unordered(n)
        .collect()
        .await;
    let mut ids = HashMap::new();
    for answer in answers {
        let (i, answer) = answer?;
        let entity = &entities[i];
        let id = answer.body.get("id").and_then(Value::as_str);
        match written(&answer) {
            Some(change) if id.is_some() || entity.kind == Kind::Lineage => {
                report.count(entity.kind, change);
                if let Some(id) = id {
                    ids.insert(entity.fqn.clone(), id.to_owned());
                }
            }
            Some(_) => {
                let line = format!(
                    "{} {}: answered HTTP {} without the entity's id; what depends on it is left out",
                    entity.kind.label(),
                    entity.fqn,
                    answer.status
                );
                tracing::error!("{line}");
                report.count(entity.kind, Change::Failed);
                report.failures.push(line);
            }
            None => refused(report, entity.kind, &entity.fqn, &answer),
        }
    }
    Ok(ids)
}

/// The change of a 2xx write, `None` when refused.
fn written(answer: &Answer) -> Option<Change> {
    if !answer.ok() {
        return None;
    }
    Some(match answer.change.as_deref() {
        Some("entityNoChange") => Change::Unchanged,
        Some("entityCreated") => Change::Created,
        Some(_) => Change::Updated,
        None if answer.status == 201 => Change::Created,
        None => Change::Updated,
    })
}

fn refused(report: &mut OmReport, kind: Kind, fqn: &str, answer: &Answer) {
    let line = format!("{} {fqn}: {}", kind.label(), answer.message());
    tracing::error!("OpenMetadata refused {line}");
    report.count(kind, Change::Failed);
    report.failures.push(line);
}

/// The dashboard's request with only the charts and data models that were
/// written, and its owner when OpenMetadata knows the creator.
fn with_refs(
    plan: &DashboardPlan,
    ids: &HashMap<String, String>,
    owners: &HashMap<String, Value>,
) -> Entity {
    let mut entity = plan.entity.clone();
    for key in ["charts", "dataModels"] {
        if let Some(Value::Array(list)) = entity.body.get_mut(key) {
            list.retain(|f| f.as_str().is_some_and(|f| ids.contains_key(f)));
        }
    }
    let owner = plan.owner_email.as_ref().and_then(|e| owners.get(e));
    if let (Some(owner), Some(body)) = (owner, entity.body.as_object_mut()) {
        body.insert("owners".into(), json!([owner]));
    }
    entity
}

/// Looks up each creator: `GET /v1/users/name/{local part}`, accepted when
/// the user's email is the creator's. A 404 leaves the owner out.
pub async fn lookup_owners(
    client: &OmClient,
    dashboards: &[DashboardPlan],
    n: usize,
    report: &mut OmReport,
) -> Result<HashMap<String, Value>> {
    let emails: BTreeSet<&str> = dashboards
        .iter()
        .filter_map(|d| d.owner_email.as_deref())
        .collect();
    let found: Vec<Result<(String, Option<Value>)>> = futures::stream::iter(emails)
        .map(|email| async move {
            // A user's FQN is its name, quoted when it holds a `.` (`"ann.lee"`).
            let name = super::fqn::quote(email.split('@').next().unwrap_or(email));
            let url = client.url(&["users", "name", &name], &[]);
            let answer = client.call(Method::GET, url, None).await?;
            let same = answer
                .body
                .get("email")
                .and_then(Value::as_str)
                .is_some_and(|e| e.eq_ignore_ascii_case(email));
            let owner = (answer.ok() && same)
                .then(|| owner_ref(&answer.body))
                .flatten();
            Ok((email.to_owned(), owner))
        })
        .buffer_unordered(n)
        .collect()
        .await;
    let mut owners = HashMap::new();
    for item in found {
        let (email, owner) = item?;
        let uses = dashboards
            .iter()
            .filter(|d| d.owner_email.as_deref() == Some(email.as_str()))
            .count() as u64;
        match owner {
            Some(owner) => {
                report.owners.0 += uses;
                owners.insert(email, owner);
            }
            None => {
                tracing::debug!("no OpenMetadata user for {email}: owner left out");
                report.owners.1 += uses;
            }
        }
    }
    Ok(owners)
}

fn owner_ref(user: &Value) -> Option<Value> {
    let id = user.get("id")?.as_str()?;
    let mut reference = json!({"id": id, "type": "user"});
    if let Some(name) = user.get("name").and_then(Value::as_str) {
        reference["name"] = json!(name);
    }
    Some(reference)
}

/// Table FQN → id, for the tables OpenMetadata has.
pub async fn lookup_tables(
    client: &OmClient,
    mapped: &Mapped,
    n: usize,
) -> Result<HashMap<String, String>> {
    let fqns: BTreeSet<&str> = mapped.edges.iter().map(|e| e.table_fqn.as_str()).collect();
    let found: Vec<Result<(String, Option<String>)>> = futures::stream::iter(fqns)
        .map(|fqn| async move {
            let table = get_table(client, fqn).await?;
            let id = table.and_then(|t| t.get("id").and_then(Value::as_str).map(str::to_owned));
            Ok((fqn.to_owned(), id))
        })
        .buffer_unordered(n)
        .collect()
        .await;
    let mut ids = HashMap::new();
    for item in found {
        if let (fqn, Some(id)) = item? {
            ids.insert(fqn, id);
        }
    }
    Ok(ids)
}

async fn get_table(client: &OmClient, fqn: &str) -> Result<Option<Value>> {
    get_optional(client, client.url(&["tables", "name", fqn], &[])).await
}

async fn add_lineage(
    client: &OmClient,
    mapped: &Mapped,
    model_ids: &HashMap<String, String>,
    n: usize,
    report: &mut OmReport,
) -> Result<()> {
    report.tables_unmapped = mapped.unmapped.len() as u64;
    for u in &mapped.unmapped {
        tracing::debug!(
            "{} (for {}): no lineage edge: {}",
            u.table,
            u.data_model_fqn,
            u.reason
        );
    }
    let tables = lookup_tables(client, mapped, n).await?;
    let mut edges = Vec::new();
    for edge in &mapped.edges {
        let Some(table) = tables.get(&edge.table_fqn) else {
            tracing::debug!("{}: not in OpenMetadata; no lineage edge", edge.table_fqn);
            report.tables_missing += 1;
            continue;
        };
        let Some(model) = model_ids.get(&edge.data_model_fqn) else {
            continue;
        };
        edges.push(Entity {
            kind: Kind::Lineage,
            fqn: format!("{} -> {}", edge.table_fqn, edge.data_model_fqn),
            body: mapping::lineage_body(table, model, edge.sql.as_deref()),
        });
    }
    put_all(client, &edges, n, report).await.map(drop)
}

/// The deletions asked for, resolved (data models through the listing),
/// charts and data models before dashboards.
pub async fn resolve_deletions(
    config: &OmConfig,
    client: &OmClient,
    mapped: &Mapped,
    changes: &[ChangeRow],
) -> Result<Vec<Deletion>> {
    let wanted = deletions::wanted(changes, &config.service, mapped);
    let mut all: Vec<Deletion> = wanted.direct.iter().cloned().collect();
    if wanted.needs_listing() {
        let names = deletions::list_models(client, &config.service).await?;
        all.extend(deletions::matching_models(
            &wanted,
            &names,
            &config.service,
            mapped,
        ));
    }
    // Children first: charts, data models, then the dashboards holding them.
    all.sort();
    all.dedup();
    Ok(all)
}

async fn delete(
    config: &OmConfig,
    client: &OmClient,
    mapped: &Mapped,
    changes: &[ChangeRow],
    report: &mut OmReport,
) -> Result<()> {
    for d in resolve_deletions(config, client, mapped, changes).await? {
        let mut segments = d.kind.path().to_vec();
        segments.extend(["name", d.fqn.as_str()]);
        let url = client.url(
            &segments,
            &[("hardDelete", "false"), ("recursive", "false")],
        );
        let answer = client.call(Method::DELETE, url, None).await?;
        match answer.status {
            404 => report.count(d.kind, Change::AlreadyGone),
            _ if answer.ok() => {
                tracing::info!(
                    "soft-deleted {} {} (deleted in Mode)",
                    d.kind.label(),
                    d.fqn
                );
                report.count(d.kind, Change::Deleted);
            }
            _ => refused(report, d.kind, &d.fqn, &answer),
        }
    }
    Ok(())
}
