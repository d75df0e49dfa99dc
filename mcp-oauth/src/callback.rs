//! The loopback redirect server (RFC 8252 §7.3) that receives one authorization response.
//!
//! [`CallbackServer::bind`] listens on `127.0.0.1` (never `0.0.0.0`), on a port the OS picks unless
//! [`CallbackOptions::with_port`] fixes one, and starts serving at once on a task it owns. The flow
//! sends [`CallbackServer::redirect_uri`] (always the IP literal, never `localhost`) in its
//! authorization request, registers the `state` it generated with [`CallbackServer::expect`], and
//! then awaits [`CallbackServer::wait`], under an overall timeout ([`DEFAULT_TIMEOUT`]: five
//! minutes for a person to sign in).
//!
//! Rules the server enforces, each answered with a static page that never echoes the query:
//! - only `GET` (anything else is 405) on the exact path (anything else is 404);
//! - a missing, repeated or wrong `state`, or any repeated parameter, is 400 and the flow keeps
//!   waiting, so a stray or forged request cannot end it;
//! - `error=` is reported only once the `state` matched; a matched `state` with a `code` succeeds;
//! - after that one terminal response the listener closes, and every other connection with it.
//!
//! HTTP itself is a small hand-written HTTP/1.1 exchange (`wire`): one request per connection,
//! every response with `Connection: close`; a request head must arrive whole within 10 seconds
//! (else the connection is closed unanswered) and fit in 16 KiB with at most 100 header fields
//! (else 431); a malformed head is 400. At most 16 connections are served at once; a new one
//! beyond that closes the oldest that is not delivering the outcome.
//!
//! The [`CallbackServer`] value is the guard: dropping it, or dropping the future of
//! [`CallbackServer::wait`], closes the listening socket synchronously (see its `Drop`).

mod page;
mod wire;

use std::collections::VecDeque;
use std::fmt;
use std::future::poll_fn;
use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::Poll;
use std::time::Duration;

use http::{Method, Request, Response};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, oneshot};
use tokio::task::{AbortHandle, JoinSet};

use page::{Page, page};
use wire::{Received, Refusal};

/// The callback path used unless [`CallbackOptions::with_path`] sets another.
pub const DEFAULT_PATH: &str = "/callback";

/// A sensible overall timeout for [`CallbackServer::wait`]: five minutes for the user to sign in.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(300);

/// Longest `error` / `error_description` text kept from an authorization server, in characters.
const MAX_ERROR_TEXT: usize = 500;
/// Connections served at once (a browser needs one or two). A new connection beyond this evicts
/// the oldest one, so sockets held open by a local process cannot keep the real redirect out.
const MAX_CONNECTIONS: usize = 16;
/// How long a client may take to send its whole request head, from the moment it is accepted.
const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a response may take to be written and its connection closed; for the terminal
/// response, how long it may take to reach the browser before the flow ends anyway.
const TERMINAL_WRITE_GRACE: Duration = Duration::from_secs(5);
/// Pause after a failed `accept` (for example, out of file descriptors), so the loop cannot spin.
const ACCEPT_ERROR_PAUSE: Duration = Duration::from_millis(50);

/// Where and how the callback server listens.
///
/// ```
/// use mcp_oauth::CallbackOptions;
///
/// // Port 0 (the default) lets the OS pick a free port, one per flow.
/// let options = CallbackOptions::new().with_path("/oauth/callback");
/// assert_eq!(options.port(), 0);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallbackOptions {
    port: u16,
    path: String,
}

impl Default for CallbackOptions {
    fn default() -> Self {
        Self {
            port: 0,
            path: DEFAULT_PATH.to_owned(),
        }
    }
}

impl CallbackOptions {
    /// Port 0 (chosen by the OS) and the path [`DEFAULT_PATH`].
    pub fn new() -> Self {
        Self::default()
    }

    /// Listens on this fixed port, for authorization servers that match redirect URIs exactly;
    /// 0 lets the OS choose. A fixed port that is busy makes [`CallbackServer::bind`] fail with
    /// [`CallbackError::PortInUse`].
    #[must_use]
    pub fn with_port(mut self, port: u16) -> Self {
        self.port = port;
        self
    }

    /// Answers on this exact path, which must start with `/` and be a plain URL path (no query, no
    /// fragment, no `..` segments, nothing that needs escaping). Checked by [`CallbackServer::bind`].
    #[must_use]
    pub fn with_path(mut self, path: impl Into<String>) -> Self {
        self.path = path.into();
        self
    }

    /// The configured port; 0 means "chosen by the OS".
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The configured callback path.
    pub fn path(&self) -> &str {
        &self.path
    }
}

/// A successful authorization response: the code to redeem and what came with it.
///
/// `Debug` hides the code, which is a credential until it is redeemed.
#[derive(Clone, PartialEq, Eq)]
pub struct Authorization {
    /// The authorization code, percent-decoded.
    pub code: String,
    /// The `state` value, equal to the one passed to [`CallbackServer::expect`].
    pub state: String,
    /// The RFC 9207 `iss` parameter, if the authorization server sent one. This server does not know
    /// the issuer: the flow must compare it with the recorded issuer before redeeming the code.
    pub iss: Option<String>,
}

impl fmt::Debug for Authorization {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Authorization")
            .field("code", &"<redacted>")
            .field("state", &self.state)
            .field("iss", &self.iss)
            .finish()
    }
}

/// Why the callback server could not start or did not deliver an authorization code.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CallbackError {
    /// The fixed callback port is taken by another program (or another flow).
    #[error(
        "port {0} on 127.0.0.1 is already in use, so the OAuth callback cannot listen there; \
         stop the program using it, or configure another callback port (0 lets the OS choose)"
    )]
    PortInUse(u16),
    /// Listening failed for another reason.
    #[error("could not listen on 127.0.0.1:{port} for the OAuth callback: {source}")]
    Bind {
        /// The port asked for (0 when the OS was to choose).
        port: u16,
        /// The operating system's error.
        #[source]
        source: io::Error,
    },
    /// The configured callback path cannot be used.
    #[error(
        "invalid OAuth callback path {path:?}: {reason}; use a plain path such as \"/callback\""
    )]
    InvalidPath {
        /// The path as configured.
        path: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// [`CallbackServer::bind`] was called outside a Tokio runtime.
    #[error(
        "the OAuth callback server needs a Tokio runtime with I/O enabled; \
         call CallbackServer::bind from async code running on Tokio"
    )]
    NoRuntime,
    /// [`CallbackServer::wait`] was called before any `state` was registered.
    #[error(
        "no OAuth state registered, so no callback could ever be accepted; \
         call CallbackServer::expect(state) before wait"
    )]
    NoStateExpected,
    /// No usable authorization response arrived in time.
    #[error(
        "no authorization response reached the callback within {}s; \
         start the sign-in again and complete it in the browser sooner",
        .after.as_secs()
    )]
    Timeout {
        /// The timeout given to [`CallbackServer::wait`].
        after: Duration,
    },
    /// The authorization server answered the matching request with an error (RFC 6749 §4.1.2.1),
    /// typically `access_denied` when the user declined.
    ///
    /// The text comes from the network: control characters are removed and each value is cut to
    /// 500 characters, but escape it before putting it in HTML.
    #[error(
        "the authorization server refused the request: {error}{}; \
         check the requested scopes and the client registration, then sign in again",
        .description.as_deref().map(|d| format!(" ({d})")).unwrap_or_default()
    )]
    AuthorizationDenied {
        /// The `error` code, such as `access_denied`.
        error: String,
        /// The `error_description`, if any.
        description: Option<String>,
        /// The RFC 9207 `iss` that came with the error; if it does not match the recorded issuer,
        /// the flow should not show the error text (it may come from a mix-up attacker).
        iss: Option<String>,
    },
    /// The serving task ended without an answer (its runtime shut down, or it panicked).
    #[error("the OAuth callback server stopped unexpectedly; start the sign-in again")]
    ServerStopped,
    /// The operating system's random number generator failed.
    #[error("could not generate an OAuth state: the operating system's random source failed: {0}")]
    Randomness(#[source] rand::rngs::SysError),
}

impl CallbackError {
    /// True when no response arrived before the timeout.
    pub fn is_timeout(&self) -> bool {
        matches!(self, Self::Timeout { .. })
    }

    /// True when the authorization server answered with an error for this flow.
    pub fn is_denied(&self) -> bool {
        matches!(self, Self::AuthorizationDenied { .. })
    }
}

/// A fresh `state` value: 128 bits from the operating system's random source, as 32 lowercase hex
/// characters (URL-safe, so it needs no escaping in the authorization request).
///
/// Fails only if the OS random source does; a weaker fallback would defeat the purpose.
///
/// ```
/// let state = mcp_oauth::callback::random_state()?;
/// assert_eq!(state.len(), 32);
/// # Ok::<(), mcp_oauth::CallbackError>(())
/// ```
pub fn random_state() -> Result<String, CallbackError> {
    use rand::TryRng;
    use std::fmt::Write;

    let mut bytes = [0u8; 16];
    rand::rngs::SysRng
        .try_fill_bytes(&mut bytes)
        .map_err(CallbackError::Randomness)?;
    let mut hex = String::with_capacity(32);
    for byte in bytes {
        // Writing to a String cannot fail.
        let _ = write!(hex, "{byte:02x}");
    }
    Ok(hex)
}

/// The loopback callback server of one authorization flow, and the guard that owns its socket.
///
/// ```no_run
/// use std::time::Duration;
/// use mcp_oauth::callback::{DEFAULT_TIMEOUT, random_state};
/// use mcp_oauth::{CallbackOptions, CallbackServer};
///
/// # async fn sign_in() -> Result<(), Box<dyn std::error::Error>> {
/// let server = CallbackServer::bind(CallbackOptions::new())?;
/// let state = random_state()?;
/// server.expect(&state);
/// let redirect_uri = server.redirect_uri(); // http://127.0.0.1:PORT/callback
/// // ... send the user to the authorization URL carrying `redirect_uri` and `state` ...
/// let authorization = server.wait(DEFAULT_TIMEOUT).await?;
/// // The listener is closed now; redeem `authorization.code` after checking `authorization.iss`.
/// # let _ = (redirect_uri, authorization);
/// # Ok(())
/// # }
/// ```
///
/// # Drop
/// Dropping the server (or the future of [`wait`](Self::wait), which owns it) closes the
/// listening socket right there, synchronously, with no runtime needed: new connections to the port
/// are refused from that moment. Connections already accepted belong to the serving task, which is
/// aborted; the runtime drops them the next time it runs that task (at once on an idle worker).
pub struct CallbackServer {
    shared: Arc<Shared>,
    addr: SocketAddr,
    path: String,
    result: Option<oneshot::Receiver<Outcome>>,
    task: AbortHandle,
}

impl fmt::Debug for CallbackServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CallbackServer")
            .field("addr", &self.addr)
            .field("path", &self.path)
            .field("listening", &self.is_listening())
            .finish_non_exhaustive()
    }
}

impl CallbackServer {
    /// Listens on `127.0.0.1` (port 0 unless `options` fixes one) and starts serving at once on a
    /// task spawned on the current Tokio runtime.
    ///
    /// # Errors
    /// [`CallbackError::PortInUse`] when a fixed port is busy, [`CallbackError::InvalidPath`],
    /// [`CallbackError::NoRuntime`] outside Tokio, [`CallbackError::Bind`] for other failures.
    pub fn bind(options: CallbackOptions) -> Result<Self, CallbackError> {
        validate_path(&options.path)?;
        let runtime =
            tokio::runtime::Handle::try_current().map_err(|_| CallbackError::NoRuntime)?;
        let port = options.port;
        let bind_error = |source: io::Error| {
            if source.kind() == io::ErrorKind::AddrInUse && port != 0 {
                CallbackError::PortInUse(port)
            } else {
                CallbackError::Bind { port, source }
            }
        };

        // Loopback only (RFC 8252 §8.3): the redirect never leaves this machine.
        let std_listener =
            std::net::TcpListener::bind((Ipv4Addr::LOCALHOST, port)).map_err(bind_error)?;
        std_listener.set_nonblocking(true).map_err(bind_error)?;
        let addr = std_listener.local_addr().map_err(bind_error)?;
        let listener = {
            let _entered = runtime.enter();
            TcpListener::from_std(std_listener).map_err(bind_error)?
        };

        let shared = Arc::new(Shared {
            listener: Mutex::new(Some(listener)),
            flow: Mutex::new(Flow {
                expected: None,
                finished: false,
            }),
            path: options.path.clone(),
        });
        let (result_tx, result_rx) = oneshot::channel();
        let task = runtime
            .spawn(serve(Arc::clone(&shared), result_tx))
            .abort_handle();
        tracing::debug!(%addr, path = %options.path, "OAuth callback server listening");

        Ok(Self {
            shared,
            addr,
            path: options.path,
            result: Some(result_rx),
            task,
        })
    }

    /// The redirect URI to register and send: `http://127.0.0.1:PORT/PATH`, always with the IP
    /// literal (RFC 8252 §7.3 advises against `localhost`).
    pub fn redirect_uri(&self) -> String {
        format!("http://127.0.0.1:{}{}", self.addr.port(), self.path)
    }

    /// The port the server listens on.
    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// Registers the one `state` value this flow accepts (see [`random_state`]), replacing any
    /// earlier one. Callbacks are compared with it exactly; it is used at most once. Has no effect
    /// once the flow has ended.
    pub fn expect(&self, state: &str) {
        lock(&self.shared.flow).expected = Some(state.to_owned());
    }

    /// Whether the listening socket is still open: false once the flow has ended.
    pub fn is_listening(&self) -> bool {
        lock(&self.shared.listener).is_some()
    }

    /// Waits for the authorization response, at most `timeout` ([`DEFAULT_TIMEOUT`] is a good
    /// value). Rejected requests (wrong or missing `state`, wrong path or method) are answered and
    /// do not end the wait. The server is consumed: when this returns, for any reason, its socket
    /// is closed.
    ///
    /// # Errors
    /// [`CallbackError::AuthorizationDenied`] when the matching response carries `error=`,
    /// [`CallbackError::Timeout`], [`CallbackError::NoStateExpected`] when [`expect`](Self::expect)
    /// was not called, [`CallbackError::ServerStopped`] if the serving task died.
    pub async fn wait(mut self, timeout: Duration) -> Result<Authorization, CallbackError> {
        let has_state = lock(&self.shared.flow)
            .expected
            .as_deref()
            .is_some_and(|state| !state.is_empty());
        if !has_state {
            return Err(CallbackError::NoStateExpected);
        }
        let Some(result) = self.result.take() else {
            return Err(CallbackError::ServerStopped);
        };
        match tokio::time::timeout(timeout, result).await {
            Err(_elapsed) => Err(CallbackError::Timeout { after: timeout }),
            Ok(Err(_closed)) => Err(CallbackError::ServerStopped),
            Ok(Ok(Outcome::Authorized(authorization))) => Ok(authorization),
            Ok(Ok(Outcome::Denied {
                error,
                description,
                iss,
            })) => Err(CallbackError::AuthorizationDenied {
                error,
                description,
                iss,
            }),
        }
    }
}

impl Drop for CallbackServer {
    fn drop(&mut self) {
        self.closer().close();
    }
}

impl CallbackServer {
    /// A handle that closes this server from elsewhere (a shutdown, a cancelled connect), as
    /// dropping it would: synchronously, without a runtime. The flow waiting in
    /// [`wait`](Self::wait) then ends with [`CallbackError::ServerStopped`].
    pub fn closer(&self) -> CallbackCloser {
        CallbackCloser {
            shared: Arc::clone(&self.shared),
            task: self.task.clone(),
        }
    }
}

/// Closes a [`CallbackServer`] from outside the flow that owns it. Cheap to clone.
#[derive(Clone)]
pub struct CallbackCloser {
    shared: Arc<Shared>,
    task: AbortHandle,
}

impl fmt::Debug for CallbackCloser {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CallbackCloser").finish_non_exhaustive()
    }
}

impl CallbackCloser {
    /// Closes the listening socket now (new connections are refused from this moment) and aborts
    /// the serving task. Idempotent.
    pub fn close(&self) {
        // Closing the listener here, rather than leaving it to the aborted task, frees the port
        // before this returns. The lock is only ever held for non-blocking calls.
        drop(lock(&self.shared.listener).take());
        self.task.abort();
    }
}

/// State shared by the guard, the accept loop and the connection handlers.
struct Shared {
    /// The listening socket; `None` once closed. Kept here (not inside the task) so that the guard's
    /// `Drop` can close it synchronously.
    listener: Mutex<Option<TcpListener>>,
    flow: Mutex<Flow>,
    path: String,
}

struct Flow {
    expected: Option<String>,
    /// Set by the one request that ends the flow, so a concurrent duplicate cannot end it twice.
    finished: bool,
}

/// How the flow ended, as seen by the serving task.
enum Outcome {
    Authorized(Authorization),
    Denied {
        error: String,
        description: Option<String>,
        iss: Option<String>,
    },
}

/// Locks ignoring poisoning: every critical section leaves the data consistent.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

fn validate_path(path: &str) -> Result<(), CallbackError> {
    let invalid = |reason| {
        Err(CallbackError::InvalidPath {
            path: path.to_owned(),
            reason,
        })
    };
    if !path.starts_with('/') {
        return invalid("it must start with '/'");
    }
    if path.contains(['?', '#']) {
        return invalid("it must not contain a query or fragment");
    }
    // The URL parser normalises; any difference means the path would not match itself on the wire.
    match url::Url::parse(&format!("http://127.0.0.1{path}")) {
        Ok(url) if url.path() == path => Ok(()),
        _ => invalid(
            "it must be a plain URL path (no spaces, '..' segments or characters to escape)",
        ),
    }
}

/// The serving task: accepts connections until the flow ends or the guard closes the listener.
async fn serve(shared: Arc<Shared>, result: oneshot::Sender<Outcome>) {
    let (outcome_tx, mut outcome_rx) = mpsc::unbounded_channel();
    // Connection tasks live in this set, so aborting the serving task drops them all.
    let mut connections = JoinSet::new();
    // The same tasks, oldest first, for eviction.
    let mut open: VecDeque<Connection> = VecDeque::new();
    loop {
        tokio::select! {
            biased;
            Some(outcome) = outcome_rx.recv() => {
                // Close before answering the waiter, so the port is already free when `wait` returns.
                drop(lock(&shared.listener).take());
                tracing::debug!("OAuth callback received; listener closed");
                let _ = result.send(outcome);
                return;
            }
            Some(finished) = connections.join_next_with_id(), if !connections.is_empty() => {
                let id = match &finished {
                    Ok((id, ())) => *id,
                    Err(error) => error.id(),
                };
                open.retain(|connection| connection.task.id() != id);
            }
            accepted = accept(&shared) => match accepted {
                None => return,
                Some(Ok(stream)) => {
                    if open.len() >= MAX_CONNECTIONS {
                        evict_oldest(&mut open);
                    }
                    let terminal = Arc::new(AtomicBool::new(false));
                    let task = connections.spawn(serve_connection(
                        stream,
                        Arc::clone(&shared),
                        outcome_tx.clone(),
                        Arc::clone(&terminal),
                    ));
                    open.push_back(Connection { task, terminal });
                }
                Some(Err(error)) => {
                    tracing::debug!(%error, "OAuth callback: accept failed");
                    tokio::time::sleep(ACCEPT_ERROR_PAUSE).await;
                }
            },
        }
    }
}

/// A connection being served, as the accept loop tracks it.
struct Connection {
    task: AbortHandle,
    /// Set once the connection carries the request that ends the flow: it is never evicted.
    terminal: Arc<AtomicBool>,
}

/// Makes room for a new connection by closing the oldest one that is not delivering the flow's
/// outcome. The oldest is the likeliest to be held open by someone who never sends a request: a
/// browser sends its request head as soon as it connects, and opens a new connection if an idle
/// one it kept was closed.
fn evict_oldest(open: &mut VecDeque<Connection>) {
    let oldest = open
        .iter()
        .position(|connection| !connection.terminal.load(Ordering::SeqCst));
    if let Some(connection) = oldest.and_then(|index| open.remove(index)) {
        tracing::debug!("OAuth callback: too many connections; closing the oldest");
        connection.task.abort();
    }
}

/// Accepts one connection; `None` once the listener has been closed.
async fn accept(shared: &Shared) -> Option<io::Result<TcpStream>> {
    poll_fn(|cx| match lock(&shared.listener).as_ref() {
        None => Poll::Ready(None),
        Some(listener) => listener
            .poll_accept(cx)
            .map(|accepted| Some(accepted.map(|(stream, _peer)| stream))),
    })
    .await
}

/// Serves one connection: one request head (complete within [`HEADER_READ_TIMEOUT`]), one
/// response, then the connection is closed. If it carried the terminal request, the outcome is
/// reported once the response has been written and the connection closed (or after a short grace
/// period).
async fn serve_connection(
    mut stream: TcpStream,
    shared: Arc<Shared>,
    outcome_tx: mpsc::UnboundedSender<Outcome>,
    terminal: Arc<AtomicBool>,
) {
    let received =
        match tokio::time::timeout(HEADER_READ_TIMEOUT, wire::read_head(&mut stream)).await {
            Ok(Ok(received)) => received,
            Ok(Err(error)) => {
                tracing::debug!(%error, "OAuth callback: reading a request failed");
                return;
            }
            // Unanswered, as before: a client too slow to send a head is not waiting for a page.
            Err(_elapsed) => {
                tracing::debug!("OAuth callback: no complete request head in time; closing");
                return;
            }
        };
    let (response, outcome, head_only) = match received {
        Received::Closed => return,
        Received::Refused(Refusal::Malformed) => {
            tracing::debug!("OAuth callback rejected: a malformed request head");
            (page(Page::Malformed), None, false)
        }
        Received::Refused(Refusal::TooLarge) => {
            tracing::debug!("OAuth callback rejected: the request head is too large");
            (page(Page::HeadTooLarge), None, false)
        }
        Received::Request(request) => {
            let (response, outcome) = respond(&request, &shared);
            (response, outcome, request.method() == Method::HEAD)
        }
    };
    if outcome.is_some() {
        // Before the response goes out: from here on, eviction must not drop this connection.
        terminal.store(true, Ordering::SeqCst);
    }
    let _report = Report {
        outcome,
        to: outcome_tx,
    };
    let bytes = wire::encode(response, head_only);
    match tokio::time::timeout(
        TERMINAL_WRITE_GRACE,
        wire::send_and_close(&mut stream, &bytes),
    )
    .await
    {
        Ok(Ok(())) => {}
        Ok(Err(error)) => tracing::debug!(%error, "OAuth callback: writing the response failed"),
        Err(_elapsed) => tracing::debug!("OAuth callback: the client did not take the response"),
    }
}

/// Hands the terminal request's outcome to the accept loop when its connection is done with, or
/// dropped: a flow whose request was answered ends even if that connection is cut short.
struct Report {
    outcome: Option<Outcome>,
    to: mpsc::UnboundedSender<Outcome>,
}

impl Drop for Report {
    fn drop(&mut self) {
        if let Some(outcome) = self.outcome.take() {
            // Fails only when the accept loop has already ended, and with it the flow.
            let _ = self.to.send(outcome);
        }
    }
}

/// What a request gets; the outcome is `Some` only for the one request that ends the flow.
fn respond<B>(request: &Request<B>, shared: &Shared) -> (Response<String>, Option<Outcome>) {
    if request.method() != Method::GET {
        return (page(Page::MethodNotAllowed), None);
    }
    if request.uri().path() != shared.path {
        return (page(Page::NotFound), None);
    }
    let Some(params) = CallbackParams::parse(request.uri().query().unwrap_or("")) else {
        tracing::debug!("OAuth callback rejected: a parameter appears more than once");
        return (page(Page::BadRequest), None);
    };

    let mut flow = lock(&shared.flow);
    let state_matches = match (&flow.expected, &params.state) {
        (Some(expected), Some(received)) => {
            !received.is_empty() && constant_time_eq(expected.as_bytes(), received.as_bytes())
        }
        _ => false,
    };
    if !state_matches || flow.finished {
        tracing::debug!("OAuth callback rejected: missing, wrong or already used state");
        return (page(Page::BadRequest), None);
    }

    let state = params.state.unwrap_or_default();
    if let Some(error) = params.error {
        flow.finished = true;
        let outcome = Outcome::Denied {
            error: sanitize(&error),
            description: params.error_description.as_deref().map(sanitize),
            iss: params.iss,
        };
        return (page(Page::Denied), Some(outcome));
    }
    match params.code {
        Some(code) if !code.is_empty() => {
            flow.finished = true;
            let authorization = Authorization {
                code,
                state,
                iss: params.iss,
            };
            (
                page(Page::Success),
                Some(Outcome::Authorized(authorization)),
            )
        }
        _ => {
            tracing::debug!("OAuth callback rejected: neither a code nor an error");
            (page(Page::BadRequest), None)
        }
    }
}

/// The parameters of an authorization response (RFC 6749 §4.1.2, RFC 9207), percent-decoded.
#[derive(Default)]
struct CallbackParams {
    state: Option<String>,
    code: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
    iss: Option<String>,
}

impl CallbackParams {
    /// `None` when any parameter appears more than once (RFC 6749 §3.1 forbids it, and a repeated
    /// `state` or `code` leaves it ambiguous which one counts).
    fn parse(query: &str) -> Option<Self> {
        let mut params = Self::default();
        let mut seen: Vec<String> = Vec::new();
        for (name, value) in url::form_urlencoded::parse(query.as_bytes()) {
            if seen.iter().any(|other| *other == name) {
                return None;
            }
            seen.push(name.clone().into_owned());
            let slot = match name.as_ref() {
                "state" => &mut params.state,
                "code" => &mut params.code,
                "error" => &mut params.error,
                "error_description" => &mut params.error_description,
                "iss" => &mut params.iss,
                _ => continue,
            };
            *slot = Some(value.into_owned());
        }
        Some(params)
    }
}

/// Compares without an early exit, so response timing says nothing about how much of a guess was right.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Untrusted text from the authorization server, made safe to print in a terminal or a log.
fn sanitize(text: &str) -> String {
    text.chars()
        .filter(|c| !c.is_control())
        .take(MAX_ERROR_TEXT)
        .collect()
}

#[cfg(test)]
mod tests;
