//! The demo server through rmcp's client: its MCP surface in-process, and its HTTP lifecycle.

use std::{future::Future, time::Duration};

mod http;
mod mcp;

/// The most any step of these tests may take; reaching it is a failure, never a wait.
const BOUND: Duration = Duration::from_secs(10);

/// `future`'s output, or a panic naming `what` if it takes longer than [`BOUND`].
async fn bounded<T>(what: &str, future: impl Future<Output = T>) -> T {
    tokio::time::timeout(BOUND, future)
        .await
        .unwrap_or_else(|_| panic!("{what} took longer than {BOUND:?}"))
}
