//! The one error type of the token stores.

use std::io;
use std::path::{Path, PathBuf};

/// Why a token store operation failed. Messages lead with the cause and end with what to do; they
/// never contain token values.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// A file-system operation failed.
    #[error(
        "token store: cannot {operation} {}: {source}; check that the directory exists and belongs to you, or set MCPCORD_HOME to another directory",
        path.display()
    )]
    Io {
        /// What the store was doing, e.g. `"read"` or `"rename into place"`.
        operation: &'static str,
        /// The file or directory concerned.
        path: PathBuf,
        /// The operating system's error.
        #[source]
        source: io::Error,
    },

    /// A stored file exists but cannot be understood. It is left as it is.
    #[error(
        "token store: {} is corrupt ({reason}); it was left untouched: move it aside or delete it (`mcpcord logout SERVER` does), then log in again",
        path.display()
    )]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },

    /// A file or directory is open to other users. It may hold tokens, so it is refused.
    #[error(
        "token store: {} has mode {mode:04o}, open to other users, and may hold tokens, so it is refused; check that nobody else changed it, then run `chmod go-rwx {}`",
        path.display(),
        path.display()
    )]
    InsecurePermissions {
        /// The file or directory.
        path: PathBuf,
        /// Its permission bits.
        mode: u32,
    },

    /// A file or directory of the store belongs to another user, who could read or replace
    /// what it holds, so it is refused.
    #[error(
        "token store: {} belongs to user {owner}, not to you (user {user}), and may hold or lead to tokens, so it is refused; check who changed it, then remove it or run `chown {user} {}`",
        path.display(),
        path.display()
    )]
    ForeignOwner {
        /// The file or directory.
        path: PathBuf,
        /// The uid that owns it.
        owner: u32,
        /// The uid this process runs as.
        user: u32,
    },

    /// The cross-process lock could not be taken.
    #[error(
        "token store: cannot lock {}: {source}; check that the directory is on a local file system that supports flock",
        path.display()
    )]
    Lock {
        /// The lock file.
        path: PathBuf,
        /// The operating system's error.
        #[source]
        source: io::Error,
    },

    /// No directory for the store could be chosen: none of `MCPCORD_HOME`, `XDG_CONFIG_HOME` and `HOME`
    /// is set.
    #[error("token store: no place for tokens: set MCPCORD_HOME to a private directory (or HOME)")]
    NoDefaultDir,
}

impl StoreError {
    /// The file or directory the error is about, if any.
    pub fn path(&self) -> Option<&Path> {
        match self {
            Self::Io { path, .. }
            | Self::Corrupt { path, .. }
            | Self::InsecurePermissions { path, .. }
            | Self::ForeignOwner { path, .. }
            | Self::Lock { path, .. } => Some(path),
            Self::NoDefaultDir => None,
        }
    }

    /// Whether a stored file exists but could not be understood.
    pub fn is_corrupt(&self) -> bool {
        matches!(self, Self::Corrupt { .. })
    }

    /// Whether a file or directory was refused for being open to other users: its mode, or its
    /// owner ([`is_foreign_owner`](Self::is_foreign_owner)).
    pub fn is_insecure(&self) -> bool {
        matches!(
            self,
            Self::InsecurePermissions { .. } | Self::ForeignOwner { .. }
        )
    }

    /// Whether a file or directory was refused for belonging to another user.
    pub fn is_foreign_owner(&self) -> bool {
        matches!(self, Self::ForeignOwner { .. })
    }

    pub(super) fn io(operation: &'static str, path: &Path, source: io::Error) -> Self {
        Self::Io {
            operation,
            path: path.to_path_buf(),
            source,
        }
    }

    pub(super) fn corrupt(path: &Path, reason: impl Into<String>) -> Self {
        Self::Corrupt {
            path: path.to_path_buf(),
            reason: reason.into(),
        }
    }
}
