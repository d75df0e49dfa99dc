//! The transports every MCP connection stands on: stdio child processes and streamable HTTP, with
//! one error type that says what went wrong and whether retrying can help.
//!
//! - [`stdio`]: a server spawned without a shell as the leader of its own process group, with a safe
//!   inherited environment, stderr drained into `tracing` and a bounded tail, bounded line framing,
//!   a graceful close (stdin, SIGTERM, SIGKILL) and a `Drop` that kills the whole group at once,
//!   without blocking and without a tokio runtime.
//! - [`http`]: one shared hyper client (rustls with ring, HTTP/1.1 and HTTP/2, pooling, proxies,
//!   timeouts) implementing rmcp's `StreamableHttpClient`, with byte limits and the status mapping;
//!   and [`HttpTransport`](http::HttpTransport), our own streamable HTTP session (resumable event
//!   streams, transparent re-initialization, a bounded reconnect policy from `mcp-retry`).
//! - Direct requests ([`stdio::DirectRequests`], [`http::HttpDirectRequests`]): requests that skip
//!   rmcp's service loop, answered to the caller's own task and parsed as their method's result
//!   type, with [`RequestError`].
//! - [`auth`]: the [`Authorizer`](auth::Authorizer) trait through which the HTTP client gets bearer
//!   tokens and reports challenges; `mcp-oauth` implements it, so this crate never depends on OAuth.
//! - [`error`]: [`TransportError`], classified for `mcp-retry` by variant (never by message text).
//! - [`www_authenticate`]: a parser for `WWW-Authenticate` challenges.
//!
//! Both transports hand rmcp something `rmcp::serve_client` accepts:
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use mcp_transport::stdio::{StdioSpec, StdioTransport};
//!
//! let transport = StdioTransport::spawn("fixture", &StdioSpec::new("my-mcp-server"))?;
//! let process = transport.process();
//! match rmcp::serve_client((), transport).await {
//!     Ok(client) => println!("connected to {:?}", client.peer_info()),
//!     // rmcp's error says "connection closed"; the transport knows why.
//!     Err(_) => eprintln!("{}", process.close_reason().map_or_else(String::new, |e| e.to_string())),
//! }
//! # Ok(())
//! # }
//! ```
//!
//! # What it is not for
//! Retrying (the caller wraps whole connect attempts in `mcp-retry`), OAuth flows, or managing many
//! connections (`mcp-manager`).

pub mod auth;
pub mod error;
pub mod http;
mod malformed;
mod request;
pub mod stdio;
pub mod www_authenticate;

pub use error::{ErrorKind, TransportError};
pub use request::RequestError;
