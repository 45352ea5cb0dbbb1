//! `upload --target openmetadata` end to end: runs written by the real
//! extract-mode, pushed by the real binary into the sandbox's OpenMetadata
//! side, checked against what that side stored (its entities, edges and every
//! request it received). The bodies themselves are checked against
//! OpenMetadata's own request models by `scripts/om_validate.sh`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Output;

use mode_sandbox::openmetadata::{
    ALL_TABLES_SERVICE, EntityKind, OM_TOKEN, OmFault, db_service_for,
};
use mode_sandbox::{SandboxConfig, SandboxThread};
use serde_json::{Value, json};

use crate::support::*;

/// `upload --target openmetadata -d out` with the sandbox's JWT and `args`.
fn push(sb: &SandboxThread, out: &Path, args: &[&str]) -> Output {
    push_with_token(sb, out, OM_TOKEN, args)
}

fn push_with_token(sb: &SandboxThread, out: &Path, token: &str, args: &[&str]) -> Output {
    om_cmd(sb, out, token).args(args).output().unwrap()
}

/// The push command, not yet run.
fn om_cmd(sb: &SandboxThread, out: &Path, token: &str) -> std::process::Command {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_upload"));
    cmd.env_clear()
        .current_dir(out.parent().unwrap())
        .env("OPENMETADATA_JWT_TOKEN", token)
        .args(["--target", "openmetadata", "--service", "mode"])
        .arg("--om-host")
        .arg(sb.om_host())
        .arg("-d")
        .arg(out)
        .args(["--retry-initial-delay-ms", "5"]);
    cmd
}

fn extracted(sb: &SandboxThread) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let output = extract(sb, &out, &[]);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    (dir, out)
}

/// Live entities of a kind by FQN.
fn entities(sb: &SandboxThread, kind: EntityKind) -> BTreeMap<String, Value> {
    sb.om_entities(kind)
        .into_iter()
        .map(|e| (e["fullyQualifiedName"].as_str().unwrap().to_owned(), e))
        .collect()
}

fn writes(sb: &SandboxThread) -> usize {
    sb.om_requests()
        .iter()
        .filter(|r| r.method == "PUT" || r.method == "DELETE")
        .count()
}

fn ref_fqns(list: &Value) -> BTreeSet<String> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|r| r["fullyQualifiedName"].as_str().unwrap().to_owned())
        .collect()
}

/// The lineage edges the run calls for, as (table id, data model id): every
/// table of `{ts}-lineage.json` that the service `db` holds.
fn expected_edges(
    sb: &SandboxThread,
    run: &RunFiles,
    db: &dyn Fn(i64) -> Option<String>,
) -> BTreeSet<(String, String)> {
    let tables: BTreeMap<String, Value> = sb.om_tables().into_iter().collect();
    let models = entities(sb, EntityKind::DataModel);
    let mut edges = BTreeSet::new();
    for row in run.rows("lineage") {
        let model = format!(
            "mode.model.\"{}.{}\"",
            row["report_token"].as_str().unwrap(),
            row["query_token"].as_str().unwrap()
        );
        let Some(service) = row["data_source"]["id"].as_i64().and_then(db) else {
            continue;
        };
        for t in row["tables"].as_array().unwrap() {
            let fqn = format!("{service}.{}", t["name"].as_str().unwrap());
            if let Some(table) = tables.get(&fqn) {
                let to = models[&model]["id"].as_str().unwrap().to_owned();
                edges.insert((table["id"].as_str().unwrap().to_owned(), to));
            }
        }
    }
    edges
}

#[test]
fn a_400_report_run_becomes_dashboards_charts_models_and_lineage() {
    let sb = sandbox(SandboxConfig::default());
    let (_dir, out) = extracted(&sb);
    let output = push(&sb, &out, &["--db-service", ALL_TABLES_SERVICE]);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let run = read_run(&out);
    let dashboards = entities(&sb, EntityKind::Dashboard);
    let charts = entities(&sb, EntityKind::Chart);
    let models = entities(&sb, EntityKind::DataModel);
    let reports = run.rows("report");
    assert_eq!(reports.len(), 400);
    assert_eq!(dashboards.len(), 400);
    assert_eq!(charts.len(), run.rows("chart").len());
    let dataset_queries: usize = run
        .rows("dataset")
        .iter()
        .map(|d| d["queries"].as_array().unwrap().len())
        .sum();
    assert_eq!(models.len(), run.rows("query").len() + dataset_queries);
    let projects: BTreeMap<String, Value> = run
        .by_token("collection")
        .into_iter()
        .map(|(t, c)| (t, c["name"].clone()))
        .collect();
    let users: BTreeMap<String, Value> = sb
        .om_users()
        .into_iter()
        .map(|(_, u)| (u["email"].as_str().unwrap().to_owned(), u))
        .collect();
    let mut owned = 0;
    for r in reports {
        let token = r["token"].as_str().unwrap();
        let d = &dashboards[&format!("mode.{token}")];
        assert_eq!(d["displayName"], r["name"]);
        assert_eq!(d["sourceUrl"], r["web_url"]);
        assert_eq!(d["project"], projects[r["space_token"].as_str().unwrap()]);
        let want_charts: BTreeSet<String> = run
            .rows("chart")
            .iter()
            .filter(|c| c["report_token"] == token)
            .map(|c| format!("mode.{}", c["token"].as_str().unwrap()))
            .collect();
        assert_eq!(ref_fqns(&d["charts"]), want_charts, "{token}");
        let want_models: BTreeSet<String> = run
            .rows("query")
            .iter()
            .filter(|q| q["report_token"] == token)
            .map(|q| format!("mode.model.\"{token}.{}\"", q["token"].as_str().unwrap()))
            .collect();
        assert!(
            ref_fqns(&d["dataModels"]).is_superset(&want_models),
            "{token}"
        );
        match users.get(r["creator_email"].as_str().unwrap_or_default()) {
            Some(user) => {
                assert_eq!(d["owners"][0]["id"], user["id"], "{token}");
                owned += 1;
            }
            None => assert!(
                d.get("owners").is_none(),
                "{token}: an unknown creator is no owner"
            ),
        }
    }
    assert!(
        owned > 0 && owned < 400,
        "some creators are known, some not: {owned}"
    );
    for q in run.rows("query") {
        let name = format!(
            "mode.model.\"{}.{}\"",
            q["report_token"].as_str().unwrap(),
            q["token"].as_str().unwrap()
        );
        assert_eq!(models[&name]["sql"], q["raw_query"], "{name}");
        assert_eq!(models[&name]["dataModelType"], "ModeDataModel");
    }
    for c in run.rows("chart") {
        let chart = &charts[&format!("mode.{}", c["token"].as_str().unwrap())];
        assert_eq!(chart["displayName"], c["title"]);
        assert_ne!(chart["chartType"], Value::Null);
    }
    let want = expected_edges(&sb, &run, &|_| Some(ALL_TABLES_SERVICE.to_owned()));
    let got: BTreeSet<(String, String)> = sb.om_edges().into_iter().map(|(k, _)| k).collect();
    assert!(want.len() > 100, "{}", want.len());
    assert_eq!(
        got, want,
        "one edge per lineage table present in the database service"
    );
    assert!(
        sb.om_edges()
            .iter()
            .all(|(_, e)| e["lineageDetails"]["sqlQuery"].is_string())
    );
    assert!(
        stderr(&output).contains("left out as their table is not in OpenMetadata"),
        "some lineage tables are missing: {}",
        stderr(&output)
    );

    // A rerun skips the pushed run (ledger); --force pushes it again and changes nothing.
    let before: Vec<Vec<Value>> = [
        EntityKind::Chart,
        EntityKind::DataModel,
        EntityKind::Dashboard,
    ]
    .map(|k| sb.om_all(k))
    .into();
    let writes_before = writes(&sb);
    let again = push(&sb, &out, &["--db-service", ALL_TABLES_SERVICE]);
    assert_eq!(code(&again), 0, "{}", stderr(&again));
    assert!(
        stderr(&again).contains("1 run(s) already pushed"),
        "{}",
        stderr(&again)
    );
    assert_eq!(
        writes(&sb),
        writes_before,
        "nothing written for a pushed run"
    );
    let forced = push(&sb, &out, &["--db-service", ALL_TABLES_SERVICE, "--force"]);
    assert_eq!(code(&forced), 0, "{}", stderr(&forced));
    assert!(
        stderr(&forced).contains(": 0 created, 0 updated,"),
        "{}",
        stderr(&forced)
    );
    let after: Vec<Vec<Value>> = [
        EntityKind::Chart,
        EntityKind::DataModel,
        EntityKind::Dashboard,
    ]
    .map(|k| sb.om_all(k))
    .into();
    assert_eq!(
        after, before,
        "an unchanged rerun changes no entity (same versions)"
    );
}

#[test]
fn retried_writes_after_a_504_or_a_dropped_answer_are_harmless() {
    let sb = sandbox(small_config());
    let (_dir, out) = extracted(&sb);
    sb.set_om_faults(vec![
        OmFault::AfterWrite(504),
        OmFault::DropAfterWrite,
        OmFault::Before(503),
        OmFault::AfterWrite(502),
    ]);
    let output = push(&sb, &out, &["--db-service", ALL_TABLES_SERVICE]);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    assert!(stderr(&output).contains("retrying"), "{}", stderr(&output));
    let run = read_run(&out);
    assert_eq!(
        entities(&sb, EntityKind::Dashboard).len(),
        run.rows("report").len()
    );
    assert_eq!(
        entities(&sb, EntityKind::Chart).len(),
        run.rows("chart").len()
    );
    let want = expected_edges(&sb, &run, &|_| Some(ALL_TABLES_SERVICE.to_owned()));
    assert_eq!(sb.om_edges().len(), want.len());
}

#[test]
fn a_refused_entity_is_reported_and_left_out_the_run_goes_on() {
    let sb = sandbox(small_config());
    let (_dir, out) = extracted(&sb);
    let run = read_run(&out);
    let chart = run.rows("chart")[0].clone();
    let token = chart["token"].as_str().unwrap();
    sb.set_om_faults(vec![OmFault::Reject(token.to_owned())]);
    let output = push(&sb, &out, &[]);
    assert_eq!(code(&output), 3, "an entity problem: {}", stderr(&output));
    let err = stderr(&output);
    assert!(
        err.contains(&format!(
            "chart mode.{token}: HTTP 400: [name '{token}' refused"
        )),
        "{err}"
    );
    let charts = entities(&sb, EntityKind::Chart);
    assert!(!charts.contains_key(&format!("mode.{token}")));
    assert_eq!(charts.len(), run.rows("chart").len() - 1);
    let report = chart["report_token"].as_str().unwrap();
    let d = &entities(&sb, EntityKind::Dashboard)[&format!("mode.{report}")];
    assert!(
        !ref_fqns(&d["charts"]).contains(&format!("mode.{token}")),
        "the dashboard is written without the refused chart"
    );
    // Not recorded as pushed: the next run pushes again, and completes.
    let again = push(&sb, &out, &[]);
    assert_eq!(code(&again), 0, "{}", stderr(&again));
    assert_eq!(
        entities(&sb, EntityKind::Chart).len(),
        run.rows("chart").len()
    );
}

/// Rewrites the run as the run store would after `deleted` reports vanished
/// from Mode: their rows (and their queries', charts' and lineage rows) gone,
/// a changes file listing them and one changed report, the summary updated.
fn delete_reports(out: &Path, deleted: &[String], changed: &str) {
    let run = read_run(out);
    let gone = |v: &Value, key: &str| deleted.iter().any(|d| v[key] == d.as_str());
    let mut changes =
        vec![json!({"asset": "report", "token": changed, "change": "changed", "name": "x"})];
    for asset in ["report", "query", "chart", "lineage"] {
        let key = if asset == "report" {
            "token"
        } else {
            "report_token"
        };
        let (drop, keep): (Vec<Value>, Vec<Value>) =
            run.rows(asset).iter().cloned().partition(|r| gone(r, key));
        if asset != "lineage" {
            changes.extend(drop.iter().map(|r| json!({"asset": asset, "token": r["token"], "change": "deleted", "name": r["name"]})));
        }
        std::fs::write(
            out.join(format!("{}-{asset}.json", run.ts)),
            serde_json::to_vec(&keep).unwrap(),
        )
        .unwrap();
    }
    let changes_name = format!("{}-changes.json", run.ts);
    std::fs::write(
        out.join(&changes_name),
        serde_json::to_vec(&changes).unwrap(),
    )
    .unwrap();
    resummarize(out, Some(changes_name));
}

/// Rewrites the run's summary so that it lists the files as they are now
/// (plus `extra`), as extract-mode would have written it.
fn resummarize(out: &Path, extra: Option<String>) {
    let run = read_run(out);
    let mut summary = run.summary.clone();
    let mut names: Vec<String> = summary["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["name"].as_str().unwrap().to_owned())
        .collect();
    names.extend(extra);
    let files: Vec<Value> = names
        .into_iter()
        .map(|name| {
            let (bytes, sha256) = mode_extractor::output::sha256_file(&out.join(&name)).unwrap();
            json!({"name": name, "bytes": bytes, "sha256": sha256})
        })
        .collect();
    summary["files"] = Value::Array(files);
    std::fs::write(
        out.join(format!("{}-summary.json", run.ts)),
        serde_json::to_vec(&summary).unwrap(),
    )
    .unwrap();
}

#[test]
fn dry_run_after_a_push_lists_only_what_changed() {
    let sb = sandbox(small_config());
    let (_dir, out) = extracted(&sb);
    assert_eq!(code(&push(&sb, &out, &[])), 0);
    let run = read_run(&out);
    let mut reports = run.rows("report").clone();
    let token = reports[0]["token"].as_str().unwrap().to_owned();
    reports[0]["name"] = json!("Renamed in Mode");
    std::fs::write(
        out.join(format!("{}-report.json", run.ts)),
        serde_json::to_vec(&reports).unwrap(),
    )
    .unwrap();
    resummarize(&out, None);
    let writes_before = writes(&sb);
    let dry = push(&sb, &out, &["--dry-run"]);
    assert_eq!(code(&dry), 0, "{}", stderr(&dry));
    assert_eq!(writes(&sb), writes_before, "a dry run writes nothing");
    let listing = String::from_utf8_lossy(&dry.stdout).into_owned();
    assert_eq!(
        listing.trim(),
        format!("update\tdashboard\tmode.{token}"),
        "{listing}"
    );
    let output = push(&sb, &out, &[]);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    assert!(
        stderr(&output).contains(": 0 created, 1 updated,"),
        "{}",
        stderr(&output)
    );
    let d = &entities(&sb, EntityKind::Dashboard)[&format!("mode.{token}")];
    assert_eq!(d["displayName"], "Renamed in Mode");
}

#[test]
fn reports_deleted_in_mode_are_soft_deleted_and_only_those() {
    let sb = sandbox(small_config());
    let (_dir, out) = extracted(&sb);
    assert_eq!(code(&push(&sb, &out, &[])), 0);
    let run = read_run(&out);
    let tokens: Vec<String> = run
        .rows("report")
        .iter()
        .take(3)
        .map(|r| r["token"].as_str().unwrap().to_owned())
        .collect();
    let (deleted, changed) = (tokens[..2].to_vec(), tokens[2].clone());
    delete_reports(&out, &deleted, &changed);
    let doomed_charts: BTreeSet<String> = run
        .rows("chart")
        .iter()
        .filter(|c| deleted.iter().any(|d| c["report_token"] == d.as_str()))
        .map(|c| format!("mode.{}", c["token"].as_str().unwrap()))
        .collect();
    let doomed_models: BTreeSet<String> = run
        .rows("query")
        .iter()
        .filter(|q| deleted.iter().any(|d| q["report_token"] == d.as_str()))
        .map(|q| {
            format!(
                "mode.model.\"{}.{}\"",
                q["report_token"].as_str().unwrap(),
                q["token"].as_str().unwrap()
            )
        })
        .collect();
    assert!(!doomed_charts.is_empty() && !doomed_models.is_empty());

    let dry = push(&sb, &out, &["--dry-run"]);
    assert_eq!(code(&dry), 0, "{}", stderr(&dry));
    let listing = String::from_utf8_lossy(&dry.stdout).into_owned();
    let deletes: BTreeSet<&str> = listing
        .lines()
        .filter_map(|l| l.strip_prefix("delete\t"))
        .collect();
    assert_eq!(
        deletes.len(),
        2 + doomed_charts.len() + doomed_models.len(),
        "{listing}"
    );
    assert!(
        deletes.contains(format!("dashboard\tmode.{}", deleted[0]).as_str()),
        "{listing}"
    );

    let writes_before = writes(&sb);
    let output = push(&sb, &out, &[]);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let soft: BTreeSet<String> = [
        EntityKind::Dashboard,
        EntityKind::Chart,
        EntityKind::DataModel,
    ]
    .iter()
    .flat_map(|k| sb.om_all(*k))
    .filter(|e| e["deleted"] == true)
    .map(|e| e["fullyQualifiedName"].as_str().unwrap().to_owned())
    .collect();
    let mut want: BTreeSet<String> = deleted.iter().map(|d| format!("mode.{d}")).collect();
    want.extend(doomed_charts);
    want.extend(doomed_models);
    assert_eq!(soft, want, "exactly the items deleted in Mode");
    assert!(entities(&sb, EntityKind::Dashboard).contains_key(&format!("mode.{changed}")));
    let deletes_sent = sb
        .om_requests()
        .iter()
        .filter(|r| r.method == "DELETE")
        .count();
    assert_eq!(deletes_sent, want.len());
    assert!(writes(&sb) > writes_before);
}

#[test]
fn dry_run_lists_what_would_be_created_and_writes_nothing() {
    let sb = sandbox(small_config());
    let (_dir, out) = extracted(&sb);
    let output = push(
        &sb,
        &out,
        &["--dry-run", "--db-service", ALL_TABLES_SERVICE],
    );
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    assert_eq!(writes(&sb), 0, "a dry run writes nothing");
    let listing = String::from_utf8_lossy(&output.stdout).into_owned();
    let run = read_run(&out);
    let count = |prefix: &str| listing.lines().filter(|l| l.starts_with(prefix)).count();
    assert_eq!(count("create\tservice\tmode"), 1);
    assert_eq!(count("create\tdashboard\t"), run.rows("report").len());
    assert_eq!(count("create\tchart\t"), run.rows("chart").len());
    assert_eq!(count("update\t") + count("delete\t"), 0, "{listing}");
    assert!(json_names(&out).iter().all(|n| !n.contains("ledger")));
}

#[test]
fn lineage_by_data_source_uses_each_sources_service() {
    let sb = sandbox(small_config());
    let (_dir, out) = extracted(&sb);
    let run = read_run(&out);
    let sources: Vec<(i64, String)> = run
        .rows("datasource")
        .iter()
        .map(|d| {
            (
                d["id"].as_i64().unwrap(),
                d["token"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    // All sources but the first, by id for one and by token for the others.
    let pairs: Vec<String> = sources
        .iter()
        .skip(1)
        .enumerate()
        .map(|(i, (id, token))| {
            let key = if i == 0 {
                id.to_string()
            } else {
                token.clone()
            };
            format!("{key}={}", db_service_for(token))
        })
        .collect();
    let output = push(&sb, &out, &["--db-service", &pairs.join(",")]);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let by_id: BTreeMap<i64, String> = sources
        .iter()
        .skip(1)
        .map(|(id, t)| (*id, db_service_for(t)))
        .collect();
    let want = expected_edges(&sb, &run, &|id| by_id.get(&id).cloned());
    let got: BTreeSet<(String, String)> = sb.om_edges().into_iter().map(|(k, _)| k).collect();
    assert!(!want.is_empty());
    assert_eq!(got, want);
    assert!(stderr(&output).contains("not looked up (no --db-service"));
}

#[test]
fn a_refused_jwt_or_a_host_that_is_not_openmetadata_fails_clearly() {
    let sb = sandbox(small_config());
    let (_dir, out) = extracted(&sb);
    let output = push_with_token(&sb, &out, "wrong-jwt-value", &[]);
    assert_eq!(code(&output), 4, "{}", stderr(&output));
    assert!(
        stderr(&output).contains("check the OpenMetadata JWT"),
        "{}",
        stderr(&output)
    );
    assert!(!stderr(&output).contains("wrong-jwt-value"));
    assert_eq!(writes(&sb), 0);
    let not_om = std::process::Command::new(env!("CARGO_BIN_EXE_upload"))
        .env_clear()
        .env("OPENMETADATA_JWT_TOKEN", OM_TOKEN)
        .args(["--target", "openmetadata", "--service", "mode", "--om-host"])
        .arg(format!("{}/api", sb.url()))
        .arg("-d")
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(code(&not_om), 8, "{}", stderr(&not_om));
    assert!(
        stderr(&not_om).contains("not OpenMetadata's version answer"),
        "{}",
        stderr(&not_om)
    );
}

#[test]
fn the_jwt_never_appears_even_at_trace_level() {
    let sb = sandbox(small_config());
    let (dir, out) = extracted(&sb);
    let jwt_file = dir.path().join("jwt");
    std::fs::write(&jwt_file, format!("{OM_TOKEN}\n")).unwrap();
    for (token, expect) in [(None, 0), (Some("jwt-WRONG-4242"), 4)] {
        let mut cmd = om_cmd(&sb, &out, "");
        cmd.env_remove("OPENMETADATA_JWT_TOKEN")
            .env("RUST_LOG", "trace");
        match token {
            None => cmd.env("OPENMETADATA_JWT_TOKEN_FILE", &jwt_file),
            Some(t) => cmd.arg("--om-token").arg(t),
        };
        let output = cmd.output().unwrap();
        assert_eq!(code(&output), expect, "{}", stderr(&output));
        assert_output_free_of(&output, &[OM_TOKEN, "jwt-WRONG-4242"]);
    }
    assert_files_free_of(&out, &[OM_TOKEN]);
}

#[test]
fn every_missing_setting_is_named_at_once_and_one_file_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_upload"))
        .env_clear()
        .current_dir(dir.path())
        .args(["--target", "openmetadata", "-d"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(code(&output), 2, "{}", stderr(&output));
    let err = stderr(&output);
    for name in [
        "--om-host",
        "--om-token",
        "OPENMETADATA_JWT_TOKEN_FILE",
        "--service",
    ] {
        assert!(err.contains(name), "{name} in {err}");
    }
    let one_file = std::process::Command::new(env!("CARGO_BIN_EXE_upload"))
        .env_clear()
        .current_dir(dir.path())
        .args(["--target", "openmetadata", "-f", "x.json"])
        .output()
        .unwrap();
    assert_eq!(code(&one_file), 2);
    assert!(
        stderr(&one_file).contains("not one file"),
        "{}",
        stderr(&one_file)
    );
}

#[test]
fn the_run_stores_confirmed_deletions_soft_delete_exactly_those_dashboards() {
    let sb = sandbox(small_config());
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let state = dir.path().join("state.sqlite");
    let state_arg = state.to_str().unwrap();
    let first = extract(&sb, &out, &["--state", state_arg]);
    assert_eq!(code(&first), 0, "{}", stderr(&first));
    assert_eq!(code(&push(&sb, &out, &[])), 0);

    let day = sb.advance_day(&mode_sandbox::DayPlan::default());
    assert_eq!(day.deleted.len(), 2, "{day:?}");
    let second = extract(&sb, &out, &["--state", state_arg]);
    assert!(matches!(code(&second), 0 | 3), "{}", stderr(&second));
    let output = push(&sb, &out, &[]);
    assert!(matches!(code(&output), 0 | 3), "{}", stderr(&output));

    let soft: BTreeSet<String> = sb
        .om_all(EntityKind::Dashboard)
        .into_iter()
        .filter(|e| e["deleted"] == true)
        .map(|e| e["fullyQualifiedName"].as_str().unwrap().to_owned())
        .collect();
    let want: BTreeSet<String> = day.deleted.iter().map(|t| format!("mode.{t}")).collect();
    assert_eq!(soft, want, "exactly the reports deleted in Mode");
    for added in &day.added {
        assert!(entities(&sb, EntityKind::Dashboard).contains_key(&format!("mode.{added}")));
    }
}
