//! From a run's rows to OpenMetadata's create requests (`CreateChartRequest`,
//! `CreateDashboardDataModelRequest`, `CreateDashboardRequest`,
//! `AddLineageRequest`), following OpenMetadata's Mode connector where it has
//! a rule (names, data model type, URLs) and going further where it has none
//! (collections as `project`, chart types, datasets, lineage from our parse).
//!
//! Bodies carry only fields of those request schemas, and only when there is a
//! value: the schemas refuse unknown fields (checked by `scripts/om_validate.py`).

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde_json::{Map, Value, json};

use super::config::DbServices;
use super::fqn;
use super::rows::{LineageRow, QueryRow, RunRows};

/// The kinds of entity a push writes, in dependency order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    /// `/v1/services/dashboardServices`.
    Service,
    /// `/v1/charts`.
    Chart,
    /// `/v1/dashboard/datamodels`.
    DataModel,
    /// `/v1/dashboards`.
    Dashboard,
    /// `/v1/lineage`.
    Lineage,
}

impl Kind {
    /// The collection's path segments under `/v1`.
    pub const fn path(self) -> &'static [&'static str] {
        match self {
            Kind::Service => &["services", "dashboardServices"],
            Kind::Chart => &["charts"],
            Kind::DataModel => &["dashboard", "datamodels"],
            Kind::Dashboard => &["dashboards"],
            Kind::Lineage => &["lineage"],
        }
    }

    /// A word for listings and logs.
    pub const fn label(self) -> &'static str {
        match self {
            Kind::Service => "service",
            Kind::Chart => "chart",
            Kind::DataModel => "datamodel",
            Kind::Dashboard => "dashboard",
            Kind::Lineage => "lineage",
        }
    }
}

/// One entity to create or update with `PUT`.
#[derive(Debug, Clone, PartialEq)]
pub struct Entity {
    /// Its kind.
    pub kind: Kind,
    /// Its fully qualified name.
    pub fqn: String,
    /// The create request.
    pub body: Value,
}

/// A dashboard: its request, plus what is only known while pushing.
#[derive(Debug, Clone, PartialEq)]
pub struct DashboardPlan {
    /// The request without `owners`; `charts` and `dataModels` list every FQN
    /// the run has (those that failed are dropped before sending).
    pub entity: Entity,
    /// The creator's email, looked up in OpenMetadata for `owners`.
    pub owner_email: Option<String>,
}

/// One lineage edge wanted: a table (looked up by FQN) into a data model.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EdgePlan {
    /// The table's FQN in its database service.
    pub table_fqn: String,
    /// The data model's FQN.
    pub data_model_fqn: String,
    /// The query's SQL.
    pub sql: Option<String>,
}

/// A lineage table that cannot be looked up, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unmapped {
    /// The data model it would feed.
    pub data_model_fqn: String,
    /// The table as the lineage file names it.
    pub table: String,
    /// Why no FQN could be built.
    pub reason: String,
}

/// Everything a run maps to.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Mapped {
    /// Charts.
    pub charts: Vec<Entity>,
    /// Data models (report and dataset queries).
    pub data_models: Vec<Entity>,
    /// Dashboards (reports).
    pub dashboards: Vec<DashboardPlan>,
    /// Lineage edges to add, once the table is found.
    pub edges: Vec<EdgePlan>,
    /// Lineage tables left out before any lookup.
    pub unmapped: Vec<Unmapped>,
}

/// `CreateDashboardServiceRequest` of a Mode service with no stored connection.
pub fn service_body(service: &str) -> Value {
    json!({
        "name": service,
        "serviceType": "Mode",
        "description": "Mode workspace pushed by mode-extractor (no stored credentials).",
    })
}

/// OpenMetadata's `chartType` for Mode's chart type (`view_vegas.chartType`),
/// the families DataHub's and castor's Mode connectors use; `Other` when unknown.
pub fn chart_type(mode: Option<&str>) -> &'static str {
    match mode.unwrap_or_default() {
        "line" => "Line",
        "bar" | "hBar" | "stackedBar" | "stackedBar100" | "hStackedBar" | "hStackedBar100" => "Bar",
        "area" | "totalArea" => "Area",
        "pie" | "donut" => "Pie",
        "scatter" => "Scatter",
        "histogram" => "Histogram",
        "table" | "pivotTable" | "vegasPivotTable" => "Table",
        "bigValue" | "bigNumber" => "Text",
        "map" | "pointMap" | "choropleth" => "Map",
        "heatmap" => "Heatmap",
        _ => "Other",
    }
}

/// Maps a run's rows for the dashboard service `service`.
pub fn map_run(rows: &RunRows, service: &str, db_services: &DbServices) -> Mapped {
    let ctx = Context::new(rows, service);
    let charts = ctx.charts();
    let (data_models, models_of, sql_of) = ctx.data_models();
    let dashboards = ctx.dashboards(&charts, models_of);
    let mut mapped = Mapped {
        charts,
        data_models,
        dashboards,
        ..Mapped::default()
    };
    map_lineage(rows, service, db_services, &sql_of, &mut mapped);
    mapped
}

/// Data model FQNs per report token (its own and its datasets').
type ModelsOf<'a> = BTreeMap<&'a str, BTreeSet<String>>;

/// What the mapping of one run looks up.
struct Context<'a> {
    rows: &'a RunRows,
    service: &'a str,
    /// Collection token → name.
    projects: HashMap<&'a str, &'a str>,
    /// Report token → report.
    reports: HashMap<&'a str, &'a super::rows::ReportRow>,
}

impl<'a> Context<'a> {
    fn new(rows: &'a RunRows, service: &'a str) -> Context<'a> {
        Context {
            rows,
            service,
            projects: rows
                .collections
                .iter()
                .filter_map(|c| Some((c.token.as_str(), c.name.as_deref()?)))
                .collect(),
            reports: rows.reports.iter().map(|r| (r.token.as_str(), r)).collect(),
        }
    }

    fn project(&self, space: Option<&str>) -> Option<&'a str> {
        space.and_then(|s| self.projects.get(s).copied())
    }

    fn charts(&self) -> Vec<Entity> {
        self.rows
            .charts
            .iter()
            .map(|c| {
                let report = self.reports.get(c.report_token.as_str());
                let origin = report.and_then(|r| origin(r.web_url.as_deref()?));
                chart_entity(c, self.service, origin.as_ref())
            })
            .collect()
    }

    /// Report and dataset queries, which dashboards hold them, and their SQL.
    fn data_models(&self) -> (Vec<Entity>, ModelsOf<'a>, HashMap<String, Option<String>>) {
        let (mut models, mut of, mut sql) = (Vec::new(), ModelsOf::new(), HashMap::new());
        for q in &self.rows.queries {
            let report = self.reports.get(q.report_token.as_str());
            let url = report.and_then(|r| r.web_url.as_deref());
            let project = report.and_then(|r| self.project(r.space_token.as_deref()));
            let entity = data_model_entity(q, self.service, url, project);
            of.entry(q.report_token.as_str())
                .or_default()
                .insert(entity.fqn.clone());
            sql.insert(entity.fqn.clone(), q.raw_query.clone());
            models.push(entity);
        }
        for d in &self.rows.datasets {
            let project = self.project(d.space_token.as_deref());
            for q in &d.queries {
                let entity = data_model_entity(q, self.service, d.web_url.as_deref(), project);
                for importer in &d.imported_by {
                    of.entry(importer.as_str())
                        .or_default()
                        .insert(entity.fqn.clone());
                }
                sql.insert(entity.fqn.clone(), q.raw_query.clone());
                models.push(entity);
            }
        }
        (models, of, sql)
    }

    fn dashboards(&self, charts: &[Entity], mut models_of: ModelsOf<'a>) -> Vec<DashboardPlan> {
        let mut charts_of: BTreeMap<&str, Vec<String>> = BTreeMap::new();
        for (c, e) in self.rows.charts.iter().zip(charts) {
            charts_of
                .entry(c.report_token.as_str())
                .or_default()
                .push(e.fqn.clone());
        }
        self.rows
            .reports
            .iter()
            .map(|r| {
                let charts = charts_of.remove(r.token.as_str()).unwrap_or_default();
                let models: Vec<String> = models_of
                    .remove(r.token.as_str())
                    .map(|s| s.into_iter().collect())
                    .unwrap_or_default();
                let body = object([
                    ("name", Some(json!(r.token))),
                    ("displayName", r.name.clone().map(Value::from)),
                    ("description", non_empty(r.description.as_deref())),
                    ("sourceUrl", r.web_url.clone().map(Value::from)),
                    (
                        "project",
                        self.project(r.space_token.as_deref()).map(Value::from),
                    ),
                    ("charts", Some(json!(charts))),
                    ("dataModels", Some(json!(models))),
                    ("service", Some(json!(self.service))),
                ]);
                DashboardPlan {
                    entity: Entity {
                        kind: Kind::Dashboard,
                        fqn: fqn::dashboard(self.service, &r.token),
                        body,
                    },
                    owner_email: r.creator_email.clone().filter(|e| e.contains('@')),
                }
            })
            .collect()
    }
}

fn map_lineage(
    rows: &RunRows,
    service: &str,
    db_services: &DbServices,
    sql_of: &HashMap<String, Option<String>>,
    mapped: &mut Mapped,
) {
    let tokens: HashMap<i64, Option<&str>> = rows
        .data_sources
        .iter()
        .map(|d| (d.id, d.token.as_deref()))
        .collect();
    let mut seen = BTreeSet::new();
    for row in &rows.lineage {
        let model = fqn::data_model(
            service,
            &fqn::data_model_name(&row.report_token, &row.query_token),
        );
        let Some(sql) = sql_of.get(&model) else {
            continue;
        };
        for table in &row.tables {
            match table_fqn(row, &table.name, db_services, &tokens) {
                Ok(table_fqn) => {
                    if seen.insert((table_fqn.clone(), model.clone())) {
                        mapped.edges.push(EdgePlan {
                            table_fqn,
                            data_model_fqn: model.clone(),
                            sql: sql.clone(),
                        });
                    }
                }
                Err(reason) => mapped.unmapped.push(Unmapped {
                    data_model_fqn: model.clone(),
                    table: table.name.clone(),
                    reason,
                }),
            }
        }
    }
}

/// The table's FQN in its data source's database service: a
/// `database.schema.table` name as is, a `schema.table` one with the data
/// source's database.
fn table_fqn(
    row: &LineageRow,
    name: &str,
    db_services: &DbServices,
    tokens: &HashMap<i64, Option<&str>>,
) -> Result<String, String> {
    let Some(source) = &row.data_source else {
        return Err("the query's data source is unknown".into());
    };
    let token = tokens.get(&source.id).copied().flatten();
    let Some(service) = db_services.service_for(source.id, token) else {
        return Err(format!(
            "no --db-service for data source {}{}",
            source.id,
            token.map(|t| format!(" ({t})")).unwrap_or_default()
        ));
    };
    let parts: Vec<&str> = name.split('.').collect();
    match parts.as_slice() {
        [db, schema, table] => Ok(fqn::table(service, db, schema, table)),
        [schema, table] => match source.database.as_deref().filter(|d| !d.is_empty()) {
            Some(db) => Ok(fqn::table(service, db, schema, table)),
            None => Err("unqualified and the data source names no database".into()),
        },
        _ => Err("not a database.schema.table name".into()),
    }
}

fn chart_entity(c: &super::rows::ChartRow, service: &str, origin: Option<&String>) -> Entity {
    let url = match (origin, c.web_path.as_deref()) {
        (Some(o), Some(p)) => Some(json!(format!("{o}{p}"))),
        _ => None,
    };
    Entity {
        kind: Kind::Chart,
        fqn: fqn::chart(service, &c.token),
        body: object([
            ("name", Some(json!(c.token))),
            ("displayName", c.title.clone().map(Value::from)),
            (
                "chartType",
                Some(json!(chart_type(c.chart_type.as_deref()))),
            ),
            ("sourceUrl", url),
            ("service", Some(json!(service))),
        ]),
    }
}

fn data_model_entity(
    q: &QueryRow,
    service: &str,
    parent_url: Option<&str>,
    project: Option<&str>,
) -> Entity {
    let name = fqn::data_model_name(&q.report_token, &q.token);
    let url = parent_url.map(|u| json!(format!("{u}/queries/{}", q.token)));
    Entity {
        kind: Kind::DataModel,
        fqn: fqn::data_model(service, &name),
        body: object([
            ("name", Some(json!(name))),
            ("displayName", q.name.clone().map(Value::from)),
            ("service", Some(json!(service))),
            ("serviceType", Some(json!("Mode"))),
            ("dataModelType", Some(json!("ModeDataModel"))),
            ("sourceUrl", url),
            ("sql", q.raw_query.clone().map(Value::from)),
            ("columns", Some(json!([]))),
            ("project", project.map(Value::from)),
        ]),
    }
}

/// `AddLineageRequest` of a table into a data model.
pub fn lineage_body(table_id: &str, data_model_id: &str, sql: Option<&str>) -> Value {
    let details = object([
        ("sqlQuery", sql.map(Value::from)),
        ("source", Some(json!("DashboardLineage"))),
    ]);
    json!({
        "edge": {
            "fromEntity": {"id": table_id, "type": "table"},
            "toEntity": {"id": data_model_id, "type": "dashboardDataModel"},
            "lineageDetails": details,
        }
    })
}

fn non_empty(text: Option<&str>) -> Option<Value> {
    text.filter(|t| !t.trim().is_empty()).map(Value::from)
}

/// `scheme://host[:port]` of a URL.
fn origin(url: &str) -> Option<String> {
    let parsed = url::Url::parse(url).ok()?;
    let origin = parsed.origin();
    origin.is_tuple().then(|| origin.ascii_serialization())
}

/// A JSON object of the pairs that have a value.
fn object<const N: usize>(pairs: [(&str, Option<Value>); N]) -> Value {
    let map: Map<String, Value> = pairs
        .into_iter()
        .filter_map(|(k, v)| Some((k.to_owned(), v?)))
        .collect();
    Value::Object(map)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::openmetadata::rows::*;

    fn rows() -> RunRows {
        let q = |t: &str, r: &str| QueryRow {
            token: t.into(),
            name: Some(format!("query {t}")),
            raw_query: Some("select 1 from s.t".into()),
            report_token: r.into(),
            data_source_id: Some(7),
        };
        RunRows {
            ts: 1,
            reports: vec![ReportRow {
                token: "r1".into(),
                name: Some("Revenue".into()),
                description: None,
                space_token: Some("c1".into()),
                web_url: Some("https://app.mode.com/ws/reports/r1".into()),
                creator_email: Some("ann@example.com".into()),
            }],
            datasets: vec![DatasetRow {
                token: "d1".into(),
                name: None,
                description: None,
                space_token: None,
                web_url: None,
                creator_email: None,
                queries: vec![q("dq", "d1")],
                imported_by: vec!["r1".into(), "gone".into()],
            }],
            queries: vec![q("q1", "r1")],
            charts: vec![ChartRow {
                token: "c9".into(),
                report_token: "r1".into(),
                query_token: Some("q1".into()),
                title: Some("Trend".into()),
                chart_type: Some("hStackedBar".into()),
                web_path: Some("/ws/reports/r1/viz/c9".into()),
            }],
            collections: vec![CollectionRow {
                token: "c1".into(),
                name: Some("Finance".into()),
            }],
            data_sources: vec![DataSourceRow {
                id: 7,
                token: Some("ds7".into()),
                database: Some("analytics".into()),
            }],
            lineage: vec![LineageRow {
                report_token: "r1".into(),
                query_token: "q1".into(),
                data_source: Some(LineageSource {
                    id: 7,
                    database: Some("analytics".into()),
                }),
                tables: vec![
                    LineageTable {
                        name: "analytics.s.t".into(),
                    },
                    LineageTable { name: "s.u".into() },
                    LineageTable { name: "x".into() },
                ],
            }],
        }
    }

    #[test]
    fn a_report_maps_to_its_entities() {
        let m = map_run(&rows(), "mode", &DbServices::parse("ds7=pg").unwrap());
        assert_eq!(m.charts[0].body["chartType"], "Bar");
        assert_eq!(
            m.charts[0].body["sourceUrl"],
            "https://app.mode.com/ws/reports/r1/viz/c9"
        );
        let d = &m.dashboards[0].entity.body;
        assert_eq!(d["project"], "Finance");
        assert_eq!(d["charts"], json!(["mode.c9"]));
        assert_eq!(
            d["dataModels"],
            json!(["mode.model.\"d1.dq\"", "mode.model.\"r1.q1\""])
        );
        assert!(d.get("description").is_none());
        assert_eq!(
            m.dashboards[0].owner_email.as_deref(),
            Some("ann@example.com")
        );
        assert_eq!(m.data_models.len(), 2);
        assert_eq!(m.data_models[0].body["sql"], "select 1 from s.t");
        assert_eq!(m.data_models[0].body["project"], "Finance");
        let tables: Vec<_> = m.edges.iter().map(|e| e.table_fqn.as_str()).collect();
        assert_eq!(tables, ["pg.analytics.s.t", "pg.analytics.s.u"]);
        assert_eq!(m.unmapped.len(), 1);
    }

    #[test]
    fn no_db_service_means_no_edges() {
        let m = map_run(&rows(), "mode", &DbServices::None);
        assert!(m.edges.is_empty());
        assert_eq!(m.unmapped.len(), 3);
    }
}
