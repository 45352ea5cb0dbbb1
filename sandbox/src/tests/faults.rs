//! Each Mode-side fault kind as a real client sees it.

use std::time::Duration;

use super::{client, get, small, start};
use crate::{FaultConfig, FaultKind, SandboxConfig};

fn scripted(script: Vec<Option<FaultKind>>) -> SandboxConfig {
    SandboxConfig {
        mode_faults: FaultConfig {
            stall: Duration::from_secs(5),
            ..FaultConfig::scripted(script)
        },
        reports: 20,
        ..small()
    }
}

#[tokio::test]
async fn status_faults_answer_then_clear() {
    let sandbox = start(scripted(vec![
        Some(FaultKind::Status(503)),
        None,
        Some(FaultKind::Status(429)),
    ]))
    .await;
    let first = get(&sandbox, "/api/demo").await;
    assert_eq!(first.status(), 503);
    assert_eq!(get(&sandbox, "/api/demo").await.status(), 200);
    let third = get(&sandbox, "/api/demo").await;
    assert_eq!(third.status(), 429);
    assert_eq!(
        third
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok()),
        Some("1")
    );
    assert_eq!(get(&sandbox, "/api/demo").await.status(), 200);
    let stats = sandbox.stats();
    assert_eq!((stats.faults_injected, stats.rate_limited), (2, 0));
}

#[tokio::test]
async fn a_stall_outlasts_a_short_client_timeout() {
    let sandbox = start(scripted(vec![Some(FaultKind::Stall)])).await;
    let impatient = reqwest::Client::builder()
        .timeout(Duration::from_millis(300))
        .build()
        .expect("client");
    let result = impatient
        .get(format!("{}/api/demo", sandbox.url()))
        .basic_auth("sandbox-token", Some("sandbox-secret"))
        .send()
        .await;
    assert!(
        result.as_ref().is_err_and(reqwest::Error::is_timeout),
        "{result:?}"
    );
    assert_eq!(get(&sandbox, "/api/demo").await.status(), 200);
}

#[tokio::test]
async fn drop_mid_body_cuts_the_body_short() {
    let sandbox = start(scripted(vec![Some(FaultKind::DropMidBody)])).await;
    let response = get(&sandbox, "/api/demo/spaces?filter=all").await;
    assert_eq!(response.status(), 200);
    let announced = response.content_length().unwrap_or_default();
    assert!(announced > 100);
    let body = response.bytes().await;
    assert!(body.is_err(), "body of {announced} bytes arrived whole");
    let whole = get(&sandbox, "/api/demo/spaces?filter=all").await;
    assert_eq!(
        whole.bytes().await.map(|b| b.len() as u64).ok(),
        Some(announced)
    );
}

#[tokio::test]
async fn random_faults_repeat_with_the_seed_and_skip_control_calls() {
    let faults = FaultConfig {
        rate: 0.4,
        kinds: vec![FaultKind::Status(500), FaultKind::Status(502)],
        seed: 11,
        ..FaultConfig::default()
    };
    let mut runs = Vec::new();
    for _ in 0..2 {
        let sandbox = start(SandboxConfig {
            mode_faults: faults.clone(),
            ..scripted(vec![])
        })
        .await;
        let mut statuses = Vec::new();
        for _ in 0..30 {
            statuses.push(get(&sandbox, "/api/demo").await.status().as_u16());
            let control = client()
                .get(format!("{}/_sandbox/stats", sandbox.url()))
                .send()
                .await;
            assert_eq!(control.map(|r| r.status().as_u16()).ok(), Some(200));
        }
        let injected = statuses.iter().filter(|&&s| s != 200).count() as u64;
        assert_eq!(sandbox.stats().faults_injected, injected);
        runs.push(statuses);
    }
    assert_eq!(runs[0], runs[1]);
    let faulted = runs[0].iter().filter(|&&s| s != 200).count();
    assert!((3..=22).contains(&faulted), "{faulted} of 30");
}

#[tokio::test]
async fn faults_can_be_changed_at_runtime() {
    let sandbox = start(scripted(vec![])).await;
    assert_eq!(get(&sandbox, "/api/demo").await.status(), 200);
    sandbox.set_mode_faults(FaultConfig::scripted(vec![Some(FaultKind::Status(504))]));
    assert_eq!(get(&sandbox, "/api/demo").await.status(), 504);
    assert_eq!(get(&sandbox, "/api/demo").await.status(), 200);
}

#[tokio::test]
async fn latency_delays_answers() {
    let config = SandboxConfig {
        latency: Duration::from_millis(150),
        ..scripted(vec![])
    };
    let sandbox = start(config).await;
    let started = std::time::Instant::now();
    assert_eq!(get(&sandbox, "/api/demo").await.status(), 200);
    assert!(started.elapsed() >= Duration::from_millis(150));
}
