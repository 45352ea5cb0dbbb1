//! Content edits of a day: a report's SQL, queries and charts, and rewritten
//! definitions with the lineage that follows them.

use std::collections::HashSet;

use serde_json::Value;

use super::super::queries::{self, QueryOwner};
use super::super::sql;
use super::super::{World, new_query, record_query};
use super::reports::{drop_query, stamp_created};
use super::{Day, iso};
use crate::truth::Truth;

/// Chart title prefixes: the generator's three, then the edits' own.
const PREFIXES: [&str; 6] = [
    "Trend of",
    "Breakdown of",
    "Total",
    "Weekly view of",
    "Share of",
    "Latest",
];

/// One of six edits at random; one that does not apply (no chart to remove,
/// a single query) becomes an SQL change.
pub(super) fn edit(day: &mut Day, report: &str, t: i64) {
    let queries = query_tokens(day.truth, report);
    let charts = chart_pairs(day.truth, &queries);
    let done = match day.g.below(6) {
        1 => add_query(day, report, t),
        2 if queries.len() >= 2 => remove_query(day, report, &queries),
        3 if !queries.is_empty() => add_chart(day, report, &queries, t),
        4 if !charts.is_empty() => remove_chart(day, &charts),
        5 if !charts.is_empty() => retitle_chart(day, &charts, t),
        _ => false,
    };
    if !done {
        change_sql(day, report, &queries, t);
    }
}

fn query_tokens(truth: &Truth, report: &str) -> Vec<String> {
    let queries = truth.queries.get(report).into_iter().flatten();
    queries
        .filter_map(|q| q["token"].as_str().map(str::to_owned))
        .collect()
}

/// Every (query, chart index) of the given queries.
fn chart_pairs(truth: &Truth, queries: &[String]) -> Vec<(String, usize)> {
    queries
        .iter()
        .flat_map(|q| {
            let n = truth.charts.get(q).map_or(0, Vec::len);
            (0..n).map(move |i| (q.clone(), i))
        })
        .collect()
}

/// The report's name (for SQL comments) and a current member as editor.
fn owner_parts(day: &mut Day, report: &str) -> (String, String) {
    let title = super::reports::listing(day.truth, &day.index, report)
        .and_then(|r| r["name"].as_str())
        .unwrap_or_default()
        .to_owned();
    let editor = day.g.pick(&day.world.members).clone();
    (title, editor)
}

fn change_sql(day: &mut Day, report: &str, queries: &[String], t: i64) {
    let Some(query) = queries.get(day.g.below(queries.len())) else {
        return;
    };
    let (title, _) = owner_parts(day, report);
    let Some(lineage) = day.world.lineage.get(query).cloned() else {
        return;
    };
    let Some(source) = day
        .world
        .sources
        .iter()
        .find(|s| s.id == lineage.source_id)
        .cloned()
    else {
        return;
    };
    let old = served_query(day.truth, report, query).map(|q| q["raw_query"].clone());
    // A few draws make a text different from today's (short ones can repeat).
    let mut made = sql::query_sql(day.g, &source, &day.world.defs, &title);
    for _ in 0..8 {
        if old.as_ref().and_then(Value::as_str) != Some(made.sql.as_str()) {
            break;
        }
        made = sql::query_sql(day.g, &source, &day.world.defs, &title);
    }
    if let Some(value) = served_query_mut(day.truth, report, query) {
        value["raw_query"] = Value::from(made.sql.clone());
        value["updated_at"] = Value::from(iso(t));
    }
    let lineage = queries::QueryLineage {
        own: made.own,
        definition: made.definition,
        columns: made.columns,
        ..lineage
    };
    let tables = day.world.expected_tables(&lineage);
    day.truth.expected_tables.insert(query.clone(), tables);
    day.world.lineage.insert(query.clone(), lineage);
}

fn served_query<'a>(truth: &'a Truth, report: &str, query: &str) -> Option<&'a Value> {
    let list = truth.queries.get(report)?;
    list.iter().find(|q| q["token"] == query)
}

fn served_query_mut<'a>(truth: &'a mut Truth, report: &str, query: &str) -> Option<&'a mut Value> {
    let list = truth.queries.get_mut(report)?;
    list.iter_mut().find(|q| q["token"] == query)
}

fn add_query(day: &mut Day, report: &str, t: i64) -> bool {
    let (title, editor) = owner_parts(day, report);
    let owner = QueryOwner {
        report,
        creator: &editor,
        title: &title,
        dataset: false,
    };
    let mut query = new_query(day.g, day.world, &owner);
    stamp_created(&mut query.value, t);
    for chart in &mut query.charts {
        stamp_created(chart, t);
    }
    record_query(day.truth, day.world, report, &query);
    true
}

fn remove_query(day: &mut Day, report: &str, queries: &[String]) -> bool {
    let query = &queries[day.g.below(queries.len())];
    if let Some(list) = day.truth.queries.get_mut(report) {
        list.retain(|q| q["token"] != query.as_str());
    }
    drop_query(day.truth, day.world, query);
    true
}

fn add_chart(day: &mut Day, report: &str, queries: &[String], t: i64) -> bool {
    let query = queries[day.g.below(queries.len())].clone();
    let (title, editor) = owner_parts(day, report);
    let owner = QueryOwner {
        report,
        creator: &editor,
        title: &title,
        dataset: false,
    };
    let columns = day
        .world
        .lineage
        .get(&query)
        .map(|l| l.columns.clone())
        .unwrap_or_default();
    let mut chart = queries::chart(day.g, &owner, &query, &columns);
    stamp_created(&mut chart, t);
    let token = chart["token"].as_str().unwrap_or_default().to_owned();
    day.truth
        .charts
        .entry(query.clone())
        .or_default()
        .push(chart);
    let owners = (report.to_owned(), query);
    day.truth.chart_owner.insert(token, owners);
    true
}

fn remove_chart(day: &mut Day, charts: &[(String, usize)]) -> bool {
    let (query, index) = &charts[day.g.below(charts.len())];
    let Some(list) = day.truth.charts.get_mut(query) else {
        return false;
    };
    let chart = list.remove(*index);
    if let Some(token) = chart["token"].as_str() {
        day.truth.chart_owner.remove(token);
    }
    true
}

/// A new title in the chart's own shape (`view.chartTitle` for legacy
/// charts, `view_vegas.title` for vega ones); `updated_at` moves.
fn retitle_chart(day: &mut Day, charts: &[(String, usize)], t: i64) -> bool {
    let (query, index) = charts[day.g.below(charts.len())].clone();
    let prefix = *day.g.pick(&PREFIXES[3..]);
    let Some(chart) = day
        .truth
        .charts
        .get_mut(&query)
        .and_then(|l| l.get_mut(index))
    else {
        return false;
    };
    let legacy = chart["view_version"] == 1;
    let place = if legacy {
        &mut chart["view"]["chartTitle"]
    } else {
        &mut chart["view_vegas"]["title"]
    };
    let old = place.as_str().unwrap_or_default().to_owned();
    let known = PREFIXES.iter().find_map(|p| old.strip_prefix(p));
    let subject = known.unwrap_or(&old).trim();
    let mut title = format!("{prefix} {subject}").trim().to_owned();
    if title == old {
        title = format!("{old} (revised)");
    }
    *place = Value::from(title);
    chart["updated_at"] = Value::from(iso(t));
    true
}

/// Names of the definitions some query reads, directly or through another
/// definition.
pub(super) fn used_definitions(world: &World) -> HashSet<String> {
    let mut used: HashSet<String> = world
        .lineage
        .values()
        .filter_map(|l| l.definition.clone())
        .collect();
    // References point to earlier definitions: one backward pass closes the set.
    for def in world.defs.iter().rev() {
        if used.contains(&def.name)
            && let Some(other) = &def.refers
        {
            used.insert(other.clone());
        }
    }
    used
}

/// Rewrites one definition in its data source's dialect.
pub(super) fn rewrite_definition(g: &mut super::Gen, world: &mut World, index: usize, at: &str) {
    let source_id = world.defs[index].source_id;
    let Some(adapter) = world
        .sources
        .iter()
        .find(|s| s.id == source_id)
        .map(|s| s.adapter)
    else {
        return;
    };
    sql::rewrite_definition(g, &mut world.defs, index, adapter, at);
}

/// Recomputes the expected tables of every served query that reads a
/// definition.
pub(super) fn refresh_expected(truth: &mut Truth, world: &World) {
    for (query, lineage) in &world.lineage {
        if lineage.definition.is_none() {
            continue;
        }
        if let Some(tables) = truth.expected_tables.get_mut(query) {
            *tables = world.expected_tables(lineage);
        }
    }
}
