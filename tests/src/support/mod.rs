//! What the integration tests share: bounded waiting, processes as `/proc` shows them, scratch
//! directories, small readers of MCP results, the stock legacy HTTP+SSE servers, and the `mcpcord`
//! binary run away from the developer's own home.
//!
//! One copy of each, for every test binary of this package and for `mcpcord`'s tests. The crates this
//! package depends on (`mcp-transport`, `mcp-oauth`, `mcp-manager`, `mcp-demo`) cannot use it from their
//! own tests (a dev-dependency on it would build them twice, with types that do not match), so they
//! keep what they need once, in their own test binary.
//!
//! ```no_run
//! # async fn demo(server: u32) {
//! use mcp_tests::support::{eventually, reaped};
//!
//! // A killed process disappears asynchronously: wait for it, bounded.
//! eventually("the server is reaped", || reaped(server)).await;
//! # }
//! ```

mod legacy_sse;
mod mcp;
mod mcpcord;
mod net;
mod procs;
mod temp;
mod wait;

pub use legacy_sse::{LegacySseKind, LegacySseServer};
pub use mcp::{stdio_fixture_args, text_of};
pub use mcpcord::mcpcord_command;
pub use net::refused_port;
pub use procs::{
    KillOnDrop, escaping_server_script, live_children_of, read_pid, reaped, running, state_of,
};
pub use temp::{TempDir, files_under};
pub use wait::{BOUND, eventually, eventually_blocking, eventually_some, eventually_some_blocking};
