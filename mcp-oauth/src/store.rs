//! Token stores: where access tokens, refresh tokens and client registrations live between runs.
//!
//! - [`TokenStore`] is the object-safe trait the authorization flow talks to. Tokens are kept per
//!   MCP server ([`StoreKey`]); client registrations per authorization server (its issuer).
//! - [`MemoryStore`] keeps everything in this process (tests, and `--no-store` style use).
//! - [`FileStore`] keeps one JSON file per server under a directory, with mode 0600, atomic writes and
//!   a cross-process lock, so two `mcpcord` processes never refresh the same token at once. It
//!   lives in [`default_dir`]; [`FileStore::import_from`] copies the logins the CLI kept in
//!   [`legacy_default_dir`] under its old name, and nothing else from there ([`ImportReport`]).
//!
//! Each of `load`, `save` and `clear` is atomic on its own. A read-modify-write sequence (load,
//! refresh at the token endpoint, save) holds [`TokenStore::lock`] for the key from start to end; the
//! store operations themselves never take that lock, so calling them while holding it cannot deadlock.
//!
//! Token values never appear in `Debug` output or in errors.

mod dirs;
mod error;
mod file;
mod import;
mod key;
mod lock;
mod memory;
mod record;

use futures::future::BoxFuture;

pub use dirs::{default_dir, legacy_default_dir};
pub use error::StoreError;
pub use file::FileStore;
pub use import::{ImportReport, SkipReason, SkippedFile};
pub use key::StoreKey;
pub use lock::StoreLock;
pub use memory::MemoryStore;
pub use record::{StoredClient, StoredTokens};

/// Persistence for OAuth tokens (per MCP server) and client registrations (per authorization server).
///
/// Object-safe: the flow holds an `Arc<dyn TokenStore>`. Every method returns a boxed future so that
/// implementations can do their I/O off the async runtime.
pub trait TokenStore: Send + Sync + std::fmt::Debug {
    /// The tokens stored for `key`, or `None` when there are none.
    ///
    /// A stored entry that cannot be read is an error (for example [`StoreError::Corrupt`]), never
    /// `None`: the caller decides whether to log in again, and nothing is discarded behind its back.
    fn load<'a>(
        &'a self,
        key: &'a StoreKey,
    ) -> BoxFuture<'a, Result<Option<StoredTokens>, StoreError>>;

    /// Stores `tokens` for `key`, replacing what was there as one atomic step.
    fn save<'a>(
        &'a self,
        key: &'a StoreKey,
        tokens: &'a StoredTokens,
    ) -> BoxFuture<'a, Result<(), StoreError>>;

    /// Forgets the tokens for `key` (logout) and returns whether there was an entry. Clearing an
    /// absent entry succeeds with `false`.
    ///
    /// Whatever is stored is removed without being read or checked: a corrupt entry, or one
    /// refused for its permissions, is exactly what a logout must be able to get rid of.
    fn clear<'a>(&'a self, key: &'a StoreKey) -> BoxFuture<'a, Result<bool, StoreError>>;

    /// The client registration stored for the authorization server `issuer`, or `None`.
    fn load_client<'a>(
        &'a self,
        issuer: &'a str,
    ) -> BoxFuture<'a, Result<Option<StoredClient>, StoreError>>;

    /// Stores `client` under its own [`StoredClient::issuer`], replacing any earlier registration.
    fn save_client<'a>(&'a self, client: &'a StoredClient)
    -> BoxFuture<'a, Result<(), StoreError>>;

    /// Forgets the client registration for `issuer`. Clearing an absent entry succeeds.
    fn clear_client<'a>(&'a self, issuer: &'a str) -> BoxFuture<'a, Result<(), StoreError>>;

    /// Waits for exclusive use of `key` and returns a guard that releases it on drop.
    ///
    /// Hold it across load, token request and save so that only one refresh of a token runs at a
    /// time. For a [`FileStore`] the exclusion reaches other processes; for a [`MemoryStore`] it covers
    /// this process. Dropping the future before it completes is safe: a lock acquired late is released
    /// at once.
    fn lock<'a>(&'a self, key: &'a StoreKey) -> BoxFuture<'a, Result<StoreLock, StoreError>>;
}

#[cfg(test)]
mod tests;
