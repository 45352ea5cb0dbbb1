//! Replay mode: serves the recorded Mode responses (DataHub's fixtures, see
//! `fixtures/mode-recorded/README.md`) at the requests they answered.
//!
//! The workspace is `acryl`. Each list is served as recorded on page 1
//! whatever `per_page` says (its own `_links.self` included, even where it
//! names `acryltest` or `collections`); page 2 and later answer
//! `final_page.json`. Three answers are
//! synthesised because nothing was recorded for them, and say so here:
//! `/api/acryl/spaces?filter=custom` (the recording minus private
//! collections), `/api/acryl/memberships` (one membership built from
//! `user.json`) and `/api/acryl` itself (the workspace token of
//! `verify.json`, the recording's counts). Anything else answers 404.
//!
//! The [`Truth`] is built from the same bodies: the collections of
//! `spaces.json`, the reports of their recorded listings (the older
//! `reports.json` of an unlisted collection is served but not in the truth),
//! the synthesised workspace, and `expected_tables` derived by hand from the recorded
//! SQL (definitions expanded; bare names take the data source's database, as the lineage module canonicalises them).
//! `problems` lists the recording's own defect: a dataset query whose
//! `data_source_id` (44763) is not among the data sources.

use std::collections::BTreeMap;
use std::io;
use std::path::Path;

use serde_json::{Value, json};

use super::store::{Resource, Store};
use super::truth::{ItemProblem, Truth};

/// The recorded workspace.
pub const REPLAY_WORKSPACE: &str = "acryl";

/// Tables read by the recorded queries, derived by reading their SQL.
const RECORDED_TABLES: [(&str, &[&str]); 2] = [
    (
        "6e26a9f3d4e2",
        &[
            "dvdrental.customer",
            "dvdrental.payment",
            "dvdrental.rental",
            "dvdrental.staff",
        ],
    ),
    (
        "9b2f34343531",
        &[
            "datahub_community.postgres_public.company",
            "ethan_test_db.public.account_phone_number",
        ],
    ),
];

/// Loads the recordings of `dir` into a store and its truth.
pub(crate) fn load(dir: &Path) -> io::Result<(Truth, Store)> {
    let read = |name: &str| read_json(&dir.join(name));
    let ws = REPLAY_WORKSPACE;
    let mut store = Store::new(ws);
    store.recorded = true;
    let user = read("user.json")?;
    let username = user["username"].as_str().unwrap_or("modeuser").to_owned();
    store.insert("verify".into(), Resource::Object(read("verify.json")?));
    store.insert("account".into(), Resource::Object(user.clone()));
    store.insert(format!("named/{username}"), Resource::Object(user.clone()));
    let spaces = read("spaces.json")?;
    let mut shared = spaces.clone();
    if let Some(items) = shared["_embedded"]["spaces"].as_array_mut() {
        items.retain(|s| s["space_type"] != "private");
    }
    let lists = [
        ("spaces/acryl/all", spaces.clone(), true),
        ("spaces/acryl/default", spaces.clone(), true),
        ("spaces/acryl/custom", shared, true),
        (
            "reports/acryl/157933cc1168",
            read("reports_157933cc1168.json")?,
            true,
        ),
        (
            "reports/acryl/75737b70402e",
            read("reports_75737b70402e.json")?,
            true,
        ),
        ("reports/acryl/9026edbd5a3c", read("reports.json")?, true),
        (
            "datasets/acryl/75737b70402e",
            read("datasets_75737b70402e.json")?,
            true,
        ),
        ("queries/acryl/9d2da37fa91e", read("queries.json")?, false),
        (
            "queries/acryl/24f66e1701b6",
            read("dataset_queries_24f66e1701b6.json")?,
            false,
        ),
        (
            "charts/acryl/9d2da37fa91e/6e26a9f3d4e2",
            read("charts.json")?,
            false,
        ),
        ("data_sources/acryl", read("data_sources.json")?, false),
        ("definitions/acryl", read("definitions.json")?, false),
        ("memberships/acryl", memberships(&user), true),
    ];
    for (key, body, paged) in &lists {
        store.list(key.to_string(), split(body, *paged)?);
    }
    let dataset = read("dataset_24f66e1701b6.json")?;
    store.insert(
        "report/acryl/24f66e1701b6".into(),
        Resource::Object(dataset.clone()),
    );
    let body = |key: &str| {
        lists
            .iter()
            .find(|(k, _, _)| *k == key)
            .map(|(_, b, _)| b.clone())
    };
    let mut truth = truth(&body, user, dataset);
    truth.workspace = workspace(&read("verify.json")?, &truth);
    store.insert(
        format!("named/{ws}"),
        Resource::Object(truth.workspace.clone()),
    );
    Ok((truth, store))
}

/// The synthesised `/api/acryl` (no workspace body was recorded): the
/// workspace token of `verify.json`, the recording's counts, the field set of
/// a generated workspace.
fn workspace(verify: &Value, truth: &Truth) -> Value {
    let ws = REPLAY_WORKSPACE;
    let created = truth.users.first().map(|u| u["created_at"].clone());
    json!({
        "username": ws, "name": ws, "id": 1, "token": verify["workspace_token"], "user": false,
        "created_at": created.unwrap_or(Value::Null),
        "space_count": truth.spaces.len(), "data_source_count": truth.data_sources.len(),
        "plan_code": "enterprise", "scim_enabled": false, "thoughtspot_integrated": false,
        "_links": {
            "self": {"href": format!("/api/{ws}")},
            "web": {"href": format!("/{ws}")},
            "spaces": {"href": format!("/api/{ws}/collections")},
            "memberships": {"href": format!("/api/{ws}/memberships")},
            "data_sources": {"href": format!("/api/{ws}/data_sources")},
            "definitions": {"href": format!("/api/{ws}/definitions")},
        },
    })
}

fn read_json(path: &Path) -> io::Result<Value> {
    let text = std::fs::read(path)
        .map_err(|e| io::Error::new(e.kind(), format!("reading {}: {e}", path.display())))?;
    serde_json::from_slice(&text).map_err(|e| {
        let message = format!("parsing {}: {e}", path.display());
        io::Error::new(io::ErrorKind::InvalidData, message)
    })
}

/// `(key, self href, items, paged)` of a recorded HAL list.
fn split(body: &Value, paged: bool) -> io::Result<(&'static str, String, Vec<Value>, bool)> {
    let embedded = body["_embedded"].as_object();
    let found = embedded.and_then(|map| map.iter().next());
    let Some((key, Value::Array(items))) = found else {
        let message = "recorded list without an _embedded array";
        return Err(io::Error::new(io::ErrorKind::InvalidData, message));
    };
    let name = match key.as_str() {
        "spaces" => "spaces",
        "reports" => "reports",
        "queries" => "queries",
        "charts" => "charts",
        "data_sources" => "data_sources",
        "definitions" => "definitions",
        _ => "memberships",
    };
    let href = body["_links"]["self"]["href"].as_str().unwrap_or_default();
    Ok((name, href.to_owned(), items.clone(), paged))
}

/// The synthesised memberships list: the recorded user as the only member.
fn memberships(user: &Value) -> Value {
    let username = user["username"].as_str().unwrap_or_default();
    json!({
        "_links": {"self": {"href": "/api/acryl/memberships"}},
        "_embedded": {"memberships": [{
            "admin": true, "invited": false, "state": "active",
            "member_username": username, "member_token": user["token"],
            "activated_at": user["created_at"], "managed_by_scim": false,
            "_links": {
                "self": {"href": format!("/api/acryl/memberships/{username}")},
                "user": {"href": format!("/api/{username}")},
            },
        }]},
    })
}

fn items(body: Option<Value>, key: &str) -> Vec<Value> {
    body.and_then(|b| b["_embedded"][key].as_array().cloned())
        .unwrap_or_default()
}

fn truth(body: &dyn Fn(&str) -> Option<Value>, user: Value, dataset: Value) -> Truth {
    let spaces = items(body("spaces/acryl/all"), "spaces");
    let reports = spaces
        .iter()
        .filter_map(|s| s["token"].as_str())
        .flat_map(|token| items(body(&format!("reports/acryl/{token}")), "reports"))
        .collect();
    let mut queries = BTreeMap::new();
    for report in ["9d2da37fa91e", "24f66e1701b6"] {
        let listed = items(body(&format!("queries/acryl/{report}")), "queries");
        queries.insert(report.to_owned(), listed);
    }
    let charts = items(body("charts/acryl/9d2da37fa91e/6e26a9f3d4e2"), "charts");
    let chart_owner = charts
        .iter()
        .filter_map(|c| c["token"].as_str())
        .map(|t| {
            (
                t.to_owned(),
                ("9d2da37fa91e".to_owned(), "6e26a9f3d4e2".to_owned()),
            )
        })
        .collect();
    let data_sources = items(body("data_sources/acryl"), "data_sources");
    let problems = unknown_sources(&queries, &data_sources);
    Truth {
        workspace: Value::Null,
        data_sources,
        spaces,
        reports,
        datasets: items(body("datasets/acryl/75737b70402e"), "reports"),
        report_details: BTreeMap::from([("24f66e1701b6".to_owned(), dataset)]),
        queries,
        charts: BTreeMap::from([("6e26a9f3d4e2".to_owned(), charts)]),
        chart_owner,
        definitions: items(body("definitions/acryl"), "definitions"),
        memberships: items(body("memberships/acryl"), "memberships"),
        users: vec![user],
        expected_tables: RECORDED_TABLES
            .iter()
            .map(|(q, t)| (q.to_string(), t.iter().map(|s| s.to_string()).collect()))
            .collect(),
        problems,
    }
}

/// Queries whose `data_source_id` matches no data source.
fn unknown_sources(queries: &BTreeMap<String, Vec<Value>>, sources: &[Value]) -> Vec<ItemProblem> {
    queries
        .values()
        .flatten()
        .filter(|q| !sources.iter().any(|s| s["id"] == q["data_source_id"]))
        .map(|q| ItemProblem {
            kind: "unknown_data_source".to_owned(),
            token: q["token"].as_str().unwrap_or_default().to_owned(),
        })
        .collect()
}
