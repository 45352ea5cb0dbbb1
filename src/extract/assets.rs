//! The asset files a run can write, and what each needs fetched.

use std::fmt;
use std::str::FromStr;

/// One asset type, one file `{ts}-{name}.json`.
///
/// The first five are castor's; the rest are ours (castor-compat.md allows new
/// files named the same way).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Asset {
    /// `{ts}-datasource.json`: `GET /api/{ws}/data_sources`.
    Datasource,
    /// `{ts}-collection.json`: `GET /api/{ws}/spaces?filter=all` (paged).
    Collection,
    /// `{ts}-report.json`: `GET /api/{ws}/spaces/{s}/reports` (paged).
    Report,
    /// `{ts}-query.json`: `GET /api/{ws}/reports/{r}/queries`.
    Query,
    /// `{ts}-member.json`: `GET /api/{ws}/memberships`, then `GET /api/{username}`.
    Member,
    /// `{ts}-chart.json`: `GET /api/{ws}/reports/{r}/queries/{q}/charts`.
    Chart,
    /// `{ts}-dataset.json`: `GET /api/{ws}/spaces/{s}/datasets` (paged) and their queries.
    Dataset,
    /// `{ts}-definition.json`: `GET /api/{ws}/definitions`.
    Definition,
    /// `{ts}-lineage.json`: tables read by each query, parsed locally.
    Lineage,
}

impl Asset {
    /// Every asset, in the order files are written.
    pub const ALL: [Asset; 9] = [
        Asset::Datasource,
        Asset::Collection,
        Asset::Report,
        Asset::Query,
        Asset::Member,
        Asset::Chart,
        Asset::Dataset,
        Asset::Definition,
        Asset::Lineage,
    ];

    /// The name used in file names and `--assets`.
    pub const fn name(self) -> &'static str {
        match self {
            Asset::Datasource => "datasource",
            Asset::Collection => "collection",
            Asset::Report => "report",
            Asset::Query => "query",
            Asset::Member => "member",
            Asset::Chart => "chart",
            Asset::Dataset => "dataset",
            Asset::Definition => "definition",
            Asset::Lineage => "lineage",
        }
    }

    /// `{ts}-{name}.json`.
    pub fn file_name(self, ts: i64) -> String {
        format!("{ts}-{}.json", self.name())
    }
}

impl fmt::Display for Asset {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Asset {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let wanted = s.trim().to_ascii_lowercase();
        Asset::ALL
            .into_iter()
            .find(|a| a.name() == wanted)
            .ok_or_else(|| {
                let names: Vec<_> = Asset::ALL.iter().map(|a| a.name()).collect();
                format!("unknown asset '{s}'; expected one of {}", names.join(", "))
            })
    }
}

/// The assets selected by `--assets` (default: all).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssetSet(Vec<Asset>);

impl Default for AssetSet {
    fn default() -> Self {
        AssetSet(Asset::ALL.to_vec())
    }
}

impl AssetSet {
    /// A selection; duplicates are dropped, file order is kept.
    pub fn new(assets: impl IntoIterator<Item = Asset>) -> Self {
        let mut v: Vec<Asset> = assets.into_iter().collect();
        v.sort();
        v.dedup();
        AssetSet(v)
    }

    /// Whether `asset` is written.
    pub fn writes(&self, asset: Asset) -> bool {
        self.0.contains(&asset)
    }

    /// The selected assets in file order.
    pub fn iter(&self) -> impl Iterator<Item = Asset> + '_ {
        self.0.iter().copied()
    }

    fn any(&self, assets: &[Asset]) -> bool {
        assets.iter().any(|a| self.writes(*a))
    }

    /// Whether anything below collections is needed (the collection list itself
    /// is needed for reports and datasets).
    pub fn needs_collections(&self) -> bool {
        self.any(&[
            Asset::Collection,
            Asset::Report,
            Asset::Query,
            Asset::Chart,
            Asset::Dataset,
            Asset::Lineage,
        ])
    }

    /// Report listings: reports, their queries, charts, lineage, dataset imports.
    pub fn needs_reports(&self) -> bool {
        self.any(&[
            Asset::Report,
            Asset::Query,
            Asset::Chart,
            Asset::Lineage,
            Asset::Dataset,
        ])
    }

    /// Each report's queries.
    pub fn needs_queries(&self) -> bool {
        self.any(&[Asset::Query, Asset::Chart, Asset::Lineage])
    }

    /// Each query's charts.
    pub fn needs_charts(&self) -> bool {
        self.writes(Asset::Chart)
    }

    /// Dataset listings and their queries (lineage covers dataset queries too).
    pub fn needs_datasets(&self) -> bool {
        self.any(&[Asset::Dataset, Asset::Lineage])
    }

    /// Report details, for `imported_datasets`.
    pub fn needs_imports(&self) -> bool {
        self.writes(Asset::Dataset)
    }

    /// Data sources: their file, and lineage's dialect and database.
    pub fn needs_data_sources(&self) -> bool {
        self.any(&[Asset::Datasource, Asset::Query, Asset::Lineage])
    }

    /// Definitions: their file, and lineage's expansion.
    pub fn needs_definitions(&self) -> bool {
        self.any(&[Asset::Definition, Asset::Lineage])
    }

    /// Members: their file, and `creator_email` on reports.
    pub fn needs_members(&self) -> bool {
        self.any(&[Asset::Member, Asset::Report])
    }

    /// The selection as names, for the summary.
    pub fn names(&self) -> Vec<&'static str> {
        self.0.iter().map(|a| a.name()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for a in Asset::ALL {
            assert_eq!(a.name().parse::<Asset>().unwrap(), a);
        }
        assert!("reports".parse::<Asset>().is_err());
        assert_eq!(Asset::Report.file_name(17), "17-report.json");
    }

    #[test]
    fn collection_only_needs_no_reports() {
        let set = AssetSet::new([Asset::Collection]);
        assert!(set.needs_collections());
        assert!(!set.needs_reports());
        assert!(!set.needs_members());
        let set = AssetSet::new([Asset::Chart]);
        assert!(set.needs_queries() && set.needs_reports() && !set.needs_datasets());
    }
}
