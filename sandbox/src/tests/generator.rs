//! The generated workspace: determinism and shape invariants.

use std::collections::BTreeSet;

use serde_json::Value;

use super::small;
use crate::generate::generate;
use crate::{SandboxConfig, Truth};

fn truth(config: &SandboxConfig) -> Truth {
    generate(config)
}

fn json(truth: &Truth) -> String {
    serde_json::to_string(truth).expect("truth serialises")
}

#[test]
fn same_seed_same_workspace_other_seed_other_workspace() {
    let config = small();
    assert_eq!(json(&truth(&config)), json(&truth(&config)));
    let other = SandboxConfig { seed: 8, ..small() };
    assert_ne!(json(&truth(&config)), json(&truth(&other)));
}

#[test]
fn default_layout_has_personal_empty_and_large_collections() {
    let config = SandboxConfig::default();
    let t = truth(&config);
    assert_eq!(t.spaces.len(), 12);
    assert_eq!(t.reports.len(), 400);
    let private: Vec<&Value> = t
        .spaces
        .iter()
        .filter(|s| s["space_type"] == "private")
        .collect();
    assert_eq!(private.len(), 1);
    assert_eq!(private[0]["name"], "Personal");
    assert!(t.spaces.iter().any(|s| s["space_type"] == "community"));
    let sizes: Vec<usize> = t
        .spaces
        .iter()
        .map(|s| t.reports_in(s["token"].as_str().unwrap_or_default()).len())
        .collect();
    assert_eq!(sizes.iter().filter(|&&n| n == 0).count(), 1, "{sizes:?}");
    assert!(sizes.iter().filter(|&&n| n > 30).count() >= 3, "{sizes:?}");
    assert!(sizes.iter().any(|&n| n > 100), "{sizes:?}");
    assert_eq!(t.memberships.len(), 45);
    assert_eq!(t.users.len(), 45);
    assert!(!t.datasets.is_empty());
    assert!(t.problems.is_empty());
}

#[test]
fn counts_in_listings_match_queries_and_charts() {
    let t = truth(&small());
    for report in &t.reports {
        let token = report["token"].as_str().unwrap_or_default();
        let queries = &t.queries[token];
        assert!((1..=3).contains(&queries.len()));
        assert_eq!(report["query_count"], queries.len());
        let charts: usize = queries
            .iter()
            .map(|q| t.charts[q["token"].as_str().unwrap_or_default()].len())
            .sum();
        assert_eq!(report["chart_count"], charts);
        assert_eq!(
            report["_links"]["creator"]["href"]
                .as_str()
                .map(|h| h.starts_with("/api/")),
            Some(true)
        );
    }
    let archived = t.reports.iter().filter(|r| r["archived"] == true).count();
    assert!((1..=25).contains(&archived), "{archived} archived of 210");
}

#[test]
fn both_chart_shapes_and_all_adapters_are_present() {
    let t = truth(&small());
    let charts: Vec<&Value> = t.charts.values().flatten().collect();
    let legacy = charts.iter().filter(|c| {
        c["view"]["selectedChart"].is_string() && c["view_vegas"] == serde_json::json!({})
    });
    let vegas = charts
        .iter()
        .filter(|c| c["view_vegas"]["chartType"].is_string() && c["view"] == serde_json::json!({}));
    assert!(legacy.count() > 0);
    assert!(vegas.count() > 0);
    assert_eq!(charts.len(), t.chart_owner.len());
    let adapters: BTreeSet<&str> = t
        .data_sources
        .iter()
        .filter_map(|d| d["adapter"].as_str())
        .collect();
    for needed in [
        "jdbc:postgresql",
        "jdbc:snowflake",
        "jdbc:bigquery",
        "jdbc:redshift",
    ] {
        assert!(adapters.contains(needed), "{adapters:?}");
    }
    let bigquery = t
        .data_sources
        .iter()
        .find(|d| d["adapter"] == "jdbc:bigquery");
    assert_eq!(
        bigquery.map(|d| d["database"].clone()),
        Some("default".into())
    );
    assert!((4..=6).contains(&t.data_sources.len()));
}

#[test]
fn sql_uses_liquid_definitions_and_known_tables() {
    let t = truth(&small());
    let sql: Vec<&str> = t
        .queries
        .values()
        .flatten()
        .filter_map(|q| q["raw_query"].as_str())
        .collect();
    assert!(
        sql.iter()
            .any(|s| s.contains("{% form %}") && s.contains("{{ segment }}"))
    );
    assert!(
        sql.iter()
            .any(|s| s.contains("{{ @") && s.contains(" as d }}"))
    );
    assert!(sql.iter().any(|s| s.starts_with("WITH recent AS")));
    assert!((5..=10).contains(&t.definitions.len()));
    assert!(
        t.definitions
            .iter()
            .any(|d| d["source"].as_str().is_some_and(|s| s.contains("{{ @")))
    );
    for (query, tables) in &t.expected_tables {
        assert!(!tables.is_empty(), "{query} reads no table");
        for table in tables {
            assert_eq!(table, &table.to_lowercase());
            assert!((2..=3).contains(&table.split('.').count()), "{table}");
            assert!(
                !table.contains("legacy") && !table.contains("recent"),
                "{table}"
            );
        }
    }
    let queries: usize = t.queries.values().map(Vec::len).sum();
    assert_eq!(t.expected_tables.len(), queries);
}

#[test]
fn imported_datasets_agree_between_listing_and_detail() {
    let t = truth(&SandboxConfig::default());
    let mut importing = 0;
    for report in &t.reports {
        let token = report["token"].as_str().unwrap_or_default();
        let detail = &t.report_details[token];
        let imports = detail["imported_datasets"].as_array();
        assert_eq!(report["has_imported_datasets"] == true, imports.is_some());
        for import in imports.into_iter().flatten() {
            let dataset = import["token"].as_str().unwrap_or_default();
            assert_eq!(t.report_details[dataset]["type"], "DatasetReport");
            importing += 1;
        }
    }
    assert!(importing > 0);
    assert!(t.datasets.iter().all(|d| d["type"] == "DatasetReport"));
}

#[test]
fn item_problems_are_exactly_the_five_announced() {
    let config = SandboxConfig {
        item_problems: true,
        ..small()
    };
    let t = truth(&config);
    let kinds: Vec<&str> = t.problems.iter().map(|p| p.kind.as_str()).collect();
    assert_eq!(
        kinds,
        [
            "deleted_report",
            "missing_creator",
            "null_name",
            "inaccessible_report",
            "unknown_data_source"
        ]
    );
    let token = |i: usize| t.problems[i].token.as_str();
    assert!(t.reports.iter().any(|r| r["token"] == token(0)));
    assert!(!t.report_details.contains_key(token(0)) && !t.queries.contains_key(token(0)));
    let no_creator = t.reports.iter().find(|r| r["token"] == token(1));
    assert_eq!(
        no_creator.map(|r| r["_links"]["creator"].is_null()),
        Some(true)
    );
    assert!(t.report_details[token(2)]["name"].is_null());
    assert!(t.reports.iter().any(|r| r["token"] == token(3)));
    assert!(
        !t.queries.contains_key(token(3)),
        "hidden queries are not in the truth"
    );
    let ids: Vec<&Value> = t.data_sources.iter().map(|d| &d["id"]).collect();
    let bad = t
        .queries
        .values()
        .flatten()
        .find(|q| q["token"] == token(4));
    assert!(bad.is_some_and(|q| !ids.contains(&&q["data_source_id"])));
    assert_eq!(t.reports.len(), 210);
}
