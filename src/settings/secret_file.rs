//! Secrets read from files (`--secret-file`, `…_FILE`): Docker and Kubernetes
//! mount secrets as files so that they never appear in argv or the environment.

use std::io::Read;
use std::path::PathBuf;

use secrecy::SecretString;

use super::{Found, Source};
use crate::error::{Error, Result};

/// The largest secret file read (64 KiB): tokens are a few dozen bytes.
pub const MAX_SECRET_FILE_BYTES: u64 = 64 * 1024;

/// Reads the secret from the file `found` names: its content less one trailing
/// newline (`\n` or `\r\n`). Warns when anyone may read the file.
///
/// # Errors
/// [`Error::Config`] naming the path (never the content) when the file is
/// missing, unreadable, not a regular file, too large, not UTF-8, or empty.
pub(super) fn read(found: Found) -> Result<(SecretString, Source)> {
    let path = PathBuf::from(&found.text);
    let fail = |why: String| Error::Config(format!("{}: {why}", found.source));
    let meta = std::fs::metadata(&path)
        .map_err(|e| fail(format!("cannot read {}: {e}", path.display())))?;
    if !meta.is_file() {
        return Err(fail(format!("{} is not a regular file", path.display())));
    }
    warn_if_world_readable(&path, &meta);
    let mut bytes = Vec::new();
    std::fs::File::open(&path)
        .and_then(|f| f.take(MAX_SECRET_FILE_BYTES + 1).read_to_end(&mut bytes))
        .map_err(|e| fail(format!("cannot read {}: {e}", path.display())))?;
    if bytes.len() as u64 > MAX_SECRET_FILE_BYTES {
        return Err(fail(format!(
            "{} is larger than {MAX_SECRET_FILE_BYTES} bytes; it is not a secret file",
            path.display()
        )));
    }
    let mut text = String::from_utf8(bytes)
        .map_err(|_| fail(format!("{} is not UTF-8 text", path.display())))?;
    if text.ends_with('\n') {
        text.pop();
        if text.ends_with('\r') {
            text.pop();
        }
    }
    if text.is_empty() {
        return Err(fail(format!("{} is empty", path.display())));
    }
    let source = Source {
        file: Some(path),
        ..found.source
    };
    Ok((SecretString::from(text), source))
}

#[cfg(unix)]
fn warn_if_world_readable(path: &std::path::Path, meta: &std::fs::Metadata) {
    use std::os::unix::fs::PermissionsExt;
    if meta.permissions().mode() & 0o004 != 0 {
        tracing::warn!(
            "{} can be read by every user of this machine; chmod o-r it",
            path.display()
        );
    }
}

#[cfg(not(unix))]
fn warn_if_world_readable(_: &std::path::Path, _: &std::fs::Metadata) {}
