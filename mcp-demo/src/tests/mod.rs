//! The demo server through rmcp's client: its MCP surface in-process, and its HTTP lifecycle.
//!
//! Also the one copy of what every test module of this crate shares (`oauth::tests` included):
//! [`bounded`] and [`assert_refused`].

use std::{future::Future, time::Duration};

mod http;
mod mcp;
mod sse;
pub(crate) mod sse_client;

/// The most any step of these tests may take; reaching it is a failure, never a wait.
const BOUND: Duration = Duration::from_secs(10);

/// `future`'s output, or a panic naming `what` if it takes longer than [`BOUND`].
pub(crate) async fn bounded<T>(what: &str, future: impl Future<Output = T>) -> T {
    tokio::time::timeout(BOUND, future)
        .await
        .unwrap_or_else(|_| panic!("{what} took longer than {BOUND:?}"))
}

/// Asserts that nothing listens on `addr` any more.
pub(crate) async fn assert_refused(addr: std::net::SocketAddr) {
    let error = bounded("connecting", tokio::net::TcpStream::connect(addr))
        .await
        .expect_err("the listener is closed");
    assert_eq!(
        error.kind(),
        std::io::ErrorKind::ConnectionRefused,
        "{error}"
    );
}
