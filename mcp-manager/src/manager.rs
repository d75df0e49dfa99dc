//! The facade: connections by name, each owned by a guard, with retry, health, recovery and shutdown.

use std::collections::{BTreeMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError, Weak};
use std::time::{Duration, Instant};

use futures::StreamExt;
use mcp_oauth::authorizer::{
    DEFAULT_LOGIN_TIMEOUT, Grant, OAuthAuthorizer, OAuthRuntime, OAuthSettings,
};
use mcp_oauth::browser::Browser;
use mcp_oauth::callback::CallbackOptions;
use mcp_oauth::enterprise::EnterpriseIdentity;
use mcp_oauth::flow::TokenAuthMethod;
use mcp_oauth::grant::PrivateKeyJwt;
use mcp_oauth::registration::ClientIdentity;
use mcp_oauth::store::{FileStore, MemoryStore, StoredTokens, TokenStore};
use mcp_retry::{ByRetryable, Retry, RetryPolicy};
use mcp_transport::TransportError;
use mcp_transport::auth::{Authorizer, StaticBearer};
use mcp_transport::http::{HttpClient, HttpClientBuildError, HttpOptions, HttpTransportOptions};
use mcp_transport::stdio::{self, StdioProcess, StdioSpec, StdioTransport};
use rmcp::model::{
    CallToolRequestParams, CallToolResult, ClientRequest, GetPromptRequestParams, GetPromptResult,
    ReadResourceRequestParams, ReadResourceResult, ServerResult,
};
use rmcp::service::RunningServiceCancellationToken;
use serde_json::{Map, Value};
use tokio::sync::{Notify, broadcast, watch};
use tokio::task::AbortHandle;
use tokio_util::sync::CancellationToken;

use crate::catalog::{Catalog, Entry, qualified_name};
use crate::config::{AuthMode, HttpConfig, OAuthGrant, ServerConfig, TransportConfig};
use crate::discovery::Discovery;
use crate::error::{AttemptError, CallError, ConnectError};
use crate::events::{ManagerEvent, ServerId};
use crate::handler::{ClientRoot, ElicitationPolicy, Handler, SamplingHandler};
use crate::handshake::{Violation, WatchHandshake};
use crate::requests::{Direct, RequestFailure, Requests};

/// How a [`Manager`] behaves across all its servers.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ManagerOptions {
    /// The shared HTTP client's settings.
    pub http: HttpOptions,
    /// How servers' requests for user input are answered. Default: decline.
    pub elicitation: ElicitationPolicy,
    /// The roots offered to servers that ask (none: the capability is not advertised).
    pub roots: Vec<ClientRoot>,
    /// How many servers `connect_all` connects at once. Default 16.
    pub connect_concurrency: usize,
    /// Attempts made by `recover` and automatic recovery. Default 2.
    pub recover_attempts: u32,
    /// Answers servers' sampling requests; none: sampling is not advertised.
    pub sampling: Option<Arc<dyn SamplingHandler>>,
    /// Where OAuth tokens and client registrations are kept. None (the default): the file store
    /// under `$MCPCORD_HOME` (see [`mcp_oauth::store::default_dir`]), or memory when there is no home
    /// directory.
    pub token_store: Option<Arc<dyn TokenStore>>,
    /// How an interactive login is presented. None (the default): no browser flow starts, and a
    /// server that needs a login fails with an error that says to run `mcpcord login NAME`.
    pub browser: Option<Arc<dyn Browser>>,
    /// How long an interactive login waits for the browser. It is added to a server's
    /// `connect_timeout` when a login may happen, so a person is not cut off. Default 300 s.
    pub login_timeout: Duration,
    /// Also kill what escapes a stdio server's process group (a descendant that called `setsid`).
    /// When on, [`Manager::new`] makes this process a child subreaper (Linux), so such a
    /// descendant becomes our child when its parent dies; [`Manager::shutdown`] and `Drop` then
    /// SIGKILL and reap every child of this process that is not a running stdio server (see
    /// [`mcp_transport::stdio::kill_adopted_orphans`]).
    ///
    /// Process-wide, so off by default: turn it on only in a program whose other child
    /// processes may be killed with the manager (`mcpcord` turns it on). A subreaper also adopts what
    /// other children leave behind; start those under [`mcp_transport::stdio::pause_subreaper`],
    /// as the system browser for a login is.
    pub subreaper: bool,
}

impl Default for ManagerOptions {
    fn default() -> Self {
        Self {
            http: HttpOptions::default(),
            elicitation: ElicitationPolicy::Decline,
            roots: Vec::new(),
            connect_concurrency: 16,
            recover_attempts: 2,
            sampling: None,
            token_store: None,
            browser: None,
            login_timeout: DEFAULT_LOGIN_TIMEOUT,
            subreaper: false,
        }
    }
}

/// How long `shutdown` waits, after the servers are killed, for them to be reaped. A SIGKILLed
/// process is gone within milliseconds unless it is stuck in the kernel.
const REAP_WAIT: Duration = Duration::from_secs(1);

/// What `shutdown` did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ShutdownReport {
    /// Servers that closed within the grace period.
    pub graceful: Vec<String>,
    /// Servers that had to be killed (stdio) or abandoned (HTTP) after the grace period.
    pub forced: Vec<String>,
}

/// Connections to many MCP servers, each owned by a guard.
///
/// Not `Clone`: share it with an `Arc`. Every method takes `&self`. Dropping the manager kills every
/// stdio server's process group and cancels every session at once, synchronously, without a runtime;
/// [`shutdown`](Self::shutdown) is the graceful alternative.
///
/// On tokio's multi-threaded runtime, sequential calls made from a spawned task are quicker than
/// the same calls made from the future `block_on` runs (for example the body of `#[tokio::main]`):
/// a server's answer is read on a runtime worker, which then only has to queue the waiting task
/// instead of waking the thread in `block_on`. Over stdio that is a fifth to a third more calls
/// per second on a small machine (see the README's Performance section).
///
/// ```no_run
/// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
/// use mcp_manager::{Manager, ManagerOptions};
/// use mcp_manager::config::ServerConfig;
///
/// let manager = Manager::new(ManagerOptions::default())?;
/// let id = manager
///     .connect("everything", &ServerConfig::stdio("npx", ["-y", "@modelcontextprotocol/server-everything"]))
///     .await?;
/// let args = serde_json::json!({ "message": "hi" });
/// let result = manager.call_tool(id, "echo", args.as_object().cloned()).await?;
/// println!("{:?}", result.content);
/// manager.shutdown(std::time::Duration::from_secs(2)).await;
/// # Ok(())
/// # }
/// ```
pub struct Manager {
    inner: Arc<Inner>,
}

struct Inner {
    options: ManagerOptions,
    http: HttpClient,
    /// Tokens and login flows of every HTTP server; shut down with the manager, which closes
    /// every OAuth callback listener in flight.
    oauth: Arc<OAuthRuntime>,
    state: Mutex<State>,
    events: broadcast::Sender<ManagerEvent>,
    shutdown: CancellationToken,
    next_id: AtomicU64,
}

#[derive(Default)]
struct State {
    connections: BTreeMap<ServerId, Arc<Connection>>,
    /// Names connected or being connected, so a duplicate is refused at once.
    names: HashSet<String>,
}

/// One named connection. Its session can be replaced by `recover`; its id stays.
struct Connection {
    id: ServerId,
    name: String,
    config: ServerConfig,
    live: Mutex<Option<Live>>,
    health: Mutex<Option<String>>,
    discovery: Mutex<Arc<Discovery>>,
    recovering: tokio::sync::Mutex<()>,
}

impl Connection {
    /// The current session's way to the server, or why there is none.
    fn requests(&self) -> Result<Requests, CallError> {
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
struct Live {
    requests: Requests,
    process: Option<StdioProcess>,
    cancel: Option<RunningServiceCancellationToken>,
    ended: watch::Receiver<bool>,
    tasks: Vec<AbortHandle>,
    list_changed: Arc<Notify>,
    /// The session's OAuth authorizer: a login it started (a step-up mid-session) ends with it.
    oauth: Option<OAuthAuthorizer>,
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
    async fn close(mut self, grace: Duration) -> bool {
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
trait Locked<T> {
    fn locked(&self) -> std::sync::MutexGuard<'_, T>;
}

impl<T> Locked<T> for Mutex<T> {
    fn locked(&self) -> std::sync::MutexGuard<'_, T> {
        self.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// A guard for the name reserved by a connect in flight: released if the connect fails or is dropped.
struct NameReservation {
    inner: Weak<Inner>,
    name: String,
    keep: bool,
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
    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.locked()
    }

    /// The start of `shutdown` and `Drop`, synchronous: cancels connects in flight, ends every
    /// OAuth flow (closing its listener), refuses new work, and hands over every connection.
    fn stop_all(&self) -> Vec<Arc<Connection>> {
        self.shutdown.cancel();
        self.oauth.shutdown();
        let mut state = self.state();
        state.names.clear();
        std::mem::take(&mut state.connections)
            .into_values()
            .collect()
    }

    fn publish(&self, event: ManagerEvent) {
        let _ = self.events.send(event);
    }
}

impl Manager {
    /// A manager with no connections.
    ///
    /// # Errors
    /// The HTTP client cannot be built (an unreadable extra CA file, an invalid User-Agent).
    pub fn new(options: ManagerOptions) -> Result<Self, HttpClientBuildError> {
        let http = HttpClient::new(options.http.clone())?;
        if options.subreaper
            && let Err(error) = stdio::become_subreaper()
        {
            // Not fatal: only descendants that escape their server's group are left running.
            tracing::warn!(%error, "cannot become a child subreaper; descendants that leave a server's process group will outlive it");
        }
        let (events, _) = broadcast::channel(1024);
        let store = options
            .token_store
            .clone()
            .unwrap_or_else(default_token_store);
        let mut oauth =
            OAuthRuntime::new(http.clone(), store).with_login_timeout(options.login_timeout);
        if let Some(browser) = &options.browser {
            oauth = oauth.with_browser(Arc::clone(browser));
        }
        Ok(Self {
            inner: Arc::new(Inner {
                options,
                http,
                oauth: Arc::new(oauth),
                state: Mutex::new(State::default()),
                events,
                shutdown: CancellationToken::new(),
                next_id: AtomicU64::new(1),
            }),
        })
    }

    /// Every event from now on. A slow receiver loses the oldest events (and is told how many).
    pub fn events(&self) -> broadcast::Receiver<ManagerEvent> {
        self.inner.events.subscribe()
    }

    /// Connects to a server: a complete attempt (spawn or open, handshake and discovery, under
    /// `connect_timeout`) retried with the server's policy. Each retry is published as an event.
    ///
    /// # Errors
    /// [`ConnectError::DuplicateName`] if `name` is taken, [`ConnectError::ShutDown`] after
    /// `shutdown`, else [`ConnectError::Failed`] with the last cause, attempts and elapsed time.
    pub async fn connect(
        &self,
        name: &str,
        config: &ServerConfig,
    ) -> Result<ServerId, ConnectError> {
        let mut reservation = self.reserve(name)?;
        let (live, discovery) = self.establish(name, config, &config.retry).await?;
        let id = ServerId(self.inner.next_id.fetch_add(1, Ordering::Relaxed));
        let connection = Arc::new(Connection {
            id,
            name: name.to_owned(),
            config: config.clone(),
            live: Mutex::new(None),
            health: Mutex::new(None),
            discovery: Mutex::new(Arc::new(discovery)),
            recovering: tokio::sync::Mutex::new(()),
        });
        self.install(&connection, live);
        {
            let mut state = self.inner.state();
            if self.inner.shutdown.is_cancelled() {
                return Err(ConnectError::ShutDown(name.to_owned()));
            }
            state.connections.insert(id, Arc::clone(&connection));
        }
        reservation.keep = true;
        self.inner.publish(ManagerEvent::Ready {
            server: name.to_owned(),
            id,
        });
        Ok(id)
    }

    /// Connects to every server in parallel (at most `connect_concurrency` at once). One failure does
    /// not cancel the others; results come back in the given order.
    pub async fn connect_all(
        &self,
        servers: &[(String, ServerConfig)],
    ) -> Vec<(String, Result<ServerId, ConnectError>)> {
        let limit = self.inner.options.connect_concurrency.max(1);
        futures::stream::iter(
            servers.iter().map(|(name, config)| async move {
                (name.clone(), self.connect(name, config).await)
            }),
        )
        .buffered(limit)
        .collect()
        .await
    }

    /// A session of its own: one attempt, no retry, not registered by name. Dropping the guard kills
    /// and cleans synchronously; [`IsolatedSession::close`] does it gracefully.
    ///
    /// An HTTP server's session is named by its URL, as `mcpcord` names a server given by URL: so
    /// every isolated session to one server shares its OAuth tokens and its one login (a name per
    /// session would make each log in on its own, and store its tokens under a name nobody uses
    /// again). To share a named connection's tokens, use [`isolated_named`](Self::isolated_named)
    /// with its name.
    ///
    /// # Errors
    /// [`ConnectError::Failed`] after the single attempt, or [`ConnectError::ShutDown`].
    pub async fn isolated(&self, config: &ServerConfig) -> Result<IsolatedSession, ConnectError> {
        let name = match &config.transport {
            TransportConfig::Http(http) => http.url.clone(),
            TransportConfig::Stdio(_) => format!(
                "isolated-{}",
                self.inner.next_id.fetch_add(1, Ordering::Relaxed)
            ),
        };
        self.isolated_named(&name, config).await
    }

    /// Like [`isolated`](Self::isolated), under a name of the caller's choice: logs and events use
    /// it, and an HTTP server's OAuth tokens are the ones stored for that name (the name need not
    /// be unique: isolated sessions are not registered).
    ///
    /// # Errors
    /// As [`isolated`](Self::isolated).
    pub async fn isolated_named(
        &self,
        name: &str,
        config: &ServerConfig,
    ) -> Result<IsolatedSession, ConnectError> {
        let name = name.to_owned();
        let (live, discovery) = self
            .establish(&name, config, &RetryPolicy::single_attempt())
            .await?;
        Ok(IsolatedSession {
            live: Some(live),
            discovery: Arc::new(discovery),
            request_timeout: config.request_timeout,
            name,
        })
    }

    /// Replaces a connection's session with a fresh one (`recover_attempts` attempts, default 2),
    /// keeping its id. The old session is closed first.
    ///
    /// # Errors
    /// [`CallError::UnknownServer`], or [`CallError::RecoveryFailed`] with the connect error.
    pub async fn recover(&self, id: ServerId) -> Result<(), CallError> {
        let connection = self.connection(id)?;
        self.recover_connection(&connection).await
    }

    async fn recover_connection(&self, connection: &Arc<Connection>) -> Result<(), CallError> {
        let _one_at_a_time = connection.recovering.lock().await;
        let old = connection.live.locked().take();
        drop(old);
        let policy = connection
            .config
            .retry
            .to_builder()
            .max_attempts(self.inner.options.recover_attempts.max(1))
            .build()
            .unwrap_or_else(|_| RetryPolicy::single_attempt());
        let (live, discovery) = self
            .establish(&connection.name, &connection.config, &policy)
            .await
            .map_err(|error| CallError::RecoveryFailed(Box::new(error)))?;
        *connection.discovery.locked() = Arc::new(discovery);
        self.install(connection, live);
        *connection.health.locked() = None;
        self.inner.publish(ManagerEvent::Recovered {
            server: connection.name.clone(),
            id: connection.id,
        });
        Ok(())
    }

    /// Closes one connection gracefully (within 2 s, then forced) and forgets it.
    pub async fn disconnect(&self, id: ServerId) -> Result<(), CallError> {
        let connection = {
            let mut state = self.inner.state();
            let connection = state
                .connections
                .remove(&id)
                .ok_or_else(|| CallError::UnknownServer(id.to_string()))?;
            state.names.remove(&connection.name);
            connection
        };
        self.close(&connection, Duration::from_secs(2)).await;
        Ok(())
    }

    /// Closes a connection that is no longer registered; returns whether it closed within `grace`.
    async fn close(&self, connection: &Connection, grace: Duration) -> bool {
        let live = connection.live.locked().take();
        let graceful = match live {
            Some(live) => live.close(grace).await,
            None => true,
        };
        self.inner.publish(ManagerEvent::Closed {
            server: connection.name.clone(),
            id: connection.id,
        });
        graceful
    }

    /// Closes everything: connects in flight are cancelled (and cleaned), every connection is closed
    /// gracefully in parallel within `grace`, then whatever is left is killed. Idempotent.
    ///
    /// When it returns, every killed server has also been reaped (waiting at most a second), so a
    /// program may exit right away without leaving zombies to init; with
    /// [`ManagerOptions::subreaper`], so have the descendants that escaped their server's group.
    pub async fn shutdown(&self, grace: Duration) -> ShutdownReport {
        let connections = self.inner.stop_all();
        let closing = connections.into_iter().map(|connection| async move {
            let graceful = self.close(&connection, grace).await;
            (connection.name.clone(), graceful)
        });
        let mut report = ShutdownReport::default();
        for (name, graceful) in futures::future::join_all(closing).await {
            if graceful {
                report.graceful.push(name);
            } else {
                report.forced.push(name);
            }
        }
        if self.inner.options.subreaper {
            stdio::kill_adopted_orphans();
        }
        if !stdio::all_reaped(REAP_WAIT).await {
            tracing::warn!(
                "killed servers were not all reaped within {REAP_WAIT:?}; they are reaped in the background"
            );
        }
        report
    }

    /// The ids and names of every connection.
    pub fn servers(&self) -> Vec<(ServerId, String)> {
        self.inner
            .state()
            .connections
            .values()
            .map(|connection| (connection.id, connection.name.clone()))
            .collect()
    }

    /// The id of the connection called `name`.
    pub fn id_of(&self, name: &str) -> Option<ServerId> {
        self.inner
            .state()
            .connections
            .values()
            .find(|connection| connection.name == name)
            .map(|connection| connection.id)
    }

    /// What the server offers, as last listed.
    pub fn discovery(&self, id: ServerId) -> Result<Arc<Discovery>, CallError> {
        let connection = self.connection(id)?;
        let discovery = connection.discovery.locked().clone();
        Ok(discovery)
    }

    /// The process id of a stdio server (the leader of its process group); `None` for HTTP.
    pub fn pid(&self, id: ServerId) -> Result<Option<u32>, CallError> {
        let connection = self.connection(id)?;
        let live = connection.live.locked();
        Ok(live
            .as_ref()
            .and_then(|live| live.process.as_ref().map(StdioProcess::pid)))
    }

    /// Why the connection is unhealthy, or `None` if it is healthy.
    pub fn health(&self, id: ServerId) -> Result<Option<String>, CallError> {
        let connection = self.connection(id)?;
        let health = connection.health.locked().clone();
        Ok(health)
    }

    /// Calls a tool. A result with `isError: true` is returned as [`CallError::ToolFailed`], never as
    /// success; every content kind, `structuredContent` and `_meta` are kept either way.
    ///
    /// # Errors
    /// See [`CallError`]: unknown server, unhealthy (after a failed recovery when `auto_recover` is
    /// on), timeout (the request is cancelled on the server), JSON-RPC error, tool failure, lost
    /// connection.
    pub async fn call_tool(
        &self,
        id: ServerId,
        tool: &str,
        arguments: Option<Map<String, Value>>,
    ) -> Result<CallToolResult, CallError> {
        let mut params = CallToolRequestParams::new(tool.to_owned());
        params.arguments = arguments;
        let connection = self.connection(id)?;
        let result = self
            .request(
                &connection,
                ClientRequest::CallToolRequest(rmcp::model::Request::new(params)),
            )
            .await?;
        match result {
            ServerResult::CallToolResult(result) => tool_outcome(&connection.name, tool, result),
            other => Err(unexpected(&connection.name, &other)),
        }
    }

    /// Calls a tool by its qualified name (`server__tool`), routing to the right server.
    pub async fn call_qualified(
        &self,
        qualified: &str,
        arguments: Option<Map<String, Value>>,
    ) -> Result<CallToolResult, CallError> {
        let entry = self
            .catalog()
            .tools
            .remove(qualified)
            .ok_or_else(|| CallError::UnknownTool(qualified.to_owned()))?;
        self.call_tool(entry.server_id, &entry.item.name, arguments)
            .await
    }

    /// Reads a resource.
    pub async fn read_resource(
        &self,
        id: ServerId,
        uri: &str,
    ) -> Result<ReadResourceResult, CallError> {
        let connection = self.connection(id)?;
        let request = ClientRequest::ReadResourceRequest(rmcp::model::Request::new(
            ReadResourceRequestParams::new(uri.to_owned()),
        ));
        match self.request(&connection, request).await? {
            ServerResult::ReadResourceResult(result) => Ok(result),
            other => Err(unexpected(&connection.name, &other)),
        }
    }

    /// Gets a prompt with its arguments.
    pub async fn get_prompt(
        &self,
        id: ServerId,
        name: &str,
        arguments: Option<Map<String, Value>>,
    ) -> Result<GetPromptResult, CallError> {
        let connection = self.connection(id)?;
        let mut params = GetPromptRequestParams::new(name.to_owned());
        params.arguments = arguments;
        let request = ClientRequest::GetPromptRequest(rmcp::model::Request::new(params));
        match self.request(&connection, request).await? {
            ServerResult::GetPromptResult(result) => Ok(result),
            other => Err(unexpected(&connection.name, &other)),
        }
    }

    /// Asks the server to notify changes to `uri` (delivered as [`ManagerEvent::ResourceUpdated`]).
    pub async fn subscribe_resource(&self, id: ServerId, uri: &str) -> Result<(), CallError> {
        let connection = self.connection(id)?;
        let request = ClientRequest::SubscribeRequest(rmcp::model::Request::new(
            rmcp::model::SubscribeRequestParams::new(uri.to_owned()),
        ));
        self.request(&connection, request).await.map(|_| ())
    }

    /// Stops notifications for `uri`.
    pub async fn unsubscribe_resource(&self, id: ServerId, uri: &str) -> Result<(), CallError> {
        let connection = self.connection(id)?;
        let request = ClientRequest::UnsubscribeRequest(rmcp::model::Request::new(
            rmcp::model::UnsubscribeRequestParams::new(uri.to_owned()),
        ));
        self.request(&connection, request).await.map(|_| ())
    }

    /// Sets the server's log level (`debug`, `info`, `notice`, `warning`, `error`, ...); its log
    /// messages arrive as [`ManagerEvent::Log`].
    pub async fn set_log_level(&self, id: ServerId, level: &str) -> Result<(), CallError> {
        let connection = self.connection(id)?;
        #[allow(deprecated)] // logging is deprecated only in the draft protocol (SEP-2577)
        let level = serde_json::from_value::<rmcp::model::LoggingLevel>(Value::String(level.to_owned()))
            .map_err(|_| CallError::Rpc {
                server: connection.name.clone(),
                code: -32602,
                message: format!("{level:?} is not a log level (debug, info, notice, warning, error, critical, alert, emergency)"),
            })?;
        #[allow(deprecated)]
        let request = ClientRequest::SetLevelRequest(rmcp::model::Request::new(
            rmcp::model::SetLevelRequestParams::new(level),
        ));
        self.request(&connection, request).await.map(|_| ())
    }

    /// Asks for completions of a prompt or resource-template argument.
    pub async fn complete(
        &self,
        id: ServerId,
        params: rmcp::model::CompleteRequestParams,
    ) -> Result<rmcp::model::CompleteResult, CallError> {
        let connection = self.connection(id)?;
        let request = ClientRequest::CompleteRequest(rmcp::model::Request::new(params));
        match self.request(&connection, request).await? {
            ServerResult::CompleteResult(result) => Ok(result),
            other => Err(unexpected(&connection.name, &other)),
        }
    }

    /// Lists everything the server offers again, now (it also happens on every `list_changed`).
    pub async fn refresh(&self, id: ServerId) -> Result<Arc<Discovery>, CallError> {
        let connection = self.connection(id)?;
        let requests = connection.requests()?;
        let discovery = Discovery::fetch(&requests, connection.config.request_timeout)
            .await
            .map_err(|failure| self.failed(&connection, failure))?;
        let discovery = Arc::new(discovery);
        *connection.discovery.locked() = Arc::clone(&discovery);
        Ok(discovery)
    }

    /// Every connected server's tools, resources and prompts under qualified names.
    pub fn catalog(&self) -> Catalog {
        let connections: Vec<Arc<Connection>> =
            self.inner.state().connections.values().cloned().collect();
        let mut catalog = Catalog::default();
        for connection in connections {
            let discovery = connection.discovery.locked().clone();
            let name = &connection.name;
            for tool in &discovery.tools {
                let key = qualified_name(name, &tool.name);
                catalog.tools.insert(key, entry(&connection, tool.clone()));
            }
            for resource in &discovery.resources {
                let key = qualified_name(name, &resource.name);
                catalog
                    .resources
                    .insert(key, entry(&connection, resource.clone()));
            }
            for prompt in &discovery.prompts {
                let key = qualified_name(name, &prompt.name);
                catalog
                    .prompts
                    .insert(key, entry(&connection, prompt.clone()));
            }
        }
        catalog
    }

    fn reserve(&self, name: &str) -> Result<NameReservation, ConnectError> {
        if self.inner.shutdown.is_cancelled() {
            return Err(ConnectError::ShutDown(name.to_owned()));
        }
        let mut state = self.inner.state();
        if !state.names.insert(name.to_owned()) {
            return Err(ConnectError::DuplicateName(name.to_owned()));
        }
        Ok(NameReservation {
            inner: Arc::downgrade(&self.inner),
            name: name.to_owned(),
            keep: false,
        })
    }

    fn connection(&self, id: ServerId) -> Result<Arc<Connection>, CallError> {
        self.inner
            .state()
            .connections
            .get(&id)
            .cloned()
            .ok_or_else(|| CallError::UnknownServer(id.to_string()))
    }

    /// Attempts under `policy` until one succeeds; cancelled by `shutdown`.
    async fn establish(
        &self,
        name: &str,
        config: &ServerConfig,
        policy: &RetryPolicy,
    ) -> Result<(Live, Discovery), ConnectError> {
        let started = Instant::now();
        let inner = &self.inner;
        let attempts = Retry::new(policy, ByRetryable)
            .on_retry(|attempt, delay, error: &AttemptError| {
                inner.publish(ManagerEvent::Retrying {
                    server: name.to_owned(),
                    attempt,
                    delay,
                    cause: error.to_string(),
                });
            })
            .run(|attempt| {
                inner.publish(ManagerEvent::Connecting {
                    server: name.to_owned(),
                    attempt,
                });
                self.attempt(name, config)
            });
        // Biased: an attempt that fails because the manager is shutting down (its sign-in was
        // stopped, say) fails after the shutdown began, and the shutdown is the truer reason.
        let outcome = tokio::select! {
            biased;
            () = self.inner.shutdown.cancelled() => return Err(ConnectError::ShutDown(name.to_owned())),
            outcome = attempts => outcome,
        };
        outcome.map_err(|error| {
            tracing::warn!(server = name, %error, elapsed_ms = started.elapsed().as_millis() as u64, "connect failed");
            if let AttemptError::Transport(transport) = error.last_error()
                && let Some(auth) = transport
                    .authorization_error()
                    .and_then(|auth| auth.downcast_ref::<mcp_oauth::authorizer::AuthError>())
                && auth.is_login_required()
            {
                self.inner.publish(ManagerEvent::AuthRequired {
                    server: name.to_owned(),
                    message: auth.to_string(),
                });
            }
            self.inner.publish(ManagerEvent::Failed {
                server: name.to_owned(),
                error: error.to_string(),
            });
            ConnectError::Failed {
                server: name.to_owned(),
                error,
            }
        })
    }

    /// The credentials for an HTTP server: none, a static bearer token, or OAuth (on a 401); with
    /// OAuth, also the authorizer itself, whose flows end with the attempt or session.
    #[allow(clippy::type_complexity)]
    fn authorizer_for(
        &self,
        name: &str,
        http: &HttpConfig,
    ) -> Result<(Option<Arc<dyn Authorizer>>, Option<OAuthAuthorizer>), AttemptError> {
        match (http.auth, &http.bearer_token_env) {
            (AuthMode::None, _) => Ok((None, None)),
            (AuthMode::Bearer | AuthMode::Auto, Some(variable)) => StaticBearer::from_env(variable)
                .map(|bearer| (Some(Arc::new(bearer) as Arc<dyn Authorizer>), None))
                .map_err(|error| AttemptError::Config(error.to_string())),
            (AuthMode::Bearer, None) => Err(AttemptError::Config(
                "auth = \"bearer\" needs bearer_token_env".to_owned(),
            )),
            (AuthMode::Auto | AuthMode::OAuth, _) => {
                let oauth = self.oauth_authorizer(name, http)?;
                Ok((
                    Some(Arc::new(oauth.clone()) as Arc<dyn Authorizer>),
                    Some(oauth),
                ))
            }
        }
    }

    fn oauth_authorizer(
        &self,
        name: &str,
        http: &HttpConfig,
    ) -> Result<OAuthAuthorizer, AttemptError> {
        Ok(self.inner.oauth.authorizer(oauth_settings(name, http)?))
    }

    /// Whether a connect to this server may include a person signing in.
    fn may_log_in(&self, config: &ServerConfig) -> bool {
        match &config.transport {
            TransportConfig::Http(http) => {
                self.inner.oauth.is_interactive()
                    && match http.auth {
                        AuthMode::OAuth => true,
                        AuthMode::Auto => http.bearer_token_env.is_none(),
                        AuthMode::Bearer | AuthMode::None => false,
                    }
                    && http
                        .oauth
                        .as_ref()
                        .is_none_or(|oauth| oauth.grant == OAuthGrant::AuthorizationCode)
            }
            TransportConfig::Stdio(_) => false,
        }
    }

    /// Signs in to an HTTP server anew, ignoring any stored tokens: connects once (the server's
    /// 401 starts the authorization), stores the tokens, and closes the session. Returns the
    /// tokens' description, or `None` when the server did not ask for authorization.
    ///
    /// A browser must be configured ([`ManagerOptions::browser`]) for the authorization code
    /// grant; the client credentials grant needs none.
    ///
    /// # Errors
    /// [`ConnectError`] as for [`isolated`](Self::isolated); a configuration that cannot use OAuth
    /// (stdio, `auth = "bearer"` or `"none"`) fails with a configuration error.
    pub async fn login(
        &self,
        name: &str,
        config: &ServerConfig,
    ) -> Result<Option<LoginReport>, ConnectError> {
        let authorizer = self.login_authorizer(name, config)?;
        authorizer.forget_held().await;
        let session = self.isolated_named(name, config).await?;
        session.close(Duration::from_secs(2)).await;
        let tokens = authorizer
            .tokens()
            .await
            .map_err(|error| ConnectError::Auth {
                server: name.to_owned(),
                error: Box::new(error),
            })?;
        Ok(tokens.as_ref().map(LoginReport::from_tokens))
    }

    /// Forgets the stored tokens of an HTTP server (logout). Returns whether there were any.
    ///
    /// # Errors
    /// A configuration that cannot use OAuth, or the token store failing.
    pub async fn logout(&self, name: &str, config: &ServerConfig) -> Result<bool, ConnectError> {
        let authorizer = self.login_authorizer(name, config)?;
        authorizer
            .logout()
            .await
            .map_err(|error| ConnectError::Auth {
                server: name.to_owned(),
                error: Box::new(error),
            })
    }

    fn login_authorizer(
        &self,
        name: &str,
        config: &ServerConfig,
    ) -> Result<OAuthAuthorizer, ConnectError> {
        let config_error = |message: String| ConnectError::Config {
            server: name.to_owned(),
            message,
        };
        let TransportConfig::Http(http) = &config.transport else {
            return Err(config_error(
                "login is for HTTP servers; this one runs over stdio".to_owned(),
            ));
        };
        if matches!(http.auth, AuthMode::Bearer | AuthMode::None) {
            return Err(config_error(format!(
                "auth is {:?}, which never uses OAuth",
                match http.auth {
                    AuthMode::Bearer => "bearer",
                    _ => "none",
                }
            )));
        }
        self.oauth_authorizer(name, http)
            .map_err(|error| config_error(error.to_string()))
    }

    /// One complete attempt under `connect_timeout`. Dropping it (timeout, shutdown, the caller)
    /// drops the transport, which kills whatever was started.
    async fn attempt(
        &self,
        name: &str,
        config: &ServerConfig,
    ) -> Result<(Live, Discovery), AttemptError> {
        let mut timeout = config.connect_timeout;
        if self.may_log_in(config) {
            // A person signing in in the browser is not cut off by the connect timeout.
            timeout = timeout.saturating_add(self.inner.options.login_timeout);
        }
        match tokio::time::timeout(timeout, self.attempt_untimed(name, config)).await {
            Ok(outcome) => outcome,
            Err(_) => Err(AttemptError::Timeout(timeout)),
        }
    }

    async fn attempt_untimed(
        &self,
        name: &str,
        config: &ServerConfig,
    ) -> Result<(Live, Discovery), AttemptError> {
        let mut attempt_guard = KillUnlessDone(None, None);
        let list_changed = Arc::new(Notify::new());
        let handler = Handler {
            server: Arc::from(name),
            elicitation: self.inner.options.elicitation,
            roots: Arc::from(self.inner.options.roots.clone()),
            events: self.inner.events.clone(),
            list_changed: Arc::clone(&list_changed),
            sampling: self.inner.options.sampling.clone(),
        };
        let (service, process, direct) = match &config.transport {
            TransportConfig::Stdio(stdio) => {
                let mut spec = StdioSpec::new(stdio.command.clone())
                    .args(stdio.args.iter().cloned())
                    .env_policy(stdio.env_policy);
                for (key, value) in &stdio.env {
                    spec = spec.env(key.clone(), value.clone());
                }
                if let Some(cwd) = &stdio.cwd {
                    spec = spec.cwd(cwd.clone());
                }
                let transport =
                    StdioTransport::spawn(name, &spec).map_err(AttemptError::Transport)?;
                let process = transport.process();
                let direct = transport.direct_requests();
                // Once rmcp owns the transport, dropping this attempt would leave the server to
                // rmcp's background close (seconds, and only with a runtime): kill it at once.
                attempt_guard.0 = Some(process.clone());
                let violation = Violation::default();
                let transport = WatchHandshake::new(transport, violation.clone());
                let service = rmcp::serve_client(handler, transport)
                    .await
                    .map_err(|error| {
                        // Read before the kill, which the transport would otherwise report as
                        // the reason the connection ended.
                        let closed = process.close_reason();
                        process.kill();
                        if let Some(violation) = violation.get() {
                            return AttemptError::Handshake(violation);
                        }
                        match closed.or_else(|| TransportError::find_in(&error)) {
                            Some(transport) => AttemptError::Transport(transport),
                            None => AttemptError::Handshake(error.to_string()),
                        }
                    })?;
                (service, Some(process), Some(Direct::Stdio(direct)))
            }
            TransportConfig::Http(http) => {
                let (authorizer, oauth) = self.authorizer_for(name, http)?;
                attempt_guard.1 = oauth;
                let mut options = HttpTransportOptions::default();
                for (key, value) in &http.headers {
                    let name = http::HeaderName::from_bytes(key.as_bytes()).map_err(|_| {
                        AttemptError::Config(format!("invalid header name {key:?}"))
                    })?;
                    let value = http::HeaderValue::from_str(value).map_err(|_| {
                        AttemptError::Config(format!("invalid value for header {key}"))
                    })?;
                    options.headers.insert(name, value);
                }
                let transport = self
                    .inner
                    .http
                    .transport(&http.url, authorizer, options)
                    .map_err(AttemptError::Transport)?;
                let direct = transport.direct_requests();
                let violation = Violation::default();
                let transport = WatchHandshake::new(transport, violation.clone());
                let service = rmcp::serve_client(handler, transport)
                    .await
                    .map_err(|error| {
                        if let Some(violation) = violation.get() {
                            return AttemptError::Handshake(violation);
                        }
                        match TransportError::find_in(&error) {
                            Some(transport) => AttemptError::Transport(transport),
                            None => AttemptError::Handshake(error.to_string()),
                        }
                    })?;
                (service, None, Some(Direct::Http(direct)))
            }
        };
        let requests = Requests::new(service.peer().clone(), direct);
        let cancel = service.cancellation_token();
        let discovery = Discovery::fetch(&requests, config.request_timeout)
            .await
            .map_err(|failure| {
                // The first cause is the one reported. Read before the kill: once the server is
                // killed, its transport may record "killed by signal 9" at any moment, and that
                // is our doing, not why discovery failed.
                let closed = process.as_ref().and_then(StdioProcess::close_reason);
                if let Some(process) = &process {
                    process.kill();
                }
                match (failure, closed) {
                    // Our own finding about the server's answers: nothing the transport saw
                    // comes before it.
                    (failure @ RequestFailure::Misbehaved(_), _) => {
                        AttemptError::Discovery(failure.to_string())
                    }
                    (RequestFailure::Transport(transport), _) | (_, Some(transport)) => {
                        AttemptError::Transport(transport)
                    }
                    (failure, None) => AttemptError::Discovery(failure.to_string()),
                }
            })?;
        attempt_guard.0 = None;
        let oauth = attempt_guard.1.take();
        let (ended_tx, ended) = watch::channel(false);
        // The service loop is owned by this task; when it ends (closed, cancelled, transport lost) the
        // receiver learns at once.
        let waiter = tokio::spawn(async move {
            let _ = service.waiting().await;
            let _ = ended_tx.send(true);
        });
        Ok((
            Live {
                requests,
                process,
                cancel: Some(cancel),
                ended,
                tasks: vec![waiter.abort_handle()],
                list_changed,
                oauth,
            },
            discovery,
        ))
    }

    /// Makes `live` the connection's session and starts watching its health and list changes.
    fn install(&self, connection: &Arc<Connection>, mut live: Live) {
        let weak = Arc::downgrade(connection);
        let events = self.inner.events.clone();
        let mut ended = live.ended.clone();
        let process = live.process.clone();
        let health = tokio::spawn({
            let weak = weak.clone();
            let events = events.clone();
            async move {
                let _ = ended.wait_for(|ended| *ended).await;
                let Some(connection) = weak.upgrade() else {
                    return;
                };
                let cause = match &process {
                    Some(process) => process
                        .close_reason()
                        .map(|reason| reason.to_string())
                        .unwrap_or_else(|| "the server's connection ended".to_owned()),
                    None => "the HTTP session ended".to_owned(),
                };
                mark_unhealthy(&connection, &events, cause);
            }
        });
        let list_changed = Arc::clone(&live.list_changed);
        let requests = live.requests.clone();
        let request_timeout = connection.config.request_timeout;
        let refresh = tokio::spawn(async move {
            loop {
                list_changed.notified().await;
                // Boxed: this task is idle almost always, and should not be sized for a fetch.
                let fetch = Box::pin(Discovery::fetch(&requests, request_timeout));
                let Ok(discovery) = fetch.await else {
                    continue;
                };
                let Some(connection) = weak.upgrade() else {
                    return;
                };
                *connection.discovery.locked() = Arc::new(discovery);
                let _ = events.send(ManagerEvent::Refreshed {
                    server: connection.name.clone(),
                    id: connection.id,
                });
            }
        });
        live.tasks.push(health.abort_handle());
        live.tasks.push(refresh.abort_handle());
        if let Some(interval) = connection.config.keep_alive {
            let weak = Arc::downgrade(connection);
            let requests = live.requests.clone();
            let events = self.inner.events.clone();
            let patience = interval.min(connection.config.request_timeout);
            let keep_alive = tokio::spawn(async move {
                loop {
                    tokio::time::sleep(interval).await;
                    let ping = ClientRequest::PingRequest(Default::default());
                    let answered = Box::pin(requests.send(ping, patience)).await.is_ok();
                    if !answered {
                        if let Some(connection) = weak.upgrade() {
                            mark_unhealthy(
                                &connection,
                                &events,
                                format!(
                                    "missed a keep-alive ping (no answer within {})",
                                    humantime::format_duration(patience)
                                ),
                            );
                        }
                        return;
                    }
                }
            });
            live.tasks.push(keep_alive.abort_handle());
        }
        let old = connection.live.locked().replace(live);
        drop(old);
    }

    /// Sends one request on a healthy connection (recovering first if allowed), with the server's
    /// request timeout; on timeout the request is cancelled on the server.
    async fn request(
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
    fn failed(&self, connection: &Arc<Connection>, failure: RequestFailure) -> CallError {
        if matches!(
            failure,
            RequestFailure::Timeout(_) | RequestFailure::Rpc { .. }
        ) {
            return call_error(&connection.name, failure);
        }
        let process_reason = connection
            .live
            .locked()
            .as_ref()
            .and_then(|live| live.process.as_ref().and_then(StdioProcess::close_reason));
        let cause = process_reason.map_or_else(|| failure.to_string(), |reason| reason.to_string());
        mark_unhealthy(connection, &self.inner.events, cause.clone());
        CallError::ConnectionLost {
            server: connection.name.clone(),
            cause,
        }
    }
}

/// The caller's error for a failed request (a managed connection is also marked unhealthy when
/// it broke: see `Manager::failed`).
fn call_error(server: &str, failure: RequestFailure) -> CallError {
    match failure {
        RequestFailure::Timeout(timeout) => CallError::Timeout {
            server: server.to_owned(),
            timeout,
        },
        RequestFailure::Rpc { code, message } => CallError::Rpc {
            server: server.to_owned(),
            code,
            message,
        },
        lost @ (RequestFailure::Transport(_)
        | RequestFailure::Lost(_)
        | RequestFailure::Misbehaved(_)) => CallError::ConnectionLost {
            server: server.to_owned(),
            cause: lost.to_string(),
        },
    }
}

/// Kills the attempt's server if the attempt is dropped or fails before it is handed over.
/// Ends what an attempt started unless the attempt completes: the stdio server's process group,
/// and any OAuth browser flow (whose listener closes at once).
struct KillUnlessDone(Option<StdioProcess>, Option<OAuthAuthorizer>);

impl Drop for KillUnlessDone {
    fn drop(&mut self) {
        if let Some(process) = &self.0 {
            process.kill();
        }
        if let Some(authorizer) = &self.1 {
            authorizer.cancel_flows();
        }
    }
}

fn entry<T>(connection: &Connection, item: T) -> Entry<T> {
    Entry {
        server_id: connection.id,
        server: connection.name.clone(),
        item,
    }
}

fn mark_unhealthy(
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

/// The file store under `$MCPCORD_HOME`, or memory when there is no home directory to keep it in.
fn default_token_store() -> Arc<dyn TokenStore> {
    match FileStore::open_default() {
        Ok(store) => Arc::new(store),
        Err(error) => {
            tracing::warn!(%error, "no token store directory; OAuth tokens are kept in memory only");
            Arc::new(MemoryStore::new())
        }
    }
}

/// The OAuth settings for one server, from its configuration; secrets are read from the
/// environment variables the configuration names.
fn oauth_settings(name: &str, http: &HttpConfig) -> Result<OAuthSettings, AttemptError> {
    let url = url::Url::parse(&http.url)
        .map_err(|error| AttemptError::Config(format!("invalid URL {:?}: {error}", http.url)))?;
    let mut settings = OAuthSettings::new(name, url);
    let Some(oauth) = &http.oauth else {
        return Ok(settings);
    };
    let from_env = |variable: &str, holds: &str| {
        std::env::var(variable)
            .ok()
            .filter(|value| !value.trim().is_empty())
            .ok_or_else(|| {
                AttemptError::Config(format!(
                    "the environment variable {variable} (which should hold {holds}) is not set"
                ))
            })
    };
    let mut identity = ClientIdentity {
        client_id: oauth.client_id.clone(),
        ..ClientIdentity::default()
    };
    identity.client_secret = match &oauth.client_secret_env {
        Some(variable) => Some(from_env(variable, "the OAuth client secret")?),
        None => oauth.client_secret.clone(),
    };
    let key = match &oauth.private_key_env {
        Some(variable) => Some((
            variable.as_str(),
            from_env(variable, "the OAuth client's private key")?,
        )),
        None => oauth
            .private_key_pem
            .clone()
            .map(|pem| ("oauth.private_key_pem", pem)),
    };
    if let Some((source, pem)) = key {
        identity.private_key = Some(
            PrivateKeyJwt::from_pem(&pem, None)
                .map_err(|error| AttemptError::Config(format!("{source}: {error}")))?,
        );
    }
    identity.auth_method = oauth
        .token_endpoint_auth_method
        .as_deref()
        .and_then(TokenAuthMethod::parse);
    identity.client_metadata_url = oauth.client_metadata_url.clone();
    settings.identity = identity;
    settings.scopes = oauth.scopes.clone();
    if let Some(port) = oauth.callback_port {
        settings.callback = CallbackOptions::new().with_port(port);
    }
    settings.grant = match oauth.grant {
        OAuthGrant::AuthorizationCode => Grant::AuthorizationCode,
        OAuthGrant::ClientCredentials => Grant::ClientCredentials,
        OAuthGrant::EnterpriseManaged => {
            let missing = |what: &str| {
                AttemptError::Config(format!("grant = \"enterprise_managed\" needs oauth.{what}"))
            };
            let id_token = match &oauth.id_token_env {
                Some(variable) => from_env(variable, "the user's ID token")?,
                None => oauth
                    .id_token
                    .clone()
                    .ok_or_else(|| missing("id_token_env"))?,
            };
            Grant::EnterpriseManaged(EnterpriseIdentity {
                token_endpoint: oauth
                    .idp_token_endpoint
                    .clone()
                    .ok_or_else(|| missing("idp_token_endpoint"))?,
                client_id: oauth
                    .idp_client_id
                    .clone()
                    .ok_or_else(|| missing("idp_client_id"))?,
                id_token,
            })
        }
    };
    Ok(settings)
}

fn tool_outcome(
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

fn unexpected(server: &str, result: &ServerResult) -> CallError {
    CallError::Rpc {
        server: server.to_owned(),
        code: -32603,
        message: format!("unexpected result {:?}", std::mem::discriminant(result)),
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

/// A session of one's own (for a test, a task): not registered in the manager, one attempt, owned
/// by this guard. Dropping it kills and cleans synchronously; `close` does it gracefully.
pub struct IsolatedSession {
    live: Option<Live>,
    discovery: Arc<Discovery>,
    request_timeout: Duration,
    name: String,
}

impl IsolatedSession {
    /// What the server offers.
    pub fn discovery(&self) -> &Discovery {
        &self.discovery
    }

    /// The server's pid, for stdio servers.
    pub fn pid(&self) -> Option<u32> {
        self.live
            .as_ref()
            .and_then(|live| live.process.as_ref().map(StdioProcess::pid))
    }

    /// Calls a tool; `isError: true` is an error, as with [`Manager::call_tool`].
    pub async fn call_tool(
        &self,
        tool: &str,
        arguments: Option<Map<String, Value>>,
    ) -> Result<CallToolResult, CallError> {
        let requests = self
            .live
            .as_ref()
            .map(|live| live.requests.clone())
            .ok_or_else(|| CallError::UnknownServer(self.name.clone()))?;
        let mut params = CallToolRequestParams::new(tool.to_owned());
        params.arguments = arguments;
        let request = ClientRequest::CallToolRequest(rmcp::model::Request::new(params));
        match requests.send(request, self.request_timeout).await {
            Ok(ServerResult::CallToolResult(result)) => tool_outcome(&self.name, tool, result),
            Ok(other) => Err(unexpected(&self.name, &other)),
            Err(failure) => Err(call_error(&self.name, failure)),
        }
    }

    /// Closes the session gracefully within `grace`, then forcibly; returns whether it was graceful.
    pub async fn close(mut self, grace: Duration) -> bool {
        match self.live.take() {
            Some(live) => live.close(grace).await,
            None => true,
        }
    }
}

impl std::fmt::Debug for IsolatedSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IsolatedSession")
            .field("name", &self.name)
            .field("pid", &self.pid())
            .finish_non_exhaustive()
    }
}

/// What a login obtained (never the tokens themselves).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct LoginReport {
    /// The authorization server that issued the tokens.
    pub issuer: Option<String>,
    /// The scopes granted.
    pub scopes: Vec<String>,
    /// When the access token expires (Unix seconds), if the server said.
    pub expires_at: Option<u64>,
    /// Whether a refresh token came with it (so later runs need no browser).
    pub refreshable: bool,
}

impl LoginReport {
    fn from_tokens(tokens: &StoredTokens) -> Self {
        Self {
            issuer: tokens.issuer.clone(),
            scopes: tokens.scopes.clone(),
            expires_at: tokens.expires_at,
            refreshable: tokens.refresh_token.is_some(),
        }
    }
}
