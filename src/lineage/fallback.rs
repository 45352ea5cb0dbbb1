//! Last resort when no dialect parses the SQL: a `FROM|JOIN <name>` regex.
//!
//! Low confidence by design. It blanks comments and string literals first (so
//! `-- from fake_table` is not a read), skips names followed by `(` (table
//! functions), `FROM` inside `EXTRACT(… FROM …)`-style calls, CTE names
//! (`name AS (`), temp tables created in the same SQL, and SQL keywords.

use std::collections::BTreeSet;
use std::sync::LazyLock;

use regex::Regex;

static READ: LazyLock<Regex> = LazyLock::new(|| {
    let part = r#"(?:"[^"\n]+"|`[^`\n]+`|\[[^\]\n]+\]|[A-Za-z_@#][\w$@#-]*)"#;
    Regex::new(&format!(
        r"(?i)\b(?:from|join)\s+({part}(?:\s*\.\s*{part})*)"
    ))
    .expect("valid regex")
});

static CTE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"(?i)(?:\bwith\s+(?:recursive\s+)?|,\s*)("[^"]+"|\w+)\s*(?:\([^()]*\)\s*)?as\s+(?:not\s+)?(?:materialized\s+)?\("#)
        .expect("valid regex")
});

static CREATED: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"(?i)\b(?:create\s+(?:or\s+replace\s+)?(?:(?:local|global)\s+)?(?:temp|temporary|volatile)?\s*(?:table|view)\s+(?:if\s+not\s+exists\s+)?|\binto\s+(?:temp(?:orary)?\s+)?(?:table\s+)?)([\w."`\[\]#]+)"#)
        .expect("valid regex")
});

const KEYWORDS: &[&str] = &[
    "select", "lateral", "unnest", "table", "values", "only", "the", "where", "group", "order",
    "on", "using", "as", "dual", "inner", "left", "right", "full", "cross", "outer", "join",
];

/// Functions whose arguments use `FROM` (`EXTRACT(YEAR FROM d)`).
const FROM_FUNCTIONS: &[&str] = &[
    "extract",
    "substring",
    "trim",
    "position",
    "overlay",
    "date_part",
];

/// How far back [`inside_from_function`] looks for the opening `(`.
const LOOK_BACK_CHARS: usize = 4096;

/// A name the regex found: as written, and its byte offset in the SQL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Hit {
    pub written: String,
    pub offset: usize,
}

/// Every `FROM|JOIN <name>` in `sql` that looks like a table read.
pub(crate) fn scan(sql: &str) -> Vec<Hit> {
    let clean = blank_comments_and_strings(sql);
    let ctes: BTreeSet<String> = CTE.captures_iter(&clean).map(|c| key(&c[1])).collect();
    let created: BTreeSet<String> = CREATED.captures_iter(&clean).map(|c| key(&c[1])).collect();
    READ.captures_iter(&clean)
        .filter_map(|c| c.get(1))
        .filter(|m| !clean[m.end()..].trim_start().starts_with('('))
        .filter(|m| !inside_from_function(&clean, m.start()))
        .filter(|m| {
            let k = key(m.as_str());
            let first = m.as_str().trim_start_matches(['"', '`', '[']);
            !ctes.contains(&k)
                && !created.contains(&k)
                && !KEYWORDS.contains(&k.as_str())
                && !first.starts_with(['@', '#'])
        })
        .map(|m| Hit {
            written: m.as_str().to_owned(),
            offset: m.start(),
        })
        .collect()
}

/// Lowercase name without quotes or spaces, for comparisons.
fn key(name: &str) -> String {
    name.chars()
        .filter(|c| !matches!(c, '"' | '`' | '[' | ']') && !c.is_whitespace())
        .collect::<String>()
        .to_lowercase()
}

/// True when `at` sits inside an unclosed `extract(`-like call.
fn inside_from_function(sql: &str, at: usize) -> bool {
    let mut depth = 0usize;
    // Bounded look-back keeps the scan linear on huge SQL.
    for (i, c) in sql[..at].char_indices().rev().take(LOOK_BACK_CHARS) {
        match c {
            ')' => depth += 1,
            '(' if depth > 0 => depth -= 1,
            '(' => {
                let before = sql[..i].trim_end();
                let word_start = before
                    .rfind(|c: char| !(c.is_alphanumeric() || c == '_'))
                    .map_or(0, |p| p + 1);
                return FROM_FUNCTIONS.contains(&before[word_start..].to_lowercase().as_str());
            }
            ';' => return false,
            _ => {}
        }
    }
    false
}

/// Replaces comments and single-quoted strings with spaces, keeping byte
/// offsets (multi-byte characters become as many spaces).
pub(crate) fn blank_comments_and_strings(sql: &str) -> String {
    let bytes = sql.as_bytes();
    let mut out = bytes.to_vec();
    let mut i = 0;
    while i < bytes.len() {
        let end = match (bytes[i], bytes.get(i + 1)) {
            (b'-', Some(b'-')) | (b'#', Some(b' ')) => {
                find_from(bytes, i, b"\n").unwrap_or(bytes.len())
            }
            (b'/', Some(b'*')) => find_from(bytes, i + 2, b"*/").map_or(bytes.len(), |e| e + 2),
            (b'\'', _) => string_end(bytes, i),
            _ => {
                i += 1;
                continue;
            }
        };
        for b in &mut out[i..end] {
            if *b != b'\n' {
                *b = b' ';
            }
        }
        i = end.max(i + 1);
    }
    String::from_utf8(out).unwrap_or_default()
}

fn find_from(hay: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    hay.get(from..)?
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|p| p + from)
}

/// End (exclusive) of the string literal opening at `start`; `''` escapes.
fn string_end(bytes: &[u8], start: usize) -> usize {
    let mut i = start + 1;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            b'\'' if bytes.get(i + 1) == Some(&b'\'') => i += 2,
            b'\'' => return i + 1,
            _ => i += 1,
        }
    }
    bytes.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(sql: &str) -> Vec<String> {
        scan(sql).into_iter().map(|h| h.written).collect()
    }

    #[test]
    fn finds_reads_and_skips_noise() {
        let sql = "-- select * from fake_table\nwith recent as (select * from analytics.events)\n\
                   select approximate count(distinct user_id), extract(year from created_at), 'from x'\n\
                   from recent join \"Raw\".\"Users\" u on true join generate_series(1, 3) g on true /* join y */";
        assert_eq!(names(sql), vec!["analytics.events", "\"Raw\".\"Users\""]);
    }

    #[test]
    fn skips_temp_tables_and_stages() {
        let sql = "create temp table t as select 1 from a.b; select * from t join #tmp on 1=1 join @stage on 1=1";
        assert_eq!(names(sql), vec!["a.b"]);
    }

    #[test]
    fn blanking_keeps_offsets_with_multibyte_text() {
        let sql = "select 'é' from t";
        let clean = blank_comments_and_strings(sql);
        assert_eq!(clean.len(), sql.len());
        assert!(clean.ends_with("from t"));
    }
}
