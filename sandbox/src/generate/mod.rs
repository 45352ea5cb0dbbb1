//! The generated workspace: deterministic from `seed`, `collections` and
//! `reports`, and recorded in full as the [`Truth`].
//!
//! Layout: collection 0 is the token owner's personal collection
//! (`space_type: "private"`, name "Personal"), collection 1 is empty,
//! collection 2 is a `community` one, the rest are `custom`. With 200 reports
//! or more, one collection holds `max(101, 30 %)` of them and two more hold
//! 31–40, so paging at 30 and at 100 per page are both exercised; the personal
//! collection gets about 5 % of the rest, the others share the remainder at
//! random. Every third custom collection also holds 1–3 datasets, and about
//! 10 % of reports import one or two of them.

mod ctx;
pub(crate) mod day;
mod objects;
mod people;
mod problems;
mod queries;
mod sources;
mod sql;

use std::collections::{BTreeSet, HashMap};

use serde_json::Value;

use super::config::SandboxConfig;
use super::truth::Truth;
use ctx::Gen;
use objects::ReportSpec;
use queries::{GenQuery, QueryLineage, QueryOwner};
use sources::Source;
use sql::Definition;

const SPACE_NAMES: [&str; 12] = [
    "Shared with everyone",
    "Finance",
    "Marketing Analytics",
    "Product 📊",
    "Sales Ops",
    "Données Produit",
    "データチーム",
    "Executive Dashboards",
    "Customer Success",
    "Growth",
    "Engineering Metrics",
    "Ad-hoc Analysis",
];

const REPORT_TOPICS: [&str; 16] = [
    "Revenue Overview",
    "Ventes Été 📈",
    "売上レポート",
    "Weekly KPIs",
    "Churn — Cohort Analysis",
    "Umsatz nach Region",
    "Продажи по регионам",
    "Marketing Funnel",
    "Customer 360",
    "Ops Daily",
    "Support Tickets 🎫",
    "Pipeline Review",
    "Données clients",
    "Inventory Health",
    "Growth Experiments",
    "Finance Close",
];

/// What every report needs from the rest of the workspace, and where each
/// query's tables come from (kept for simulated days).
pub(crate) struct World {
    sources: Vec<Source>,
    defs: Vec<Definition>,
    members: Vec<String>,
    account_id: i64,
    datasets: Vec<(String, String)>,
    lineage: HashMap<String, QueryLineage>,
}

impl World {
    /// A query's expected tables: its own and its definition's, canonical
    /// for its data source, sorted.
    fn expected_tables(&self, lineage: &QueryLineage) -> Vec<String> {
        let mut raw: BTreeSet<String> = lineage.own.clone();
        let def = lineage
            .definition
            .as_ref()
            .and_then(|name| self.defs.iter().find(|d| &d.name == name));
        if let Some(def) = def {
            raw.extend(def.tables.iter().cloned());
        }
        let source = self.sources.iter().find(|s| s.id == lineage.source_id);
        let tables: BTreeSet<String> = raw
            .iter()
            .map(|t| source.map_or_else(|| t.clone(), |s| s.canonical(t)))
            .collect();
        tables.into_iter().collect()
    }
}

/// Generates the whole workspace of `config`.
#[cfg(test)]
pub(crate) fn generate(config: &SandboxConfig) -> Truth {
    build(config).0
}

/// Generates the workspace and keeps what a simulated day needs to go on
/// from it: the generator (its tokens and ids stay unique) and the world.
pub(crate) fn build(config: &SandboxConfig) -> (Truth, day::Model) {
    let mut g = Gen::new(config.seed, &config.workspace);
    let people = people::people(&mut g, (config.reports / 9 + 1).max(3));
    let members: Vec<String> = people.iter().map(|p| p.username.clone()).collect();
    let account_id = g.id();
    let mut truth = Truth {
        workspace: objects::workspace(&mut g, account_id),
        users: people.iter().map(|p| p.user.clone()).collect(),
        memberships: people.iter().map(|p| p.membership.clone()).collect(),
        ..Truth::default()
    };
    let sources = sources::data_sources(&mut g, account_id);
    let defs = sql::definitions(&mut g, &sources, &members[0]);
    truth.data_sources = sources.iter().map(|s| s.value.clone()).collect();
    truth.definitions = defs.iter().map(|d| d.value.clone()).collect();
    truth.spaces = spaces(&mut g, config.collections, &members);
    objects::account_counts(&mut truth.workspace, truth.spaces.len(), sources.len());
    let mut world = World {
        sources,
        defs,
        members,
        account_id,
        datasets: Vec::new(),
        lineage: HashMap::new(),
    };
    add_datasets(&mut g, &mut truth, &mut world);
    let counts = allocate(&mut g, config.reports, truth.spaces.len());
    for (space, count) in truth.spaces.clone().iter().zip(counts) {
        for _ in 0..count {
            add_report(&mut g, &mut truth, &mut world, space);
        }
    }
    if config.item_problems {
        problems::apply(&mut g, &mut truth);
    }
    let model = day::Model::new(g, world, people.len());
    (truth, model)
}

fn spaces(g: &mut Gen, count: usize, members: &[String]) -> Vec<Value> {
    (0..count)
        .map(|i| {
            let creator = if i == 0 { &members[0] } else { g.pick(members) };
            match i {
                0 => objects::space(g, "Personal", "private", creator),
                1 => objects::space(g, "Empty Collection", "custom", creator),
                _ => {
                    let base = SPACE_NAMES[(i - 2) % SPACE_NAMES.len()];
                    let round = (i - 2) / SPACE_NAMES.len();
                    let name = match round {
                        0 => base.to_owned(),
                        n => format!("{base} {}", n + 1),
                    };
                    let kind = if i == 2 { "community" } else { "custom" };
                    objects::space(g, &name, kind, creator)
                }
            }
        })
        .collect()
}

/// Number of reports per collection (index 1, the empty one, gets none).
fn allocate(g: &mut Gen, reports: usize, spaces: usize) -> Vec<usize> {
    let mut counts = vec![0; spaces];
    let customs: Vec<usize> = (2..spaces).collect();
    let mut left = reports;
    let mut filled = Vec::new();
    if reports >= 200 && !customs.is_empty() {
        let big = (reports * 3 / 10).max(101);
        counts[customs[0]] = big;
        left -= big;
        for &slot in customs.iter().skip(1).take(2) {
            let n = (31 + g.below(10)).min(left);
            counts[slot] = n;
            left -= n;
        }
        filled = customs.iter().take(3).copied().collect();
    }
    if spaces == 0 {
        return counts;
    }
    let personal = if customs.is_empty() { left } else { left / 20 };
    counts[0] += personal;
    left -= personal;
    let mut rest: Vec<usize> = customs
        .into_iter()
        .filter(|i| !filled.contains(i))
        .collect();
    if rest.is_empty() {
        rest = if filled.is_empty() { vec![0] } else { filled };
    }
    for _ in 0..left {
        counts[*g.pick(&rest)] += 1;
    }
    counts
}

fn report_name(g: &mut Gen) -> String {
    let topic = *g.pick(&REPORT_TOPICS);
    match g.below(3) {
        0 => topic.to_owned(),
        1 => format!("{topic} {}", 2021 + g.int(0..=4)),
        _ => format!("{topic} #{}", g.int(1..=99)),
    }
}

/// Generates `count` queries of one report or dataset and records them.
fn add_queries(
    g: &mut Gen,
    truth: &mut Truth,
    world: &mut World,
    owner: &QueryOwner,
    count: usize,
) -> Vec<GenQuery> {
    let made: Vec<GenQuery> = (0..count).map(|_| new_query(g, world, owner)).collect();
    truth.queries.entry(owner.report.to_owned()).or_default();
    for query in &made {
        record_query(truth, world, owner.report, query);
    }
    made
}

/// One new query of `owner` on a random data source (not yet recorded).
fn new_query(g: &mut Gen, world: &World, owner: &QueryOwner) -> GenQuery {
    let source = &world.sources[g.below(world.sources.len())];
    queries::query(g, owner, source, &world.defs)
}

/// Appends a query to its report's list, with its charts, chart owners,
/// expected tables and lineage.
fn record_query(truth: &mut Truth, world: &mut World, report: &str, query: &GenQuery) {
    let token = query.token.clone();
    let list = truth.queries.entry(report.to_owned()).or_default();
    list.push(query.value.clone());
    let tables = world.expected_tables(&query.lineage);
    truth.expected_tables.insert(token.clone(), tables);
    // A dataset's queries have no charts: their chart list answers empty.
    truth.charts.insert(token.clone(), query.charts.clone());
    for chart in &query.charts {
        let chart_token = chart["token"].as_str().unwrap_or_default().to_owned();
        let owners = (report.to_owned(), token.clone());
        truth.chart_owner.insert(chart_token, owners);
    }
    world.lineage.insert(token, query.lineage.clone());
}

fn preview(made: &[GenQuery]) -> String {
    let sql = made.first().and_then(|q| q.value["raw_query"].as_str());
    sql.unwrap_or_default().chars().take(120).collect()
}

/// Adds one report to `space` (listing, detail, queries, charts); returns
/// its token.
fn add_report(g: &mut Gen, truth: &mut Truth, world: &mut World, space: &Value) -> String {
    let token = g.token();
    let name = report_name(g);
    let creator = g.pick(&world.members).clone();
    let owner = QueryOwner {
        report: &token,
        creator: &creator,
        title: &name,
        dataset: false,
    };
    let count = 1 + g.below(3);
    let made = add_queries(g, truth, world, &owner, count);
    let imports: Vec<(String, String)> = if !world.datasets.is_empty() && g.chance(0.1) {
        let k = 1 + g.below(2);
        let picked = g.distinct(world.datasets.len(), k);
        picked.iter().map(|&i| world.datasets[i].clone()).collect()
    } else {
        Vec::new()
    };
    let spec = ReportSpec {
        name: &name,
        space,
        creator: &creator,
        account_id: world.account_id,
        archived: g.chance(0.05),
        query_count: made.len(),
        chart_count: made.iter().map(|q| q.charts.len()).sum(),
        query_preview: preview(&made),
    };
    let listing = objects::report(g, &spec, &token, !imports.is_empty());
    let detail = objects::report_detail(&listing, &imports, &g.ws);
    truth.reports.push(listing);
    truth.report_details.insert(token.clone(), detail);
    token
}

fn add_datasets(g: &mut Gen, truth: &mut Truth, world: &mut World) {
    for space in truth.spaces.clone().iter().skip(2).step_by(3) {
        for _ in 0..1 + g.below(3) {
            let token = g.token();
            let name = format!("{} dataset", g.pick(&REPORT_TOPICS));
            let creator = g.pick(&world.members).clone();
            let owner = QueryOwner {
                report: &token,
                creator: &creator,
                title: &name,
                dataset: true,
            };
            let made = add_queries(g, truth, world, &owner, 1);
            let spec = ReportSpec {
                name: &name,
                space,
                creator: &creator,
                account_id: world.account_id,
                archived: false,
                query_count: made.len(),
                chart_count: 0,
                query_preview: preview(&made),
            };
            let (listing, detail) = objects::dataset(g, &spec, &token);
            truth.datasets.push(listing);
            truth.report_details.insert(token.clone(), detail);
            world.datasets.push((token, name));
        }
    }
}
