//! The run's `written` rows and the comparison with the previous run's that
//! makes `{ts}-changes.json`.

use rusqlite::params;

use super::Store;
use crate::error::Result;
use crate::extract::assets::Asset;

/// Where withheld deletions go in `written`: after every row of this run.
const KEPT_ORD: i64 = 1 << 62;

/// One row of `{ts}-changes.json`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Change {
    /// The asset, as in the file names: `report`, `query`, `member`, …
    pub asset: String,
    /// The row's token (a lineage row's `query_token`).
    pub token: String,
    /// `added`, `changed` or `deleted`.
    pub change: &'static str,
    /// The row's name (`null` when it has none).
    pub name: Option<String>,
}

/// Today's rows and the previous run's of the assets written today (`?2`:
/// their names, comma-separated), one per token (the first).
const SIDES: &str = "
WITH today AS (SELECT asset, token, min(ord) AS ord, name, hash FROM main.written
               GROUP BY asset, token),
     before AS (SELECT asset, token, min(ord) AS ord, name, hash FROM state.written
                WHERE workspace_id = ?1 AND instr(',' || ?2 || ',', ',' || asset || ',') > 0
                GROUP BY asset, token)";

/// `"report,query,…"`.
fn names(assets: &[Asset]) -> String {
    assets
        .iter()
        .map(|a| a.name())
        .collect::<Vec<_>>()
        .join(",")
}

impl Store {
    /// Records one row written to an asset file (`hash`: of the row without
    /// its activity keys).
    ///
    /// # Errors
    /// [`crate::Error::Io`] when the store cannot be written.
    pub fn put_written(
        &self,
        asset: Asset,
        ord: i64,
        token: &str,
        name: Option<&str>,
        hash: &str,
    ) -> Result<()> {
        let conn = self.conn();
        let mut stmt = conn
            .prepare_cached(
                "INSERT OR REPLACE INTO written (workspace_id, asset, ord, token, name, hash)
                 VALUES (0, ?1, ?2, ?3, ?4, ?5)",
            )
            .map_err(|e| self.error(e))?;
        stmt.execute(params![asset.name(), ord, token, name, hash])
            .map_err(|e| self.error(e))?;
        Ok(())
    }

    /// Per asset of `assets`: `(asset, rows deleted since the previous run,
    /// previous rows)`.
    ///
    /// # Errors
    /// As [`Store::put_written`].
    pub fn deletion_counts(&self, assets: &[Asset]) -> Result<Vec<(String, usize, usize)>> {
        let Some(previous) = self.previous() else {
            return Ok(Vec::new());
        };
        let sql = format!(
            "{SIDES} SELECT b.asset, sum(t.token IS NULL), count(*) FROM before b
             LEFT JOIN today t USING (asset, token) GROUP BY b.asset"
        );
        let conn = self.conn();
        let mut stmt = conn.prepare(&sql).map_err(|e| self.error(e))?;
        let rows = stmt
            .query_map(params![previous.id, names(assets)], |r| {
                Ok((
                    r.get(0)?,
                    r.get::<_, i64>(1)? as usize,
                    r.get::<_, i64>(2)? as usize,
                ))
            })
            .map_err(|e| self.error(e))?;
        rows.collect::<rusqlite::Result<_>>()
            .map_err(|e| self.error(e))
    }

    /// Keeps the previous run's rows of `asset` that this run did not write
    /// (their deletion is withheld: the next run compares against them).
    ///
    /// # Errors
    /// As [`Store::put_written`].
    pub fn withhold_deletions(&self, asset: &str) -> Result<()> {
        let Some(previous) = self.previous() else {
            return Ok(());
        };
        let conn = self.conn();
        conn.execute(
            "INSERT OR REPLACE INTO main.written SELECT 0, p.asset, ?3 + (p.ord % ?3), p.token,
                 p.name, p.hash FROM state.written p
             WHERE p.workspace_id = ?1 AND p.asset = ?2 AND NOT EXISTS
                 (SELECT 1 FROM main.written t
                  WHERE t.workspace_id = 0 AND t.asset = p.asset AND t.token = p.token)",
            params![previous.id, asset, KEPT_ORD],
        )
        .map_err(|e| self.error(e))?;
        Ok(())
    }

    /// Feeds every change of `assets` since the previous run to `each`: by
    /// asset in file order, then added and changed rows in file order, then
    /// deleted ones in their previous order. Without a previous run every
    /// row is added.
    ///
    /// # Errors
    /// As [`Store::put_written`], and the first error of `each`.
    pub fn changes(
        &self,
        assets: &[Asset],
        mut each: impl FnMut(Change) -> Result<()>,
    ) -> Result<()> {
        let order: String = Asset::ALL
            .iter()
            .map(|a| format!(",{}", a.name()))
            .collect();
        let diff = match self.previous() {
            Some(_) => format!(
                "{SIDES}
                 SELECT * FROM (
                   SELECT t.asset AS asset, t.token AS token,
                          CASE WHEN b.token IS NULL THEN 'added' ELSE 'changed' END AS change,
                          t.name AS name, 0 AS side, t.ord AS ord
                   FROM today t LEFT JOIN before b USING (asset, token)
                   WHERE b.token IS NULL OR b.hash <> t.hash
                   UNION ALL
                   SELECT b.asset, b.token, 'deleted', b.name, 1, b.ord FROM before b
                   LEFT JOIN today t USING (asset, token) WHERE t.token IS NULL)"
            ),
            None => "SELECT * FROM (SELECT asset, token, 'added' AS change, name, 0 AS side,
                         min(ord) AS ord FROM main.written WHERE ?1 = ?1 AND ?2 = ?2 GROUP BY asset, token)"
                .to_owned(),
        };
        let sql = format!("{diff} ORDER BY instr('{order},', ',' || asset || ','), side, ord");
        let id = self.previous().map_or(0, |p| p.id);
        let conn = self.conn();
        let mut stmt = conn.prepare(&sql).map_err(|e| self.error(e))?;
        let mut rows = stmt
            .query(params![id, names(assets)])
            .map_err(|e| self.error(e))?;
        while let Some(row) = rows.next().map_err(|e| self.error(e))? {
            let change: String = row.get(2).map_err(|e| self.error(e))?;
            each(Change {
                asset: row.get(0).map_err(|e| self.error(e))?,
                token: row.get(1).map_err(|e| self.error(e))?,
                change: match change.as_str() {
                    "added" => "added",
                    "changed" => "changed",
                    _ => "deleted",
                },
                name: row.get(3).map_err(|e| self.error(e))?,
            })?;
        }
        Ok(())
    }
}
