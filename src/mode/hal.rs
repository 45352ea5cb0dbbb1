//! Reading Mode's HAL documents.
//!
//! Mode answers lists as `{"_links": …, "_embedded": {"<key>": [ … ]}}` and
//! objects bare with `_links`. A page past the end answers `"_embedded": {}`
//! (recorded as `final_page.json`), so a missing key is an empty list. Unknown
//! fields are kept as they are: rows copy only the keys they need.

use serde_json::Value;

/// The items of a HAL list under `_embedded.<key>`; empty when the key or
/// `_embedded` is missing or not an array.
pub fn embedded(body: Value, key: &str) -> Vec<Value> {
    match body {
        Value::Object(mut map) => match map.remove("_embedded") {
            Some(Value::Object(mut embedded)) => match embedded.remove(key) {
                Some(Value::Array(items)) => items,
                _ => Vec::new(),
            },
            _ => Vec::new(),
        },
        _ => Vec::new(),
    }
}

/// `_links.<rel>.href` of an object, if present and a string.
pub fn link<'a>(object: &'a Value, rel: &str) -> Option<&'a str> {
    object.get("_links")?.get(rel)?.get("href")?.as_str()
}

/// The username in a creator link: `"/api/jdoe"` → `"jdoe"`.
///
/// castor takes `href[5:]`; we take the last non-empty path segment, which
/// agrees on Mode's links and also reads absolute URLs (`https://…/api/jdoe`).
pub fn username_from_href(href: &str) -> Option<&str> {
    let path = href.split(['?', '#']).next().unwrap_or_default();
    path.rsplit('/').find(|s| !s.is_empty())
}

/// The creator's username of an object, from `_links.creator.href`.
pub fn creator(object: &Value) -> Option<String> {
    link(object, "creator")
        .and_then(username_from_href)
        .map(str::to_owned)
}

/// A string field, if present and a string.
pub fn str_field<'a>(object: &'a Value, key: &str) -> Option<&'a str> {
    object.get(key)?.as_str()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn embedded_tolerates_missing_keys() {
        assert_eq!(
            embedded(json!({"_embedded": {"spaces": [1, 2]}}), "spaces").len(),
            2
        );
        assert!(embedded(json!({"_embedded": {}}), "spaces").is_empty());
        assert!(embedded(json!({"_links": {}}), "spaces").is_empty());
        assert!(embedded(json!({"_embedded": {"spaces": null}}), "spaces").is_empty());
        assert!(embedded(json!([1]), "spaces").is_empty());
    }

    #[test]
    fn creator_usernames() {
        assert_eq!(username_from_href("/api/modeuser"), Some("modeuser"));
        assert_eq!(
            username_from_href("https://app.mode.com/api/jdoe/"),
            Some("jdoe")
        );
        assert_eq!(username_from_href(""), None);
        let obj = json!({"_links": {"creator": {"href": "/api/modeuser"}}});
        assert_eq!(creator(&obj).as_deref(), Some("modeuser"));
        assert_eq!(creator(&json!({"_links": {}})), None);
    }
}
