//! Walks parsed statements and collects the tables they read.
//!
//! Unlike `sqlparser::ast::visit_relations`, this only looks at table factors
//! (`FROM`/`JOIN` items), so INSERT/CREATE targets are not reads, and it keeps a
//! stack of CTE scopes so a CTE name is never taken for a table, also from a
//! subquery or a later CTE. Non-recursive CTEs only see the CTEs before them.

use std::ops::ControlFlow;

use sqlparser::ast::{
    Expr, FromTable, ObjectName, Query, Select, Statement, TableFactor, Visit, Visitor,
};

use super::names::{Part, ident_parts, parts_of};

/// A table reference found in the AST.
#[derive(Debug, Clone)]
pub(crate) struct Found {
    pub parts: Vec<Part>,
    pub as_written: String,
    /// 1-based (line, column) of the first identifier, when sqlparser knows it.
    pub location: Option<(u64, u64)>,
}

/// Reads and created tables of one statement.
#[derive(Debug, Default)]
pub(crate) struct StatementTables {
    pub reads: Vec<Found>,
    pub created: Vec<Vec<Part>>,
}

/// Collects the tables one statement reads and the tables it creates.
pub(crate) fn collect(statement: &Statement) -> StatementTables {
    let mut c = Collector::default();
    c.mark_targets(statement);
    let _ = statement.visit(&mut c);
    c.out
}

struct Frame {
    query: *const Query,
    ctes: Vec<(String, *const Query)>,
    visible: usize,
}

#[derive(Default)]
struct Collector {
    frames: Vec<Frame>,
    /// Write targets of UPDATE/DELETE/MERGE: table factors that are not reads.
    targets: Vec<*const TableFactor>,
    out: StatementTables,
}

impl Collector {
    fn mark_targets(&mut self, statement: &Statement) {
        match statement {
            Statement::Update(u) => self.targets.push(&u.table.relation),
            Statement::Delete(d) => {
                let (FromTable::WithFromKeyword(from) | FromTable::WithoutKeyword(from)) = &d.from;
                self.targets
                    .extend(from.first().map(|t| &t.relation as *const _));
            }
            Statement::Merge(m) => self.targets.push(&m.table),
            Statement::CreateTable(t) => self.out.created.push(parts_of(&t.name)),
            Statement::CreateView(v) => self.out.created.push(parts_of(&v.name)),
            _ => {}
        }
    }

    fn is_cte(&self, name: &ObjectName) -> bool {
        let parts = parts_of(name);
        let [only] = parts.as_slice() else {
            return false;
        };
        self.frames.iter().any(|f| {
            f.ctes[..f.visible]
                .iter()
                .any(|(cte, _)| cte.eq_ignore_ascii_case(&only.value))
        })
    }

    fn record(&mut self, name: &ObjectName) {
        let parts = parts_of(name);
        if parts.is_empty() || parts.iter().any(|p| is_never_a_table(&p.value)) {
            return;
        }
        if let [only] = parts.as_slice()
            && only.value.eq_ignore_ascii_case("dual")
        {
            return;
        }
        let location = name
            .0
            .first()
            .and_then(|p| p.as_ident())
            .map(|i| i.span.start);
        self.out.reads.push(Found {
            parts,
            as_written: name.to_string(),
            location: location.filter(|l| l.line > 0).map(|l| (l.line, l.column)),
        });
    }
}

/// Snowflake stages (`@stage`) and SQL Server temp tables (`#t`) are never
/// warehouse tables.
fn is_never_a_table(value: &str) -> bool {
    value.starts_with('@') || value.starts_with('#')
}

impl Visitor for Collector {
    type Break = ();

    fn pre_visit_query(&mut self, query: &Query) -> ControlFlow<()> {
        let ptr: *const Query = query;
        let (ctes, recursive) = match &query.with {
            Some(w) => (
                w.cte_tables
                    .iter()
                    .map(|c| (c.alias.name.value.clone(), &*c.query as *const Query))
                    .collect::<Vec<_>>(),
                w.recursive,
            ),
            None => (Vec::new(), false),
        };
        let visible = if recursive { ctes.len() } else { 0 };
        self.frames.push(Frame {
            query: ptr,
            ctes,
            visible,
        });
        ControlFlow::Continue(())
    }

    fn post_visit_query(&mut self, query: &Query) -> ControlFlow<()> {
        let ptr: *const Query = query;
        if self.frames.last().is_some_and(|f| f.query == ptr) {
            self.frames.pop();
        }
        // A finished CTE body makes that CTE visible to the ones after it.
        if let Some(top) = self.frames.last_mut()
            && let Some(i) = top.ctes.iter().position(|(_, q)| *q == ptr)
        {
            top.visible = top.visible.max(i + 1);
        }
        ControlFlow::Continue(())
    }

    fn pre_visit_select(&mut self, select: &Select) -> ControlFlow<()> {
        if let Some(into) = &select.into {
            for target in &into.targets {
                match target {
                    Expr::Identifier(i) => self.out.created.push(ident_parts(i)),
                    Expr::CompoundIdentifier(is) => self
                        .out
                        .created
                        .push(is.iter().flat_map(ident_parts).collect()),
                    _ => {}
                }
            }
        }
        ControlFlow::Continue(())
    }

    fn pre_visit_table_factor(&mut self, factor: &TableFactor) -> ControlFlow<()> {
        let ptr: *const TableFactor = factor;
        if self.targets.contains(&ptr) {
            return ControlFlow::Continue(());
        }
        // `args` is set for table-valued functions such as `generate_series(1, 3)`.
        if let TableFactor::Table {
            name, args: None, ..
        } = factor
            && !self.is_cte(name)
        {
            self.record(name);
        }
        ControlFlow::Continue(())
    }
}
