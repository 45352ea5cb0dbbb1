//! The run's `items`: each fetched row written as it arrives, and what is
//! reused from the previous run.
//!
//! Top-level items (`parent` `''`) are ordered by `ord`: the fetch order
//! (a report's is its collection's index in the high 32 bits and its place
//! in the listing in the low ones). A report's children have its token as
//! `parent` and their place below it as `ord` (a chart's: its query's index
//! in the high bits).

use rusqlite::{OptionalExtension, params};
use serde::{Deserialize, Serialize};

use super::Store;
use crate::error::Result;
use crate::extract::rows::ReportListing;

/// The kinds of item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(missing_docs)]
pub enum Kind {
    Datasource,
    Definition,
    Member,
    Collection,
    Report,
    Dataset,
    Query,
    DatasetQuery,
    Chart,
    Import,
}

impl Kind {
    /// The `kind` column's value.
    pub const fn name(self) -> &'static str {
        match self {
            Kind::Datasource => "datasource",
            Kind::Definition => "definition",
            Kind::Member => "member",
            Kind::Collection => "collection",
            Kind::Report => "report",
            Kind::Dataset => "dataset",
            Kind::Query => "query",
            Kind::DatasetQuery => "dataset_query",
            Kind::Chart => "chart",
            Kind::Import => "import",
        }
    }

    /// The kind of a report's (or dataset's) queries.
    pub const fn queries_of(self) -> Kind {
        match self {
            Kind::Dataset => Kind::DatasetQuery,
            _ => Kind::Query,
        }
    }
}

/// A chart's `ord` is its query's index shifted by this, plus its own.
pub const CHART_SHIFT: u32 = 24;

/// Where kept items of the previous run go: after every item of this run,
/// in their previous order.
const KEPT_ORD: i64 = 1 << 62;

/// What a report listing says about imported datasets (the listing sends `has_imported_datasets`, the detail `imported_datasets`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Imports {
    /// The listing carried `imported_datasets`.
    Known(Vec<String>),
    /// `has_imported_datasets` is true, or the listing says nothing: ask the detail.
    Ask,
    /// `has_imported_datasets` is false.
    None,
}

/// A listed report (or dataset) as staged.
#[derive(Debug, Clone)]
pub struct Listing {
    /// Its place in the file.
    pub ord: i64,
    /// Its listing row.
    pub row: ReportListing,
    /// Its change fingerprint ([`fingerprint`]).
    pub fingerprint: String,
    /// What the listing says about its imports.
    pub imports: Imports,
}

/// A report's change fingerprint: its listing's `updated_at`, `edited_at`,
/// `last_saved_at`, `query_count` and `chart_count` as one JSON array (Mode
/// moves `edited_at` without `updated_at`, so no single field is enough; a
/// new run alone moves none of them).
pub fn fingerprint(listing: &ReportListing) -> String {
    let l = listing;
    serde_json::to_string(&[
        &l.updated_at,
        &l.edited_at,
        &l.last_saved_at,
        &l.query_count,
        &l.chart_count,
    ])
    .unwrap_or_default()
}

fn json<T: Serialize>(row: &T) -> String {
    serde_json::to_string(row).unwrap_or_else(|_| "null".into())
}

impl Store {
    /// Writes one fetched row.
    ///
    /// # Errors
    /// [`crate::Error::Io`] when the store cannot be written.
    pub fn put<T: Serialize>(
        &self,
        kind: Kind,
        parent: &str,
        ord: i64,
        token: Option<&str>,
        row: &T,
    ) -> Result<()> {
        let conn = self.conn();
        let mut stmt = conn
            .prepare_cached(
                "INSERT OR REPLACE INTO items (workspace_id, kind, parent, ord, token, json)
                 VALUES (0, ?1, ?2, ?3, ?4, ?5)",
            )
            .map_err(|e| self.error(e))?;
        stmt.execute(params![kind.name(), parent, ord, token, json(row)])
            .map_err(|e| self.error(e))?;
        Ok(())
    }

    /// Writes a member row; `complete` is false when its user could not be
    /// fetched (the next run asks again).
    ///
    /// # Errors
    /// As [`Store::put`].
    pub fn put_member<T: Serialize>(
        &self,
        ord: i64,
        username: &str,
        row: &T,
        complete: bool,
    ) -> Result<()> {
        self.put(Kind::Member, "", ord, Some(username), row)?;
        self.set_complete(Kind::Member, ord, complete)
    }

    /// Writes a listed report or dataset.
    ///
    /// # Errors
    /// As [`Store::put`].
    pub fn put_listing(&self, kind: Kind, listing: &Listing) -> Result<()> {
        let conn = self.conn();
        let mut stmt = conn
            .prepare_cached(
                "INSERT OR REPLACE INTO items
                   (workspace_id, kind, parent, ord, token, space, fingerprint, hint, complete, json)
                 VALUES (0, ?1, '', ?2, ?3, ?4, ?5, ?6, 0, ?7)",
            )
            .map_err(|e| self.error(e))?;
        let row = &listing.row;
        stmt.execute(params![
            kind.name(),
            listing.ord,
            row.token(),
            row.space_token.as_str(),
            listing.fingerprint,
            json(&listing.imports),
            json(row),
        ])
        .map_err(|e| self.error(e))?;
        Ok(())
    }

    /// Marks a top-level item complete (everything below it was fetched).
    ///
    /// # Errors
    /// As [`Store::put`].
    pub fn set_complete(&self, kind: Kind, ord: i64, complete: bool) -> Result<()> {
        let conn = self.conn();
        let mut stmt = conn
            .prepare_cached(
                "UPDATE items SET complete = ?3
                 WHERE workspace_id = 0 AND kind = ?1 AND parent = '' AND ord = ?2",
            )
            .map_err(|e| self.error(e))?;
        stmt.execute(params![kind.name(), ord, complete])
            .map_err(|e| self.error(e))?;
        Ok(())
    }

    /// The staged listings of `kind` after `after` in order, at most `limit`.
    ///
    /// # Errors
    /// As [`Store::put`].
    pub fn listings_after(&self, kind: Kind, after: i64, limit: usize) -> Result<Vec<Listing>> {
        let conn = self.conn();
        let mut stmt = conn
            .prepare_cached(
                "SELECT ord, json, fingerprint, hint FROM items
                 WHERE workspace_id = 0 AND kind = ?1 AND parent = '' AND ord > ?2 ORDER BY ord LIMIT ?3",
            )
            .map_err(|e| self.error(e))?;
        let rows = stmt
            .query_map(params![kind.name(), after, limit as i64], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, Option<String>>(2)?,
                    r.get::<_, Option<String>>(3)?,
                ))
            })
            .map_err(|e| self.error(e))?;
        let mut listings = Vec::new();
        for row in rows {
            let (ord, text, fingerprint, hint) = row.map_err(|e| self.error(e))?;
            listings.push(Listing {
                ord,
                row: serde_json::from_str(&text).unwrap_or_default(),
                fingerprint: fingerprint.unwrap_or_default(),
                imports: hint
                    .and_then(|h| serde_json::from_str(&h).ok())
                    .unwrap_or(Imports::Ask),
            });
        }
        Ok(listings)
    }

    /// Reuses a report's (or dataset's) children from the previous run when
    /// its fingerprint is unchanged and they were complete; returns whether
    /// it did. Only on an incremental run.
    ///
    /// # Errors
    /// As [`Store::put`].
    pub fn reuse_children(&self, kind: Kind, listing: &Listing) -> Result<bool> {
        let Some(previous) = self.previous().filter(|_| self.incremental()) else {
            return Ok(false);
        };
        let conn = self.conn();
        let unchanged = conn
            .prepare_cached(
                "SELECT 1 FROM state.items WHERE workspace_id = ?1 AND kind = ?2 AND parent = ''
                 AND token = ?3 AND fingerprint = ?4 AND complete = 1 LIMIT 1",
            )
            .and_then(|mut s| {
                s.query_row(
                    params![
                        previous.id,
                        kind.name(),
                        listing.row.token(),
                        listing.fingerprint
                    ],
                    |_| Ok(()),
                )
                .optional()
            })
            .map_err(|e| self.error(e))?
            .is_some();
        if !unchanged {
            return Ok(false);
        }
        let children = [kind.queries_of(), Kind::Chart, Kind::Import];
        let mut copy = conn
            .prepare_cached(
                "INSERT OR REPLACE INTO items SELECT 0, kind, parent, ord, token, space,
                     fingerprint, hint, complete, json
                 FROM state.items WHERE workspace_id = ?1 AND kind IN (?2, ?3, ?4) AND parent = ?5",
            )
            .map_err(|e| self.error(e))?;
        copy.execute(params![
            previous.id,
            children[0].name(),
            children[1].name(),
            children[2].name(),
            listing.row.token()
        ])
        .map_err(|e| self.error(e))?;
        Ok(true)
    }

    /// Reuses a member's user row from the previous run (same membership
    /// username, user fetched then); returns whether it did.
    ///
    /// # Errors
    /// As [`Store::put`].
    pub fn reuse_member(&self, ord: i64, username: &str) -> Result<bool> {
        let Some(previous) = self.previous().filter(|_| self.incremental()) else {
            return Ok(false);
        };
        let conn = self.conn();
        let mut stmt = conn
            .prepare_cached(
                "INSERT OR REPLACE INTO items (workspace_id, kind, parent, ord, token, json)
                 SELECT 0, kind, '', ?3, token, json FROM state.items
                 WHERE workspace_id = ?1 AND kind = 'member' AND token = ?2 AND complete = 1
                 LIMIT 1",
            )
            .map_err(|e| self.error(e))?;
        let copied = stmt
            .execute(params![previous.id, username, ord])
            .map_err(|e| self.error(e))?;
        Ok(copied > 0)
    }

    /// Adds to a collection's staged listing of `kind` the previous run's
    /// items of that collection that are not staged (its listing failed or
    /// was cut today: nothing of it is deleted). They go after today's items
    /// of the collection; `high` is its index in the high 32 bits of `ord`.
    /// Returns how many were added.
    ///
    /// # Errors
    /// As [`Store::put`].
    pub fn keep_previous_listing(&self, kind: Kind, space: &str, high: i64) -> Result<usize> {
        let Some(previous) = self.previous() else {
            return Ok(0);
        };
        let conn = self.conn();
        conn.execute(
            "INSERT OR REPLACE INTO items SELECT 0, p.kind, p.parent,
                 ?4 + 2147483648 + (p.ord & 2147483647), p.token, p.space, p.fingerprint, p.hint,
                 p.complete, p.json
             FROM state.items p WHERE p.workspace_id = ?1 AND p.kind = ?2 AND p.parent = ''
                 AND p.space = ?3
                 AND NOT EXISTS (SELECT 1 FROM items t
                     WHERE t.workspace_id = 0 AND t.kind = p.kind AND t.token = p.token)",
            params![previous.id, kind.name(), space, high],
        )
        .map_err(|e| self.error(e))
    }

    /// Reports (or datasets) of the previous run missing from this run's
    /// listings: `(token, name)` in their previous order.
    ///
    /// # Errors
    /// As [`Store::put`].
    pub fn missing(&self, kind: Kind) -> Result<Vec<(String, Option<String>)>> {
        let Some(previous) = self.previous() else {
            return Ok(Vec::new());
        };
        let conn = self.conn();
        let mut stmt = conn
            .prepare_cached(
                "SELECT p.token, json_extract(p.json, '$.name') FROM state.items p
                 WHERE p.workspace_id = ?1 AND p.kind = ?2 AND p.parent = '' AND p.token <> ''
                 AND NOT EXISTS (SELECT 1 FROM items t
                     WHERE t.workspace_id = 0 AND t.kind = p.kind AND t.token = p.token)
                 ORDER BY p.ord",
            )
            .map_err(|e| self.error(e))?;
        let rows = stmt
            .query_map(params![previous.id, kind.name()], |r| {
                Ok((r.get(0)?, r.get::<_, Option<String>>(1).unwrap_or(None)))
            })
            .map_err(|e| self.error(e))?;
        rows.collect::<rusqlite::Result<_>>()
            .map_err(|e| self.error(e))
    }

    /// Keeps a missing report's (or dataset's) previous listing, after
    /// every report of this run.
    ///
    /// # Errors
    /// As [`Store::put`].
    pub fn keep_previous(&self, kind: Kind, token: &str) -> Result<()> {
        let Some(previous) = self.previous() else {
            return Ok(());
        };
        let conn = self.conn();
        conn.execute(
            "INSERT OR REPLACE INTO items SELECT 0, kind, parent, ?4 + (ord % ?4), token, space,
                 fingerprint, hint, complete, json
             FROM state.items WHERE workspace_id = ?1 AND kind = ?2 AND parent = '' AND token = ?3",
            params![previous.id, kind.name(), token, KEPT_ORD],
        )
        .map_err(|e| self.error(e))?;
        Ok(())
    }

    /// How many items of `kind` the previous run had.
    ///
    /// # Errors
    /// As [`Store::put`].
    pub fn previous_count(&self, kind: Kind) -> Result<usize> {
        let Some(previous) = self.previous() else {
            return Ok(0);
        };
        let conn = self.conn();
        conn.query_row(
            "SELECT count(*) FROM state.items WHERE workspace_id = ?1 AND kind = ?2 AND parent = ''",
            params![previous.id, kind.name()],
            |r| r.get::<_, i64>(0),
        )
        .map(|n| n as usize)
        .map_err(|e| self.error(e))
    }
}
