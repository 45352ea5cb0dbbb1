//! Property tests: no input to a parser of settings, `Retry-After` or HAL
//! bodies panics, whatever its bytes.

use proptest::prelude::*;
use serde_json::Value;

use crate::http::parse_base_url;
use crate::http::retry::parse_retry_after;
use crate::mode::{hal, validate_workspace};
use crate::settings::limits::parse_duration;
use crate::settings::read_dotenv;

/// Any JSON value, a few levels deep.
fn json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        ".{0,12}".prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 64, 8, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..8).prop_map(Value::Array),
            prop::collection::btree_map(
                prop_oneof![
                    Just("_embedded".to_owned()),
                    Just("reports".to_owned()),
                    Just("_links".to_owned()),
                    Just("next_page".to_owned()),
                    Just("href".to_owned()),
                    Just("pagination".to_owned()),
                    Just("total_count".to_owned()),
                    ".{0,6}".boxed()
                ],
                inner,
                0..6
            )
            .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn retry_after_never_panics(text in "\\PC{0,40}", digits in "[0-9]{1,40}(\\.[0-9]{0,20})?(e[0-9]{1,4})?") {
        let now = std::time::SystemTime::now();
        let _ = parse_retry_after(&text, now);
        let _ = parse_retry_after(&digits, now);
    }

    #[test]
    fn durations_urls_and_names_never_panic(text in "\\PC{0,60}", n in "[0-9]{1,30}[a-z]{0,3}") {
        let _ = parse_duration(&text);
        let _ = parse_duration(&n);
        let _ = parse_base_url(&text, "--host");
        let _ = validate_workspace(&text);
    }

    #[test]
    fn hal_pages_never_panic(body in json()) {
        let _ = hal::page(body.clone(), "reports");
        let _ = hal::creator(&body);
    }

    #[test]
    fn dotenv_never_panics_nor_echoes(bytes in prop::collection::vec(any::<u8>(), 0..256)) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(".env");
        std::fs::write(&path, &bytes).unwrap();
        if let Err(e) = read_dotenv(&path) {
            let text = e.to_string();
            prop_assert!(text.contains(".env"));
        }
    }
}
