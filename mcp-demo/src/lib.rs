//! The built-in demo MCP server: what `mcpcord serve-demo` serves and `mcpcord demo` starts.
//!
//! [`DemoServer`] is a small, stateless MCP server for trying clients: tools `echo`, `add` (with
//! structured output), `sleep`, `fail` (a tool error) and `time`; the resources [`README_URI`] and
//! [`CONFIG_URI`] and the template [`ITEM_TEMPLATE`]; the prompts `greet` and `summarize`. It is
//! served three ways:
//!
//! - over this process's stdin and stdout by [`serve_stdio`] (`mcpcord serve-demo --stdio`);
//! - over streamable HTTP at [`MCP_PATH`] on a loopback address by [`DemoHttpServer`]
//!   (`mcpcord serve-demo --http ADDR`), in place or on a task owned by a [`DemoHttpHandle`];
//!   alongside it, on the same address, the legacy HTTP+SSE transport of MCP 2024-11-05 (`GET`
//!   [`SSE_PATH`] opens a session, its messages are posted to [`MESSAGES_PATH`]), for clients of
//!   servers that have not moved on;
//! - over both behind OAuth, with a built-in authorization server on the same origin, by
//!   [`DemoAuthServer`] (`mcpcord serve-demo --http ADDR --oauth`), which is also the fixture OAuth
//!   clients are tested against: [`DemoAuthOptions`] has a knob for each kind of server they must
//!   handle.
//!
//! It is not a fault injector (the test fixture in `mcp-tests` is), and it never listens beyond the
//! local machine: binding anything but a loopback address is refused.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), mcp_demo::DemoError> {
//! use mcp_demo::DemoHttpServer;
//!
//! let server = DemoHttpServer::bind("127.0.0.1:0".parse().expect("a socket address")).await?;
//! let handle = server.spawn();
//! println!("try it: {}", handle.url()); // http://127.0.0.1:PORT/mcp
//! println!("or the old way: {}", handle.sse_url()); // http://127.0.0.1:PORT/sse
//! let watch = handle.watch();
//! handle.close().await?;
//! assert!(!watch.is_open(), "the listener and every connection are closed");
//! # Ok(())
//! # }
//! ```

mod error;
mod handle;
mod http;
mod oauth;
mod resources;
mod server;
mod sse;
mod stdio;
#[cfg(test)]
mod tests;

pub use error::DemoError;
pub use handle::{DemoHttpHandle, DemoHttpWatch};
pub use http::{DemoHttpServer, MCP_PATH};
pub use oauth::{
    DemoAuthHandle, DemoAuthOptions, DemoAuthServer, DemoAuthStats, DemoClient, IssParameter,
    JwtVerifier, MetadataLocation, RECORDED_REQUESTS, RecordedRequest,
};
pub use resources::{CONFIG_URI, ITEM_TEMPLATE, README_URI};
pub use server::{DemoEra, DemoServer, MAX_SLEEP, SERVER_NAME};
pub use sse::{MESSAGES_PATH, SSE_PATH};
pub use stdio::{serve_stdio, serve_stdio_era};
