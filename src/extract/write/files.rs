//! The asset files: `{ts}-{asset}.json`, one JSON array of rows each,
//! serialised row by row into an atomic file (compact JSON, castor's bytes).

use std::io::Write;

use super::{RunContext, Writer, Written};
use crate::error::Result;
use crate::extract::assets::Asset;
use crate::extract::rows::RunRow;
use crate::output::atomic::AtomicFile;

/// The file of one asset.
pub struct AssetFile {
    asset: Asset,
    file: AtomicFile,
    rows: usize,
}

impl AssetFile {
    /// Opens the temporary file of `asset`'s file.
    ///
    /// # Errors
    /// [`crate::Error::Io`] when it cannot be created.
    pub fn create(run: &RunContext<'_>, asset: Asset) -> Result<Self> {
        let file = AtomicFile::create(&run.config.output, &asset.file_name(run.ts))?;
        Ok(AssetFile {
            asset,
            file,
            rows: 0,
        })
    }

    fn append(&mut self, row: &RunRow) -> std::io::Result<()> {
        self.file
            .write_all(if self.rows == 0 { b"[" } else { b"," })?;
        serde_json::to_writer(&mut self.file, row).map_err(std::io::Error::other)?;
        self.rows += 1;
        Ok(())
    }
}

impl Writer for AssetFile {
    fn row(&mut self, row: &RunRow) -> Result<()> {
        if row.asset() != self.asset {
            return Ok(());
        }
        self.append(row).map_err(|e| self.file.write_error(e))
    }

    fn finish(mut self: Box<Self>, written: &mut Written) -> Result<()> {
        let end: &[u8] = if self.rows == 0 { b"[]" } else { b"]" };
        self.file
            .write_all(end)
            .map_err(|e| self.file.write_error(e))?;
        let record = self.file.commit()?;
        tracing::info!(
            "Wrote {} ({} rows, {} bytes)",
            record.name,
            self.rows,
            record.bytes
        );
        written
            .counts
            .insert(self.asset.name().into(), self.rows.into());
        written.files.push(record);
        Ok(())
    }
}
