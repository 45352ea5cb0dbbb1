//! Unit tests of the upload ledger (`ledger.rs`).

use super::*;
use std::sync::Arc;

fn scope(source: &str, endpoint: &str) -> LedgerScope {
    LedgerScope {
        source_id: source.into(),
        endpoint: endpoint.into(),
        file_type: "VIZ".into(),
    }
}

/// A record of `name`, and the file itself in `dir` (compaction drops
/// entries of files that are gone).
fn file(dir: &Path, name: &str, sha: &str) -> FileRecord {
    std::fs::write(dir.join(name), b"[]").unwrap();
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

fn line(file: &FileRecord, scope: &LedgerScope) -> String {
    serde_json::to_string(&entry(file, scope)).unwrap() + "\n"
}

fn ledger_text(dir: &Path) -> String {
    std::fs::read_to_string(dir.join(LEDGER_FILE_NAME)).unwrap()
}

fn append_raw(dir: &Path, text: &str) {
    let mut f = OpenOptions::new()
        .append(true)
        .create(true)
        .open(dir.join(LEDGER_FILE_NAME))
        .unwrap();
    f.write_all(text.as_bytes()).unwrap();
}

#[test]
fn acknowledged_only_for_same_content_and_scope() {
    let dir = tempfile::tempdir().unwrap();
    let here = scope("a", "https://e");
    let f = file(dir.path(), "1-report.json", "aa");
    Ledger::open(dir.path()).record(&entry(&f, &here)).unwrap();

    let ledger = Ledger::open(dir.path());
    assert_eq!(
        ledger.acknowledged(&f, &here).unwrap().acknowledged_at,
        "2026-01-01T00:00:00Z"
    );
    let upper = FileRecord {
        sha256: "AA".into(),
        ..f.clone()
    };
    assert!(ledger.acknowledged(&upper, &here).is_some());
    let changed = FileRecord {
        sha256: "bb".into(),
        ..f.clone()
    };
    assert!(ledger.acknowledged(&changed, &here).is_none());
    assert!(ledger.has_name(&f.name, &here));
    let longer = FileRecord {
        bytes: 3,
        ..f.clone()
    };
    assert!(ledger.acknowledged(&longer, &here).is_none());
    assert!(ledger.acknowledged(&f, &scope("b", "https://e")).is_none());
    let other_endpoint = scope("a", "http://127.0.0.1:1");
    assert!(ledger.acknowledged(&f, &other_endpoint).is_none());
    assert!(!ledger.has_name(&f.name, &other_endpoint));
}

#[test]
fn each_acknowledgement_is_one_appended_line_and_the_latest_wins() {
    let dir = tempfile::tempdir().unwrap();
    let here = scope("a", "https://e");
    let ledger = Ledger::open(dir.path());
    let old = file(dir.path(), "1-r.json", "aa");
    let new = file(dir.path(), "1-r.json", "bb");
    ledger.record(&entry(&old, &here)).unwrap();
    ledger.record(&entry(&new, &here)).unwrap();
    let other = scope("other", "https://e");
    ledger.record(&entry(&old, &other)).unwrap();
    assert_eq!(
        ledger_text(dir.path()),
        [line(&old, &here), line(&new, &here), line(&old, &other)].concat()
    );

    let again = Ledger::load(dir.path());
    assert!(again.acknowledged(&new, &here).is_some());
    assert!(again.acknowledged(&old, &here).is_none());
    assert!(again.acknowledged(&old, &other).is_some());
}

#[test]
fn concurrent_writers_lose_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let here = scope("a", "https://e");
    // two "processes": two ledgers on one directory, several threads each
    let ledgers = [
        Arc::new(Ledger::open(dir.path())),
        Arc::new(Ledger::open(dir.path())),
    ];
    let files: Vec<_> = (0..32)
        .map(|i| file(dir.path(), &format!("{i}-f.json"), "aa"))
        .collect();
    let handles: Vec<_> = files
        .iter()
        .enumerate()
        .map(|(i, f)| {
            let ledger = ledgers[i % 2].clone();
            let e = entry(f, &here);
            std::thread::spawn(move || ledger.record(&e).unwrap())
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    let text = ledger_text(dir.path());
    assert_eq!(text.lines().count(), 32);
    assert!(
        text.lines()
            .all(|l| serde_json::from_str::<LedgerEntry>(l).is_ok())
    );
    let ledger = Ledger::load(dir.path());
    assert!(
        files
            .iter()
            .all(|f| ledger.acknowledged(f, &here).is_some())
    );
}

#[test]
fn an_append_after_another_upload_compacted_lands_in_the_new_file() {
    let dir = tempfile::tempdir().unwrap();
    let here = scope("a", "https://e");
    let (one, two) = (
        file(dir.path(), "1-f.json", "aa"),
        file(dir.path(), "2-f.json", "aa"),
    );
    let running = Ledger::open(dir.path());
    running.record(&entry(&one, &here)).unwrap();
    append_raw(dir.path(), "garbage\n\n{\"name\":\"3\"}\n");
    // a second upload starts: 4 lines, 1 live entry, so it compacts
    let before = std::fs::metadata(dir.path().join(LEDGER_FILE_NAME)).unwrap();
    let _second = Ledger::open(dir.path());
    assert_eq!(ledger_text(dir.path()), line(&one, &here));
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        let after = std::fs::metadata(dir.path().join(LEDGER_FILE_NAME)).unwrap();
        assert_ne!(before.ino(), after.ino(), "replaced by rename");
    }
    running.record(&entry(&two, &here)).unwrap();
    assert_eq!(
        ledger_text(dir.path()),
        [line(&one, &here), line(&two, &here)].concat()
    );
}

#[test]
fn torn_corrupt_and_unknown_lines_never_panic_and_a_torn_tail_is_closed() {
    let dir = tempfile::tempdir().unwrap();
    let here = scope("a", "https://e");
    let (a, b, c) = (
        file(dir.path(), "a.json", "aa"),
        file(dir.path(), "b.json", "bb"),
        file(dir.path(), "c.json", "cc"),
    );
    let with_extra = line(&a, &here).replacen('{', r#"{"future":[1,{"x":2}],"#, 1);
    let long = format!("{}\n", "x".repeat(MAX_LINE * 3));
    let c_line = line(&c, &here);
    let torn = &c_line[..40];
    append_raw(
        dir.path(),
        &format!(
            "{with_extra}\u{0}\u{ff}bin\n{long}[1,2]\n{{\"name\":7}}\n{}{torn}",
            line(&b, &here)
        ),
    );
    let ledger = Ledger::load(dir.path());
    assert!(
        ledger.acknowledged(&a, &here).is_some(),
        "unknown fields ignored"
    );
    assert!(ledger.acknowledged(&b, &here).is_some());
    assert!(ledger.acknowledged(&c, &here).is_none());

    // 7 lines for 2 live entries: an upload compacts first
    let ledger = Ledger::open(dir.path());
    assert_eq!(ledger_text(dir.path()).lines().count(), 2);
    // a torn last line written by a killed upload does not swallow the next one
    append_raw(dir.path(), torn);
    ledger.record(&entry(&c, &here)).unwrap();
    let text = ledger_text(dir.path());
    assert!(
        text.ends_with(&format!("{torn}\n{}", line(&c, &here))),
        "{text}"
    );
    assert!(Ledger::load(dir.path()).acknowledged(&c, &here).is_some());
}

#[test]
fn compaction_keeps_the_latest_live_entry_of_every_scope() {
    let dir = tempfile::tempdir().unwrap();
    let here = scope("a", "https://e");
    let there = scope("b", "https://other");
    let kept = file(dir.path(), "1-f.json", "v9");
    let mut text = String::new();
    for v in 0..10 {
        text += &line(&file(dir.path(), "1-f.json", &format!("v{v}")), &here);
    }
    text += &line(&kept, &there);
    text += &line(&file(dir.path(), "gone.json", "aa"), &here);
    std::fs::remove_file(dir.path().join("gone.json")).unwrap();
    append_raw(dir.path(), &text);

    let ledger = Ledger::open(dir.path());
    assert_eq!(
        ledger_text(dir.path()),
        [line(&kept, &here), line(&kept, &there)].concat()
    );
    assert!(ledger.acknowledged(&kept, &here).is_some());
    assert!(ledger.acknowledged(&kept, &there).is_some());
    assert!(!ledger.has_name("gone.json", &here));
}

#[test]
fn a_ledger_with_few_dead_lines_is_not_rewritten() {
    let dir = tempfile::tempdir().unwrap();
    let here = scope("a", "https://e");
    let f = file(dir.path(), "1-f.json", "aa");
    let g = file(dir.path(), "2-f.json", "aa");
    // 4 lines for 2 live entries: not more than twice, left alone
    let text = [
        line(&f, &here),
        "junk\n".into(),
        line(&g, &here),
        line(&f, &here),
    ]
    .concat();
    append_raw(dir.path(), &text);
    let ledger = Ledger::open(dir.path());
    assert_eq!(ledger_text(dir.path()), text);
    assert!(ledger.acknowledged(&f, &here).is_some());
    assert!(ledger.acknowledged(&g, &here).is_some());
}

#[test]
fn the_old_json_ledger_is_migrated_once_then_removed() {
    let dir = tempfile::tempdir().unwrap();
    let here = scope("a", "https://e");
    let there = scope("b", "https://other");
    let f = file(dir.path(), "1-f.json", "aa");
    let g = file(dir.path(), "2-f.json", "bb");
    let old = serde_json::json!({
        "version": 1,
        "future": {"ignored": true},
        "entries": [entry(&f, &here), entry(&g, &here), entry(&f, &there)],
    });
    let old_path = dir.path().join(OLD_LEDGER_FILE_NAME);
    std::fs::write(&old_path, old.to_string()).unwrap();
    // a line already written by this version is newer than the old file
    let changed = FileRecord {
        sha256: "cc".into(),
        ..g.clone()
    };
    append_raw(dir.path(), &line(&changed, &here));

    // --dry-run reads the old ledger and writes nothing
    let dry = Ledger::load(dir.path());
    assert!(dry.acknowledged(&f, &here).is_some());
    assert!(dry.acknowledged(&changed, &here).is_some());
    assert!(old_path.exists());

    let ledger = Ledger::open(dir.path());
    assert!(!old_path.exists());
    for (rec, scope) in [(&f, &here), (&changed, &here), (&f, &there)] {
        assert!(
            ledger.acknowledged(rec, scope).is_some(),
            "{rec:?} {scope:?}"
        );
    }
    assert!(ledger.acknowledged(&g, &here).is_none());
    let text = ledger_text(dir.path());
    assert_eq!(text.lines().count(), 3, "{text}");
    let reread = Ledger::open(dir.path());
    assert!(reread.acknowledged(&f, &there).is_some());
    assert_eq!(ledger_text(dir.path()), text, "migrated once");
}

#[test]
fn a_corrupt_old_ledger_is_ignored_and_removed() {
    let dir = tempfile::tempdir().unwrap();
    let here = scope("a", "https://e");
    let f = file(dir.path(), "1-f.json", "aa");
    let g = file(dir.path(), "2-f.json", "aa");
    let old_path = dir.path().join(OLD_LEDGER_FILE_NAME);
    // truncated after its first entry: that entry is kept
    let whole = serde_json::json!({"version": 1, "entries": [entry(&f, &here), entry(&g, &here)]});
    let text = whole.to_string();
    let cut = text.find("},{").unwrap() + 2;
    std::fs::write(&old_path, &text[..cut]).unwrap();
    let ledger = Ledger::open(dir.path());
    assert!(ledger.acknowledged(&f, &here).is_some());
    assert!(ledger.acknowledged(&g, &here).is_none());
    assert!(!old_path.exists());

    std::fs::write(&old_path, b"garbage").unwrap();
    let ledger = Ledger::open(dir.path());
    assert!(ledger.acknowledged(&f, &here).is_some());
    assert!(!old_path.exists());
    ledger.record(&entry(&g, &here)).unwrap();
    assert_eq!(ledger_text(dir.path()).lines().count(), 2);
}

#[test]
fn the_ledger_files_are_hidden_from_discovery() {
    let dir = tempfile::tempdir().unwrap();
    let here = scope("a", "https://e");
    let f = file(dir.path(), "castor.json", "aa");
    std::fs::write(dir.path().join(OLD_LEDGER_FILE_NAME), b"{}").unwrap();
    Ledger::open(dir.path()).record(&entry(&f, &here)).unwrap();
    let found = super::super::discover::discover(dir.path()).unwrap();
    let castor = (
        "castor.json".to_string(),
        super::super::discover::SkipReason::NoRun,
    );
    assert!(found.skipped.contains(&castor), "{:?}", found.skipped);
    for name in [LEDGER_FILE_NAME, LEDGER_LOCK_NAME] {
        assert!(
            found
                .skipped
                .contains(&(name.to_string(), super::super::discover::SkipReason::Hidden)),
            "{name}: {:?}",
            found.skipped
        );
    }
}

#[cfg(unix)]
#[test]
fn a_read_only_directory_still_reads_the_ledger() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let here = scope("a", "https://e");
    let f = file(dir.path(), "1-f.json", "aa");
    append_raw(dir.path(), &line(&f, &here));
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o555)).unwrap();
    let ledger = Ledger::open(dir.path());
    let writable = std::fs::File::create(dir.path().join("probe")).is_ok(); // root ignores modes
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    assert!(ledger.acknowledged(&f, &here).is_some());
    if !writable {
        assert!(!dir.path().join(LEDGER_LOCK_NAME).exists());
        ledger.record(&entry(&f, &here)).unwrap();
    }
}
