//! Where a file goes: castor's `PATH_TEMPLATES` and the request URL.
//!
//! Read from castor-extractor 0.26.131, `castor_extractor/uploader/constant.py`:
//!
//! | type | template |
//! |---|---|
//! | DBT | `transformation-{source_id}/{timestamp}-manifest.json` |
//! | LOOKML | `visualization-{source_id}/lookml/{project_name}/{timestamp}-{filename}` |
//! | QUALITY | `quality-{source_id}/{timestamp}-{filename}` |
//! | VIZ | `visualization-{source_id}/{filename}` |
//! | WAREHOUSE | `warehouse-{source_id}/{filename}` |
//!
//! `timestamp` is castor's `current_timestamp()`: Unix seconds at upload time,
//! taken once per file (so every retry of a file goes to the same path);
//! `filename` is the local file's base name.

use url::Url;
use uuid::Uuid;

use super::FileType;

/// The path segments of a file's remote path, unencoded.
///
/// `ts` is Unix seconds at upload time (only DBT, LOOKML and QUALITY use it);
/// `project` is the Looker project (only LOOKML uses it, `""` if absent).
pub fn remote_segments(
    file_type: FileType,
    source_id: Uuid,
    file_name: &str,
    project: &str,
    ts: i64,
) -> Vec<String> {
    let id = source_id.hyphenated();
    match file_type {
        FileType::Dbt => vec![
            format!("transformation-{id}"),
            format!("{ts}-manifest.json"),
        ],
        FileType::Lookml => vec![
            format!("visualization-{id}"),
            "lookml".into(),
            project.into(),
            format!("{ts}-{file_name}"),
        ],
        FileType::Quality => vec![format!("quality-{id}"), format!("{ts}-{file_name}")],
        FileType::Viz => vec![format!("visualization-{id}"), file_name.into()],
        FileType::Warehouse => vec![format!("warehouse-{id}"), file_name.into()],
    }
}

/// The remote path as castor logs it: segments joined with `/`.
pub fn remote_path(segments: &[String]) -> String {
    segments.join("/")
}

/// `{endpoint}/{path}`, each segment percent-encoded as `requests` would.
/// A path already on the endpoint (e.g. `http://127.0.0.1:8080/ingest`) is kept.
pub fn remote_url(endpoint: &Url, segments: &[String]) -> Url {
    let mut url = endpoint.clone();
    if let Ok(mut path) = url.path_segments_mut() {
        path.pop_if_empty().extend(segments);
    }
    url
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "8a4f2c3e-6b1d-4e5f-9a7b-1c2d3e4f5a6b";

    fn path(t: FileType, name: &str, project: &str) -> String {
        remote_path(&remote_segments(
            t,
            Uuid::parse_str(ID).unwrap(),
            name,
            project,
            1_791_927_088,
        ))
    }

    #[test]
    fn castor_templates() {
        assert_eq!(
            path(FileType::Viz, "1700000000-report.json", ""),
            format!("visualization-{ID}/1700000000-report.json")
        );
        assert_eq!(
            path(FileType::Warehouse, "schema.csv", ""),
            format!("warehouse-{ID}/schema.csv")
        );
        assert_eq!(
            path(FileType::Quality, "tests.json", ""),
            format!("quality-{ID}/1791927088-tests.json")
        );
        assert_eq!(
            path(FileType::Dbt, "target_manifest.json", ""),
            format!("transformation-{ID}/1791927088-manifest.json")
        );
        // castor's own test: test__path_lookml
        assert_eq!(
            path(FileType::Lookml, "core.zip", "core"),
            format!("visualization-{ID}/lookml/core/1791927088-core.zip")
        );
    }

    #[test]
    fn url_keeps_endpoint_path_and_encodes_names() {
        let segs = remote_segments(
            FileType::Viz,
            Uuid::parse_str(ID).unwrap(),
            "a b#.json",
            "",
            0,
        );
        let base = Url::parse("http://127.0.0.1:8080/ingest/").unwrap();
        assert_eq!(
            remote_url(&base, &segs).as_str(),
            format!("http://127.0.0.1:8080/ingest/visualization-{ID}/a%20b%23.json")
        );
        let root = Url::parse("https://ingest.castordoc.com").unwrap();
        assert_eq!(
            remote_url(&root, &segs).path(),
            format!("/visualization-{ID}/a%20b%23.json")
        );
    }
}
