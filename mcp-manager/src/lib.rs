//! Connect a program to MCP servers and keep the connections correct: the facade of the toolkit.
//!
//! Connect one stdio server, list its tools, call one, shut down:
//!
//! ```no_run
//! use std::time::Duration;
//!
//! use mcp_manager::{Manager, ManagerOptions, ServerConfig};
//! use serde_json::json;
//!
//! #[tokio::main]
//! async fn main() -> Result<(), Box<dyn std::error::Error>> {
//!     let manager = Manager::new(ManagerOptions::default())?;
//!     let everything = ServerConfig::stdio("npx", ["-y", "@modelcontextprotocol/server-everything"]);
//!     let server = manager.connect("everything", &everything).await?;
//!     for tool in &manager.listing(server)?.tools {
//!         println!("{}: {}", tool.name, tool.description.as_deref().unwrap_or(""));
//!     }
//!     let result = manager.call_tool(server, "echo", json!({ "message": "hi" })).await?;
//!     println!("{:?}", result.content);
//!     manager.shutdown(Duration::from_secs(2)).await;
//!     Ok(())
//! }
//! ```
//!
//! (`no_run`: it needs Node.js; `mcpcord`'s tests take the same steps against the demo server.) One dependency reaches the whole toolkit: this crate re-exports [`oauth`]
//! (`mcp-oauth`), [`transport`] (`mcp-transport`), [`retry`] (`mcp-retry`) and [`rmcp`], whose
//! [`model`] types (tools, results, content) the API hands out.
//!
//! - [`Manager`]: `connect` (a complete attempt, spawn or open, handshake and discovery, under one
//!   timeout, wrapped in `mcp-retry`), `connect_all` (parallel, bounded), `recover`, `isolated`
//!   sessions, the [`Listing`] of every page of tools, resources, templates and prompts (refreshed
//!   on `list_changed`), calls with timeouts that cancel on the server and results kept whole, an
//!   aggregated [`Catalog`] under qualified names, [`Health`], [`events`](Manager::events),
//!   `disconnect` and `shutdown(grace)`.
//! - The client side of the protocol, in [`ManagerOptions`]: roots ([`ClientRoot`]), elicitation
//!   ([`ElicitationPolicy`]: decline, accept the defaults, or ask an [`ElicitationHandler`], which
//!   [`ElicitationForm`] helps build a form for) and sampling ([`SamplingHandler`]).
//! - [`skills`]: skills (SEP-2640) listed without reading a file, loaded and read only after
//!   their size, digest and frontmatter match the server's entry ([`SkillError`] otherwise).
//! - [`config`]: what a configuration file says about each server (`mcpcord.toml`, and the JSON
//!   files other MCP clients write); the reference for the file format.
//! - Errors answer questions: [`ConnectError::is_login_required`], [`ConnectError::auth_error`],
//!   [`CallError::tool_result`], [`CallError::transport_error`], and a stable `code()` on each.
//!
//! # The four rules it is built on
//! 1. Retry wraps a complete connect attempt; a guard never retries inside itself.
//! 2. Cleanup never awaits: every `Drop` is synchronous, non-blocking and needs no runtime; a graceful
//!    async `close()` is separate and optional.
//! 3. Cancellation is cleanup: dropping any future mid-way leaves no child process, task, socket,
//!    listener or port behind.
//! 4. Shutting the whole manager down covers everything, in-flight OAuth callback servers included.

pub use mcp_oauth as oauth;
pub use mcp_retry as retry;
pub use mcp_transport as transport;
pub use rmcp;
/// rmcp's MCP model: the types the API hands out (`Tool`, `CallToolResult`, `ContentBlock`, ...).
pub use rmcp::model;

pub mod catalog;
pub mod config;
pub mod elicitation;
pub mod error;
pub mod events;
mod handler;
mod handshake;
mod listen;
pub mod listing;
mod manager;
mod requests;
mod server_id;
pub mod skills;

pub use catalog::{Catalog, CatalogEntry};
pub use config::{Config, ConfigError, ServerConfig};
pub use elicitation::{
    Choice, ElicitationForm, FieldError, FieldKind, FormError, FormField, TextFormat,
};
pub use error::{AttemptError, CallError, ConnectError, NoHttpTransport};
pub use events::ManagerEvent;
pub use handler::{ClientRoot, ElicitationHandler, ElicitationPolicy, SamplingHandler};
pub use listing::Listing;
pub use manager::{
    Health, IsolatedSession, LoginReport, Manager, ManagerOptions, ShutdownReport, TransportKind,
};
pub use server_id::ServerId;
pub use skills::{LoadedSkill, SkillError, SkillFile};
pub use url::Url;

/// README.md's Rust examples, compiled as doctests.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
struct ReadmeDoctests;
