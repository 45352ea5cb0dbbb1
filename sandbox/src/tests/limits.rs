//! The rate limiter over HTTP, with each `Retry-After` form.

use std::time::{Duration, SystemTime};

use serde_json::Value;

use super::{get, small, start};
use crate::{RateLimitConfig, RetryAfterForm, SandboxConfig};

fn limited(form: RetryAfterForm) -> SandboxConfig {
    SandboxConfig {
        rate_limit: Some(RateLimitConfig {
            requests: 2,
            window: Duration::from_secs(3),
            retry_after: form,
        }),
        reports: 20,
        ..small()
    }
}

fn header(response: &reqwest::Response, name: &str) -> Option<String> {
    let value = response.headers().get(name)?;
    value.to_str().ok().map(str::to_owned)
}

/// Two accepted requests, then the 429 (returned).
async fn exhaust(form: RetryAfterForm) -> (reqwest::Response, crate::Stats) {
    let sandbox = start(limited(form)).await;
    let first = get(&sandbox, "/api/demo").await;
    assert_eq!(first.status(), 200);
    assert_eq!(header(&first, "x-ratelimit-limit").as_deref(), Some("2"));
    assert_eq!(
        header(&first, "x-ratelimit-remaining").as_deref(),
        Some("1")
    );
    let second = get(&sandbox, "/api/demo/spaces").await;
    assert_eq!(
        header(&second, "x-ratelimit-remaining").as_deref(),
        Some("0")
    );
    let third = get(&sandbox, "/api/demo/spaces").await;
    assert_eq!(third.status(), 429);
    assert_eq!(header(&third, "x-ratelimit-limit").as_deref(), Some("2"));
    assert_eq!(
        header(&third, "x-ratelimit-remaining").as_deref(),
        Some("0")
    );
    (third, sandbox.stats())
}

#[tokio::test]
async fn limited_request_with_seconds() {
    let (response, stats) = exhaust(RetryAfterForm::Seconds).await;
    let seconds: u64 = header(&response, "retry-after")
        .and_then(|v| v.parse().ok())
        .unwrap_or_default();
    assert!((1..=3).contains(&seconds), "{seconds}");
    let body: Value = response.json().await.expect("json");
    assert_eq!(body["id"], "rate_limited");
    assert_eq!(
        (stats.rate_limited, stats.total, stats.max_in_window),
        (1, 3, 2)
    );
}

#[tokio::test]
async fn limited_request_with_http_date() {
    let (response, _) = exhaust(RetryAfterForm::HttpDate).await;
    let value = header(&response, "retry-after").unwrap_or_default();
    let at = httpdate::parse_http_date(&value).expect("an HTTP date");
    let wait = at.duration_since(SystemTime::now()).unwrap_or_default();
    assert!(wait <= Duration::from_secs(4), "{value}");
}

#[tokio::test]
async fn limited_request_without_retry_after() {
    let (response, _) = exhaust(RetryAfterForm::Omitted).await;
    assert_eq!(header(&response, "retry-after"), None);
}

#[tokio::test]
async fn the_window_slides_and_refusals_do_not_count() {
    let mut config = limited(RetryAfterForm::Seconds);
    if let Some(limit) = config.rate_limit.as_mut() {
        limit.window = Duration::from_millis(400);
    }
    let sandbox = start(config).await;
    for _ in 0..2 {
        assert_eq!(get(&sandbox, "/api/demo").await.status(), 200);
    }
    for _ in 0..3 {
        assert_eq!(get(&sandbox, "/api/demo").await.status(), 429);
    }
    tokio::time::sleep(Duration::from_millis(450)).await;
    assert_eq!(get(&sandbox, "/api/demo").await.status(), 200);
    assert_eq!(sandbox.stats().rate_limited, 3);
}
