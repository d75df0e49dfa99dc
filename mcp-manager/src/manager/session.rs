//! The state behind the API: every connection, a live session and what its `Drop` ends at once,
//! and requests on a session (health, recovery, what a failure means for the caller).
//!
//! `Drop for Live` is synchronous and complete: it cancels the session's OAuth browser flows and
//! rmcp's service, kills the stdio server's process group and aborts the session's tasks.
//! `Drop for Manager` first stops everything that could start more (connects in flight, the
//! OAuth runtime), then signals every server's group at once (`StdioProcess::kill_all`), then drops
//! the sessions, then asks for the orphan sweep when the subreaper option is on. Neither blocks
//! or needs a runtime.
//!
//! A request on an unhealthy connection recovers it first when `auto_recover` is on; else it
//! fails. A request that may have reached the server is never sent again: a timeout or a JSON-RPC
//! error goes back to the caller as it is, and a broken connection is marked unhealthy with the
//! transport's own reason.

use std::collections::{BTreeMap, HashSet};
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex, PoisonError, Weak};
use std::time::Duration;

use mcp_oauth::{OAuthAuthorizer, OAuthRuntime};
use mcp_transport::HttpClient;
use mcp_transport::stdio::{self, StdioProcess};
use rmcp::model::{CallToolResult, ClientRequest, ServerResult};
use rmcp::service::RunningServiceCancellationToken;
use tokio::sync::{Notify, broadcast, watch};
use tokio::task::AbortHandle;
use tokio_util::sync::CancellationToken;

use crate::ServerId;
use crate::catalog::CatalogEntry;
use crate::config::ServerConfig;
use crate::error::CallError;
use crate::events::ManagerEvent;
use crate::listing::Listing;
use crate::requests::{RequestFailure, Requests};

use serde::Serialize;

use mcp_transport::SseCloseReason;

use super::*;

pub(super) struct Inner {
    pub(super) options: ManagerOptions,
    pub(super) http: HttpClient,
    /// Tokens and login flows of every HTTP server; shut down with the manager, which closes
    /// every OAuth callback listener in flight.
    pub(super) oauth: Arc<OAuthRuntime>,
    pub(super) state: Mutex<State>,
    pub(super) events: broadcast::Sender<ManagerEvent>,
    pub(super) shutdown: CancellationToken,
    pub(super) next_id: AtomicU64,
}

#[derive(Default)]
pub(super) struct State {
    pub(super) connections: BTreeMap<ServerId, Arc<Connection>>,
    /// Names connected or being connected, so a duplicate is refused at once.
    pub(super) names: HashSet<String>,
}

/// One named connection. Its session can be replaced by `recover`; its id stays.
pub(super) struct Connection {
    pub(super) id: ServerId,
    pub(super) name: String,
    pub(super) config: ServerConfig,
    pub(super) live: Mutex<Option<Live>>,
    pub(super) health: Mutex<Option<String>>,
    pub(super) discovery: Mutex<Arc<Listing>>,
    /// What the last session ran on; a recover of an HTTP server configured without a transport
    /// goes straight to it.
    pub(super) transport: Mutex<TransportKind>,
    pub(super) recovering: tokio::sync::Mutex<()>,
}

impl Connection {
    /// The current session's way to the server, or why there is none.
    pub(super) fn requests(&self) -> Result<Requests, CallError> {
        self.live
            .locked()
            .as_ref()
            .map(|live| live.requests.clone())
            .ok_or_else(|| CallError::Unhealthy {
                server: self.name.clone(),
                cause: "the connection is closed".to_owned(),
            })
    }
}

/// An established session and everything it owns. Dropping it kills at once.
pub(super) struct Live {
    pub(super) requests: Requests,
    pub(super) process: Option<StdioProcess>,
    /// Why a legacy SSE stream ended, for a session on one.
    pub(super) sse_closed: Option<SseCloseReason>,
    /// What the session runs on.
    pub(super) transport: TransportKind,
    pub(super) cancel: Option<RunningServiceCancellationToken>,
    pub(super) ended: watch::Receiver<bool>,
    pub(super) tasks: Vec<AbortHandle>,
    pub(super) list_changed: Arc<Notify>,
    /// The session's OAuth authorizer: a login it started (a step-up mid-session) ends with it.
    pub(super) oauth: Option<OAuthAuthorizer>,
}

impl Drop for Live {
    fn drop(&mut self) {
        if let Some(oauth) = &self.oauth {
            oauth.cancel_flows();
        }
        if let Some(cancel) = self.cancel.take() {
            cancel.cancel();
        }
        if let Some(process) = &self.process {
            process.kill();
        }
        for task in &self.tasks {
            task.abort();
        }
    }
}

impl Live {
    /// Closes the session politely, waiting at most `grace`; returns whether it ended in time.
    /// Whatever happens, everything is killed when this returns.
    pub(super) async fn close(mut self, grace: Duration) -> bool {
        // A login under way for this session ends with it (and its listener closes now).
        if let Some(oauth) = &self.oauth {
            oauth.cancel_flows();
        }
        // The end of an intended close is not a health problem: stop watching first. The first
        // task owns the service loop and must keep running until it ends.
        for task in self.tasks.iter().skip(1) {
            task.abort();
        }
        if let Some(cancel) = self.cancel.take() {
            cancel.cancel();
        }
        let mut ended = self.ended.clone();
        let graceful = tokio::time::timeout(grace, ended.wait_for(|ended| *ended))
            .await
            .is_ok();
        drop(self);
        graceful
    }
}

/// Locks a mutex, recovering from poisoning: every critical section here leaves its data consistent,
/// so a panic elsewhere is no reason to fail every later call.
pub(super) trait Locked<T> {
    fn locked(&self) -> std::sync::MutexGuard<'_, T>;
}

impl<T> Locked<T> for Mutex<T> {
    fn locked(&self) -> std::sync::MutexGuard<'_, T> {
        self.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// A guard for the name reserved by a connect in flight: released if the connect fails or is dropped.
pub(super) struct NameReservation {
    pub(super) inner: Weak<Inner>,
    pub(super) name: String,
    pub(super) keep: bool,
}

impl Drop for NameReservation {
    fn drop(&mut self) {
        if self.keep {
            return;
        }
        if let Some(inner) = self.inner.upgrade() {
            inner.state().names.remove(&self.name);
        }
    }
}

impl Inner {
    pub(super) fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.locked()
    }

    /// The start of `shutdown` and `Drop`, synchronous: cancels connects in flight, ends every
    /// OAuth flow (closing its listener), refuses new work, and hands over every connection.
    pub(super) fn stop_all(&self) -> Vec<Arc<Connection>> {
        self.shutdown.cancel();
        self.oauth.shutdown();
        let mut state = self.state();
        state.names.clear();
        std::mem::take(&mut state.connections)
            .into_values()
            .collect()
    }

    pub(super) fn publish(&self, event: ManagerEvent) {
        let _ = self.events.send(event);
    }
}

impl Manager {
    /// Sends one request on a healthy connection (recovering first if allowed), with the server's
    /// request timeout; on timeout the request is cancelled on the server.
    pub(super) async fn request(
        &self,
        connection: &Arc<Connection>,
        request: ClientRequest,
    ) -> Result<ServerResult, CallError> {
        let unhealthy = connection.health.locked().clone();
        if let Some(cause) = unhealthy {
            if !connection.config.auto_recover {
                return Err(CallError::Unhealthy {
                    server: connection.name.clone(),
                    cause,
                });
            }
            self.recover_connection(connection).await?;
        }
        let requests = connection.requests()?;
        requests
            .send(request, connection.config.request_timeout)
            .await
            .map_err(|failure| self.failed(connection, failure))
    }

    /// What a failed request means for the caller; a broken connection is marked unhealthy with
    /// the transport's own reason.
    pub(super) fn failed(
        &self,
        connection: &Arc<Connection>,
        failure: RequestFailure,
    ) -> CallError {
        if matches!(
            failure,
            RequestFailure::Timeout(_)
                | RequestFailure::Rpc { .. }
                | RequestFailure::Unsupported(_)
        ) {
            return call_error(&connection.name, failure);
        }
        let process_reason = connection.live.locked().as_ref().and_then(|live| {
            live.process
                .as_ref()
                .and_then(StdioProcess::close_reason)
                .or_else(|| live.sse_closed.as_ref().and_then(SseCloseReason::get))
        });
        let cause = process_reason.unwrap_or_else(|| failure.into_transport_error());
        mark_unhealthy(connection, &self.inner.events, cause.to_string());
        CallError::ConnectionLost {
            server: connection.name.clone(),
            cause,
        }
    }
}

/// The caller's error for a failed request (a managed connection is also marked unhealthy when
/// it broke: see `Manager::failed`).
pub(super) fn call_error(server: &str, failure: RequestFailure) -> CallError {
    match failure {
        RequestFailure::Timeout(timeout) => CallError::Timeout {
            server: server.to_owned(),
            timeout,
        },
        RequestFailure::Rpc {
            code,
            message,
            data,
        } => CallError::Rpc {
            server: server.to_owned(),
            code,
            message,
            data,
        },
        RequestFailure::Unsupported(detail) => CallError::Unsupported {
            server: server.to_owned(),
            detail,
        },
        lost @ (RequestFailure::Transport(_) | RequestFailure::Misbehaved(_)) => {
            CallError::ConnectionLost {
                server: server.to_owned(),
                cause: lost.into_transport_error(),
            }
        }
    }
}

pub(super) fn entry<T>(connection: &Connection, item: T) -> CatalogEntry<T> {
    CatalogEntry {
        server_id: connection.id,
        server: connection.name.clone(),
        item,
    }
}

pub(super) fn mark_unhealthy(
    connection: &Connection,
    events: &broadcast::Sender<ManagerEvent>,
    cause: String,
) {
    let mut health = connection.health.locked();
    if health.is_none() {
        tracing::warn!(server = %connection.name, %cause, "connection unhealthy");
        *health = Some(cause.clone());
        let _ = events.send(ManagerEvent::Unhealthy {
            server: connection.name.clone(),
            id: connection.id,
            cause,
        });
    }
}

pub(super) fn tool_outcome(
    server: &str,
    tool: &str,
    result: CallToolResult,
) -> Result<CallToolResult, CallError> {
    if result.is_error == Some(true) {
        Err(CallError::ToolFailed {
            server: server.to_owned(),
            tool: tool.to_owned(),
            result: Box::new(result),
        })
    } else {
        Ok(result)
    }
}

pub(super) fn unexpected(server: &str, result: &ServerResult) -> CallError {
    CallError::Rpc {
        server: server.to_owned(),
        code: -32603,
        message: format!("unexpected result {:?}", std::mem::discriminant(result)),
        data: None,
    }
}

impl Drop for Manager {
    /// Synchronous and complete: cancels connects in flight, kills every stdio server's process group,
    /// cancels every session and aborts every background task. Needs no runtime.
    fn drop(&mut self) {
        let lives: Vec<Live> = self
            .inner
            .stop_all()
            .iter()
            .filter_map(|connection| connection.live.locked().take())
            .collect();
        // Every server is killed before anything else is torn down: a killed server's threads
        // wake up to exit, and waking our own tasks meanwhile would only compete with them.
        StdioProcess::kill_all(lives.iter().filter_map(|live| live.process.as_ref()));
        drop(lives);
        if self.inner.options.subreaper {
            // Queued behind the leaders just killed, so their orphans have been adopted by then.
            stdio::kill_adopted_orphans();
        }
    }
}

impl std::fmt::Debug for Manager {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Manager")
            .field("servers", &self.servers())
            .finish_non_exhaustive()
    }
}

/// The arguments of a tool call or a prompt as the JSON object the request carries (`None` for
/// none): they must serialise to an object or to null.
pub(super) fn arguments_object(
    server: &str,
    name: &str,
    arguments: impl Serialize,
) -> Result<Option<Map<String, Value>>, CallError> {
    let invalid = |reason: String| CallError::InvalidArguments {
        server: server.to_owned(),
        name: name.to_owned(),
        reason,
    };
    match serde_json::to_value(arguments) {
        Ok(Value::Object(object)) => Ok(Some(object)),
        Ok(Value::Null) => Ok(None),
        Ok(other) => Err(invalid(format!(
            "must be a JSON object, not {}",
            json_type(&other)
        ))),
        Err(error) => Err(invalid(format!("cannot be serialised: {error}"))),
    }
}

fn json_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}
