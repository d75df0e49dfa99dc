//! The connect pipeline: one complete attempt (spawn or open, handshake, discovery) under
//! `connect_timeout`, retried as a whole; a session installed once it is ready.
//!
//! `connect` = `reserve` the name (a guard releases it if the connect fails or is dropped) ->
//! `establish` (an `mcp-retry` loop around `attempt`, cancelled by `shutdown`) -> `install`.
//!
//! `attempt` = one complete try under `connect_timeout`, extended by `login_timeout` when a person
//! may have to sign in: spawn the stdio server or open the HTTP transport (credentials from
//! `auth`), the rmcp handshake behind [`WatchHandshake`], then the [`Listing`]. Its guard,
//! `KillUnlessDone`, kills the stdio server's group and cancels the OAuth browser flows (closing
//! their callback listener) if the attempt is dropped or fails midway; once the attempt succeeds
//! the `Live` session takes over both. The first cause is the one reported: a failure is read
//! before the kill that follows it, and our own finding about the server's answers (a list that
//! never ends) comes before anything the transport saw afterwards.
//!
//! `install` makes a `Live` the connection's session and starts its watchers: health (the end of
//! the service loop marks the connection unhealthy, with the stdio server's close reason when
//! there is one), the `list_changed` refresh, and the optional keep-alive ping.

use std::sync::Arc;
use std::time::Instant;

use mcp_oauth::OAuthAuthorizer;
use mcp_retry::{ByRetryable, Retry, RetryPolicy};
use mcp_transport::{
    Authorizer, HttpTransportOptions, SseCloseReason, StdioProcess, StdioTransport, TransportError,
};
use rmcp::ClientLifecycleMode;
use rmcp::model::{ClientRequest, ProtocolVersion};
use rmcp::service::{ClientInitializeError, RoleClient, RunningService};
use rmcp::transport::Transport;
use tokio::sync::{Notify, watch};
use url::Url;

use crate::ServerId;
use crate::config::{HttpConfig, HttpTransportKind, ProtocolEra, ServerConfig, TransportConfig};
use crate::error::{AttemptError, CallError, ConnectError, NoHttpTransport};
use crate::events::ManagerEvent;
use crate::handler::Handler;
use crate::handshake::{Violation, WatchHandshake};
use crate::listing::Listing;
use crate::requests::{Direct, RequestFailure, Requests};

use super::*;

impl Manager {
    pub(super) fn reserve(&self, name: &str) -> Result<NameReservation, ConnectError> {
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

    pub(super) fn connection(&self, id: ServerId) -> Result<Arc<Connection>, CallError> {
        self.inner
            .state()
            .connections
            .get(&id)
            .cloned()
            .ok_or_else(|| CallError::UnknownServer(id.to_string()))
    }

    /// Attempts under `policy` until one succeeds; cancelled by `shutdown`.
    pub(super) async fn establish(
        &self,
        name: &str,
        config: &ServerConfig,
        policy: &RetryPolicy,
    ) -> Result<(Live, Listing), ConnectError> {
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
            if let Some(auth) = error.last_error().auth_error()
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

    /// One complete attempt under `connect_timeout`. Dropping it (timeout, shutdown, the caller)
    /// drops the transport, which kills whatever was started.
    pub(super) async fn attempt(
        &self,
        name: &str,
        config: &ServerConfig,
    ) -> Result<(Live, Listing), AttemptError> {
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

    pub(super) async fn attempt_untimed(
        &self,
        name: &str,
        config: &ServerConfig,
    ) -> Result<(Live, Listing), AttemptError> {
        let mut attempt_guard = KillUnlessDone(None, None);
        let list_changed = Arc::new(Notify::new());
        let handler = Handler {
            server: Arc::from(name),
            elicitation: self.inner.options.elicitation.clone(),
            roots: Arc::from(self.inner.options.roots.clone()),
            events: self.inner.events.clone(),
            list_changed: Arc::clone(&list_changed),
            sampling: self.inner.options.sampling.clone(),
        };
        // The same answers for a modern server's `input_required` rounds.
        let answers = handler.clone();
        let mut transport = TransportKind::Stdio;
        let mut sse_closed = None;
        let (service, process, direct) = match &config.transport {
            TransportConfig::Stdio(stdio) => {
                let spec = stdio.spec();
                let transport =
                    StdioTransport::spawn(name, &spec).map_err(AttemptError::Transport)?;
                let process = transport.process();
                let direct = transport.direct_requests();
                // Once rmcp owns the transport, dropping this attempt would leave the server to
                // rmcp's background close (seconds, and only with a runtime): kill it at once.
                attempt_guard.0 = Some(process.clone());
                let violation = Violation::default();
                let lifecycle = lifecycle_mode(config.protocol);
                let may_fall_back = matches!(lifecycle, ClientLifecycleMode::Auto { .. });
                let transport = WatchHandshake::new(transport, violation.clone(), may_fall_back);
                let service = rmcp::serve_client_with_lifecycle(handler, transport, lifecycle)
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
                            None => AttemptError::Handshake(handshake_failure(&error)),
                        }
                    })?;
                (service, Some(process), Some(Direct::Stdio(direct)))
            }
            TransportConfig::Http(http) => {
                let (authorizer, oauth) = self.authorizer_for(name, http)?;
                attempt_guard.1 = oauth;
                let options = transport_options(http)?;
                let served = self
                    .serve_http(name, handler, http, config.protocol, authorizer, options)
                    .await?;
                transport = served.transport;
                sse_closed = served.sse_closed;
                (served.service, None, served.direct)
            }
        };
        let requests = Requests::new(service.peer().clone(), direct, answers);

        let cancel = service.cancellation_token();
        let discovery = Listing::fetch(&requests, config.request_timeout)
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
                        AttemptError::Listing(failure.to_string())
                    }
                    (RequestFailure::Transport(transport), _) | (_, Some(transport)) => {
                        AttemptError::Transport(transport)
                    }
                    (failure, None) => AttemptError::Listing(failure.to_string()),
                }
            })?;
        // Started once nothing can fail any more, so a failed attempt leaves no task behind.
        let listening = requests.start_listening(
            Arc::from(name),
            self.inner.events.clone(),
            Arc::clone(&list_changed),
            config.request_timeout,
        );
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
                sse_closed,
                transport,
                cancel: Some(cancel),
                ended,
                tasks: std::iter::once(waiter.abort_handle())
                    .chain(listening)
                    .collect(),
                list_changed,
                oauth,
            },
            discovery,
        ))
    }

    /// Makes `live` the connection's session and starts watching its health and list changes.
    pub(super) fn install(&self, connection: &Arc<Connection>, mut live: Live) {
        let weak = Arc::downgrade(connection);
        let events = self.inner.events.clone();
        let mut ended = live.ended.clone();
        let process = live.process.clone();
        let sse_closed = live.sse_closed.clone();
        let health = tokio::spawn({
            let weak = weak.clone();
            let events = events.clone();
            async move {
                let _ = ended.wait_for(|ended| *ended).await;
                let Some(connection) = weak.upgrade() else {
                    return;
                };
                let cause = match (&process, &sse_closed) {
                    (Some(process), _) => process
                        .close_reason()
                        .map(|reason| reason.to_string())
                        .unwrap_or_else(|| "the server's connection ended".to_owned()),
                    (None, Some(sse)) => sse
                        .get()
                        .map(|reason| reason.to_string())
                        .unwrap_or_else(|| "the SSE stream ended".to_owned()),
                    (None, None) => "the HTTP session ended".to_owned(),
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
                let fetch = Box::pin(Listing::fetch(&requests, request_timeout));
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

    /// Serves a client session over HTTP: streamable HTTP, the legacy HTTP+SSE transport, or, for
    /// [`HttpTransportKind::Auto`], streamable HTTP and then SSE if the server refused the
    /// `initialize` POST with 400, 404 or 405 (the specification's backwards compatibility).
    async fn serve_http(
        &self,
        name: &str,
        handler: Handler,
        http: &HttpConfig,
        protocol: ProtocolEra,
        authorizer: Option<Arc<dyn Authorizer>>,
        options: HttpTransportOptions,
    ) -> Result<ServedHttp, AttemptError> {
        match http.transport {
            HttpTransportKind::LegacySse => {
                self.serve_legacy_sse(handler, http, authorizer, options)
                    .await
            }
            HttpTransportKind::StreamableHttp => {
                self.serve_streamable(handler, http, protocol, authorizer, options)
                    .await
            }
            // `Auto`, and whatever a later version adds: found out.
            _ => {
                let refused = match self
                    .serve_streamable(
                        handler.clone(),
                        http,
                        protocol,
                        authorizer.clone(),
                        options.clone(),
                    )
                    .await
                {
                    Err(AttemptError::Transport(refused)) if is_not_streamable(&refused) => refused,
                    other => return other,
                };
                tracing::info!(server = name, %refused, "not a streamable HTTP endpoint; trying the legacy HTTP+SSE transport");
                match self
                    .serve_legacy_sse(handler, http, authorizer.clone(), options.clone())
                    .await
                {
                    Ok(served) => {
                        self.inner.publish(ManagerEvent::TransportFallback {
                            server: name.to_owned(),
                            transport: TransportKind::LegacySse,
                            reason: refused.to_string(),
                        });
                        Ok(served)
                    }
                    Err(AttemptError::Transport(legacy)) => {
                        let sse_url_hint = self.sse_url_hint(http, authorizer, options).await;
                        Err(AttemptError::NoHttpTransport(Box::new(
                            NoHttpTransport::new(refused, legacy, sse_url_hint),
                        )))
                    }
                    Err(other) => Err(other),
                }
            }
        }
    }

    async fn serve_streamable(
        &self,
        handler: Handler,
        http: &HttpConfig,
        protocol: ProtocolEra,
        authorizer: Option<Arc<dyn Authorizer>>,
        options: HttpTransportOptions,
    ) -> Result<ServedHttp, AttemptError> {
        let transport = self
            .inner
            .http
            .transport(http.url.as_str(), authorizer, options)
            .map_err(AttemptError::Transport)?;
        let direct = transport.direct_requests();
        let service = serve_watched(handler, transport, lifecycle_mode(protocol)).await?;
        Ok(ServedHttp {
            service,
            direct: Some(Direct::Http(direct)),
            transport: TransportKind::StreamableHttp,
            sse_closed: None,
        })
    }

    async fn serve_legacy_sse(
        &self,
        handler: Handler,
        http: &HttpConfig,
        authorizer: Option<Arc<dyn Authorizer>>,
        options: HttpTransportOptions,
    ) -> Result<ServedHttp, AttemptError> {
        let transport = self
            .inner
            .http
            .legacy_sse(http.url.as_str(), authorizer, options)
            .await
            .map_err(AttemptError::Transport)?;
        let closed = transport.close_reason();
        // The legacy transport predates the modern era: `initialize` only.
        let service = serve_watched(handler, transport, ClientLifecycleMode::Initialize)
            .await
            .map_err(|error| {
                // The stream's own end says more than rmcp's "connection closed".
                match closed.get() {
                    Some(reason) if !matches!(error, AttemptError::Handshake(_)) => {
                        AttemptError::Transport(reason)
                    }
                    _ => error,
                }
            })?;
        Ok(ServedHttp {
            service,
            direct: None,
            transport: TransportKind::LegacySse,
            sse_closed: Some(closed),
        })
    }

    /// Where a legacy SSE stream may be, when `http.url` was neither transport: a legacy
    /// server's message endpoint (`/message`, `/messages`) is a common mistake, and its SSE URL is
    /// usually `/sse` on the same origin. Checked (one `GET` that must name an endpoint) before
    /// it is suggested; only on this failure path.
    async fn sse_url_hint(
        &self,
        http: &HttpConfig,
        authorizer: Option<Arc<dyn Authorizer>>,
        options: HttpTransportOptions,
    ) -> Option<Url> {
        let candidate = http.url.join("/sse").ok()?;
        if candidate == http.url {
            return None;
        }
        let probe = self
            .inner
            .http
            .legacy_sse(candidate.as_str(), authorizer, options);
        // Dropping the transport closes the probe's stream at once.
        probe.await.ok().map(|_| candidate)
    }
}

/// Kills the attempt's server if the attempt is dropped or fails before it is handed over.
/// Ends what an attempt started unless the attempt completes: the stdio server's process group,
/// and any OAuth browser flow (whose listener closes at once).
pub(super) struct KillUnlessDone(Option<StdioProcess>, Option<OAuthAuthorizer>);

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

/// An HTTP session rmcp runs, and what it runs on.
struct ServedHttp {
    service: RunningService<RoleClient, Handler>,
    direct: Option<Direct>,
    transport: TransportKind,
    sse_closed: Option<SseCloseReason>,
}

/// Runs rmcp's client handshake over `transport`, watched for a peer that is not an MCP server.
async fn serve_watched<T>(
    handler: Handler,
    transport: T,
    lifecycle: ClientLifecycleMode,
) -> Result<RunningService<RoleClient, Handler>, AttemptError>
where
    T: Transport<RoleClient> + Send + 'static,
{
    let violation = Violation::default();
    let may_fall_back = matches!(lifecycle, ClientLifecycleMode::Auto { .. });
    let transport = WatchHandshake::new(transport, violation.clone(), may_fall_back);
    rmcp::serve_client_with_lifecycle(handler, transport, lifecycle)
        .await
        .map_err(|error| {
            if let Some(violation) = violation.get() {
                return AttemptError::Handshake(violation);
            }
            match TransportError::find_in(&error) {
                Some(transport) => AttemptError::Transport(transport),
                None => AttemptError::Handshake(handshake_failure(&error)),
            }
        })
}

/// Why a handshake failed, in words: for a failed fallback, both halves (rmcp's own message
/// names neither).
fn handshake_failure(error: &ClientInitializeError) -> String {
    match error {
        ClientInitializeError::LegacyFallbackFailed { discover, fallback } => {
            format!("{fallback} (initialize, after server/discover was refused: {discover})")
        }
        other => other.to_string(),
    }
}

/// How rmcp opens the session for `era`. The modern era's only revision is 2026-07-28; the
/// legacy fallback offers 2025-11-25 (the handler's version), which servers negotiate down.
fn lifecycle_mode(era: ProtocolEra) -> ClientLifecycleMode {
    let modern = vec![ProtocolVersion::V_2026_07_28];
    match era {
        ProtocolEra::Legacy => ClientLifecycleMode::Initialize,
        ProtocolEra::Modern => ClientLifecycleMode::Discover {
            preferred_versions: modern,
        },
        // `Auto`, and whatever a later version adds: found out.
        _ => ClientLifecycleMode::Auto {
            preferred_versions: modern,
            legacy_version: Some(ProtocolVersion::LATEST_WITH_INITIALIZE),
        },
    }
}

/// Whether a refused `initialize` POST means "not a streamable HTTP endpoint here" (the statuses
/// the specification's backwards-compatibility section names: 400, 404, 405), so the legacy
/// SSE transport is worth a try.
fn is_not_streamable(error: &TransportError) -> bool {
    matches!(
        error,
        TransportError::HttpStatus {
            status: 400 | 404 | 405,
            ..
        }
    )
}

/// The transport options of an HTTP server's configuration: its extra headers.
fn transport_options(http: &HttpConfig) -> Result<HttpTransportOptions, AttemptError> {
    let mut options = HttpTransportOptions::default();
    for (key, value) in &http.headers {
        let name = http::HeaderName::from_bytes(key.as_bytes())
            .map_err(|_| AttemptError::Config(format!("invalid header name {key:?}")))?;
        let value = http::HeaderValue::from_str(value)
            .map_err(|_| AttemptError::Config(format!("invalid value for header {key}")))?;
        options.headers.insert(name, value);
    }
    Ok(options)
}
