//! What can go wrong when connecting to a server or calling it, in user terms.

use std::time::Duration;

use mcp_retry::{Decision, RetryError, Retryable};
use mcp_transport::TransportError;
use rmcp::model::CallToolResult;

/// Why one connect attempt failed.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum AttemptError {
    /// The transport failed (spawn, network, HTTP status, server exit...).
    #[error(transparent)]
    Transport(TransportError),
    /// The whole attempt (spawn or open, handshake, discovery) took longer than `connect_timeout`.
    #[error("connect timed out after {} (connect_timeout)", humantime::format_duration(*.0))]
    Timeout(Duration),
    /// The server answered the handshake, but not acceptably (a JSON-RPC error, no common version).
    #[error("handshake failed: {0}")]
    Handshake(String),
    /// Listing the server's tools, resources or prompts failed.
    #[error("discovery failed: {0}")]
    Discovery(String),
    /// The configuration cannot work (e.g. the bearer token variable is unset).
    #[error("{0}")]
    Config(String),
}

impl Retryable for AttemptError {
    fn retry_decision(&self) -> Decision {
        match self {
            AttemptError::Transport(error) => error.retry_decision(),
            AttemptError::Timeout(_) | AttemptError::Discovery(_) => Decision::Retry,
            AttemptError::Handshake(_) | AttemptError::Config(_) => Decision::Stop,
        }
    }
}

impl AttemptError {
    /// A stable snake_case name of the failure, as the CLI's JSON output uses.
    pub fn kind(&self) -> &'static str {
        match self {
            AttemptError::Transport(error) => error.kind().as_str(),
            AttemptError::Timeout(_) => "timeout",
            AttemptError::Handshake(_) => "handshake",
            AttemptError::Discovery(_) => "discovery",
            AttemptError::Config(_) => "config",
        }
    }
}

/// Why a server could not be connected.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConnectError {
    /// Every attempt failed (or the failure was not worth retrying).
    #[error("{server}: {error}")]
    Failed {
        /// The server's name.
        server: String,
        /// The last attempt's error, the attempt count, the elapsed time and why it stopped.
        error: RetryError<AttemptError>,
    },
    /// A server with this name is already connected; names are unique.
    #[error("a server named {0:?} is already connected")]
    DuplicateName(String),
    /// The manager was shut down (before or during the connect).
    #[error("{0}: the manager is shut down")]
    ShutDown(String),
    /// The server's configuration cannot do what was asked (e.g. `login` for a stdio server).
    #[error("{server}: {message}")]
    Config {
        /// The server's name.
        server: String,
        /// What is wrong.
        message: String,
    },
    /// Reading or forgetting the server's OAuth tokens failed.
    #[error("{server}: {error}")]
    Auth {
        /// The server's name.
        server: String,
        /// Why (boxed: it is large, and this path is rare).
        error: Box<mcp_oauth::authorizer::AuthError>,
    },
}

impl ConnectError {
    /// The last attempt's error, when attempts were made.
    pub fn last_error(&self) -> Option<&AttemptError> {
        match self {
            ConnectError::Failed { error, .. } => Some(error.last_error()),
            _ => None,
        }
    }

    /// How many attempts were made (0 if none could start).
    pub fn attempts(&self) -> u32 {
        match self {
            ConnectError::Failed { error, .. } => error.attempts(),
            _ => 0,
        }
    }

    /// A stable snake_case name of the failure, as the CLI's JSON output uses.
    pub fn kind(&self) -> &'static str {
        match self {
            ConnectError::Failed { error, .. } => error.last_error().kind(),
            ConnectError::DuplicateName(_) => "duplicate_name",
            ConnectError::ShutDown(_) => "shut_down",
            ConnectError::Config { .. } => "config",
            ConnectError::Auth { .. } => "authorization",
        }
    }
}

/// Why a request to a connected server failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CallError {
    /// No server has this id (never connected, or disconnected).
    #[error("no connected server with id {0}")]
    UnknownServer(String),
    /// No tool has this qualified name in the catalog.
    #[error("no tool named {0:?} in the catalog")]
    UnknownTool(String),
    /// The connection is unhealthy; the cause says why. Recover it (or enable `auto_recover`).
    #[error("{server} is unhealthy: {cause}")]
    Unhealthy {
        /// The server's name.
        server: String,
        /// What made it unhealthy.
        cause: String,
    },
    /// The server did not answer within `request_timeout`; the request was cancelled.
    #[error("{server}: no answer within {} (request_timeout); the request was cancelled", humantime::format_duration(*timeout))]
    Timeout {
        /// The server's name.
        server: String,
        /// The limit that passed.
        timeout: Duration,
    },
    /// The server answered with a JSON-RPC error.
    #[error("{server}: {message} (JSON-RPC error {code})")]
    Rpc {
        /// The server's name.
        server: String,
        /// The JSON-RPC error code.
        code: i32,
        /// The error message.
        message: String,
    },
    /// The tool ran and reported failure (`isError: true`); the full result is kept.
    #[error("{server}: tool {tool} failed: {}", summary(result))]
    ToolFailed {
        /// The server's name.
        server: String,
        /// The tool's name.
        tool: String,
        /// Everything the tool returned.
        result: Box<CallToolResult>,
    },
    /// The connection broke during the request; it is now unhealthy. The request may have reached
    /// the server, so it is not replayed.
    #[error("{server}: connection lost: {cause}")]
    ConnectionLost {
        /// The server's name.
        server: String,
        /// What the transport said.
        cause: String,
    },
    /// Recovering the unhealthy connection failed.
    #[error("{0}")]
    RecoveryFailed(Box<ConnectError>),
}

fn summary(result: &CallToolResult) -> String {
    let texts: Vec<String> = result
        .content
        .iter()
        .filter_map(|content| content.as_text().map(|text| text.text.clone()))
        .collect();
    if texts.is_empty() {
        "no text content".to_owned()
    } else {
        texts.join(" ")
    }
}
