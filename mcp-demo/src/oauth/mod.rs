//! The demo behind OAuth: the demo MCP server's two transports as two protected resources, with
//! a built-in authorization server on the same loopback origin. [`DemoAuthServer`] documents what it serves.
//!
//! Rooms: `options` (the knobs), `site` (the URLs they lead to, and the two resources), `service`
//! (routing, and the MCP endpoints' bearer check, challenges and step-up), `metadata`, `authorize`, `token` and
//! `register` (the endpoints), `registry` (clients, codes and tokens), `stats` (what was seen),
//! `wire` (HTTP and RFC 6749 plumbing).

mod authorize;
mod metadata;
mod options;
mod register;
mod registry;
mod service;
mod site;
mod stats;
mod token;
mod wire;

#[cfg(test)]
mod tests;

use std::{
    fmt,
    net::SocketAddr,
    sync::{Arc, Mutex, MutexGuard, PoisonError},
};

pub use options::{DemoAuthOptions, DemoClient, IssParameter, JwtVerifier, MetadataLocation};
pub use stats::{DemoAuthStats, RECORDED_REQUESTS, RecordedRequest};

use super::{DemoError, DemoHttpHandle, DemoHttpServer, DemoHttpWatch};
use registry::Registry;
use service::AuthService;
use site::Site;

/// The authorization server and resource server's shared state: the options, the URLs, and what
/// has been issued.
struct Auth {
    options: DemoAuthOptions,
    site: Site,
    registry: Mutex<Registry>,
}

impl Auth {
    fn new(addr: SocketAddr, options: DemoAuthOptions) -> Self {
        Self {
            site: Site::new(addr, &options),
            registry: Mutex::new(Registry::new(&options)),
            options,
        }
    }

    /// The registry, even if a panic elsewhere poisoned the lock: every update leaves it valid.
    fn registry(&self) -> MutexGuard<'_, Registry> {
        self.registry.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The demo MCP server behind OAuth, with a built-in authorization server on the same loopback
/// origin, bound and ready to serve.
///
/// It is what `mcpcord serve-demo --http ADDR --oauth` shows a login against, and the fixture our
/// OAuth client is tested on, so [`DemoAuthOptions`] has a knob for each kind of server a client must
/// handle: where the metadata lives (or that there is none), wrong `resource` or `issuer`,
/// plain-only PKCE, RFC 9207 `iss` missing or wrong, each way of registering and authenticating a
/// client, token lifetimes and rotation, challenge scopes and step-up, and a user who denies access.
///
/// The authorization server is strict the way a real one is: codes are single use and bound to
/// their client, redirect URI, PKCE challenge, resource and scopes; redirect URIs must be loopback
/// IP literals (any port); every refusal is an RFC 6749 error. It approves every valid request at
/// once (there is no login page), unless told to deny.
///
/// Paths, for an issuer path `P` ([`DemoAuthOptions::issuer_path`], `""` by default); every other
/// path is 404:
///
/// | Path | What |
/// |---|---|
/// | `/mcp` | the MCP endpoint, resource `…/mcp`; `Authorization: Bearer` required |
/// | `/sse`, `/messages` | the legacy HTTP+SSE endpoint (MCP 2024-11-05), resource `…/sse`; the same bearer check, on opening the stream and on every message |
/// | `/.well-known/oauth-protected-resource/mcp` | `/mcp`'s protected-resource metadata (`prm_at_path`, on by default) |
/// | `/.well-known/oauth-protected-resource/sse` | `/sse`'s (`prm_at_path`) |
/// | `/.well-known/oauth-protected-resource` | `/mcp`'s again (`prm_at_root`, off by default) |
/// | `/.well-known/oauth-authorization-server{P}` | authorization server metadata ([`MetadataLocation::Rfc8414`]) |
/// | `/.well-known/openid-configuration{P}` | the same ([`MetadataLocation::OpenIdInserted`]) |
/// | `{P}/.well-known/openid-configuration` | the same ([`MetadataLocation::OpenIdAppended`]) |
/// | `/.well-known/oauth-authorization-server` | the same ([`MetadataLocation::Legacy`], no protected-resource metadata) |
/// | `{P}/authorize`, `{P}/token`, `{P}/register` | the endpoints (`/register` only with `dcr`) |
///
/// With [`MetadataLocation::LegacyNoMetadata`] there is no metadata at all, and the endpoints
/// are `/authorize`, `/token` and `/register` whatever `P`.
///
/// The two transports are two resources, as RFC 9728 lays out two servers on one origin: each has
/// its identifier (its URL), its metadata (named by its own 401 challenges) and its tokens. The
/// authorization server issues tokens for either (`resource` names which), and each endpoint
/// refuses a token issued for the other with 401 `invalid_token`, so a client that logged in for
/// [`url`](Self::url) must log in again for [`sse_url`](Self::sse_url). Tokens issued without a
/// `resource` (only the 2025-03-26 variants accept that) are good at both.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), mcp_demo::DemoError> {
/// use mcp_demo::{DemoAuthOptions, DemoAuthServer};
///
/// let addr = "127.0.0.1:0".parse().expect("a socket address");
/// let server = DemoAuthServer::bind(addr, DemoAuthOptions::default()).await?;
/// let handle = server.spawn();
/// println!("log in to {} (issuer {})", handle.url(), handle.issuer());
/// assert_eq!(handle.stats().authorizations, 0);
/// handle.close().await?;
/// # Ok(())
/// # }
/// ```
///
/// Like [`DemoHttpServer`], binding and serving are separate so the URLs are known before the
/// first request; serve it in place with [`serve`](Self::serve) or on a task with
/// [`spawn`](Self::spawn).
pub struct DemoAuthServer {
    http: DemoHttpServer,
    auth: Arc<Auth>,
}

impl DemoAuthServer {
    /// Checks `options`, then binds `addr`, which must be loopback (`127.0.0.1:0` picks a free
    /// port).
    ///
    /// # Errors
    /// [`DemoError::InvalidOptions`] naming the first bad option; [`DemoError::NotLoopback`] for
    /// a non-loopback address, checked before binding; [`DemoError::Bind`] if the socket cannot be
    /// bound.
    pub async fn bind(addr: SocketAddr, options: DemoAuthOptions) -> Result<Self, DemoError> {
        options.validate().map_err(DemoError::InvalidOptions)?;
        let http = DemoHttpServer::bind(addr).await?;
        let auth = Arc::new(Auth::new(http.local_addr(), options));
        Ok(Self { http, auth })
    }

    /// The address actually bound.
    pub fn local_addr(&self) -> SocketAddr {
        self.http.local_addr()
    }

    /// The MCP endpoint, e.g. `http://127.0.0.1:41234/mcp`: also the canonical resource
    /// identifier clients must send as `resource`.
    pub fn url(&self) -> String {
        self.http.url()
    }

    /// The legacy HTTP+SSE endpoint, e.g. `http://127.0.0.1:41234/sse`: a protected resource of
    /// its own, whose identifier is this URL (tokens for [`url`](Self::url) are refused here, and
    /// the other way round).
    pub fn sse_url(&self) -> String {
        self.http.sse_url()
    }

    /// The authorization server's issuer, e.g. `http://127.0.0.1:41234/tenant1` (the real one,
    /// even when the metadata is told to name another).
    pub fn issuer(&self) -> &str {
        &self.auth.site.issuer
    }

    /// A watch on this server's sockets: open until the listener and every accepted connection
    /// are closed.
    pub fn watch(&self) -> DemoHttpWatch {
        self.http.watch()
    }

    /// Serves until accepting fails; dropping the future closes the listener and every
    /// connection at once. See [`DemoHttpServer::serve`].
    ///
    /// # Errors
    /// [`DemoError::Accept`] if the listener fails.
    pub async fn serve(self) -> Result<(), DemoError> {
        let service = AuthService::new(self.local_addr(), self.auth);
        self.http.serve_with(service).await
    }

    /// Serves on a new Tokio task, returning the handle that owns it: dropping the handle closes
    /// the listener and every connection at once; [`DemoAuthHandle::close`] stops gracefully.
    ///
    /// # Panics
    /// Outside a Tokio runtime, as [`tokio::spawn`] does.
    pub fn spawn(self) -> DemoAuthHandle {
        let service = AuthService::new(self.local_addr(), Arc::clone(&self.auth));
        DemoAuthHandle {
            http: self.http.spawn_with(service),
            auth: self.auth,
        }
    }
}

impl fmt::Debug for DemoAuthServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DemoAuthServer")
            .field("url", &self.url())
            .field("issuer", &self.issuer())
            .finish_non_exhaustive()
    }
}

/// The OAuth demo running on a Tokio task, from [`DemoAuthServer::spawn`].
///
/// Dropping it stops the server at once, as dropping a [`DemoHttpHandle`] does; besides the
/// lifecycle, it gives tests what the server saw ([`stats`](Self::stats)) and ways to make tokens
/// stale without waiting.
pub struct DemoAuthHandle {
    http: DemoHttpHandle,
    auth: Arc<Auth>,
}

impl DemoAuthHandle {
    /// The address the server listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.http.local_addr()
    }

    /// The MCP endpoint and canonical resource identifier, e.g. `http://127.0.0.1:41234/mcp`.
    pub fn url(&self) -> String {
        self.http.url()
    }

    /// The legacy HTTP+SSE endpoint and its resource identifier, e.g.
    /// `http://127.0.0.1:41234/sse`; see [`DemoAuthServer::sse_url`].
    pub fn sse_url(&self) -> String {
        self.http.sse_url()
    }

    /// The authorization server's issuer.
    pub fn issuer(&self) -> &str {
        &self.auth.site.issuer
    }

    /// A watch on the server's sockets that outlives this handle.
    pub fn watch(&self) -> DemoHttpWatch {
        self.http.watch()
    }

    /// How many legacy SSE sessions are running; see [`DemoHttpHandle::sse_sessions`].
    pub fn sse_sessions(&self) -> usize {
        self.http.sse_sessions()
    }

    /// Completes once no legacy SSE session is running; see
    /// [`DemoHttpHandle::sse_sessions_ended`].
    pub async fn sse_sessions_ended(&self) {
        self.http.sse_sessions_ended().await;
    }

    /// A snapshot of the counters and recent requests.
    pub fn stats(&self) -> DemoAuthStats {
        self.auth.registry().stats.clone()
    }

    /// Makes every access token issued so far expired: the next MCP request with one (at either
    /// endpoint) is answered 401 `invalid_token`. Tokens issued afterwards are unaffected.
    pub fn expire_access_tokens(&self) {
        self.auth.registry().expire_access_tokens();
    }

    /// Makes every refresh token issued so far invalid: the next refresh with one is answered
    /// `invalid_grant`.
    pub fn revoke_refresh_tokens(&self) {
        self.auth.registry().revoke_refresh_tokens();
    }

    /// Stops the server gracefully; see [`DemoHttpHandle::close`].
    ///
    /// # Errors
    /// As [`DemoHttpHandle::close`].
    pub async fn close(self) -> Result<(), DemoError> {
        self.http.close().await
    }
}

impl fmt::Debug for DemoAuthHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DemoAuthHandle")
            .field("url", &self.url())
            .field("issuer", &self.issuer())
            .finish_non_exhaustive()
    }
}
