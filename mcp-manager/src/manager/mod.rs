//! The facade: connections by name, each owned by a guard, with retry, health, recovery and shutdown.
//!
//! - this file: the public API ([`Manager`], its options and reports);
//! - `connect`: the connect pipeline (one complete attempt: spawn or open, handshake, discovery;
//!   retried as a whole; over HTTP, streamable or legacy SSE, found out when not configured) and
//!   installing a session;
//! - `session`: the state behind the API (connections, a live session, the name reservation) and
//!   what their `Drop`s end, requests on it;
//! - `auth`: credentials for HTTP servers (static bearer, OAuth), login and logout;
//! - `isolated`: [`IsolatedSession`], a session of one's own.
//!
//! A connection is an `Arc<Connection>` (name, config, health, listing) holding at most one
//! `Live` session: its requests, the stdio server's process handle, rmcp's cancellation token, the
//! session's OAuth authorizer, and the tasks that own and watch the service loop (health,
//! `list_changed` refresh, keep-alive). `recover` builds a new `Live` (`recover_attempts`
//! attempts, default 2) under the same [`ServerId`].
//!
//! `shutdown` first cancels connects in flight (one cancellation token that every retry loop
//! selects on) and shuts the OAuth runtime down, closing every callback listener in flight; then
//! it closes every `Live` in parallel within the grace period and kills the rest; then it awaits
//! the reaper thread (at most 1 s), so that a program exiting right after leaves no zombie to
//! init. With [`ManagerOptions::subreaper`] (off by default; `mcpcord` turns it on) the process is
//! a child subreaper, and `shutdown` and `Drop` also kill and reap descendants that left their
//! server's group (`setsid`); the system browser's opener runs with the attribute paused, so the
//! person's browser it leaves behind goes to init, not to the sweep.

mod auth;
mod connect;
mod isolated;
mod session;
mod skills;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::StreamExt;
use mcp_oauth::Browser;
use mcp_oauth::OAuthRuntime;
use mcp_oauth::TokenStore;
use mcp_oauth::authorizer::DEFAULT_LOGIN_TIMEOUT;
use mcp_retry::RetryPolicy;
use mcp_transport::stdio::{self, StdioProcess};
use mcp_transport::{HttpClient, HttpClientBuildError, HttpOptions};
#[allow(deprecated)] // logging is deprecated only in the draft protocol (SEP-2577)
use rmcp::model::LoggingLevel;
use rmcp::model::{
    CallToolRequestParams, CallToolResult, ClientRequest, GetPromptRequestParams, GetPromptResult,
    ReadResourceRequestParams, ReadResourceResult, ServerResult,
};
use serde::Serialize;
use serde_json::{Map, Value};
use tokio::sync::broadcast;
use tokio_util::sync::CancellationToken;

use crate::ServerId;
use crate::catalog::{Catalog, qualified_name};
use crate::config::{HttpTransportKind, ProtocolEra, ServerConfig, TransportConfig};
use crate::error::{CallError, ConnectError};
use crate::events::ManagerEvent;
use crate::handler::{ClientRoot, ElicitationPolicy, SamplingHandler};
use crate::listing::Listing;

pub use auth::LoginReport;
use auth::default_token_store;
pub use isolated::IsolatedSession;
use session::{
    Connection, Inner, Live, Locked, NameReservation, State, arguments_object, call_error, entry,
    mark_unhealthy, tool_outcome, unexpected,
};

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
    /// server that needs a login fails at once with an error that says so
    /// ([`ConnectError::is_login_required`]).
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

/// What a connection runs on, as [`Manager::transport`] reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TransportKind {
    /// A child process's stdin and stdout.
    Stdio,
    /// Streamable HTTP (protocol 2025-03-26 and later).
    StreamableHttp,
    /// The legacy HTTP+SSE transport (protocol 2024-11-05): configured, or fallen back to.
    LegacySse,
}

impl TransportKind {
    /// A stable name, as the CLI prints it and its JSON carries it: `stdio`, `streamable-http`,
    /// `sse`.
    pub fn as_str(self) -> &'static str {
        match self {
            TransportKind::Stdio => "stdio",
            TransportKind::StreamableHttp => "streamable-http",
            TransportKind::LegacySse => "sse",
        }
    }
}

impl std::fmt::Display for TransportKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A connection's health, as [`Manager::health`] reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Health {
    /// The session works as far as anyone knows.
    Healthy,
    /// The session broke (the server exited, the connection was lost, a keep-alive ping failed);
    /// calls fail until it is recovered ([`Manager::recover`], or `auto_recover`).
    Unhealthy {
        /// What broke it.
        cause: String,
    },
}

impl Health {
    /// Whether the connection is healthy.
    pub fn is_healthy(&self) -> bool {
        matches!(self, Health::Healthy)
    }

    /// Why the connection is unhealthy, if it is.
    pub fn cause(&self) -> Option<&str> {
        match self {
            Health::Healthy => None,
            Health::Unhealthy { cause } => Some(cause),
        }
    }
}

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
/// per second on a small machine (see docs/bench/README.md, Where the time goes).
///
/// ```no_run
/// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
/// use mcp_manager::{Manager, ManagerOptions, ServerConfig};
///
/// let manager = Manager::new(ManagerOptions::default())?;
/// let id = manager
///     .connect("everything", &ServerConfig::stdio("npx", ["-y", "@modelcontextprotocol/server-everything"]))
///     .await?;
/// let result = manager.call_tool(id, "echo", serde_json::json!({ "message": "hi" })).await?;
/// println!("{:?}", result.content);
/// manager.shutdown(std::time::Duration::from_secs(2)).await;
/// # Ok(())
/// # }
/// ```
pub struct Manager {
    inner: Arc<Inner>,
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
            transport: Mutex::new(live.transport),
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
            TransportConfig::Http(http) => http.url.to_string(),
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
        // What the server was found to speak is what it speaks (the fallback's extra request is
        // not paid again).
        let learned = *connection.transport.locked();
        let mut config = match (&connection.config.transport, learned) {
            (TransportConfig::Http(http), TransportKind::LegacySse)
                if http.transport == HttpTransportKind::Auto =>
            {
                connection
                    .config
                    .clone()
                    .with_http_transport(HttpTransportKind::LegacySse)
            }
            _ => connection.config.clone(),
        };
        // So is the era it was found to speak: no second probe (a silent legacy stdio server
        // would cost its 10 s again).
        if config.protocol == ProtocolEra::Auto {
            let modern = connection
                .discovery
                .locked()
                .protocol_version
                .as_ref()
                .map(|version| !version.has_initialize());
            match modern {
                Some(true) => config.protocol = ProtocolEra::Modern,
                Some(false) => config.protocol = ProtocolEra::Legacy,
                None => {}
            }
        }
        let (live, discovery) = self
            .establish(&connection.name, &config, &policy)
            .await
            .map_err(|error| CallError::RecoveryFailed(Box::new(error)))?;
        *connection.transport.locked() = live.transport;
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

    /// What the server offers (who it is, its tools, resources, templates, prompts), as last listed.
    pub fn listing(&self, id: ServerId) -> Result<Arc<Listing>, CallError> {
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

    /// What the connection runs on now: for an HTTP server configured without a transport, the
    /// one found to work.
    pub fn transport(&self, id: ServerId) -> Result<TransportKind, CallError> {
        let connection = self.connection(id)?;
        let live = connection.live.locked();
        let learned = *connection.transport.locked();
        Ok(live.as_ref().map_or(learned, |live| live.transport))
    }

    /// Whether the connection is healthy, and if not, why.
    pub fn health(&self, id: ServerId) -> Result<Health, CallError> {
        let connection = self.connection(id)?;
        let cause = connection.health.locked().clone();
        Ok(cause.map_or(Health::Healthy, |cause| Health::Unhealthy { cause }))
    }

    /// Calls a tool. A result with `isError: true` is returned as [`CallError::ToolFailed`], never as
    /// success; every content kind, `structuredContent` and `_meta` are kept either way.
    ///
    /// # Errors
    /// See [`CallError`]: unknown server, unhealthy (after a failed recovery when `auto_recover` is
    /// on), timeout (the request is cancelled on the server), JSON-RPC error, tool failure, lost
    /// connection.
    ///
    /// `arguments` is anything that serialises to a JSON object (`serde_json::json!({...})`, a
    /// struct, a map), or `()` / `Value::Null` for none; anything else is
    /// [`CallError::InvalidArguments`] and nothing is sent.
    pub async fn call_tool(
        &self,
        id: ServerId,
        tool: &str,
        arguments: impl Serialize,
    ) -> Result<CallToolResult, CallError> {
        let connection = self.connection(id)?;
        let mut params = CallToolRequestParams::new(tool.to_owned());
        params.arguments = arguments_object(&connection.name, tool, arguments)?;
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
        arguments: impl Serialize,
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

    /// Gets a prompt with its arguments (as for [`call_tool`](Self::call_tool): a JSON object, or
    /// `()` for none).
    pub async fn get_prompt(
        &self,
        id: ServerId,
        name: &str,
        arguments: impl Serialize,
    ) -> Result<GetPromptResult, CallError> {
        let connection = self.connection(id)?;
        let mut params = GetPromptRequestParams::new(name.to_owned());
        params.arguments = arguments_object(&connection.name, name, arguments)?;
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

    /// Sets the server's log level; its log messages arrive as [`ManagerEvent::Log`].
    #[allow(deprecated)] // logging is deprecated only in the draft protocol (SEP-2577)
    pub async fn set_log_level(&self, id: ServerId, level: LoggingLevel) -> Result<(), CallError> {
        let connection = self.connection(id)?;
        #[allow(deprecated)] // logging is deprecated only in the draft protocol (SEP-2577)
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

    /// Sends MCP's `ping` and waits for the answer: the round trip, through the same request path
    /// (health check, timeout, recovery) as every other request.
    ///
    /// # Errors
    /// As for any request: unknown or unhealthy server, timeout, JSON-RPC error, lost connection.
    pub async fn ping(&self, id: ServerId) -> Result<Duration, CallError> {
        let connection = self.connection(id)?;
        let request = ClientRequest::PingRequest(rmcp::model::PingRequest::default());
        let started = std::time::Instant::now();
        // Any answer that is not an error is a pong: the result carries nothing.
        self.request(&connection, request).await?;
        Ok(started.elapsed())
    }

    /// Lists everything the server offers again, now (it also happens on every `list_changed`).
    pub async fn refresh(&self, id: ServerId) -> Result<Arc<Listing>, CallError> {
        let connection = self.connection(id)?;
        let requests = connection.requests()?;
        let previous = Arc::clone(&connection.discovery.locked());
        let discovery = Listing::fetch_stale(
            &requests,
            connection.config.request_timeout,
            Some(&previous),
        )
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
}
