//! The state of one server, shared by all its [`OAuthAuthorizer`]s behind one async lock (the
//! single flight), and the authorizer's own API: the tokens it holds, `login`'s forgetting, logout.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{SystemTime, UNIX_EPOCH};

use mcp_transport::auth::Credential;

use super::runtime::Flows;
use super::{AuthError, OAuthRuntime, OAuthSettings};
use crate::discovery::{ResourceMetadata, ServerMetadata, SsrfGuard};
use crate::dpop::{DpopKey, DpopProver, NonceSlot};
use crate::flow::{ClientCredentials, FlowError};
use crate::store::{StoreError, StoreKey, StoredTokens};

/// The state shared by every authorizer of one server.
pub(super) struct ServerAuth {
    pub(super) key: StoreKey,
    pub(super) settings: OAuthSettings,
    pub(super) state: tokio::sync::Mutex<AuthState>,
    /// The last token a request succeeded with (not a 401/403), to tell a token the server has
    /// never accepted, which must not be refreshed or re-authorized in a loop.
    pub(super) accepted: Mutex<Option<String>>,
    /// The credential last known, for requests made while a refresh or login holds `state`:
    /// they go out with it (or with none) rather than wait minutes for a person in a browser.
    pub(super) snapshot: Mutex<Option<Credential>>,
    /// The latest DPoP nonce the authorization server supplied, for the next token request.
    pub(super) as_nonce: Arc<NonceSlot>,
    /// The latest DPoP nonce the MCP server supplied, for the next request to it.
    pub(super) rs_nonce: Arc<NonceSlot>,
}

/// What an authorization server context holds once discovered.
#[derive(Clone)]
pub(super) struct Context {
    /// The SSRF guard for this server (resolved once: it looks the server's address up).
    pub(super) guard: SsrfGuard,
    /// The `resource` to send: the protected-resource metadata's (canonical) identifier, else the
    /// server's canonical URL.
    pub(super) resource: String,
    pub(super) metadata: ServerMetadata,
    pub(super) resource_metadata: Option<ResourceMetadata>,
    pub(super) credentials: Option<ClientCredentials>,
}

#[derive(Default)]
pub(super) struct AuthState {
    pub(super) loaded: bool,
    pub(super) force_login: bool,
    pub(super) tokens: Option<StoredTokens>,
    /// The access token from the last new authorization (a 401 on it before any success is final).
    pub(super) authorized: Option<String>,
    /// The access token from the last refresh (a 401 on it before any success goes to a new
    /// authorization rather than another refresh).
    pub(super) refreshed: Option<String>,
    /// Boxed: most servers never need one, and it is large (two metadata documents).
    pub(super) context: Option<Box<Context>>,
    /// Authorizations per requested scope set, for the step-up limit.
    pub(super) step_ups: HashMap<Vec<String>, u32>,
    /// The scopes asked for in the last authorization.
    pub(super) requested_scopes: Vec<String>,
}

/// Supplies OAuth tokens to the HTTP transport for one server. Cheap to clone; clones share their
/// flows, which [`cancel_flows`](Self::cancel_flows) ends.
#[derive(Clone)]
pub struct OAuthAuthorizer {
    pub(super) runtime: Arc<OAuthRuntime>,
    pub(super) shared: Arc<ServerAuth>,
    /// The browser flows started through this authorizer (and its clones).
    pub(super) flows: Arc<Flows>,
}

impl std::fmt::Debug for OAuthAuthorizer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OAuthAuthorizer")
            .field("server", &self.shared.settings.server_name)
            .field("url", &self.shared.settings.server_url.as_str())
            .finish_non_exhaustive()
    }
}

pub(super) fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_secs())
}

impl OAuthAuthorizer {
    pub(super) fn name(&self) -> &str {
        &self.shared.settings.server_name
    }

    pub(super) fn settings(&self) -> &OAuthSettings {
        &self.shared.settings
    }

    /// Ends the browser flows started through this authorizer (its listeners close at once,
    /// synchronously) and refuses new ones: for when the connection it serves is closed or its
    /// connect cancelled. Flows of other authorizers for the same server are not affected.
    pub fn cancel_flows(&self) {
        self.flows.close_all();
    }

    pub(super) fn was_accepted(&self, token: &str) -> bool {
        self.shared
            .accepted
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .as_deref()
            == Some(token)
    }

    /// The tokens currently held for this server (loading them from the store the first time).
    ///
    /// # Errors
    /// [`AuthError::Store`] when the store cannot be read.
    pub async fn tokens(&self) -> Result<Option<StoredTokens>, AuthError> {
        let mut state = self.shared.state.lock().await;
        self.ensure_loaded(&mut state).await?;
        Ok(state.tokens.clone())
    }

    /// Stops using the tokens held for this server (without deleting them from the store), so that
    /// the next challenge starts a new authorization: `mcpcord login`. Stored tokens are replaced
    /// only once the new authorization succeeds.
    pub async fn forget_held(&self) {
        let mut state = self.shared.state.lock().await;
        state.tokens = None;
        state.loaded = true;
        state.force_login = true;
        state.authorized = None;
        state.refreshed = None;
        state.context = None;
        self.publish(&state);
    }

    /// Forgets this server's tokens, here and in the store (logout). Returns whether any existed.
    ///
    /// The stored entry is removed without being read: a corrupt file, a symbolic link (the link
    /// itself, never its target) or a file refused for its permissions goes too, as the store's
    /// own errors tell the user to do with `mcpcord logout`.
    ///
    /// # Errors
    /// [`AuthError::Store`].
    pub async fn logout(&self) -> Result<bool, AuthError> {
        let mut state = self.shared.state.lock().await;
        // The lock keeps a refresh in another process from writing the tokens back; but a store
        // that cannot even be locked (its directory refused, say) must still be cleanable.
        let _lock = match self.runtime.store.lock(&self.shared.key).await {
            Ok(lock) => Some(lock),
            Err(error) => {
                tracing::warn!(server = %self.name(), %error, "logout without the store lock");
                None
            }
        };
        let removed = self
            .runtime
            .store
            .clear(&self.shared.key)
            .await
            .map_err(|source| self.store_error(source))?;
        let existed = removed || state.tokens.is_some();
        state.tokens = None;
        state.loaded = true;
        state.authorized = None;
        state.refreshed = None;
        self.publish(&state);
        Ok(existed)
    }

    pub(super) fn store_error(&self, source: StoreError) -> AuthError {
        AuthError::Store {
            server: self.name().to_owned(),
            source,
        }
    }

    pub(super) async fn ensure_loaded(&self, state: &mut AuthState) -> Result<(), AuthError> {
        if state.loaded {
            return Ok(());
        }
        if !state.force_login {
            state.tokens = self
                .runtime
                .store
                .load(&self.shared.key)
                .await
                .map_err(|source| self.store_error(source))?;
        }
        state.loaded = true;
        Ok(())
    }

    /// Drops tokens that cannot be refreshed, here and in the store, so that nobody tries them
    /// again. The store is cleared only if it still holds the refused refresh token (`refused`;
    /// `None`: whatever it holds): another process may have stored good tokens meanwhile.
    pub(super) async fn discard_tokens(
        &self,
        state: &mut AuthState,
        refused: Option<&str>,
    ) -> Result<(), AuthError> {
        state.tokens = None;
        let store = &self.runtime.store;
        let _lock = store
            .lock(&self.shared.key)
            .await
            .map_err(|source| self.store_error(source))?;
        let stored = store
            .load(&self.shared.key)
            .await
            .map_err(|source| self.store_error(source))?;
        let unchanged = match (&stored, refused) {
            (None, _) => false,
            (Some(_), None) => true,
            (Some(stored), Some(refused)) => stored.refresh_token.as_deref() == Some(refused),
        };
        if unchanged {
            store
                .clear(&self.shared.key)
                .await
                .map_err(|source| self.store_error(source))?;
        }
        Ok(())
    }

    /// Records the current credential for requests that cannot wait for `state`, and returns it
    /// (built once: this runs for every request).
    pub(super) fn publish(&self, state: &AuthState) -> Option<Credential> {
        let credential = state
            .tokens
            .as_ref()
            .map(|tokens| self.credential_of(tokens));
        *self
            .shared
            .snapshot
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = credential.clone();
        credential
    }

    /// How `tokens` are presented to the MCP server: DPoP-bound with a proof signer (sharing this
    /// server's nonce), or as a bearer token.
    pub(super) fn credential_of(&self, tokens: &StoredTokens) -> Credential {
        match &tokens.dpop_key {
            Some(key) if tokens.token_type.eq_ignore_ascii_case("dpop") => Credential::dpop(
                tokens.access_token.clone(),
                Arc::new(DpopProver::sharing(
                    key.clone(),
                    Arc::clone(&self.shared.rs_nonce),
                )),
            ),
            _ => Credential::bearer(tokens.access_token.clone()),
        }
    }

    /// The prover for a token request with `key`, carrying the authorization server's latest
    /// nonce.
    pub(super) fn token_prover(&self, key: DpopKey) -> DpopProver {
        DpopProver::sharing(key, Arc::clone(&self.shared.as_nonce))
    }

    /// A prover with a new key when new tokens from `metadata`'s server are to be DPoP-bound
    /// (the server offers ES256 and the settings allow it); `None` for bearer tokens.
    pub(super) fn new_token_prover(
        &self,
        metadata: &ServerMetadata,
    ) -> Result<Option<DpopProver>, AuthError> {
        if !(self.settings().dpop && metadata.supports_dpop()) {
            return Ok(None);
        }
        let key = DpopKey::generate().map_err(|error| AuthError::Flow {
            server: self.name().to_owned(),
            source: FlowError::Dpop(error),
        })?;
        Ok(Some(self.token_prover(key)))
    }
}
