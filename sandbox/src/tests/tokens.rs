//! Token kinds (issue 7 §1) and Mode's optional pagination metadata (§2).

use serde_json::{Value, json};

use super::{embedded, get, get_json, small, start};
use crate::{SandboxConfig, TokenKind};

#[tokio::test]
async fn workspace_token_gets_modes_400_on_account_and_the_workspace_object() {
    let sandbox = start(small()).await;
    assert_eq!(sandbox.stats().total, 0);
    let account = get(&sandbox, "/api/account").await;
    assert_eq!(account.status(), 400);
    let content_type = account.headers().get("content-type").cloned();
    assert_eq!(
        content_type.as_ref().and_then(|v| v.to_str().ok()),
        Some("application/hal+json")
    );
    let body: Value = account.json().await.expect("json");
    assert_eq!(
        body,
        json!({"id": "bad_request", "message": "This endpoint is unsupported for use with Api Keys"})
    );
    let workspace = get_json(&sandbox, "/api/demo").await;
    assert_eq!(workspace, sandbox.truth().workspace);
    assert_eq!(workspace["username"], "demo");
    assert_eq!(
        workspace["space_count"],
        json!(sandbox.truth().spaces.len())
    );
    assert_eq!(
        workspace["data_source_count"],
        json!(sandbox.truth().data_sources.len())
    );
    for field in ["plan_code", "scim_enabled", "thoughtspot_integrated"] {
        assert!(workspace.get(field).is_some(), "{field}");
    }
    // Everything else answers as before.
    assert_eq!(get(&sandbox, "/api/demo/spaces").await.status(), 200);
}

#[tokio::test]
async fn member_token_gets_its_member_on_account() {
    let sandbox = start(SandboxConfig {
        token_kind: TokenKind::Member,
        ..small()
    })
    .await;
    let truth = sandbox.truth();
    assert_eq!(get_json(&sandbox, "/api/account").await, truth.users[0]);
    assert_eq!(get_json(&sandbox, "/api/demo").await, truth.workspace);
    let owner = truth.memberships[0]["admin"].clone();
    assert_eq!(owner, json!(true), "the member token's owner is an admin");
}

#[tokio::test]
async fn pagination_links_are_off_by_default() {
    let sandbox = start(small()).await;
    let body = get_json(&sandbox, "/api/demo/memberships").await;
    assert!(body.get("pagination").is_none());
    assert!(body["_links"].get("next_page").is_none());
}

#[tokio::test]
async fn pagination_links_are_correct_on_every_page() {
    let sandbox = start(SandboxConfig {
        pagination_links: true,
        ..small()
    })
    .await;
    let truth = sandbox.truth();
    let total = truth.memberships.len(); // 210 / 9 + 1 = 24
    let per_page = 10;
    let pages = total.div_ceil(per_page);
    let mut seen = Vec::new();
    let mut path = format!("/api/demo/memberships?per_page={per_page}");
    for page in 1..=pages {
        let body = get_json(&sandbox, &path).await;
        let expected = json!({"first_page": 1, "last_page": pages, "total_pages": pages, "total_count": total});
        assert_eq!(body["pagination"], expected, "page {page}");
        seen.extend(embedded(&body, "memberships"));
        let prev = body["_links"]["prev_page"]["href"]
            .as_str()
            .map(str::to_owned);
        match page {
            1 => assert_eq!(prev, None),
            _ => assert_eq!(
                prev.as_deref(),
                Some(
                    format!(
                        "/api/demo/memberships?page={}&per_page={per_page}",
                        page - 1
                    )
                    .as_str()
                )
            ),
        }
        match body["_links"]["next_page"]["href"].as_str() {
            Some(next) => {
                assert!(page < pages);
                path = next.to_owned();
            }
            None => assert_eq!(page, pages),
        }
    }
    assert_eq!(seen, truth.memberships);
    // Other parameters are kept; the datasets listing links to itself.
    let space = truth.datasets[0]["space_token"]
        .as_str()
        .unwrap_or_default();
    let body = get_json(
        &sandbox,
        &format!("/api/demo/spaces/{space}/datasets?per_page=1"),
    )
    .await;
    let count = truth.datasets_in(space).len();
    assert_eq!(body["pagination"]["total_count"], json!(count));
    if count > 1 {
        let next = format!("/api/demo/spaces/{space}/datasets?page=2&per_page=1");
        assert_eq!(body["_links"]["next_page"]["href"], json!(next));
    }
    let spaces = get_json(&sandbox, "/api/demo/spaces?filter=all&per_page=5").await;
    let next = "/api/demo/spaces?filter=all&page=2&per_page=5";
    assert_eq!(spaces["_links"]["next_page"]["href"], json!(next));
    // Non-paged lists stay as they are; an empty list has one empty page.
    let sources = get_json(&sandbox, "/api/demo/data_sources").await;
    assert!(sources.get("pagination").is_none());
    let empty = truth.spaces[1]["token"].as_str().unwrap_or_default();
    let body = get_json(&sandbox, &format!("/api/demo/spaces/{empty}/reports")).await;
    let one = json!({"first_page": 1, "last_page": 1, "total_pages": 1, "total_count": 0});
    assert_eq!(body["pagination"], one);
    assert!(body["_links"].get("next_page").is_none());
}
