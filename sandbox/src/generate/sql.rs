//! Realistic warehouse SQL whose read tables are known exactly.
//!
//! Every generated statement names its tables fully (`schema.table` or
//! `db.schema.table`, BigQuery in backticks) so the ground truth is the
//! lowercased name as written. Statements mix joins, CTEs, derived tables,
//! scalar subqueries, Liquid `{% form %}` blocks with `{{ param }}` uses, and
//! `{{ @definition }}` / `{{ @definition as alias }}` references, plus a few
//! traps: a commented-out join and a string literal containing `from`.

use std::collections::BTreeSet;

use serde_json::{Value, json};

use super::ctx::{Gen, forms, iso, link};
use super::sources::{Adapter, Source, Table};

/// A generated Mode definition (a reusable SQL snippet).
#[derive(Debug, Clone)]
pub(crate) struct Definition {
    pub(crate) name: String,
    pub(crate) source_id: i64,
    /// Canonical tables read, through referenced definitions too.
    pub(crate) tables: BTreeSet<String>,
    /// Tables its own SQL names (without the referenced definition's).
    pub(crate) own: BTreeSet<String>,
    /// The earlier definition its SQL references, if any.
    pub(crate) refers: Option<String>,
    /// The object served in `/definitions`.
    pub(crate) value: Value,
}

/// A generated query text and what it reads.
pub(crate) struct GenSql {
    pub(crate) sql: String,
    /// Tables the SQL names itself (without the definition's).
    pub(crate) own: BTreeSet<String>,
    /// The definition it references, if any.
    pub(crate) definition: Option<String>,
    /// Output column names (for chart encodings).
    pub(crate) columns: Vec<String>,
}

impl GenSql {
    fn plain(sql: String, tables: BTreeSet<String>, columns: Vec<String>) -> Self {
        GenSql {
            sql,
            own: tables,
            definition: None,
            columns,
        }
    }
}

const DEFINITION_NAMES: [&str; 10] = [
    "active_customers",
    "paid_orders",
    "revenue_base",
    "recent_sessions",
    "churned_accounts",
    "marketing_spend",
    "order_facts",
    "customer_dim",
    "daily_revenue",
    "high_value_users",
];

fn canon(table: &Table) -> String {
    table.name.to_lowercase()
}

/// Five to ten definitions spread over the first four data sources; some
/// (at least one) reference an earlier definition of the same source. The first one stores its newlines as
/// literal `\n` sequences, as in Mode's recorded `definitions.json`.
pub(crate) fn definitions(g: &mut Gen, sources: &[Source], creator: &str) -> Vec<Definition> {
    let count = 5 + g.below(6);
    let mut defs: Vec<Definition> = Vec::with_capacity(count);
    // Definitions live on the first four sources; the fifth one wraps round
    // and always references an earlier one, so nesting is guaranteed.
    let spread = sources.len().min(4);
    for (i, name) in DEFINITION_NAMES.iter().take(count).enumerate() {
        let source = &sources[i % spread];
        let earlier: Vec<usize> = (0..defs.len())
            .filter(|&d| defs[d].source_id == source.id)
            .collect();
        let referenced = match earlier.is_empty() {
            false if i == spread || g.chance(0.5) => Some(&defs[*g.pick(&earlier)]),
            _ => None,
        };
        let refers = referenced.map(|d| d.name.clone());
        let (mut sql, own, tables) = definition_sql(g, source.adapter, referenced, None);
        if i == 0 {
            sql = sql.replace('\n', "\\n");
        }
        let lineage = DefLineage {
            own,
            tables,
            refers,
        };
        defs.push(definition(g, name, source.id, sql, lineage, creator));
    }
    defs
}

/// What a definition reads: its own tables, all of them, and what it references.
struct DefLineage {
    own: BTreeSet<String>,
    tables: BTreeSet<String>,
    refers: Option<String>,
}

/// The SQL of a definition, its own tables and all tables it reads. With
/// `avoid`, the table is one outside that set when the warehouse has one.
fn definition_sql(
    g: &mut Gen,
    adapter: Adapter,
    referenced: Option<&Definition>,
    avoid: Option<&BTreeSet<String>>,
) -> (String, BTreeSet<String>, BTreeSet<String>) {
    let fresh: Vec<&Table> = adapter
        .tables()
        .iter()
        .filter(|t| avoid.is_none_or(|a| !a.contains(&canon(t))))
        .collect();
    let table = match fresh.is_empty() {
        true => g.pick(adapter.tables()),
        false => *g.pick(&fresh),
    };
    let (link, name) = (adapter.link(), adapter.quote(table));
    let own = BTreeSet::from([canon(table)]);
    let mut tables = own.clone();
    let sql = match referenced {
        Some(other) => {
            tables.extend(other.tables.iter().cloned());
            format!(
                "SELECT base.{link}, base.{m}, x.{d}\nFROM {{{{ @{other} as base }}}}\nJOIN {name} x\n  ON x.{link} = base.{link}",
                m = "total",
                d = table.dim,
                other = other.name
            )
        }
        None => format!(
            "SELECT {link}, {d}, {m} AS total, {date}\nFROM {name}\nWHERE {d} IS NOT NULL",
            d = table.dim,
            m = table.measure,
            date = table.date
        ),
    };
    (sql, own, tables)
}

/// Rewrites `defs[index]`'s SQL in place (same source, same reference, a
/// table it did not read before when possible); `updated_at` and
/// `last_saved_at` become `at`. Callers recompute dependants' tables.
pub(crate) fn rewrite_definition(
    g: &mut Gen,
    defs: &mut [Definition],
    index: usize,
    adapter: Adapter,
    at: &str,
) {
    let referenced = defs[index]
        .refers
        .as_ref()
        .and_then(|name| defs.iter().find(|d| &d.name == name))
        .cloned();
    let avoid = defs[index].tables.clone();
    let (mut sql, own, _) = definition_sql(g, adapter, referenced.as_ref(), Some(&avoid));
    let def = &mut defs[index];
    if def.value["source"]
        .as_str()
        .is_some_and(|s| s.contains("\\n"))
    {
        sql = sql.replace('\n', "\\n");
    }
    def.own = own;
    def.value["source"] = Value::from(sql);
    def.value["updated_at"] = Value::from(at);
    def.value["last_saved_at"] = Value::from(at);
    refresh_tables(defs);
}

/// Recomputes every definition's `tables` from its own tables and its
/// reference (references always point to earlier definitions).
pub(crate) fn refresh_tables(defs: &mut [Definition]) {
    for i in 0..defs.len() {
        let mut tables = defs[i].own.clone();
        let referenced = defs[i]
            .refers
            .as_ref()
            .and_then(|name| defs[..i].iter().find(|d| &d.name == name));
        if let Some(other) = referenced {
            tables.extend(other.tables.iter().cloned());
        }
        defs[i].tables = tables;
    }
}

fn definition(
    g: &mut Gen,
    name: &str,
    source_id: i64,
    sql: String,
    lineage: DefLineage,
    creator: &str,
) -> Definition {
    let (id, token, run) = (g.id(), g.token(), g.token());
    let created = g.instant();
    let saved = g.later(created, 90);
    let ws = g.ws.clone();
    let href = format!("/api/{ws}/definitions/{token}");
    let value = json!({
        "id": id, "token": token, "name": name,
        "description": if g.chance(0.3) { Value::Null } else { json!(format!("Reusable {name} logic")) },
        "source": sql, "data_source_id": source_id,
        "created_at": iso(created), "updated_at": iso(saved),
        "last_successful_sync_at": Value::Null, "last_saved_at": iso(saved),
        "_links": {
            "self": link(&href),
            "last_run": link(format!("/api/{ws}/reports/{run}/runs/{run}/query_runs/{run}")),
            "web_edit": link(format!("/editor/{ws}/definitions/{token}")),
            "creator": link(format!("/api/{creator}")),
        },
        "_forms": forms(&href),
    });
    Definition {
        name: name.to_owned(),
        source_id,
        tables: lineage.tables,
        own: lineage.own,
        refers: lineage.refers,
        value,
    }
}

/// The SQL of one query on `source`, titled `title` in a leading comment.
pub(crate) fn query_sql(g: &mut Gen, source: &Source, defs: &[Definition], title: &str) -> GenSql {
    let usable: Vec<&Definition> = defs.iter().filter(|d| d.source_id == source.id).collect();
    let adapter = source.adapter;
    let picked = g.distinct(adapter.tables().len(), 3);
    let tables: Vec<&Table> = picked.iter().map(|&i| &adapter.tables()[i]).collect();
    let mut sql = match g.below(5) {
        0 => join(g, adapter, &tables),
        1 => cte(adapter, &tables),
        2 => derived(adapter, &tables),
        3 => form(g, adapter, &tables),
        _ if !usable.is_empty() => {
            let def = *g.pick(&usable);
            with_definition(g, adapter, tables[0], def)
        }
        _ => join(g, adapter, &tables),
    };
    if g.chance(0.5) {
        sql.sql = format!("-- {title}\n{}", sql.sql);
    }
    sql
}

fn join(g: &mut Gen, adapter: Adapter, t: &[&Table]) -> GenSql {
    let link = adapter.link();
    let (a, b) = (adapter.quote(t[0]), adapter.quote(t[1]));
    let mut sql = format!(
        "SELECT c.{dim}, COUNT(*) AS row_count, SUM(o.{m}) AS total\nFROM {a} c\nJOIN {b} o\n  ON o.{link} = c.{link}\n",
        dim = t[0].dim,
        m = t[1].measure,
    );
    let mut tables = BTreeSet::from([canon(t[0]), canon(t[1])]);
    if g.chance(0.5) {
        let x = adapter.quote(t[2]);
        sql.push_str(&format!("LEFT JOIN {x} x\n  ON x.{link} = c.{link}\n"));
        tables.insert(canon(t[2]));
    }
    if g.chance(0.3) {
        sql.push_str(&format!(
            "-- LEFT JOIN legacy.orders_2019 l ON l.{link} = c.{link}\n"
        ));
    }
    sql.push_str(&format!(
        "WHERE {}\nGROUP BY 1\nORDER BY 3 DESC",
        adapter.recent(&format!("o.{}", t[1].date))
    ));
    let columns = vec![t[0].dim.to_owned(), "row_count".into(), "total".into()];
    GenSql::plain(sql, tables, columns)
}

fn cte(adapter: Adapter, t: &[&Table]) -> GenSql {
    let link = adapter.link();
    let (a, b) = (adapter.quote(t[0]), adapter.quote(t[1]));
    let (m, date, dim) = (t[0].measure, t[0].date, t[1].dim);
    let sql = format!(
        "WITH recent AS (\n    SELECT {link}, {m}, {date}\n    FROM {a}\n    WHERE {recent}\n),\nranked AS (\n    SELECT r.*, ROW_NUMBER() OVER (PARTITION BY r.{link} ORDER BY r.{date} DESC) AS rn\n    FROM recent r\n)\nSELECT ranked.{link}, d.{dim}, ranked.{m}\nFROM ranked\nJOIN {b} d ON d.{link} = ranked.{link}\nWHERE ranked.rn = 1",
        recent = adapter.recent(date),
    );
    let tables = BTreeSet::from([canon(t[0]), canon(t[1])]);
    GenSql::plain(
        sql,
        tables,
        vec![link.to_owned(), dim.to_owned(), m.to_owned()],
    )
}

fn derived(adapter: Adapter, t: &[&Table]) -> GenSql {
    let link = adapter.link();
    let (a, b, c) = (
        adapter.quote(t[0]),
        adapter.quote(t[1]),
        adapter.quote(t[2]),
    );
    let (dim, m) = (t[0].dim, t[0].measure);
    let sql = format!(
        "SELECT s.{dim}, s.total\nFROM (\n    SELECT {dim}, SUM({m}) AS total\n    FROM {a}\n    WHERE {link} IN (SELECT {link} FROM {b} WHERE {bdim} <> 'internal from api')\n    GROUP BY 1\n) s\nWHERE s.total > (SELECT AVG({cm}) FROM {c})",
        bdim = t[1].dim,
        cm = t[2].measure,
    );
    let tables = t.iter().map(|x| canon(x)).collect();
    GenSql::plain(sql, tables, vec![dim.to_owned(), "total".into()])
}

fn form(g: &mut Gen, adapter: Adapter, t: &[&Table]) -> GenSql {
    let link = adapter.link();
    let (date, dim, m) = (t[0].date, t[0].dim, t[0].measure);
    let mut tables = BTreeSet::from([canon(t[0])]);
    let mut sql = format!(
        "SELECT {date}, {dim}, SUM({m}) AS total\nFROM {a}\nWHERE {dim} = '{{{{ segment }}}}'\n  AND {date} >= '{{{{ start_date }}}}'\n",
        a = adapter.quote(t[0]),
    );
    if g.chance(0.5) {
        let b = adapter.quote(t[1]);
        sql.push_str(&format!("  AND {link} IN (SELECT {link} FROM {b})\n"));
        tables.insert(canon(t[1]));
    }
    sql.push_str("GROUP BY 1, 2\nORDER BY 1\n");
    sql.push_str(
        "{% form %}\nsegment:\n  type: select\n  default: enterprise\n  options: [enterprise, smb, self_serve]\n\nstart_date:\n  type: date\n  default: 2024-01-01\n{% endform %}",
    );
    GenSql::plain(
        sql,
        tables,
        vec![date.to_owned(), dim.to_owned(), "total".into()],
    )
}

fn with_definition(g: &mut Gen, adapter: Adapter, t: &Table, def: &Definition) -> GenSql {
    let link = adapter.link();
    if g.chance(0.3) {
        let sql = format!("SELECT *\nFROM {{{{ @{} }}}}\nLIMIT 1000", def.name);
        let columns = vec![link.to_owned(), "total".into()];
        return GenSql {
            sql,
            own: BTreeSet::new(),
            definition: Some(def.name.clone()),
            columns,
        };
    }
    let mut sql = format!(
        "SELECT d.*, x.{dim}\nFROM {{{{ @{def} as d }}}}\nJOIN {x} x\n  ON x.{link} = d.{link}\nWHERE {recent}",
        dim = t.dim,
        def = def.name,
        x = adapter.quote(t),
        recent = adapter.recent(&format!("x.{}", t.date)),
    );
    if g.chance(0.4) {
        sql.push_str(&format!(
            "\n  AND x.{} = '{{{{ region }}}}'\n{{% form %}}\nregion:\n  type: text\n  default: EMEA\n{{% endform %}}",
            t.dim
        ));
    }
    let columns = vec![link.to_owned(), "total".into(), t.dim.to_owned()];
    GenSql {
        sql,
        own: BTreeSet::from([canon(t)]),
        definition: Some(def.name.clone()),
        columns,
    }
}
