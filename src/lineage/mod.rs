//! SQL table lineage for one Mode query: which warehouse tables it reads.
//!
//! Input is a query's `raw_query` (Mode API `GET /api/{ws}/reports/{r}/queries`),
//! its data source (`GET /api/{ws}/data_sources`) and the workspace's
//! definitions (`GET /api/{ws}/definitions`). The pipeline, in order:
//!
//! 1. parse the raw SQL with sqlparser, dialect chosen from the data source's
//!    `adapter` ([`dialect_name_for_adapter`]), then every other dialect
//!    ([`Method::Parsed`]);
//! 2. otherwise expand Mode's templating (`{{ @definition as alias }}`,
//!    `{% form %}` defaults, other Liquid tags) and parse again
//!    ([`Method::ParsedAfterTemplating`]);
//! 3. otherwise scan for `FROM|JOIN <name>` with a regex ([`Method::Fallback`]);
//! 4. otherwise give up with the parser's message ([`Method::Unparsed`]).
//!
//! [`analyze`] never panics and bounds its work on pathological input (size
//! caps, sqlparser's recursion limit, definition depth ≤ 10).

mod analyze;
mod collect;
mod dialect;
mod fallback;
mod form;
mod liquid;
mod names;
mod template;

#[cfg(test)]
mod corpus;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;

pub use analyze::analyze;
pub use dialect::dialect_name_for_adapter;

/// The parts of a Mode data source (`/api/{ws}/data_sources` item) that matter
/// for lineage.
///
/// - `adapter`: e.g. `jdbc:postgresql`, `jdbc:redshift`, `snowflake`, `bigquery`;
///   picks the SQL dialect.
/// - `database`: the default database for unqualified names (`"default"` for
///   BigQuery, where `host` holds the project id instead).
/// - `host`: only used for BigQuery (the project id).
#[derive(Debug, Clone, Default)]
pub struct DataSourceInfo {
    /// Mode's `adapter` field, e.g. `jdbc:postgresql`.
    pub adapter: Option<String>,
    /// Mode's `database` field.
    pub database: Option<String>,
    /// Mode's `host` field (BigQuery: the project id).
    pub host: Option<String>,
}

/// A workspace's definitions (`/api/{ws}/definitions`): definition `name` →
/// `source` SQL, exactly as Mode returns it (literal `\n`/`\t` sequences are
/// unescaped during expansion).
#[derive(Debug, Clone, Default)]
pub struct Definitions {
    by_name: BTreeMap<String, String>,
}

impl Definitions {
    /// Builds the set from `(name, source)` pairs; a later duplicate name wins.
    pub fn new(defs: impl IntoIterator<Item = (String, String)>) -> Self {
        Self {
            by_name: defs.into_iter().collect(),
        }
    }

    /// Number of definitions.
    pub fn len(&self) -> usize {
        self.by_name.len()
    }

    /// True when there are no definitions.
    pub fn is_empty(&self) -> bool {
        self.by_name.is_empty()
    }

    /// The raw source of the definition called `name`, if any.
    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.by_name.get(name).map(String::as_str)
    }
}

/// One table the query reads.
///
/// - `name`: canonical `database.schema.table` (as many parts as are known).
///   Unquoted parts are lower-cased, quoted ones keep their case (except on
///   Redshift, and all-uppercase quoted parts on Snowflake). One- and two-part
///   names get the data source's `database` (BigQuery: `host`) in front; on
///   MySQL a two-part name is already `database.table`. `USE …` and
///   `SET search_path` earlier in the SQL override the defaults.
/// - `as_written`: the reference as it appears in the SQL, e.g. `"Sales"."Orders"`.
/// - `via_definition`: the innermost Mode definition whose source holds the
///   reference, `None` when the query itself names the table.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct TableRead {
    /// Canonical name.
    pub name: String,
    /// The reference as written in the SQL.
    pub as_written: String,
    /// Definition the read came through, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub via_definition: Option<String>,
}

/// How the tables were found, from most to least confident.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    /// The SQL parsed as written (after dropping Redshift's `APPROXIMATE`
    /// keyword, which sqlparser does not know).
    Parsed,
    /// The SQL parsed only after definition and Liquid expansion.
    ParsedAfterTemplating,
    /// No dialect parsed it; a `FROM|JOIN <name>` regex found the tables (low
    /// confidence).
    Fallback,
    /// Nothing parsed and the regex found nothing; see `error`.
    Unparsed,
}

/// The lineage of one query.
///
/// - `tables`: sorted by `name`, one entry per `name`.
/// - `dialect`: the sqlparser dialect that parsed the SQL, or the data
///   source's dialect when nothing did.
/// - `error`: the parser's message when the SQL did not parse, and notes about
///   templating (unknown or cyclic definitions, unresolved parameters in table
///   names), joined with `"; "`.
/// - `definitions`: every definition name referenced, nested ones included,
///   sorted; unknown and cyclic references are listed too.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct QueryLineage {
    /// Tables read, sorted and deduplicated by `name`.
    pub tables: Vec<TableRead>,
    /// How they were found.
    pub method: Method,
    /// sqlparser dialect name.
    pub dialect: String,
    /// Parser message and templating notes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Definition names referenced, nested ones included.
    pub definitions: Vec<String>,
}
