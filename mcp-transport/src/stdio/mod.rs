//! stdio servers: a child process in its own process group, speaking newline-delimited JSON-RPC.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use mcp_transport::stdio::{StdioSpec, StdioTransport};
//!
//! let spec = StdioSpec::new("npx").args(["-y", "@modelcontextprotocol/server-everything"]);
//! let transport = StdioTransport::spawn("everything", &spec)?;
//! let process = transport.process();
//! let client = rmcp::serve_client((), transport).await?;
//! // ... use the client ...
//! drop(client);
//! process.kill(); // synchronous; also what dropping the transport does
//! # Ok(())
//! # }
//! ```

mod child;
mod direct;
mod spec;
mod stderr;
mod transport;

pub use crate::request::RequestError;
pub use direct::DirectRequests;
pub use spec::{EnvPolicy, SAFE_INHERITED_VARS, ShutdownTimings, StdioLimits, StdioSpec};
pub use stderr::StderrTail;
pub use transport::{StdioProcess, StdioTransport};
