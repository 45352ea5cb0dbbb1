//! End-to-end tests of [`super::analyze`] on the recorded Mode bodies and on
//! edge cases; the accuracy corpus lives in `corpus.rs`.

use std::time::{Duration, Instant};

use super::template::{Branches, render};
use super::*;

fn pg() -> DataSourceInfo {
    DataSourceInfo {
        adapter: Some("jdbc:postgresql".into()),
        database: Some("dvdrental".into()),
        host: None,
    }
}

fn names(l: &QueryLineage) -> Vec<&str> {
    l.tables.iter().map(|t| t.name.as_str()).collect()
}

fn defs(pairs: &[(&str, &str)]) -> Definitions {
    Definitions::new(pairs.iter().map(|(n, s)| (n.to_string(), s.to_string())))
}

/// The recorded `/definitions` and `/queries` bodies, exactly as Mode sent them.
fn recorded() -> (Definitions, String) {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/mode-recorded");
    let read = |f: &str| -> serde_json::Value {
        serde_json::from_str(&std::fs::read_to_string(format!("{dir}/{f}")).unwrap()).unwrap()
    };
    let d = read("definitions.json");
    let pairs = d["_embedded"]["definitions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| {
            (
                x["name"].as_str().unwrap().to_owned(),
                x["source"].as_str().unwrap().to_owned(),
            )
        });
    let q = read("queries.json");
    let sql = q["_embedded"]["queries"][0]["raw_query"]
        .as_str()
        .unwrap()
        .to_owned();
    (Definitions::new(pairs), sql)
}

#[test]
fn recorded_mode_query_reads_through_nested_definitions() {
    let (definitions, sql) = recorded();
    assert_eq!(definitions.len(), 2);
    let l = analyze(&sql, Some(&pg()), &definitions);
    assert_eq!(l.method, Method::ParsedAfterTemplating);
    assert_eq!(
        l.definitions,
        ["custome_payment_date", "join_on_definition"]
    );
    let via: Vec<(&str, Option<&str>)> = l
        .tables
        .iter()
        .map(|t| (t.name.as_str(), t.via_definition.as_deref()))
        .collect();
    assert_eq!(
        via,
        [
            ("dvdrental.customer", Some("custome_payment_date")),
            ("dvdrental.payment", Some("custome_payment_date")),
            ("dvdrental.rental", Some("join_on_definition")),
            ("dvdrental.staff", None),
        ]
    );
    assert_eq!(l.error, None);
}

#[test]
fn definitions_expand_with_unescaped_newlines_and_alias() {
    let d = defs(&[(
        "orders_base",
        "select * from sales.orders\\n-- trailing comment",
    )]);
    let r = render("select * from {{ @orders_base as o }}", &d, Branches::First);
    assert_eq!(
        r.text,
        "select * from (\nselect * from sales.orders\n-- trailing comment\n) AS o"
    );
    let r = render("select * from {{@orders_base}}", &d, Branches::First);
    assert!(r.text.ends_with(") AS orders_base"), "{}", r.text);
}

#[test]
fn definition_cycle_stops_and_is_reported() {
    let d = defs(&[
        ("a", "select * from {{ @b }} join t_a on true"),
        ("b", "select * from {{ @a }} join t_b on true"),
    ]);
    let l = analyze("select * from {{ @a }}", Some(&pg()), &d);
    assert_eq!(names(&l), ["dvdrental.t_a", "dvdrental.t_b"]);
    assert_eq!(l.definitions, ["a", "b"]);
    assert!(
        l.error
            .as_deref()
            .unwrap()
            .contains("definition cycle: a -> b -> a"),
        "{:?}",
        l.error
    );
}

#[test]
fn self_referencing_definition_and_deep_chain_terminate() {
    let d = defs(&[("me", "select * from {{ @me }} join t on true")]);
    let l = analyze("select * from {{ @me }}", Some(&pg()), &d);
    assert_eq!(names(&l), ["dvdrental.t"]);
    let chain: Vec<(String, String)> = (0..30)
        .map(|i| {
            (
                format!("d{i}"),
                format!("select * from {{{{ @d{} }}}} join t{i} on true", i + 1),
            )
        })
        .collect();
    let l = analyze(
        "select * from {{ @d0 }}",
        Some(&pg()),
        &Definitions::new(chain),
    );
    assert_eq!(l.tables.len(), 10, "{:?}", names(&l));
    assert!(l.error.as_deref().unwrap().contains("deeper than 10"));
}

#[test]
fn exponential_definition_fan_out_is_bounded() {
    let mut pairs = vec![("d0".to_owned(), "select * from big_table".to_owned())];
    for i in 1..=20 {
        let inner = format!("{{{{ @d{} }}}}", i - 1);
        pairs.push((
            format!("d{i}"),
            format!("select * from {inner} join {inner} on true"),
        ));
    }
    let started = Instant::now();
    let l = analyze(
        "select * from {{ @d9 }}",
        Some(&pg()),
        &Definitions::new(pairs),
    );
    assert!(started.elapsed() < Duration::from_secs(20));
    assert_ne!(l.method, Method::Unparsed);
}

#[test]
fn unknown_definition_is_not_a_table() {
    let l = analyze(
        "select * from {{ @nope as n }}",
        Some(&pg()),
        &Definitions::default(),
    );
    assert!(l.tables.is_empty(), "{:?}", l.tables);
    assert_eq!(l.definitions, ["nope"]);
    assert!(l.error.unwrap().contains("unknown definition `nope`"));
}

#[test]
fn form_defaults_fill_parameters() {
    let sql = "select * from {{ s }}.t where d > '{{ d }}' and id in ({{ ids | join: ',' }})\n\
               {% form %}\ns:\n  type: text\n  default: Stage\nd:\n  default: 2024-01-01\n\
               ids:\n  type: multiselect\n  default: [1, 2]\n{% endform %}";
    let r = render(sql, &Definitions::default(), Branches::First);
    assert_eq!(
        r.text.trim_end(),
        "select * from Stage.t where d > '2024-01-01' and id in (1,2)"
    );
    let l = analyze(sql, Some(&pg()), &Definitions::default());
    assert_eq!(names(&l), ["dvdrental.stage.t"]);
    assert_eq!(l.tables[0].as_written, "Stage.t");
}

#[test]
fn liquid_tags_are_neutralised() {
    let sql = "select * from a {% if x %}join b on true{% elsif y %}join c on true{% else %}join d on true{% endif %}";
    let first = render(sql, &Definitions::default(), Branches::First);
    let last = render(sql, &Definitions::default(), Branches::Last);
    assert_eq!(first.text, "select * from a join b on true");
    assert_eq!(last.text, "select * from a join d on true");
    let l = analyze(sql, None, &Definitions::default());
    assert_eq!(l.method, Method::ParsedAfterTemplating);
    assert_eq!(names(&l), ["a", "b", "d"]);
}

#[test]
fn as_written_keeps_the_sql_spelling() {
    let l = analyze(
        r#"select * from "Sales"."Orders" join PUBLIC.Items on true"#,
        Some(&pg()),
        &Definitions::default(),
    );
    let got: Vec<(&str, &str)> = l
        .tables
        .iter()
        .map(|t| (t.name.as_str(), t.as_written.as_str()))
        .collect();
    assert_eq!(
        got,
        [
            ("dvdrental.Sales.Orders", r#""Sales"."Orders""#),
            ("dvdrental.public.items", "PUBLIC.Items")
        ]
    );
}

#[test]
fn bigquery_takes_the_project_from_host() {
    let ds = DataSourceInfo {
        adapter: Some("bigquery".into()),
        database: Some("default".into()),
        host: Some("proj-1".into()),
    };
    let l = analyze("select * from ds.t", Some(&ds), &Definitions::default());
    assert_eq!(names(&l), ["proj-1.ds.t"]);
    assert_eq!(l.dialect, "bigquery");
}

#[test]
fn fallback_is_marked_and_keeps_the_parser_error() {
    let l = analyze(
        "select * from sales.orders where",
        Some(&pg()),
        &Definitions::default(),
    );
    assert_eq!(l.method, Method::Fallback);
    assert_eq!(names(&l), ["dvdrental.sales.orders"]);
    assert!(l.error.unwrap().contains("Expected"));
}

#[test]
fn unparsed_when_nothing_is_found() {
    let l = analyze(
        "this is not sql at all (",
        Some(&pg()),
        &Definitions::default(),
    );
    assert_eq!(l.method, Method::Unparsed);
    assert!(l.tables.is_empty());
    assert!(l.error.is_some());
    assert_eq!(l.dialect, "postgresql");
}

#[test]
fn serialises_in_snake_case_without_empty_options() {
    let l = analyze("select * from t", None, &Definitions::default());
    let json = serde_json::to_string(&l).unwrap();
    assert_eq!(
        json,
        r#"{"tables":[{"name":"t","as_written":"t"}],"method":"parsed","dialect":"generic","definitions":[]}"#
    );
}

/// Runs `sql` and checks it finishes quickly without panicking.
fn survives(sql: &str) -> QueryLineage {
    let started = Instant::now();
    let l = analyze(sql, Some(&pg()), &Definitions::default());
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "took {:?}",
        started.elapsed()
    );
    l
}

#[test]
fn robustness_empty_and_blank() {
    assert!(survives("").tables.is_empty());
    assert!(survives("   \n\t ").tables.is_empty());
    assert!(survives(";;;").tables.is_empty());
}

#[test]
fn robustness_a_megabyte_of_garbage() {
    const GARBAGE: &[u8] = b"({'\"`[]})%;-*/ \nxyz{{";
    let garbage: String = (0..1_048_576u32)
        .map(|i| {
            char::from(GARBAGE[(i.wrapping_mul(2_654_435_761) >> 27) as usize % GARBAGE.len()])
        })
        .collect();
    let l = survives(&garbage);
    assert_ne!(l.method, Method::Parsed);
}

#[test]
fn robustness_ten_thousand_parentheses() {
    let parens = format!(
        "select {}1{} from t",
        "(".repeat(10_000),
        ")".repeat(10_000)
    );
    assert_ne!(survives(&parens).method, Method::Parsed);
}

#[test]
fn robustness_deeply_nested_subqueries() {
    let subqueries = format!(
        "select * from {}t{}",
        "(select * from ".repeat(5_000),
        ") x".repeat(5_000)
    );
    survives(&subqueries);
}

#[test]
fn robustness_long_operator_and_union_chains() {
    // Just under the parse size cap: left-deep ASTs ~130k and ~11k levels deep.
    let chain = format!("select {} from t", vec!["a"; 130_000].join("+"));
    assert_eq!(survives(&chain).method, Method::Parsed);
    let unions = vec!["select 1 from t"; 11_000].join(" union ");
    assert_eq!(survives(&unions).method, Method::Parsed);
    // Over the cap only the regex runs; it must stay linear.
    let unions = vec!["select 1 from t"; 40_000].join(" union ");
    assert_eq!(names(&survives(&unions)), ["dvdrental.t"]);
}

#[test]
fn robustness_deep_liquid() {
    let liquid = format!(
        "{}select 1{}",
        "{% if a %}".repeat(5_000),
        "{% endif %}".repeat(5_000)
    );
    survives(&liquid);
}

#[test]
fn robustness_unterminated_input() {
    survives("select * from t where a = 'unterminated");
    survives("select * from \"unterminated");
    survives("select * from t /* unterminated comment");
    survives("select * from {{ @unterminated");
    survives("select * from t {% if x %} no end");
    survives("{% form %}\nx:\n  default: 1\n");
}
