//! Mode `{% form %}` blocks: parameter defaults, and Liquid output
//! expressions (`{{ name | filter: arg }}`) evaluated against them.
//!
//! A form block is YAML-ish:
//!
//! ```text
//! {% form %}
//! start_date:
//!   type: date
//!   default: 2024-01-01
//! regions:
//!   type: multiselect
//!   default: ['EU', 'US']
//! {% endform %}
//! ```
//!
//! Only `default` matters here; a list may also be written as `- item` lines.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use regex::Regex;

/// A parameter value: a scalar or a list (multiselect).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Value {
    Scalar(String),
    List(Vec<String>),
}

/// Parameter name → value.
pub(crate) type Params = BTreeMap<String, Value>;

static FORM: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?is)\{%-?\s*form\s*-?%\}(.*?)(?:\{%-?\s*endform\s*-?%\}|\z)")
        .expect("valid regex")
});

/// Removes every form block from `src`, adding each parameter's default to
/// `params` (a key already present wins, so the query overrides definitions).
pub(crate) fn take_forms(src: &str, params: &mut Params) -> String {
    for caps in FORM.captures_iter(src) {
        for (name, value) in parse_form(&caps[1]) {
            params.entry(name).or_insert(value);
        }
    }
    FORM.replace_all(src, " ").into_owned()
}

/// `(name, default)` for every parameter of one form body that has a default.
fn parse_form(body: &str) -> Vec<(String, Value)> {
    let lines: Vec<&str> = body.lines().filter(|l| !l.trim().is_empty()).collect();
    let top = lines.iter().map(|l| indent(l)).min().unwrap_or(0);
    let mut out = Vec::new();
    let mut current: Option<String> = None;
    let mut list: Option<Vec<String>> = None;
    for line in lines {
        let trimmed = line.trim();
        if indent(line) == top {
            flush_list(&mut out, &current, &mut list);
            current = trimmed.strip_suffix(':').map(|n| n.trim().to_owned());
            continue;
        }
        if let Some(items) = list.as_mut() {
            if let Some(item) = trimmed.strip_prefix("- ") {
                items.push(unquote(item));
                continue;
            }
            flush_list(&mut out, &current, &mut list);
        }
        let Some(rest) = trimmed.strip_prefix("default:") else {
            continue;
        };
        let (Some(name), rest) = (current.clone(), rest.trim()) else {
            continue;
        };
        match rest {
            "" => list = Some(Vec::new()),
            r if r.starts_with('[') => out.push((name, Value::List(inline_list(r)))),
            r => out.push((name, Value::Scalar(unquote(r)))),
        }
    }
    flush_list(&mut out, &current, &mut list);
    out
}

fn flush_list(
    out: &mut Vec<(String, Value)>,
    name: &Option<String>,
    list: &mut Option<Vec<String>>,
) {
    if let (Some(name), Some(items)) = (name, list.take()) {
        out.push((name.clone(), Value::List(items)));
    }
}

fn indent(line: &str) -> usize {
    line.len() - line.trim_start().len()
}

fn inline_list(s: &str) -> Vec<String> {
    let inner = s.trim_start_matches('[').trim_end_matches(']');
    split_outside_quotes(inner, ',')
        .into_iter()
        .map(|v| unquote(v.trim()))
        .filter(|v| !v.is_empty())
        .collect()
}

/// Strips one pair of matching surrounding quotes.
pub(crate) fn unquote(s: &str) -> String {
    let s = s.trim();
    for q in ['\'', '"'] {
        if s.len() >= 2 && s.starts_with(q) && s.ends_with(q) {
            return s[1..s.len() - 1].to_owned();
        }
    }
    s.to_owned()
}

/// Splits on `sep` outside single or double quotes.
pub(crate) fn split_outside_quotes(s: &str, sep: char) -> Vec<&str> {
    let mut out = Vec::new();
    let (mut start, mut quote) = (0, None);
    for (i, c) in s.char_indices() {
        match (quote, c) {
            (None, '\'' | '"') => quote = Some(c),
            (Some(q), c) if c == q => quote = None,
            (None, c) if c == sep => {
                out.push(&s[start..i]);
                start = i + c.len_utf8();
            }
            _ => {}
        }
    }
    out.push(&s[start..]);
    out
}

/// Evaluates a Liquid output expression (`name | join: ','`, `'lit'`, `42`).
///
/// `None` when it names an unknown parameter and no `default` filter applies.
pub(crate) fn eval(expr: &str, params: &Params) -> Option<String> {
    let mut pieces = split_outside_quotes(expr, '|').into_iter();
    let head = pieces.next().unwrap_or_default().trim();
    let mut value = lookup(head, params);
    for filter in pieces {
        value = apply_filter(filter.trim(), value);
    }
    value.map(|v| match v {
        Value::Scalar(s) => s,
        Value::List(items) => items.join(","),
    })
}

fn lookup(head: &str, params: &Params) -> Option<Value> {
    if head.starts_with(['\'', '"']) || head.parse::<f64>().is_ok() {
        return Some(Value::Scalar(unquote(head)));
    }
    params.get(head).cloned()
}

fn apply_filter(filter: &str, value: Option<Value>) -> Option<Value> {
    let (name, arg) = filter.split_once(':').unwrap_or((filter, ""));
    let args: Vec<String> = split_outside_quotes(arg, ',')
        .into_iter()
        .map(unquote)
        .collect();
    let first = args.first().cloned().unwrap_or_default();
    let map = |v: Option<Value>, f: &dyn Fn(&str) -> String| {
        v.map(|v| match v {
            Value::Scalar(s) => Value::Scalar(f(&s)),
            Value::List(items) => Value::List(items.iter().map(|s| f(s)).collect()),
        })
    };
    match name.trim() {
        "join" => value.map(|v| match v {
            Value::List(items) => Value::Scalar(items.join(&first)),
            scalar => scalar,
        }),
        "default" => value.or(Some(Value::Scalar(first))),
        "upcase" => map(value, &|s| s.to_uppercase()),
        "downcase" => map(value, &|s| s.to_lowercase()),
        "strip" => map(value, &|s| s.trim().to_owned()),
        "append" => map(value, &|s| format!("{s}{first}")),
        "prepend" => map(value, &|s| format!("{first}{s}")),
        _ => value,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scalar(s: &str) -> Value {
        Value::Scalar(s.into())
    }

    #[test]
    fn form_defaults_are_collected_and_the_block_removed() {
        let sql = "select 1 {% form %}\nstart_date:\n  type: date\n  default: '2024-01-01'\n\
                   regions:\n  type: multiselect\n  default: ['EU', \"US\"]\n\
                   owner:\n  type: text\n{% endform %} from t";
        let mut params = Params::new();
        let out = take_forms(sql, &mut params);
        assert_eq!(out, "select 1   from t");
        assert_eq!(params["start_date"], scalar("2024-01-01"));
        assert_eq!(
            params["regions"],
            Value::List(vec!["EU".into(), "US".into()])
        );
        assert!(!params.contains_key("owner"));
    }

    #[test]
    fn dash_lists_and_the_recorded_mode_form() {
        let mut params = Params::new();
        take_forms(
            "{% form %}\nids:\n  default:\n    - 1\n    - 2\nx:\n   type: text\n   default: my_id\n{% endform %}",
            &mut params,
        );
        assert_eq!(params["ids"], Value::List(vec!["1".into(), "2".into()]));
        assert_eq!(params["x"], scalar("my_id"));
    }

    #[test]
    fn existing_params_win() {
        let mut params = Params::from([("a".to_owned(), scalar("query"))]);
        take_forms(
            "{% form %}\na:\n  default: definition\n{% endform %}",
            &mut params,
        );
        assert_eq!(params["a"], scalar("query"));
    }

    #[test]
    fn filters_apply_to_defaults() {
        let params = Params::from([
            ("ids".to_owned(), Value::List(vec!["1".into(), "2".into()])),
            ("s".to_owned(), scalar("Eu")),
        ]);
        assert_eq!(eval("ids | join: ','", &params).as_deref(), Some("1,2"));
        assert_eq!(
            eval("ids | join: \"', '\"", &params).as_deref(),
            Some("1', '2")
        );
        assert_eq!(eval("s | upcase", &params).as_deref(), Some("EU"));
        assert_eq!(
            eval("missing | default: 'x'", &params).as_deref(),
            Some("x")
        );
        assert_eq!(eval("missing", &params), None);
        assert_eq!(eval("'lit'", &params).as_deref(), Some("lit"));
    }
}
