//! The body of one upload attempt: the file as it is read, hashed on the way,
//! and held to what the check recorded.
//!
//! [`super::verify`] checked the file before the upload; it may have changed
//! since (rewritten with the same size, swapped for a symbolic link). So the
//! file is opened again without following links, must still be a regular file
//! of the checked size, and is hashed while it streams. The last chunk is held
//! back until the end of the file is reached and the size and SHA-256 match:
//! when they differ, the stream fails instead of finishing the body, so the
//! endpoint never receives a complete upload of the other content, and the
//! [`StreamCheck`] turns the attempt into [`Error::Integrity`] (not retried; the
//! run's summary is never sent). A file that passes was sent exactly as the
//! summary and the ledger record it.

use std::io;
use std::sync::{Arc, Mutex, PoisonError};

use futures::{Stream, StreamExt};
use sha2::{Digest, Sha256};
use tokio::io::AsyncReadExt;
use tokio_util::io::ReaderStream;

use super::plan::PlannedFile;
use crate::error::{Error, Result};
use crate::http::retry::Attempt;

/// Read size of the stream.
const CHUNK: usize = 64 * 1024;

/// Why a stream stopped short, shared between the stream and the attempt that
/// sent it. Cloning shares it.
#[derive(Debug, Clone, Default)]
pub struct StreamCheck(Arc<Mutex<Option<String>>>);

impl StreamCheck {
    /// No failure yet.
    pub fn new() -> StreamCheck {
        StreamCheck::default()
    }

    fn fail(&self, why: String) -> io::Error {
        let err = io::Error::other(why.clone());
        *self.0.lock().unwrap_or_else(PoisonError::into_inner) = Some(why);
        err
    }

    /// The reason the stream failed its check, if it did.
    pub fn failure(&self) -> Option<String> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// `outcome`, unless the stream failed its check: then a fatal
    /// [`Error::Integrity`] with the reason (not retried), whatever the server
    /// answered.
    pub fn overrule<T>(&self, outcome: Attempt<T>) -> Attempt<T> {
        match self.failure() {
            Some(why) => Attempt::Fatal(Error::Integrity(why)),
            None => outcome,
        }
    }
}

/// Opens `file` for one attempt: no symbolic link is followed (nor a fifo
/// waited on), and it must still be a regular file of the planned size.
///
/// # Errors
/// [`Error::Integrity`] when it became a link, something other than a
/// regular file, or another size; [`Error::Io`] when it cannot be opened.
pub async fn open_checked(file: &PlannedFile) -> Result<tokio::fs::File> {
    let path = &file.path;
    let mut options = tokio::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    options.custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK);
    let handle = match options.open(path).await {
        Ok(handle) => handle,
        #[cfg(unix)]
        Err(e) if e.raw_os_error() == Some(libc::ELOOP) => {
            return Err(changed(file, "was replaced by a symbolic link"));
        }
        Err(e) => return Err(Error::io("cannot open", path, e)),
    };
    let meta = handle
        .metadata()
        .await
        .map_err(|e| Error::io("cannot read", path, e))?;
    if !meta.is_file() {
        return Err(changed(file, "is no longer a regular file"));
    }
    if meta.len() != file.bytes {
        let now = format!(
            "has {} bytes, {} when it was checked",
            meta.len(),
            file.bytes
        );
        return Err(changed(file, &now));
    }
    Ok(handle)
}

fn changed(file: &PlannedFile, how: &str) -> Error {
    Error::Integrity(format!(
        "{} {how} after the check; not sent, and its run's summary is held back",
        file.path.display()
    ))
}

/// The request body of `file` read from `handle` (at most one byte past the
/// planned size), hashed as it goes (see the module docs); `on_chunk(n)` is
/// called with the size of each chunk handed to the connection. Fails with the
/// reason in `check` when the content is not what was planned.
pub fn body(
    handle: tokio::fs::File,
    file: &PlannedFile,
    check: StreamCheck,
    on_chunk: impl Fn(u64) + Send + Sync + 'static,
) -> reqwest::Body {
    let inner = ReaderStream::with_capacity(handle.take(file.bytes.saturating_add(1)), CHUNK);
    let stream = checked(inner, Expect::of(file), check).inspect(move |chunk| {
        if let Ok(chunk) = chunk {
            on_chunk(chunk.len() as u64);
        }
    });
    reqwest::Body::wrap_stream(stream)
}

/// What the stream must add up to.
#[derive(Debug, Clone)]
struct Expect {
    name: String,
    bytes: u64,
    sha256: Option<String>,
}

impl Expect {
    fn of(file: &PlannedFile) -> Expect {
        Expect {
            name: file.path.display().to_string(),
            bytes: file.bytes,
            sha256: file.sha256.clone(),
        }
    }
}

struct State<S, B> {
    inner: S,
    hasher: Sha256,
    read: u64,
    held: Option<B>,
    done: bool,
    expect: Expect,
    check: StreamCheck,
}

impl<S, B> State<S, B> {
    /// At the end of the input: size and hash as planned, or a failure.
    fn finish(&mut self) -> io::Result<()> {
        let sha = hex::encode(std::mem::take(&mut self.hasher).finalize());
        let e = &self.expect;
        if self.read != e.bytes {
            let why = format!("{} bytes read, {} when it was checked", self.read, e.bytes);
            return Err(self.mismatch(&why));
        }
        match &e.sha256 {
            Some(want) if !want.eq_ignore_ascii_case(&sha) => {
                let why = format!("SHA-256 {sha} read, {want} when it was checked");
                Err(self.mismatch(&why))
            }
            _ => Ok(()),
        }
    }

    fn mismatch(&self, why: &str) -> io::Error {
        self.check.fail(format!(
            "{} changed after the check ({why}); not sent, and its run's summary is held back",
            self.expect.name
        ))
    }
}

/// `inner`'s chunks, one behind: each chunk goes out only once the next one
/// (or the verified end) has been read.
fn checked<S, B>(inner: S, expect: Expect, check: StreamCheck) -> impl Stream<Item = io::Result<B>>
where
    S: Stream<Item = io::Result<B>> + Unpin,
    B: AsRef<[u8]>,
{
    let state = State {
        inner,
        hasher: Sha256::new(),
        read: 0,
        held: None,
        done: false,
        expect,
        check,
    };
    futures::stream::try_unfold(state, |mut st| async move {
        while !st.done {
            match st.inner.next().await {
                Some(Ok(chunk)) => {
                    st.hasher.update(chunk.as_ref());
                    st.read += chunk.as_ref().len() as u64;
                    if st.read > st.expect.bytes {
                        let why = format!("more than the {} bytes checked", st.expect.bytes);
                        return Err(st.mismatch(&why));
                    }
                    if let Some(previous) = st.held.replace(chunk) {
                        return Ok(Some((previous, st)));
                    }
                }
                Some(Err(e)) => return Err(e),
                None => {
                    st.finish()?;
                    st.done = true;
                    if let Some(last) = st.held.take() {
                        return Ok(Some((last, st)));
                    }
                }
            }
        }
        Ok(None)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::TryStreamExt;

    fn expect(content: &[u8]) -> Expect {
        Expect {
            name: "x.json".into(),
            bytes: content.len() as u64,
            sha256: Some(hex::encode(Sha256::digest(content))),
        }
    }

    fn chunks(parts: &[&'static [u8]]) -> impl Stream<Item = io::Result<&'static [u8]>> + Unpin {
        futures::stream::iter(parts.iter().map(|p| Ok(*p)).collect::<Vec<_>>())
    }

    async fn run(
        parts: &[&'static [u8]],
        planned: &[u8],
    ) -> (Vec<u8>, io::Result<()>, StreamCheck) {
        let check = StreamCheck::new();
        let mut stream = Box::pin(checked(chunks(parts), expect(planned), check.clone()));
        let mut out = Vec::new();
        let result = loop {
            match stream.try_next().await {
                Ok(Some(chunk)) => out.extend_from_slice(chunk),
                Ok(None) => break Ok(()),
                Err(e) => break Err(e),
            }
        };
        (out, result, check)
    }

    #[tokio::test]
    async fn the_planned_content_streams_whole() {
        let (out, result, check) = run(&[b"ab", b"cd", b"e"], b"abcde").await;
        assert_eq!(out, b"abcde");
        assert!(result.is_ok() && check.failure().is_none());
        let (out, result, _) = run(&[], b"").await;
        assert!(out.is_empty() && result.is_ok());
    }

    #[tokio::test]
    async fn other_content_of_the_same_size_never_completes() {
        let (out, result, check) = run(&[b"ab", b"cd", b"X"], b"abcde").await;
        assert_eq!(out, b"abcd", "the last chunk is held back");
        assert!(result.is_err());
        let why = check.failure().unwrap();
        assert!(
            why.contains("x.json changed after the check (SHA-256 "),
            "{why}"
        );
        match check.overrule(Attempt::Done(())) {
            Attempt::Fatal(e) => assert_eq!(e.exit_code(), crate::ExitCode::Integrity),
            _ => panic!("not overruled"),
        }
    }

    #[tokio::test]
    async fn a_file_that_grew_or_shrank_fails() {
        let (_, result, check) = run(&[b"abc", b"def"], b"abcde").await;
        assert!(result.is_err());
        assert!(check.failure().unwrap().contains("more than the 5 bytes"));
        let (out, result, check) = run(&[b"ab"], b"abcde").await;
        assert!(out.is_empty() && result.is_err());
        assert!(check.failure().unwrap().contains("2 bytes read, 5 when"));
    }

    #[cfg(unix)]
    #[tokio::test]
    async fn a_symbolic_link_is_not_opened() {
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().join("real.json");
        std::fs::write(&real, b"[]").unwrap();
        let link = dir.path().join("1-report.json");
        std::os::unix::fs::symlink(&real, &link).unwrap();
        let file = PlannedFile {
            name: "1-report.json".into(),
            path: link,
            bytes: 2,
            sha256: None,
            remote: vec![],
            reason: super::super::plan::SendReason::New,
        };
        let err = open_checked(&file).await.unwrap_err();
        assert_eq!(err.exit_code(), crate::ExitCode::Integrity);
        assert!(
            err.to_string().contains("replaced by a symbolic link"),
            "{err}"
        );
    }
}
