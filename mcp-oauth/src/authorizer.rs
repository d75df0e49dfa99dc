//! The [`Authorizer`] that plugs MCP authorization into the HTTP transport: stored tokens, proactive
//! and on-401 refresh, the browser flow on a 401, step-up on a 403, the client credentials grant, and
//! single flight for all of them.
//!
//! # How it fits together
//! An [`OAuthRuntime`] is shared by every server of one program (the manager holds one). For each
//! server it hands out [`OAuthAuthorizer`]s; all authorizers for the same server (same [`StoreKey`])
//! share one state behind one async lock, which is the single-flight mechanism: while one caller
//! refreshes or runs a browser flow, concurrent callers wait on the lock and then find the new token
//! (their rejected token is no longer the current one), so twenty connections produce one
//! authorization. Different servers have different locks and run fully in parallel, each flow with
//! its own loopback listener and `state`. Across processes, the [`TokenStore`]'s lock serialises
//! refreshes, and tokens are re-read after taking it.
//!
//! Cancellation is cleanup: a flow is a future owning its [`CallbackServer`]; dropping it (a
//! timeout, a cancelled connect) closes the listener at once. [`OAuthRuntime::shutdown`] ends every
//! flow in flight the same way and refuses new ones.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError, Weak};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use futures::future::BoxFuture;
use mcp_transport::TransportError;
use mcp_transport::auth::{AuthChallenge, Authorizer, ChallengeOutcome};
use mcp_transport::http::HttpClient;
use mcp_transport::www_authenticate::Challenge;
use tokio::sync::watch;
use url::Url;

use crate::browser::{Browser, BrowserError};
use crate::callback::{
    Authorization, CallbackCloser, CallbackError, CallbackOptions, CallbackServer,
};
use crate::discovery::{
    DiscoveryError, ResourceMetadata, ServerMetadata, SsrfGuard, canonical_resource,
    discover_legacy, discover_resource, discover_server,
};
use crate::enterprise::EnterpriseIdentity;
use crate::flow::{self, ClientCredentials, FlowError};
use crate::registration::{self, ClientIdentity, RegistrationError};
use crate::store::{StoreError, StoreKey, StoredTokens, TokenStore};

/// How long before expiry a token is refreshed proactively.
const REFRESH_SKEW: Duration = Duration::from_secs(60);

/// The shortest lifetime assumed when scheduling a proactive refresh. A server that says
/// `expires_in: 0` (or 1) would otherwise have its token refreshed before every request, a
/// dozen token requests for one tool call; a token that really is dead gets a 401, which
/// refreshes it once.
const MIN_REFRESH_LIFETIME: Duration = Duration::from_secs(30);

/// At most this many authorizations for one escalation of scope, the first included (step-up).
pub const MAX_AUTHORIZATIONS: u32 = 3;

/// How long a browser flow waits for the callback by default.
pub const DEFAULT_LOGIN_TIMEOUT: Duration = Duration::from_secs(300);

/// Why no token could be had.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AuthError {
    /// The server needs a login and no interactive flow may start here (no browser mode chosen and
    /// stdin is not a terminal).
    #[error(
        "server {server} needs a login: run `mcpcord login {server}` (or choose a browser with --browser / MCPCORD_BROWSER)"
    )]
    LoginRequired {
        /// The server's name.
        server: String,
    },
    /// Finding the authorization server failed.
    #[error("authorization for {server}: {source}")]
    Discovery {
        /// The server's name.
        server: String,
        /// Why.
        #[source]
        source: DiscoveryError,
    },
    /// The protected-resource metadata names no authorization server.
    #[error(
        "authorization for {server}: the protected-resource metadata lists no authorization server"
    )]
    NoAuthorizationServer {
        /// The server's name.
        server: String,
    },
    /// No client identity could be established at the authorization server.
    #[error("authorization for {server}: {source}")]
    Registration {
        /// The server's name.
        server: String,
        /// Why.
        #[source]
        source: RegistrationError,
    },
    /// A step of the flow failed (PKCE refused, `iss` mismatch, token endpoint refusal).
    #[error("authorization for {server}: {source}")]
    Flow {
        /// The server's name.
        server: String,
        /// Why.
        #[source]
        source: FlowError,
    },
    /// The loopback callback failed (port in use, timeout, access denied).
    #[error("authorization for {server}: {source}")]
    Callback {
        /// The server's name.
        server: String,
        /// Why.
        #[source]
        source: CallbackError,
    },
    /// The authorization URL could not be presented.
    #[error("authorization for {server}: {source}")]
    Browser {
        /// The server's name.
        server: String,
        /// Why.
        #[source]
        source: BrowserError,
    },
    /// The token store failed (a corrupt file names itself).
    #[error("authorization for {server}: {source}")]
    Store {
        /// The server's name.
        server: String,
        /// Why.
        #[source]
        source: StoreError,
    },
    /// The server keeps asking for more scope than the authorizations granted.
    #[error(
        "server {server} still requires scope {scopes:?} after {attempts} authorizations; giving up"
    )]
    StepUpExhausted {
        /// The server's name.
        server: String,
        /// The scopes last requested.
        scopes: Vec<String>,
        /// Authorizations made for them.
        attempts: u32,
    },
    /// The server rejected a token its authorization server had just issued.
    #[error(
        "server {server} rejected the token just issued by its authorization server (HTTP 401 right after authorization); not retrying"
    )]
    RejectedAfterLogin {
        /// The server's name.
        server: String,
    },
    /// The server's URL cannot be used as an OAuth resource.
    #[error("server {server}: invalid URL {url:?}")]
    InvalidServerUrl {
        /// The server's name.
        server: String,
        /// The URL.
        url: String,
    },
    /// The connection the flow was for was closed or its connect cancelled; the listener is closed.
    #[error("authorization for {server} was cancelled: the connection was closed")]
    Cancelled {
        /// The server's name.
        server: String,
    },
    /// The program is shutting down; the flow was ended and its listener closed.
    #[error("authorization for {server} was cancelled: shutting down")]
    ShuttingDown {
        /// The server's name.
        server: String,
    },
}

impl AuthError {
    /// Whether the user must log in (interactively) before this server can be used.
    pub fn is_login_required(&self) -> bool {
        matches!(self, AuthError::LoginRequired { .. })
    }
}

/// Which OAuth grant obtains tokens.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Grant {
    /// The authorization code flow with PKCE, through a browser (people).
    #[default]
    AuthorizationCode,
    /// The client credentials grant (machines and CI; a confidential pre-registered client).
    ClientCredentials,
    /// Enterprise-managed authorization (SEP-990): the identity provider's token exchange, then
    /// the JWT bearer grant; no browser.
    EnterpriseManaged(EnterpriseIdentity),
}

impl Grant {
    /// Whether tokens come without a person (so they are obtained up front and again on a 401).
    fn is_machine(&self) -> bool {
        !matches!(self, Grant::AuthorizationCode)
    }
}

/// OAuth settings for one MCP server.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct OAuthSettings {
    /// The server's name (for messages, and part of the token store key).
    pub server_name: String,
    /// The MCP endpoint.
    pub server_url: Url,
    /// Who the client is (pre-registered, metadata document, or registered dynamically).
    pub identity: ClientIdentity,
    /// Scopes to request; empty: the challenge or the metadata decides.
    pub scopes: Vec<String>,
    /// The loopback callback's port and path.
    pub callback: CallbackOptions,
    /// Which grant obtains tokens.
    pub grant: Grant,
    /// Ignore stored tokens and authorize anew on the first challenge (`mcpcord login`).
    pub force_login: bool,
}

impl OAuthSettings {
    /// Settings for `server_name` at `server_url`, with a dynamically registered public client.
    pub fn new(server_name: impl Into<String>, server_url: Url) -> Self {
        Self {
            server_name: server_name.into(),
            server_url,
            identity: ClientIdentity::default(),
            scopes: Vec::new(),
            callback: CallbackOptions::new(),
            grant: Grant::AuthorizationCode,
            force_login: false,
        }
    }

    /// The token store key: server name plus canonical URL.
    pub fn store_key(&self) -> StoreKey {
        StoreKey::new(
            self.server_name.clone(),
            canonical_resource(&self.server_url),
        )
    }
}

/// Everything the authorizers of one program share: the HTTP client, the token store, how to
/// present a login, and the registry of per-server states.
pub struct OAuthRuntime {
    http: HttpClient,
    store: Arc<dyn TokenStore>,
    browser: Option<Arc<dyn Browser>>,
    login_timeout: Duration,
    servers: Mutex<HashMap<String, Weak<ServerAuth>>>,
    shutdown: watch::Sender<bool>,
    /// Every browser flow in flight, so that shutdown closes their listeners synchronously.
    flows: Arc<Flows>,
}

impl std::fmt::Debug for OAuthRuntime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OAuthRuntime")
            .field("store", &self.store)
            .field("interactive", &self.browser.is_some())
            .field("login_timeout", &self.login_timeout)
            .finish_non_exhaustive()
    }
}

impl OAuthRuntime {
    /// A runtime over `http` and `store`. Without [`with_browser`](Self::with_browser), no browser
    /// flow ever starts: a server that needs a login fails with [`AuthError::LoginRequired`].
    pub fn new(http: HttpClient, store: Arc<dyn TokenStore>) -> Self {
        Self {
            http,
            store,
            browser: None,
            login_timeout: DEFAULT_LOGIN_TIMEOUT,
            servers: Mutex::new(HashMap::new()),
            shutdown: watch::channel(false).0,
            flows: Arc::default(),
        }
    }

    /// Allows interactive logins, presented by `browser`.
    pub fn with_browser(mut self, browser: Arc<dyn Browser>) -> Self {
        self.browser = Some(browser);
        self
    }

    /// How long a browser flow waits for its callback (default [`DEFAULT_LOGIN_TIMEOUT`]).
    pub fn with_login_timeout(mut self, timeout: Duration) -> Self {
        self.login_timeout = timeout;
        self
    }

    /// The token store.
    pub fn store(&self) -> &Arc<dyn TokenStore> {
        &self.store
    }

    /// Whether browser flows may start.
    pub fn is_interactive(&self) -> bool {
        self.browser.is_some()
    }

    /// The authorizer for one server. Authorizers for the same server (name and URL) share their
    /// tokens and their flows.
    pub fn authorizer(self: &Arc<Self>, settings: OAuthSettings) -> OAuthAuthorizer {
        let key = settings.store_key();
        let mut servers = self
            .servers
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        servers.retain(|_, server| server.strong_count() > 0);
        let shared = match servers.get(key.id()).and_then(Weak::upgrade) {
            Some(shared) => shared,
            None => {
                let shared = Arc::new(ServerAuth {
                    accepted: Mutex::new(None),
                    snapshot: Mutex::new(None),
                    key: key.clone(),
                    state: tokio::sync::Mutex::new(AuthState {
                        force_login: settings.force_login,
                        ..AuthState::default()
                    }),
                    settings,
                });
                servers.insert(key.id().to_owned(), Arc::downgrade(&shared));
                shared
            }
        };
        OAuthAuthorizer {
            runtime: Arc::clone(self),
            shared,
            flows: Arc::default(),
        }
    }

    /// Ends every flow in flight (their callback listeners close at once) and refuses new ones.
    /// Synchronous and non-blocking; idempotent.
    pub fn shutdown(&self) {
        self.shutdown.send_replace(true);
        self.flows.close_all();
    }

    fn is_shut_down(&self) -> bool {
        *self.shutdown.borrow()
    }
}

impl Drop for OAuthRuntime {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// Browser flows in flight: their listeners, closed synchronously on demand.
#[derive(Default)]
struct Flows {
    closed: AtomicBool,
    next: AtomicU64,
    closers: Mutex<HashMap<u64, CallbackCloser>>,
}

impl Flows {
    fn closers(&self) -> std::sync::MutexGuard<'_, HashMap<u64, CallbackCloser>> {
        self.closers.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Closes every listener now and refuses new flows.
    fn close_all(&self) {
        self.closed.store(true, Ordering::SeqCst);
        let closers: Vec<CallbackCloser> =
            self.closers().drain().map(|(_, closer)| closer).collect();
        for closer in closers {
            closer.close();
        }
    }

    /// Registers a flow's listener; `None` (and the listener closed) when these flows are closed.
    fn register(self: &Arc<Self>, closer: &CallbackCloser) -> Option<FlowRegistration> {
        let id = self.next.fetch_add(1, Ordering::Relaxed);
        self.closers().insert(id, closer.clone());
        // Checked after inserting, so a concurrent close_all either sees the entry or is seen here.
        if self.closed.load(Ordering::SeqCst) {
            self.closers().remove(&id);
            closer.close();
            return None;
        }
        Some(FlowRegistration {
            flows: Arc::clone(self),
            id,
        })
    }
}

/// Removes a flow's listener from its [`Flows`] when the flow ends.
struct FlowRegistration {
    flows: Arc<Flows>,
    id: u64,
}

impl Drop for FlowRegistration {
    fn drop(&mut self) {
        self.flows.closers().remove(&self.id);
    }
}

/// The state shared by every authorizer of one server.
struct ServerAuth {
    key: StoreKey,
    settings: OAuthSettings,
    state: tokio::sync::Mutex<AuthState>,
    /// The last token a request succeeded with (not a 401/403), to tell a token the server has
    /// never accepted, which must not be refreshed or re-authorized in a loop.
    accepted: Mutex<Option<String>>,
    /// The access token last known, for requests made while a refresh or login holds `state`:
    /// they go out with it (or with none) rather than wait minutes for a person in a browser.
    snapshot: Mutex<Option<String>>,
}

/// What an authorization server context holds once discovered.
#[derive(Clone)]
struct Context {
    /// The SSRF guard for this server (resolved once: it looks the server's address up).
    guard: SsrfGuard,
    /// The `resource` to send: the protected-resource metadata's (canonical) identifier, else the
    /// server's canonical URL.
    resource: String,
    metadata: ServerMetadata,
    resource_metadata: Option<ResourceMetadata>,
    credentials: Option<ClientCredentials>,
}

#[derive(Default)]
struct AuthState {
    loaded: bool,
    force_login: bool,
    tokens: Option<StoredTokens>,
    /// The access token from the last new authorization (a 401 on it before any success is final).
    authorized: Option<String>,
    /// The access token from the last refresh (a 401 on it before any success goes to a new
    /// authorization rather than another refresh).
    refreshed: Option<String>,
    /// Boxed: most servers never need one, and it is large (two metadata documents).
    context: Option<Box<Context>>,
    /// Authorizations per requested scope set, for the step-up limit.
    step_ups: HashMap<Vec<String>, u32>,
    /// The scopes asked for in the last authorization.
    requested_scopes: Vec<String>,
}

/// Supplies OAuth tokens to the HTTP transport for one server. Cheap to clone; clones share their
/// flows, which [`cancel_flows`](Self::cancel_flows) ends.
#[derive(Clone)]
pub struct OAuthAuthorizer {
    runtime: Arc<OAuthRuntime>,
    shared: Arc<ServerAuth>,
    /// The browser flows started through this authorizer (and its clones).
    flows: Arc<Flows>,
}

impl std::fmt::Debug for OAuthAuthorizer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OAuthAuthorizer")
            .field("server", &self.shared.settings.server_name)
            .field("url", &self.shared.settings.server_url.as_str())
            .finish_non_exhaustive()
    }
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_secs())
}

impl OAuthAuthorizer {
    fn name(&self) -> &str {
        &self.shared.settings.server_name
    }

    fn settings(&self) -> &OAuthSettings {
        &self.shared.settings
    }

    /// Ends the browser flows started through this authorizer (its listeners close at once,
    /// synchronously) and refuses new ones: for when the connection it serves is closed or its
    /// connect cancelled. Flows of other authorizers for the same server are not affected.
    pub fn cancel_flows(&self) {
        self.flows.close_all();
    }

    fn was_accepted(&self, token: &str) -> bool {
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

    fn store_error(&self, source: StoreError) -> AuthError {
        AuthError::Store {
            server: self.name().to_owned(),
            source,
        }
    }

    async fn ensure_loaded(&self, state: &mut AuthState) -> Result<(), AuthError> {
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
    async fn discard_tokens(
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

    /// The token to send now: refreshed first if it expires within a minute. With the client
    /// credentials grant, tokens are obtained up front.
    async fn current_token(&self) -> Result<Option<String>, AuthError> {
        let Ok(mut state) = self.shared.state.try_lock() else {
            // A refresh or a login is under way: do not queue behind it (a browser flow can take
            // minutes); a request that needs the new token gets a 401 and waits in on_challenge.
            return Ok(self
                .shared
                .snapshot
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .clone());
        };
        let outcome = self.current_token_locked(&mut state).await;
        self.publish(&state);
        outcome
    }

    async fn current_token_locked(
        &self,
        state: &mut AuthState,
    ) -> Result<Option<String>, AuthError> {
        self.ensure_loaded(state).await?;
        let expiring = state.tokens.as_ref().is_some_and(needs_refresh);
        if expiring {
            let refreshable = state
                .tokens
                .as_ref()
                .is_some_and(|tokens| tokens.refresh_token.is_some());
            if refreshable {
                match self.refresh(state, None).await {
                    Ok(Refreshed::Renewed) => {}
                    Ok(Refreshed::Impossible) => {
                        tracing::info!(server = %self.name(), "the tokens cannot be refreshed; a new authorization is needed");
                    }
                    // The old token may still work for its last minute; the 401 path retries.
                    Err(error) => {
                        tracing::warn!(server = %self.name(), %error, "proactive token refresh failed")
                    }
                }
            } else if self.settings().grant.is_machine() {
                state.tokens = None;
            }
        }
        if state.tokens.is_none() && self.settings().grant.is_machine() {
            self.obtain(state, None, Vec::new()).await?;
        }
        Ok(state
            .tokens
            .as_ref()
            .map(|tokens| tokens.access_token.clone()))
    }

    /// Records the current access token for requests that cannot wait for `state`.
    fn publish(&self, state: &AuthState) {
        *self
            .shared
            .snapshot
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = state
            .tokens
            .as_ref()
            .map(|tokens| tokens.access_token.clone());
    }

    async fn handle_challenge(
        &self,
        challenge: &AuthChallenge,
    ) -> Result<ChallengeOutcome, AuthError> {
        let mut state = self.shared.state.lock().await;
        let outcome = self.handle_challenge_locked(&mut state, challenge).await;
        self.publish(&state);
        outcome
    }

    async fn handle_challenge_locked(
        &self,
        state: &mut AuthState,
        challenge: &AuthChallenge,
    ) -> Result<ChallengeOutcome, AuthError> {
        self.ensure_loaded(state).await?;
        let current = state.tokens.as_ref();
        let replaced = current
            .is_some_and(|tokens| Some(&tokens.access_token) != challenge.rejected_token.as_ref());
        let bearer = challenge.challenge.as_ref();
        let challenged: Vec<String> = bearer
            .map(|challenge| challenge.scopes().map(str::to_owned).collect())
            .unwrap_or_default();
        match challenge.status {
            401 => {
                // Another caller already replaced the rejected token while this one waited for
                // the lock: that is the single flight.
                if replaced {
                    return Ok(ChallengeOutcome::RetryWithNewToken);
                }
                if let Some(rejected) = &challenge.rejected_token {
                    let unproven = !self.was_accepted(rejected);
                    if unproven && state.authorized.as_deref() == Some(rejected) {
                        return Err(AuthError::RejectedAfterLogin {
                            server: self.name().to_owned(),
                        });
                    }
                    let refreshable = state
                        .tokens
                        .as_ref()
                        .is_some_and(|tokens| tokens.refresh_token.is_some());
                    let refreshed_in_vain =
                        unproven && state.refreshed.as_deref() == Some(rejected);
                    if refreshable
                        && !refreshed_in_vain
                        && self.refresh(state, bearer).await? == Refreshed::Renewed
                    {
                        return Ok(ChallengeOutcome::RetryWithNewToken);
                    }
                }
                // A challenge that names new metadata is followed (RFC 9728 §5.2).
                if bearer.and_then(Challenge::resource_metadata).is_some() {
                    state.context = None;
                }
                self.obtain(state, bearer, Vec::new()).await?;
                Ok(ChallengeOutcome::RetryWithNewToken)
            }
            403 if bearer.and_then(Challenge::error) == Some("insufficient_scope") => {
                let granted: Vec<String> = current
                    .map(|tokens| tokens.scopes.clone())
                    .unwrap_or_default();
                // Someone else stepped up meanwhile, to scopes that cover this challenge.
                if replaced && challenged.iter().all(|scope| granted.contains(scope)) {
                    return Ok(ChallengeOutcome::RetryWithNewToken);
                }
                let mut scopes = if state.requested_scopes.is_empty() {
                    granted
                } else {
                    state.requested_scopes.clone()
                };
                for scope in challenged {
                    if !scopes.contains(&scope) {
                        scopes.push(scope);
                    }
                }
                scopes.sort();
                // The first authorization (the one that got the token being rejected) counts.
                let attempts = state.step_ups.get(&scopes).copied().unwrap_or(1);
                if attempts >= MAX_AUTHORIZATIONS {
                    return Err(AuthError::StepUpExhausted {
                        server: self.name().to_owned(),
                        scopes,
                        attempts,
                    });
                }
                self.obtain(state, bearer, scopes.clone()).await?;
                // Counted once it happened: a cancelled or refused attempt is not an authorization.
                state.step_ups.insert(scopes, attempts + 1);
                Ok(ChallengeOutcome::RetryWithNewToken)
            }
            _ => Ok(ChallengeOutcome::Fail),
        }
    }

    /// New tokens by the configured grant. Another process may have logged in meanwhile: the
    /// store is checked first, under its lock.
    async fn obtain(
        &self,
        state: &mut AuthState,
        challenge: Option<&Challenge>,
        scopes: Vec<String>,
    ) -> Result<(), AuthError> {
        if self.runtime.is_shut_down() {
            return Err(AuthError::ShuttingDown {
                server: self.name().to_owned(),
            });
        }
        // Another process (`mcpcord login` in another terminal) may have stored usable tokens.
        if self.take_stored(state, &scopes).await? {
            return Ok(());
        }
        let browser = match self.settings().grant {
            Grant::ClientCredentials | Grant::EnterpriseManaged(_) => None,
            Grant::AuthorizationCode => match self.runtime.browser.clone() {
                Some(browser) => Some(browser),
                None => {
                    return Err(AuthError::LoginRequired {
                        server: self.name().to_owned(),
                    });
                }
            },
        };
        let store = &self.runtime.store;
        {
            // Re-checked under the cross-process lock, which is not held across the flow itself
            // (a person may take minutes, and other processes must still refresh meanwhile).
            let _lock = store
                .lock(&self.shared.key)
                .await
                .map_err(|source| self.store_error(source))?;
            if self.take_stored(state, &scopes).await? {
                return Ok(());
            }
        }
        let context = self.context(state, challenge).await?;
        let tokens = match browser {
            None => self.machine_grant(state, &context, scopes).await?,
            Some(browser) => {
                self.authorize(state, &context, challenge, scopes, browser.as_ref())
                    .await?
            }
        };
        let _lock = store
            .lock(&self.shared.key)
            .await
            .map_err(|source| self.store_error(source))?;
        store
            .save(&self.shared.key, &tokens)
            .await
            .map_err(|source| self.store_error(source))?;
        state.authorized = Some(tokens.access_token.clone());
        state.tokens = Some(tokens);
        state.force_login = false;
        Ok(())
    }

    /// Takes tokens from the store when another process stored ones this authorizer does not hold
    /// (and no step-up, which needs new scopes, is under way).
    async fn take_stored(
        &self,
        state: &mut AuthState,
        scopes: &[String],
    ) -> Result<bool, AuthError> {
        if state.force_login || !scopes.is_empty() {
            return Ok(false);
        }
        let stored = self
            .runtime
            .store
            .load(&self.shared.key)
            .await
            .map_err(|source| self.store_error(source))?;
        let held = state.tokens.as_ref().map(|tokens| &tokens.access_token);
        match stored {
            Some(stored)
                if Some(&stored.access_token) != held
                    && !stored.expires_within(now(), Duration::ZERO) =>
            {
                tracing::debug!(server = %self.name(), "using tokens stored by another process");
                state.tokens = Some(stored);
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    /// Discovery: protected-resource metadata, then the authorization server's; the 2025-03-26
    /// fallback when the server has no protected-resource metadata. Cached per server.
    async fn context(
        &self,
        state: &mut AuthState,
        challenge: Option<&Challenge>,
    ) -> Result<Context, AuthError> {
        if let Some(context) = &state.context {
            return Ok((**context).clone());
        }
        let server = &self.settings().server_url;
        let http = &self.runtime.http;
        let guard = SsrfGuard::for_server(server).await;
        let discovery_error = |source| AuthError::Discovery {
            server: self.name().to_owned(),
            source,
        };
        let context = match discover_resource(http, &guard, server, challenge).await {
            Ok(resource_metadata) => {
                let Some(issuer) = resource_metadata.authorization_servers.first() else {
                    return Err(AuthError::NoAuthorizationServer {
                        server: self.name().to_owned(),
                    });
                };
                let issuer = Url::parse(issuer).map_err(|error| {
                    discovery_error(DiscoveryError::Invalid {
                        url: issuer.clone(),
                        reason: format!("the authorization server is not a URL: {error}"),
                    })
                })?;
                let metadata = discover_server(http, &guard, &issuer)
                    .await
                    .map_err(discovery_error)?;
                let resource = Url::parse(&resource_metadata.resource)
                    .map(|resource| canonical_resource(&resource))
                    .unwrap_or_else(|_| self.resource());
                Context {
                    guard,
                    resource,
                    metadata,
                    resource_metadata: Some(resource_metadata),
                    credentials: None,
                }
            }
            // Only when the server named no metadata: a pointer that leads nowhere is an error,
            // not a reason to guess.
            Err(DiscoveryError::NoResourceMetadata { tried })
                if challenge.and_then(Challenge::resource_metadata).is_none() =>
            {
                tracing::info!(server = %self.name(), %tried, "no protected-resource metadata; 2025-03-26 fallback");
                Context {
                    guard,
                    resource: self.resource(),
                    metadata: discover_legacy(http, &guard, server)
                        .await
                        .map_err(discovery_error)?,
                    resource_metadata: None,
                    credentials: None,
                }
            }
            Err(error) => return Err(discovery_error(error)),
        };
        // The token endpoint receives codes, refresh tokens and client secrets: it passes the same
        // guard as the metadata URLs (the authorization endpoint goes to the browser, which
        // checks it itself).
        let token_endpoint = Url::parse(&context.metadata.token_endpoint).map_err(|error| {
            discovery_error(DiscoveryError::Invalid {
                url: context.metadata.token_endpoint.clone(),
                reason: format!("the token endpoint is not a URL: {error}"),
            })
        })?;
        guard
            .check(&token_endpoint)
            .await
            .map_err(discovery_error)?;
        state.context = Some(Box::new(context.clone()));
        Ok(context)
    }

    async fn credentials(
        &self,
        state: &mut AuthState,
        context: &Context,
        redirect_uri: &str,
    ) -> Result<ClientCredentials, AuthError> {
        if let Some(credentials) = &context.credentials {
            return Ok(credentials.clone());
        }
        let credentials = registration::resolve_client(
            &self.runtime.http,
            &context.guard,
            self.runtime.store.as_ref(),
            &context.metadata,
            &self.settings().identity,
            redirect_uri,
        )
        .await
        .map_err(|source| AuthError::Registration {
            server: self.name().to_owned(),
            source,
        })?;
        if let Some(cached) = &mut state.context {
            cached.credentials = Some(credentials.clone());
        }
        Ok(credentials)
    }

    fn resource(&self) -> String {
        canonical_resource(&self.settings().server_url)
    }

    fn scopes_for(
        &self,
        context: &Context,
        challenge: Option<&Challenge>,
        step_up: Vec<String>,
    ) -> Vec<String> {
        if !step_up.is_empty() {
            return step_up;
        }
        if !self.settings().scopes.is_empty() {
            // The challenge's scopes are authoritative for the request; configured ones are kept.
            let mut scopes = self.settings().scopes.clone();
            for scope in challenge.map(Challenge::scopes).into_iter().flatten() {
                if !scopes.iter().any(|have| have == scope) {
                    scopes.push(scope.to_owned());
                }
            }
            return scopes;
        }
        flow::select_scopes(
            challenge,
            context.resource_metadata.as_ref(),
            &context.metadata,
        )
    }

    async fn authorize(
        &self,
        state: &mut AuthState,
        context: &Context,
        challenge: Option<&Challenge>,
        step_up: Vec<String>,
        browser: &dyn Browser,
    ) -> Result<StoredTokens, AuthError> {
        let name = self.name().to_owned();
        let callback =
            CallbackServer::bind(self.settings().callback.clone()).map_err(|source| {
                AuthError::Callback {
                    server: name.clone(),
                    source,
                }
            })?;
        // Registered with the runtime (shutdown) and with this authorizer (its connection closing):
        // either closes the listener synchronously, and the wait below then ends.
        let closer = callback.closer();
        let Some(_global) = self.runtime.flows.register(&closer) else {
            return Err(AuthError::ShuttingDown { server: name });
        };
        let Some(_own) = self.flows.register(&closer) else {
            return Err(AuthError::Cancelled { server: name });
        };
        let redirect_uri = callback.redirect_uri();
        let credentials = self.credentials(state, context, &redirect_uri).await?;
        let scopes = self.scopes_for(context, challenge, step_up);
        let flow_error = |source| AuthError::Flow {
            server: name.clone(),
            source,
        };
        let pending = flow::authorization_request(
            &context.metadata,
            &credentials,
            &redirect_uri,
            &context.resource,
            &scopes,
        )
        .map_err(flow_error)?;
        callback.expect(&pending.state);
        tracing::info!(server = %name, issuer = %context.metadata.issuer, "authorization needed; opening the browser");
        let mut shutdown = self.runtime.shutdown.subscribe();
        let authorization = tokio::select! {
            // The callback server is dropped with this branch's future: its listener closes at once.
            _ = shutdown.wait_for(|stopping| *stopping) => {
                return Err(AuthError::ShuttingDown { server: name });
            }
            result = present(browser, &pending.authorization_url, callback, self.runtime.login_timeout) => result,
        };
        let authorization = match authorization {
            Ok(authorization) => authorization,
            Err(Presented::Browser(source)) => {
                return Err(AuthError::Browser {
                    server: name,
                    source,
                });
            }
            Err(Presented::Callback(CallbackError::AuthorizationDenied {
                iss: Some(iss), ..
            })) if iss != context.metadata.issuer => {
                // A mix-up: the error text may come from an attacker's server; do not show it.
                return Err(flow_error(FlowError::IssuerMismatch {
                    expected: context.metadata.issuer.clone(),
                    found: Some(iss),
                }));
            }
            Err(Presented::Callback(CallbackError::ServerStopped))
                if self.runtime.is_shut_down() =>
            {
                return Err(AuthError::ShuttingDown { server: name });
            }
            Err(Presented::Callback(CallbackError::ServerStopped))
                if self.flows.closed.load(Ordering::SeqCst) =>
            {
                return Err(AuthError::Cancelled { server: name });
            }
            Err(Presented::Callback(source)) => {
                return Err(AuthError::Callback {
                    server: name,
                    source,
                });
            }
        };
        let Authorization { code, iss, .. } = authorization;
        let exchanged = pending
            .exchange(
                &self.runtime.http,
                &context.metadata,
                &credentials,
                &code,
                iss.as_deref(),
            )
            .await;
        let mut tokens = match exchanged {
            Ok(tokens) => tokens,
            Err(source) => {
                if source.is_invalid_client() {
                    // The server forgot our registration: forget it too, so that the next
                    // attempt registers anew.
                    state.context = None;
                    if let Err(error) = registration::forget_client(
                        self.runtime.store.as_ref(),
                        &context.metadata.issuer,
                    )
                    .await
                    {
                        tracing::warn!(server = %name, %error, "could not forget the client registration");
                    }
                }
                return Err(flow_error(source));
            }
        };
        if tokens.scopes.is_empty() {
            tokens.scopes = scopes.clone();
        }
        state.requested_scopes = scopes;
        Ok(tokens)
    }

    /// Tokens without a person: the client credentials grant, or enterprise-managed authorization.
    async fn machine_grant(
        &self,
        state: &mut AuthState,
        context: &Context,
        step_up: Vec<String>,
    ) -> Result<StoredTokens, AuthError> {
        // No redirect is involved; the client is pre-registered (dynamic registration of a
        // confidential client is not attempted).
        let credentials = self
            .credentials(state, context, "http://127.0.0.1/callback")
            .await?;
        let scopes = self.scopes_for(context, None, step_up);
        let http = &self.runtime.http;
        let obtained = match &self.settings().grant {
            Grant::EnterpriseManaged(identity) => {
                crate::enterprise::enterprise_managed(
                    http,
                    &context.metadata,
                    &credentials,
                    identity,
                    &context.resource,
                    &scopes,
                )
                .await
            }
            _ => {
                crate::grant::client_credentials(
                    http,
                    &context.metadata,
                    &credentials,
                    &scopes,
                    &context.resource,
                )
                .await
            }
        };
        let mut tokens = obtained.map_err(|source| AuthError::Flow {
            server: self.name().to_owned(),
            source,
        })?;
        if tokens.scopes.is_empty() {
            tokens.scopes = scopes.clone();
        }
        state.requested_scopes = scopes;
        Ok(tokens)
    }

    /// Refreshes the tokens, once, under the store's lock. Tokens another process stored meanwhile
    /// win: they are used as they are, or refreshed with their own (possibly rotated) refresh
    /// token. The refresh goes back to the issuer that issued the tokens, never elsewhere. When
    /// the tokens cannot be refreshed (no refresh token, `invalid_grant`, `invalid_client`, their
    /// issuer gone), they are discarded and [`Refreshed::Impossible`] says to authorize anew.
    async fn refresh(
        &self,
        state: &mut AuthState,
        challenge: Option<&Challenge>,
    ) -> Result<Refreshed, AuthError> {
        let store = Arc::clone(&self.runtime.store);
        let lock = store
            .lock(&self.shared.key)
            .await
            .map_err(|source| self.store_error(source))?;
        let held = state.tokens.clone();
        let stored = store
            .load(&self.shared.key)
            .await
            .map_err(|source| self.store_error(source))?;
        let base = match (stored, held) {
            (Some(stored), held)
                if held.as_ref().map(|tokens| &tokens.access_token)
                    != Some(&stored.access_token) =>
            {
                if !needs_refresh(&stored) {
                    state.tokens = Some(stored);
                    return Ok(Refreshed::Renewed);
                }
                stored
            }
            (_, Some(held)) => held,
            (_, None) => return Ok(Refreshed::Impossible),
        };
        let Some(refresh_token) = base.refresh_token.clone() else {
            drop(lock);
            self.discard_tokens(state, None).await?;
            return Ok(Refreshed::Impossible);
        };
        let Some(context) = self.refresh_context(state, challenge, &base).await? else {
            tracing::info!(server = %self.name(), "the tokens' issuer is no longer usable");
            drop(lock);
            self.discard_tokens(state, Some(&refresh_token)).await?;
            return Ok(Refreshed::Impossible);
        };
        let redirect = "http://127.0.0.1/callback";
        let credentials = self.credentials(state, &context, redirect).await?;
        let mut base = base;
        if base.resource.is_none() {
            base.resource = Some(context.resource.clone());
        }
        // On a task of its own, so that a caller that gives up (a request timeout) cannot lose a
        // rotated refresh token between the server's answer and the save.
        let http = self.runtime.http.clone();
        let key = self.shared.key.clone();
        let metadata = context.metadata.clone();
        let task_store = Arc::clone(&store);
        let task = tokio::spawn(async move {
            let renewed = flow::refresh(&http, &metadata, &credentials, &base, redirect)
                .await
                .map_err(RefreshFailure::Flow)?;
            // Persist before use: a rotated refresh token exists nowhere else.
            task_store
                .save(&key, &renewed)
                .await
                .map_err(RefreshFailure::Store)?;
            Ok::<_, RefreshFailure>(renewed)
        });
        let outcome = task.await;
        drop(lock);
        match outcome {
            Ok(Ok(renewed)) => {
                state.refreshed = Some(renewed.access_token.clone());
                state.tokens = Some(renewed);
                Ok(Refreshed::Renewed)
            }
            Ok(Err(RefreshFailure::Flow(source)))
                if source.is_invalid_grant() || source.is_invalid_client() =>
            {
                tracing::info!(server = %self.name(), error = %source, "refresh refused; authorizing anew");
                if source.is_invalid_client() {
                    // The server forgot our registration: so do we, and register anew.
                    state.context = None;
                    if let Err(error) =
                        registration::forget_client(store.as_ref(), &context.metadata.issuer).await
                    {
                        tracing::warn!(server = %self.name(), %error, "could not forget the client registration");
                    }
                }
                self.discard_tokens(state, Some(&refresh_token)).await?;
                Ok(Refreshed::Impossible)
            }
            Ok(Err(RefreshFailure::Flow(source))) => Err(AuthError::Flow {
                server: self.name().to_owned(),
                source,
            }),
            Ok(Err(RefreshFailure::Store(source))) => Err(self.store_error(source)),
            Err(_) => Err(AuthError::Flow {
                server: self.name().to_owned(),
                source: FlowError::Token("the refresh task ended unexpectedly".to_owned()),
            }),
        }
    }

    /// Where to refresh `tokens`: their own issuer. The cached context if it is that issuer's;
    /// else the issuer's metadata looked up directly (RFC 8414); else, for tokens from the
    /// 2025-03-26 fallback, the fallback again if it leads to the same issuer. `None`: nowhere.
    async fn refresh_context(
        &self,
        state: &mut AuthState,
        challenge: Option<&Challenge>,
        tokens: &StoredTokens,
    ) -> Result<Option<Context>, AuthError> {
        let Some(issuer) = tokens.issuer.clone() else {
            return Ok(None);
        };
        if let Some(context) = &state.context
            && context.metadata.issuer == issuer
        {
            return Ok(Some((**context).clone()));
        }
        let resource = tokens.resource.clone().unwrap_or_else(|| self.resource());
        if let Ok(issuer_url) = Url::parse(&issuer) {
            let guard = SsrfGuard::for_server(&self.settings().server_url).await;
            if let Ok(metadata) = discover_server(&self.runtime.http, &guard, &issuer_url).await {
                return Ok(Some(Context {
                    guard,
                    resource,
                    metadata,
                    resource_metadata: None,
                    credentials: None,
                }));
            }
        }
        match self.context(state, challenge).await {
            Ok(context) if context.metadata.issuer == issuer => Ok(Some(context)),
            Ok(_) => Ok(None),
            Err(error) => Err(error),
        }
    }
}

/// What became of a refresh.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Refreshed {
    /// New tokens are held (refreshed here, or stored by another process).
    Renewed,
    /// No refresh is possible; the tokens are discarded: authorize anew.
    Impossible,
}

/// Why the refresh task failed.
enum RefreshFailure {
    Flow(FlowError),
    Store(StoreError),
}

/// Whether a token is close enough to its expiry to be refreshed before use: within
/// [`REFRESH_SKEW`], or within half its lifetime for tokens that live less than two skews (else a
/// 30-second token would be refreshed before every request). A lifetime below
/// [`MIN_REFRESH_LIFETIME`] counts as that minimum.
fn needs_refresh(tokens: &StoredTokens) -> bool {
    let Some(expires_at) = tokens.expires_at else {
        return false;
    };
    let lifetime =
        Duration::from_secs(expires_at.saturating_sub(tokens.issued_at)).max(MIN_REFRESH_LIFETIME);
    let skew = REFRESH_SKEW.min(lifetime / 2);
    let due = tokens.issued_at.saturating_add(lifetime.as_secs());
    now().saturating_add(skew.as_secs()) >= due
}

enum Presented {
    Browser(BrowserError),
    Callback(CallbackError),
}

/// Presents the URL and waits for the callback at the same time: the `follow` browser only finishes
/// once the callback has answered, and a system browser returns as soon as it has the URL.
async fn present(
    browser: &dyn Browser,
    url: &Url,
    callback: CallbackServer,
    timeout: Duration,
) -> Result<Authorization, Presented> {
    let wait = callback.wait(timeout);
    tokio::pin!(wait);
    let open = browser.open(url);
    tokio::pin!(open);
    let mut opened = false;
    loop {
        tokio::select! {
            result = &mut wait => return result.map_err(Presented::Callback),
            result = &mut open, if !opened => {
                result.map_err(Presented::Browser)?;
                opened = true;
            }
        }
    }
}

impl Authorizer for OAuthAuthorizer {
    fn bearer_token(&self) -> BoxFuture<'_, Result<Option<String>, TransportError>> {
        Box::pin(async move {
            self.current_token()
                .await
                .map_err(TransportError::authorization)
        })
    }

    fn accepted(&self, token: &str) {
        let mut accepted = self
            .shared
            .accepted
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if accepted.as_deref() != Some(token) {
            *accepted = Some(token.to_owned());
        }
    }

    fn on_challenge<'a>(
        &'a self,
        challenge: &'a AuthChallenge,
    ) -> BoxFuture<'a, Result<ChallengeOutcome, TransportError>> {
        Box::pin(async move {
            self.handle_challenge(challenge)
                .await
                .map_err(TransportError::authorization)
        })
    }
}
