//! stdio servers: a child process in its own process group, speaking newline-delimited JSON-RPC.
//!
//! On Linux a server dies with this process, even when this process is SIGKILLed (the server is
//! started with a parent-death signal). Descendants that leave the server's process group can be
//! caught too, by opting in to [`become_subreaper`] and [`kill_adopted_orphans`].
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use mcp_transport::{StdioSpec, StdioTransport};
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
mod orphans;
mod spawn;
mod spec;
mod stderr;
mod transport;

pub use crate::request::RequestError;
pub use direct::StdioDirectRequests;
pub use orphans::{
    SubreaperPause, all_reaped, become_subreaper, kill_adopted_orphans, pause_subreaper,
};
pub use spec::{
    EnvPolicy, SAFE_INHERITED_VARS, ShutdownTimings, StderrHandling, StdioLimits, StdioSpec,
};
pub use stderr::StderrTail;
pub use transport::{StdioProcess, StdioTransport};
