//! The rows of each file: castor's keys first, in castor's order, then ours.
//!
//! Values pass through as Mode gave them (ints stay ints, timestamps stay
//! strings); a key Mode did not send is `null` (castor-compat.md). Rows are
//! built as soon as an object arrives so that the page bodies, with their
//! `_forms` and preview URLs, are dropped at once (peak memory stays small).

use serde_json::{Map, Value};
use url::Url;

use crate::mode::hal;

/// A row of an output file: a JSON object with ordered keys.
pub type Row = Map<String, Value>;

/// castor's data source keys.
pub const DATASOURCE_KEYS: [&str; 13] = [
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

/// castor's collection keys (before `creator`).
pub const COLLECTION_KEYS: [&str; 7] = [
    "id",
    "token",
    "space_type",
    "name",
    "description",
    "state",
    "default_access_level",
];

/// castor's report keys (before `creator`).
pub const REPORT_KEYS: [&str; 16] = [
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
];

/// Report activity keys we add after castor's (issue: activity and ownership).
pub const REPORT_ACTIVITY_KEYS: [&str; 5] = [
    "last_run_at",
    "last_successfully_run_at",
    "last_saved_at",
    "runs_count",
    "account_username",
];

/// castor's query keys (before `report_token`).
pub const QUERY_KEYS: [&str; 5] = ["id", "token", "name", "data_source_id", "raw_query"];

/// castor's member keys.
pub const MEMBER_KEYS: [&str; 6] = ["id", "token", "username", "name", "email", "created_at"];

/// Definition keys (before `creator`).
pub const DEFINITION_KEYS: [&str; 8] = [
    "id",
    "token",
    "name",
    "description",
    "source",
    "data_source_id",
    "created_at",
    "updated_at",
];

/// Copies `keys` from `object` in order, `null` where missing.
pub fn project(object: &Value, keys: &[&str]) -> Row {
    keys.iter()
        .map(|k| {
            (
                (*k).to_owned(),
                object.get(*k).cloned().unwrap_or(Value::Null),
            )
        })
        .collect()
}

fn opt_string(value: Option<String>) -> Value {
    value.map(Value::String).unwrap_or(Value::Null)
}

/// A data source row (castor's keys).
pub fn datasource_row(object: &Value) -> Row {
    project(object, &DATASOURCE_KEYS)
}

/// A collection row: castor's keys, `creator` from `_links.creator.href`.
pub fn collection_row(object: &Value) -> Row {
    let mut row = project(object, &COLLECTION_KEYS);
    row.insert("creator".into(), opt_string(hal::creator(object)));
    row
}

/// A report (or dataset) row: castor's keys and `creator`, then activity keys,
/// `web_url` (absolute) and `creator_email` (filled in from the members later).
pub fn report_row(object: &Value, host: &Url) -> Row {
    let mut row = project(object, &REPORT_KEYS);
    row.insert("creator".into(), opt_string(hal::creator(object)));
    for key in REPORT_ACTIVITY_KEYS {
        row.insert(key.into(), object.get(key).cloned().unwrap_or(Value::Null));
    }
    let web = hal::link(object, "web").and_then(|href| host.join(href).ok());
    row.insert("web_url".into(), opt_string(web.map(String::from)));
    row.insert("creator_email".into(), Value::Null);
    row
}

/// A query row: castor's keys, then `report_token` (the report it was listed under).
pub fn query_row(object: &Value, report_token: &str) -> Row {
    let mut row = project(object, &QUERY_KEYS);
    row.insert(
        "report_token".into(),
        Value::String(report_token.to_owned()),
    );
    row
}

/// A member row from the user object (`GET /api/{username}`); when the user
/// could not be fetched, what the membership says (`member_username`,
/// `member_token`).
pub fn member_row(user: Option<&Value>, membership: &Value) -> Row {
    let mut row = match user {
        Some(u) => project(u, &MEMBER_KEYS),
        None => project(&Value::Null, &MEMBER_KEYS),
    };
    let fallback = [("token", "member_token"), ("username", "member_username")];
    for (key, from) in fallback {
        if row.get(key).is_none_or(Value::is_null) {
            row.insert(
                key.into(),
                membership.get(from).cloned().unwrap_or(Value::Null),
            );
        }
    }
    row
}

/// A definition row, `creator` from `_links.creator.href`.
pub fn definition_row(object: &Value) -> Row {
    let mut row = project(object, &DEFINITION_KEYS);
    row.insert("creator".into(), opt_string(hal::creator(object)));
    row
}

/// A chart row. Title and type come from `view_vegas` (`title`, `chartType`),
/// or from the legacy `view` (`chartTitle`, `selectedChart`) when `view_vegas`
/// is empty (both shapes: `shared/mode-recorded/charts.json`, mode-api.md §5).
pub fn chart_row(object: &Value, report_token: &str, query_token: &str) -> Row {
    let vegas = object.get("view_vegas").filter(|v| is_non_empty(v));
    let legacy = object.get("view").filter(|v| is_non_empty(v));
    let pick = |vegas_key: &str, legacy_key: &str| {
        vegas
            .and_then(|v| v.get(vegas_key))
            .filter(|v| !v.is_null())
            .or_else(|| legacy.and_then(|v| v.get(legacy_key)))
            .cloned()
            .unwrap_or(Value::Null)
    };
    let mut row = Row::new();
    row.insert(
        "token".into(),
        object.get("token").cloned().unwrap_or(Value::Null),
    );
    row.insert("report_token".into(), Value::String(report_token.into()));
    row.insert("query_token".into(), Value::String(query_token.into()));
    row.insert("title".into(), pick("title", "chartTitle"));
    row.insert("chart_type".into(), pick("chartType", "selectedChart"));
    for key in ["view_version", "created_at", "updated_at"] {
        row.insert(key.into(), object.get(key).cloned().unwrap_or(Value::Null));
    }
    let web = hal::link(object, "report_viz_web").map(str::to_owned);
    row.insert("web_path".into(), opt_string(web));
    row
}

fn is_non_empty(value: &Value) -> bool {
    match value {
        Value::Object(m) => !m.is_empty(),
        Value::Null => false,
        _ => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn recorded(name: &str) -> Value {
        let path = format!(
            "{}/fixtures/mode-recorded/{name}",
            env!("CARGO_MANIFEST_DIR")
        );
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
    }

    #[test]
    fn recorded_report_keeps_castor_keys_in_order() {
        let host = Url::parse("https://app.mode.com").unwrap();
        let reports = hal::embedded(recorded("reports_75737b70402e.json"), "reports");
        let row = report_row(&reports[0], &host);
        let keys: Vec<&str> = row.keys().map(String::as_str).collect();
        assert_eq!(&keys[..16], &REPORT_KEYS[..]);
        assert_eq!(keys[16], "creator");
        assert_eq!(row["creator"], "modeuser");
        assert_eq!(row["id"], 2934237);
        assert_eq!(row["published_at"], Value::Null);
        assert_eq!(
            row["web_url"],
            "https://app.mode.com/acryltest/reports/9d2da37fa91e"
        );
    }

    #[test]
    fn recorded_chart_takes_title_from_view_vegas() {
        let charts = hal::embedded(recorded("charts.json"), "charts");
        let row = chart_row(&charts[0], "r", "q");
        assert_eq!(row["title"], "Customer Staff Table");
        assert_eq!(row["chart_type"], "table");
        assert_eq!(
            row["web_path"],
            "/acryltest/reports/9d2da37fa91e/viz/f622b9ee725b"
        );
    }

    #[test]
    fn legacy_chart_shape() {
        let chart = json!({"token": "t", "view": {"selectedChart": "bar", "chartTitle": "Old"}, "view_vegas": {}});
        let row = chart_row(&chart, "r", "q");
        assert_eq!(
            (row["title"].as_str(), row["chart_type"].as_str()),
            (Some("Old"), Some("bar"))
        );
    }

    #[test]
    fn member_falls_back_to_membership() {
        let membership = json!({"member_username": "ann", "member_token": "abc"});
        let row = member_row(None, &membership);
        assert_eq!(row["username"], "ann");
        assert_eq!(row["token"], "abc");
        assert_eq!(row["email"], Value::Null);
        let user = recorded("user.json");
        let row = member_row(Some(&user), &membership);
        assert_eq!(row["username"], "modeuser");
        assert_eq!(row["email"], "modeuser@example.com");
    }
}
