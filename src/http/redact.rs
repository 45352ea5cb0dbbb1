//! Keeping secrets out of text a server sends back.
//!
//! A misconfigured proxy or a hostile server may echo the request, headers
//! included, in an error body; that text reaches logs and stderr. Every
//! server-provided string is passed through a [`Redactor`] first, which blanks
//! the raw secrets and the encodings they travel in: for Mode, the `Basic`
//! header value (standard and URL-safe base64 of `token:secret`); for the
//! catalog, the token.

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE, URL_SAFE_NO_PAD};
use secrecy::{ExposeSecret, SecretString};

/// The text put in place of a secret.
pub const REDACTED: &str = "[REDACTED]";

/// The secrets to blank out, in every form they are sent in.
#[derive(Clone, Default)]
pub struct Redactor {
    needles: Vec<SecretString>,
}

impl std::fmt::Debug for Redactor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Redactor({} needles)", self.needles.len())
    }
}

impl Redactor {
    /// Blanks each secret as it is.
    pub fn new<'a>(secrets: impl IntoIterator<Item = &'a SecretString>) -> Redactor {
        let mut r = Redactor::default();
        for s in secrets {
            r.add(s.expose_secret());
        }
        r
    }

    /// Also blanks HTTP basic credentials `user:password` in their base64
    /// forms (and the user and password each, as [`Redactor::new`]).
    pub fn with_basic(mut self, user: &SecretString, password: &SecretString) -> Redactor {
        let (u, p) = (user.expose_secret(), password.expose_secret());
        self.add(u);
        self.add(p);
        let pair = format!("{u}:{p}");
        for engine in [&STANDARD, &URL_SAFE, &URL_SAFE_NO_PAD] {
            self.add(&engine.encode(&pair));
        }
        // A padded base64 value may be cut at its padding when echoed.
        self.add(STANDARD.encode(&pair).trim_end_matches('='));
        self
    }

    fn add(&mut self, needle: &str) {
        // Very short needles would blank ordinary words: Mode's tokens are 12+
        // characters, and an empty one matches everywhere.
        if needle.len() >= 4 {
            self.needles.push(SecretString::from(needle.to_owned()));
        }
    }

    /// `text` with every secret replaced by [`REDACTED`], longest first.
    pub fn redact(&self, text: &str) -> String {
        let mut needles: Vec<&str> = self.needles.iter().map(|s| s.expose_secret()).collect();
        needles.sort_by_key(|n| std::cmp::Reverse(n.len()));
        let mut out = text.to_owned();
        for needle in needles {
            if out.contains(needle) {
                out = out.replace(needle, REDACTED);
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_credentials_in_every_encoding() {
        let (t, s) = (
            SecretString::from("tok-abcdef"),
            SecretString::from("sec-123456"),
        );
        let r = Redactor::default().with_basic(&t, &s);
        let b64 = STANDARD.encode("tok-abcdef:sec-123456");
        let echoed = format!("Authorization: Basic {b64}; user tok-abcdef pw sec-123456");
        let clean = r.redact(&echoed);
        assert!(
            !clean.contains(&b64) && !clean.contains("tok-abcdef") && !clean.contains("sec-123456"),
            "{clean}"
        );
        assert!(clean.contains("Authorization: Basic [REDACTED]"), "{clean}");
        assert_eq!(r.redact("nothing here"), "nothing here");
        assert!(!format!("{r:?}").contains("tok"));
    }
}
