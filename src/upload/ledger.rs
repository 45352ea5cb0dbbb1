//! The upload ledger: which files the endpoint already acknowledged.
//!
//! `<dir>/.upload-ledger.jsonl` (hidden, so never sent) is append-only JSON
//! Lines: one line per file acknowledged with a 2xx, for a given source id,
//! endpoint and file type:
//!
//! ```json
//! {"name":"1700000000-report.json","bytes":12,"sha256":"…","source_id":"8a4f…",
//!  "endpoint":"https://ingest.castordoc.com","file_type":"VIZ",
//!  "remote_path":"visualization-8a4f…/1700000000-report.json",
//!  "acknowledged_at":"2026-01-01T00:00:00Z"}
//! ```
//!
//! A rerun skips a file whose name, size and SHA-256 match the latest line for
//! the same source id, endpoint and file type; a changed file is sent again.
//!
//! Writing costs O(1) per acknowledgement: the line is written with a single
//! `write` on a file opened with `O_APPEND` (so lines of two uploads sharing
//! the directory never interleave) and synced (`fdatasync`) before the upload
//! goes on, so a kill right after an acknowledgement does not resend the file.
//!
//! Reading skips blank, torn, corrupt and over-long lines (debug log) and
//! ignores unknown fields. Before each append the file's last byte is checked:
//! after a torn last line the new line starts with `\n`, so it stays whole.
//!
//! Compaction: when an upload opens the ledger it reads it under an exclusive
//! OS lock on `.upload-ledger.lock` and, if the file has more than twice as many
//! lines as live entries (entries superseded by a later line, or of files no
//! longer in the directory, count as dead; entries of other source ids and
//! endpoints live on), rewrites it with one line per live entry, atomically
//! with [`crate::output::atomic::write_atomic_with`] (temporary file, fsync,
//! rename). Every append holds a *shared* lock on the
//! same file and, if the ledger was replaced since it was opened, reopens it, so
//! no acknowledgement of a concurrent upload lands in a replaced file. Appends
//! of one process are serialised by a mutex (flock is per open file).
//!
//! Migration: the ledger of earlier versions, `.upload-ledger.json`
//! (`{"version":1,"entries":[…]}`), is read as well (its entries count as older
//! than every line); the first upload that opens the ledger writes its entries
//! into the compacted `.jsonl`, then removes it. `--dry-run` reads both files
//! and writes nothing.

use std::collections::HashMap;
use std::fmt;
use std::fs::{File, OpenOptions};
use std::io::{self, BufRead, BufReader, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};

use serde::de::{DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize};

use crate::error::{Error, Result};
use crate::output::FileRecord;
use crate::output::atomic::write_atomic_with;

/// The ledger's file name inside the directory.
pub const LEDGER_FILE_NAME: &str = ".upload-ledger.jsonl";
/// The ledger of earlier versions, migrated into [`LEDGER_FILE_NAME`] and removed.
pub const OLD_LEDGER_FILE_NAME: &str = ".upload-ledger.json";
/// The lock file: exclusive to read and compact the ledger, shared to append.
pub const LEDGER_LOCK_NAME: &str = ".upload-ledger.lock";

/// Longest line read (an entry is a few hundred bytes); longer ones are skipped
/// without being held in memory.
const MAX_LINE: usize = 64 * 1024;

/// One acknowledged file: a line of the ledger.
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
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct LedgerScope {
    /// Source id, lowercase hyphenated.
    pub source_id: String,
    /// Endpoint base URL, no trailing slash.
    pub endpoint: String,
    /// castor's file type name.
    pub file_type: String,
}

/// What the ledger keeps in memory of an entry: enough to decide a skip and
/// to list it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Acknowledgement {
    /// Size in bytes when sent.
    pub bytes: u64,
    /// SHA-256 when sent, lowercase hex.
    pub sha256: String,
    /// When the 2xx arrived, RFC 3339 UTC (empty if the line had none).
    pub acknowledged_at: String,
}

/// The fields of a line that reading needs; others are ignored.
#[derive(Deserialize)]
struct WireEntry {
    name: String,
    bytes: u64,
    sha256: String,
    source_id: String,
    endpoint: String,
    file_type: String,
    #[serde(default)]
    acknowledged_at: String,
}

/// Where the latest entry of a key was read: its index in the old JSON
/// ledger, or its line number in the JSON Lines one. Old entries sort first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Origin {
    Old(u64),
    Line(u64),
}

#[derive(Debug)]
struct Slot {
    ack: Acknowledgement,
    origin: Origin,
}

/// Scope → file name → latest entry.
type Acks = HashMap<LedgerScope, HashMap<String, Slot>>;

/// The ledger of one directory: what it held when the upload started, and
/// (from [`Ledger::open`]) an appender for new acknowledgements.
#[derive(Debug)]
pub struct Ledger {
    acks: Acks,
    appender: Mutex<Option<Appender>>,
}

impl Ledger {
    /// Reads the ledger (and an old `.upload-ledger.json`) without locking or
    /// writing anything, for `--dry-run`. A missing or unreadable ledger is
    /// empty (everything is sent again, nothing is lost).
    /// [`Ledger::record`] on the result does nothing.
    pub fn load(dir: &Path) -> Ledger {
        Ledger {
            acks: Snapshot::read(dir).acks,
            appender: Mutex::new(None),
        }
    }

    /// Opens the ledger for an upload: reads it under the exclusive ledger
    /// lock, compacts it or migrates the old one if needed (see the module
    /// docs), and prepares to append. When the lock file cannot be opened or
    /// locked (read-only directory), warns once and returns what [`Ledger::load`]
    /// reads: the upload goes on, but will not be resumable. Blocking.
    pub fn open(dir: &Path) -> Ledger {
        match Self::open_for_append(dir) {
            Ok(ledger) => ledger,
            Err(why) => {
                tracing::warn!(
                    "the upload ledger in {} cannot be written ({why}); this upload will not be resumable",
                    dir.display()
                );
                Ledger::load(dir)
            }
        }
    }

    fn open_for_append(dir: &Path) -> Result<Ledger> {
        let lock_path = dir.join(LEDGER_LOCK_NAME);
        let lock = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(|e| Error::io("cannot open", &lock_path, e))?;
        lock.lock()
            .map_err(|e| Error::io("cannot lock", &lock_path, e))?;
        let mut snapshot = Snapshot::read(dir);
        let live = snapshot.retain_present(dir);
        if snapshot.old_exists || snapshot.lines > 2 * live {
            match compact(dir, &snapshot) {
                Ok(()) => tracing::debug!(
                    "compacted the upload ledger in {}: {} line(s) to {live}",
                    dir.display(),
                    snapshot.lines
                ),
                Err(e) => {
                    tracing::warn!("cannot compact the upload ledger in {}: {e}", dir.display())
                }
            }
        }
        lock.unlock()
            .map_err(|e| Error::io("cannot unlock", &lock_path, e))?;
        Ok(Ledger {
            acks: snapshot.acks,
            appender: Mutex::new(Some(Appender {
                lock,
                lock_path,
                dir: dir.to_owned(),
                path: dir.join(LEDGER_FILE_NAME),
                file: None,
            })),
        })
    }

    /// The entry that acknowledges this exact content in this scope, if any.
    pub fn acknowledged(&self, file: &FileRecord, scope: &LedgerScope) -> Option<&Acknowledgement> {
        let slot = self.acks.get(scope)?.get(&file.name)?;
        (slot.ack.bytes == file.bytes && slot.ack.sha256.eq_ignore_ascii_case(&file.sha256))
            .then_some(&slot.ack)
    }

    /// True when the ledger has an entry for `name` in this scope (whatever
    /// its content): a file that is not [`Ledger::acknowledged`] but has a name
    /// entry has changed since it was sent.
    pub fn has_name(&self, name: &str, scope: &LedgerScope) -> bool {
        self.acks.get(scope).is_some_and(|n| n.contains_key(name))
    }

    /// Appends `entry` as one line and syncs it: once this returns `Ok`, the
    /// acknowledgement survives a kill or a crash. A later line for the same
    /// name and scope replaces it. Does nothing on a ledger that cannot be
    /// written (see [`Ledger::open`], which already warned). Blocking: call it
    /// from `spawn_blocking` in async code.
    ///
    /// # Errors
    /// [`Error::Io`] when the lock file cannot be locked or the line written.
    pub fn record(&self, entry: &LedgerEntry) -> Result<()> {
        let mut appender = self.appender.lock().unwrap_or_else(PoisonError::into_inner);
        let Some(appender) = appender.as_mut() else {
            tracing::debug!("{}: not recorded (read-only ledger)", entry.name);
            return Ok(());
        };
        let mut line = serde_json::to_vec(entry)
            .map_err(|e| Error::io("cannot encode an entry of", &appender.path, e.into()))?;
        line.push(b'\n');
        appender.append(&line)
    }
}

/// Appends lines to the ledger, following it when a compaction replaces it.
#[derive(Debug)]
struct Appender {
    lock: File,
    lock_path: PathBuf,
    dir: PathBuf,
    path: PathBuf,
    /// The open ledger and its identity when opened.
    file: Option<(File, Option<FileId>)>,
}

impl Appender {
    fn append(&mut self, line: &[u8]) -> Result<()> {
        self.lock
            .lock_shared()
            .map_err(|e| Error::io("cannot lock", &self.lock_path, e))?;
        let written = self
            .append_locked(line)
            .map_err(|e| Error::io("cannot append to", &self.path, e));
        let unlocked = self
            .lock
            .unlock()
            .map_err(|e| Error::io("cannot unlock", &self.lock_path, e));
        written.and(unlocked)
    }

    fn append_locked(&mut self, line: &[u8]) -> io::Result<()> {
        let mut file = self.current()?;
        let prefixed;
        let line = if ends_mid_line(file)? {
            prefixed = [b"\n", line].concat();
            &prefixed[..]
        } else {
            line
        };
        // One `write`: with O_APPEND the line lands whole after whatever another
        // process appended; `write_all` could split it.
        let n = file.write(line)?;
        if n != line.len() {
            let _ = file.write(b"\n");
            return Err(io::Error::new(
                io::ErrorKind::WriteZero,
                format!("short write ({n} of {} bytes)", line.len()),
            ));
        }
        file.sync_data()
    }

    /// The ledger as it is on disk now: reopened (or created) when a
    /// compaction replaced it or someone removed it since it was opened.
    fn current(&mut self) -> io::Result<&File> {
        let on_disk = std::fs::metadata(&self.path).ok().and_then(|m| file_id(&m));
        let (file, id) = match self.file.take() {
            Some((file, id)) if id.is_some() && id == on_disk => (file, id),
            _ => {
                let file = open_append(&self.dir, &self.path)?;
                let id = file.metadata().ok().and_then(|m| file_id(&m));
                (file, id)
            }
        };
        Ok(&self.file.insert((file, id)).0)
    }
}

/// What identifies a file across renames: device and inode.
type FileId = (u64, u64);

#[cfg(unix)]
fn file_id(meta: &std::fs::Metadata) -> Option<FileId> {
    use std::os::unix::fs::MetadataExt;
    Some((meta.dev(), meta.ino()))
}

/// Without inodes the ledger is reopened before every append.
#[cfg(not(unix))]
fn file_id(_meta: &std::fs::Metadata) -> Option<FileId> {
    None
}

fn open_append(dir: &Path, path: &Path) -> io::Result<File> {
    let mut options = OpenOptions::new();
    options.read(true).append(true);
    match options.clone().create_new(true).open(path) {
        Ok(file) => {
            sync_dir(dir);
            Ok(file)
        }
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => options.open(path),
        Err(e) => Err(e),
    }
}

/// True when the file is not empty and its last byte is not `\n` (a torn line).
fn ends_mid_line(mut file: &File) -> io::Result<bool> {
    let len = file.seek(SeekFrom::End(0))?;
    if len == 0 {
        return Ok(false);
    }
    file.seek(SeekFrom::Start(len - 1))?;
    let mut last = [0u8];
    file.read_exact(&mut last)?;
    Ok(last[0] != b'\n')
}

/// Makes a create, rename or remove durable; best effort (some filesystems
/// refuse to sync a directory).
fn sync_dir(dir: &Path) {
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
}

/// What reading the ledger files found.
#[derive(Debug, Default)]
struct Snapshot {
    acks: Acks,
    /// Lines in the JSON Lines ledger, blank, corrupt and superseded ones included.
    lines: u64,
    /// The old JSON ledger exists (whatever its content).
    old_exists: bool,
}

impl Snapshot {
    fn read(dir: &Path) -> Snapshot {
        let mut snapshot = Snapshot::default();
        let old = dir.join(OLD_LEDGER_FILE_NAME);
        match stream_old(&old, |index, value| snapshot.insert_old(index, value)) {
            Ok(exists) => snapshot.old_exists = exists,
            Err(why) => {
                snapshot.old_exists = true;
                tracing::warn!("ignoring (the rest of) {}: {why}", old.display());
            }
        }
        let path = dir.join(LEDGER_FILE_NAME);
        let read = File::open(&path).and_then(|file| {
            for_each_line(BufReader::new(file), |index, line| {
                snapshot.insert_line(&path, index, line);
                Ok(())
            })
        });
        match read {
            Ok(lines) => snapshot.lines = lines,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => tracing::warn!("ignoring (the rest of) {}: {e}", path.display()),
        }
        snapshot
    }

    fn insert_old(&mut self, index: u64, value: serde_json::Value) {
        match serde_json::from_value::<WireEntry>(value) {
            Ok(entry) => self.insert(entry, Origin::Old(index)),
            Err(e) => tracing::debug!("skipping entry {index} of the old upload ledger: {e}"),
        }
    }

    fn insert_line(&mut self, path: &Path, index: u64, line: Option<&[u8]>) {
        let Some(line) = line else {
            tracing::debug!(
                "skipping line {} of {}: too long",
                index + 1,
                path.display()
            );
            return;
        };
        if line.trim_ascii().is_empty() {
            return;
        }
        match serde_json::from_slice::<WireEntry>(line) {
            Ok(entry) => self.insert(entry, Origin::Line(index)),
            Err(e) => tracing::debug!("skipping line {} of {}: {e}", index + 1, path.display()),
        }
    }

    fn insert(&mut self, entry: WireEntry, origin: Origin) {
        let scope = LedgerScope {
            source_id: entry.source_id,
            endpoint: entry.endpoint,
            file_type: entry.file_type,
        };
        let ack = Acknowledgement {
            bytes: entry.bytes,
            sha256: entry.sha256.to_ascii_lowercase(),
            acknowledged_at: entry.acknowledged_at,
        };
        self.acks
            .entry(scope)
            .or_default()
            .insert(entry.name, Slot { ack, origin });
    }

    /// Drops the entries of files no longer in `dir`; returns how many are left.
    fn retain_present(&mut self, dir: &Path) -> u64 {
        let mut live = 0;
        for names in self.acks.values_mut() {
            names.retain(|name, _| is_present(dir, name));
            live += names.len() as u64;
        }
        self.acks.retain(|_, names| !names.is_empty());
        live
    }
}

/// True unless `name` is not a plain file name or surely not in `dir` (an
/// error other than "not found" keeps the entry: resending is the safe side).
fn is_present(dir: &Path, name: &str) -> bool {
    if Path::new(name).file_name().is_none_or(|n| n != name) {
        return false;
    }
    match dir.join(name).symlink_metadata() {
        Ok(_) => true,
        Err(e) => e.kind() != io::ErrorKind::NotFound,
    }
}

/// Rewrites the ledger with the latest entry of each live key, old entries
/// first, atomically ([`write_atomic_with`]: temporary file, fsync, rename),
/// then removes the old JSON ledger. The caller holds the exclusive lock, so
/// neither file changes while they are read again here.
fn compact(dir: &Path, snapshot: &Snapshot) -> Result<()> {
    let mut keep: Vec<Origin> = snapshot
        .acks
        .values()
        .flat_map(|names| names.values().map(|slot| slot.origin))
        .collect();
    keep.sort_unstable();
    write_atomic_with(dir, LEDGER_FILE_NAME, |out| write_live(dir, &keep, out))?;
    if snapshot.old_exists {
        let old = dir.join(OLD_LEDGER_FILE_NAME);
        match std::fs::remove_file(&old) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => {
                return Err(Error::io("cannot remove", &old, e));
            }
            _ => sync_dir(dir),
        }
    }
    Ok(())
}

/// Writes the entries at `keep` (sorted, old ones first) to `out`, streaming
/// both ledger files again.
fn write_live(dir: &Path, keep: &[Origin], mut out: &mut dyn Write) -> io::Result<()> {
    let old_count = keep.partition_point(|o| matches!(o, Origin::Old(_)));
    let mut written = 0usize;
    let mut failed = None;
    if old_count > 0 {
        let _ = stream_old(&dir.join(OLD_LEDGER_FILE_NAME), |index, value| {
            if failed.is_none() && keep[..old_count].binary_search(&Origin::Old(index)).is_ok() {
                let line = serde_json::to_writer(&mut out, &value)
                    .map_err(io::Error::from)
                    .and_then(|()| out.write_all(b"\n"));
                match line {
                    Ok(()) => written += 1,
                    Err(e) => failed = Some(e),
                }
            }
        });
    }
    if let Some(e) = failed {
        return Err(e);
    }
    if keep.len() > old_count {
        let lines = BufReader::new(File::open(dir.join(LEDGER_FILE_NAME))?);
        for_each_line(lines, |index, line| {
            if let Some(line) = line
                && keep[old_count..]
                    .binary_search(&Origin::Line(index))
                    .is_ok()
            {
                out.write_all(line)?;
                out.write_all(b"\n")?;
                written += 1;
            }
            Ok(())
        })?;
    }
    if written != keep.len() {
        return Err(io::Error::other(format!(
            "the ledger changed while compacting ({written} of {} entries found again)",
            keep.len()
        )));
    }
    Ok(())
}

/// Calls `f(index, line)` for each line of `reader`, without its `\n`; a
/// last line without `\n` counts. A line longer than [`MAX_LINE`] is passed as
/// `None`, and never held in memory whole. Returns the number of lines.
fn for_each_line(
    mut reader: impl BufRead,
    mut f: impl FnMut(u64, Option<&[u8]>) -> io::Result<()>,
) -> io::Result<u64> {
    let mut buf = Vec::new();
    let mut index = 0;
    loop {
        buf.clear();
        let n = (&mut reader)
            .take(MAX_LINE as u64 + 1)
            .read_until(b'\n', &mut buf)?;
        if n == 0 {
            return Ok(index);
        }
        if buf.last() == Some(&b'\n') {
            buf.pop();
            f(index, Some(&buf))?;
        } else if buf.len() > MAX_LINE {
            reader.skip_until(b'\n')?;
            f(index, None)?;
        } else {
            f(index, Some(&buf))?;
        }
        index += 1;
    }
}

/// Streams the entries of an old `{"version":1,"entries":[…]}` ledger at `path`
/// to `f(index, entry)`, one at a time. `Ok(false)`: no such file. On a parse
/// error the entries before it have been passed.
fn stream_old(
    path: &Path,
    f: impl FnMut(u64, serde_json::Value),
) -> std::result::Result<bool, String> {
    let file = match File::open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(false),
        Err(e) => return Err(e.to_string()),
    };
    let mut de = serde_json::Deserializer::from_reader(BufReader::new(file));
    OldLedger(f)
        .deserialize(&mut de)
        .and_then(|()| de.end())
        .map_err(|e| format!("not a ledger ({e})"))?;
    Ok(true)
}

/// The old ledger object: its `entries` go to the callback, other keys are skipped.
struct OldLedger<F>(F);

impl<'de, F: FnMut(u64, serde_json::Value)> DeserializeSeed<'de> for OldLedger<F> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> std::result::Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de, F: FnMut(u64, serde_json::Value)> Visitor<'de> for OldLedger<F> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an upload ledger object")
    }

    fn visit_map<A: MapAccess<'de>>(mut self, mut map: A) -> std::result::Result<(), A::Error> {
        while let Some(key) = map.next_key::<String>()? {
            if key == "entries" {
                map.next_value_seed(OldEntries(&mut self.0))?;
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(())
    }
}

/// The old ledger's `entries` array, passed on one entry at a time.
struct OldEntries<'a, F>(&'a mut F);

impl<'de, F: FnMut(u64, serde_json::Value)> DeserializeSeed<'de> for OldEntries<'_, F> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> std::result::Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de, F: FnMut(u64, serde_json::Value)> Visitor<'de> for OldEntries<'_, F> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an array of ledger entries")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> std::result::Result<(), A::Error> {
        let mut index = 0;
        while let Some(value) = seq.next_element::<serde_json::Value>()? {
            (self.0)(index, value);
            index += 1;
        }
        Ok(())
    }
}

#[cfg(test)]
#[path = "ledger_tests.rs"]
mod tests;
