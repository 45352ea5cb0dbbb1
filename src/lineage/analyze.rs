//! The [`analyze`] entry point: raw parse, templated parse, regex fallback.

use std::collections::{BTreeMap, BTreeSet};
use std::panic::{AssertUnwindSafe, catch_unwind};

use sqlparser::ast::{Expr, Set, Statement, Use};

use super::collect::collect;
use super::dialect::{Parsed, normalize_sql, parse_any};
use super::fallback;
use super::names::{NameContext, Part, parts_of, split_written};
use super::template::{self, Branches, PLACEHOLDER, Rendered};
use super::{
    DataSourceInfo, Definitions, Method, QueryLineage, TableRead, dialect_name_for_adapter,
};

/// Above this size the SQL is not handed to sqlparser (whose AST for a long
/// operator chain is deep enough to exhaust the stack); only the regex runs.
const MAX_PARSE_BYTES: usize = 256 * 1024;

/// Stack of the analysis thread. sqlparser bounds its own recursion, but a
/// long operator chain (`a + a + …`) or `UNION` chain still builds a
/// left-deep AST whose visit and drop recurse once per operator; at
/// [`MAX_PARSE_BYTES`] that needs a few MiB, more than a tokio worker's 2 MiB.
const STACK_BYTES: usize = 64 << 20;

/// Finds the warehouse tables one Mode query reads.
///
/// - `sql`: the query's `raw_query`, Liquid and all.
/// - `data_source`: the query's data source (`data_source_id` looked up in
///   `/data_sources`); gives the dialect and the default database. `None`
///   means generic SQL and no default database.
/// - `definitions`: the workspace's definitions, for `{{ @name }}`.
///
/// Never panics and never fails: problems land in [`QueryLineage::error`]
/// and [`QueryLineage::method`] says how much to trust the result. The work
/// runs on a short-lived thread with a 64 MiB stack, so the caller's stack
/// size does not matter; a panic inside sqlparser becomes [`Method::Unparsed`].
///
/// ```no_run
/// use mode_extractor::lineage::{analyze, DataSourceInfo, Definitions, Method};
///
/// let ds = DataSourceInfo { adapter: Some("jdbc:postgresql".into()), database: Some("dvdrental".into()), host: None };
/// let lineage = analyze("select * from public.payment", Some(&ds), &Definitions::default());
/// assert_eq!(lineage.tables[0].name, "dvdrental.public.payment");
/// assert_eq!(lineage.method, Method::Parsed);
/// ```
pub fn analyze(
    sql: &str,
    data_source: Option<&DataSourceInfo>,
    definitions: &Definitions,
) -> QueryLineage {
    let ctx = context_for(data_source);
    let work = || analyze_with(sql, &ctx, definitions);
    let outcome = std::thread::scope(|scope| {
        let builder = std::thread::Builder::new()
            .name("lineage".into())
            .stack_size(STACK_BYTES);
        match builder.spawn_scoped(scope, work) {
            Ok(handle) => handle.join().ok(),
            // No thread available: run here, still catching panics.
            Err(_) => catch_unwind(AssertUnwindSafe(work)).ok(),
        }
    });
    outcome.unwrap_or_else(|| QueryLineage {
        tables: Vec::new(),
        method: Method::Unparsed,
        dialect: ctx.dialect.to_owned(),
        error: Some("internal error while analysing the sql".to_owned()),
        definitions: Vec::new(),
    })
}

fn context_for(ds: Option<&DataSourceInfo>) -> NameContext {
    let dialect = dialect_name_for_adapter(ds.and_then(|d| d.adapter.as_deref()));
    let database = ds.and_then(|d| {
        let db = if dialect == "bigquery" {
            d.host.as_deref()
        } else {
            d.database.as_deref()
        };
        db.map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_lowercase)
    });
    NameContext {
        dialect,
        database,
        schema: None,
    }
}

fn analyze_with(sql: &str, ctx: &NameContext, definitions: &Definitions) -> QueryLineage {
    let raw = normalize_sql(sql);
    let raw_error = if raw.len() > MAX_PARSE_BYTES {
        format!("sql not parsed: over {MAX_PARSE_BYTES} bytes")
    } else {
        match parse_any(&raw, ctx.dialect) {
            Ok(parsed) => {
                return from_parsed(Method::Parsed, ctx, &[(Rendered::from_raw(raw), parsed)]);
            }
            Err(e) => e,
        }
    };
    let variants = render_variants(&raw, definitions);
    let parsed: Vec<(Rendered, Parsed)> = variants
        .iter()
        .filter(|r| template::has_templating(&raw) && r.text.len() <= MAX_PARSE_BYTES)
        .filter_map(|r| parse_any(&r.text, ctx.dialect).ok().map(|p| (r.clone(), p)))
        .collect();
    if !parsed.is_empty() {
        return from_parsed(Method::ParsedAfterTemplating, ctx, &parsed);
    }
    from_fallback(ctx, &variants, raw_error)
}

/// One rendering, or two (first and last branches) when the SQL has
/// conditionals; their tables are merged.
fn render_variants(sql: &str, definitions: &Definitions) -> Vec<Rendered> {
    let first = template::render(sql, definitions, Branches::First);
    if !first.branched {
        return vec![first];
    }
    let last = template::render(sql, definitions, Branches::Last);
    vec![first, last]
}

fn from_parsed(method: Method, ctx: &NameContext, parsed: &[(Rendered, Parsed)]) -> QueryLineage {
    let mut acc = Accumulator::default();
    for (rendered, p) in parsed {
        acc.notes.extend(rendered.notes.iter().cloned());
        acc.used.extend(rendered.used.iter().cloned());
        let lines = LineIndex::new(&rendered.text);
        let mut ctx = ctx.clone();
        for statement in &p.statements {
            if apply_session(&mut ctx, statement) {
                continue;
            }
            let found = collect(statement);
            acc.created
                .extend(found.created.iter().map(|parts| ctx.canonical(parts)));
            for f in found.reads {
                // Only expansions have regions; skip the offset work otherwise.
                let via = f
                    .location
                    .filter(|_| !rendered.regions.is_empty())
                    .and_then(|l| lines.offset(l))
                    .and_then(|o| rendered.definition_at(o));
                acc.add(&ctx, &f.parts, f.as_written, via);
            }
        }
    }
    acc.finish(method, parsed[0].1.dialect, None)
}

fn from_fallback(ctx: &NameContext, variants: &[Rendered], parse_error: String) -> QueryLineage {
    let mut acc = Accumulator::default();
    for rendered in variants {
        acc.notes.extend(rendered.notes.iter().cloned());
        acc.used.extend(rendered.used.iter().cloned());
        for hit in fallback::scan(&rendered.text) {
            let via = rendered.definition_at(hit.offset);
            acc.add(ctx, &split_written(&hit.written), hit.written.clone(), via);
        }
    }
    let method = if acc.tables.is_empty() {
        Method::Unparsed
    } else {
        Method::Fallback
    };
    acc.finish(method, ctx.dialect, Some(parse_error))
}

/// Applies a session statement (`USE …`, `SET search_path`) to `ctx`; false
/// for any other statement.
fn apply_session(ctx: &mut NameContext, statement: &Statement) -> bool {
    match statement {
        Statement::Use(u) => apply_use(ctx, u),
        Statement::Set(Set::SingleAssignment {
            variable, values, ..
        }) => {
            let is_search_path = parts_of(variable)
                .last()
                .is_some_and(|p| p.value.eq_ignore_ascii_case("search_path"));
            let first = values.first().and_then(schema_of_value);
            if is_search_path && let Some(schema) = first {
                ctx.schema = Some(ctx.canonical_part(&schema));
            }
        }
        _ => return false,
    }
    true
}

/// The schema named by a `search_path` value: `reporting` or `'reporting'`.
fn schema_of_value(value: &Expr) -> Option<Part> {
    match value {
        Expr::Identifier(i) => Some(Part {
            value: i.value.clone(),
            quoted: i.quote_style.is_some(),
        }),
        Expr::Value(v) => v.value.clone().into_string().map(|s| Part {
            value: s,
            quoted: false,
        }),
        _ => None,
    }
}

/// `USE db`, `USE DATABASE db`, `USE SCHEMA [db.]schema` change the defaults
/// for later statements; `USE WAREHOUSE`/`ROLE` change nothing.
fn apply_use(ctx: &mut NameContext, u: &Use) {
    let fold = |p: &Part| ctx.canonical_part(p);
    match u {
        Use::Database(n) | Use::Catalog(n) | Use::Object(n) => {
            let parts = parts_of(n);
            if let [.., db] = parts.as_slice() {
                let db = fold(db);
                ctx.database = Some(db);
                ctx.schema = None;
            }
        }
        Use::Schema(n) => {
            let parts = parts_of(n);
            match parts.as_slice() {
                [db, schema] => {
                    let (db, schema) = (fold(db), fold(schema));
                    ctx.database = Some(db);
                    ctx.schema = Some(schema);
                }
                [schema] => ctx.schema = Some(fold(schema)),
                _ => {}
            }
        }
        _ => {}
    }
}

#[derive(Default)]
struct Accumulator {
    tables: BTreeMap<String, TableRead>,
    created: BTreeSet<String>,
    used: BTreeSet<String>,
    notes: Vec<String>,
}

impl Accumulator {
    fn add(&mut self, ctx: &NameContext, parts: &[Part], as_written: String, via: Option<&str>) {
        if parts.is_empty() {
            return;
        }
        let name = ctx.canonical(parts);
        if name.contains(PLACEHOLDER) {
            let note =
                format!("table name `{as_written}` depends on a parameter without a default");
            if !self.notes.contains(&note) {
                self.notes.push(note);
            }
            return;
        }
        let read = TableRead {
            name: name.clone(),
            as_written,
            via_definition: via.map(str::to_owned),
        };
        // A direct read wins over one through a definition.
        match self.tables.get(&name) {
            Some(existing)
                if existing.via_definition.is_none() || read.via_definition.is_some() => {}
            _ => {
                self.tables.insert(name, read);
            }
        }
    }

    fn finish(
        mut self,
        method: Method,
        dialect: &str,
        parse_error: Option<String>,
    ) -> QueryLineage {
        self.tables.retain(|name, _| !self.created.contains(name));
        let mut errors: Vec<String> = parse_error.into_iter().collect();
        for note in self.notes {
            if !errors.contains(&note) {
                errors.push(note);
            }
        }
        QueryLineage {
            tables: self.tables.into_values().collect(),
            method,
            dialect: dialect.to_owned(),
            error: (!errors.is_empty()).then(|| errors.join("; ")),
            definitions: self.used.into_iter().collect(),
        }
    }
}

/// Maps sqlparser's 1-based (line, column-in-chars) to byte offsets.
struct LineIndex<'a> {
    text: &'a str,
    starts: Vec<usize>,
    ascii: bool,
}

impl<'a> LineIndex<'a> {
    fn new(text: &'a str) -> Self {
        let starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        Self {
            text,
            starts,
            ascii: text.is_ascii(),
        }
    }

    fn offset(&self, (line, column): (u64, u64)) -> Option<usize> {
        let start = *self
            .starts
            .get(usize::try_from(line).ok()?.checked_sub(1)?)?;
        let column = usize::try_from(column).ok()?.checked_sub(1)?;
        if self.ascii {
            return (start + column < self.text.len()).then_some(start + column);
        }
        self.text[start..]
            .char_indices()
            .nth(column)
            .map(|(i, _)| start + i)
    }
}
