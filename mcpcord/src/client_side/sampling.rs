//! A server's sampling requests ("run this prompt through your model"): declined, as `mcpcord`
//! has no model, or answered by the command `--sampling-command` names.
//!
//! The command runs as `sh -c CMD` in a process group of its own, with `MCPCORD_SERVER` naming the
//! server that asks. It gets the request's params (`CreateMessageRequestParams`) as JSON on stdin
//! and prints a `CreateMessageResult` as JSON on stdout; its stderr is `mcpcord`'s. It is given
//! [`TIMEOUT`] and [`MAX_OUTPUT`]: past either, or when the request is dropped (the call was
//! cancelled or withdrawn, the session closed), its whole group is killed; [`kill_all`] kills the
//! groups still running when `mcpcord` exits. Whatever goes wrong, the server gets an error and
//! the person one line on stderr naming the server and what happened.
// Sampling is deprecated only in the draft protocol (SEP-2577); servers of every released version
// use it.
#![allow(deprecated)]

use std::fmt;
use std::process::{ExitStatus, Stdio};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use futures::future::BoxFuture;
use mcp_manager::SamplingHandler;
use mcp_manager::rmcp::ErrorData;
use mcp_manager::rmcp::model::{CreateMessageRequestParams, CreateMessageResult, ErrorCode};
use rustix::process::{Pid, Signal, kill_process_group};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::process::{Child, Command};

use super::Notes;
use crate::render::one_line;

/// How long the command has to answer: a model's completion, not a person's.
pub(crate) const TIMEOUT: Duration = Duration::from_secs(60);

/// The most the command may print on stdout.
pub(crate) const MAX_OUTPUT: usize = 1024 * 1024;

/// The code of the error a declined sampling request gets: the one MCP's specification shows for a
/// request the user rejected.
const DECLINED: ErrorCode = ErrorCode(-1);

/// Declines every sampling request: the server is told the client has no model, the person which
/// server asked and how to answer instead.
#[derive(Debug)]
pub(crate) struct NoModel {
    notes: Notes,
}

impl NoModel {
    pub(super) fn new(notes: Notes) -> Self {
        Self { notes }
    }
}

impl SamplingHandler for NoModel {
    fn create_message(
        &self,
        server: &str,
        _params: CreateMessageRequestParams,
    ) -> BoxFuture<'_, Result<CreateMessageResult, ErrorData>> {
        self.notes.say(&format!(
            "server {} asked for an LLM completion (sampling); declined: mcpcord has no model \
             (--sampling-command CMD answers with a program of yours)",
            one_line(server)
        ));
        Box::pin(async {
            Err(ErrorData::new(
                DECLINED,
                "sampling declined: this client (mcpcord) has no model to sample with",
                None,
            ))
        })
    }
}

/// Answers sampling requests with the user's command.
#[derive(Debug)]
pub(crate) struct CommandSampler {
    command: String,
    timeout: Duration,
    notes: Notes,
}

impl CommandSampler {
    pub(super) fn new(command: String, notes: Notes) -> Self {
        Self {
            command,
            timeout: TIMEOUT,
            notes,
        }
    }
}

impl SamplingHandler for CommandSampler {
    fn create_message(
        &self,
        server: &str,
        params: CreateMessageRequestParams,
    ) -> BoxFuture<'_, Result<CreateMessageResult, ErrorData>> {
        let server = server.to_owned();
        Box::pin(async move {
            run(&self.command, &server, &params, self.timeout, MAX_OUTPUT)
                .await
                .map_err(|error| {
                    // A JSON error quotes the command's output.
                    self.notes.say(&format!(
                        "server {} asked for an LLM completion (sampling); --sampling-command \
                         failed: {}",
                        one_line(&server),
                        one_line(&error.to_string())
                    ));
                    ErrorData::internal_error(
                        format!("the client's sampling command failed: {error}"),
                        None,
                    )
                })
        })
    }
}

/// Why the sampling command gave no answer.
#[derive(Debug)]
pub(crate) enum SamplingCommandError {
    /// The request's params could not be written as JSON.
    Input(serde_json::Error),
    /// `sh` could not be started.
    Spawn(std::io::Error),
    /// Its output could not be read, or its exit awaited.
    Io(std::io::Error),
    /// No answer within the time; it was killed.
    TimedOut(Duration),
    /// More output than allowed; it was killed.
    TooMuchOutput(usize),
    /// It exited unsuccessfully.
    Failed(ExitStatus),
    /// Its output is not a `CreateMessageResult` in JSON.
    BadOutput(serde_json::Error),
}

impl fmt::Display for SamplingCommandError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Input(error) => write!(f, "the request could not be written as JSON: {error}"),
            Self::Spawn(error) => write!(f, "could not start it with sh: {error}"),
            Self::Io(error) => write!(f, "could not read its output: {error}"),
            Self::TimedOut(limit) => write!(
                f,
                "no answer within {}; it was killed",
                humantime::format_duration(*limit)
            ),
            Self::TooMuchOutput(limit) => {
                write!(f, "it printed more than {limit} bytes; it was killed")
            }
            Self::Failed(status) => write!(f, "it failed ({status})"),
            Self::BadOutput(error) => write!(
                f,
                "its output is not a CreateMessageResult in JSON ({error}), such as \
                 {{\"role\":\"assistant\",\"content\":{{\"type\":\"text\",\"text\":\"...\"}},\
                 \"model\":\"...\"}}"
            ),
        }
    }
}

impl std::error::Error for SamplingCommandError {}

/// Runs `command` once for `params` from `server`.
pub(crate) async fn run(
    command: &str,
    server: &str,
    params: &CreateMessageRequestParams,
    timeout: Duration,
    max_output: usize,
) -> Result<CreateMessageResult, SamplingCommandError> {
    let input = serde_json::to_vec(params).map_err(SamplingCommandError::Input)?;
    let child = Command::new("sh")
        .arg("-c")
        .arg(command)
        .env("MCPCORD_SERVER", server)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .process_group(0)
        .kill_on_drop(true)
        .spawn()
        .map_err(SamplingCommandError::Spawn)?;
    let mut running = Running::new(child);
    let exchange = async {
        let stdin = running.child.stdin.take();
        let stdout = running.child.stdout.take();
        let write = async {
            if let Some(mut stdin) = stdin {
                // A command that answers without reading its input is fine: a broken pipe here
                // is not an error. Dropping stdin closes it, so the command sees the end.
                let _ = stdin.write_all(&input).await;
            }
        };
        let read = async {
            let mut output = Vec::new();
            if let Some(stdout) = stdout {
                stdout
                    .take(max_output as u64 + 1)
                    .read_to_end(&mut output)
                    .await
                    .map_err(SamplingCommandError::Io)?;
            }
            Ok(output)
        };
        let ((), output) = tokio::join!(write, read);
        let output = output?;
        if output.len() > max_output {
            return Err(SamplingCommandError::TooMuchOutput(max_output));
        }
        let status = running.wait().await.map_err(SamplingCommandError::Io)?;
        Ok((status, output))
    };
    let (status, output) = tokio::time::timeout(timeout, exchange)
        .await
        .map_err(|_| SamplingCommandError::TimedOut(timeout))??;
    if !status.success() {
        return Err(SamplingCommandError::Failed(status));
    }
    serde_json::from_slice(&output).map_err(SamplingCommandError::BadOutput)
}

/// The process groups of the sampling commands still running, for [`kill_all`].
static RUNNING: Mutex<Vec<Pid>> = Mutex::new(Vec::new());

fn running_groups() -> MutexGuard<'static, Vec<Pid>> {
    RUNNING.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Kills the process group of every sampling command still running. For `mcpcord`'s exit:
/// the runtime is shut down in the background there, which may never drop the requests that own
/// them.
pub(crate) fn kill_all() {
    for group in running_groups().drain(..) {
        let _ = kill_process_group(group, Signal::KILL);
    }
}

/// The command's process, its whole group killed on drop unless it was waited for: on a timeout,
/// too much output, or a request dropped mid-way. Listed in [`RUNNING`] meanwhile.
struct Running {
    child: Child,
    /// The group (the leader's pid), until the leader is reaped: a group id is reserved only while
    /// a process holds it (a zombie leader does), so once reaped it may become another's.
    group: Option<Pid>,
}

impl Running {
    fn new(child: Child) -> Self {
        let group = child.id().and_then(|id| Pid::from_raw(id as i32));
        if let Some(group) = group {
            running_groups().push(group);
        }
        Self { child, group }
    }

    /// Waits for the command to exit and reaps it; its group is forgotten.
    async fn wait(&mut self) -> std::io::Result<ExitStatus> {
        let status = self.child.wait().await?;
        // Between the reaping and this, only `kill_all` at exit could signal the group, and a
        // pid is not handed out again within microseconds.
        self.forget();
        Ok(status)
    }

    /// Takes the group out of [`RUNNING`], and returns it unless it was already forgotten.
    fn forget(&mut self) -> Option<Pid> {
        let group = self.group.take()?;
        running_groups().retain(|listed| *listed != group);
        Some(group)
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        // The leader is not reaped before `child` drops, after this: the group id is still its.
        if let Some(group) = self.forget() {
            let _ = kill_process_group(group, Signal::KILL);
        }
    }
}

#[cfg(test)]
mod tests;
