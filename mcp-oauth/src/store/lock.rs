//! The guard of a store key's exclusive use.

use std::fmt;
use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};

use tokio::sync::OwnedMutexGuard;

/// Exclusive use of one store key, released when dropped.
///
/// From [`TokenStore::lock`](crate::TokenStore::lock),
/// [`FileStore::try_lock`](crate::FileStore::try_lock) or
/// [`MemoryStore::try_lock`](crate::MemoryStore::try_lock). Dropping it is synchronous and never
/// blocks: for a file store it closes the lock file, which releases the `flock`.
#[must_use = "the key is unlocked as soon as the guard is dropped"]
pub struct StoreLock {
    held: Held,
}

enum Held {
    /// The open lock file; closing it releases the `flock`.
    File { _fd: OwnedFd, path: PathBuf },
    /// The in-process mutex of a memory store's key.
    Memory { _guard: OwnedMutexGuard<()> },
}

impl StoreLock {
    pub(super) fn file(fd: OwnedFd, path: PathBuf) -> Self {
        Self {
            held: Held::File { _fd: fd, path },
        }
    }

    pub(super) fn memory(guard: OwnedMutexGuard<()>) -> Self {
        Self {
            held: Held::Memory { _guard: guard },
        }
    }

    /// The lock file held, for a file store's lock.
    pub fn path(&self) -> Option<&Path> {
        match &self.held {
            Held::File { path, .. } => Some(path),
            Held::Memory { .. } => None,
        }
    }
}

impl fmt::Debug for StoreLock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.held {
            Held::File { path, .. } => f.debug_struct("StoreLock").field("file", path).finish(),
            Held::Memory { .. } => f.debug_struct("StoreLock").field("memory", &true).finish(),
        }
    }
}
