//! The accuracy corpus (`fixtures/lineage/corpus.json`): hand-written queries
//! with hand-written expected table sets. Prints every miss and the accuracy
//! line, and requires at least 95 % exact matches.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::{DataSourceInfo, Definitions, analyze};

#[derive(Deserialize)]
struct Entry {
    id: String,
    adapter: Option<String>,
    database: Option<String>,
    host: Option<String>,
    sql: String,
    #[serde(default)]
    definitions: BTreeMap<String, String>,
    expected: Vec<String>,
}

fn load() -> Vec<Entry> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/lineage/corpus.json");
    let text = std::fs::read_to_string(path).expect("corpus file is readable");
    serde_json::from_str(&text).expect("corpus file is valid")
}

#[test]
fn corpus_accuracy_is_at_least_95_percent() {
    let entries = load();
    assert!(entries.len() >= 70, "corpus has {} entries", entries.len());
    let mut exact = 0;
    for e in &entries {
        let ds = DataSourceInfo {
            adapter: e.adapter.clone(),
            database: e.database.clone(),
            host: e.host.clone(),
        };
        let defs = Definitions::new(e.definitions.clone());
        let got = analyze(&e.sql, Some(&ds), &defs);
        let got_names: Vec<&str> = got.tables.iter().map(|t| t.name.as_str()).collect();
        let mut want: Vec<&str> = e.expected.iter().map(String::as_str).collect();
        want.sort_unstable();
        if got_names == want {
            exact += 1;
        } else {
            println!(
                "MISS {}: expected {want:?}\n     got {got_names:?} ({:?}, {}, {:?})",
                e.id, got.method, got.dialect, got.error
            );
        }
    }
    let pct = exact as f64 * 100.0 / entries.len() as f64;
    println!(
        "lineage corpus: {exact}/{} exact ({pct:.1}%)",
        entries.len()
    );
    assert!(pct >= 95.0, "accuracy {pct:.1}% below 95%");
}
