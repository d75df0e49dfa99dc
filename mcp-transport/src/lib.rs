//! The transports every MCP connection stands on: stdio child processes and streamable HTTP, with
//! one error type that says what went wrong and whether retrying can help.
//!
//! Every type a user names is at the crate root (`mcp_transport::{StdioTransport, HttpClient,
//! TransportError, ...}`); the modules hold the mechanisms, and the free functions and constants
//! that go with them.
//!
//! - [`stdio`]: a server spawned without a shell as the leader of its own process group, with a safe
//!   inherited environment, stderr drained into `tracing` and a bounded tail, bounded line framing,
//!   a graceful close (stdin, SIGTERM, SIGKILL) and a `Drop` that kills the whole group at once,
//!   without blocking and without a tokio runtime. Start from [`StdioSpec`] and [`StdioTransport`].
//! - [`http`]: one shared hyper client ([`HttpClient`]: rustls with ring, HTTP/1.1 and HTTP/2,
//!   pooling, proxies, timeouts) implementing rmcp's `StreamableHttpClient`, with byte limits and the
//!   status mapping; and [`HttpTransport`], our own streamable HTTP session (resumable event
//!   streams, transparent re-initialization, a bounded reconnect policy from `mcp-retry`).
//! - Direct requests ([`StdioDirectRequests`] for stdio, [`HttpDirectRequests`]): requests that skip
//!   rmcp's service loop, answered to the caller's own task and parsed as their method's result
//!   type, with [`RequestError`].
//! - [`auth`]: the [`Authorizer`] trait through which the HTTP client gets tokens ([`Credential`]:
//!   bearer, or DPoP-bound with a [`DpopSigner`] for its proofs) and reports challenges;
//!   `mcp-oauth` implements it, so this crate never depends on OAuth.
//! - [`error`]: [`TransportError`], classified for `mcp-retry` by variant (never by message text).
//! - [`www_authenticate`]: a parser for `WWW-Authenticate` challenges ([`Challenge`]).
//!
//! Both transports hand rmcp something `rmcp::serve_client` accepts. A stdio server:
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use mcp_transport::{StdioSpec, StdioTransport};
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
//! A streamable HTTP server, through one [`HttpClient`] shared by every server:
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use mcp_transport::{HttpClient, HttpOptions, HttpTransportOptions, TransportError};
//!
//! let client = HttpClient::new(HttpOptions::default())?;
//! let transport = client.transport("http://127.0.0.1:8080/mcp", None, HttpTransportOptions::default())?;
//! match rmcp::serve_client((), transport).await {
//!     Ok(service) => println!("connected to {:?}", service.peer_info()),
//!     Err(error) => match TransportError::find_in(&error) {
//!         Some(error) if error.is_auth_required() => eprintln!("log in first: {error}"),
//!         Some(error) => eprintln!("{error} [{}]", error.code()),
//!         None => eprintln!("{error}"),
//!     },
//! }
//! # Ok(())
//! # }
//! ```
//!
//! Errors answer questions rather than being matched on their text:
//!
//! ```
//! use std::time::Duration;
//! use mcp_transport::TransportError;
//!
//! let error = TransportError::HttpStatus {
//!     status: 503,
//!     retry_after: Some(Duration::from_secs(2)),
//!     body_excerpt: String::new(),
//! };
//! assert!(error.is_http_status());
//! assert_eq!(error.code(), "http_status"); // stable, for machine-readable output
//! assert_eq!(error.status(), Some(503));
//! assert!(error.is_retryable());
//! assert_eq!(error.retry_after(), Some(Duration::from_secs(2)));
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

// The vocabulary: every type a user names, at the root. The modules stay public for their free
// functions and constants (`stdio::become_subreaper`, `www_authenticate::parse_challenges`,
// `error::terminal_safe`...) and for the paths existing code uses.
pub use auth::{
    AuthChallenge, Authorizer, ChallengeOutcome, Credential, DpopSigner, MissingToken, StaticBearer,
};
pub use error::{ExitInfo, ExitPhase, SpawnFailure, TimeoutPhase, TransportError};
pub use http::{
    HttpClient, HttpClientBuildError, HttpDirectRequests, HttpOptions, HttpTransport,
    HttpTransportOptions, InvalidParamHeader, LegacySseTransport, ParamHeaders, ProxyConfig,
    SseCloseReason, SseReconnectPolicy, StreamableClient, ToolHeaderMap,
};
pub use request::RequestError;
pub use stdio::{
    EnvPolicy, ShutdownTimings, StderrHandling, StderrTail, StdioDirectRequests, StdioLimits,
    StdioProcess, StdioSpec, StdioTransport,
};
pub use www_authenticate::{Challenge, ChallengeParseError};
