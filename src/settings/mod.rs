//! One settings model for both binaries.
//!
//! Every setting that castor reads from the environment is described once by a
//! [`Setting`] (its flag, its environment variable, and for secrets its `_FILE`
//! forms) and looked up in three [`Layers`], highest first:
//!
//! 1. the command line (clap parses it in `bin/`, as raw strings);
//! 2. the process environment;
//! 3. `./.env` in the working directory only (never a parent directory), parsed
//!    into a map and never copied into the process environment.
//!
//! The rules are the same for both binaries:
//! - an empty (or all-blank) value in the environment or `.env` counts as unset,
//!   as castor's pydantic settings treat it; an empty value given on the command
//!   line is an error (`-t ""` must not reach Mode as an empty user name);
//! - a secret may come from a file (`--secret-file PATH`,
//!   `CASTOR_MODE_ANALYTICS_SECRET_FILE=PATH`, the Docker and Kubernetes
//!   convention): the file's content with one trailing newline removed. The
//!   highest layer that names the value or its file wins; one layer naming both
//!   is an error. A file anyone can read gets a warning; a missing, unreadable
//!   or empty file is an error naming the path, never the content;
//! - an error names where the bad value came from ([`Source`]), and
//!   [`Missing`] reports every missing setting at once.
//!
//! Settings with no environment variable (`--rate-limit`, `--assets`, …) are
//! typed by clap in `bin/` and validated by the library's `resolve` functions.

mod dotenv;
pub mod limits;
mod secret_file;

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};

use secrecy::SecretString;

use crate::error::{Error, Result};

pub use dotenv::read_dotenv;

/// The name of the `.env` file read from the working directory.
pub const DOTENV: &str = ".env";

/// One setting that can come from a flag, the environment or `.env`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Setting {
    /// The long flag as written on the command line, e.g. `"--host"`.
    pub flag: &'static str,
    /// The environment variable (and `.env` key), e.g. `"CASTOR_MODE_ANALYTICS_HOST"`.
    pub env: Option<&'static str>,
    /// For secrets: the flag and variable that name a file holding the value.
    pub file: Option<FileForm>,
}

/// The `_FILE` forms of a secret setting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FileForm {
    /// e.g. `"--secret-file"`.
    pub flag: &'static str,
    /// e.g. `"CASTOR_MODE_ANALYTICS_SECRET_FILE"`.
    pub env: &'static str,
}

impl Setting {
    /// A setting with a flag and an environment variable.
    pub const fn new(flag: &'static str, env: &'static str) -> Setting {
        Setting {
            flag,
            env: Some(env),
            file: None,
        }
    }

    /// A secret with its `--…-file` flag and `…_FILE` variable.
    pub const fn secret(
        flag: &'static str,
        env: &'static str,
        file_flag: &'static str,
        file_env: &'static str,
    ) -> Setting {
        Setting {
            flag,
            env: Some(env),
            file: Some(FileForm {
                flag: file_flag,
                env: file_env,
            }),
        }
    }

    /// How to give it, for a "missing" message: `--host (or CASTOR_MODE_ANALYTICS_HOST)`.
    pub fn how_to_set(&self) -> String {
        match (self.env, self.file) {
            (Some(env), Some(file)) => {
                format!(
                    "{} (or {env}, or a file: {} / {})",
                    self.flag, file.flag, file.env
                )
            }
            (Some(env), None) => format!("{} (or {env})", self.flag),
            (None, _) => self.flag.to_owned(),
        }
    }
}

/// Which layer a value came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// The command line.
    Flag,
    /// The process environment.
    Environment,
    /// `./.env`.
    DotEnv,
}

/// Where a value came from, for messages: `--host`, `CASTOR_MODE_ANALYTICS_HOST
/// (environment)`, `CASTOR_MODE_ANALYTICS_HOST (./.env)`, or a secret file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Source {
    /// The layer.
    pub origin: Origin,
    /// The flag or variable name.
    pub name: &'static str,
    /// The file the value was read from (`_FILE` forms only).
    pub file: Option<PathBuf>,
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.origin {
            Origin::Flag => f.write_str(self.name)?,
            Origin::Environment => write!(f, "{} (environment)", self.name)?,
            Origin::DotEnv => write!(f, "{} (./{DOTENV})", self.name)?,
        }
        if let Some(path) = &self.file {
            write!(f, " file {}", path.display())?;
        }
        Ok(())
    }
}

/// A raw value and where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    /// The value as given (trimmed of surrounding blanks).
    pub text: String,
    /// Where it came from.
    pub source: Source,
}

impl Found {
    /// A [`Error::Config`] naming the source: `"{source}: '{value}' {problem}"`.
    pub fn invalid(&self, problem: impl fmt::Display) -> Error {
        Error::Config(format!("{}: '{}' {problem}", self.source, self.text))
    }
}

/// The three layers of settings, highest first.
///
/// `Debug` shows which names each layer sets, never a value: the layers hold
/// the raw secrets until [`Layers::secret`] wraps them.
#[derive(Clone, Default)]
pub struct Layers {
    flags: HashMap<&'static str, String>,
    env: HashMap<String, String>,
    dotenv: HashMap<String, String>,
}

impl fmt::Debug for Layers {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names = |m: &HashMap<String, String>| {
            let mut v: Vec<String> = m.keys().cloned().collect();
            v.sort();
            v
        };
        let mut flags: Vec<&str> = self.flags.keys().copied().collect();
        flags.sort_unstable();
        f.debug_struct("Layers")
            .field("flags", &flags)
            .field("env", &names(&self.env))
            .field("dotenv", &names(&self.dotenv))
            .finish()
    }
}

impl Layers {
    /// Builds the layers from flag values (keyed by long flag, `None` when not
    /// given), environment pairs and `.env` pairs.
    ///
    /// # Errors
    /// [`Error::Config`] for a flag given with an empty value.
    pub fn new<F, E, D>(flags: F, env: E, dotenv: D) -> Result<Layers>
    where
        F: IntoIterator<Item = (&'static str, Option<String>)>,
        E: IntoIterator<Item = (String, String)>,
        D: IntoIterator<Item = (String, String)>,
    {
        let mut given = HashMap::new();
        for (flag, value) in flags {
            let Some(value) = value else { continue };
            if value.trim().is_empty() {
                return Err(Error::Config(format!("{flag}: the value is empty")));
            }
            given.insert(flag, value);
        }
        let nonempty = |pairs: E| -> HashMap<String, String> {
            pairs
                .into_iter()
                .filter(|(_, v)| !v.trim().is_empty())
                .collect()
        };
        let env = nonempty(env);
        let dotenv = dotenv
            .into_iter()
            .filter(|(_, v)| !v.trim().is_empty())
            .collect();
        Ok(Layers {
            flags: given,
            env,
            dotenv,
        })
    }

    /// The layers of a process: `flags`, the process environment (names or
    /// values that are not UTF-8 are ignored), and `.env` in `dir`.
    ///
    /// # Errors
    /// Those of [`Layers::new`] and [`read_dotenv`].
    pub fn from_process<F>(flags: F, dir: &Path) -> Result<Layers>
    where
        F: IntoIterator<Item = (&'static str, Option<String>)>,
    {
        let env = std::env::vars_os()
            .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)));
        let dotenv = read_dotenv(&dir.join(DOTENV))?;
        Layers::new(flags, env, dotenv)
    }

    /// The value of `setting` from the highest layer that has it.
    pub fn get(&self, setting: &Setting) -> Option<Found> {
        self.lookup(setting.flag, setting.env)
    }

    fn lookup(&self, flag: &'static str, env: Option<&'static str>) -> Option<Found> {
        let found = |origin, name: &'static str, text: &String| Found {
            text: text.trim().to_owned(),
            source: Source {
                origin,
                name,
                file: None,
            },
        };
        if let Some(text) = self.flags.get(flag) {
            return Some(found(Origin::Flag, flag, text));
        }
        let env = env?;
        if let Some(text) = self.env.get(env) {
            return Some(found(Origin::Environment, env, text));
        }
        self.dotenv
            .get(env)
            .map(|text| found(Origin::DotEnv, env, text))
    }

    /// The highest layer that names a flag or its variable.
    fn layer_of(&self, flag: &'static str, env: Option<&'static str>) -> Option<Origin> {
        if self.flags.contains_key(flag) {
            return Some(Origin::Flag);
        }
        let env = env?;
        if self.env.contains_key(env) {
            Some(Origin::Environment)
        } else if self.dotenv.contains_key(env) {
            Some(Origin::DotEnv)
        } else {
            None
        }
    }

    /// A secret: its value, or the content of the file its `_FILE` form names.
    /// The value itself is never put in a message.
    ///
    /// # Errors
    /// [`Error::Config`] when one layer gives both the value and its file, or
    /// the file is missing, unreadable, not a regular file or empty.
    pub fn secret(&self, setting: &Setting) -> Result<Option<(SecretString, Source)>> {
        let Some(file) = setting.file else {
            return Ok(self
                .get(setting)
                .map(|f| (SecretString::from(f.text), f.source)));
        };
        let direct = self.layer_of(setting.flag, setting.env);
        let via_file = self.layer_of(file.flag, Some(file.env));
        match (direct, via_file) {
            (None, None) => Ok(None),
            (Some(a), Some(b)) if a == b => Err(Error::Config(format!(
                "{} and {} are both set in the {}; give one",
                layer_name(setting.flag, setting.env, a),
                layer_name(file.flag, Some(file.env), b),
                origin_name(a)
            ))),
            (Some(a), b) if b.is_none_or(|b| rank(a) < rank(b)) => Ok(self
                .get(setting)
                .map(|f| (SecretString::from(f.text), f.source))),
            _ => match self.lookup(file.flag, Some(file.env)) {
                Some(found) => secret_file::read(found).map(Some),
                None => Ok(None),
            },
        }
    }
}

fn rank(origin: Origin) -> u8 {
    match origin {
        Origin::Flag => 0,
        Origin::Environment => 1,
        Origin::DotEnv => 2,
    }
}

fn origin_name(origin: Origin) -> &'static str {
    match origin {
        Origin::Flag => "command line",
        Origin::Environment => "environment",
        Origin::DotEnv => "./.env file",
    }
}

fn layer_name(flag: &'static str, env: Option<&'static str>, origin: Origin) -> &'static str {
    match origin {
        Origin::Flag => flag,
        _ => env.unwrap_or(flag),
    }
}

/// Collects every missing required setting, to report them all at once.
#[derive(Debug, Default)]
pub struct Missing(Vec<String>);

impl Missing {
    /// Returns `value`, noting `setting` as missing when it is `None`.
    pub fn require<T>(&mut self, value: Option<T>, setting: &Setting) -> Option<T> {
        if value.is_none() {
            self.0.push(setting.how_to_set());
        }
        value
    }

    /// Notes a missing setting described in words.
    pub fn note(&mut self, what: impl Into<String>) {
        self.0.push(what.into());
    }

    /// `Ok` when nothing is missing.
    ///
    /// # Errors
    /// [`Error::Config`] listing every missing setting.
    pub fn check(self) -> Result<()> {
        match self.0.len() {
            0 => Ok(()),
            1 => Err(Error::Config(format!("missing setting: {}", self.0[0]))),
            _ => Err(Error::Config(format!(
                "missing settings: {}",
                self.0.join("; ")
            ))),
        }
    }
}

#[cfg(test)]
mod tests;
