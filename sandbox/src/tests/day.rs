//! Simulated days: deterministic by seed, counts as planned, the truth equal
//! to what is served, each kind of change as issue 9 describes it.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Value, json};

use super::{client, embedded, get, get_json, small, start};
use crate::{DayLog, DayPlan, Sandbox, SandboxConfig, Truth};

fn token(v: &Value) -> &str {
    v["token"].as_str().unwrap_or_default()
}

fn by_token(items: &[Value]) -> BTreeMap<String, Value> {
    items
        .iter()
        .map(|v| (token(v).to_owned(), v.clone()))
        .collect()
}

#[tokio::test]
async fn same_seed_same_day_other_seed_other_day() {
    let (a, b) = (start(small()).await, start(small()).await);
    let plan = DayPlan::default();
    let (log_a, log_b) = (a.advance_day(&plan), b.advance_day(&plan));
    assert_eq!(log_a, log_b);
    assert_eq!(*a.truth(), *b.truth());
    let second_a = a.advance_day(&plan);
    let second_b = b.advance_day(&DayPlan { seed: 9, ..plan });
    assert_ne!(second_a, log_a, "day 2 is not day 1 again");
    assert_ne!(second_a, second_b);
}

#[tokio::test]
async fn counts_are_as_planned_and_lists_disjoint() {
    let sandbox = start(small()).await;
    let before = sandbox.truth();
    let log = sandbox.advance_day(&DayPlan::default());
    // 210 reports: 1 % → 2 edited, 5 % → 11 runs-only (10.5 rounded).
    let counts = [
        log.edited.len(),
        log.added.len(),
        log.deleted.len(),
        log.moved.len(),
        log.archived.len(),
        log.runs_only.len(),
        log.definitions.len(),
        log.members_added.len(),
        log.members_removed.len(),
    ];
    assert_eq!(counts, [2, 2, 2, 1, 1, 11, 1, 1, 1], "{log:?}");
    let reports = [
        &log.edited,
        &log.added,
        &log.deleted,
        &log.moved,
        &log.archived,
        &log.runs_only,
    ];
    let all: BTreeSet<&String> = reports.iter().flat_map(|l| l.iter()).collect();
    assert_eq!(all.len(), reports.iter().map(|l| l.len()).sum::<usize>());
    for list in reports {
        assert!(list.windows(2).all(|w| w[0] < w[1]), "sorted: {list:?}");
    }
    let after = sandbox.truth();
    assert_eq!(after.reports.len(), before.reports.len());
    assert_eq!(after.memberships.len(), before.memberships.len());
    assert_eq!(after.users.len(), after.memberships.len());
}

/// Every served object equals the truth, walking the API as a client would.
async fn assert_served_is_truth(sandbox: &Sandbox, truth: &Truth) {
    let ws = "demo";
    let spaces = embedded(
        &get_json(sandbox, &format!("/api/{ws}/spaces?filter=all")).await,
        "spaces",
    );
    assert_eq!(spaces, truth.spaces);
    let (mut reports, mut datasets) = (Vec::new(), Vec::new());
    for space in &spaces {
        let base = format!("/api/{ws}/spaces/{}", token(space));
        let listed = get_json(sandbox, &format!("{base}/reports?per_page=1000")).await;
        reports.extend(embedded(&listed, "reports"));
        let listed = get_json(sandbox, &format!("{base}/datasets?per_page=1000")).await;
        datasets.extend(embedded(&listed, "reports"));
    }
    assert_eq!(by_token(&reports), by_token(&truth.reports));
    assert_eq!(by_token(&datasets), by_token(&truth.datasets));
    for report in reports.iter().chain(&datasets) {
        let r = token(report);
        let detail = get_json(sandbox, &format!("/api/{ws}/reports/{r}")).await;
        assert_eq!(Some(&detail), truth.report_details.get(r));
        let queries = get_json(sandbox, &format!("/api/{ws}/reports/{r}/queries")).await;
        let queries = embedded(&queries, "queries");
        assert_eq!(Some(&queries), truth.queries.get(r));
        assert_eq!(report["query_count"], json!(queries.len()), "{r}");
        let mut chart_count = 0;
        for query in &queries {
            let q = token(query);
            let path = format!("/api/{ws}/reports/{r}/queries/{q}/charts");
            let charts = embedded(&get_json(sandbox, &path).await, "charts");
            assert_eq!(Some(&charts), truth.charts.get(q));
            assert!(truth.expected_tables.contains_key(q));
            chart_count += charts.len();
        }
        if report["type"] == "Report" {
            assert_eq!(report["chart_count"], json!(chart_count), "{r}");
        }
    }
    let members = get_json(sandbox, &format!("/api/{ws}/memberships?per_page=1000")).await;
    assert_eq!(embedded(&members, "memberships"), truth.memberships);
    for user in &truth.users {
        let name = user["username"].as_str().unwrap_or_default();
        assert_eq!(&get_json(sandbox, &format!("/api/{name}")).await, user);
    }
    let defs = get_json(sandbox, &format!("/api/{ws}/definitions")).await;
    assert_eq!(embedded(&defs, "definitions"), truth.definitions);
}

#[tokio::test]
async fn truth_follows_and_equals_what_is_served() {
    let sandbox = start(small()).await;
    let before = sandbox.truth();
    let log = sandbox.advance_day(&DayPlan::default());
    let after = sandbox.truth();
    assert_served_is_truth(&sandbox, &after).await;
    assert_deleted(&sandbox, &before, &after, &log).await;
    assert_reports_changed(&before, &after, &log);
    assert_definitions_and_members(&sandbox, &before, &after, &log).await;
    // Chart owners, expected tables and lineage hold no orphan.
    let queries: BTreeSet<&str> = after.queries.values().flatten().map(token).collect();
    assert!(
        after
            .expected_tables
            .keys()
            .all(|q| queries.contains(q.as_str()))
    );
    assert!(after.charts.keys().all(|q| queries.contains(q.as_str())));
    let charts: BTreeSet<&str> = after.charts.values().flatten().map(token).collect();
    assert_eq!(
        charts,
        after.chart_owner.keys().map(String::as_str).collect()
    );
}

async fn assert_deleted(sandbox: &Sandbox, before: &Truth, after: &Truth, log: &DayLog) {
    for r in &log.deleted {
        assert!(after.reports.iter().all(|x| token(x) != r));
        assert!(!after.report_details.contains_key(r) && !after.queries.contains_key(r));
        let mut paths = vec![
            format!("/api/demo/reports/{r}"),
            format!("/api/demo/reports/{r}/queries"),
        ];
        for q in before.queries[r].iter().map(token) {
            paths.push(format!("/api/demo/reports/{r}/queries/{q}/charts"));
            assert!(!after.expected_tables.contains_key(q) && !after.charts.contains_key(q));
        }
        for path in paths {
            assert_eq!(get(sandbox, &path).await.status(), 404, "{path}");
        }
    }
}

fn assert_reports_changed(before: &Truth, after: &Truth, log: &DayLog) {
    let (old, new) = (by_token(&before.reports), by_token(&after.reports));
    let day = |field: &str, v: &Value| v[field].as_str().unwrap_or_default() >= "2026-01-01";
    for r in &log.added {
        assert!(!old.contains_key(r) && new.contains_key(r));
        assert!(day("created_at", &new[r]) && new[r]["archived"] == false);
        assert!(after.report_details.contains_key(r) && after.queries.contains_key(r));
    }
    for r in &log.moved {
        assert_ne!(old[r]["space_token"], new[r]["space_token"]);
        let space = new[r]["space_token"].as_str().unwrap_or_default();
        let href = format!("/api/demo/collections/{space}");
        assert_eq!(new[r]["_links"]["space"]["href"], json!(href));
        assert_eq!(
            after.report_details[r]["space_token"],
            new[r]["space_token"]
        );
    }
    for r in &log.archived {
        assert_eq!(
            (&old[r]["archived"], &new[r]["archived"]),
            (&json!(false), &json!(true))
        );
        assert!(day("edited_at", &new[r]));
    }
    let runs = ["last_run_at", "last_successfully_run_at", "runs_count"];
    for r in &log.runs_only {
        let (mut a, mut b) = (old[r].clone(), new[r].clone());
        for field in runs {
            assert_ne!(a[field], b[field], "{r} {field}");
            a[field] = Value::Null;
            b[field] = Value::Null;
        }
        assert_eq!(a, b, "runs-only report {r} changed beyond its runs");
        assert_eq!(before.queries[r], after.queries[r]);
    }
    for r in &log.edited {
        assert!(day("edited_at", &new[r]) && day("last_saved_at", &new[r]));
        let content = |t: &Truth| {
            let queries = t.queries[r].clone();
            let charts: Vec<Value> = queries
                .iter()
                .map(|q| json!(t.charts.get(token(q))))
                .collect();
            (queries, charts)
        };
        assert_ne!(content(before), content(after), "edited report {r}");
    }
    let changed: BTreeSet<&String> = [
        &log.added,
        &log.moved,
        &log.archived,
        &log.runs_only,
        &log.edited,
    ]
    .into_iter()
    .flatten()
    .collect();
    for (r, report) in &new {
        if !changed.contains(r) {
            assert_eq!(Some(report), old.get(r), "untouched report {r}");
        }
    }
}

async fn assert_definitions_and_members(
    sandbox: &Sandbox,
    before: &Truth,
    after: &Truth,
    log: &DayLog,
) {
    let (old, new) = (by_token(&before.definitions), by_token(&after.definitions));
    for d in &log.definitions {
        assert_ne!(old[d]["source"], new[d]["source"]);
        assert_ne!(old[d]["updated_at"], new[d]["updated_at"]);
    }
    let unchanged_sql: Vec<&String> = after
        .expected_tables
        .keys()
        .filter(|q| before.expected_tables.get(*q) != after.expected_tables.get(*q))
        .collect();
    assert!(
        !unchanged_sql.is_empty(),
        "a rewritten definition changes lineage"
    );
    let names = |t: &Truth| -> BTreeSet<String> {
        t.memberships
            .iter()
            .filter_map(|m| m["member_username"].as_str().map(str::to_owned))
            .collect()
    };
    for name in &log.members_added {
        assert!(!names(before).contains(name) && names(after).contains(name));
        assert_eq!(get(sandbox, &format!("/api/{name}")).await.status(), 200);
    }
    for name in &log.members_removed {
        assert!(names(before).contains(name) && !names(after).contains(name));
        assert!(after.users.iter().all(|u| u["username"] != json!(name)));
        assert_eq!(get(sandbox, &format!("/api/{name}")).await.status(), 404);
    }
    assert_eq!(after.users[0], before.users[0], "the token owner stays");
}

#[tokio::test]
async fn http_control_advances_and_is_not_counted() {
    let sandbox = start(small()).await;
    let response = client()
        .post(format!("{}/_sandbox/advance", sandbox.url()))
        .json(&json!({"seed": 3, "added": 5, "edited_fraction": 0.0}))
        .send()
        .await
        .expect("answered");
    assert_eq!(response.status(), 200);
    let log: DayLog = response.json().await.expect("a DayLog");
    assert_eq!(
        (log.added.len(), log.edited.len(), log.deleted.len()),
        (5, 0, 2)
    );
    assert_eq!(sandbox.stats().total, 0);
    let twin = start(small()).await;
    let plan = DayPlan {
        seed: 3,
        added: 5,
        edited_fraction: 0.0,
        ..DayPlan::default()
    };
    assert_eq!(twin.advance_day(&plan), log);
}

#[tokio::test]
async fn broken_items_survive_days_and_replay_has_none() {
    let sandbox = start(SandboxConfig {
        item_problems: true,
        ..small()
    })
    .await;
    let problems = sandbox.truth().problems.clone();
    let plan = DayPlan {
        edited_fraction: 0.5,
        runs_only_fraction: 0.4,
        ..DayPlan::default()
    };
    for _ in 0..3 {
        let log = sandbox.advance_day(&plan);
        for p in &problems {
            assert!(!log.edited.contains(&p.token) && !log.deleted.contains(&p.token));
        }
    }
    assert_eq!(sandbox.truth().problems, problems);
    let replay = start(SandboxConfig {
        replay_dir: Some(std::path::PathBuf::from(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../fixtures/mode-recorded"
        ))),
        ..SandboxConfig::default()
    })
    .await;
    let before = replay.truth();
    assert_eq!(replay.advance_day(&DayPlan::default()), DayLog::default());
    assert_eq!(replay.truth(), before);
}

#[tokio::test]
async fn heavy_days_stay_consistent_and_use_every_kind_of_edit() {
    let sandbox = start(small()).await;
    let plan = DayPlan {
        edited_fraction: 0.3,
        added: 6,
        moved: 4,
        definitions_rewritten: 3,
        members_added: 3,
        members_removed: 2,
        ..DayPlan::default()
    };
    let (mut queries, mut charts, mut sql_only) = (0, 0, 0);
    for seed in 0..3 {
        let before = sandbox.truth();
        let log = sandbox.advance_day(&DayPlan {
            seed,
            ..plan.clone()
        });
        let after = sandbox.truth();
        let (old, new) = (by_token(&before.reports), by_token(&after.reports));
        for r in &log.edited {
            if old[r]["query_count"] != new[r]["query_count"] {
                queries += 1;
            } else if old[r]["chart_count"] != new[r]["chart_count"] {
                charts += 1;
            } else {
                sql_only += 1;
            }
        }
    }
    assert!(
        queries > 0 && charts > 0 && sql_only > 0,
        "{queries} {charts} {sql_only}"
    );
    assert_served_is_truth(&sandbox, &sandbox.truth()).await;
}
