//! Requests that skip rmcp's service loop: the caller's own task writes the request to the server's
//! stdin, and the transport's reader hands the answer straight back to it.
//!
//! Why: through rmcp's `Peer`, one request is four task hand-offs (the caller to the service loop,
//! the loop to a spawned send task and back, the loop to the caller), and its answer is parsed
//! through the untagged `ServerResult` union, which tries up to 20 shapes (a `tools/call` result is
//! the sixteenth) on a buffered copy of the JSON. Here a request costs one hand-off (the reader to
//! the caller) and its result is parsed as the type its method names. The handshake, the server's
//! own requests (sampling, elicitation, roots, ping) and its notifications still go through rmcp,
//! which keeps reading the transport and never sees the answers that belong here.
//!
//! Direct requests carry string ids (`d-1`, `d-2`, ...) and rmcp's carry numbers, so an answer is
//! routed without ambiguity. Each request also names its id as its progress token, so a server's
//! progress notifications reach the client handler as they do for rmcp's requests.
//!
//! This file also holds the one writer of the server's stdin, for rmcp's messages too: a message
//! is written as one whole line even if its writer is cancelled halfway. A direct request's
//! timeout covers its write as well as its answer; a line the timeout cuts off halfway closes the
//! server's stdin instead (no torn line, and no writer waiting for ever behind the stdin lock). A
//! timeout, or a caller that drops the request, sends `notifications/cancelled` (from a task of
//! its own, if a runtime is there). The end of the connection fails every waiting request at once
//! with the transport's reason.

use std::collections::HashMap;
use std::io;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use rmcp::model::{ClientJsonRpcMessage, ClientRequest, ServerResult};
use tokio::io::AsyncWriteExt;
use tokio::process::ChildStdin;
use tokio::sync::{OwnedMutexGuard, oneshot};
use tokio::time::Instant;

use super::transport::StdioProcess;
use crate::error::{ExitPhase, TransportError};
use crate::request::{
    Answer, DROPPED_REASON, Pending, RequestError, TIMEOUT_REASON, cancelled, direct_answer,
};

/// The number of the first direct request.
const FIRST_ID: u64 = 1;

/// How long `notifications/cancelled` may take to be written. It is small, so it waits only when a
/// server has left more than a pipe's buffer unread.
const CANCEL_WRITE_LIMIT: Duration = Duration::from_secs(5);

/// How a write with a deadline ended.
enum Delivery {
    /// The whole line is on the pipe.
    Written,
    /// The deadline passed first: nothing was written, or part of the line was and stdin is now
    /// closed (see [`WholeLine::abandon`]).
    Late,
}

/// The stdin pipe, shared by rmcp's sends, direct requests and the graceful close (`None` once
/// closed).
type SharedStdin = Arc<tokio::sync::Mutex<Option<ChildStdin>>>;

/// A handle for sending requests to a stdio server without going through rmcp's service loop. Cheap
/// to clone; get it from [`StdioTransport::direct_requests`](super::StdioTransport::direct_requests)
/// before handing the transport to rmcp.
///
/// Answers arrive only while rmcp's service loop keeps reading the transport, so use it only for a
/// session that rmcp is serving. When the connection ends, every waiting request fails at once with
/// the transport's reason (the server exited, a line was too long...).
///
/// ```no_run
/// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
/// use std::time::Duration;
/// use mcp_transport::{StdioSpec, StdioTransport};
/// use rmcp::model::{ClientRequest, ServerResult};
///
/// let transport = StdioTransport::spawn("fixture", &StdioSpec::new("my-mcp-server"))?;
/// let direct = transport.direct_requests();
/// let client = rmcp::serve_client((), transport).await?;
/// let ping = ClientRequest::PingRequest(Default::default());
/// let answer = direct.request(ping, Duration::from_secs(5)).await?;
/// assert!(matches!(answer, ServerResult::EmptyResult(_)));
/// drop(client);
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct StdioDirectRequests {
    shared: Arc<Direct>,
}

impl std::fmt::Debug for StdioDirectRequests {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StdioDirectRequests")
            .field("server", &self.shared.process.server())
            .finish_non_exhaustive()
    }
}

/// The state shared by every handle and the transport's reader.
pub(super) struct Direct {
    stdin: SharedStdin,
    process: StdioProcess,
    pending: Mutex<Waiters>,
    next_id: AtomicU64,
}

impl std::fmt::Debug for Direct {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Direct")
            .field("waiting", &self.pending().waiting.len())
            .finish_non_exhaustive()
    }
}

#[derive(Default)]
struct Waiters {
    waiting: HashMap<u64, oneshot::Sender<Answer>>,
    /// Set once the connection has ended: no request waits for an answer that cannot come.
    closed: bool,
}

impl Direct {
    pub(super) fn new(stdin: ChildStdin, process: StdioProcess) -> Arc<Self> {
        Arc::new(Self {
            stdin: Arc::new(tokio::sync::Mutex::new(Some(stdin))),
            process,
            pending: Mutex::new(Waiters::default()),
            next_id: AtomicU64::new(FIRST_ID),
        })
    }

    pub(super) fn handle(self: &Arc<Self>) -> StdioDirectRequests {
        StdioDirectRequests {
            shared: Arc::clone(self),
        }
    }

    fn pending(&self) -> std::sync::MutexGuard<'_, Waiters> {
        self.pending.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Called by the reader with each complete line: hands an answer to a direct request to its
    /// caller and returns `true`; returns `false` for anything else, which rmcp then reads.
    pub(super) fn take_answer(&self, line: &[u8]) -> bool {
        // Until a direct request has been made, nothing is parsed twice.
        if self.next_id.load(Ordering::Relaxed) == FIRST_ID {
            return false;
        }
        let Some((number, answer)) = direct_answer(line) else {
            return false;
        };
        let waiting = self.pending().waiting.remove(&number);
        if let Some(waiting) = waiting {
            // The caller may have given up in the same instant; then nobody needs the answer.
            let _ = waiting.send(answer);
        }
        // An answer to a request nobody waits for any more (timed out, cancelled) ends here.
        true
    }

    /// The connection has ended: every waiting request learns it now, and new ones fail at once.
    pub(super) fn close(&self) {
        let waiting = {
            let mut pending = self.pending();
            pending.closed = true;
            std::mem::take(&mut pending.waiting)
        };
        // Dropped outside the lock: each drop wakes a caller.
        drop(waiting);
    }

    fn closed_error(&self) -> RequestError {
        RequestError::Transport(
            self.process
                .close_reason()
                .unwrap_or(TransportError::Closed),
        )
    }

    /// Stops waiting for `number`; whether it was still waiting.
    fn forget(&self, number: u64) -> bool {
        self.pending().waiting.remove(&number).is_some()
    }

    fn register(&self) -> Result<(u64, oneshot::Receiver<Answer>), RequestError> {
        let number = self.next_id.fetch_add(1, Ordering::Relaxed);
        let (sender, receiver) = oneshot::channel();
        let mut pending = self.pending();
        if pending.closed {
            drop(pending);
            return Err(self.closed_error());
        }
        pending.waiting.insert(number, sender);
        Ok((number, receiver))
    }

    /// Closes the server's stdin (MCP's polite request to exit), after any line being written.
    pub(super) async fn close_stdin(&self) {
        drop(self.stdin.lock().await.take());
    }

    /// Writes one message as one whole line, even if the caller stops waiting halfway. Every
    /// message to the server goes through here, rmcp's included.
    pub(super) async fn write(&self, message: &ClientJsonRpcMessage) -> Result<(), TransportError> {
        self.write_line(encode(message)?).await
    }

    /// Writes `bytes` and a newline as one whole line by `deadline`, whatever they hold (a
    /// compliance check's malformed message included). `Ok(false)`: the deadline passed first
    /// (nothing was written, or the line was abandoned halfway and stdin is now closed).
    pub(super) async fn write_line_by(
        &self,
        bytes: Vec<u8>,
        deadline: Instant,
    ) -> Result<bool, TransportError> {
        Ok(matches!(
            self.write_by(bytes, Some(deadline)).await?,
            Delivery::Written
        ))
    }

    /// Writes `bytes` and a newline as one whole line.
    async fn write_line(&self, bytes: Vec<u8>) -> Result<(), TransportError> {
        match self.write_by(bytes, None).await? {
            Delivery::Written => Ok(()),
            // Without a deadline the write never runs late.
            Delivery::Late => Err(TransportError::Closed),
        }
    }

    /// Writes one message as one whole line, giving up at `deadline` (waiting for the stdin lock
    /// included). A line abandoned halfway closes the server's stdin: see [`WholeLine::abandon`].
    async fn write_by(
        &self,
        mut bytes: Vec<u8>,
        deadline: Option<Instant>,
    ) -> Result<Delivery, TransportError> {
        bytes.push(b'\n');
        let lock = Arc::clone(&self.stdin).lock_owned();
        let stdin = match deadline {
            None => lock.await,
            Some(deadline) => match tokio::time::timeout_at(deadline, lock).await {
                Ok(stdin) => stdin,
                Err(_) => return Ok(Delivery::Late),
            },
        };
        let mut line = WholeLine {
            stdin: Some(stdin),
            bytes,
            written: 0,
        };
        let written = match deadline {
            None => line.write().await,
            Some(deadline) => match tokio::time::timeout_at(deadline, line.write()).await {
                Ok(written) => written,
                Err(_) => {
                    let started = line.abandon();
                    if started {
                        tracing::warn!(
                            server = %self.process.server(),
                            "the server stopped reading its stdin in the middle of a message; \
                             closed its stdin"
                        );
                    }
                    return Ok(Delivery::Late);
                }
            },
        };
        written.map_err(|error| match error {
            // A broken pipe is the server gone.
            Some(error) if error.kind() == io::ErrorKind::BrokenPipe => {
                TransportError::ServerExited {
                    phase: ExitPhase::Running,
                    status: self.process.exit_status(),
                    stderr_tail: self.process.stderr_tail(),
                }
            }
            Some(error) => TransportError::io("writing to the server's stdin", error),
            None => TransportError::Closed,
        })?;
        Ok(Delivery::Written)
    }

    /// Tells the server to stop working on `number` (best effort: the connection may be gone).
    ///
    /// Bounded by [`CANCEL_WRITE_LIMIT`]: a server that has stopped reading its stdin must not
    /// keep this (and the stdin lock behind it) waiting for ever.
    async fn cancel_on_server(&self, number: u64, reason: &str) {
        let deadline = Instant::now() + CANCEL_WRITE_LIMIT;
        let written = match encode(&cancelled(number, reason)) {
            Ok(bytes) => self.write_by(bytes, Some(deadline)).await,
            Err(error) => Err(error),
        };
        match written {
            Ok(Delivery::Written) => {}
            Ok(Delivery::Late) => {
                tracing::debug!(server = %self.process.server(), "the server did not read notifications/cancelled in time");
            }
            Err(error) => {
                tracing::debug!(server = %self.process.server(), %error, "could not send notifications/cancelled");
            }
        }
    }
}

/// A message as the bytes of its line (without the newline).
fn encode(message: &ClientJsonRpcMessage) -> Result<Vec<u8>, TransportError> {
    serde_json::to_vec(message).map_err(|error| TransportError::Protocol {
        detail: format!("could not encode a message: {error}"),
    })
}

impl StdioDirectRequests {
    /// Sends `request` and waits for its answer, which is parsed as the result type of the
    /// request's method (`tools/call` as `CallToolResult`, and so on; a method without a known
    /// result type as rmcp's `ServerResult` union). `timeout` covers the whole request: writing
    /// it (which waits while the server leaves its stdin unread) as well as the answer.
    ///
    /// Dropping the future stops waiting: the request is forgotten here and the server is sent
    /// `notifications/cancelled` (if a runtime is still there to send it). A request is written
    /// whole even then, so the pipe never carries a torn line. A request whose timeout passes
    /// halfway through its write closes the server's stdin instead: the session is over.
    ///
    /// # Errors
    /// [`RequestError::Rpc`] for the server's JSON-RPC error; [`RequestError::Timeout`] (the server
    /// was told to cancel, if it had the whole request); [`RequestError::Transport`] when the
    /// connection failed or ended (the transport's reason: the server exited, a line was too
    /// long...) or when the answer is not the result the method promises
    /// ([`TransportError::Protocol`]).
    pub async fn request(
        &self,
        request: ClientRequest,
        timeout: Duration,
    ) -> Result<ServerResult, RequestError> {
        let shared = &self.shared;
        let (number, answer) = shared.register()?;
        // From here until the answer arrives, dropping this future forgets the request.
        let _waiting = Waiting {
            shared: Arc::clone(shared),
            number,
        };
        // One deadline for the whole request: a server that stops reading its stdin must not
        // hold the caller past its timeout in the write (a request over a pipe's 64 KiB blocks
        // until the server reads).
        let deadline = Instant::now() + timeout;
        let (message, pending) = Pending::prepare(request, number);
        let written = match encode(&message) {
            Ok(bytes) => shared.write_by(bytes, Some(deadline)).await,
            Err(error) => Err(error),
        };
        match written {
            Ok(Delivery::Written) => {}
            // Never (wholly) sent, so there is nothing to cancel on the server: either nothing
            // was written, or stdin is now closed.
            Ok(Delivery::Late) => {
                shared.forget(number);
                return Err(RequestError::Timeout {
                    method: pending.method,
                    timeout,
                });
            }
            Err(error) => {
                shared.forget(number);
                return Err(error.into());
            }
        }
        let answer = match tokio::time::timeout_at(deadline, answer).await {
            Ok(Ok(answer)) => answer,
            // The connection ended and took every waiting request with it.
            Ok(Err(_)) => return Err(shared.closed_error()),
            Err(_) => {
                if shared.forget(number) {
                    // From a task of its own, so that the caller has its answer at the timeout
                    // even if the server is not reading (the write is bounded too).
                    let shared = Arc::clone(shared);
                    tokio::spawn(
                        async move { shared.cancel_on_server(number, TIMEOUT_REASON).await },
                    );
                }
                return Err(RequestError::Timeout {
                    method: pending.method,
                    timeout,
                });
            }
        };
        pending.finish(answer)
    }
}

/// A request in flight, forgotten (and cancelled on the server) if its caller stops waiting. Once
/// the request is answered, timed out or failed, it is no longer pending and this does nothing.
struct Waiting {
    shared: Arc<Direct>,
    number: u64,
}

impl Drop for Waiting {
    fn drop(&mut self) {
        if !self.shared.forget(self.number) {
            return;
        }
        // Non-blocking: the notification is written by a task of its own, if a runtime is there.
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            let shared = Arc::clone(&self.shared);
            let number = self.number;
            runtime.spawn(async move { shared.cancel_on_server(number, DROPPED_REASON).await });
        }
    }
}

/// A line being written under the stdin lock. Dropped halfway, it has the rest written by a task of
/// its own (or, with no runtime left, closes stdin): a server must never read a torn message.
struct WholeLine {
    stdin: Option<OwnedMutexGuard<Option<ChildStdin>>>,
    bytes: Vec<u8>,
    written: usize,
}

impl WholeLine {
    /// Gives up on a line whose deadline passed; whether any of it had been written.
    ///
    /// Half a line cannot simply be left on the pipe: whatever is written next would reach the
    /// server as the rest of that line, garbage. Finishing it from a task (what `Drop` does for a
    /// cancelled writer) would hold the stdin lock for as long as the server does not read,
    /// perhaps for ever, and every later message and the graceful close would queue behind it:
    /// the hang would only move. So a started line closes the server's stdin: the server reads
    /// end of file (MCP's request to exit) rather than a torn message, and later writes fail at
    /// once with [`TransportError::Closed`]. A line not yet started just releases the lock.
    fn abandon(&mut self) -> bool {
        let started = self.written > 0 && self.written < self.bytes.len();
        if started && let Some(stdin) = self.stdin.as_mut() {
            **stdin = None;
        }
        // Nothing more is owed on the pipe: `Drop` must not finish the line.
        self.written = self.bytes.len();
        started
    }

    /// `Err(None)` when stdin is already closed.
    async fn write(&mut self) -> Result<(), Option<io::Error>> {
        let Some(pipe) = self.stdin.as_mut().and_then(|stdin| stdin.as_mut()) else {
            return Err(None);
        };
        while self.written < self.bytes.len() {
            let written = match pipe.write(&self.bytes[self.written..]).await {
                Ok(0) => Err(io::ErrorKind::WriteZero.into()),
                other => other,
            };
            match written {
                Ok(written) => self.written += written,
                Err(error) => {
                    // Whatever happened to the pipe, nothing more is owed on it.
                    self.written = self.bytes.len();
                    return Err(Some(error));
                }
            }
        }
        Ok(())
    }
}

impl Drop for WholeLine {
    fn drop(&mut self) {
        if self.written == 0 || self.written >= self.bytes.len() {
            return;
        }
        let Some(mut stdin) = self.stdin.take() else {
            return;
        };
        let rest = self.bytes.split_off(self.written);
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => {
                runtime.spawn(async move {
                    if let Some(pipe) = stdin.as_mut() {
                        // Dropped again (the runtime shutting down), the lock goes with the task.
                        let _ = pipe.write_all(&rest).await;
                    }
                });
            }
            // End of file is a clearer end for the server than half a message.
            Err(_) => *stdin = None,
        }
    }
}
