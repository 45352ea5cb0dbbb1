//! OpenMetadata's entity semantics, in memory: create-or-update by `PUT`
//! (201 `entityCreated`, 200 `entityUpdated`, 200 `entityNoChange` when the
//! request equals the last one), references that must exist (404
//! `{kind} instance for {fqn} not found`), unknown or missing fields refused
//! (400, as OpenMetadata's JSON binding does), soft delete (the entity is
//! kept with `deleted: true`, invisible to `GET` and references, restored by
//! the next `PUT`), lineage edges keyed by their two ends.

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

/// An entity kind the sandbox stores.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum EntityKind {
    /// `/v1/services/dashboardServices`.
    Service,
    /// `/v1/charts`.
    Chart,
    /// `/v1/dashboard/datamodels`.
    DataModel,
    /// `/v1/dashboards`.
    Dashboard,
}

impl EntityKind {
    /// The kind of a collection path and the rest of the path.
    pub(crate) fn split<'a>(segments: &'a [&'a str]) -> Option<(EntityKind, &'a [&'a str])> {
        match segments {
            ["services", "dashboardServices", rest @ ..] => Some((EntityKind::Service, rest)),
            ["charts", rest @ ..] => Some((EntityKind::Chart, rest)),
            ["dashboard", "datamodels", rest @ ..] => Some((EntityKind::DataModel, rest)),
            ["dashboards", rest @ ..] => Some((EntityKind::Dashboard, rest)),
            _ => None,
        }
    }

    /// The entity type in references.
    pub const fn ref_type(self) -> &'static str {
        match self {
            EntityKind::Service => "dashboardService",
            EntityKind::Chart => "chart",
            EntityKind::DataModel => "dashboardDataModel",
            EntityKind::Dashboard => "dashboard",
        }
    }

    /// The create request's properties (OpenMetadata 1.x `api/...` schemas).
    const fn allowed(self) -> &'static [&'static str] {
        match self {
            EntityKind::Service => &[
                "name",
                "displayName",
                "description",
                "serviceType",
                "connection",
                "tags",
                "style",
                "owners",
                "dataProducts",
                "domains",
                "ingestionRunner",
            ],
            EntityKind::Chart => &[
                "name",
                "displayName",
                "description",
                "chartType",
                "sourceUrl",
                "tags",
                "owners",
                "service",
                "domains",
                "dataProducts",
                "lifeCycle",
                "sourceHash",
                "extension",
                "dashboards",
            ],
            EntityKind::DataModel => &[
                "name",
                "displayName",
                "description",
                "tags",
                "dataProducts",
                "owners",
                "service",
                "serviceType",
                "dataModelType",
                "sourceUrl",
                "sql",
                "columns",
                "project",
                "domains",
                "lifeCycle",
                "sourceHash",
                "extension",
            ],
            EntityKind::Dashboard => &[
                "name",
                "displayName",
                "description",
                "dashboardType",
                "sourceUrl",
                "project",
                "charts",
                "dataModels",
                "tags",
                "owners",
                "service",
                "extension",
                "domains",
                "dataProducts",
                "lifeCycle",
                "sourceHash",
            ],
        }
    }

    /// The create request's required properties.
    const fn required(self) -> &'static [&'static str] {
        match self {
            EntityKind::Service => &["name", "serviceType"],
            EntityKind::Chart | EntityKind::Dashboard => &["name", "service"],
            EntityKind::DataModel => &["name", "service", "dataModelType", "columns"],
        }
    }
}

/// A stored entity.
#[derive(Debug, Clone)]
pub(crate) struct Stored {
    pub(crate) request: Value,
    pub(crate) entity: Value,
    pub(crate) deleted: bool,
}

/// An answer: status, body, `X-OpenMetadata-Change`.
pub(crate) type Answer = (u16, Value, Option<&'static str>);

/// OpenMetadata's error body.
pub(crate) fn error(code: u16, message: &str) -> Answer {
    (code, json!({"code": code, "message": message}), None)
}

/// A deterministic UUID (v4 layout) from a seed.
pub fn uuid_for(seed: &str) -> String {
    let h = Sha256::digest(seed.as_bytes());
    let mut b = [0u8; 16];
    b.copy_from_slice(&h[..16]);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let hex = hex::encode(b);
    format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    )
}

/// One FQN part, quoted when it holds a `.`.
pub fn quote(part: &str) -> String {
    if part.contains('.') {
        format!("\"{part}\"")
    } else {
        part.to_owned()
    }
}

/// Everything the sandbox's OpenMetadata holds.
#[derive(Debug, Default)]
pub(crate) struct Entities {
    pub(crate) stored: BTreeMap<(EntityKind, String), Stored>,
    pub(crate) tables: BTreeMap<String, Value>,
    pub(crate) users: BTreeMap<String, Value>,
    /// (from id, to id) → the edge as received.
    pub(crate) edges: BTreeMap<(String, String), Value>,
}

impl Entities {
    /// The live (not deleted) entity of this FQN.
    pub(crate) fn live(&self, kind: EntityKind, fqn: &str) -> Option<&Value> {
        self.stored
            .get(&(kind, fqn.to_owned()))
            .filter(|s| !s.deleted)
            .map(|s| &s.entity)
    }

    /// `PUT /v1/{kind}`.
    pub(crate) fn put(&mut self, kind: EntityKind, body: &Value) -> Answer {
        let Some(obj) = body.as_object() else {
            return error(400, "Unable to process JSON: the body is not an object");
        };
        if let Some(bad) = obj.keys().find(|k| !kind.allowed().contains(&k.as_str())) {
            return error(
                400,
                &format!("Unrecognized field \"{bad}\" (not marked as ignorable)"),
            );
        }
        if let Some(missing) = kind
            .required()
            .iter()
            .find(|k| obj.get(**k).is_none_or(Value::is_null))
        {
            return error(400, &format!("[query param {missing} must not be null]"));
        }
        let Some(name) = obj["name"]
            .as_str()
            .filter(|n| !n.is_empty() && n.len() <= 256)
        else {
            return error(400, "[name size must be between 1 and 256]");
        };
        let mut entity = match self.resolve(kind, obj) {
            Ok(entity) => entity,
            Err(answer) => return answer,
        };
        let fqn = match kind {
            EntityKind::Service => quote(name),
            EntityKind::DataModel => {
                format!("{}.model.{}", quote(str_of(obj, "service")), quote(name))
            }
            _ => format!("{}.{}", quote(str_of(obj, "service")), quote(name)),
        };
        let key = (kind, fqn.clone());
        let previous = self.stored.get(&key).cloned();
        let id = previous
            .as_ref()
            .and_then(|p| p.entity["id"].as_str().map(str::to_owned))
            .unwrap_or_else(|| uuid_for(&format!("{}:{fqn}", kind.ref_type())));
        let version = previous
            .as_ref()
            .map_or(0.1, |p| p.entity["version"].as_f64().unwrap_or(0.1));
        let (status, change, version) = match &previous {
            None => (201, "entityCreated", version),
            Some(p) if p.deleted => (200, "entityRestored", version + 0.1),
            Some(p) if p.request == *body => (200, "entityNoChange", version),
            Some(_) => (200, "entityUpdated", version + 0.1),
        };
        entity.insert("id".into(), json!(id));
        entity.insert("fullyQualifiedName".into(), json!(fqn));
        entity.insert("version".into(), json!((version * 10.0).round() / 10.0));
        entity.insert("deleted".into(), json!(false));
        let entity = Value::Object(entity);
        self.stored.insert(
            key,
            Stored {
                request: body.clone(),
                entity: entity.clone(),
                deleted: false,
            },
        );
        (status, entity, Some(change))
    }

    /// The entity of a request: its fields, references resolved.
    fn resolve(
        &self,
        kind: EntityKind,
        obj: &Map<String, Value>,
    ) -> Result<Map<String, Value>, Answer> {
        let mut entity = obj.clone();
        if kind != EntityKind::Service {
            let service = str_of(obj, "service");
            let reference = self.reference(EntityKind::Service, service)?;
            entity.insert("service".into(), reference);
        }
        for (key, target) in [
            ("charts", EntityKind::Chart),
            ("dataModels", EntityKind::DataModel),
        ] {
            if let Some(list) = obj.get(key).and_then(Value::as_array) {
                let refs: Result<Vec<Value>, Answer> = list
                    .iter()
                    .map(|f| self.reference(target, f.as_str().unwrap_or_default()))
                    .collect();
                entity.insert(key.into(), Value::Array(refs?));
            }
        }
        if let Some(owners) = obj.get("owners").and_then(Value::as_array) {
            for owner in owners {
                let id = owner["id"].as_str().unwrap_or_default();
                if !self.users.values().any(|u| u["id"] == id) {
                    return Err(error(404, &format!("user instance for {id} not found")));
                }
            }
        }
        Ok(entity)
    }

    fn reference(&self, kind: EntityKind, fqn: &str) -> Result<Value, Answer> {
        let Some(e) = self.live(kind, fqn) else {
            return Err(error(
                404,
                &format!("{} instance for {fqn} not found", kind.ref_type()),
            ));
        };
        Ok(json!({
            "id": e["id"], "type": kind.ref_type(), "name": e["name"],
            "fullyQualifiedName": e["fullyQualifiedName"], "deleted": false,
        }))
    }

    /// `DELETE /v1/{kind}/name/{fqn}` (soft).
    pub(crate) fn soft_delete(&mut self, kind: EntityKind, fqn: &str) -> Answer {
        match self.stored.get_mut(&(kind, fqn.to_owned())) {
            Some(s) if !s.deleted => {
                s.deleted = true;
                s.entity["deleted"] = json!(true);
                (200, s.entity.clone(), Some("entitySoftDeleted"))
            }
            _ => error(
                404,
                &format!("{} instance for {fqn} not found", kind.ref_type()),
            ),
        }
    }

    /// `PUT /v1/lineage`.
    pub(crate) fn add_lineage(&mut self, body: &Value) -> Answer {
        let Some(edge) = body
            .get("edge")
            .filter(|_| body.as_object().is_some_and(|o| o.len() == 1))
        else {
            return error(
                400,
                "[query param edge must not be null] or an unrecognized field",
            );
        };
        let from = edge
            .pointer("/fromEntity/id")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let to = edge
            .pointer("/toEntity/id")
            .and_then(Value::as_str)
            .unwrap_or_default();
        if !self.tables.values().any(|t| t["id"] == from) && !self.has_id(from) {
            return error(404, &format!("table instance for {from} not found"));
        }
        if !self.has_id(to) {
            return error(
                404,
                &format!("dashboardDataModel instance for {to} not found"),
            );
        }
        self.edges
            .insert((from.to_owned(), to.to_owned()), edge.clone());
        (200, Value::Null, None)
    }

    fn has_id(&self, id: &str) -> bool {
        self.stored
            .values()
            .any(|s| !s.deleted && s.entity["id"] == id)
    }

    /// `GET /v1/dashboard/datamodels?service=…&limit=…&after=…` (offset cursor).
    pub(crate) fn list(
        &self,
        kind: EntityKind,
        service: Option<&str>,
        limit: usize,
        after: usize,
    ) -> Answer {
        let live: Vec<&Value> = self
            .stored
            .iter()
            .filter(|((k, _), s)| *k == kind && !s.deleted)
            .map(|(_, s)| &s.entity)
            .filter(|e| {
                service.is_none_or(|svc| {
                    e.pointer("/service/name").and_then(Value::as_str) == Some(svc)
                })
            })
            .collect();
        let page: Vec<&Value> = live
            .iter()
            .skip(after)
            .take(limit.max(1))
            .copied()
            .collect();
        let next = after + page.len();
        let mut paging = json!({"total": live.len()});
        if next < live.len() {
            paging["after"] = json!(next.to_string());
        }
        (200, json!({"data": page, "paging": paging}), None)
    }
}

fn str_of<'a>(obj: &'a Map<String, Value>, key: &str) -> &'a str {
    obj.get(key).and_then(Value::as_str).unwrap_or_default()
}
