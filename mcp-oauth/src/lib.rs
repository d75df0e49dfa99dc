//! MCP authorization: discovery, client identity, PKCE, the loopback callback server and token stores.
//!
//! The pieces, each usable on its own, and the [`authorizer`] that ties them together for the
//! transport (DESIGN.md §3, "mcp-oauth", and the client checklist §4-6):
//!
//! # What it holds
//! - **discovery**: protected-resource metadata (from the challenge's `resource_metadata`, then the
//!   path-based well-known URL, then the root one) with an exact `resource` match; authorization-server
//!   metadata (RFC 8414 and OpenID variants) with an issuer match; the 2025-03-26 fallback; an SSRF guard.
//! - **client identity**, in priority order: pre-registered, client metadata document, dynamic
//!   registration, stored per authorization server.
//! - **the authorization request**: PKCE S256 always (an authorization server without it is refused),
//!   a single-use 128-bit `state`, `resource` on every request, scopes from the challenge, step-up on
//!   `insufficient_scope`, RFC 9207 `iss` checks, and refresh shared by concurrent callers.
//! - **the loopback callback server** on hyper: 127.0.0.1, port 0 unless fixed, exact path, GET only,
//!   a wrong `state` rejected without ending the flow, one success then closed, an overall timeout. An
//!   RAII guard owns it; dropping the guard closes the socket at once without blocking.
//! - **token stores**: in memory and on disk (mode 0600, atomic writes, a cross-process lock).
//! - **browsers**: the system opener, print-only, and a `follow` driver for auto-approving servers.
//! - **the client credentials grant** for machines, with `client_secret_basic`, `client_secret_post`
//!   and `private_key_jwt` (ES256); and **enterprise-managed authorization** (SEP-990: token
//!   exchange at the identity provider, then the JWT bearer grant).
//! - **the [`authorizer::OAuthAuthorizer`]**: stored tokens, proactive refresh, one refresh per rejected
//!   token, a browser flow on a 401 when one may start, step-up on a 403, all single-flight per server.
//!
//! It implements `mcp-transport`'s credential trait and speaks HTTP only through that crate's hyper
//! client, over the `oauth2` crate's async client trait.
//!
//! # What it is not for
//! Transports, retry policy or connection management; and it never uses reqwest or rmcp's `auth` feature.

pub mod authorizer;
pub mod browser;
pub mod callback;
pub mod discovery;
pub mod enterprise;
pub mod flow;
pub mod grant;
pub mod registration;
pub mod store;
