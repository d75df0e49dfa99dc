//! MCP authorization: discovery, client identity, PKCE, the loopback callback server and token
//! stores.
//!
//! The pieces, each usable on its own, and the [`OAuthAuthorizer`] that ties them together for the
//! transport. How each piece works is in its module's docs; how they fit together, in
//! [`authorizer`]'s.
//!
//! # Example
//! One runtime per program; one authorizer per MCP server, handed to `mcp-transport`'s HTTP
//! transport, which asks it for tokens and passes it every 401 and 403:
//!
//! ```
//! use std::sync::Arc;
//!
//! use mcp_oauth::{MemoryStore, OAuthRuntime, OAuthSettings, PrintBrowser};
//! use mcp_transport::http::{HttpClient, HttpOptions};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let http = HttpClient::new(HttpOptions::default())?;
//! // A program that keeps logins between runs uses `FileStore::open_default()?` instead.
//! let store = Arc::new(MemoryStore::new());
//! let runtime = Arc::new(
//!     // Without a browser no login can start: a server that needs one fails with
//!     // `AuthError::LoginRequired`.
//!     OAuthRuntime::new(http, store).with_browser(Arc::new(PrintBrowser::new())),
//! );
//! let url = url::Url::parse("https://mcp.example.com/mcp")?;
//! let authorizer = runtime.authorizer(OAuthSettings::new("remote", url));
//! assert!(authorizer.tokens().await?.is_none()); // nothing stored yet: the first 401 logs in
//! runtime.shutdown(); // ends every browser flow in flight, as dropping the runtime does
//! # Ok(())
//! # }
//! ```
//!
//! # Vocabulary
//! Every type a user names is exported here, at the crate root; the modules hold the functions
//! and constants of each piece (`callback::random_state`, `discovery::discover_server`, ...).
//! - Authorization for the transport: [`OAuthRuntime`], [`OAuthSettings`], [`Grant`],
//!   [`OAuthAuthorizer`], [`AuthError`].
//! - Token stores: the [`TokenStore`] trait, [`FileStore`], [`MemoryStore`], [`StoreKey`],
//!   [`StoredTokens`], [`StoredClient`], [`StoreLock`], [`StoreError`]; importing the old
//!   store: [`ImportReport`], [`SkippedFile`], [`SkipReason`].
//! - Presenting the login: the [`Browser`] trait, [`BrowserMode`], [`SystemBrowser`],
//!   [`PrintBrowser`], [`FollowBrowser`], [`BrowserError`].
//! - The loopback callback: [`CallbackServer`], [`CallbackOptions`], [`CallbackCloser`],
//!   [`Authorization`], [`CallbackError`].
//! - Discovery: [`ResourceMetadata`], [`ServerMetadata`], [`SsrfGuard`], [`DiscoveryError`].
//! - Client identity and the token requests: [`ClientIdentity`], [`ClientCredentials`],
//!   [`TokenAuthMethod`], [`PrivateKeyJwt`], [`EnterpriseIdentity`], [`WorkloadIdentity`],
//!   [`PendingAuthorization`], [`RegistrationError`], [`FlowError`], [`KeyError`].
//! - Key-bound tokens: [`DpopKey`], [`DpopProver`].
//!
//! # What it holds
//! - **discovery**: protected-resource metadata (from the challenge's `resource_metadata`, then the
//!   path-based well-known URL, then the root one) with an exact `resource` match;
//!   authorization-server metadata (RFC 8414 and OpenID variants) with an issuer match; the
//!   2025-03-26 fallback; an SSRF guard.
//! - **client identity**, in priority order: pre-registered, client metadata document, dynamic
//!   registration, stored per authorization server.
//! - **the authorization request**: PKCE S256 always (an authorization server without it is
//!   refused), a single-use 128-bit `state`, `resource` on every request, scopes from the
//!   challenge, step-up on `insufficient_scope`, RFC 9207 `iss` checks, and refresh shared by
//!   concurrent callers.
//! - **the loopback callback server**, a small HTTP/1.1 responder of its own (no HTTP server
//!   library): 127.0.0.1, port 0 unless fixed, exact path, GET only, a wrong `state` rejected
//!   without ending the flow, one success then closed, an overall timeout. An RAII guard owns it;
//!   dropping the guard closes the socket at once without blocking.
//! - **token stores**: in memory and on disk (mode 0600, atomic writes, a cross-process lock), and
//!   a one-time import of the files the CLI kept under its old name.
//! - **browsers**: the system opener, print-only, and a `follow` driver for auto-approving servers.
//! - the **client credentials grant** for machines, with `client_secret_basic`,
//!   `client_secret_post` and `private_key_jwt` (ES256); **enterprise-managed authorization**
//!   (SEP-990: token exchange at the identity provider, then the JWT bearer grant); and
//!   **workload identity federation** (SEP-1933: the JWT bearer grant with the platform's token).
//! - **DPoP** (RFC 9449, SEP-1932): tokens bound to a P-256 key when the authorization server
//!   offers it, a fresh proof on every token request and every request to the MCP server, and the
//!   servers' nonces.
//! - **the [`OAuthAuthorizer`]**: stored tokens, proactive refresh, one refresh per rejected token,
//!   a browser flow on a 401 when one may start, step-up on a 403, all single-flight per server.
//!
//! It implements `mcp-transport`'s credential trait
//! ([`Authorizer`](mcp_transport::auth::Authorizer)) and speaks HTTP as a client only through that
//! crate's hyper client, over the `oauth2` crate's async client trait.
//!
//! # What it is not for
//! Transports, retry policy or connection management; and it never uses reqwest or rmcp's `auth`
//! feature.

pub mod authorizer;
pub mod browser;
pub mod callback;
pub mod discovery;
pub mod dpop;
pub mod enterprise;
pub mod flow;
pub mod grant;
pub mod registration;
pub mod store;
mod token_form;
pub mod workload;

pub use authorizer::{AuthError, Grant, OAuthAuthorizer, OAuthRuntime, OAuthSettings};
pub use browser::{Browser, BrowserError, BrowserMode, FollowBrowser, PrintBrowser, SystemBrowser};
pub use callback::{Authorization, CallbackCloser, CallbackError, CallbackOptions, CallbackServer};
pub use discovery::{DiscoveryError, ResourceMetadata, ServerMetadata, SsrfGuard};
pub use dpop::{DpopKey, DpopProver};
pub use enterprise::EnterpriseIdentity;
pub use flow::{ClientCredentials, FlowError, PendingAuthorization, TokenAuthMethod};
pub use grant::{KeyError, PrivateKeyJwt};
pub use registration::{ClientIdentity, RegistrationError};
pub use store::{
    FileStore, ImportReport, MemoryStore, SkipReason, SkippedFile, StoreError, StoreKey, StoreLock,
    StoredClient, StoredTokens, TokenStore,
};
pub use workload::WorkloadIdentity;
