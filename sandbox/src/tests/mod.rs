//! Tests of the sandbox as its clients see it: real HTTP with reqwest against
//! a started server, plus the generator's invariants.

mod api;
mod day;
mod faults;
mod generator;
mod hostile;
mod ingest;
mod limits;
mod tokens;

use serde_json::Value;

use super::{Sandbox, SandboxConfig};

/// A small workspace that still has a collection of more than 100 reports.
pub(super) fn small() -> SandboxConfig {
    SandboxConfig {
        seed: 7,
        collections: 8,
        reports: 210,
        ..SandboxConfig::default()
    }
}

pub(super) async fn start(config: SandboxConfig) -> Sandbox {
    Sandbox::start(config).await.expect("sandbox starts")
}

pub(super) fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(10))
        .build()
        .expect("client builds")
}

/// GET `path` with the default credentials.
pub(super) async fn get(sandbox: &Sandbox, path: &str) -> reqwest::Response {
    client()
        .get(format!("{}{path}", sandbox.url()))
        .basic_auth("sandbox-token", Some("sandbox-secret"))
        .send()
        .await
        .expect("request is answered")
}

/// GET `path` and parse the 200 JSON answer.
pub(super) async fn get_json(sandbox: &Sandbox, path: &str) -> Value {
    let response = get(sandbox, path).await;
    assert_eq!(response.status(), 200, "GET {path}");
    response.json().await.expect("JSON body")
}

/// The items of a HAL list under `key` (empty when absent).
pub(super) fn embedded(body: &Value, key: &str) -> Vec<Value> {
    body["_embedded"][key]
        .as_array()
        .cloned()
        .unwrap_or_default()
}
