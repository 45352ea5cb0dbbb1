//! Atomic file writes and SHA-256 checksums.
//!
//! A file is written to a hidden temporary file in the same directory
//! (`.tmp-<random>`, never ending in `.json`), flushed to disk, then renamed into
//! place, and the directory is synced. A crash, a kill or Ctrl-C therefore leaves
//! either the whole file or no file under its final name.

use std::fs::File;
use std::io::{BufWriter, Read, Write};
use std::path::Path;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};

/// Prefix of temporary files; `extract-mode` removes stale ones at start.
pub const TEMP_PREFIX: &str = ".tmp-";

/// A file written (or checked) by a run: name, size in bytes, SHA-256 in lowercase hex.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileRecord {
    /// File name, relative to the output directory.
    pub name: String,
    /// Size in bytes.
    pub bytes: u64,
    /// SHA-256 of the content, 64 lowercase hex digits.
    pub sha256: String,
}

/// Writes `content` to `dir/name` atomically and returns its record.
///
/// # Errors
/// [`Error::Io`] when the temporary file cannot be created, written, synced or renamed.
pub fn write_atomic(dir: &Path, name: &str, content: &[u8]) -> Result<FileRecord> {
    write_with(dir, name, |w| w.write_all(content))
}

/// Serialises `value` as compact JSON straight into an atomic file (no
/// intermediate buffer: memory stays flat whatever the size).
///
/// # Errors
/// [`Error::Io`] as [`write_atomic`].
pub fn write_json_atomic<T: Serialize + ?Sized>(
    dir: &Path,
    name: &str,
    value: &T,
) -> Result<FileRecord> {
    write_with(dir, name, |w| {
        serde_json::to_writer(&mut *w, value).map_err(std::io::Error::other)
    })
}

/// Writes `dir/name` atomically with what `fill` writes (streamed: memory
/// stays flat), and returns its record. `fill` failing leaves the old file (if
/// any) in place and no temporary file behind.
///
/// # Errors
/// [`Error::Io`] as [`write_atomic`], or with `fill`'s error.
pub fn write_atomic_with(
    dir: &Path,
    name: &str,
    fill: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> Result<FileRecord> {
    write_with(dir, name, |w| fill(w))
}

fn write_with(
    dir: &Path,
    name: &str,
    fill: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> Result<FileRecord> {
    let mut file = AtomicFile::create(dir, name)?;
    fill(&mut file).map_err(|e| file.write_error(e))?;
    file.commit()
}

/// A file being written under a temporary name, to be renamed into place by
/// [`AtomicFile::commit`]; dropped uncommitted, it is removed. For files
/// written piece by piece (a run's asset files, streamed row by row).
pub struct AtomicFile {
    dir: std::path::PathBuf,
    name: String,
    writer: HashingWriter<BufWriter<tempfile::NamedTempFile>>,
}

impl AtomicFile {
    /// Creates the temporary file for `dir/name`.
    ///
    /// # Errors
    /// [`Error::Io`] when it cannot be created.
    pub fn create(dir: &Path, name: &str) -> Result<Self> {
        let mut builder = tempfile::Builder::new();
        builder.prefix(TEMP_PREFIX);
        // Like castor's plain `open()`: 0666 less the umask, not tempfile's 0600,
        // so a scheduler's other users (an uploader, a backup) can read the run.
        #[cfg(unix)]
        builder.permissions(std::os::unix::fs::PermissionsExt::from_mode(0o666));
        let temp = builder
            .tempfile_in(dir)
            .map_err(|e| Error::io("cannot create a temporary file in", dir, e))?;
        Ok(AtomicFile {
            dir: dir.to_owned(),
            name: name.to_owned(),
            writer: HashingWriter::new(BufWriter::new(temp)),
        })
    }

    /// The library error for a failed write into this file.
    pub fn write_error(&self, e: std::io::Error) -> Error {
        Error::io("cannot write", self.dir.join(&self.name), e)
    }

    /// Flushes, syncs and renames the file into place; returns its record.
    ///
    /// # Errors
    /// [`Error::Io`] when it cannot be flushed, synced or renamed.
    pub fn commit(self) -> Result<FileRecord> {
        let target = self.dir.join(&self.name);
        let (bytes, sha256) = (
            self.writer.bytes,
            hex::encode(self.writer.hasher.finalize()),
        );
        let temp = self
            .writer
            .inner
            .into_inner()
            .map_err(|e| Error::io("cannot write", &target, e.into_error()))?;
        temp.as_file()
            .sync_all()
            .map_err(|e| Error::io("cannot sync", &target, e))?;
        temp.persist(&target)
            .map_err(|e| Error::io("cannot rename into", &target, e.error))?;
        sync_dir(&self.dir);
        Ok(FileRecord {
            name: self.name,
            bytes,
            sha256,
        })
    }
}

impl Write for AtomicFile {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.writer.write(buf)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.writer.flush()
    }
}

/// Makes the rename durable; best effort (some filesystems refuse to sync a directory).
fn sync_dir(dir: &Path) {
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
}

/// Size and SHA-256 of a file, read in 64 KiB blocks (constant memory).
///
/// # Errors
/// [`Error::Io`] when the file cannot be opened or read.
pub fn sha256_file(path: &Path) -> Result<(u64, String)> {
    let mut file = File::open(path).map_err(|e| Error::io("cannot open", path, e))?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 64 * 1024];
    let mut total = 0u64;
    loop {
        let n = file
            .read(&mut buf)
            .map_err(|e| Error::io("cannot read", path, e))?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        total += n as u64;
    }
    Ok((total, hex::encode(hasher.finalize())))
}

/// A writer that counts and hashes what passes through it.
struct HashingWriter<W> {
    inner: W,
    hasher: Sha256,
    bytes: u64,
}

impl<W: Write> HashingWriter<W> {
    fn new(inner: W) -> Self {
        HashingWriter {
            inner,
            hasher: Sha256::new(),
            bytes: 0,
        }
    }
}

impl<W: Write> Write for HashingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.bytes += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn record_matches_file_on_disk() {
        let dir = tempfile::tempdir().unwrap();
        let rec =
            write_json_atomic(dir.path(), "1-x.json", &serde_json::json!([{"a": 1}])).unwrap();
        assert_eq!(rec.name, "1-x.json");
        let (bytes, sha) = sha256_file(&dir.path().join("1-x.json")).unwrap();
        assert_eq!((bytes, sha.as_str()), (rec.bytes, rec.sha256.as_str()));
        assert_eq!(
            std::fs::read_to_string(dir.path().join("1-x.json")).unwrap(),
            r#"[{"a":1}]"#
        );
        // no temporary file is left behind
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names.len(), 1);
    }

    #[test]
    fn a_failed_fill_leaves_the_old_file_and_no_temporary() {
        let dir = tempfile::tempdir().unwrap();
        write_atomic(dir.path(), "f", b"old").unwrap();
        let err = write_atomic_with(dir.path(), "f", |w| {
            w.write_all(b"new")?;
            Err(std::io::Error::other("changed meanwhile"))
        })
        .unwrap_err();
        assert!(err.to_string().contains("changed meanwhile"), "{err}");
        assert_eq!(std::fs::read(dir.path().join("f")).unwrap(), b"old");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
        let rec = write_atomic_with(dir.path(), "f", |w| w.write_all(b"new")).unwrap();
        assert_eq!(
            (rec.bytes, std::fs::read(dir.path().join("f")).unwrap()),
            (3, b"new".to_vec())
        );
    }

    #[test]
    fn sha256_of_known_content() {
        let dir = tempfile::tempdir().unwrap();
        let rec = write_atomic(dir.path(), "abc", b"abc").unwrap();
        assert_eq!(
            rec.sha256,
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
