//! What the sandbox's OpenMetadata knows before any push: database tables
//! (the tables the workspace's queries read, minus about one in five, so
//! lineage to a table OpenMetadata lacks is exercised) and users (every
//! other Mode member, so an unknown creator is exercised).

use std::collections::BTreeMap;

use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::store::{quote, uuid_for};
use crate::truth::Truth;

/// The one database service holding every table.
pub const ALL_TABLES_SERVICE: &str = "warehouse";

/// The database service holding the tables of one Mode data source.
pub fn db_service_for(data_source_token: &str) -> String {
    format!("db-{data_source_token}")
}

/// True for the tables the sandbox leaves out (about one in five, by hash).
fn left_out(canonical: &str) -> bool {
    Sha256::digest(canonical.as_bytes())[0] % 5 == 0
}

/// Table FQN → table entity, under [`ALL_TABLES_SERVICE`] and under each data
/// source's [`db_service_for`].
pub fn tables(truth: &Truth) -> BTreeMap<String, Value> {
    let tokens: BTreeMap<i64, &str> = truth
        .data_sources
        .iter()
        .filter_map(|d| Some((d["id"].as_i64()?, d["token"].as_str()?)))
        .collect();
    let mut out = BTreeMap::new();
    for query in truth.queries.values().flatten() {
        let Some(q) = query["token"].as_str() else {
            continue;
        };
        let source = query["data_source_id"]
            .as_i64()
            .and_then(|id| tokens.get(&id));
        for name in truth.expected_tables.get(q).into_iter().flatten() {
            let parts: Vec<&str> = name.split('.').collect();
            if parts.len() != 3 || left_out(name) {
                continue;
            }
            let mut services = vec![ALL_TABLES_SERVICE.to_owned()];
            services.extend(source.map(|t| db_service_for(t)));
            for service in services {
                let fqn = [service.as_str(), parts[0], parts[1], parts[2]]
                    .iter()
                    .map(|p| quote(p))
                    .collect::<Vec<_>>()
                    .join(".");
                let entity = json!({
                    "id": uuid_for(&format!("table:{fqn}")),
                    "name": parts[2],
                    "fullyQualifiedName": fqn,
                    "tableType": "Regular",
                    "columns": [],
                    "service": {"type": "databaseService", "name": service},
                    "deleted": false,
                });
                out.insert(fqn, entity);
            }
        }
    }
    out
}

/// User name → user entity: every other member (the first, third, ...),
/// named by the local part of their email as OpenMetadata's SSO sign-up does.
pub fn users(truth: &Truth) -> BTreeMap<String, Value> {
    truth
        .users
        .iter()
        .step_by(2)
        .filter_map(|u| {
            let email = u["email"].as_str()?;
            let name = email.split('@').next()?;
            let entity = json!({
                "id": uuid_for(&format!("user:{name}")),
                "name": name,
                "fullyQualifiedName": name,
                "email": email,
                "displayName": u["name"],
                "deleted": false,
            });
            Some((name.to_owned(), entity))
        })
        .collect()
}
