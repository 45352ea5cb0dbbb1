//! The upload ledger: which files the endpoint already acknowledged.
//!
//! `<dir>/.upload-ledger.json` (hidden, so never sent) holds one entry per file
//! acknowledged with a 2xx, for a given source id, endpoint and file type:
//!
//! ```json
//! {"version":1,"entries":[{"name":"1700000000-report.json","bytes":12,
//!   "sha256":"…","source_id":"8a4f…","endpoint":"https://ingest.castordoc.com",
//!   "file_type":"VIZ","remote_path":"visualization-8a4f…/1700000000-report.json",
//!   "acknowledged_at":"2026-01-01T00:00:00Z"}]}
//! ```
//!
//! A rerun skips a file whose name, size and SHA-256 match an entry for the
//! same source id, endpoint and file type; a changed file is sent again.
//!
//! Writing: after each acknowledgement the entry is merged into the file and the
//! file is replaced atomically ([`write_json_atomic`]). `upload` holds only a
//! *shared* lock on the directory, so two uploads may run at once; each merge
//! therefore runs under an exclusive OS lock on a separate file,
//! `.upload-ledger.lock` (the ledger itself is replaced by rename, so its inode
//! cannot carry a lock), and re-reads the ledger from disk before adding its
//! entry: neither process loses the other's entries. Inside one process a mutex
//! serialises the merges (flock is per open file, not per process).

use std::fs::OpenOptions;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::output::{FileRecord, write_json_atomic};

/// The ledger's file name inside the directory.
pub const LEDGER_FILE_NAME: &str = ".upload-ledger.json";
/// The lock file that serialises ledger merges between processes.
pub const LEDGER_LOCK_NAME: &str = ".upload-ledger.lock";

/// One acknowledged file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LedgerEntry {
    /// File name in the directory.
    pub name: String,
    /// Size in bytes when sent.
    pub bytes: u64,
    /// SHA-256 (lowercase hex) when sent.
    pub sha256: String,
    /// Source id, lowercase hyphenated.
    pub source_id: String,
    /// Endpoint base URL, no trailing slash.
    pub endpoint: String,
    /// castor's file type name, e.g. `VIZ`.
    pub file_type: String,
    /// The path the file was sent to (below the endpoint).
    pub remote_path: String,
    /// When the 2xx arrived, RFC 3339 UTC.
    pub acknowledged_at: String,
}

/// Who an entry was acknowledged by: files sent elsewhere do not count.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LedgerScope {
    /// Source id, lowercase hyphenated.
    pub source_id: String,
    /// Endpoint base URL, no trailing slash.
    pub endpoint: String,
    /// castor's file type name.
    pub file_type: String,
}

impl LedgerEntry {
    fn same_key(&self, other: &LedgerEntry) -> bool {
        self.name == other.name
            && self.source_id == other.source_id
            && self.endpoint == other.endpoint
            && self.file_type == other.file_type
    }

    fn in_scope(&self, scope: &LedgerScope) -> bool {
        self.source_id == scope.source_id
            && self.endpoint == scope.endpoint
            && self.file_type == scope.file_type
    }
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct LedgerFile {
    version: u32,
    entries: Vec<LedgerEntry>,
}

/// The ledger of one directory: a snapshot read at start, and a merge-writer.
#[derive(Debug)]
pub struct Ledger {
    dir: PathBuf,
    snapshot: Vec<LedgerEntry>,
    write: Mutex<()>,
}

impl Ledger {
    /// Reads `<dir>/.upload-ledger.json`. A missing file is an empty ledger; an
    /// unreadable or corrupt one is also treated as empty, with a warning
    /// (everything is sent again, nothing is lost).
    pub fn load(dir: &Path) -> Ledger {
        let snapshot = match read_entries(dir) {
            Ok(entries) => entries,
            Err(why) => {
                tracing::warn!("ignoring the upload ledger in {}: {why}", dir.display());
                Vec::new()
            }
        };
        Ledger {
            dir: dir.to_owned(),
            snapshot,
            write: Mutex::new(()),
        }
    }

    /// The entry that acknowledges this exact content in this scope, if any.
    pub fn acknowledged(&self, file: &FileRecord, scope: &LedgerScope) -> Option<&LedgerEntry> {
        self.snapshot.iter().rev().find(|e| {
            e.in_scope(scope)
                && e.name == file.name
                && e.bytes == file.bytes
                && e.sha256.eq_ignore_ascii_case(&file.sha256)
        })
    }

    /// True when the ledger has any entry for `name` in this scope (whatever
    /// its content): a file that is not [`Ledger::acknowledged`] but has a name
    /// entry has changed since it was sent.
    pub fn has_name(&self, name: &str, scope: &LedgerScope) -> bool {
        self.snapshot
            .iter()
            .any(|e| e.in_scope(scope) && e.name == name)
    }

    /// Merges `entry` into the ledger on disk (replacing an older entry for the
    /// same name and scope) and rewrites it atomically. Blocking: call it from
    /// `spawn_blocking` in async code.
    ///
    /// # Errors
    /// [`Error::Io`] when the lock file cannot be locked or the ledger written.
    pub fn record(&self, entry: LedgerEntry) -> Result<()> {
        let _in_process = self.write.lock().unwrap_or_else(|p| p.into_inner());
        let lock_path = self.dir.join(LEDGER_LOCK_NAME);
        let lock = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(|e| Error::io("cannot open", &lock_path, e))?;
        lock.lock()
            .map_err(|e| Error::io("cannot lock", &lock_path, e))?;
        let mut entries = read_entries(&self.dir).unwrap_or_default();
        entries.retain(|e| !e.same_key(&entry));
        entries.push(entry);
        let file = LedgerFile {
            version: 1,
            entries,
        };
        write_json_atomic(&self.dir, LEDGER_FILE_NAME, &file)?;
        Ok(())
    }
}

fn read_entries(dir: &Path) -> std::result::Result<Vec<LedgerEntry>, String> {
    let path = dir.join(LEDGER_FILE_NAME);
    match std::fs::read(&path) {
        Ok(bytes) => serde_json::from_slice::<LedgerFile>(&bytes)
            .map(|f| f.entries)
            .map_err(|e| format!("not a ledger ({e})")),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(e) => Err(e.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    fn scope(source: &str, endpoint: &str) -> LedgerScope {
        LedgerScope {
            source_id: source.into(),
            endpoint: endpoint.into(),
            file_type: "VIZ".into(),
        }
    }

    fn rec(name: &str, sha: &str) -> FileRecord {
        FileRecord {
            name: name.into(),
            bytes: 2,
            sha256: sha.into(),
        }
    }

    fn entry(file: &FileRecord, scope: &LedgerScope) -> LedgerEntry {
        LedgerEntry {
            name: file.name.clone(),
            bytes: file.bytes,
            sha256: file.sha256.clone(),
            source_id: scope.source_id.clone(),
            endpoint: scope.endpoint.clone(),
            file_type: scope.file_type.clone(),
            remote_path: format!("visualization-x/{}", file.name),
            acknowledged_at: "2026-01-01T00:00:00Z".into(),
        }
    }

    #[test]
    fn acknowledged_only_for_same_content_and_scope() {
        let dir = tempfile::tempdir().unwrap();
        let here = scope("a", "https://e");
        let file = rec("1-report.json", "aa");
        Ledger::load(dir.path())
            .record(entry(&file, &here))
            .unwrap();

        let ledger = Ledger::load(dir.path());
        assert!(ledger.acknowledged(&file, &here).is_some());
        assert!(
            ledger
                .acknowledged(&rec("1-report.json", "bb"), &here)
                .is_none()
        );
        assert!(
            ledger
                .acknowledged(&file, &scope("b", "https://e"))
                .is_none()
        );
        assert!(
            ledger
                .acknowledged(&file, &scope("a", "http://127.0.0.1:1"))
                .is_none()
        );
    }

    #[test]
    fn a_new_content_replaces_the_old_entry() {
        let dir = tempfile::tempdir().unwrap();
        let here = scope("a", "https://e");
        let ledger = Ledger::load(dir.path());
        ledger.record(entry(&rec("1-r.json", "aa"), &here)).unwrap();
        ledger.record(entry(&rec("1-r.json", "bb"), &here)).unwrap();
        ledger
            .record(entry(&rec("1-r.json", "aa"), &scope("other", "https://e")))
            .unwrap();
        let entries = read_entries(dir.path()).unwrap();
        assert_eq!(entries.len(), 2);
        assert!(
            entries
                .iter()
                .any(|e| e.sha256 == "bb" && e.source_id == "a")
        );
    }

    #[test]
    fn concurrent_writers_lose_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let here = scope("a", "https://e");
        // two "processes": two ledgers on one directory, several threads each
        let ledgers = [
            Arc::new(Ledger::load(dir.path())),
            Arc::new(Ledger::load(dir.path())),
        ];
        let handles: Vec<_> = (0..16)
            .map(|i| {
                let ledger = ledgers[i % 2].clone();
                let e = entry(&rec(&format!("{i}-f.json"), "aa"), &here);
                std::thread::spawn(move || ledger.record(e).unwrap())
            })
            .collect();
        for h in handles {
            h.join().unwrap();
        }
        assert_eq!(read_entries(dir.path()).unwrap().len(), 16);
    }

    #[test]
    fn a_corrupt_ledger_is_ignored() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(LEDGER_FILE_NAME), b"garbage").unwrap();
        let ledger = Ledger::load(dir.path());
        assert!(
            ledger
                .acknowledged(&rec("x", "aa"), &scope("a", "e"))
                .is_none()
        );
        ledger
            .record(entry(&rec("x", "aa"), &scope("a", "e")))
            .unwrap();
        assert_eq!(read_entries(dir.path()).unwrap().len(), 1);
    }
}
