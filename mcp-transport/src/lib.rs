//! The transports every MCP connection stands on: stdio child processes and streamable HTTP.
//!
//! **Status: skeleton.** Nothing here works yet; the transport issue fills it in. This page states the
//! contract that work must meet (DESIGN.md §3, "mcp-transport").
//!
//! # What it will hold
//! - **stdio**: a server spawned without a shell, in its own process group (so signals reach the
//!   grandchildren that `npx`/`uvx` wrappers start), with a safe inherited environment plus the configured
//!   variables. Its stderr is drained continuously into `tracing` and a bounded tail that errors quote.
//!   Graceful close: close stdin, wait, SIGTERM the group, wait, SIGKILL the group. `Drop` kills the group
//!   synchronously, reaps without blocking and needs no tokio runtime.
//! - **streamable HTTP**: one shared client on hyper, hyper-util and rustls (ring; webpki plus native
//!   roots) implementing rmcp's `StreamableHttpClient` in full, with byte-level response limits, the
//!   status mapping rmcp's session recovery relies on, bounded SSE reconnect driven by `mcp-retry`, and
//!   DELETE on close.
//! - **credentials**: an `Authorizer` trait through which the HTTP client asks for a bearer token and
//!   reports 401/403 challenges; `mcp-oauth` implements it, so this crate never depends on OAuth.
//! - **errors**: one `thiserror` enum in user terms (command not found, connection refused, TLS, timeout,
//!   HTTP status, auth required, protocol violation, server exited with its stderr tail, cancelled) that
//!   classifies itself for `mcp-retry` from its variants, never from message text.
//!
//! # What it is not for
//! Retrying (the caller wraps whole connect attempts in `mcp-retry`), OAuth flows, or managing many
//! connections (`mcp-manager`).

pub mod auth;
pub mod error;
pub mod http;
pub mod stdio;
pub mod www_authenticate;

pub use error::{ErrorKind, TransportError};
