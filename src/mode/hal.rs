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

/// One page of a HAL list, checked.
#[derive(Debug, Default)]
pub struct Page {
    /// The items under `_embedded.<key>`.
    pub items: Vec<Value>,
    /// `_links.next_page.href`, when the server sends it (Mode's spec).
    pub next: Option<String>,
    /// `pagination.total_count`, when the server sends it.
    pub total_count: Option<u64>,
    /// Whether the body carries a `pagination` object or a `next_page` link:
    /// then a page without `next_page` is the last one.
    pub paginated: bool,
}

/// Reads one page of a HAL list strictly: the body must be an object; its
/// `_embedded` an object, or absent (Mode's page past the end is
/// `"_embedded": {}`, recorded as `final_page.json`, and an absent key reads
/// the same); `_embedded.<key>` an array, or absent.
///
/// # Errors
/// A reason when the body is not that shape (`_embedded: null`, an object
/// where the list should be, a bare top-level array): a list that is not what
/// Mode sends must never read as an empty list.
pub fn page(body: Value, key: &str) -> Result<Page, String> {
    let Value::Object(mut map) = body else {
        return Err(format!("the body is {}, not a HAL object", kind(&body)));
    };
    let items = match map.remove("_embedded") {
        None => Vec::new(),
        Some(Value::Object(mut embedded)) => match embedded.remove(key) {
            None => Vec::new(),
            Some(Value::Array(items)) => items,
            Some(other) => {
                return Err(format!("_embedded.{key} is {}, not an array", kind(&other)));
            }
        },
        Some(other) => return Err(format!("_embedded is {}, not an object", kind(&other))),
    };
    let next = map
        .get("_links")
        .and_then(|l| l.get("next_page"))
        .and_then(|n| n.get("href"))
        .and_then(Value::as_str)
        .filter(|h| !h.is_empty())
        .map(str::to_owned);
    let pagination = map.get("pagination").filter(|p| p.is_object());
    let total_count = pagination
        .and_then(|p| p.get("total_count"))
        .and_then(Value::as_u64);
    Ok(Page {
        items,
        paginated: pagination.is_some() || next.is_some(),
        next,
        total_count,
    })
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
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
    fn pages_are_read_strictly() {
        let ok = page(json!({"_embedded": {"spaces": [1, 2]}}), "spaces").unwrap();
        assert_eq!((ok.items.len(), ok.paginated), (2, false));
        assert!(
            page(json!({"_embedded": {}}), "spaces")
                .unwrap()
                .items
                .is_empty()
        );
        assert!(
            page(json!({"_links": {}}), "spaces")
                .unwrap()
                .items
                .is_empty()
        );
        for (bad, why) in [
            (json!({"_embedded": null}), "_embedded is null"),
            (
                json!({"_embedded": {"spaces": {"a": 1}}}),
                "_embedded.spaces is an object",
            ),
            (
                json!({"_embedded": {"spaces": null}}),
                "_embedded.spaces is null",
            ),
            (json!([1]), "the body is an array"),
        ] {
            assert!(page(bad, "spaces").unwrap_err().starts_with(why), "{why}");
        }
        let linked = json!({"_embedded": {"spaces": [1]}, "_links": {"next_page": {"href": "/api/x?page=2"}},
            "pagination": {"total_count": 31}});
        let p = page(linked, "spaces").unwrap();
        assert_eq!(
            (p.next.as_deref(), p.total_count, p.paginated),
            (Some("/api/x?page=2"), Some(31), true)
        );
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
