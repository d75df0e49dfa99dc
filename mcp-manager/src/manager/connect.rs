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
use mcp_transport::HttpTransportOptions;
use mcp_transport::TransportError;
use mcp_transport::{StdioProcess, StdioSpec, StdioTransport};
use rmcp::model::ClientRequest;
use tokio::sync::{Notify, watch};

use crate::ServerId;
use crate::config::{ServerConfig, TransportConfig};
use crate::error::{AttemptError, CallError, ConnectError};
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
                    .transport(http.url.as_str(), authorizer, options)
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
    pub(super) fn install(&self, connection: &Arc<Connection>, mut live: Live) {
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
