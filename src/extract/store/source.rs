//! Reading the run's items back, page by page, in file order (no lock is
//! held between pages, so the writers fed from them may use the store).

use rusqlite::params;
use serde::de::DeserializeOwned;

use super::Store;
use super::items::Kind;
use crate::error::Result;

/// Rows read per page.
pub const PAGE: usize = 256;

impl Store {
    /// Up to `limit` items of `kind` under `parent` after `after`, in order:
    /// `(ord, token, row)`. A row that no longer reads as `T` (never written
    /// by this tool) reads as `T::default()`.
    ///
    /// # Errors
    /// [`crate::Error::Io`] when the store cannot be read.
    pub fn page<T: DeserializeOwned + Default>(
        &self,
        kind: Kind,
        parent: &str,
        after: i64,
        limit: usize,
    ) -> Result<Vec<(i64, String, T)>> {
        let conn = self.conn();
        let mut stmt = conn
            .prepare_cached(
                "SELECT ord, coalesce(token, ''), json FROM items
                 WHERE workspace_id = 0 AND kind = ?1 AND parent = ?2 AND ord > ?3 ORDER BY ord LIMIT ?4",
            )
            .map_err(|e| self.error(e))?;
        let rows = stmt
            .query_map(params![kind.name(), parent, after, limit as i64], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get::<_, String>(2)?))
            })
            .map_err(|e| self.error(e))?;
        let mut page = Vec::new();
        for row in rows {
            let (ord, token, text) = row.map_err(|e| self.error(e))?;
            page.push((ord, token, serde_json::from_str(&text).unwrap_or_default()));
        }
        Ok(page)
    }

    /// Every item of `kind` under `parent`, in order (a report's children:
    /// few).
    ///
    /// # Errors
    /// As [`Store::page`].
    pub fn all<T: DeserializeOwned + Default>(
        &self,
        kind: Kind,
        parent: &str,
    ) -> Result<Vec<(i64, String, T)>> {
        self.page(kind, parent, i64::MIN, usize::MAX >> 1)
    }

    /// Feeds every top-level item of `kind` to `each`, a page at a time.
    ///
    /// # Errors
    /// As [`Store::page`], and the first error of `each`.
    pub fn each<T: DeserializeOwned + Default>(
        &self,
        kind: Kind,
        mut each: impl FnMut(String, T) -> Result<()>,
    ) -> Result<()> {
        let mut after = i64::MIN;
        loop {
            let page = self.page::<T>(kind, "", after, PAGE)?;
            let Some(last) = page.last().map(|(ord, _, _)| *ord) else {
                return Ok(());
            };
            after = last;
            for (_, token, row) in page {
                each(token, row)?;
            }
        }
    }

    /// `(report token, dataset token)` of every import, in report order.
    ///
    /// # Errors
    /// As [`Store::page`].
    pub fn imports(&self, mut each: impl FnMut(&str, &str)) -> Result<()> {
        let conn = self.conn();
        let mut stmt = conn
            .prepare_cached(
                "SELECT i.parent, i.token FROM items i
                 JOIN items r ON r.workspace_id = 0 AND r.kind = 'report' AND r.parent = ''
                     AND r.token = i.parent
                 WHERE i.workspace_id = 0 AND i.kind = 'import' ORDER BY r.ord, i.ord",
            )
            .map_err(|e| self.error(e))?;
        let mut rows = stmt.query([]).map_err(|e| self.error(e))?;
        while let Some(row) = rows.next().map_err(|e| self.error(e))? {
            let report: String = row.get(0).map_err(|e| self.error(e))?;
            let dataset: Option<String> = row.get(1).map_err(|e| self.error(e))?;
            each(&report, dataset.as_deref().unwrap_or_default());
        }
        Ok(())
    }
}
