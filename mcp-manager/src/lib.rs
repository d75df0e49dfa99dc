//! The facade: a [`Manager`] that connects to many MCP servers and owns every resource behind an
//! RAII guard.
//!
//! - [`Manager`]: `connect` (a complete attempt, spawn or open, handshake and discovery, under one
//!   timeout, wrapped in `mcp-retry`), `connect_all` (parallel, bounded), `recover`, `isolated`
//!   sessions, discovery of every page of tools, resources, templates and prompts (refreshed on
//!   `list_changed`), calls with timeouts that cancel on the server and results kept whole, an
//!   aggregated [`catalog`](Manager::catalog) under qualified names, health, [`events`](Manager::events),
//!   `disconnect` and `shutdown(grace)`.
//! - [`config`]: what a configuration file says about each server.
//! - the `mcpcord` binary: `health`, `inspect`, `call`, `bench`, `demo`, `serve-demo`.
//!
//! # The four rules it is built on
//! 1. Retry wraps a complete connect attempt; a guard never retries inside itself.
//! 2. Cleanup never awaits: every `Drop` is synchronous, non-blocking and needs no runtime; a graceful
//!    async `close()` is separate and optional.
//! 3. Cancellation is cleanup: dropping any future mid-way leaves no child process, task, socket,
//!    listener or port behind.
//! 4. Shutting the whole manager down covers everything, in-flight OAuth callback servers included.

/// The sub-crates, so one dependency on `mcp-manager` reaches all of the toolkit.
pub use mcp_oauth as oauth;
pub use mcp_retry as retry;
pub use mcp_transport as transport;
/// The MCP model (`rmcp::model`) the API hands out: tools, results, content.
pub use rmcp;

pub mod catalog;
pub mod config;
pub mod discovery;
pub mod error;
pub mod events;
mod handler;
mod handshake;
mod manager;
mod requests;

pub use error::{AttemptError, CallError, ConnectError};
pub use events::{ManagerEvent, ServerId};
pub use handler::{ClientRoot, ElicitationPolicy, SamplingHandler};
pub use manager::{IsolatedSession, LoginReport, Manager, ManagerOptions, ShutdownReport};
