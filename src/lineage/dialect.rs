//! Dialect choice and the parse-with-fallback chain.

use std::sync::LazyLock;

use regex::Regex;
use sqlparser::ast::Statement;
use sqlparser::dialect::{Dialect, dialect_from_str};
use sqlparser::parser::Parser;

/// sqlparser's nesting limit for one parse; deeper input fails with
/// `RecursionLimitExceeded` instead of overflowing the stack.
const RECURSION_LIMIT: usize = 50;

/// Dialects tried after the preferred one, in order.
const FALLBACK_ORDER: &[&str] = &[
    "generic",
    "postgresql",
    "snowflake",
    "bigquery",
    "redshift",
    "mysql",
    "mssql",
    "databricks",
    "hive",
    "duckdb",
];

/// The sqlparser dialect name for a Mode data source `adapter`.
///
/// Matching is case-insensitive on a substring, so `jdbc:postgresql` and
/// `postgres` both give `"postgresql"`:
///
/// | adapter contains | dialect |
/// |---|---|
/// | `postgres` | `postgresql` |
/// | `redshift` | `redshift` |
/// | `snowflake` | `snowflake` |
/// | `bigquery` | `bigquery` |
/// | `mysql`, `mariadb` | `mysql` |
/// | `sqlserver`, `mssql` | `mssql` |
/// | `databricks`, `hive`, `spark` | `databricks` |
/// | `duckdb` | `duckdb` |
///
/// Anything else, including `trino`, `presto` and `athena` (sqlparser 0.63 has
/// no Trino dialect; its generic dialect accepts Trino's syntax best) and a
/// missing adapter, gives `"generic"`.
pub fn dialect_name_for_adapter(adapter: Option<&str>) -> &'static str {
    let Some(adapter) = adapter else {
        return "generic";
    };
    let adapter = adapter.to_ascii_lowercase();
    const TABLE: &[(&[&str], &str)] = &[
        (&["postgres"], "postgresql"),
        (&["redshift"], "redshift"),
        (&["snowflake"], "snowflake"),
        (&["bigquery"], "bigquery"),
        (&["mysql", "mariadb"], "mysql"),
        (&["sqlserver", "mssql"], "mssql"),
        (&["databricks", "hive", "spark"], "databricks"),
        (&["duckdb"], "duckdb"),
    ];
    TABLE
        .iter()
        .find(|(needles, _)| needles.iter().any(|n| adapter.contains(n)))
        .map_or("generic", |(_, dialect)| dialect)
}

static APPROXIMATE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\bapproximate\s+(count|percentile_disc)\b").expect("valid regex")
});

/// Rewrites syntax no sqlparser dialect reads but that changes no table:
/// Redshift's `APPROXIMATE COUNT(…)`/`APPROXIMATE PERCENTILE_DISC` lose the
/// `APPROXIMATE` keyword.
pub(crate) fn normalize_sql(sql: &str) -> String {
    APPROXIMATE.replace_all(sql, "$1").into_owned()
}

/// A successful parse: the statements and the dialect that accepted them.
#[derive(Debug)]
pub(crate) struct Parsed {
    pub statements: Vec<Statement>,
    pub dialect: &'static str,
}

/// Parses `sql` with `preferred`, then every dialect of [`FALLBACK_ORDER`].
///
/// Errors with the preferred dialect's message when no dialect parses it.
pub(crate) fn parse_any(sql: &str, preferred: &'static str) -> Result<Parsed, String> {
    let mut first_error = None;
    let order = std::iter::once(preferred)
        .chain(FALLBACK_ORDER.iter().copied().filter(|d| *d != preferred));
    for name in order {
        let Some(dialect) = dialect_from_str(name) else {
            continue;
        };
        match parse_with(dialect.as_ref(), sql) {
            Ok(statements) => {
                return Ok(Parsed {
                    statements,
                    dialect: name,
                });
            }
            Err(e) => {
                first_error.get_or_insert(e);
            }
        }
    }
    Err(first_error.unwrap_or_else(|| "no sql dialect available".to_owned()))
}

fn parse_with(dialect: &dyn Dialect, sql: &str) -> Result<Vec<Statement>, String> {
    Parser::new(dialect)
        .with_recursion_limit(RECURSION_LIMIT)
        .try_with_sql(sql)
        .and_then(|mut p| p.parse_statements())
        .map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn adapters_map_to_dialects() {
        let cases = [
            (Some("jdbc:postgresql"), "postgresql"),
            (Some("postgres"), "postgresql"),
            (Some("jdbc:redshift"), "redshift"),
            (Some("Snowflake"), "snowflake"),
            (Some("bigquery"), "bigquery"),
            (Some("jdbc:mysql"), "mysql"),
            (Some("jdbc:sqlserver"), "mssql"),
            (Some("mssql"), "mssql"),
            (Some("databricks"), "databricks"),
            (Some("jdbc:hive2"), "databricks"),
            (Some("spark"), "databricks"),
            (Some("trino"), "generic"),
            (Some("jdbc:presto"), "generic"),
            (Some("jdbc:athena"), "generic"),
            (Some("modedatasets"), "generic"),
            (None, "generic"),
        ];
        for (adapter, want) in cases {
            assert_eq!(dialect_name_for_adapter(adapter), want, "{adapter:?}");
        }
    }

    #[test]
    fn every_mapped_dialect_exists_in_sqlparser() {
        for name in FALLBACK_ORDER {
            assert!(dialect_from_str(name).is_some(), "{name}");
        }
    }

    #[test]
    fn falls_back_to_another_dialect() {
        // Snowflake's `:` path; postgres is preferred here but cannot read it.
        let p = parse_any("select payload:user.id::string from t", "postgresql").unwrap();
        assert_eq!(p.dialect, "generic");
        assert_eq!(p.statements.len(), 1);
    }

    #[test]
    fn reports_the_preferred_dialects_error() {
        let err = parse_any("select ( from t where", "postgresql").unwrap_err();
        assert!(err.contains("Expected"), "{err}");
    }
}
