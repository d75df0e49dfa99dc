//! The demo server's one error type.

use std::net::SocketAddr;

/// Why the demo server could not start, or stopped serving.
///
/// Each message leads with what failed and names the address or transport involved.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DemoError {
    /// The address asked for is not loopback; the demo serves the local machine only.
    #[error(
        "refusing to serve the demo on {0}: it listens on loopback addresses only \
         (127.0.0.1 or [::1]), as it is for local use"
    )]
    NotLoopback(SocketAddr),
    /// The listening socket could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address asked for.
        addr: SocketAddr,
        /// The operating system's answer.
        #[source]
        source: std::io::Error,
    },
    /// The listener stopped accepting connections.
    #[error("the demo server on {addr} stopped accepting connections: {source}")]
    Accept {
        /// The address being served.
        addr: SocketAddr,
        /// The operating system's answer.
        #[source]
        source: std::io::Error,
    },
    /// The OAuth demo's options contradict each other or are malformed; the message names the
    /// first problem.
    #[error("invalid OAuth demo options: {0}")]
    InvalidOptions(String),
    /// rmcp could not complete the handshake, or the serving task failed.
    #[error("{context}: {source}")]
    Serve {
        /// What the demo was doing.
        context: &'static str,
        /// The underlying failure.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
}

impl DemoError {
    /// Wraps a failure while serving with what the demo was doing at the time.
    pub(crate) fn serve(
        context: &'static str,
        source: impl Into<Box<dyn std::error::Error + Send + Sync>>,
    ) -> Self {
        Self::Serve {
            context,
            source: source.into(),
        }
    }

    /// The address involved, for the errors that have one.
    pub fn addr(&self) -> Option<SocketAddr> {
        match self {
            Self::NotLoopback(addr) | Self::Bind { addr, .. } | Self::Accept { addr, .. } => {
                Some(*addr)
            }
            Self::InvalidOptions(_) | Self::Serve { .. } => None,
        }
    }
}
