//! MCP authorization: discovery, client identity, PKCE, the loopback callback server and token stores.
//!
//! **Status: in progress.** Built and tested: [`discovery`] (with the SSRF guard), the loopback
//! [`callback`] server, the token [`store`]s, and the [`flow`]'s steps (scopes, the PKCE S256
//! authorization request, the `iss` check, code exchange and refresh on the `oauth2` crate). Still
//! to come: client registration, single-flight refresh, step-up, browsers, and the `Authorizer` that
//! plugs it all into the transport. The contract this crate meets when done
//! (DESIGN.md §3, "mcp-oauth", and the client checklist §4-6):
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
//!
//! It implements `mcp-transport`'s credential trait and speaks HTTP only through that crate's hyper
//! client, over the `oauth2` crate's async client trait.
//!
//! # What it is not for
//! Transports, retry policy or connection management; and it never uses reqwest or rmcp's `auth` feature.

pub mod callback;
pub mod discovery;
pub mod flow;
pub mod store;
