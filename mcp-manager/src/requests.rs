//! How one session's requests reach its server: through our transports' direct requests, which
//! skip rmcp's service loop (several task hand-offs per request and a parse of every result through
//! an untagged union): straight down the pipe for a stdio server, a POST read by the caller for an
//! HTTP one. rmcp still runs the handshake and handles what the server sends on its own (requests,
//! notifications). A request the HTTP path could not deliver (no session yet, or a session the
//! server forgot, which rmcp re-initializes) goes through rmcp's `Peer`. Either way a request has a
//! timeout, after which the server is told to cancel it.

// Logging is deprecated only as of 2026-07-28 (SEP-2577); servers of every era still use it.
#![allow(deprecated)]

use std::time::Duration;

use mcp_transport::HttpDirectRequests;
use mcp_transport::StdioDirectRequests;
use mcp_transport::{RequestError, TransportError};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use rmcp::model::{
    ClientCapabilities, ClientRequest, ClientResult, DiscoverRequest, DiscoverRequestParams,
    GetMeta, Implementation, InputRequest, InputRequests, InputResponses, LoggingLevel,
    NumberOrString, ProtocolVersion, ServerRequest, ServerResult,
};
use rmcp::service::{PeerRequestOptions, RequestContext, RoleClient};
use rmcp::{ClientHandler, Peer, Service, ServiceError};
use tokio::sync::{Notify, broadcast};
use tokio::task::AbortHandle;

use crate::events::ManagerEvent;
use crate::handler::Handler;
use crate::listen::Listener;

/// The most `input_required` rounds one request may take (a server that keeps asking is
/// misbehaving); rmcp and the other SDKs use the same cap.
const MAX_INPUT_ROUNDS: usize = 10;

/// One session's way to its server. Cheap to clone.
#[derive(Clone)]
pub(crate) struct Requests {
    peer: Peer<RoleClient>,
    direct: Option<Direct>,
    /// Answers a modern server's `input_required` rounds (the same handler that answers a legacy
    /// server's own requests).
    handler: Handler,
    /// The modern era's per-request `_meta` (protocol version, our identity and capabilities),
    /// which rmcp adds to what goes through it and we add to what goes past it; `None` in the
    /// legacy era, where the handshake said it once.
    modern: Option<Arc<ModernMeta>>,
}

/// What every modern request carries in `_meta`, and the session's subscriptions.
struct ModernMeta {
    protocol_version: ProtocolVersion,
    client_info: Implementation,
    capabilities: ClientCapabilities,
    /// The log level asked for: the modern era sets it per request (`logLevel` in `_meta`).
    log_level: Mutex<Option<LoggingLevel>>,
    /// The `subscriptions/listen` stream, once started.
    listener: OnceLock<Arc<Listener>>,
}

/// A transport's own way to send a request past rmcp's service loop.
#[derive(Clone)]
pub(crate) enum Direct {
    Stdio(StdioDirectRequests),
    Http(HttpDirectRequests),
}

/// Why a request got no result.
#[derive(Debug)]
pub(crate) enum RequestFailure {
    /// No answer within the timeout; the server was told to cancel.
    Timeout(Duration),
    /// The server answered with a JSON-RPC error.
    Rpc {
        code: i32,
        message: String,
        /// The error's `data`, as the server sent it.
        data: Option<serde_json::Value>,
    },
    /// The connection broke or ended under the request, or the answer made no sense, with the
    /// transport's own reason (or the closest one when rmcp gave none).
    Transport(TransportError),
    /// The server's answers, each fine on its own, add up to nonsense we refuse (pages that never
    /// end, a result of another kind): our own finding, with the connection still working, so no
    /// later reason (such as the kill that follows) may replace it.
    Misbehaved(String),
    /// The request needs what the client or the server does not offer (input the handler
    /// cannot give, a capability the server lacks); the connection is fine.
    Unsupported(String),
}

impl std::fmt::Display for RequestFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Timeout(timeout) => write!(
                f,
                "no answer within {}",
                humantime::format_duration(*timeout)
            ),
            Self::Rpc { code, message, .. } => write!(f, "{message} (JSON-RPC error {code})"),
            Self::Transport(transport) => transport.fmt(f),
            Self::Misbehaved(detail) | Self::Unsupported(detail) => f.write_str(detail),
        }
    }
}

impl RequestFailure {
    /// The failure as the transport's error: a server's nonsense is a protocol violation; a
    /// timeout or a JSON-RPC error (which callers report on their own) become the nearest
    /// transport terms.
    pub(crate) fn into_transport_error(self) -> TransportError {
        match self {
            Self::Transport(transport) => transport,
            Self::Misbehaved(detail) | Self::Unsupported(detail) => {
                TransportError::Protocol { detail }
            }
            Self::Timeout(after) => TransportError::Timeout {
                phase: mcp_transport::TimeoutPhase::Request,
                after,
            },
            rpc @ Self::Rpc { .. } => TransportError::Protocol {
                detail: rpc.to_string(),
            },
        }
    }
}

impl Requests {
    /// Requests through `peer`, or through `direct` when the transport offers it; `handler`
    /// answers `input_required` rounds. The era is the one the handshake (or discovery) chose.
    pub(crate) fn new(peer: Peer<RoleClient>, direct: Option<Direct>, handler: Handler) -> Self {
        let modern = peer
            .peer_info()
            .map(|info| info.protocol_version.clone())
            .filter(|version| !version.has_initialize())
            .map(|protocol_version| {
                let info = ClientHandler::get_info(&handler);
                Arc::new(ModernMeta {
                    protocol_version,
                    client_info: info.client_info,
                    capabilities: info.capabilities,
                    log_level: Mutex::new(None),
                    listener: OnceLock::new(),
                })
            });
        Self {
            peer,
            direct,
            handler,
            modern,
        }
    }

    /// In the modern era, starts the session's `subscriptions/listen` stream (list changes wake
    /// `list_changed`); returns its task, which ends with the session. `None` in the legacy era,
    /// where servers notify on their own.
    pub(crate) fn start_listening(
        &self,
        server: Arc<str>,
        events: broadcast::Sender<ManagerEvent>,
        list_changed: Arc<Notify>,
        timeout: Duration,
    ) -> Option<AbortHandle> {
        let modern = self.modern.as_ref()?;
        let (listener, task) =
            Listener::start(self.peer.clone(), server, events, list_changed, timeout);
        let _ = modern.listener.set(listener);
        Some(task)
    }

    /// The streamable HTTP session's `x-mcp-header` declarations, to keep up to date with the tool
    /// list; `None` on other transports, which need none.
    pub(crate) fn tool_headers(&self) -> Option<&mcp_transport::ToolHeaderMap> {
        match &self.direct {
            Some(Direct::Http(direct)) => Some(direct.tool_headers()),
            _ => None,
        }
    }

    /// rmcp's peer: what the server said at the handshake.
    pub(crate) fn peer(&self) -> &Peer<RoleClient> {
        &self.peer
    }

    /// Sends `request` and waits at most `timeout` for its result (each round of a multi-round
    /// request gets its own `timeout`). A modern server's `input_required` answer is fulfilled
    /// by the handler and the request sent again with the answers and the server's
    /// `requestState` (echoed untouched), at most [`MAX_INPUT_ROUNDS`] times.
    pub(crate) async fn send(
        &self,
        mut request: ClientRequest,
        timeout: Duration,
    ) -> Result<ServerResult, RequestFailure> {
        let Some(modern) = &self.modern else {
            return self.send_once(request, timeout).await;
        };
        // What the modern era does differently: resource subscriptions are a listen stream's
        // filter, and the log level travels with each request.
        match &request {
            ClientRequest::SubscribeRequest(subscribe) => {
                return self
                    .listener(modern)?
                    .change(&subscribe.params.uri, true, timeout)
                    .await
                    .map(|()| ServerResult::empty(()));
            }
            ClientRequest::UnsubscribeRequest(unsubscribe) => {
                return self
                    .listener(modern)?
                    .change(&unsubscribe.params.uri, false, timeout)
                    .await
                    .map(|()| ServerResult::empty(()));
            }
            ClientRequest::SetLevelRequest(set) => {
                let logs = self
                    .peer
                    .peer_info()
                    .is_some_and(|info| info.capabilities.logging.is_some());
                if !logs {
                    return Err(RequestFailure::Unsupported(
                        "the server declares no logging capability".to_owned(),
                    ));
                }
                *modern
                    .log_level
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner) = Some(set.params.level);
                return Ok(ServerResult::empty(()));
            }
            // The modern era has no `ping`; `server/discover` is the round trip every server
            // answers, and needs nothing of it.
            ClientRequest::PingRequest(_) => {
                let mut discover =
                    ClientRequest::DiscoverRequest(DiscoverRequest::new(DiscoverRequestParams {}));
                add_meta(&mut discover, modern);
                return self
                    .send_once(discover, timeout)
                    .await
                    .map(|_| ServerResult::empty(()));
            }
            _ => {}
        }
        if !takes_input_rounds(&request) {
            add_meta(&mut request, modern);
            return self.send_once(request, timeout).await;
        }
        let mut state_only_rounds = 0u32;
        for _ in 0..MAX_INPUT_ROUNDS {
            let mut round = request.clone();
            add_meta(&mut round, modern);
            let needed = match self.send_once(round, timeout).await? {
                ServerResult::InputRequiredResult(needed) => needed,
                done => return Ok(done),
            };
            let asks = needed.input_requests.unwrap_or_default();
            if asks.is_empty() && needed.request_state.is_none() {
                return Err(RequestFailure::Misbehaved(
                    "the server answered input_required with neither input requests nor a \
                     requestState"
                        .into(),
                ));
            }
            if asks.is_empty() {
                // Only state to echo: the server is working; do not spin on it.
                let millis = (50u64 << state_only_rounds.min(3)).min(250);
                tokio::time::sleep(Duration::from_millis(millis)).await;
                state_only_rounds += 1;
            } else {
                state_only_rounds = 0;
            }
            let answers = self.fulfil(asks).await?;
            let answers = (!answers.is_empty()).then_some(answers);
            set_round_inputs(&mut request, answers, needed.request_state);
        }
        Err(RequestFailure::Unsupported(format!(
            "the server still wanted input after {MAX_INPUT_ROUNDS} rounds"
        )))
    }

    /// The session's listen stream, which a modern session always has once installed.
    fn listener(&self, modern: &ModernMeta) -> Result<Arc<Listener>, RequestFailure> {
        modern.listener.get().cloned().ok_or_else(|| {
            RequestFailure::Misbehaved("the session is not listening yet".to_owned())
        })
    }

    /// Answers each of a server's input requests with the handler, all at once.
    async fn fulfil(&self, asks: InputRequests) -> Result<InputResponses, RequestFailure> {
        let answers = asks.into_iter().map(|(key, ask)| async move {
            let (request, method) = match ask {
                InputRequest::Elicitation(request) => {
                    (ServerRequest::ElicitRequest(request), "elicitation")
                }
                InputRequest::CreateMessage(request) => {
                    (ServerRequest::CreateMessageRequest(request), "sampling")
                }
                InputRequest::ListRoots(request) => {
                    (ServerRequest::ListRootsRequest(request), "roots")
                }
                // `InputRequest` is non-exhaustive; a kind added later cannot be answered.
                _ => {
                    return Err(RequestFailure::Unsupported(format!(
                        "the server asked for input of a kind this client does not know \
                         (key {key:?})"
                    )));
                }
            };
            let context = RequestContext::new(
                NumberOrString::String(key.as_str().into()),
                self.peer.clone(),
            );
            let answer = match self.handler.handle_request(request, context).await {
                Ok(ClientResult::ElicitResult(result)) => serde_json::to_value(result),
                Ok(ClientResult::CreateMessageResult(result)) => serde_json::to_value(result),
                Ok(ClientResult::ListRootsResult(result)) => serde_json::to_value(result),
                Ok(_) => Ok(serde_json::Value::Null),
                Err(error) => {
                    // The server asked for something we do not offer (sampling without a
                    // handler): the request cannot go on.
                    return Err(RequestFailure::Unsupported(format!(
                        "the server needs {method} input this client cannot give: {}",
                        error.message
                    )));
                }
            };
            answer.map(|answer| (key, answer)).map_err(|error| {
                RequestFailure::Misbehaved(format!("an answer to {method}: {error}"))
            })
        });
        futures::future::try_join_all(answers)
            .await
            .map(|answers| answers.into_iter().collect())
    }

    /// Sends `request` once and waits at most `timeout` for its result.
    async fn send_once(
        &self,
        request: ClientRequest,
        timeout: Duration,
    ) -> Result<ServerResult, RequestFailure> {
        let outcome = match &self.direct {
            Some(Direct::Stdio(direct)) => direct.request(request, timeout).await,
            Some(Direct::Http(direct)) => {
                // Kept for a request the direct path hands back undelivered (rare: a clone is
                // cheaper than parsing every request twice).
                let again = request.clone();
                match direct.request(request, timeout).await {
                    Err(RequestError::NotDelivered(reason)) => {
                        tracing::debug!(%reason, "sending through rmcp");
                        return self.send_through_rmcp(again, timeout).await;
                    }
                    other => other,
                }
            }
            None => return self.send_through_rmcp(request, timeout).await,
        };
        outcome.map_err(|error| match error {
            RequestError::Rpc { error, .. } => RequestFailure::Rpc {
                code: error.code.0,
                message: error.message.to_string(),
                data: error.data,
            },
            RequestError::Timeout { timeout, .. } => RequestFailure::Timeout(timeout),
            RequestError::Transport(transport) | RequestError::NotDelivered(transport) => {
                RequestFailure::Transport(transport)
            }
            // `RequestError` is non-exhaustive: a kind added later is reported as it describes
            // itself, as a protocol problem.
            other => RequestFailure::Transport(TransportError::Protocol {
                detail: other.to_string(),
            }),
        })
    }

    async fn send_through_rmcp(
        &self,
        request: ClientRequest,
        timeout: Duration,
    ) -> Result<ServerResult, RequestFailure> {
        let mut options = PeerRequestOptions::no_options();
        options.timeout = Some(timeout);
        let lost = |error: ServiceError| {
            RequestFailure::Transport(TransportError::find_in(&error).unwrap_or_else(|| {
                // rmcp's own reasons: the service loop ended (the transport closed under it), the
                // request was cancelled, or an answer of the wrong shape.
                match error {
                    ServiceError::TransportClosed => TransportError::Closed,
                    ServiceError::Cancelled { .. } => TransportError::Cancelled,
                    other => TransportError::Protocol {
                        detail: other.to_string(),
                    },
                }
            }))
        };
        let handle = self
            .peer
            .send_cancellable_request(request, options)
            .await
            .map_err(lost)?;
        match handle.await_response().await {
            Ok(result) => Ok(result),
            Err(ServiceError::Timeout { .. }) => Err(RequestFailure::Timeout(timeout)),
            Err(ServiceError::McpError(error)) => Err(RequestFailure::Rpc {
                code: error.code.0,
                message: error.message.to_string(),
                data: error.data,
            }),
            Err(error) => Err(lost(error)),
        }
    }
}

/// Whether a modern server may answer `request` with `input_required`.
fn takes_input_rounds(request: &ClientRequest) -> bool {
    matches!(
        request,
        ClientRequest::CallToolRequest(_)
            | ClientRequest::GetPromptRequest(_)
            | ClientRequest::ReadResourceRequest(_)
    )
}

/// Puts a round's answers and the server's state (untouched) into the request to send again.
fn set_round_inputs(
    request: &mut ClientRequest,
    answers: Option<InputResponses>,
    state: Option<String>,
) {
    match request {
        ClientRequest::CallToolRequest(call) => {
            call.params.input_responses = answers;
            call.params.request_state = state;
        }
        ClientRequest::GetPromptRequest(get) => {
            get.params.input_responses = answers;
            get.params.request_state = state;
        }
        ClientRequest::ReadResourceRequest(read) => {
            read.params.input_responses = answers;
            read.params.request_state = state;
        }
        _ => {}
    }
}

/// Adds the modern era's `_meta` to a request that goes past rmcp (rmcp adds it to its own).
fn add_meta(request: &mut ClientRequest, modern: &ModernMeta) {
    let meta = request.get_meta_mut();
    meta.set_protocol_version(modern.protocol_version.clone());
    meta.set_client_info(modern.client_info.clone());
    meta.set_client_capabilities(modern.capabilities.clone());
    let level = *modern
        .log_level
        .lock()
        .unwrap_or_else(PoisonError::into_inner);
    if let Some(level) = level
        && let Ok(level) = serde_json::to_value(level)
    {
        meta.insert(LOG_LEVEL_META.to_owned(), level);
    }
}

/// The `_meta` key that asks for a request's log messages (modern era).
const LOG_LEVEL_META: &str = "io.modelcontextprotocol/logLevel";
