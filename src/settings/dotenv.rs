//! Reading `./.env`: bounded, regular files only, never echoing a line.

use std::collections::HashMap;
use std::io::Read;
use std::path::Path;

use crate::error::{Error, Result};

/// The largest `.env` read (1 MiB): a settings file is a few hundred bytes, and
/// a link to `/dev/zero` must not fill the memory.
pub const MAX_DOTENV_BYTES: u64 = 1024 * 1024;

/// The `NAME=VALUE` pairs of a `.env` file (dotenv syntax: quotes, `export`,
/// comments), or nothing when there is no file. The process environment is
/// never touched.
///
/// # Errors
/// [`Error::Config`] when the path is not a regular file (a directory, FIFO or
/// device), is larger than [`MAX_DOTENV_BYTES`], holds a NUL byte or a line that
/// is not `NAME=VALUE` (the line is never shown: it may hold a secret);
/// [`Error::Io`] when it cannot be read.
pub fn read_dotenv(path: &Path) -> Result<HashMap<String, String>> {
    let meta = match std::fs::metadata(path) {
        Ok(meta) => meta,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(HashMap::new()),
        Err(e) => return Err(Error::io("cannot read", path, e)),
    };
    let shown = path.display();
    if !meta.is_file() {
        return Err(Error::Config(format!(
            "{shown} is not a regular file (a directory, FIFO or device); remove it or run elsewhere"
        )));
    }
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .and_then(|f| f.take(MAX_DOTENV_BYTES + 1).read_to_end(&mut bytes))
        .map_err(|e| Error::io("cannot read", path, e))?;
    if bytes.len() as u64 > MAX_DOTENV_BYTES {
        return Err(Error::Config(format!(
            "{shown} is larger than {MAX_DOTENV_BYTES} bytes; it is not a settings file"
        )));
    }
    if let Some(at) = bytes.iter().position(|b| *b == 0) {
        let line = bytes[..at].iter().filter(|b| **b == b'\n').count() + 1;
        return Err(Error::Config(format!(
            "{shown}: line {line} holds a NUL byte (not shown: it may hold a secret)"
        )));
    }
    parse(&bytes).map_err(|line| {
        Error::Config(format!(
            "{shown}: line {line} is not NAME=VALUE (not shown: it may hold a secret)"
        ))
    })
}

/// Parses with dotenvy; on error, the 1-based line number only.
fn parse(bytes: &[u8]) -> std::result::Result<HashMap<String, String>, usize> {
    let mut vars = HashMap::new();
    for item in dotenvy::from_read_iter(bytes) {
        match item {
            Ok((key, value)) => {
                vars.insert(key, value);
            }
            Err(dotenvy::Error::LineParse(text, _)) => return Err(line_of(bytes, &text)),
            Err(_) => return Err(0),
        }
    }
    Ok(vars)
}

/// The line number where `text` (a line dotenvy refused) starts.
fn line_of(bytes: &[u8], text: &str) -> usize {
    let whole = String::from_utf8_lossy(bytes);
    whole
        .find(text)
        .map_or(0, |at| whole[..at].matches('\n').count() + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(body: &[u8]) -> (tempfile::TempDir, std::path::PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(".env");
        std::fs::write(&path, body).unwrap();
        (dir, path)
    }

    #[test]
    fn pairs_quotes_and_comments() {
        let (_d, path) = write(b"# c\nA=1\nexport B=\"two words\"\nC=\n");
        let vars = read_dotenv(&path).unwrap();
        assert_eq!(vars["A"], "1");
        assert_eq!(vars["B"], "two words");
        assert_eq!(vars["C"], "");
    }

    #[test]
    fn missing_is_empty_and_bad_lines_are_never_echoed() {
        let dir = tempfile::tempdir().unwrap();
        assert!(read_dotenv(&dir.path().join(".env")).unwrap().is_empty());
        let (_d, path) = write(b"A=1\nthis is s3cr3t garbage\n");
        let err = read_dotenv(&path).unwrap_err().to_string();
        assert!(err.contains("line 2"), "{err}");
        assert!(!err.contains("s3cr3t"), "{err}");
        let (_d, path) = write(b"A=1\nSECRET=s3cr3t\0x\n");
        let err = read_dotenv(&path).unwrap_err().to_string();
        assert!(err.contains("NUL") && err.contains("line 2"), "{err}");
        assert!(!err.contains("s3cr3t"), "{err}");
    }

    #[test]
    fn directories_devices_and_huge_files_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join(".env")).unwrap();
        let err = read_dotenv(&dir.path().join(".env")).unwrap_err();
        assert!(err.to_string().contains("not a regular file"), "{err}");
        #[cfg(unix)]
        {
            let link = dir.path().join("zero");
            std::os::unix::fs::symlink("/dev/zero", &link).unwrap();
            let err = read_dotenv(&link).unwrap_err();
            assert!(err.to_string().contains("not a regular file"), "{err}");
        }
        let (_d, path) = write(&vec![b'#'; MAX_DOTENV_BYTES as usize + 1]);
        assert!(
            read_dotenv(&path)
                .unwrap_err()
                .to_string()
                .contains("larger")
        );
    }
}
