//! The hostile mode: a request to each kind's target gets the broken answer,
//! other requests stay faithful.

use base64::Engine;
use futures::StreamExt;
use serde_json::{Value, json};

use super::{embedded, get, get_json, small, start};
use crate::hostile::{HUGE_CONTENT_LENGTH, SHORT_TOTAL_MISSING, target_space};
use crate::{Hostile, HostileScope, Sandbox, SandboxConfig};

async fn hostile(kind: Hostile) -> (Sandbox, String) {
    let sandbox = start(SandboxConfig {
        hostile: Some(kind),
        ..small()
    })
    .await;
    let truth = sandbox.truth();
    let space = target_space(&truth).unwrap_or_default().to_owned();
    assert!(truth.reports_in(&space).len() > 100);
    (sandbox, format!("/api/demo/spaces/{space}/reports"))
}

/// Another collection's listing, answered faithfully.
async fn assert_others_faithful(sandbox: &Sandbox, target: &str) {
    let truth = sandbox.truth();
    let other = truth
        .spaces
        .iter()
        .filter_map(|s| s["token"].as_str())
        .find(|t| !target.contains(*t) && !truth.reports_in(t).is_empty())
        .unwrap_or_default();
    let body = get_json(sandbox, &format!("/api/demo/spaces/{other}/reports")).await;
    assert!(body["_embedded"]["reports"].is_array());
    assert_eq!(get(sandbox, "/api/demo/spaces").await.status(), 200);
}

#[tokio::test]
async fn wrong_shapes_on_every_page_of_the_target() {
    let (sandbox, target) = hostile(Hostile::EmbeddedNull).await;
    for page in [1, 2] {
        let body = get_json(&sandbox, &format!("{target}?page={page}")).await;
        assert_eq!(body["_embedded"], Value::Null);
    }
    assert_others_faithful(&sandbox, &target).await;
    let (sandbox, target) = hostile(Hostile::EmbeddedObject).await;
    let body = get_json(&sandbox, &target).await;
    let object = body["_embedded"]["reports"]
        .as_object()
        .cloned()
        .unwrap_or_default();
    assert_eq!(object.len(), 30);
    let (sandbox, target) = hostile(Hostile::BareArray).await;
    let body = get_json(&sandbox, &target).await;
    assert_eq!(body.as_array().map(Vec::len), Some(30));
}

#[tokio::test]
async fn later_pages_fail_and_repeat() {
    for (kind, status) in [(Hostile::LaterPage403, 403), (Hostile::LaterPage404, 404)] {
        let (sandbox, target) = hostile(kind).await;
        let first = get_json(&sandbox, &target).await;
        assert_eq!(embedded(&first, "reports").len(), 30);
        for page in [2, 3] {
            let later = get(&sandbox, &format!("{target}?page={page}")).await;
            assert_eq!(later.status(), status, "{kind:?} page {page}");
        }
        assert_others_faithful(&sandbox, &target).await;
    }
    let (sandbox, target) = hostile(Hostile::RepeatPage).await;
    let first = get_json(&sandbox, &target).await;
    assert_eq!(embedded(&first, "reports").len(), 30);
    assert_eq!(get_json(&sandbox, &format!("{target}?page=2")).await, first);
    assert_eq!(get_json(&sandbox, &format!("{target}?page=9")).await, first);
}

#[tokio::test]
async fn endless_pages_bring_new_items_forever() {
    let (sandbox, target) = hostile(Hostile::EndlessPages).await;
    let mut tokens = std::collections::HashSet::new();
    for page in [1, 2, 5000, 4_000_000] {
        let body = get_json(&sandbox, &format!("{target}?page={page}&per_page=100")).await;
        let items = embedded(&body, "reports");
        assert_eq!(items.len(), 100, "page {page}");
        for item in &items {
            assert!(tokens.insert(item["token"].as_str().unwrap_or_default().to_owned()));
            assert_eq!(item["type"], "Report");
        }
    }
}

#[tokio::test]
async fn short_total_claims_more_than_is_served() {
    let (sandbox, target) = hostile(Hostile::ShortTotal).await;
    let served = sandbox
        .truth()
        .reports_in(target.split('/').nth(4).unwrap_or_default())
        .len();
    let mut seen = 0;
    for page in 1.. {
        let body = get_json(&sandbox, &format!("{target}?page={page}")).await;
        assert_eq!(
            body["pagination"]["total_count"],
            json!(served + SHORT_TOTAL_MISSING)
        );
        let items = embedded(&body, "reports");
        if items.is_empty() {
            break;
        }
        seen += items.len();
    }
    assert_eq!(seen, served);
}

#[tokio::test]
async fn huge_content_length_then_close() {
    let (sandbox, target) = hostile(Hostile::HugeContentLength).await;
    let response = get(&sandbox, &target).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.content_length(), Some(HUGE_CONTENT_LENGTH));
    let mut stream = response.bytes_stream();
    let mut received = 0;
    let mut failed = false;
    while let Some(chunk) = stream.next().await {
        match chunk {
            Ok(bytes) => received += bytes.len(),
            Err(_) => {
                failed = true;
                break;
            }
        }
    }
    assert!(failed, "the body ends short of its length");
    assert!(received > 1000 && received < 1_000_000, "{received}");
}

/// Reads `limit` bytes of an endless body (it must not end before).
async fn read_endless(response: reqwest::Response, limit: usize) -> usize {
    let mut stream = response.bytes_stream();
    let mut received = 0;
    while received < limit {
        match stream.next().await {
            Some(Ok(bytes)) => received += bytes.len(),
            other => panic!("endless body ended after {received} bytes: {other:?}"),
        }
    }
    received
}

#[tokio::test]
async fn endless_bodies_chunked_and_until_close() {
    let (sandbox, target) = hostile(Hostile::EndlessChunked).await;
    let response = get(&sandbox, &target).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.content_length(), None);
    let encoding = response.headers().get("transfer-encoding").cloned();
    assert_eq!(
        encoding.as_ref().and_then(|v| v.to_str().ok()),
        Some("chunked")
    );
    assert!(read_endless(response, 8 << 20).await >= 8 << 20);
    let (sandbox, target) = hostile(Hostile::EndlessUntilClose).await;
    let response = get(&sandbox, &target).await;
    assert_eq!(response.version(), reqwest::Version::HTTP_10);
    assert_eq!(response.content_length(), None);
    assert!(response.headers().get("transfer-encoding").is_none());
    assert!(read_endless(response, 8 << 20).await >= 8 << 20);
    // The sandbox still answers others while (and after) streaming.
    assert_others_faithful(&sandbox, &target).await;
}

#[tokio::test]
async fn retry_after_beyond_any_cap() {
    let kinds = [
        (Hostile::RetryAfterHuge, "100000"),
        (Hostile::RetryAfterOverflow, "9300000000000000000"),
    ];
    for (kind, value) in kinds {
        let (sandbox, target) = hostile(kind).await;
        let response = get(&sandbox, &target).await;
        assert_eq!(response.status(), 429);
        let header = response.headers().get("retry-after").cloned();
        assert_eq!(header.as_ref().and_then(|v| v.to_str().ok()), Some(value));
        let body: Value = response.json().await.expect("json");
        assert_eq!(body["id"], "rate_limited");
        assert_others_faithful(&sandbox, &target).await;
    }
}

#[tokio::test]
async fn echo_credentials_in_every_error_body() {
    let (sandbox, target) = hostile(Hostile::EchoCredentials).await;
    let basic = base64::engine::general_purpose::STANDARD.encode("sandbox-token:sandbox-secret");
    let response = get(&sandbox, &target).await;
    assert_eq!(response.status(), 400);
    let body: Value = response.json().await.expect("json");
    let message = body["message"].as_str().unwrap_or_default();
    assert!(message.contains(&format!("Basic {basic}")), "{message}");
    let missing = get(&sandbox, "/api/demo/reports/000000000000").await;
    assert_eq!(missing.status(), 404);
    let body: Value = missing.json().await.expect("json");
    assert!(
        body["message"]
            .as_str()
            .unwrap_or_default()
            .contains(&basic)
    );
    let wrong = super::client()
        .get(format!("{}/api/demo", sandbox.url()))
        .basic_auth("sandbox-token", Some("guess"))
        .send()
        .await
        .expect("answered");
    assert_eq!(wrong.status(), 401);
    let echoed = base64::engine::general_purpose::STANDARD.encode("sandbox-token:guess");
    let body: Value = wrong.json().await.expect("json");
    assert!(
        body["message"]
            .as_str()
            .unwrap_or_default()
            .contains(&echoed)
    );
    assert_eq!(get(&sandbox, "/api/demo").await.status(), 200);
}

#[tokio::test]
async fn workspace_scope_breaks_the_collections_list() {
    let sandbox = start(SandboxConfig {
        hostile: Some(Hostile::EmbeddedNull),
        hostile_scope: HostileScope::Workspace,
        ..small()
    })
    .await;
    let body = get_json(&sandbox, "/api/demo/spaces?filter=all").await;
    assert_eq!(body["_embedded"], Value::Null);
    let truth = sandbox.truth();
    let space = target_space(&truth).unwrap_or_default();
    let reports = get_json(&sandbox, &format!("/api/demo/spaces/{space}/reports")).await;
    assert_eq!(embedded(&reports, "reports").len(), 30);
    let later = start(SandboxConfig {
        hostile: Some(Hostile::LaterPage403),
        hostile_scope: HostileScope::Workspace,
        collections: 8,
        ..small()
    })
    .await;
    assert_eq!(
        get(&later, "/api/demo/spaces?filter=all&per_page=3")
            .await
            .status(),
        200
    );
    let page2 = get(&later, "/api/demo/spaces?filter=all&per_page=3&page=2").await;
    assert_eq!(page2.status(), 403);
}
