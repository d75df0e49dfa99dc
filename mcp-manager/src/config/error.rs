//! Why a configuration could not be found, read or accepted.

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

/// A configuration file that could not be found, read or accepted.
///
/// An invalid file lists **every** problem found, each with its line and column and the key it is
/// about, one per line, as compilers and editors expect:
///
/// ```text
/// mcpcord.toml:4:1: servers.everything: unknown key "comand" (did you mean "command"?)
/// mcpcord.toml:7:7: servers.remote.url: "ftp://x" is not an http:// or https:// URL
/// ```
///
/// Messages name keys and environment variables, never the value of a secret.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// A file named explicitly, or by `$MCPCORD_CONFIG`, does not exist.
    #[error(
        "config file {} {}does not exist",
        path.display(),
        named_by_note(*named_by)
    )]
    NotFound {
        /// The path as it was given.
        path: PathBuf,
        /// Who named it.
        named_by: NamedBy,
    },
    /// The file exists but could not be read.
    #[error("cannot read config file {}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// What the operating system said.
        source: io::Error,
    },
    /// The file is larger than [`MAX_CONFIG_BYTES`](super::MAX_CONFIG_BYTES) (or, for something
    /// that is not a regular file, such as `/dev/zero`, gave more than that).
    #[error(
        "config file {} is larger than the limit of {} MiB for a configuration file; is it the \
         right file?",
        path.display(),
        limit / (1024 * 1024)
    )]
    TooLarge {
        /// The file.
        path: PathBuf,
        /// The limit, in bytes.
        limit: u64,
    },
    /// The file's name does not say which format it is in.
    #[error(
        "cannot tell the format of config file {}: name it *.toml (mcpcord's own format) or *.json \
         (Claude Desktop, Cursor or VS Code form)",
        path.display()
    )]
    UnknownFormat {
        /// The file.
        path: PathBuf,
    },
    /// The file was read but is not a valid configuration: a syntax error, or one or more
    /// problems with what it says.
    #[error("{}", Listing { path, problems })]
    Invalid {
        /// The file (or the origin given for a string).
        path: PathBuf,
        /// Every problem found, in the order they appear in the file.
        problems: Vec<Problem>,
    },
}

impl ConfigError {
    /// The configuration file this error is about.
    pub fn path(&self) -> &Path {
        match self {
            ConfigError::NotFound { path, .. }
            | ConfigError::Read { path, .. }
            | ConfigError::TooLarge { path, .. }
            | ConfigError::UnknownFormat { path }
            | ConfigError::Invalid { path, .. } => path,
        }
    }

    /// Every problem in an invalid file, in file order; empty for the other kinds of error.
    pub fn problems(&self) -> &[Problem] {
        match self {
            ConfigError::Invalid { problems, .. } => problems,
            _ => &[],
        }
    }

    /// Whether the file does not exist.
    pub fn is_not_found(&self) -> bool {
        matches!(self, ConfigError::NotFound { .. })
    }

    /// Whether the file is larger than a configuration file may be.
    pub fn is_too_large(&self) -> bool {
        matches!(self, ConfigError::TooLarge { .. })
    }
}

/// Who named a configuration file that turned out not to exist.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum NamedBy {
    /// The caller (for `mcpcord`, `--config`).
    Caller,
    /// The `MCPCORD_CONFIG` environment variable.
    Environment,
}

/// Written between the path and "does not exist": nothing when the caller named the file.
fn named_by_note(named_by: NamedBy) -> &'static str {
    match named_by {
        NamedBy::Caller => "",
        NamedBy::Environment => "(named by $MCPCORD_CONFIG) ",
    }
}

/// One thing wrong in a configuration file, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    line: usize,
    column: usize,
    key: String,
    message: String,
}

impl Problem {
    pub(super) fn new(line: usize, column: usize, key: String, message: String) -> Self {
        Self {
            line,
            column,
            key,
            message,
        }
    }

    /// The 1-based line.
    pub fn line(&self) -> usize {
        self.line
    }

    /// The 1-based column, counted in characters.
    pub fn column(&self) -> usize {
        self.column
    }

    /// The dotted path of the key it is about (`servers.remote.url`); empty for a syntax error or
    /// a problem with the file as a whole.
    pub fn key(&self) -> &str {
        &self.key
    }

    /// What is wrong, and where it helps, what to write instead.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for Problem {
    /// `LINE:COLUMN: KEY: MESSAGE`, the form that follows the file name in [`ConfigError`].
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: ", self.line, self.column)?;
        if !self.key.is_empty() {
            write!(f, "{}: ", self.key)?;
        }
        f.write_str(&self.message)
    }
}

/// The problems of one file, one `PATH:LINE:COLUMN: KEY: MESSAGE` per line.
struct Listing<'e> {
    path: &'e Path,
    problems: &'e [Problem],
}

impl fmt::Display for Listing<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, problem) in self.problems.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{}:{problem}", self.path.display())?;
        }
        Ok(())
    }
}
