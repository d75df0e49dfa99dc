//! The [`OAuthAuthorizer`] that plugs MCP authorization into the HTTP transport (it implements
//! `mcp-transport`'s [`Authorizer`](mcp_transport::auth::Authorizer) trait): stored tokens,
//! proactive and on-401 refresh, the browser flow on a 401, step-up on a 403, the client
//! credentials grant, and single flight for all of them.
//!
//! # How it fits together
//! An [`OAuthRuntime`] is shared by every server of one program (the manager holds one). For each
//! server it hands out [`OAuthAuthorizer`]s; all authorizers for the same server (same
//! [`StoreKey`](crate::StoreKey)) share one state behind one async lock, which is the single-flight
//! mechanism: while one caller refreshes or runs a browser flow, concurrent callers wait on the
//! lock and then find the new token (their rejected token is no longer the current one), so twenty
//! connections produce one authorization. Different servers have different locks and run fully in
//! parallel, each flow with its own loopback listener and `state`. Across processes, the
//! [`TokenStore`](crate::TokenStore)'s lock serialises refreshes, and tokens are re-read after
//! taking it.
//!
//! Cancellation is cleanup: a flow is a future owning its [`CallbackServer`](crate::CallbackServer);
//! dropping it (a timeout, a cancelled connect) closes the listener at once.
//! [`OAuthRuntime::shutdown`] ends every flow in flight the same way and refuses new ones.
//!
//! # Where things are
//! - `error`: [`AuthError`].
//! - `settings`: [`OAuthSettings`] and [`Grant`], what one server is configured with.
//! - `runtime`: [`OAuthRuntime`], and the registry of browser flows that shutdown closes.
//! - `server`: the per-server state and the authorizer's own API (tokens, logout).
//! - `challenge`: the transport's side: the token to send, and what a 401 or 403 leads to.
//! - `obtain`: new tokens, by the browser flow or a machine grant, with discovery and registration.
//! - `refresh`: refreshing held tokens, and when they are due for it.

mod challenge;
mod error;
mod obtain;
mod refresh;
mod runtime;
mod server;
mod settings;

pub use challenge::MAX_AUTHORIZATIONS;
pub use error::AuthError;
pub use runtime::{DEFAULT_LOGIN_TIMEOUT, OAuthRuntime};
pub use server::OAuthAuthorizer;
pub use settings::{Grant, OAuthSettings};
