//! One error type for every transport failure, in user terms, classified for retry by its variant.

use std::fmt;
use std::io;
use std::sync::Arc;
use std::time::Duration;

use mcp_retry::{Decision, Retryable};

use crate::stdio::StderrTail;
use crate::www_authenticate::Challenge;

/// What went wrong with a transport, phrased for the person running the server.
///
/// Callers ask it questions ([`kind`](Self::kind), [`is_retryable`](Self::is_retryable),
/// [`retry_after`](Self::retry_after), [`status`](Self::status)) rather than matching on message text.
/// It implements [`Retryable`], so `mcp_retry::ByRetryable` classifies it for a retry loop.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum TransportError {
    /// The server program could not be started.
    #[error("{}", spawn_message(command, reason))]
    Spawn {
        /// The command as configured.
        command: String,
        /// Why it could not start.
        reason: SpawnFailure,
    },
    /// The server process exited (or closed its stdout) while the connection needed it.
    #[error("{}", exited_message(*phase, *status, stderr_tail))]
    ServerExited {
        /// What the connection was doing when the server went away.
        phase: Phase,
        /// The exit status, if the process was seen to exit.
        status: Option<ExitInfo>,
        /// The last lines the server wrote to stderr.
        stderr_tail: StderrTail,
    },
    /// Nothing accepted the TCP connection.
    #[error("connection refused by {address}; is the server running?")]
    ConnectionRefused {
        /// The address that refused (host:port).
        address: String,
    },
    /// The host name could not be resolved.
    #[error("could not resolve host {host}: {detail}")]
    Dns {
        /// The host name.
        host: String,
        /// What the resolver said.
        detail: String,
        /// Whether the resolver said to try again later (no answer yet, a server failure), as opposed
        /// to "no such name".
        temporary: bool,
    },
    /// TLS failed: an untrusted or invalid certificate, or a failed handshake.
    #[error("TLS with {host} failed: {detail}")]
    Tls {
        /// The host name.
        host: String,
        /// What rustls said.
        detail: String,
    },
    /// An operation did not finish in time.
    #[error("{phase} timed out after {}", humantime::format_duration(*after))]
    Timeout {
        /// Which operation.
        phase: TimeoutPhase,
        /// The limit that passed.
        after: Duration,
    },
    /// The connection failed after it was established (reset, broken pipe...).
    #[error("{context}: {source}")]
    Io {
        /// What was being done.
        context: String,
        /// The underlying error.
        #[source]
        source: Arc<io::Error>,
    },
    /// The server answered with an HTTP status that is not success.
    #[error("{}", status_message(*status, *retry_after, body_excerpt))]
    HttpStatus {
        /// The status code.
        status: u16,
        /// The `Retry-After` the server sent, if any (seconds or an HTTP date).
        retry_after: Option<Duration>,
        /// The start of the response body, sanitised (printable, at most a few hundred characters).
        body_excerpt: String,
    },
    /// The server wants authorization (HTTP 401).
    #[error("{}", auth_message("requires authorization", challenge.as_ref()))]
    AuthRequired {
        /// The parsed bearer challenge, if the server sent a parsable one.
        challenge: Option<Challenge>,
    },
    /// The token lacks a scope the server needs (HTTP 403 `insufficient_scope`).
    #[error("{}", auth_message("requires more scope", challenge.as_ref()))]
    InsufficientScope {
        /// The parsed bearer challenge.
        challenge: Option<Challenge>,
    },
    /// The credential provider (an [`Authorizer`](crate::auth::Authorizer)) could not get a token:
    /// a login is needed and not allowed here, the user or the authorization server refused, the
    /// flow failed. The provider's own error is kept; see
    /// [`authorization_error`](Self::authorization_error).
    #[error("{error}")]
    Authorization {
        /// The provider's error (e.g. `mcp_oauth::AuthError`), shared so this enum stays `Clone`.
        error: Arc<dyn std::error::Error + Send + Sync + 'static>,
    },
    /// The server no longer knows the HTTP session (404 on a request carrying `Mcp-Session-Id`).
    #[error("the server's session expired (HTTP 404 for the session id)")]
    SessionExpired,
    /// The server broke the protocol: output that is not a JSON-RPC message, a wrong content type...
    #[error("protocol violation: {detail}")]
    Protocol {
        /// What was wrong, with a sanitised excerpt of the offending input.
        detail: String,
    },
    /// A message was larger than the configured limit; it was not buffered.
    #[error("{what} exceeds the {limit}-byte limit")]
    MessageTooLarge {
        /// Which message (e.g. "a line on the server's stdout").
        what: &'static str,
        /// The limit in bytes.
        limit: usize,
    },
    /// The operation was cancelled by the caller.
    #[error("cancelled")]
    Cancelled,
    /// The transport was already closed.
    #[error("the transport is closed")]
    Closed,
}

/// The kind of a [`TransportError`], for matching and for stable machine-readable output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// [`TransportError::Spawn`].
    Spawn,
    /// [`TransportError::ServerExited`].
    ServerExited,
    /// [`TransportError::ConnectionRefused`].
    ConnectionRefused,
    /// [`TransportError::Dns`].
    Dns,
    /// [`TransportError::Tls`].
    Tls,
    /// [`TransportError::Timeout`].
    Timeout,
    /// [`TransportError::Io`].
    Io,
    /// [`TransportError::HttpStatus`].
    HttpStatus,
    /// [`TransportError::AuthRequired`].
    AuthRequired,
    /// [`TransportError::InsufficientScope`].
    InsufficientScope,
    /// [`TransportError::Authorization`].
    Authorization,
    /// [`TransportError::SessionExpired`].
    SessionExpired,
    /// [`TransportError::Protocol`].
    Protocol,
    /// [`TransportError::MessageTooLarge`].
    MessageTooLarge,
    /// [`TransportError::Cancelled`].
    Cancelled,
    /// [`TransportError::Closed`].
    Closed,
}

impl ErrorKind {
    /// A stable snake_case name, as used in JSON output.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::Spawn => "spawn",
            ErrorKind::ServerExited => "server_exited",
            ErrorKind::ConnectionRefused => "connection_refused",
            ErrorKind::Dns => "dns",
            ErrorKind::Tls => "tls",
            ErrorKind::Timeout => "timeout",
            ErrorKind::Io => "io",
            ErrorKind::HttpStatus => "http_status",
            ErrorKind::AuthRequired => "auth_required",
            ErrorKind::InsufficientScope => "insufficient_scope",
            ErrorKind::Authorization => "authorization",
            ErrorKind::SessionExpired => "session_expired",
            ErrorKind::Protocol => "protocol",
            ErrorKind::MessageTooLarge => "message_too_large",
            ErrorKind::Cancelled => "cancelled",
            ErrorKind::Closed => "closed",
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a server program could not be started.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum SpawnFailure {
    /// No such program on the search path (or at the given path).
    #[error("command not found (searched PATH={searched_path})")]
    NotFound {
        /// The PATH that was searched.
        searched_path: String,
    },
    /// The program exists but may not be executed.
    #[error("permission denied")]
    PermissionDenied,
    /// The working directory does not exist or is not a directory.
    #[error("working directory {0} does not exist")]
    MissingWorkingDirectory(String),
    /// Any other operating-system error.
    #[error("{0}")]
    Other(#[source] Arc<io::Error>),
}

/// What a connection was doing when its server went away.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Phase {
    /// Before the handshake finished.
    Initialize,
    /// While the connection was in use.
    Running,
}

/// How a process ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitInfo {
    /// It exited with this code.
    Code(i32),
    /// A signal ended it.
    Signal(i32),
}

impl fmt::Display for ExitInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ExitInfo::Code(code) => write!(f, "status {code}"),
            ExitInfo::Signal(signal) => write!(f, "killed by signal {signal}"),
        }
    }
}

impl From<std::process::ExitStatus> for ExitInfo {
    fn from(status: std::process::ExitStatus) -> Self {
        use std::os::unix::process::ExitStatusExt;
        match (status.code(), status.signal()) {
            (Some(code), _) => ExitInfo::Code(code),
            (None, Some(signal)) => ExitInfo::Signal(signal),
            // Neither code nor signal: stopped/continued, which `wait` does not report.
            (None, None) => ExitInfo::Code(-1),
        }
    }
}

/// Which operation a [`TransportError::Timeout`] bounded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TimeoutPhase {
    /// Opening the TCP (and TLS) connection.
    Connect,
    /// Waiting for an HTTP response.
    Request,
    /// Ending an HTTP session (DELETE).
    CloseSession,
}

impl fmt::Display for TimeoutPhase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TimeoutPhase::Connect => "connecting",
            TimeoutPhase::Request => "the HTTP request",
            TimeoutPhase::CloseSession => "closing the session",
        })
    }
}

impl TransportError {
    /// What kind of failure this is.
    pub fn kind(&self) -> ErrorKind {
        match self {
            TransportError::Spawn { .. } => ErrorKind::Spawn,
            TransportError::ServerExited { .. } => ErrorKind::ServerExited,
            TransportError::ConnectionRefused { .. } => ErrorKind::ConnectionRefused,
            TransportError::Dns { .. } => ErrorKind::Dns,
            TransportError::Tls { .. } => ErrorKind::Tls,
            TransportError::Timeout { .. } => ErrorKind::Timeout,
            TransportError::Io { .. } => ErrorKind::Io,
            TransportError::HttpStatus { .. } => ErrorKind::HttpStatus,
            TransportError::AuthRequired { .. } => ErrorKind::AuthRequired,
            TransportError::InsufficientScope { .. } => ErrorKind::InsufficientScope,
            TransportError::Authorization { .. } => ErrorKind::Authorization,
            TransportError::SessionExpired => ErrorKind::SessionExpired,
            TransportError::Protocol { .. } => ErrorKind::Protocol,
            TransportError::MessageTooLarge { .. } => ErrorKind::MessageTooLarge,
            TransportError::Cancelled => ErrorKind::Cancelled,
            TransportError::Closed => ErrorKind::Closed,
        }
    }

    /// Whether a fresh attempt might succeed.
    pub fn is_retryable(&self) -> bool {
        self.retry_decision().is_retry()
    }

    /// Wraps a credential provider's error as [`TransportError::Authorization`].
    pub fn authorization(error: impl std::error::Error + Send + Sync + 'static) -> Self {
        TransportError::Authorization {
            error: Arc::new(error),
        }
    }

    /// The credential provider's error, for [`TransportError::Authorization`]; downcast it to the
    /// provider's type (`error.downcast_ref::<mcp_oauth::AuthError>()`).
    pub fn authorization_error(&self) -> Option<&(dyn std::error::Error + Send + Sync + 'static)> {
        match self {
            TransportError::Authorization { error } => Some(error.as_ref()),
            _ => None,
        }
    }

    /// How long the server asked us to wait before retrying, if it said.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            TransportError::HttpStatus { retry_after, .. } => *retry_after,
            _ => None,
        }
    }

    /// The HTTP status, for errors that carry one.
    pub fn status(&self) -> Option<u16> {
        match self {
            TransportError::HttpStatus { status, .. } => Some(*status),
            TransportError::AuthRequired { .. } => Some(401),
            TransportError::InsufficientScope { .. } => Some(403),
            TransportError::SessionExpired => Some(404),
            _ => None,
        }
    }

    /// The server's stderr tail, for errors about a stdio server.
    pub fn stderr_tail(&self) -> Option<&StderrTail> {
        match self {
            TransportError::ServerExited { stderr_tail, .. } => Some(stderr_tail),
            _ => None,
        }
    }

    /// The parsed authorization challenge, for 401 and 403 errors.
    pub fn challenge(&self) -> Option<&Challenge> {
        match self {
            TransportError::AuthRequired { challenge }
            | TransportError::InsufficientScope { challenge } => challenge.as_ref(),
            _ => None,
        }
    }

    pub(crate) fn io(context: impl Into<String>, source: io::Error) -> Self {
        TransportError::Io {
            context: context.into(),
            source: Arc::new(source),
        }
    }
}

impl Retryable for TransportError {
    fn retry_decision(&self) -> Decision {
        match self {
            TransportError::ServerExited { .. }
            | TransportError::ConnectionRefused { .. }
            | TransportError::Timeout { .. }
            | TransportError::Io { .. }
            | TransportError::SessionExpired
            | TransportError::Closed => Decision::Retry,
            TransportError::Dns {
                temporary: true, ..
            } => Decision::Retry,
            TransportError::HttpStatus {
                status,
                retry_after,
                ..
            } if *status == 429 || *status == 408 || *status >= 500 => match retry_after {
                Some(wait) => Decision::RetryAfter(*wait),
                None => Decision::Retry,
            },
            TransportError::Spawn { .. }
            | TransportError::Dns { .. }
            | TransportError::Tls { .. }
            | TransportError::HttpStatus { .. }
            | TransportError::AuthRequired { .. }
            | TransportError::InsufficientScope { .. }
            | TransportError::Authorization { .. }
            | TransportError::Protocol { .. }
            | TransportError::MessageTooLarge { .. }
            | TransportError::Cancelled => Decision::Stop,
        }
    }
}

fn spawn_message(command: &str, reason: &SpawnFailure) -> String {
    match reason {
        SpawnFailure::NotFound { .. } => {
            format!("could not start `{command}`: {reason}; is it installed?")
        }
        _ => format!("could not start `{command}`: {reason}"),
    }
}

fn exited_message(phase: Phase, status: Option<ExitInfo>, tail: &StderrTail) -> String {
    let mut message = match phase {
        Phase::Initialize => String::from("server exited during initialize"),
        Phase::Running => String::from("server exited"),
    };
    match status {
        Some(status) => message.push_str(&format!(" ({status})")),
        None => message.push_str(" (closed its stdout)"),
    }
    if tail.is_empty() {
        message.push_str("; it wrote nothing to stderr");
    } else {
        message.push_str(": ");
        message.push_str(&tail.excerpt(10));
    }
    message
}

fn status_message(status: u16, retry_after: Option<Duration>, body: &str) -> String {
    let mut message = format!("HTTP {status}");
    if let Some(reason) = http::StatusCode::from_u16(status)
        .ok()
        .and_then(|code| code.canonical_reason())
    {
        message.push(' ');
        message.push_str(reason);
    }
    if let Some(wait) = retry_after {
        message.push_str(&format!(
            " (retry after {})",
            humantime::format_duration(wait)
        ));
    }
    if !body.is_empty() {
        message.push_str(": ");
        message.push_str(body);
    }
    message
}

fn auth_message(what: &str, challenge: Option<&Challenge>) -> String {
    let mut message = format!("the server {what}");
    if let Some(challenge) = challenge {
        if let Some(error) = challenge.error() {
            message.push_str(&format!(" ({error})"));
        }
        if let Some(scope) = challenge.scope() {
            message.push_str(&format!("; scope: {scope}"));
        }
    }
    message
}

/// A printable excerpt of untrusted text: control characters replaced, at most `max_chars` characters.
pub(crate) fn sanitised_excerpt(bytes: &[u8], max_chars: usize) -> String {
    let text = String::from_utf8_lossy(bytes);
    let mut excerpt: String = text
        .trim()
        .chars()
        .take(max_chars)
        .map(|c| printable(c, false))
        .collect();
    if text.trim().chars().count() > max_chars {
        excerpt.push('…');
    }
    excerpt
}

/// `c`, or a space in place of a control character (a newline and a tab too, unless `keep_lines`).
fn printable(c: char, keep_lines: bool) -> char {
    if c.is_control() && !(keep_lines && matches!(c, '\n' | '\t')) {
        ' '
    } else {
        c
    }
}

/// Text a server sent, made safe to show on a terminal: every control character but newline and tab
/// becomes a space, and text longer than `max_chars` characters is cut there with a note of how
/// many more there were.
///
/// Why: a server chooses its names, descriptions, tool output and error messages. Written raw, an
/// escape sequence (`ESC ]0;...` retitles the window, `ESC [2J` clears the screen), a carriage
/// return or a backspace can rewrite what the user sees, and a 5 MB message floods the terminal.
/// Machine-readable output (JSON) escapes control characters itself and needs none of this.
///
/// ```
/// use mcp_transport::error::terminal_safe;
///
/// assert_eq!(terminal_safe("a\u{1b}[2Jb\r\nc", 100), "a [2Jb \nc");
/// assert_eq!(terminal_safe("abcdef", 3), "abc… (3 more characters)");
/// ```
pub fn terminal_safe(text: &str, max_chars: usize) -> String {
    let mut chars = text.chars();
    let mut shown: String = chars
        .by_ref()
        .take(max_chars)
        .map(|c| printable(c, true))
        .collect();
    let more = chars.count();
    if more > 0 {
        shown.push_str(&format!("… ({more} more characters)"));
    }
    shown
}
