//! Reading a response body with a size cap.
//!
//! Mode's largest real answers are a page of 30 reports with their `_forms`
//! and previews (a few hundred KiB). A broken or hostile server can announce a
//! 5 GB `Content-Length`, or stream without end; reading either into memory
//! would take the process down. Bodies are read chunk by chunk and refused as
//! soon as they pass the cap.

/// The default cap on one response body: 64 MiB.
pub const DEFAULT_MAX_BODY_BYTES: u64 = 64 * 1024 * 1024;

/// Why a body could not be read.
#[derive(Debug)]
pub enum BodyError {
    /// Larger than the cap (announced by `Content-Length`, or read so far).
    TooLarge {
        /// The cap, in bytes.
        limit: u64,
    },
    /// The transport failed while reading (a body cut short, a timeout).
    Transport(reqwest::Error),
}

/// Reads the whole body of `response`, refusing more than `limit` bytes.
///
/// # Errors
/// [`BodyError::TooLarge`] as soon as the announced or received size passes
/// `limit`; [`BodyError::Transport`] when reading fails.
pub async fn read_capped(
    mut response: reqwest::Response,
    limit: u64,
) -> Result<Vec<u8>, BodyError> {
    if response.content_length().is_some_and(|n| n > limit) {
        return Err(BodyError::TooLarge { limit });
    }
    // Pre-size from Content-Length, trusted up to 1 MiB only.
    let hint = response.content_length().unwrap_or(0).min(1 << 20);
    let mut body = Vec::with_capacity(usize::try_from(hint).unwrap_or(0));
    while let Some(chunk) = response.chunk().await.map_err(BodyError::Transport)? {
        if (body.len() + chunk.len()) as u64 > limit {
            return Err(BodyError::TooLarge { limit });
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}
