//! What happens to connections, published as it happens.

use std::fmt;
use std::time::Duration;

use serde_json::Value;

/// A connection's identity in one [`Manager`](crate::Manager): unique for the manager's lifetime.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ServerId(pub(crate) u64);

impl fmt::Display for ServerId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{}", self.0)
    }
}

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
    /// The server needs a login that may not start here (no browser configured): run `mcpcord login`.
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
