//! The stdio transport rmcp drives: newline-delimited JSON-RPC over the child's pipes.
//!
//! - Framing is bounded and cancel-safe: a line longer than [`StdioLimits`](super::StdioLimits)
//!   allows is never buffered past the limit, and half a line survives a `receive` that rmcp's
//!   `select!` drops.
//! - A line that is not a JSON-RPC message, or is too long, ends the stream (rmcp then closes the
//!   connection) with a typed reason; lines are never skipped. A well-formed request whose params
//!   do not fit its method is not a broken stream: it is answered with an error
//!   (`crate::malformed`).
//! - A graceful close is stdin closed, then SIGTERM, then SIGKILL to the group, 2 s apart by
//!   default ([`ShutdownTimings`](super::ShutdownTimings)); `Drop` is the SIGKILL at once.
//! - [`StdioProcess`] is the handle that outlives the transport's move into rmcp: pid, exit
//!   status, stderr tail, and why the stream ended.

use std::io;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use rmcp::model::{ClientJsonRpcMessage, ServerJsonRpcMessage};
use rmcp::service::RoleClient;
use rmcp::transport::Transport;
use rustix::process::Signal;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{ChildStdin, ChildStdout};
use tokio::task::JoinHandle;

use super::child::ProcessGroup;
use super::direct::{Direct, StdioDirectRequests};
use super::spawn::spawn_server;
use super::spec::{StderrHandling, StdioSpec};
use super::stderr::{StderrRing, StderrTail, drain};
use crate::error::{ExitInfo, ExitPhase, SpawnFailure, TransportError, sanitised_excerpt};
use crate::malformed::{self, Unreadable};

/// How long, after the server closes its stdout, we wait for its exit status and last stderr lines
/// before reporting why the connection ended.
const EXIT_REPORT_GRACE: Duration = Duration::from_millis(500);

/// A running stdio server as an rmcp [`Transport`]: hand it to `rmcp::serve_client`.
///
/// **Ownership.** The transport owns the server process group: dropping it SIGKILLs the group and reaps
/// the leader without blocking and without a tokio runtime. [`Transport::close`] (what rmcp calls on a
/// graceful shutdown) closes stdin, waits, SIGTERMs the group, waits, then SIGKILLs it, with the
/// [`ShutdownTimings`](super::ShutdownTimings) of the spec.
///
/// **When the connection ends.** stdout EOF or the server's exit ends the stream; so does a line longer
/// than the limit (it is not buffered past the limit) or a line that is not a JSON-RPC message. In each
/// case `receive` returns `None`, which makes rmcp close the connection, and [`StdioProcess::close_reason`]
/// says why ([`TransportError::ServerExited`], [`TransportError::MessageTooLarge`],
/// [`TransportError::Protocol`]). Lines are never skipped: a server that writes logs to stdout is broken,
/// and saying so early beats a confusing failure later. One exception: a well-formed JSON-RPC request
/// whose `params` do not fit its method is answered with a JSON-RPC error (invalid request or invalid
/// params; one with a null id, or such a notification, is dropped with a debug log) and the session
/// goes on.
#[derive(Debug)]
pub struct StdioTransport {
    process: StdioProcess,
    stdout: BufReader<ChildStdout>,
    /// The line being read. It survives a `receive` future dropped halfway (rmcp's service loop
    /// drops it whenever another event wins its `select!`), so no partial line is ever lost.
    line: Vec<u8>,
    direct: Arc<Direct>,
    received_any: bool,
    finished: bool,
}

/// A cheap handle on a stdio server's process: its pid, exit status, stderr tail and why the connection
/// ended. It can kill the process group at once; it does not keep the process alive.
#[derive(Debug, Clone)]
pub struct StdioProcess {
    shared: Arc<Shared>,
}

#[derive(Debug)]
struct Shared {
    server: Arc<str>,
    group: Arc<ProcessGroup>,
    stderr: Arc<StderrRing>,
    stderr_drain: Mutex<Option<JoinHandle<()>>>,
    close_reason: Mutex<Option<TransportError>>,
    spec: StdioSpec,
}

impl Drop for Shared {
    fn drop(&mut self) {
        self.group.kill_now();
        if let Some(drain) = self
            .stderr_drain
            .get_mut()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
        {
            drain.abort();
        }
    }
}

impl StdioProcess {
    /// The server's name, as given to [`StdioTransport::spawn`].
    pub fn server(&self) -> &str {
        &self.shared.server
    }

    /// The process id of the server (the leader of its process group).
    pub fn pid(&self) -> u32 {
        self.shared.group.pid()
    }

    /// How the server exited, once it has.
    pub fn exit_status(&self) -> Option<ExitInfo> {
        self.shared.group.exit_status()
    }

    /// Resolves once the server has exited and been reaped.
    pub async fn exited(&self) -> ExitInfo {
        self.shared.group.exited().await
    }

    /// The last lines the server wrote to stderr.
    pub fn stderr_tail(&self) -> StderrTail {
        self.shared.stderr.snapshot()
    }

    /// Why the transport stopped delivering messages, once it has.
    pub fn close_reason(&self) -> Option<TransportError> {
        self.shared
            .close_reason
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// SIGKILLs the whole process group now and reaps the leader without blocking. Synchronous; needs
    /// no runtime; safe to call more than once.
    pub fn kill(&self) {
        self.shared.group.kill_now();
    }

    /// [`kill`](Self::kill), then waits (at most `limit`) until the leader is dead and reaped:
    /// before starting another copy of a server that allows one at a time (a lock, a port), for
    /// instance. Returns whether it was, in time. Other processes of the group were sent SIGKILL
    /// too but are not waited for.
    pub async fn kill_and_wait(&self, limit: Duration) -> bool {
        self.kill();
        tokio::time::timeout(limit, self.exited()).await.is_ok()
    }

    /// [`kill`](Self::kill) for many servers at once, quicker than one by one: every process group
    /// is signalled, then the leaders are reaped together on the shared reaper thread (their exit
    /// status reads as the SIGKILL). Synchronous; needs no runtime.
    ///
    /// ```no_run
    /// # fn demo(servers: Vec<mcp_transport::StdioProcess>) {
    /// use mcp_transport::StdioProcess;
    /// StdioProcess::kill_all(&servers);
    /// # }
    /// ```
    pub fn kill_all<'a>(processes: impl IntoIterator<Item = &'a StdioProcess>) {
        let groups: Vec<&ProcessGroup> = processes
            .into_iter()
            .map(|process| &*process.shared.group)
            .collect();
        ProcessGroup::kill_all(&groups);
    }

    fn record_close(&self, reason: TransportError) {
        let mut slot = self
            .shared
            .close_reason
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if slot.is_none() {
            tracing::debug!(server = %self.shared.server, %reason, "stdio transport closed");
            *slot = Some(reason);
        }
    }
}

impl StdioTransport {
    /// Starts the server described by `spec`, without a shell, as the leader of its own process group.
    /// On Linux the server is SIGKILLed if this process dies, however it dies (`PR_SET_PDEATHSIG`,
    /// set before the server's program starts; a set-user-ID program clears it).
    ///
    /// Must be called inside a tokio runtime (the pipes and the exit watcher register with it).
    ///
    /// # Errors
    /// [`TransportError::Spawn`] naming the command: not found on `PATH` (not retryable), not
    /// executable, a missing working directory, or another OS error.
    pub fn spawn(server: &str, spec: &StdioSpec) -> Result<Self, TransportError> {
        let spawn_error = |reason| TransportError::Spawn {
            command: spec.command.clone(),
            reason,
        };
        if tokio::runtime::Handle::try_current().is_err() {
            return Err(spawn_error(SpawnFailure::Other(Arc::new(
                io::Error::other("StdioTransport::spawn needs a tokio runtime"),
            ))));
        }
        if let Some(cwd) = spec.cwd.as_ref().filter(|cwd| !cwd.is_dir()) {
            return Err(spawn_error(SpawnFailure::MissingWorkingDirectory(
                cwd.display().to_string(),
            )));
        }
        let env = spec.child_env(std::env::vars());
        let search_path = env.get("PATH").cloned().unwrap_or_default();
        let program = resolve_program(&spec.command, &search_path, spec.cwd.as_deref())
            .map_err(spawn_error)?;

        let mut command = Command::new(&program);
        command
            .args(&spec.args)
            .env_clear()
            .envs(&env)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(match spec.stderr {
                StderrHandling::Capture => Stdio::piped(),
                StderrHandling::Discard => Stdio::null(),
            });
        std::os::unix::process::CommandExt::process_group(&mut command, 0);
        if let Some(cwd) = &spec.cwd {
            command.current_dir(cwd);
        }
        let mut child = spawn_server(command).map_err(|error| {
            spawn_error(match error.kind() {
                io::ErrorKind::NotFound => SpawnFailure::NotFound {
                    searched_path: search_path.clone(),
                },
                io::ErrorKind::PermissionDenied => SpawnFailure::PermissionDenied,
                _ => SpawnFailure::Other(Arc::new(error)),
            })
        })?;
        let pipes = (child.stdin.take(), child.stdout.take(), child.stderr.take());
        // From here on the group guard owns the child: any early return kills it.
        let group = ProcessGroup::adopt(child);
        let captured = spec.stderr == StderrHandling::Capture;
        let (Some(stdin), Some(stdout), stderr) = pipes else {
            return Err(spawn_error(SpawnFailure::Other(Arc::new(
                io::Error::other("the child's pipes were not created"),
            ))));
        };
        if captured && stderr.is_none() {
            return Err(spawn_error(SpawnFailure::Other(Arc::new(
                io::Error::other("the child's stderr pipe was not created"),
            ))));
        }
        let registered = ChildStdin::from_std(stdin).and_then(|stdin| {
            Ok((
                stdin,
                ChildStdout::from_std(stdout)?,
                stderr
                    .map(tokio::process::ChildStderr::from_std)
                    .transpose()?,
            ))
        });
        let (stdin, stdout, stderr) =
            registered.map_err(|error| spawn_error(SpawnFailure::Other(Arc::new(error))))?;

        let server: Arc<str> = Arc::from(server);
        let ring = Arc::new(if captured {
            StderrRing::default()
        } else {
            StderrRing::discarded()
        });
        let stderr_drain = stderr
            .map(|stderr| tokio::spawn(drain(stderr, Arc::clone(&ring), Arc::clone(&server))));
        tracing::debug!(server = %server, pid = group.pid(), program = %program.display(), "spawned stdio server");
        let process = StdioProcess {
            shared: Arc::new(Shared {
                server,
                group,
                stderr: ring,
                stderr_drain: Mutex::new(stderr_drain),
                close_reason: Mutex::new(None),
                spec: spec.clone(),
            }),
        };
        Ok(Self {
            direct: Direct::new(stdin, process.clone()),
            process,
            stdout: BufReader::with_capacity(64 * 1024, stdout),
            line: Vec::new(),
            received_any: false,
            finished: false,
        })
    }

    /// A handle on the server process, usable after the transport moves into rmcp.
    pub fn process(&self) -> StdioProcess {
        self.process.clone()
    }

    /// A handle for requests that skip rmcp's service loop (see [`StdioDirectRequests`]); take it before
    /// handing the transport to rmcp.
    pub fn direct_requests(&self) -> StdioDirectRequests {
        self.direct.handle()
    }

    /// Writes `bytes` and a newline to the server's stdin as one whole line, whatever they hold,
    /// by `deadline`: for a compliance check that sends malformed input on purpose. Not for a
    /// transport handed to rmcp. `Ok(false)` when the deadline passed first: nothing was written,
    /// or the server stopped reading halfway through the line and its stdin is now closed (a
    /// torn line must never be followed by another).
    ///
    /// # Errors
    /// [`TransportError::ServerExited`] when the pipe is broken, or another I/O error.
    pub async fn write_raw_line(
        &self,
        bytes: Vec<u8>,
        deadline: tokio::time::Instant,
    ) -> Result<bool, TransportError> {
        self.direct.write_line_by(bytes, deadline).await
    }

    /// Reads the next line of the server's stdout as it is, JSON-RPC or not (without its newline,
    /// at most the spec's line limit): for a compliance check that judges every line itself. Not
    /// for a transport handed to rmcp. `Ok(None)` at end of output. Cancel-safe like `receive`.
    ///
    /// # Errors
    /// [`TransportError::MessageTooLarge`] for a longer line, or an I/O error.
    pub async fn read_raw_line(&mut self) -> Result<Option<Vec<u8>>, TransportError> {
        let max = self.process.shared.spec.limits.max_line_bytes;
        Ok(self
            .read_line(max)
            .await?
            .map(|()| std::mem::take(&mut self.line)))
    }

    /// Closes the server's stdin, after any line being written: MCP's request that it exit.
    pub async fn close_stdin(&self) {
        self.direct.close_stdin().await;
    }

    /// Reads the rest of one line into `self.line`, at most `max` bytes without its newline.
    /// `Ok(None)` at EOF. Cancel-safe: what was read stays in `self.line` for the next call; the
    /// caller clears it once the line is used.
    async fn read_line(&mut self, max: usize) -> Result<Option<()>, TransportError> {
        loop {
            let available = self
                .stdout
                .fill_buf()
                .await
                .map_err(|error| TransportError::io("reading the server's stdout", error))?;
            if available.is_empty() {
                return Ok((!self.line.is_empty()).then_some(()));
            }
            let (take, complete) = match available.iter().position(|byte| *byte == b'\n') {
                Some(end) => (end, true),
                None => (available.len(), false),
            };
            if self.line.len() + take > max {
                return Err(TransportError::MessageTooLarge {
                    what: "a line on the server's stdout",
                    limit: max,
                });
            }
            self.line.extend_from_slice(&available[..take]);
            self.stdout.consume(take + usize::from(complete));
            if complete {
                return Ok(Some(()));
            }
        }
    }

    /// Works out why stdout ended: waits briefly for the exit status and the last stderr lines.
    async fn exit_reason(&self) -> TransportError {
        let process = &self.process;
        let status = tokio::time::timeout(EXIT_REPORT_GRACE, process.exited())
            .await
            .ok();
        let drain = process
            .shared
            .stderr_drain
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if let Some(drain) = drain {
            let _ = tokio::time::timeout(EXIT_REPORT_GRACE, drain).await;
        }
        TransportError::ServerExited {
            phase: if self.received_any {
                ExitPhase::Running
            } else {
                ExitPhase::Initialize
            },
            status,
            stderr_tail: process.stderr_tail(),
        }
    }

    async fn next_message(&mut self) -> Result<Option<ServerJsonRpcMessage>, TransportError> {
        let max = self.process.shared.spec.limits.max_line_bytes;
        loop {
            if self.read_line(max).await?.is_none() {
                return Ok(None);
            }
            if self.line.iter().all(u8::is_ascii_whitespace) || self.direct.take_answer(&self.line)
            {
                self.line.clear();
                continue;
            }
            let parsed = serde_json::from_slice::<ServerJsonRpcMessage>(&self.line);
            let line = std::mem::take(&mut self.line);
            let error = match parsed {
                Ok(message) => return Ok(Some(message)),
                Err(error) => error,
            };
            // A well-formed request whose params do not fit is the server's bug in one request,
            // not a broken stream: it is answered (or, without an id, dropped) and reading goes on.
            match malformed::classify(&line) {
                Unreadable::Answer(answer) => self.answer_malformed(*answer),
                Unreadable::Dropped => {}
                Unreadable::NotARequest => {
                    return Err(TransportError::Protocol {
                        detail: format!(
                            "the server wrote a line to stdout that is not a JSON-RPC message ({error}): {}",
                            sanitised_excerpt(&line, 200)
                        ),
                    });
                }
            }
        }
    }

    /// Sends the error answering a request rmcp could not read. From a task of its own: the reader
    /// must not wait on the server's stdin (a server that writes before it reads would deadlock
    /// us both), and rmcp's `select!` may drop `receive` at any await.
    fn answer_malformed(&self, answer: ClientJsonRpcMessage) {
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let direct = Arc::clone(&self.direct);
        let server = self.process.shared.server.clone();
        runtime.spawn(async move {
            if let Err(error) = direct.write(&answer).await {
                tracing::debug!(%server, %error, "could not answer the server's malformed request");
            }
        });
    }
}

impl Transport<RoleClient> for StdioTransport {
    type Error = TransportError;

    fn send(
        &mut self,
        item: ClientJsonRpcMessage,
    ) -> impl Future<Output = Result<(), TransportError>> + Send + 'static {
        // The one write path, shared with direct requests: a whole line under the stdin lock.
        let direct = Arc::clone(&self.direct);
        async move { direct.write(&item).await }
    }

    async fn receive(&mut self) -> Option<ServerJsonRpcMessage> {
        if self.finished {
            return None;
        }
        match self.next_message().await {
            Ok(Some(message)) => {
                self.received_any = true;
                Some(message)
            }
            Ok(None) => {
                self.finished = true;
                let reason = self.exit_reason().await;
                self.process.record_close(reason);
                self.direct.close();
                None
            }
            Err(error) => {
                self.finished = true;
                self.process.record_close(error);
                self.direct.close();
                None
            }
        }
    }

    async fn close(&mut self) -> Result<(), TransportError> {
        self.finished = true;
        let timings = self.process.shared.spec.shutdown;
        let group = &self.process.shared.group;
        // Closing stdin is the polite request to exit that MCP's stdio transport defines.
        self.direct.close_stdin().await;
        if tokio::time::timeout(timings.after_stdin_close, group.exited())
            .await
            .is_err()
        {
            tracing::debug!(server = %self.process.server(), "server ignored stdin close; sending SIGTERM");
            group.signal(Signal::TERM);
            if tokio::time::timeout(timings.after_sigterm, group.exited())
                .await
                .is_err()
            {
                tracing::warn!(server = %self.process.server(), "server ignored SIGTERM; killing its process group");
            }
        }
        group.kill_now();
        self.process.record_close(TransportError::Closed);
        self.direct.close();
        Ok(())
    }
}

impl Drop for StdioTransport {
    fn drop(&mut self) {
        self.process.kill();
        self.direct.close();
    }
}

/// Finds the program the way a shell would, but without one: a name with a `/` is a path (relative
/// to the working directory), any other name is searched on `search_path`.
fn resolve_program(
    command: &str,
    search_path: &str,
    cwd: Option<&Path>,
) -> Result<PathBuf, SpawnFailure> {
    if command.is_empty() {
        return Err(SpawnFailure::NotFound {
            searched_path: search_path.to_owned(),
        });
    }
    if command.contains('/') {
        let path = match cwd {
            Some(cwd) if Path::new(command).is_relative() => cwd.join(command),
            _ => PathBuf::from(command),
        };
        return match executable(&path) {
            Some(true) => Ok(path),
            Some(false) => Err(SpawnFailure::PermissionDenied),
            None => Err(SpawnFailure::NotFound {
                searched_path: search_path.to_owned(),
            }),
        };
    }
    let mut found_unexecutable = false;
    for dir in search_path.split(':').filter(|dir| !dir.is_empty()) {
        let candidate = Path::new(dir).join(command);
        match executable(&candidate) {
            Some(true) => return Ok(candidate),
            Some(false) => found_unexecutable = true,
            None => {}
        }
    }
    Err(if found_unexecutable {
        SpawnFailure::PermissionDenied
    } else {
        SpawnFailure::NotFound {
            searched_path: search_path.to_owned(),
        }
    })
}

/// `Some(true)` for an executable file, `Some(false)` for a file we may not execute, `None` otherwise.
fn executable(path: &Path) -> Option<bool> {
    use std::os::unix::fs::PermissionsExt;
    let metadata = std::fs::metadata(path).ok()?;
    metadata
        .is_file()
        .then(|| metadata.permissions().mode() & 0o111 != 0)
}
