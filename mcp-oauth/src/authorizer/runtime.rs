//! [`OAuthRuntime`]: what every authorizer of one program shares (HTTP client, token store,
//! browser, the registry of per-server states), and the registry of browser flows in flight that
//! shutdown closes.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError, Weak};
use std::time::Duration;

use mcp_transport::http::HttpClient;
use tokio::sync::watch;

use super::OAuthSettings;
use super::server::{AuthState, OAuthAuthorizer, ServerAuth};
use crate::browser::Browser;
use crate::callback::CallbackCloser;
use crate::store::TokenStore;

/// How long a browser flow waits for the callback by default.
pub const DEFAULT_LOGIN_TIMEOUT: Duration = Duration::from_secs(300);

/// Everything the authorizers of one program share: the HTTP client, the token store, how to
/// present a login, and the registry of per-server states.
pub struct OAuthRuntime {
    pub(super) http: HttpClient,
    pub(super) store: Arc<dyn TokenStore>,
    pub(super) browser: Option<Arc<dyn Browser>>,
    pub(super) login_timeout: Duration,
    pub(super) servers: Mutex<HashMap<String, Weak<ServerAuth>>>,
    pub(super) shutdown: watch::Sender<bool>,
    /// Every browser flow in flight, so that shutdown closes their listeners synchronously.
    pub(super) flows: Arc<Flows>,
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
    /// flow ever starts: a server that needs a login fails with
    /// [`AuthError::LoginRequired`](crate::AuthError::LoginRequired).
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
                    as_nonce: Arc::default(),
                    rs_nonce: Arc::default(),
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

    pub(super) fn is_shut_down(&self) -> bool {
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
pub(super) struct Flows {
    pub(super) closed: AtomicBool,
    pub(super) next: AtomicU64,
    pub(super) closers: Mutex<HashMap<u64, CallbackCloser>>,
}

impl Flows {
    fn closers(&self) -> std::sync::MutexGuard<'_, HashMap<u64, CallbackCloser>> {
        self.closers.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Closes every listener now and refuses new flows.
    pub(super) fn close_all(&self) {
        self.closed.store(true, Ordering::SeqCst);
        let closers: Vec<CallbackCloser> =
            self.closers().drain().map(|(_, closer)| closer).collect();
        for closer in closers {
            closer.close();
        }
    }

    /// Registers a flow's listener; `None` (and the listener closed) when these flows are closed.
    pub(super) fn register(self: &Arc<Self>, closer: &CallbackCloser) -> Option<FlowRegistration> {
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
pub(super) struct FlowRegistration {
    flows: Arc<Flows>,
    id: u64,
}

impl Drop for FlowRegistration {
    fn drop(&mut self) {
        self.flows.closers().remove(&self.id);
    }
}
