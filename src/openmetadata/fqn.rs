//! OpenMetadata's fully qualified names: parts joined by `.`, a part holding a
//! `.` wrapped in double quotes (OpenMetadata's `FullyQualifiedName.quoteName`).

/// One part of a fully qualified name, quoted when it holds a `.`.
pub fn quote(part: &str) -> String {
    if part.contains('.') && !(part.starts_with('"') && part.ends_with('"')) {
        format!("\"{part}\"")
    } else {
        part.to_owned()
    }
}

/// Parts joined into a fully qualified name.
pub fn build(parts: &[&str]) -> String {
    parts.iter().map(|p| quote(p)).collect::<Vec<_>>().join(".")
}

/// A chart's FQN: `service.chart`.
pub fn chart(service: &str, token: &str) -> String {
    build(&[service, token])
}

/// A dashboard's FQN: `service.dashboard`.
pub fn dashboard(service: &str, token: &str) -> String {
    build(&[service, token])
}

/// A data model's name, as OpenMetadata's Mode connector names it:
/// `{report_token}.{query_token}`.
pub fn data_model_name(report: &str, query: &str) -> String {
    format!("{report}.{query}")
}

/// A data model's FQN: `service.model."report.query"`.
pub fn data_model(service: &str, name: &str) -> String {
    build(&[service, "model", name])
}

/// A table's FQN: `service.database.schema.table`.
pub fn table(service: &str, database: &str, schema: &str, table: &str) -> String {
    build(&[service, database, schema, table])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dotted_parts_are_quoted() {
        assert_eq!(chart("mode", "abc"), "mode.abc");
        assert_eq!(data_model("mode", "r1.q1"), "mode.model.\"r1.q1\"");
        assert_eq!(table("pg", "db", "s", "t"), "pg.db.s.t");
        assert_eq!(quote("\"a.b\""), "\"a.b\"");
    }
}
