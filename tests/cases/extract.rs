//! extract-mode end to end: every item of the sandbox's truth arrives, field
//! for field, with castor's keys; recorded responses replay; paging; filters.

use std::collections::{BTreeMap, BTreeSet};

use mode_sandbox::{SandboxConfig, SandboxThread, Truth};
use serde_json::Value;

use crate::support::*;

// castor-compat.md, written out here on purpose: a change in the library's
// constants must not silently change the contract the tests check.
const DATASOURCE: [&str; 13] = [
    "id",
    "token",
    "name",
    "host",
    "display_name",
    "description",
    "database",
    "provider",
    "vendor",
    "adapter",
    "created_at",
    "public",
    "queryable",
];
const COLLECTION: [&str; 8] = [
    "id",
    "token",
    "space_type",
    "name",
    "description",
    "state",
    "default_access_level",
    "creator",
];
const REPORT: [&str; 17] = [
    "id",
    "token",
    "name",
    "description",
    "type",
    "archived",
    "space_token",
    "public",
    "created_at",
    "updated_at",
    "published_at",
    "edited_at",
    "is_embedded",
    "query_count",
    "chart_count",
    "view_count",
    "creator",
];
const QUERY: [&str; 6] = [
    "id",
    "token",
    "name",
    "data_source_id",
    "raw_query",
    "report_token",
];
const MEMBER: [&str; 6] = ["id", "token", "username", "name", "email", "created_at"];

fn keys(row: &Value) -> Vec<&str> {
    row.as_object()
        .expect("row is an object")
        .keys()
        .map(String::as_str)
        .collect()
}

/// castor's keys come first, in castor's order.
fn assert_castor_prefix(row: &Value, castor: &[&str]) {
    let keys = keys(row);
    assert!(keys.len() >= castor.len(), "{keys:?}");
    assert_eq!(&keys[..castor.len()], castor, "castor keys in order");
}

/// Each castor key of `row` equals the API object's value (creator from its link).
fn assert_fields(row: &Value, api: &Value, castor: &[&str]) {
    for key in castor {
        let expected = match *key {
            "creator" => creator_of(api),
            _ => api.get(*key).cloned().unwrap_or(Value::Null),
        };
        assert_eq!(row[*key], expected, "field {key} of {}", api["token"]);
    }
}

#[test]
fn a_400_report_workspace_arrives_complete_with_castor_keys() {
    let sb = sandbox(SandboxConfig {
        collections: 12,
        reports: 400,
        seed: 11,
        ..SandboxConfig::default()
    });
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let output = extract(&sb, &out, &[]);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    assert!(output.stdout.is_empty(), "stdout stays clean");
    let run = read_run(&out);
    let truth = sb.truth();

    let sources = run.by_token("datasource");
    assert_eq!(sources.len(), truth.data_sources.len());
    for ds in &truth.data_sources {
        let row = &sources[ds["token"].as_str().unwrap()];
        assert_eq!(keys(row), DATASOURCE);
        assert_fields(row, ds, &DATASOURCE);
    }

    let collections = run.by_token("collection");
    assert_eq!(
        collections.len(),
        truth.spaces.len(),
        "personal collections included"
    );
    assert!(truth.spaces.iter().any(|s| s["space_type"] == "private"));
    for space in &truth.spaces {
        let row = &collections[space["token"].as_str().unwrap()];
        assert_eq!(keys(row), COLLECTION);
        assert_fields(row, space, &COLLECTION);
    }

    let reports = run.by_token("report");
    assert_eq!(reports.len(), truth.reports.len());
    assert!(truth.reports.len() >= 400);
    for report in &truth.reports {
        let row = &reports[report["token"].as_str().unwrap()];
        assert_castor_prefix(row, &REPORT);
        assert_fields(row, report, &REPORT);
        for extra in [
            "last_run_at",
            "last_saved_at",
            "runs_count",
            "account_username",
        ] {
            assert_eq!(
                row[extra],
                report.get(extra).cloned().unwrap_or(Value::Null)
            );
        }
    }

    let queries = run.by_token("query");
    let expected: usize = truth
        .reports
        .iter()
        .map(|r| {
            truth
                .queries
                .get(r["token"].as_str().unwrap())
                .map_or(0, Vec::len)
        })
        .sum();
    assert_eq!(queries.len(), expected, "every query of every report");
    for report in &truth.reports {
        let token = report["token"].as_str().unwrap();
        for query in truth.queries.get(token).into_iter().flatten() {
            let row = &queries[query["token"].as_str().unwrap()];
            assert_eq!(keys(row), QUERY);
            assert_fields(row, query, &QUERY[..5]);
            assert_eq!(row["report_token"], token);
        }
    }

    let members = run.rows("member");
    assert_eq!(members.len(), truth.memberships.len());
    let users: BTreeMap<&str, &Value> = truth
        .users
        .iter()
        .map(|u| (u["username"].as_str().unwrap(), u))
        .collect();
    for row in members {
        assert_eq!(keys(row), MEMBER);
        let user = users[row["username"].as_str().unwrap()];
        assert_fields(row, user, &MEMBER);
    }

    assert_charts_datasets_definitions(&run, &truth);
    assert_lineage(&run, &truth);
    let summary = &run.summary;
    assert_eq!(summary["client_name"], "ModeAnalytics/API");
    assert_eq!(summary["counts"]["report"], truth.reports.len());
    assert_eq!(
        summary["api_calls"],
        sb.stats().total,
        "the summary counts every call"
    );
    assert_eq!(summary["rate_limited"], 0);
}

fn assert_charts_datasets_definitions(run: &RunFiles, truth: &mode_sandbox::Truth) {
    let report_queries: BTreeSet<&str> = truth
        .reports
        .iter()
        .flat_map(|r| {
            truth
                .queries
                .get(r["token"].as_str().unwrap())
                .into_iter()
                .flatten()
        })
        .map(|q| q["token"].as_str().unwrap())
        .collect();
    let expected: BTreeSet<&str> = report_queries
        .iter()
        .flat_map(|q| truth.charts.get(*q).into_iter().flatten())
        .map(|c| c["token"].as_str().unwrap())
        .collect();
    let charts = run.by_token("chart");
    assert_eq!(
        charts.keys().map(String::as_str).collect::<BTreeSet<_>>(),
        expected
    );
    assert!(
        charts
            .values()
            .all(|c| !c["title"].is_null() && !c["chart_type"].is_null())
    );

    let datasets = run.by_token("dataset");
    assert_eq!(datasets.len(), truth.datasets.len());
    for dataset in &truth.datasets {
        let token = dataset["token"].as_str().unwrap();
        let row = &datasets[token];
        assert_castor_prefix(row, &REPORT);
        let n = truth.queries.get(token).map_or(0, Vec::len);
        assert_eq!(
            row["queries"].as_array().unwrap().len(),
            n,
            "dataset {token} queries"
        );
        let importers: BTreeSet<String> = truth
            .report_details
            .iter()
            .filter(|(_, d)| {
                d["imported_datasets"]
                    .as_array()
                    .is_some_and(|l| l.iter().any(|i| i["token"] == token))
            })
            .map(|(t, _)| t.clone())
            .collect();
        let got: BTreeSet<String> = row["imported_by"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap().to_owned())
            .collect();
        assert_eq!(got, importers, "reports importing dataset {token}");
    }
    assert!(
        datasets
            .values()
            .any(|d| !d["imported_by"].as_array().unwrap().is_empty())
    );

    let definitions = run.by_token("definition");
    assert_eq!(definitions.len(), truth.definitions.len());
    for def in &truth.definitions {
        let row = &definitions[def["token"].as_str().unwrap()];
        assert_eq!(row["source"], def["source"]);
        assert_eq!(row["creator"], creator_of(def));
    }
}

/// Every query of every report and dataset has a lineage row, and the tables
/// found match the sandbox's expected tables for at least 95 % of them.
fn assert_lineage(run: &RunFiles, truth: &mode_sandbox::Truth) {
    let rows = run.rows("lineage");
    let expected_rows = truth.reports.iter().chain(&truth.datasets).map(|r| {
        truth
            .queries
            .get(r["token"].as_str().unwrap())
            .map_or(0, Vec::len)
    });
    assert_eq!(rows.len(), expected_rows.sum::<usize>());
    let mut exact = 0;
    let mut misses = Vec::new();
    for row in rows {
        let query = row["query_token"].as_str().unwrap();
        let got: BTreeSet<String> = row["tables"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["name"].as_str().unwrap().to_owned())
            .collect();
        let want: BTreeSet<String> = truth.expected_tables[query].iter().cloned().collect();
        if got == want {
            exact += 1;
        } else {
            misses.push(format!(
                "{query}: want {want:?} got {got:?} ({})",
                row["method"]
            ));
        }
    }
    let accuracy = exact as f64 / rows.len() as f64;
    println!(
        "sandbox lineage: {exact}/{} exact ({:.1}%)",
        rows.len(),
        accuracy * 100.0
    );
    assert!(
        accuracy >= 0.95,
        "{:.3}: {:#?}",
        accuracy,
        &misses[..misses.len().min(10)]
    );
}

#[test]
fn recorded_responses_replay_into_castor_files() {
    let sb = sandbox(SandboxConfig {
        replay_dir: Some(recorded_dir()),
        ..SandboxConfig::default()
    });
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let output = extract(&sb, &out, &["--include-collection", "^AcrylTest$"]);
    // The recording itself has one item problem: the dataset's query names data
    // source 44763, which is not among the recorded data sources.
    assert_eq!(code(&output), 3, "{}", stderr(&output));
    let run = read_run(&out);
    let problems = run.summary["item_errors"].as_array().unwrap();
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert_eq!(problems[0]["kind"], "unknown_data_source");
    assert_eq!(problems[0]["token"], "9b2f34343531");
    let recorded = |name: &str| read_json(&recorded_dir().join(name));

    let report = &recorded("reports_75737b70402e.json")["_embedded"]["reports"][0];
    let reports = run.rows("report");
    assert_eq!(reports.len(), 1);
    assert_castor_prefix(&reports[0], &REPORT);
    assert_fields(&reports[0], report, &REPORT);
    assert_eq!(reports[0]["creator"], "modeuser");
    assert_eq!(reports[0]["creator_email"], "modeuser@example.com");

    let query = &recorded("queries.json")["_embedded"]["queries"][0];
    let queries = run.rows("query");
    assert_eq!(queries.len(), 1);
    assert_fields(&queries[0], query, &QUERY[..5]);
    assert_eq!(queries[0]["report_token"], "9d2da37fa91e");

    let ds = &recorded("data_sources.json")["_embedded"]["data_sources"][0];
    assert_fields(&run.rows("datasource")[0], ds, &DATASOURCE);

    let chart = &run.rows("chart")[0];
    assert_eq!(chart["title"], "Customer Staff Table");
    assert_eq!(chart["chart_type"], "table");

    let dataset = &run.rows("dataset")[0];
    assert_eq!(dataset["token"], "24f66e1701b6");
    assert_eq!(dataset["imported_by"], serde_json::json!(["9d2da37fa91e"]));
    assert_eq!(dataset["queries"].as_array().unwrap().len(), 1);

    assert_eq!(run.rows("definition").len(), 2);
    let truth = sb.truth();
    for row in run.rows("lineage") {
        let query = row["query_token"].as_str().unwrap();
        let names: Vec<&str> = row["tables"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["name"].as_str().unwrap())
            .collect();
        assert_eq!(
            names, truth.expected_tables[query],
            "lineage of recorded query {query}"
        );
    }
    // the recorded query reads `rental` through two nested definitions
    let lineage = &run.rows("lineage")[0];
    assert_eq!(lineage["method"], "parsed_after_templating");
    assert_eq!(lineage["definitions"].as_array().unwrap().len(), 2);
    assert_eq!(run.rows("member")[0]["email"], "modeuser@example.com");
    let collections = run.rows("collection");
    assert_eq!(collections.len(), 1, "filtered to AcrylTest");
}

/// How Mode serves `per_page`: honoured up to 1000, ignored (30 a page),
/// clamped to 50, or refused past 50 (HTTP 400).
#[derive(Debug, Clone, Copy, PartialEq)]
enum PerPage {
    Honoured,
    Ignored,
    Clamped,
    Refused,
}

fn paging_sandbox(per_page: PerPage) -> SandboxThread {
    sandbox(SandboxConfig {
        collections: 5,
        reports: 230,
        seed: 5,
        per_page_honoured: per_page != PerPage::Ignored,
        max_per_page: if matches!(per_page, PerPage::Clamped | PerPage::Refused) {
            50
        } else {
            1000
        },
        refuse_large_per_page: per_page == PerPage::Refused,
        ..SandboxConfig::default()
    })
}

/// Reports per collection of the sandbox's truth.
fn reports_per_collection(truth: &Truth) -> Vec<usize> {
    truth
        .spaces
        .iter()
        .map(|s| {
            truth
                .reports
                .iter()
                .filter(|r| r["space_token"] == s["token"])
                .count()
        })
        .collect()
}

#[test]
fn paging_is_complete_however_the_server_serves_per_page() {
    for per_page in [
        PerPage::Honoured,
        PerPage::Ignored,
        PerPage::Clamped,
        PerPage::Refused,
    ] {
        let sb = paging_sandbox(per_page);
        let truth = sb.truth();
        let sizes = reports_per_collection(&truth);
        assert!(
            sizes.iter().any(|n| *n > 100) && sizes.iter().any(|n| (30..50).contains(n)),
            "a collection over 100 reports and one between 30 and 50: {sizes:?}"
        );
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out");
        let output = extract(&sb, &out, &["--assets", "report"]);
        assert_eq!(code(&output), 0, "{}", stderr(&output));
        let got: BTreeSet<String> = read_run(&out).by_token("report").into_keys().collect();
        let want: BTreeSet<String> = truth
            .reports
            .iter()
            .map(|r| r["token"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(got, want, "{per_page:?}");
        // said once per kind of list, not once per collection
        let refusals = stderr(&output)
            .matches("Mode refused per_page=100 on reports lists")
            .count();
        let expected = if per_page == PerPage::Refused { 1 } else { 0 };
        assert_eq!(refusals, expected, "{per_page:?}: {}", stderr(&output));
    }
}

#[test]
fn a_short_page_shorter_than_another_collections_costs_no_call() {
    let sb = paging_sandbox(PerPage::Honoured);
    let sizes = reports_per_collection(&sb.truth());
    let dir = tempfile::tempdir().unwrap();
    let output = extract(&sb, &dir.path().join("out"), &["--assets", "report"]);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    // 100 per page: a collection's pages, its last one short (an empty one
    // when it is a multiple of 100). A collection over 100 reports served a
    // page of 100, so every shorter page is known to be the last.
    let pages: u64 = sizes.iter().map(|n| (n / 100 + 1) as u64).sum();
    assert_eq!(sb.stats().by_kind["reports"], pages, "{sizes:?}");

    // Ignored: a page of 30 may be full, so the next page is asked.
    let sb = paging_sandbox(PerPage::Ignored);
    let sizes = reports_per_collection(&sb.truth());
    let output = extract(&sb, &dir.path().join("ignored"), &["--assets", "report"]);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let pages: u64 = sizes.iter().map(|n| (n / 30 + 1) as u64).sum();
    assert_eq!(sb.stats().by_kind["reports"], pages, "{sizes:?}");
}

#[test]
fn filters_exclude_without_fetching_below() {
    let sb = sandbox(small_config());
    let truth = sb.truth();
    let personal = truth
        .spaces
        .iter()
        .find(|s| s["space_type"] == "private")
        .expect("a personal collection");
    let archived: Vec<&Value> = truth
        .reports
        .iter()
        .filter(|r| r["archived"] == true)
        .collect();
    assert!(!archived.is_empty(), "the workspace has archived reports");
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let output = extract(&sb, &out, &["--exclude-personal", "--exclude-archived"]);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let run = read_run(&out);
    let stats = sb.stats();
    let hit = |needle: &str| stats.by_path.keys().any(|p| p.contains(needle));
    let personal_token = personal["token"].as_str().unwrap();
    assert!(
        !hit(&format!("/spaces/{personal_token}/")),
        "personal collection never listed"
    );
    for report in &archived {
        let token = report["token"].as_str().unwrap();
        assert!(
            !hit(&format!("/reports/{token}")),
            "archived report {token} never fetched"
        );
        assert!(!run.by_token("report").contains_key(token));
    }
    assert!(!run.by_token("collection").contains_key(personal_token));
    assert_eq!(run.summary["filters"]["filters"]["exclude_archived"], true);
}

#[test]
fn assets_not_selected_are_not_fetched_and_logs_can_be_json() {
    let sb = sandbox(small_config());
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let output = extract(
        &sb,
        &out,
        &["--assets", "collection,member", "--log-format", "json"],
    );
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let stats = sb.stats();
    for kind in [
        "reports",
        "datasets",
        "queries",
        "charts",
        "report",
        "definitions",
        "data_sources",
    ] {
        assert_eq!(
            stats.by_kind.get(kind).copied().unwrap_or(0),
            0,
            "{kind} not fetched: {stats:?}"
        );
    }
    let run = read_run(&out);
    let assets: BTreeSet<&str> = run.files.keys().map(String::as_str).collect();
    assert_eq!(
        assets,
        ["collection", "errors_logs", "member", "summary"].into()
    );
    let err = stderr(&output);
    assert!(err.lines().count() >= 3);
    for line in err.lines() {
        let event: Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
        assert!(event["fields"]["message"].is_string(), "{line}");
    }
}
