//! One error type for every transport failure, in user terms, classified for retry by its variant.
//!
//! [`TransportError`] answers questions (`code()`, one `is_*()` per variant, `status()`,
//! `retry_after()`, ...) and implements `mcp_retry::Retryable`. It is built from lower errors by
//! their variants and by the types in their source chains, never by message text. Direct requests
//! wrap it in `RequestError`; the HTTP client's construction fails with its own
//! `HttpClientBuildError`.
//!
//! [`terminal_safe`] is here too: a server's text with its control characters replaced and its
//! length bounded, for showing on a terminal.

use std::fmt;
use std::io;
use std::sync::Arc;
use std::time::Duration;

use mcp_retry::{Decision, Retryable};

use crate::stdio::StderrTail;
use crate::www_authenticate::Challenge;

/// What went wrong with a transport, phrased for the person running the server.
///
/// Callers ask it questions rather than matching on message text: what kind of failure it is
/// ([`is_timeout`](Self::is_timeout), [`is_auth_required`](Self::is_auth_required), ... one `is_*`
/// per variant, and [`code`](Self::code) for machine-readable output), whether to retry
/// ([`is_retryable`](Self::is_retryable), [`retry_after`](Self::retry_after)), and what the server
/// said ([`status`](Self::status), [`challenge`](Self::challenge),
/// [`stderr_tail`](Self::stderr_tail)).
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
        phase: ExitPhase,
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
    /// The credential provider (an [`Authorizer`](crate::Authorizer)) could not get a token:
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
pub enum ExitPhase {
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
    /// A stable snake_case name for the kind of failure, as machine-readable output (the CLI's
    /// JSON) carries it: `"spawn"`, `"server_exited"`, `"connection_refused"`, ... One per variant;
    /// a published code never changes, because scripts match on it.
    pub fn code(&self) -> &'static str {
        match self {
            TransportError::Spawn { .. } => "spawn",
            TransportError::ServerExited { .. } => "server_exited",
            TransportError::ConnectionRefused { .. } => "connection_refused",
            TransportError::Dns { .. } => "dns",
            TransportError::Tls { .. } => "tls",
            TransportError::Timeout { .. } => "timeout",
            TransportError::Io { .. } => "io",
            TransportError::HttpStatus { .. } => "http_status",
            TransportError::AuthRequired { .. } => "auth_required",
            TransportError::InsufficientScope { .. } => "insufficient_scope",
            TransportError::Authorization { .. } => "authorization",
            TransportError::SessionExpired => "session_expired",
            TransportError::Protocol { .. } => "protocol",
            TransportError::MessageTooLarge { .. } => "message_too_large",
            TransportError::Cancelled => "cancelled",
            TransportError::Closed => "closed",
        }
    }

    /// Whether the server program could not be started ([`Spawn`](Self::Spawn)).
    pub fn is_spawn(&self) -> bool {
        matches!(self, TransportError::Spawn { .. })
    }

    /// Whether the server process exited, or closed its stdout, while the connection needed it
    /// ([`ServerExited`](Self::ServerExited)).
    pub fn is_server_exited(&self) -> bool {
        matches!(self, TransportError::ServerExited { .. })
    }

    /// Whether nothing accepted the TCP connection ([`ConnectionRefused`](Self::ConnectionRefused)).
    pub fn is_connection_refused(&self) -> bool {
        matches!(self, TransportError::ConnectionRefused { .. })
    }

    /// Whether the host name could not be resolved ([`Dns`](Self::Dns)).
    pub fn is_dns(&self) -> bool {
        matches!(self, TransportError::Dns { .. })
    }

    /// Whether TLS failed: an untrusted certificate, a failed handshake ([`Tls`](Self::Tls)).
    pub fn is_tls(&self) -> bool {
        matches!(self, TransportError::Tls { .. })
    }

    /// Whether an operation did not finish in time ([`Timeout`](Self::Timeout)).
    pub fn is_timeout(&self) -> bool {
        matches!(self, TransportError::Timeout { .. })
    }

    /// Whether the connection failed after it was established ([`Io`](Self::Io)).
    pub fn is_io(&self) -> bool {
        matches!(self, TransportError::Io { .. })
    }

    /// Whether the server answered with an HTTP status that is not success and has no variant of
    /// its own ([`HttpStatus`](Self::HttpStatus)).
    pub fn is_http_status(&self) -> bool {
        matches!(self, TransportError::HttpStatus { .. })
    }

    /// Whether the server wants authorization, HTTP 401 ([`AuthRequired`](Self::AuthRequired)).
    pub fn is_auth_required(&self) -> bool {
        matches!(self, TransportError::AuthRequired { .. })
    }

    /// Whether the token lacks a scope the server needs, HTTP 403
    /// ([`InsufficientScope`](Self::InsufficientScope)).
    pub fn is_insufficient_scope(&self) -> bool {
        matches!(self, TransportError::InsufficientScope { .. })
    }

    /// Whether the credential provider could not get a token ([`Authorization`](Self::Authorization)).
    pub fn is_authorization(&self) -> bool {
        matches!(self, TransportError::Authorization { .. })
    }

    /// Whether the server no longer knows the HTTP session ([`SessionExpired`](Self::SessionExpired)).
    pub fn is_session_expired(&self) -> bool {
        matches!(self, TransportError::SessionExpired)
    }

    /// Whether the server broke the protocol ([`Protocol`](Self::Protocol)).
    pub fn is_protocol(&self) -> bool {
        matches!(self, TransportError::Protocol { .. })
    }

    /// Whether a message was larger than the configured limit
    /// ([`MessageTooLarge`](Self::MessageTooLarge)).
    pub fn is_message_too_large(&self) -> bool {
        matches!(self, TransportError::MessageTooLarge { .. })
    }

    /// Whether the operation was cancelled by the caller ([`Cancelled`](Self::Cancelled)).
    pub fn is_cancelled(&self) -> bool {
        matches!(self, TransportError::Cancelled)
    }

    /// Whether the transport was already closed ([`Closed`](Self::Closed)).
    pub fn is_closed(&self) -> bool {
        matches!(self, TransportError::Closed)
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

fn exited_message(phase: ExitPhase, status: Option<ExitInfo>, tail: &StderrTail) -> String {
    let mut message = match phase {
        ExitPhase::Initialize => String::from("server exited during initialize"),
        ExitPhase::Running => String::from("server exited"),
    };
    match status {
        Some(status) => message.push_str(&format!(" ({status})")),
        None => message.push_str(" (closed its stdout)"),
    }
    if tail.is_discarded() {
        message.push_str("; its stderr was discarded");
    } else if tail.is_empty() {
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

/// `c`, or a space in place of a control character (a newline and a tab too, unless `keep_lines`)
/// or of an invisible formatting character that can make a terminal show text other than what is
/// there: bidirectional marks, overrides and isolates, the zero-width space and invisible
/// operators, the byte-order mark. Zero-width joiners stay: emoji sequences need them.
fn printable(c: char, keep_lines: bool) -> char {
    let invisible = matches!(
        c,
        '\u{061C}'
            | '\u{200B}'
            | '\u{200E}'..='\u{200F}'
            | '\u{202A}'..='\u{202E}'
            | '\u{2060}'..='\u{2064}'
            | '\u{2066}'..='\u{2069}'
            | '\u{FEFF}'
            | '\u{FFF9}'..='\u{FFFB}'
    );
    if invisible || (c.is_control() && !(keep_lines && matches!(c, '\n' | '\t'))) {
        ' '
    } else {
        c
    }
}

/// Text a server sent, made safe to show on a terminal: every control character but newline and
/// tab, and every bidirectional override or other invisible formatting character, becomes a space,
/// and text longer than `max_chars` characters is cut there with a note of how many more there
/// were.
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
/// assert_eq!(terminal_safe("tool\u{202e}txt.exe", 100), "tool txt.exe");
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

#[cfg(test)]
mod tests {
    use super::*;

    /// One of each variant, with the code it has always had.
    fn one_of_each() -> Vec<(TransportError, &'static str)> {
        let io_error = || Arc::new(io::Error::other("reset"));
        vec![
            (
                TransportError::Spawn {
                    command: "x".to_owned(),
                    reason: SpawnFailure::PermissionDenied,
                },
                "spawn",
            ),
            (
                TransportError::ServerExited {
                    phase: ExitPhase::Running,
                    status: None,
                    stderr_tail: StderrTail::default(),
                },
                "server_exited",
            ),
            (
                TransportError::ConnectionRefused {
                    address: "127.0.0.1:1".to_owned(),
                },
                "connection_refused",
            ),
            (
                TransportError::Dns {
                    host: "x".to_owned(),
                    detail: "no such name".to_owned(),
                    temporary: false,
                },
                "dns",
            ),
            (
                TransportError::Tls {
                    host: "x".to_owned(),
                    detail: "bad certificate".to_owned(),
                },
                "tls",
            ),
            (
                TransportError::Timeout {
                    phase: TimeoutPhase::Connect,
                    after: Duration::from_secs(1),
                },
                "timeout",
            ),
            (
                TransportError::Io {
                    context: "reading".to_owned(),
                    source: io_error(),
                },
                "io",
            ),
            (
                TransportError::HttpStatus {
                    status: 500,
                    retry_after: None,
                    body_excerpt: String::new(),
                },
                "http_status",
            ),
            (
                TransportError::AuthRequired { challenge: None },
                "auth_required",
            ),
            (
                TransportError::InsufficientScope { challenge: None },
                "insufficient_scope",
            ),
            (
                TransportError::authorization(io::Error::other("refused")),
                "authorization",
            ),
            (TransportError::SessionExpired, "session_expired"),
            (
                TransportError::Protocol {
                    detail: "not JSON".to_owned(),
                },
                "protocol",
            ),
            (
                TransportError::MessageTooLarge {
                    what: "a line",
                    limit: 1,
                },
                "message_too_large",
            ),
            (TransportError::Cancelled, "cancelled"),
            (TransportError::Closed, "closed"),
        ]
    }

    type Predicate = fn(&TransportError) -> bool;

    /// The predicates, by the code of the variant each one recognises.
    const PREDICATES: &[(&str, Predicate)] = &[
        ("spawn", TransportError::is_spawn),
        ("server_exited", TransportError::is_server_exited),
        ("connection_refused", TransportError::is_connection_refused),
        ("dns", TransportError::is_dns),
        ("tls", TransportError::is_tls),
        ("timeout", TransportError::is_timeout),
        ("io", TransportError::is_io),
        ("http_status", TransportError::is_http_status),
        ("auth_required", TransportError::is_auth_required),
        ("insufficient_scope", TransportError::is_insufficient_scope),
        ("authorization", TransportError::is_authorization),
        ("session_expired", TransportError::is_session_expired),
        ("protocol", TransportError::is_protocol),
        ("message_too_large", TransportError::is_message_too_large),
        ("cancelled", TransportError::is_cancelled),
        ("closed", TransportError::is_closed),
    ];

    #[test]
    fn codes_are_the_published_names() {
        for (error, code) in one_of_each() {
            assert_eq!(error.code(), code, "{error:?}");
        }
    }

    #[test]
    fn exactly_one_predicate_recognises_each_variant() {
        for (error, code) in one_of_each() {
            let recognised: Vec<&str> = PREDICATES
                .iter()
                .filter(|(_, is)| is(&error))
                .map(|(name, _)| *name)
                .collect();
            assert_eq!(recognised, [code], "{error:?}");
        }
    }
}
