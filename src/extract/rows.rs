//! The rows of each file, one type per asset: castor's keys first, in
//! castor's order (castor-compat.md), then ours.
//!
//! A row's field order is its key order in the file. Values Mode sends pass
//! through untouched as [`Value`]s (ints stay ints, timestamps stay strings);
//! a key Mode did not send is `null`. Derived fields (`creator`, `web_url`,
//! `report_token`, a chart's `title`, …) are filled by the row's constructor,
//! the one place each asset is shaped. Rows are built as soon as an object
//! arrives so that the page bodies, with their `_forms` and preview URLs, are
//! dropped at once.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use url::Url;

use super::assets::Asset;
use crate::lineage::{Method, TableRead};
use crate::mode::hal;

/// Copies the fields of `T` out of a Mode object (`null` where missing; a
/// non-object gives an all-`null` row).
fn pick<T: DeserializeOwned + Default>(object: &Value) -> T {
    if !object.is_object() {
        // serde would read an array positionally; Mode's items are objects.
        return T::default();
    }
    T::deserialize(object).unwrap_or_default()
}

fn opt_string(value: Option<String>) -> Value {
    value.map(Value::String).unwrap_or(Value::Null)
}

/// `{ts}-datasource.json` (castor's keys): an item of `GET /api/{ws}/data_sources`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
#[allow(missing_docs)]
pub struct DatasourceRow {
    pub id: Value,
    pub token: Value,
    pub name: Value,
    pub host: Value,
    pub display_name: Value,
    pub description: Value,
    pub database: Value,
    pub provider: Value,
    pub vendor: Value,
    pub adapter: Value,
    pub created_at: Value,
    pub public: Value,
    pub queryable: Value,
}

impl DatasourceRow {
    /// The row of one data source object.
    pub fn from_mode(object: &Value) -> Self {
        pick(object)
    }
}

/// `{ts}-collection.json` (castor's keys): an item of
/// `GET /api/{ws}/spaces?filter=all`; `creator` from `_links.creator.href`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
#[allow(missing_docs)]
pub struct CollectionRow {
    pub id: Value,
    pub token: Value,
    pub space_type: Value,
    pub name: Value,
    pub description: Value,
    pub state: Value,
    pub default_access_level: Value,
    pub creator: Value,
}

impl CollectionRow {
    /// The row of one space object.
    pub fn from_mode(object: &Value) -> Self {
        CollectionRow {
            creator: opt_string(hal::creator(object)),
            ..pick(object)
        }
    }
}

/// A report (or dataset) as its collection's listing gives it
/// (`GET /api/{ws}/spaces/{s}/reports` or `/datasets`): castor's keys and
/// `creator`, then the activity keys, then `web_url` (absolute, from
/// `_links.web.href`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
#[allow(missing_docs)]
pub struct ReportListing {
    pub id: Value,
    pub token: Value,
    pub name: Value,
    pub description: Value,
    #[serde(rename = "type")]
    pub kind: Value,
    pub archived: Value,
    pub space_token: Value,
    pub public: Value,
    pub created_at: Value,
    pub updated_at: Value,
    pub published_at: Value,
    pub edited_at: Value,
    pub is_embedded: Value,
    pub query_count: Value,
    pub chart_count: Value,
    pub view_count: Value,
    pub creator: Value,
    pub last_run_at: Value,
    pub last_successfully_run_at: Value,
    pub last_saved_at: Value,
    pub runs_count: Value,
    pub account_username: Value,
    pub web_url: Value,
}

impl ReportListing {
    /// The listing row of one report object; `host` makes `web_url` absolute.
    pub fn from_mode(object: &Value, host: &Url) -> Self {
        let web = hal::link(object, "web").and_then(|href| host.join(href).ok());
        ReportListing {
            creator: opt_string(hal::creator(object)),
            web_url: opt_string(web.map(String::from)),
            ..pick(object)
        }
    }

    /// The report token, `""` when Mode sent none.
    pub fn token(&self) -> &str {
        self.token.as_str().unwrap_or_default()
    }
}

/// `{ts}-report.json`: the listing, then `creator_email`, the creator's email
/// among the run's members (`null` when not a member or not known).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ReportRow {
    /// The listing's keys.
    #[serde(flatten)]
    pub listing: ReportListing,
    /// The creator's email.
    #[serde(default)]
    pub creator_email: Value,
}

impl ReportRow {
    /// A report row; `email_of` maps a creator username to its email.
    pub fn new(listing: ReportListing, email_of: impl Fn(&str) -> Option<Value>) -> Self {
        let creator_email = listing
            .creator
            .as_str()
            .and_then(email_of)
            .unwrap_or(Value::Null);
        ReportRow {
            listing,
            creator_email,
        }
    }
}

/// `{ts}-query.json` (castor's keys): an item of
/// `GET /api/{ws}/reports/{r}/queries`, then `report_token` (the report it
/// was listed under).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
#[allow(missing_docs)]
pub struct QueryRow {
    pub id: Value,
    pub token: Value,
    pub name: Value,
    pub data_source_id: Value,
    pub raw_query: Value,
    pub report_token: Value,
}

impl QueryRow {
    /// The row of one query object of `report_token`.
    pub fn from_mode(object: &Value, report_token: &str) -> Self {
        QueryRow {
            report_token: Value::String(report_token.to_owned()),
            ..pick(object)
        }
    }

    /// The query token, `""` when Mode sent none.
    pub fn token(&self) -> &str {
        self.token.as_str().unwrap_or_default()
    }
}

/// `{ts}-chart.json`: an item of `GET /api/{ws}/reports/{r}/queries/{q}/charts`.
///
/// Title and type come from `view_vegas` (`title`, `chartType`), or from the
/// legacy `view` (`chartTitle`, `selectedChart`) when `view_vegas` is empty
/// (both shapes: `fixtures/mode-recorded/charts.json`);
/// `web_path` is `_links.report_viz_web.href`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
#[allow(missing_docs)]
pub struct ChartRow {
    pub token: Value,
    pub report_token: Value,
    pub query_token: Value,
    pub title: Value,
    pub chart_type: Value,
    pub view_version: Value,
    pub created_at: Value,
    pub updated_at: Value,
    pub web_path: Value,
}

/// The fields a chart row copies as they are.
#[derive(Default, Deserialize)]
#[serde(default)]
struct ChartFields {
    token: Value,
    view_version: Value,
    created_at: Value,
    updated_at: Value,
}

impl ChartRow {
    /// The row of one chart object of query `query_token` of `report_token`.
    pub fn from_mode(object: &Value, report_token: &str, query_token: &str) -> Self {
        let vegas = object.get("view_vegas").filter(|v| is_non_empty(v));
        let legacy = object.get("view").filter(|v| is_non_empty(v));
        let pick_view = |vegas_key: &str, legacy_key: &str| {
            vegas
                .and_then(|v| v.get(vegas_key))
                .filter(|v| !v.is_null())
                .or_else(|| legacy.and_then(|v| v.get(legacy_key)))
                .cloned()
                .unwrap_or(Value::Null)
        };
        let fields: ChartFields = pick(object);
        ChartRow {
            token: fields.token,
            report_token: Value::String(report_token.into()),
            query_token: Value::String(query_token.into()),
            title: pick_view("title", "chartTitle"),
            chart_type: pick_view("chartType", "selectedChart"),
            view_version: fields.view_version,
            created_at: fields.created_at,
            updated_at: fields.updated_at,
            web_path: opt_string(hal::link(object, "report_viz_web").map(str::to_owned)),
        }
    }
}

fn is_non_empty(value: &Value) -> bool {
    match value {
        Value::Object(m) => !m.is_empty(),
        Value::Null => false,
        _ => true,
    }
}

/// `{ts}-member.json` (castor's keys): the user object (`GET /api/{username}`)
/// of one membership (`GET /api/{ws}/memberships`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
#[allow(missing_docs)]
pub struct MemberRow {
    pub id: Value,
    pub token: Value,
    pub username: Value,
    pub name: Value,
    pub email: Value,
    pub created_at: Value,
}

impl MemberRow {
    /// The row of a membership's user; when the user could not be fetched,
    /// `token` and `username` come from the membership (`member_token`,
    /// `member_username`).
    pub fn from_mode(user: Option<&Value>, membership: &Value) -> Self {
        let mut row: MemberRow = user.map(pick).unwrap_or_default();
        let fallback = |key: &str| membership.get(key).cloned().unwrap_or(Value::Null);
        if row.token.is_null() {
            row.token = fallback("member_token");
        }
        if row.username.is_null() {
            row.username = fallback("member_username");
        }
        row
    }
}

/// `{ts}-definition.json`: an item of `GET /api/{ws}/definitions`, `creator`
/// from `_links.creator.href`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
#[allow(missing_docs)]
pub struct DefinitionRow {
    pub id: Value,
    pub token: Value,
    pub name: Value,
    pub description: Value,
    pub source: Value,
    pub data_source_id: Value,
    pub created_at: Value,
    pub updated_at: Value,
    pub creator: Value,
}

impl DefinitionRow {
    /// The row of one definition object.
    pub fn from_mode(object: &Value) -> Self {
        DefinitionRow {
            creator: opt_string(hal::creator(object)),
            ..pick(object)
        }
    }
}

/// `{ts}-dataset.json`: a dataset's listing (the report keys, `creator_email`
/// always `null`), then its `queries` and the tokens of the reports importing
/// it (`imported_by`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DatasetRow {
    /// The listing's keys and `creator_email`.
    #[serde(flatten)]
    pub report: ReportRow,
    /// Its query rows.
    #[serde(default)]
    pub queries: Vec<QueryRow>,
    /// Tokens of the reports importing it, in report order.
    #[serde(default)]
    pub imported_by: Vec<String>,
}

/// The data source of a lineage row: four of its keys.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[allow(missing_docs)]
pub struct LineageSource {
    pub id: Value,
    pub adapter: Value,
    pub database: Value,
    pub host: Value,
}

impl From<&DatasourceRow> for LineageSource {
    fn from(d: &DatasourceRow) -> Self {
        LineageSource {
            id: d.id.clone(),
            adapter: d.adapter.clone(),
            database: d.database.clone(),
            host: d.host.clone(),
        }
    }
}

/// `{ts}-lineage.json`: the tables one query reads (see [`crate::lineage`]).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LineageRow {
    /// The report (or dataset) of the query.
    pub report_token: String,
    /// The query's token.
    pub query_token: Value,
    /// The query's data source, `null` when it names no known one.
    pub data_source: Option<LineageSource>,
    /// Tables read (`name` canonical, `as_written`, `via_definition`).
    pub tables: Vec<TableRead>,
    /// `parsed`, `parsed_after_templating`, `fallback` or `unparsed`.
    pub method: Method,
    /// The sqlparser dialect.
    pub dialect: String,
    /// The parser's message when unparsed, and templating notes.
    pub error: Option<String>,
    /// Definition names used.
    pub definitions: Vec<String>,
}

/// One row of a run, tagged by its asset: what the writers receive.
#[derive(Debug, Clone, PartialEq)]
#[allow(missing_docs)]
pub enum RunRow {
    Datasource(DatasourceRow),
    Collection(CollectionRow),
    Report(ReportRow),
    Query(QueryRow),
    Member(MemberRow),
    Chart(ChartRow),
    Dataset(DatasetRow),
    Definition(DefinitionRow),
    Lineage(LineageRow),
}

impl RunRow {
    /// The asset (and so the file) the row belongs to.
    pub fn asset(&self) -> Asset {
        match self {
            RunRow::Datasource(_) => Asset::Datasource,
            RunRow::Collection(_) => Asset::Collection,
            RunRow::Report(_) => Asset::Report,
            RunRow::Query(_) => Asset::Query,
            RunRow::Member(_) => Asset::Member,
            RunRow::Chart(_) => Asset::Chart,
            RunRow::Dataset(_) => Asset::Dataset,
            RunRow::Definition(_) => Asset::Definition,
            RunRow::Lineage(_) => Asset::Lineage,
        }
    }

    /// The row's identity within its asset: its `token` (a lineage row's
    /// `query_token`), `null` when Mode sent none.
    pub fn token(&self) -> &Value {
        match self {
            RunRow::Datasource(r) => &r.token,
            RunRow::Collection(r) => &r.token,
            RunRow::Report(r) => &r.listing.token,
            RunRow::Query(r) => &r.token,
            RunRow::Member(r) => &r.token,
            RunRow::Chart(r) => &r.token,
            RunRow::Dataset(r) => &r.report.listing.token,
            RunRow::Definition(r) => &r.token,
            RunRow::Lineage(r) => &r.query_token,
        }
    }

    /// The row's human name (`name`, a member's `username`, a chart's
    /// `title`; `null` for lineage rows).
    pub fn name(&self) -> &Value {
        match self {
            RunRow::Datasource(r) => &r.name,
            RunRow::Collection(r) => &r.name,
            RunRow::Report(r) => &r.listing.name,
            RunRow::Query(r) => &r.name,
            RunRow::Member(r) => &r.username,
            RunRow::Chart(r) => &r.title,
            RunRow::Dataset(r) => &r.report.listing.name,
            RunRow::Definition(r) => &r.name,
            RunRow::Lineage(_) => &Value::Null,
        }
    }
}

impl Serialize for RunRow {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            RunRow::Datasource(r) => r.serialize(serializer),
            RunRow::Collection(r) => r.serialize(serializer),
            RunRow::Report(r) => r.serialize(serializer),
            RunRow::Query(r) => r.serialize(serializer),
            RunRow::Member(r) => r.serialize(serializer),
            RunRow::Chart(r) => r.serialize(serializer),
            RunRow::Dataset(r) => r.serialize(serializer),
            RunRow::Definition(r) => r.serialize(serializer),
            RunRow::Lineage(r) => r.serialize(serializer),
        }
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

    fn keys<T: Serialize>(row: &T) -> Vec<String> {
        let value = serde_json::to_value(row).unwrap();
        value.as_object().unwrap().keys().cloned().collect()
    }

    #[test]
    fn recorded_report_keeps_castor_keys_in_order() {
        let host = Url::parse("https://app.mode.com").unwrap();
        let reports = hal::embedded(recorded("reports_75737b70402e.json"), "reports");
        let listing = ReportListing::from_mode(&reports[0], &host);
        let row = ReportRow::new(listing, |_| Some("a@b".into()));
        let keys = keys(&row);
        let castor = [
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
        assert_eq!(&keys[..17], &castor[..]);
        assert_eq!(keys.last().map(String::as_str), Some("creator_email"));
        assert_eq!(row.listing.creator, "modeuser");
        assert_eq!(row.creator_email, "a@b");
        assert_eq!(row.listing.id, 2934237);
        assert_eq!(row.listing.published_at, Value::Null);
        assert_eq!(
            row.listing.web_url,
            "https://app.mode.com/acryltest/reports/9d2da37fa91e"
        );
    }

    #[test]
    fn recorded_chart_takes_title_from_view_vegas() {
        let charts = hal::embedded(recorded("charts.json"), "charts");
        let row = ChartRow::from_mode(&charts[0], "r", "q");
        assert_eq!(row.title, "Customer Staff Table");
        assert_eq!(row.chart_type, "table");
        assert_eq!(
            row.web_path,
            "/acryltest/reports/9d2da37fa91e/viz/f622b9ee725b"
        );
    }

    #[test]
    fn legacy_chart_shape() {
        let chart = json!({"token": "t", "view": {"selectedChart": "bar", "chartTitle": "Old"}, "view_vegas": {}});
        let row = ChartRow::from_mode(&chart, "r", "q");
        assert_eq!(
            (row.title.as_str(), row.chart_type.as_str()),
            (Some("Old"), Some("bar"))
        );
    }

    #[test]
    fn member_falls_back_to_membership() {
        let membership = json!({"member_username": "ann", "member_token": "abc"});
        let row = MemberRow::from_mode(None, &membership);
        assert_eq!(row.username, "ann");
        assert_eq!(row.token, "abc");
        assert_eq!(row.email, Value::Null);
        let user = recorded("user.json");
        let row = MemberRow::from_mode(Some(&user), &membership);
        assert_eq!(row.username, "modeuser");
        assert_eq!(row.email, "modeuser@example.com");
    }

    #[test]
    fn rows_round_trip_through_json() {
        let host = Url::parse("https://app.mode.com").unwrap();
        let reports = hal::embedded(recorded("reports_75737b70402e.json"), "reports");
        let report = ReportRow::new(ReportListing::from_mode(&reports[0], &host), |_| None);
        let dataset = DatasetRow {
            report,
            queries: vec![QueryRow::from_mode(&json!({"id": 1, "token": "q"}), "r")],
            imported_by: vec!["x".into()],
        };
        let text = serde_json::to_string(&dataset).unwrap();
        let back: DatasetRow = serde_json::from_str(&text).unwrap();
        assert_eq!(back, dataset);
        assert_eq!(serde_json::to_string(&back).unwrap(), text);
    }

    #[test]
    fn ints_stay_ints_and_missing_keys_are_null() {
        let row = DatasourceRow::from_mode(&json!({"id": 7, "token": "t", "queryable": true}));
        assert_eq!(
            serde_json::to_string(&row).unwrap(),
            r#"{"id":7,"token":"t","name":null,"host":null,"display_name":null,"description":null,"database":null,"provider":null,"vendor":null,"adapter":null,"created_at":null,"public":null,"queryable":true}"#
        );
        assert_eq!(
            DatasourceRow::from_mode(&json!([1])),
            DatasourceRow::default()
        );
    }
}
