//! End-to-end tests of [`super::analyze`] on the recorded Mode bodies and on
//! edge cases; the accuracy corpus lives in `corpus.rs`.

use super::*;

fn pg() -> DataSourceInfo {
    DataSourceInfo { adapter: Some("jdbc:postgresql".into()), database: Some("dvdrental".into()), host: None }
}

fn names(l: &QueryLineage) -> Vec<&str> {
    l.tables.iter().map(|t| t.name.as_str()).collect()
}

#[test]
fn smoke() {
    let l = analyze("with x as (select * from a.b) select * from x join c on true", Some(&pg()), &Definitions::default());
    println!("{l:#?}");
    assert_eq!(names(&l), ["dvdrental.a.b", "dvdrental.c"]);
}
