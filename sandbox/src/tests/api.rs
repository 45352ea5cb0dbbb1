//! The Mode side over HTTP: auth, pagination, errors, replay and stats.

use std::path::PathBuf;

use serde_json::{Value, json};

use super::{client, embedded, get, get_json, small, start};
use crate::{SandboxConfig, SandboxThread};

/// The token of the largest collection and its report count.
fn largest(truth: &crate::Truth) -> (String, usize) {
    truth
        .spaces
        .iter()
        .filter_map(|s| s["token"].as_str())
        .map(|t| (t.to_owned(), truth.reports_in(t).len()))
        .max_by_key(|(_, n)| *n)
        .unwrap_or_default()
}

#[tokio::test]
async fn pages_of_100_cover_a_large_collection_then_final_page() {
    let sandbox = start(small()).await;
    let truth = sandbox.truth();
    let (space, count) = largest(&truth);
    assert!(count > 100);
    let mut seen = Vec::new();
    for page in 1..=2 {
        let path = format!("/api/demo/spaces/{space}/reports?per_page=100&page={page}");
        seen.extend(embedded(&get_json(&sandbox, &path).await, "reports"));
    }
    let expected: Vec<Value> = truth.reports_in(&space).into_iter().cloned().collect();
    assert_eq!(seen, expected);
    let past = get_json(
        &sandbox,
        &format!("/api/demo/spaces/{space}/reports?per_page=100&page=3"),
    )
    .await;
    assert_eq!(
        past,
        json!({"_links": {"self": {"href": ""}}, "_embedded": {}})
    );
    let default = get_json(&sandbox, &format!("/api/demo/collections/{space}/reports")).await;
    assert_eq!(embedded(&default, "reports").len(), 30);
    assert!(default["_links"].get("next").is_none());
}

#[tokio::test]
async fn ignored_per_page_always_gives_30() {
    let sandbox = start(SandboxConfig {
        per_page_honoured: false,
        ..small()
    })
    .await;
    let (space, _) = largest(&sandbox.truth());
    let body = get_json(
        &sandbox,
        &format!("/api/demo/spaces/{space}/reports?per_page=100"),
    )
    .await;
    assert_eq!(embedded(&body, "reports").len(), 30);
}

#[tokio::test]
async fn space_filters_and_hal_content_type() {
    let sandbox = start(small()).await;
    let response = get(&sandbox, "/api/demo/spaces?filter=all").await;
    let content_type = response.headers().get("content-type").cloned();
    assert_eq!(
        content_type.as_ref().and_then(|v| v.to_str().ok()),
        Some("application/hal+json")
    );
    let all = embedded(&response.json().await.expect("json"), "spaces");
    assert_eq!(all, sandbox.truth().spaces);
    for path in ["/api/demo/spaces?filter=custom", "/api/demo/spaces"] {
        let shared = embedded(&get_json(&sandbox, path).await, "spaces");
        assert_eq!(shared.len(), all.len() - 1, "{path}");
        assert!(shared.iter().all(|s| s["space_type"] != "private"));
    }
}

#[tokio::test]
async fn single_objects_and_nested_lists_match_the_truth() {
    let sandbox = start(SandboxConfig::default()).await;
    let truth = sandbox.truth();
    let report = &truth.reports[0];
    let token = report["token"].as_str().unwrap_or_default();
    let detail = get_json(&sandbox, &format!("/api/demo/reports/{token}")).await;
    assert_eq!(detail, truth.report_details[token]);
    let queries = get_json(&sandbox, &format!("/api/demo/reports/{token}/queries")).await;
    assert_eq!(embedded(&queries, "queries"), truth.queries[token]);
    let query = truth.queries[token][0]["token"]
        .as_str()
        .unwrap_or_default();
    let charts = get_json(
        &sandbox,
        &format!("/api/demo/reports/{token}/queries/{query}/charts"),
    )
    .await;
    assert_eq!(embedded(&charts, "charts"), truth.charts[query]);
    let username = truth.users[3]["username"].as_str().unwrap_or_default();
    assert_eq!(
        get_json(&sandbox, &format!("/api/{username}")).await,
        truth.users[3]
    );
    assert_eq!(get_json(&sandbox, "/api/demo").await, truth.workspace);
    assert_eq!(get_json(&sandbox, "/api/verify").await["workspace"], "demo");
    let members = get_json(&sandbox, "/api/demo/memberships?page=2").await;
    assert_eq!(embedded(&members, "memberships"), truth.memberships[30..]);
    let sources = get_json(&sandbox, "/api/demo/data_sources?page=2").await;
    assert_eq!(embedded(&sources, "data_sources"), truth.data_sources);
}

#[tokio::test]
async fn auth_forbidden_and_not_found_bodies() {
    let sandbox = start(small()).await;
    let url = format!("{}/api/demo/spaces", sandbox.url());
    let anonymous = client().get(&url).send().await.expect("answer");
    assert_eq!(anonymous.status(), 401);
    let body: Value = anonymous.json().await.expect("json");
    assert_eq!(body["id"], "unauthorized");
    let wrong = client()
        .get(&url)
        .basic_auth("sandbox-token", Some("nope"))
        .send()
        .await
        .expect("answer");
    assert_eq!(wrong.status(), 401);
    let unknown = get(&sandbox, "/api/elsewhere/spaces").await;
    assert_eq!(unknown.status(), 404);
    assert_eq!(
        unknown.json::<Value>().await.expect("json")["id"],
        "not_found"
    );
    assert_eq!(
        get(&sandbox, "/api/demo/reports/000000000000/queries")
            .await
            .status(),
        404
    );
    let forbidden = start(SandboxConfig {
        forbidden: true,
        ..small()
    })
    .await;
    let refused = get(&forbidden, "/api/demo/spaces").await;
    assert_eq!(refused.status(), 403);
    assert_eq!(
        refused.json::<Value>().await.expect("json")["id"],
        "forbidden"
    );
    assert_eq!(get(&forbidden, "/api/demo").await.status(), 403);
    assert_eq!(get(&forbidden, "/api/verify").await.status(), 200);
    assert_eq!(get(&forbidden, "/api/account").await.status(), 400);
}

#[tokio::test]
async fn item_problems_are_served_as_announced() {
    let sandbox = start(SandboxConfig {
        item_problems: true,
        ..small()
    })
    .await;
    let deleted = sandbox.truth().problems[0].token.clone();
    let hidden = sandbox.truth().problems[3].token.clone();
    let queries = format!("/api/demo/reports/{hidden}/queries");
    assert_eq!(get(&sandbox, &queries).await.status(), 403);
    let detail = format!("/api/demo/reports/{hidden}");
    assert_eq!(get(&sandbox, &detail).await.status(), 200);
    assert_eq!(
        get(&sandbox, &format!("/api/demo/reports/{deleted}/queries"))
            .await
            .status(),
        404
    );
    assert_eq!(
        get(&sandbox, &format!("/api/demo/reports/{deleted}"))
            .await
            .status(),
        404
    );
}

fn recorded() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fixtures/mode-recorded")
}

fn recorded_json(name: &str) -> Value {
    let text = std::fs::read(recorded().join(name)).expect("fixture exists");
    serde_json::from_slice(&text).expect("fixture is JSON")
}

#[tokio::test]
async fn replay_serves_the_recorded_files() {
    let config = SandboxConfig {
        replay_dir: Some(recorded()),
        ..SandboxConfig::default()
    };
    let sandbox = start(config).await;
    assert_eq!(
        get_json(&sandbox, "/api/acryl/spaces?filter=all").await,
        recorded_json("spaces.json")
    );
    let one_per_page = "/api/acryl/spaces?filter=all&per_page=1";
    assert_eq!(
        get_json(&sandbox, one_per_page).await,
        recorded_json("spaces.json")
    );
    let final_page = get_json(&sandbox, "/api/acryl/spaces?filter=all&page=2&per_page=1").await;
    assert_eq!(final_page, recorded_json("final_page.json"));
    let charts = "/api/acryl/reports/9d2da37fa91e/queries/6e26a9f3d4e2/charts";
    assert_eq!(
        get_json(&sandbox, charts).await,
        recorded_json("charts.json")
    );
    assert_eq!(
        get_json(&sandbox, "/api/modeuser").await,
        recorded_json("user.json")
    );
    let members = embedded(
        &get_json(&sandbox, "/api/acryl/memberships").await,
        "memberships",
    );
    assert_eq!(members.len(), 1);
    assert_eq!(members[0]["member_username"], "modeuser");
    let workspace = get_json(&sandbox, "/api/acryl").await;
    assert_eq!(workspace, sandbox.truth().workspace);
    assert_eq!(
        workspace["token"],
        recorded_json("verify.json")["workspace_token"]
    );
    assert_eq!(workspace["space_count"], 2);
    assert_eq!(get(&sandbox, "/api/acryl/groups").await.status(), 404);
    let truth = sandbox.truth();
    assert_eq!(
        (
            truth.spaces.len(),
            truth.reports.len(),
            truth.datasets.len()
        ),
        (2, 1, 1)
    );
    assert_eq!(truth.expected_tables["6e26a9f3d4e2"].len(), 4);
}

#[tokio::test]
async fn stats_count_api_requests_but_not_control_calls() {
    let sandbox = start(small()).await;
    get(&sandbox, "/api/demo").await;
    get(&sandbox, "/api/demo/spaces?filter=all").await;
    get(&sandbox, "/api/demo/nothing/here").await;
    client()
        .get(format!("{}/api/verify", sandbox.url()))
        .send()
        .await
        .expect("answer");
    let control: Value = client()
        .get(format!("{}/_sandbox/stats", sandbox.url()))
        .send()
        .await
        .expect("answer")
        .json()
        .await
        .expect("json");
    let stats = sandbox.stats();
    assert_eq!(
        serde_json::to_value(&stats).expect("stats serialise"),
        control
    );
    assert_eq!(stats.total, 4);
    assert_eq!(stats.by_kind.get("spaces"), Some(&1));
    assert_eq!(stats.by_kind.get("other"), Some(&1));
    assert_eq!(stats.by_path.get("/api/demo/spaces"), Some(&1));
    assert_eq!(
        (
            stats.by_status.get(&200),
            stats.by_status.get(&404),
            stats.by_status.get(&401)
        ),
        (Some(&2), Some(&1), Some(&1))
    );
    assert_eq!(stats.max_in_window, 3);
    let reset = client()
        .post(format!("{}/_sandbox/reset", sandbox.url()))
        .send()
        .await
        .expect("answer");
    assert_eq!(reset.status(), 200);
    assert_eq!(sandbox.stats().total, 0);
}

#[test]
fn sandbox_thread_serves_plain_tests() {
    let sandbox = SandboxThread::start(SandboxConfig {
        reports: 20,
        ..small()
    })
    .expect("starts");
    let url = sandbox.url();
    let address = url.trim_start_matches("http://");
    let mut stream = std::net::TcpStream::connect(address).expect("connects");
    use std::io::{Read, Write};
    let request =
        format!("GET /_sandbox/truth HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).expect("sends");
    let mut answer = String::new();
    stream.read_to_string(&mut answer).expect("reads");
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer:.80}");
    assert_eq!(sandbox.truth().reports.len(), 20);
}
