//! The OpenMetadata side: `/openmetadata/api/v1/…` answers the endpoints
//! `upload --target openmetadata` uses, with OpenMetadata's semantics (see
//! [`store`]), and keeps every request it received, body included, for the
//! tests and for `scripts/om_validate.py`, which checks those bodies with
//! OpenMetadata's own request models.
//!
//! - `GET /v1/system/version` (no auth), everything else needs
//!   `Authorization: Bearer` [`OM_TOKEN`] (401 `{"code","message"}` otherwise);
//! - `PUT` / `GET name/{fqn}` / `DELETE name/{fqn}` on
//!   `services/dashboardServices`, `charts`, `dashboard/datamodels`,
//!   `dashboards`; `GET dashboard/datamodels?service=…` (paged);
//! - `PUT /v1/lineage`; `GET /v1/tables/name/{fqn}`; `GET /v1/users/name/{name}`
//!   over seeded tables and users (see [`seed`]);
//! - `GET /openmetadata/_sandbox/requests`: every request received (never
//!   recorded itself).
//!
//! Faults ([`OmFault`]) apply to the next writes (`PUT`, `DELETE`), in order.

mod seed;
mod store;

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method};
use axum::response::Response;
use serde::Serialize;
use serde_json::{Value, json};

pub use seed::{ALL_TABLES_SERVICE, db_service_for};
pub use store::EntityKind;

use super::respond::{ConnKill, json_response, set_header};
use super::state::{Shared, lock};
use super::truth::Truth;
use store::{Answer, Entities, error};

/// The JWT the sandbox's OpenMetadata accepts.
pub const OM_TOKEN: &str = "sandbox-openmetadata-jwt";

/// The OpenMetadata version the sandbox announces.
pub const OM_VERSION: &str = "1.6.1";

/// A fault of the OpenMetadata side, consumed by the next write request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OmFault {
    /// Do the write, then answer this status (e.g. 504): the write happened.
    AfterWrite(u16),
    /// Do the write, then close the connection without an answer.
    DropAfterWrite,
    /// Answer this status without writing.
    Before(u16),
    /// Answer 400 naming a schema violation to the next `PUT` whose `name`
    /// is this one (other writes pass and do not consume it).
    Reject(String),
}

/// One request received by the OpenMetadata side.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OmRequest {
    /// `GET`, `PUT`, `DELETE`.
    pub method: String,
    /// The path after `/openmetadata/api`, e.g. `/v1/charts`.
    pub path: String,
    /// The query string.
    pub query: String,
    /// The JSON body (`null` when none).
    pub body: Value,
    /// The status answered (0: the connection was dropped).
    pub status: u16,
}

/// The OpenMetadata side's state.
#[derive(Debug)]
pub(crate) struct OmState {
    entities: Mutex<Entities>,
    requests: Mutex<Vec<OmRequest>>,
    faults: Mutex<VecDeque<OmFault>>,
}

impl OmState {
    /// Seeded from the workspace's truth.
    pub(crate) fn new(truth: &Truth) -> OmState {
        OmState {
            entities: Mutex::new(Entities {
                tables: seed::tables(truth),
                users: seed::users(truth),
                ..Entities::default()
            }),
            requests: Mutex::new(Vec::new()),
            faults: Mutex::new(VecDeque::new()),
        }
    }
}

impl super::Handle {
    /// The `--om-host` of this sandbox: `{url}/openmetadata/api`.
    pub fn om_host(&self) -> String {
        format!("{}/openmetadata/api", self.url())
    }

    /// Every request the OpenMetadata side received, in order.
    pub fn om_requests(&self) -> Vec<OmRequest> {
        lock(&self.shared.openmetadata.requests).clone()
    }

    /// Live (not deleted) entities of a kind, as `GET` would answer them.
    pub fn om_entities(&self, kind: EntityKind) -> Vec<Value> {
        self.om_all(kind)
            .into_iter()
            .filter(|e| e["deleted"] == false)
            .collect()
    }

    /// Every entity of a kind, soft-deleted ones included (`deleted: true`).
    pub fn om_all(&self, kind: EntityKind) -> Vec<Value> {
        let entities = lock(&self.shared.openmetadata.entities);
        entities
            .stored
            .iter()
            .filter(|((k, _), _)| *k == kind)
            .map(|(_, s)| s.entity.clone())
            .collect()
    }

    /// Lineage edges: (from id, to id) → the edge as received.
    pub fn om_edges(&self) -> Vec<((String, String), Value)> {
        let entities = lock(&self.shared.openmetadata.entities);
        entities
            .edges
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }

    /// Seeded tables: FQN → entity.
    pub fn om_tables(&self) -> Vec<(String, Value)> {
        let entities = lock(&self.shared.openmetadata.entities);
        entities
            .tables
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }

    /// Seeded users: name → entity.
    pub fn om_users(&self) -> Vec<(String, Value)> {
        let entities = lock(&self.shared.openmetadata.entities);
        entities
            .users
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }

    /// Replaces the pending OpenMetadata faults.
    pub fn set_om_faults(&self, faults: Vec<OmFault>) {
        *lock(&self.shared.openmetadata.faults) = faults.into();
    }

    /// Forgets the recorded requests (entities are kept).
    pub fn clear_om_requests(&self) {
        lock(&self.shared.openmetadata.requests).clear();
    }
}

/// Answers one `/openmetadata/…` request.
pub(crate) async fn handle(State(shared): State<Arc<Shared>>, request: Request) -> Response {
    let kill = request
        .extensions()
        .get::<ConnKill>()
        .cloned()
        .unwrap_or_default();
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let query = request.uri().query().unwrap_or_default().to_owned();
    let headers = request.headers().clone();
    let bytes = axum::body::to_bytes(request.into_body(), usize::MAX)
        .await
        .unwrap_or_default();
    if path == "/openmetadata/_sandbox/requests" {
        let all = lock(&shared.openmetadata.requests).clone();
        return json_response(200, "application/json", &json!(all));
    }
    let rest = path.strip_prefix("/openmetadata/api").unwrap_or("/");
    let body: Value = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes).unwrap_or(Value::String("<not JSON>".into()))
    };
    let state = &shared.openmetadata;
    let fault = next_fault(state, &method, &body);
    let answer = match &fault {
        Some(OmFault::Before(status)) => error(*status, "sandbox fault: injected"),
        Some(OmFault::Reject(name)) => error(
            400,
            &format!(
                "[name '{name}' refused: sandbox fault: instance type does not match the schema]"
            ),
        ),
        _ => answer(state, &method, rest, &query, &headers, &body, &bytes),
    };
    let status = match fault {
        Some(OmFault::AfterWrite(s)) => s,
        Some(OmFault::DropAfterWrite) => 0,
        _ => answer.0,
    };
    lock(&state.requests).push(OmRequest {
        method: method.to_string(),
        path: rest.to_owned(),
        query,
        body,
        status,
    });
    match fault {
        Some(OmFault::DropAfterWrite) => kill.close_without_answer().await,
        Some(OmFault::AfterWrite(s)) => {
            respond(error(s, "sandbox fault: injected after the write"))
        }
        _ => respond(answer),
    }
}

fn next_fault(state: &OmState, method: &Method, body: &Value) -> Option<OmFault> {
    if *method != Method::PUT && *method != Method::DELETE {
        return None;
    }
    let mut faults = lock(&state.faults);
    match faults.front()? {
        OmFault::Reject(name) if body["name"].as_str() != Some(name.as_str()) => None,
        _ => faults.pop_front(),
    }
}

fn respond((status, body, change): Answer) -> Response {
    let mut response = json_response(status, "application/json", &body);
    if let Some(change) = change {
        set_header(&mut response, "x-openmetadata-change", change);
    }
    response
}

fn answer(
    state: &OmState,
    method: &Method,
    rest: &str,
    query: &str,
    headers: &HeaderMap,
    body: &Value,
    bytes: &Bytes,
) -> Answer {
    let segments: Vec<String> = rest
        .trim_matches('/')
        .split('/')
        .map(percent_decode)
        .collect();
    let segments: Vec<&str> = segments.iter().map(String::as_str).collect();
    let Some(["v1", segments @ ..]) = Some(segments.as_slice()) else {
        return error(404, "HTTP 404 Not Found");
    };
    if *method == Method::GET && segments == ["system", "version"] {
        return (
            200,
            json!({"version": OM_VERSION, "revision": "sandbox", "timestamp": 0}),
            None,
        );
    }
    let bearer = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    if bearer != Some(OM_TOKEN) {
        return error(401, "Not Authorized! Token verification failed");
    }
    if matches!(body, Value::String(_)) && !bytes.is_empty() {
        return error(400, "Unable to process JSON");
    }
    let mut entities = lock(&state.entities);
    let params: Vec<(String, String)> = url::form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect();
    let param = |k: &str| params.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    match (method.as_str(), segments) {
        ("PUT", ["lineage"]) => entities.add_lineage(body),
        ("GET", ["tables", "name", fqn]) => found(entities.tables.get(*fqn), "table", fqn),
        ("GET", ["users", "name", name]) => {
            let unquoted = name.trim_matches('"');
            found(entities.users.get(unquoted), "user", name)
        }
        _ => match EntityKind::split(segments) {
            Some((kind, [])) if method == Method::PUT => entities.put(kind, body),
            Some((kind, [])) if method == Method::GET => {
                let limit = param("limit").and_then(|l| l.parse().ok()).unwrap_or(10);
                let after = param("after").and_then(|a| a.parse().ok()).unwrap_or(0);
                entities.list(kind, param("service"), limit, after)
            }
            Some((kind, ["name", fqn])) if method == Method::GET => {
                found(entities.live(kind, fqn), kind.ref_type(), fqn)
            }
            Some((kind, ["name", fqn])) if method == Method::DELETE => {
                entities.soft_delete(kind, fqn)
            }
            _ => error(404, "HTTP 404 Not Found"),
        },
    }
}

fn found(entity: Option<&Value>, kind: &str, fqn: &str) -> Answer {
    match entity {
        Some(e) => (200, e.clone(), None),
        None => error(404, &format!("{kind} instance for {fqn} not found")),
    }
}

fn percent_decode(segment: &str) -> String {
    url::form_urlencoded::parse(format!("x={}", segment.replace('+', "%2B")).as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}
