//! What can go wrong when connecting to a server or calling it, in user terms.
//!
//! - [`AttemptError`]: why one connect attempt failed, classified for retry
//!   (`mcp_retry::Retryable`).
//! - [`ConnectError`]: why a connect gave up (the last attempt's error, the attempt count and the
//!   elapsed time), never started (a duplicate name, a manager shut down), or, for `login` and
//!   `logout`, a configuration that cannot use OAuth or a token store that failed.
//! - [`CallError`]: why a call has no result; a tool result with `isError: true` is
//!   [`CallError::ToolFailed`], never a success.
//!
//! Each has a stable `code()` and accessors that reach the cause (`transport_error()`,
//! `auth_error()`, `tool_result()`), so callers never match on message text. Configuration files
//! fail with their own [`ConfigError`](crate::config::ConfigError).

use std::time::Duration;

use mcp_oauth::AuthError;
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
    /// Listing the server's tools, resources or prompts failed (MCP calls this discovery).
    #[error("listing what the server offers failed: {0}")]
    Listing(String),
    /// An HTTP server configured without a transport was neither: streamable HTTP refused the
    /// `initialize` POST (400, 404 or 405), and a `GET` for a legacy SSE stream failed too.
    #[error("{0}")]
    NoHttpTransport(Box<NoHttpTransport>),
    /// The configuration cannot work (e.g. the bearer token variable is unset).
    #[error("{0}")]
    Config(String),
}

impl Retryable for AttemptError {
    fn retry_decision(&self) -> Decision {
        match self {
            AttemptError::Transport(error) => error.retry_decision(),
            // The refusal that made the fallback happen decides (both were answers).
            AttemptError::NoHttpTransport(refused) => refused.streamable.retry_decision(),
            AttemptError::Timeout(_) | AttemptError::Listing(_) => Decision::Retry,
            AttemptError::Handshake(_) | AttemptError::Config(_) => Decision::Stop,
        }
    }
}

impl AttemptError {
    /// A stable snake_case name of the failure (the CLI's JSON carries it as `kind`).
    pub fn code(&self) -> &'static str {
        match self {
            AttemptError::Transport(error) => error.code(),
            AttemptError::NoHttpTransport(refused) => refused.streamable.code(),
            AttemptError::Timeout(_) => "timeout",
            AttemptError::Handshake(_) => "handshake",
            AttemptError::Listing(_) => "listing",
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
        #[source]
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
        #[source]
        error: Box<AuthError>,
    },
}

impl AttemptError {
    /// The transport's error, when the transport failed.
    pub fn transport_error(&self) -> Option<&TransportError> {
        match self {
            AttemptError::Transport(error) => Some(error),
            // The legacy attempt's refusal: an authorization error there is the one to act on.
            AttemptError::NoHttpTransport(refused) => Some(&refused.legacy),
            _ => None,
        }
    }

    /// The OAuth error, when getting a token failed (a login needed and not allowed, the user or
    /// the authorization server refused, a flow that failed).
    pub fn auth_error(&self) -> Option<&AuthError> {
        AuthError::from_transport_error(self.transport_error()?)
    }
}

impl ConnectError {
    /// The OAuth error behind the failure: the last attempt's, or reading or forgetting the stored
    /// tokens.
    pub fn auth_error(&self) -> Option<&AuthError> {
        match self {
            ConnectError::Auth { error, .. } => Some(error),
            _ => self.last_error().and_then(AttemptError::auth_error),
        }
    }

    /// Whether the server needs a person to sign in and none could here (no browser, or the
    /// login was not allowed): a login with a browser ([`Manager::login`](crate::Manager::login))
    /// is the way out.
    pub fn is_login_required(&self) -> bool {
        self.auth_error().is_some_and(AuthError::is_login_required)
    }

    /// Whether the manager was shut down before or during the connect.
    pub fn is_shut_down(&self) -> bool {
        matches!(self, ConnectError::ShutDown(_))
    }

    /// Whether another connection already has the name.
    pub fn is_duplicate_name(&self) -> bool {
        matches!(self, ConnectError::DuplicateName(_))
    }

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

    /// A stable snake_case name of the failure (the CLI's JSON carries it as `kind`).
    pub fn code(&self) -> &'static str {
        match self {
            ConnectError::Failed { error, .. } => error.last_error().code(),
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
        /// The error's `data`, as the server sent it (any JSON value), if it sent one.
        data: Option<serde_json::Value>,
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
        /// What broke: the transport's own reason (a server's exit with its stderr, a reset, a
        /// protocol violation...).
        #[source]
        cause: TransportError,
    },
    /// The arguments given for a tool or a prompt are not a JSON object (or could not be
    /// serialised at all); nothing was sent.
    #[error("{server}: arguments for {name} {reason}")]
    InvalidArguments {
        /// The server's name.
        server: String,
        /// The tool or prompt.
        name: String,
        /// What is wrong with them.
        reason: String,
    },
    /// Recovering the unhealthy connection failed.
    #[error("{0}")]
    RecoveryFailed(#[source] Box<ConnectError>),
    /// The request needs what this client or this server does not offer: a server asked for
    /// input the client cannot give (sampling without a handler, say), kept asking past the
    /// round limit, or the server lacks the capability the request needs in its protocol era.
    /// The connection is fine.
    #[error("{server}: {detail}")]
    Unsupported {
        /// The server's name.
        server: String,
        /// What is missing.
        detail: String,
    },
}

impl CallError {
    /// A stable snake_case name of the failure (the CLI's JSON carries it as `kind`).
    pub fn code(&self) -> &'static str {
        match self {
            CallError::UnknownServer(_) => "unknown_server",
            CallError::UnknownTool(_) => "unknown_tool",
            CallError::Unhealthy { .. } => "unhealthy",
            CallError::Timeout { .. } => "timeout",
            CallError::Rpc { .. } => "rpc",
            CallError::ToolFailed { .. } => "tool_failed",
            CallError::ConnectionLost { .. } => "connection_lost",
            CallError::InvalidArguments { .. } => "invalid_arguments",
            CallError::RecoveryFailed(_) => "recovery_failed",
            CallError::Unsupported { .. } => "unsupported",
        }
    }

    /// Whether the request needs what the client or the server does not offer (see
    /// [`CallError::Unsupported`]); the connection is fine.
    pub fn is_unsupported(&self) -> bool {
        matches!(self, CallError::Unsupported { .. })
    }

    /// Whether the request got no answer within `request_timeout` (and was cancelled).
    pub fn is_timeout(&self) -> bool {
        matches!(self, CallError::Timeout { .. })
    }

    /// Whether the tool ran and reported failure (`isError: true`); see [`tool_result`](Self::tool_result).
    pub fn is_tool_failure(&self) -> bool {
        matches!(self, CallError::ToolFailed { .. })
    }

    /// Everything a failed tool returned, when the tool reported failure.
    pub fn tool_result(&self) -> Option<&CallToolResult> {
        match self {
            CallError::ToolFailed { result, .. } => Some(result),
            _ => None,
        }
    }

    /// The JSON-RPC error code, when the server answered with an error.
    pub fn rpc_code(&self) -> Option<i32> {
        match self {
            CallError::Rpc { code, .. } => Some(*code),
            _ => None,
        }
    }

    /// The JSON-RPC error's `data`, when the server answered with an error that carried some.
    pub fn rpc_data(&self) -> Option<&serde_json::Value> {
        match self {
            CallError::Rpc { data, .. } => data.as_ref(),
            _ => None,
        }
    }

    /// The transport's reason, when the connection broke under the request.
    pub fn transport_error(&self) -> Option<&TransportError> {
        match self {
            CallError::ConnectionLost { cause, .. } => Some(cause),
            _ => None,
        }
    }
}

/// Why an HTTP server was neither a streamable HTTP nor a legacy HTTP+SSE endpoint.
#[derive(Debug, Clone, thiserror::Error)]
#[error("not a streamable HTTP endpoint ({streamable}), nor a legacy HTTP+SSE one ({legacy}){}", hint(sse_url_hint.as_ref()))]
#[non_exhaustive]
pub struct NoHttpTransport {
    /// Why the `initialize` POST failed.
    pub streamable: TransportError,
    /// Why the legacy SSE `GET` failed.
    pub legacy: TransportError,
    /// The legacy SSE URL on the same origin that does name an endpoint, when there is one (the
    /// configured URL was probably that server's message endpoint).
    pub sse_url_hint: Option<url::Url>,
}

impl NoHttpTransport {
    /// The refusals of both transports, and the SSE URL found nearby if any.
    pub fn new(
        streamable: TransportError,
        legacy: TransportError,
        sse_url_hint: Option<url::Url>,
    ) -> Self {
        Self {
            streamable,
            legacy,
            sse_url_hint,
        }
    }
}

fn hint(sse_url_hint: Option<&url::Url>) -> String {
    sse_url_hint.map_or_else(String::new, |url| {
        format!(
            "; {url} is a legacy SSE endpoint: use that URL (this one may be its message endpoint)"
        )
    })
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
