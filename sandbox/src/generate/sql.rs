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
pub(crate) struct Definition {
    pub(crate) name: String,
    pub(crate) source_id: i64,
    /// Canonical tables read, through referenced definitions too.
    pub(crate) tables: BTreeSet<String>,
    /// The object served in `/definitions`.
    pub(crate) value: Value,
}

/// A generated query text and what it reads.
pub(crate) struct GenSql {
    pub(crate) sql: String,
    /// Canonical tables read, definitions expanded.
    pub(crate) tables: BTreeSet<String>,
    /// Output column names (for chart encodings).
    pub(crate) columns: Vec<String>,
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
        let (mut sql, tables) = definition_sql(g, source.adapter, referenced);
        if i == 0 {
            sql = sql.replace('\n', "\\n");
        }
        defs.push(definition(g, name, source.id, sql, tables, creator));
    }
    defs
}

fn definition_sql(
    g: &mut Gen,
    adapter: Adapter,
    referenced: Option<&Definition>,
) -> (String, BTreeSet<String>) {
    let table = g.pick(adapter.tables());
    let (link, name) = (adapter.link(), adapter.quote(table));
    let mut tables = BTreeSet::from([canon(table)]);
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
    (sql, tables)
}

fn definition(
    g: &mut Gen,
    name: &str,
    source_id: i64,
    sql: String,
    tables: BTreeSet<String>,
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
        tables,
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
    GenSql {
        sql,
        tables,
        columns,
    }
}

fn cte(adapter: Adapter, t: &[&Table]) -> GenSql {
    let link = adapter.link();
    let (a, b) = (adapter.quote(t[0]), adapter.quote(t[1]));
    let (m, date, dim) = (t[0].measure, t[0].date, t[1].dim);
    let sql = format!(
        "WITH recent AS (\n    SELECT {link}, {m}, {date}\n    FROM {a}\n    WHERE {recent}\n),\nranked AS (\n    SELECT r.*, ROW_NUMBER() OVER (PARTITION BY r.{link} ORDER BY r.{date} DESC) AS rn\n    FROM recent r\n)\nSELECT ranked.{link}, d.{dim}, ranked.{m}\nFROM ranked\nJOIN {b} d ON d.{link} = ranked.{link}\nWHERE ranked.rn = 1",
        recent = adapter.recent(date),
    );
    GenSql {
        sql,
        tables: BTreeSet::from([canon(t[0]), canon(t[1])]),
        columns: vec![link.to_owned(), dim.to_owned(), m.to_owned()],
    }
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
    GenSql {
        sql,
        tables: t.iter().map(|x| canon(x)).collect(),
        columns: vec![dim.to_owned(), "total".into()],
    }
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
    GenSql {
        sql,
        tables,
        columns: vec![date.to_owned(), dim.to_owned(), "total".into()],
    }
}

fn with_definition(g: &mut Gen, adapter: Adapter, t: &Table, def: &Definition) -> GenSql {
    let link = adapter.link();
    let mut tables = def.tables.clone();
    if g.chance(0.3) {
        let sql = format!("SELECT *\nFROM {{{{ @{} }}}}\nLIMIT 1000", def.name);
        let columns = vec![link.to_owned(), "total".into()];
        return GenSql {
            sql,
            tables,
            columns,
        };
    }
    tables.insert(canon(t));
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
        tables,
        columns,
    }
}
