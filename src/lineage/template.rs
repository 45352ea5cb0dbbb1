//! Mode templating expansion: `{{ @definition [as alias] }}`, `{% form %}`
//! defaults and the other Liquid tags, producing SQL sqlparser can read.
//!
//! Follows DataHub's Mode source: a definition reference becomes
//! `(\n<source>\n) AS alias` (alias defaults to the name), recursively, with
//! literal `\n`/`\t` in the source unescaped. Unlike DataHub, an unknown, cyclic
//! or too deep (> [`MAX_DEFINITION_DEPTH`]) reference becomes the table-less
//! `(SELECT 1) AS alias`, so it can never show up as a fake table, and is
//! reported in [`Rendered::notes`]. `{{ param }}` takes the form default, or
//! [`PLACEHOLDER`] when there is none.

use std::collections::BTreeSet;
use std::sync::LazyLock;

use regex::Regex;

use super::Definitions;
use super::dialect::normalize_sql;
use super::form::{self, Params, Value};
use super::liquid::{self, Node};

/// Stand-in for a parameter without a value; a table name containing it is
/// dropped.
pub(crate) const PLACEHOLDER: &str = "mode_unresolved_param";

/// Longest chain of nested definitions expanded.
pub(crate) const MAX_DEFINITION_DEPTH: usize = 10;

/// Expansion stops growing the SQL past this size.
const MAX_OUTPUT_BYTES: usize = 4 << 20;

/// Which branch of each `if`/`case` block to keep.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Branches {
    /// The first (`if`) branch.
    First,
    /// The last branch (`else`, or the last `elsif`); nothing when the block
    /// has a single branch.
    Last,
}

/// A byte range of [`Rendered::text`] that came from a definition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Region {
    pub start: usize,
    pub end: usize,
    pub definition: String,
}

/// Expanded SQL plus where each definition landed.
#[derive(Debug, Clone, Default)]
pub(crate) struct Rendered {
    pub text: String,
    pub regions: Vec<Region>,
    pub used: BTreeSet<String>,
    pub notes: Vec<String>,
    /// True when some `if`/`case` block had more than one branch.
    pub branched: bool,
}

impl Rendered {
    /// The SQL as is, with no templating applied.
    pub fn from_raw(text: String) -> Self {
        Self {
            text,
            ..Self::default()
        }
    }

    /// The innermost definition whose expansion covers byte `offset`.
    pub fn definition_at(&self, offset: usize) -> Option<&str> {
        self.regions
            .iter()
            .filter(|r| r.start <= offset && offset < r.end)
            .min_by_key(|r| r.end - r.start)
            .map(|r| r.definition.as_str())
    }
}

/// True when `sql` holds any Liquid (`{{` or `{%`).
pub(crate) fn has_templating(sql: &str) -> bool {
    sql.contains("{{") || sql.contains("{%")
}

/// Expands `sql` with `definitions`, keeping `branches` of conditionals.
pub(crate) fn render(sql: &str, definitions: &Definitions, branches: Branches) -> Rendered {
    let mut r = Renderer {
        definitions,
        branches,
        params: Params::new(),
        stack: Vec::new(),
        out: Rendered::default(),
    };
    r.source(sql);
    r.out
}

struct Renderer<'a> {
    definitions: &'a Definitions,
    branches: Branches,
    params: Params,
    stack: Vec<String>,
    out: Rendered,
}

static DEFINITION: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?is)^@\s*([^\s}]+)(?:\s+as\s+([^\s}]+))?\s*$").expect("valid regex")
});

impl Renderer<'_> {
    fn source(&mut self, src: &str) {
        let src = form::take_forms(src, &mut self.params);
        self.nodes(&liquid::parse(&src));
    }

    fn nodes(&mut self, nodes: &[Node]) {
        for node in nodes {
            match node {
                Node::Text(t) => self.out.text.push_str(t),
                Node::Output(e) if e.starts_with('@') => self.definition(e),
                Node::Output(e) => {
                    let value = form::eval(e, &self.params);
                    self.out
                        .text
                        .push_str(value.as_deref().unwrap_or(PLACEHOLDER));
                }
                Node::Block { branches } => self.block(branches),
                Node::Loop { var, list, body } => self.for_loop(var, list, body),
                Node::Assign { name, expr } => {
                    if let Some(v) = form::eval(expr, &self.params) {
                        self.params.insert(name.clone(), Value::Scalar(v));
                    }
                }
            }
        }
    }

    fn block(&mut self, branches: &[Vec<Node>]) {
        self.out.branched = true;
        let chosen = match self.branches {
            Branches::First => branches.first(),
            Branches::Last if branches.len() > 1 => branches.last(),
            Branches::Last => None,
        };
        if let Some(nodes) = chosen {
            self.nodes(nodes);
        }
    }

    /// Renders the body once, `var` bound to the list's first item.
    fn for_loop(&mut self, var: &str, list: &str, body: &[Node]) {
        let item = match self.params.get(list) {
            Some(Value::List(items)) => items.first().cloned().map(Value::Scalar),
            Some(scalar) => Some(scalar.clone()),
            None => None,
        };
        let saved = match item {
            Some(v) => self.params.insert(var.to_owned(), v),
            None => self.params.remove(var),
        };
        self.nodes(body);
        match saved {
            Some(v) => self.params.insert(var.to_owned(), v),
            None => self.params.remove(var),
        };
    }

    fn definition(&mut self, expr: &str) {
        let Some(caps) = DEFINITION.captures(expr) else {
            self.out.text.push_str(PLACEHOLDER);
            return;
        };
        let name = caps[1].to_owned();
        let alias = sanitize_alias(caps.get(2).map_or(&name, |m| m.as_str()));
        self.out.used.insert(name.clone());
        let Some(source) = self.expandable(&name) else {
            self.out.text.push_str(&format!("(SELECT 1) AS {alias}"));
            return;
        };
        let start = self.out.text.len();
        self.out.text.push_str("(\n");
        self.stack.push(name.clone());
        self.source(&source);
        self.stack.pop();
        self.out.text.push_str(&format!("\n) AS {alias}"));
        let end = self.out.text.len();
        self.out.regions.push(Region {
            start,
            end,
            definition: name,
        });
    }

    /// The prepared source of `name`, or `None` (with a note) when it must
    /// not be expanded.
    fn expandable(&mut self, name: &str) -> Option<String> {
        let note = if self.stack.iter().any(|s| s == name) {
            format!("definition cycle: {} -> {name}", self.stack.join(" -> "))
        } else if self.stack.len() >= MAX_DEFINITION_DEPTH {
            format!("definition `{name}` nested deeper than {MAX_DEFINITION_DEPTH}")
        } else if self.out.text.len() > MAX_OUTPUT_BYTES {
            format!("definition `{name}` not expanded: sql over {MAX_OUTPUT_BYTES} bytes")
        } else if let Some(src) = self.definitions.get(name) {
            return Some(prepare_source(src));
        } else {
            format!("unknown definition `{name}`")
        };
        if !self.out.notes.contains(&note) {
            self.out.notes.push(note);
        }
        None
    }
}

/// Unescapes Mode's literal `\n`/`\t`/`\r` and drops a trailing `;`.
fn prepare_source(src: &str) -> String {
    let s = src
        .replace("\\r", "\r")
        .replace("\\n", "\n")
        .replace("\\t", "\t");
    normalize_sql(s.trim_end().trim_end_matches(';'))
}

/// Keeps an alias a plain identifier.
fn sanitize_alias(alias: &str) -> String {
    let mut s: String = alias
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if s.is_empty() || s.starts_with(|c: char| c.is_ascii_digit()) {
        s.insert(0, '_');
    }
    s
}
