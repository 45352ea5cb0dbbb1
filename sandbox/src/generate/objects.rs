//! The workspace, collection, report and dataset objects, with the field sets
//! of Mode's recorded `spaces.json`, `reports_*.json`, `datasets_*.json` and
//! `dataset_*.json`.

use serde_json::{Value, json};

use super::ctx::{Gen, forms, iso, link, templated};

/// The `/api/{ws}` object: an organisation account (`"user": false`). No body
/// was ever recorded; the field set is that of a user.
pub(crate) fn workspace(g: &mut Gen, id: i64) -> Value {
    let ws = g.ws.clone();
    let token = g.token();
    json!({
        "username": ws, "name": format!("{ws} analytics"), "id": id, "token": token,
        "user": false,
        "avatar": {"initials": ws.chars().take(2).collect::<String>().to_uppercase(),
                   "seed": token, "color_class": "mode-avatar-color-3", "type": "initials"},
        "created_at": iso(g.instant()),
        "_links": {
            "self": link(format!("/api/{ws}")),
            "web": link(format!("/{ws}")),
            "spaces": link(format!("/api/{ws}/collections")),
            "memberships": link(format!("/api/{ws}/memberships")),
            "data_sources": link(format!("/api/{ws}/data_sources")),
            "definitions": link(format!("/api/{ws}/definitions")),
        },
    })
}

/// The fields of Mode's spec Account schema that only a workspace has:
/// `space_count`, `data_source_count`, `plan_code`, `scim_enabled`,
/// `thoughtspot_integrated` (no body was recorded; values are plausible).
pub(crate) fn account_counts(workspace: &mut Value, spaces: usize, sources: usize) {
    if let Some(map) = workspace.as_object_mut() {
        let extra = json!({
            "space_count": spaces, "data_source_count": sources,
            "plan_code": "enterprise", "scim_enabled": false, "thoughtspot_integrated": false,
        });
        if let Value::Object(extra) = extra {
            map.extend(extra);
        }
    }
}

/// A collection as listed by `/spaces`.
pub(crate) fn space(g: &mut Gen, name: &str, space_type: &str, creator: &str) -> Value {
    let (id, token) = (g.id(), g.token());
    let ws = g.ws.clone();
    let href = format!("/api/{ws}/collections/{token}");
    let access = if space_type == "private" {
        "view"
    } else {
        *g.pick(&["view", "edit", "none"])
    };
    let description = if g.chance(0.5) {
        Value::Null
    } else {
        json!(format!("{name} reports"))
    };
    json!({
        "token": token, "id": id, "space_type": space_type, "name": name,
        "description": description, "state": "active", "restricted": access == "none",
        "free_default": space_type != "private", "viewable?": true,
        "default_access_level": access,
        "_links": {
            "self": link(&href),
            "detail": link(format!("{href}/detail")),
            "web": link(format!("/{ws}/spaces/{token}")),
            "reports": link(format!("{href}/reports")),
            "creator": link(format!("/api/{creator}")),
            "search_space_permissions": link(format!("{href}/permissions/search")),
        },
        "_forms": forms(&href),
    })
}

/// What a report or dataset listing needs to know.
pub(crate) struct ReportSpec<'a> {
    pub(crate) name: &'a str,
    pub(crate) space: &'a Value,
    pub(crate) creator: &'a str,
    pub(crate) account_id: i64,
    pub(crate) archived: bool,
    pub(crate) query_count: usize,
    pub(crate) chart_count: usize,
    pub(crate) query_preview: String,
}

/// Timestamps and run facts shared by reports and datasets.
fn common(g: &mut Gen, spec: &ReportSpec, token: &str) -> Value {
    let created = g.instant();
    let edited = g.later(created, 120);
    let run = g.later(edited, 30);
    let description = if g.chance(0.4) {
        Value::Null
    } else {
        json!(format!("About {}", spec.name))
    };
    json!({
        "token": token, "id": g.id(), "name": spec.name, "description": description,
        "created_at": iso(created), "updated_at": iso(g.later(run, 5)),
        "published_at": if g.chance(0.3) { json!(iso(edited)) } else { Value::Null },
        "edited_at": iso(edited), "last_saved_at": iso(edited + 11),
        "last_run_at": iso(run), "last_successfully_run_at": iso(run + 1650),
        "space_token": spec.space["token"], "account_id": spec.account_id,
        "account_username": g.ws, "query_count": spec.query_count,
        "runs_count": g.int(1..=400), "view_count": g.int(0..=5000),
    })
}

fn report_links(ws: &str, token: &str, space: &Value, creator: &str, kind: &str) -> Value {
    let api = format!("/api/{ws}/reports/{token}");
    let space_token = space["token"].as_str().unwrap_or_default();
    let run = "{id}?embed[result]=1";
    json!({
        "self": link(&api),
        "web": link(format!("https://app.mode.com/{ws}/{kind}/{token}")),
        "web_edit": link(format!("/editor/{ws}/{kind}/{token}")),
        "share": link(format!("/{ws}/reports/{token}")),
        "account": link(format!("/api/{ws}")),
        "report_run": templated(format!("{api}/runs/{run}")),
        "space": link(format!("/api/{ws}/collections/{space_token}")),
        "space_links": link(format!("{api}/space_links")),
        "queries": link(format!("{api}/queries")),
        "report_runs": link(format!("{api}/runs")),
        "report_pins": link(format!("{api}/pins")),
        "report_schedules": link(format!("{api}/schedules")),
        "creator": link(format!("/api/{creator}")),
        "report_index_web": link(format!("/{ws}/spaces/{space_token}/reports/{token}")),
    })
}

/// A report as listed by `/spaces/{s}/reports` (with `has_imported_datasets`).
pub(crate) fn report(g: &mut Gen, spec: &ReportSpec, token: &str, imports: bool) -> Value {
    let mut value = common(g, spec, token);
    let extra = json!({
        "theme_id": 3, "color_mappings": {}, "type": "Report",
        "last_successful_sync_at": Value::Null, "archived": spec.archived,
        "public": g.chance(0.1), "full_width": false, "manual_run_disabled": false,
        "run_privately": true, "drilldowns_enabled": true, "is_embedded": g.chance(0.05),
        "is_signed": false, "shared": g.chance(0.2), "expected_runtime": g.decimal(0.2, 30.0),
        "web_preview_image": Value::Null, "last_successful_run_token": g.token(),
        "flamingo_signature": Value::Null, "max_query_count": 160,
        "chart_count": spec.chart_count, "schedules_count": g.int(0..=2),
        "query_preview": spec.query_preview, "has_imported_datasets": imports,
    });
    merge(&mut value, extra);
    let ws = g.ws.clone();
    value["_links"] = report_links(&ws, token, spec.space, spec.creator, "reports");
    value["_forms"] = forms(&format!("/api/{ws}/reports/{token}"));
    value
}

/// The `/reports/{r}` detail of a listed report: the listing's fields without
/// `has_imported_datasets`, plus `imported_datasets` when it imports any.
pub(crate) fn report_detail(listing: &Value, imported: &[(String, String)], ws: &str) -> Value {
    let mut detail = listing.clone();
    if let Some(map) = detail.as_object_mut() {
        map.shift_remove("has_imported_datasets");
    }
    if !imported.is_empty() {
        let report = listing["token"].as_str().unwrap_or_default();
        let items: Vec<Value> = imported
            .iter()
            .map(|(token, name)| {
                json!({"name": name, "token": token, "_links": {
                    "report": link(format!("/api/{ws}/reports/{report}")),
                    "source_dataset": link(format!("/api/{ws}/reports/{token}")),
                }})
            })
            .collect();
        detail["imported_datasets"] = Value::Array(items);
    }
    detail
}

/// A dataset as listed by `/spaces/{s}/datasets` and its `/reports/{d}` detail.
pub(crate) fn dataset(g: &mut Gen, spec: &ReportSpec, token: &str) -> (Value, Value) {
    let mut listing = common(g, spec, token);
    let ws = g.ws.clone();
    let mut links = report_links(&ws, token, spec.space, spec.creator, "datasets");
    links["dataset_dependencies"] = link(format!("/api/{ws}/datasets/{token}/reports"));
    let shared = json!({
        "type": "DatasetReport", "last_successful_sync_at": Value::Null,
        "public": false, "manual_run_disabled": false, "run_privately": true,
        "drilldowns_enabled": false, "last_successful_run_token": g.token(),
        "max_query_count": 1, "schedules_count": 0, "query_preview": spec.query_preview,
        "thoughtspot_published_at": Value::Null,
    });
    merge(&mut listing, shared);
    let mut detail = listing.clone();
    let listed_only = json!({
        "collection_name": spec.space["name"], "collection_token": spec.space["token"],
        "is_sample": false, "switch_view_token": g.token(),
    });
    merge(&mut listing, listed_only);
    let detail_only = json!({
        "archived": spec.archived, "drill_anywhere_enabled": false,
        "expected_runtime": g.decimal(0.2, 5.0),
    });
    merge(&mut detail, detail_only);
    for value in [&mut listing, &mut detail] {
        value["_links"] = links.clone();
        value["_forms"] = forms(&format!("/api/{ws}/reports/{token}"));
    }
    (listing, detail)
}

fn merge(target: &mut Value, extra: Value) {
    if let (Some(target), Value::Object(extra)) = (target.as_object_mut(), extra) {
        target.extend(extra);
    }
}
