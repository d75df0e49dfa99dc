//! The in-process store.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use futures::FutureExt;
use futures::future::BoxFuture;

use super::{StoreError, StoreKey, StoreLock, StoredClient, StoredTokens, TokenStore};

/// Keeps tokens and client registrations in this process only; they are gone when it ends.
///
/// For tests, and for runs that must not write credentials to disk. Its [`lock`](TokenStore::lock)
/// excludes other tasks of this process that use the same store.
#[derive(Default)]
pub struct MemoryStore {
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    tokens: HashMap<StoreKey, StoredTokens>,
    clients: HashMap<String, StoredClient>,
    locks: HashMap<StoreKey, Arc<tokio::sync::Mutex<()>>>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// Takes exclusive use of `key` if nobody holds it, without waiting; `None` when it is held.
    pub fn try_lock(&self, key: &StoreKey) -> Option<StoreLock> {
        self.key_mutex(key)
            .try_lock_owned()
            .ok()
            .map(StoreLock::memory)
    }

    // A panic while holding the map cannot leave it half-updated (each operation is one insert or
    // remove), so a poisoned mutex is still safe to use.
    fn inner(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn key_mutex(&self, key: &StoreKey) -> Arc<tokio::sync::Mutex<()>> {
        Arc::clone(self.inner().locks.entry(key.clone()).or_default())
    }
}

impl fmt::Debug for MemoryStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let inner = self.inner();
        f.debug_struct("MemoryStore")
            .field("servers", &inner.tokens.len())
            .field("clients", &inner.clients.len())
            .finish()
    }
}

impl TokenStore for MemoryStore {
    fn load<'a>(
        &'a self,
        key: &'a StoreKey,
    ) -> BoxFuture<'a, Result<Option<StoredTokens>, StoreError>> {
        async move { Ok(self.inner().tokens.get(key).cloned()) }.boxed()
    }

    fn save<'a>(
        &'a self,
        key: &'a StoreKey,
        tokens: &'a StoredTokens,
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        async move {
            self.inner().tokens.insert(key.clone(), tokens.clone());
            Ok(())
        }
        .boxed()
    }

    fn clear<'a>(&'a self, key: &'a StoreKey) -> BoxFuture<'a, Result<bool, StoreError>> {
        async move { Ok(self.inner().tokens.remove(key).is_some()) }.boxed()
    }

    fn load_client<'a>(
        &'a self,
        issuer: &'a str,
    ) -> BoxFuture<'a, Result<Option<StoredClient>, StoreError>> {
        async move { Ok(self.inner().clients.get(issuer).cloned()) }.boxed()
    }

    fn save_client<'a>(
        &'a self,
        client: &'a StoredClient,
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        async move {
            self.inner()
                .clients
                .insert(client.issuer.clone(), client.clone());
            Ok(())
        }
        .boxed()
    }

    fn clear_client<'a>(&'a self, issuer: &'a str) -> BoxFuture<'a, Result<(), StoreError>> {
        async move {
            self.inner().clients.remove(issuer);
            Ok(())
        }
        .boxed()
    }

    fn lock<'a>(&'a self, key: &'a StoreKey) -> BoxFuture<'a, Result<StoreLock, StoreError>> {
        async move {
            let mutex = self.key_mutex(key);
            Ok(StoreLock::memory(mutex.lock_owned().await))
        }
        .boxed()
    }
}
