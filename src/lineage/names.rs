//! Canonical table names.
//!
//! Rules, applied per identifier part, then to the whole name:
//! - unquoted parts are lower-cased (every supported warehouse folds them);
//! - quoted parts keep their case, except on Redshift (case-insensitive even
//!   when quoted, by default) and, on Snowflake, an all-uppercase quoted part
//!   (`"ORDERS"` is the same object as `orders`);
//! - a BigQuery backtick part holding dots (`` `proj.ds.t` ``) is split;
//! - a one-part name gets the default database (and the `USE SCHEMA` schema
//!   when known); a two-part name gets the default database, except on MySQL
//!   where `db.table` is already complete. Three parts and more are kept.

use sqlparser::ast::{Ident, ObjectName, ObjectNamePart};

/// One identifier part: its value without quotes, and whether it was quoted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Part {
    pub value: String,
    pub quoted: bool,
}

/// What unqualified names resolve against.
#[derive(Debug, Clone, Default)]
pub(crate) struct NameContext {
    pub dialect: &'static str,
    pub database: Option<String>,
    pub schema: Option<String>,
}

impl NameContext {
    /// The canonical `db.schema.table` string for `parts`.
    pub fn canonical(&self, parts: &[Part]) -> String {
        let mut out: Vec<String> = parts.iter().map(|p| self.canonical_part(p)).collect();
        let complete = out.len() >= 3 || (out.len() == 2 && self.dialect == "mysql");
        if !complete && let Some(db) = &self.database {
            if out.len() == 1
                && let Some(schema) = &self.schema
            {
                out.insert(0, schema.clone());
            }
            out.insert(0, db.clone());
        }
        out.join(".")
    }

    /// One part, case-folded by the rules above.
    pub fn canonical_part(&self, part: &Part) -> String {
        let keep = part.quoted
            && self.dialect != "redshift"
            && !(self.dialect == "snowflake" && is_upper_identifier(&part.value));
        if keep {
            part.value.clone()
        } else {
            part.value.to_lowercase()
        }
    }
}

fn is_upper_identifier(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_' || c == '$')
}

/// The parts of a parsed object name (function-valued parts are skipped).
pub(crate) fn parts_of(name: &ObjectName) -> Vec<Part> {
    name.0
        .iter()
        .filter_map(|p| match p {
            ObjectNamePart::Identifier(ident) => Some(ident),
            ObjectNamePart::Function(_) => None,
        })
        .flat_map(ident_parts)
        .collect()
}

/// One identifier as parts; BigQuery's `` `a.b.c` `` becomes three.
pub(crate) fn ident_parts(ident: &Ident) -> Vec<Part> {
    let quoted = ident.quote_style.is_some();
    if ident.quote_style == Some('`') && ident.value.contains('.') {
        return ident
            .value
            .split('.')
            .map(|v| Part {
                value: v.to_owned(),
                quoted,
            })
            .collect();
    }
    vec![Part {
        value: ident.value.clone(),
        quoted,
    }]
}

/// Splits a name as written (`"a"."B"`, `[db].[dbo].[t]`, `` `p.d.t` ``,
/// `s.t`) into parts. Used by the regex fallback.
pub(crate) fn split_written(name: &str) -> Vec<Part> {
    let mut parts = Vec::new();
    let mut chars = name.chars().peekable();
    while let Some(&c) = chars.peek() {
        let close = match c {
            '"' => Some('"'),
            '`' => Some('`'),
            '[' => Some(']'),
            _ => None,
        };
        let mut value = String::new();
        if let Some(close) = close {
            chars.next();
            value.extend(chars.by_ref().take_while(|&ch| ch != close));
            let pieces: Vec<&str> = if c == '`' {
                value.split('.').collect()
            } else {
                vec![&value]
            };
            parts.extend(pieces.into_iter().map(|v| Part {
                value: v.to_owned(),
                quoted: true,
            }));
        } else {
            while let Some(&ch) = chars.peek() {
                if ch == '.' {
                    break;
                }
                value.push(ch);
                chars.next();
            }
            parts.push(Part {
                value: value.trim().to_owned(),
                quoted: false,
            });
        }
        // Skip the separator (and stray whitespace) before the next part.
        while chars
            .peek()
            .is_some_and(|ch| *ch == '.' || ch.is_whitespace())
        {
            chars.next();
        }
    }
    parts.retain(|p| !p.value.is_empty());
    parts
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx(dialect: &'static str, db: Option<&str>) -> NameContext {
        NameContext {
            dialect,
            database: db.map(str::to_owned),
            schema: None,
        }
    }

    fn canon(c: &NameContext, written: &str) -> String {
        c.canonical(&split_written(written))
    }

    #[test]
    fn unquoted_is_lowercased_and_qualified() {
        let c = ctx("postgresql", Some("dvdrental"));
        assert_eq!(canon(&c, "Customer"), "dvdrental.customer");
        assert_eq!(canon(&c, "Public.Customer"), "dvdrental.public.customer");
        assert_eq!(canon(&c, "Other.Public.Customer"), "other.public.customer");
    }

    #[test]
    fn quoted_keeps_case_except_where_the_warehouse_folds() {
        let pg = ctx("postgresql", None);
        assert_eq!(canon(&pg, r#""Analytics"."Orders""#), "Analytics.Orders");
        let sf = ctx("snowflake", None);
        assert_eq!(
            canon(&sf, r#""RAW"."Events"."ORDERS""#),
            "raw.Events.orders"
        );
        let rs = ctx("redshift", None);
        assert_eq!(canon(&rs, r#""Sales"."Orders""#), "sales.orders");
    }

    #[test]
    fn without_a_database_names_stay_as_written() {
        assert_eq!(canon(&ctx("generic", None), "s.t"), "s.t");
        assert_eq!(canon(&ctx("generic", None), "t"), "t");
    }

    #[test]
    fn mysql_two_parts_are_complete() {
        let c = ctx("mysql", Some("shop"));
        assert_eq!(canon(&c, "`crm`.`Users`"), "crm.Users");
        assert_eq!(canon(&c, "orders"), "shop.orders");
    }

    #[test]
    fn use_schema_fills_the_schema_of_bare_names() {
        let mut c = ctx("snowflake", Some("analytics"));
        c.schema = Some("marts".into());
        assert_eq!(canon(&c, "orders"), "analytics.marts.orders");
        assert_eq!(canon(&c, "raw.orders"), "analytics.raw.orders");
    }

    #[test]
    fn written_names_split_on_every_quote_style() {
        let c = ctx("generic", None);
        assert_eq!(
            canon(&c, "`my-proj.ds.sessions_*`"),
            "my-proj.ds.sessions_*"
        );
        assert_eq!(canon(&c, "[Sales].[dbo].[Orders]"), "Sales.dbo.Orders");
        assert_eq!(canon(&c, "a . b"), "a.b");
    }
}
