//! What happens to connections, published as it happens.
//!
//! [`ManagerEvent`]s go out on one broadcast channel per manager (1,024 deep); a receiver that
//! falls behind loses the oldest events and is told how many. Publishing never waits.

use std::time::Duration;

use crate::{ServerId, TransportKind};
use serde_json::Value;

/// One thing that happened, for progress displays, logs and tests.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum ManagerEvent {
    /// A connect attempt started.
    Connecting {
        /// The server's name.
        server: String,
        /// The attempt number, from 1.
        attempt: u32,
    },
    /// An attempt failed and another will follow after `delay`.
    Retrying {
        /// The server's name.
        server: String,
        /// The attempt that failed.
        attempt: u32,
        /// The wait before the next one.
        delay: Duration,
        /// Why it failed.
        cause: String,
    },
    /// The server is connected and discovered.
    Ready {
        /// The server's name.
        server: String,
        /// Its id.
        id: ServerId,
    },
    /// An HTTP server configured without a transport refused streamable HTTP and was reached
    /// through another one (the legacy HTTP+SSE transport); the attempt goes on over it.
    TransportFallback {
        /// The server's name.
        server: String,
        /// What it is reached through now.
        transport: TransportKind,
        /// Why streamable HTTP was not it (the refused `initialize` POST).
        reason: String,
    },
    /// The server needs a login that may not start here (no browser configured); a login with a
    /// browser ([`Manager::login`](crate::Manager::login)) is the way out.
    AuthRequired {
        /// The server's name.
        server: String,
        /// What to do, as the error says it.
        message: String,
    },
    /// Connecting gave up.
    Failed {
        /// The server's name.
        server: String,
        /// Why.
        error: String,
    },
    /// A connected server stopped working (exited, session lost, missed keep-alive).
    Unhealthy {
        /// The server's name.
        server: String,
        /// Its id.
        id: ServerId,
        /// Why.
        cause: String,
    },
    /// An unhealthy connection was replaced by a working one.
    Recovered {
        /// The server's name.
        server: String,
        /// Its id (unchanged).
        id: ServerId,
    },
    /// The server's tools, resources or prompts changed and were listed again.
    Refreshed {
        /// The server's name.
        server: String,
        /// Its id.
        id: ServerId,
    },
    /// A resource the client subscribed to changed.
    ResourceUpdated {
        /// The server's name.
        server: String,
        /// The resource.
        uri: String,
    },
    /// The server reported progress on a request.
    Progress {
        /// The server's name.
        server: String,
        /// Progress so far.
        progress: f64,
        /// The total, if known.
        total: Option<f64>,
        /// A message, if any.
        message: Option<String>,
    },
    /// The server sent a log message.
    Log {
        /// The server's name.
        server: String,
        /// Its level (debug, info, warning, error...).
        level: String,
        /// The logger, if named.
        logger: Option<String>,
        /// The data.
        data: Value,
    },
    /// The connection was closed (disconnect, shutdown or drop).
    Closed {
        /// The server's name.
        server: String,
        /// Its id.
        id: ServerId,
    },
}
