//! The streamable HTTP transport rmcp runs on: our own for the `initialize` lifecycle, rmcp's worker
//! for the 2026-07-28 `server/discover` one.
//!
//! Why our own: rmcp's `StreamableHttpClientTransport` runs a worker task per session with four
//! channels between it, the service loop and its stream tasks. Each tokio channel allocates a block
//! of 32 slots of its message type up front (about 24 KiB each here), and the worker's own future
//! is about 9 KiB: most of what an idle session cost. Here a session is the service loop rmcp
//! already runs, one task reading the standalone `GET` stream, and a small queue of what the
//! server sent. Each message rmcp sends is POSTed by the send future rmcp already spawns, which
//! also reads the response (JSON, or an event stream resumed with `Last-Event-ID`).
//!
//! What the worker did and this keeps: the session id and `MCP-Protocol-Version` on every
//! message after `initialize`; the standalone stream (none for a stateless server), reconnected
//! from the last event id for as long as it delivers, the retry policy bounding failures in a row;
//! a transparent re-initialization when the server forgets the session (a 404), bounded by the
//! session recovery timeout, after which a refused request or ordinary notification is sent again
//! once (an answer to the server or a cancellation belongs to the old session and is not); a
//! request rmcp cancels stops being sent or read at once; `DELETE` of the session on close. If rmcp
//! starts with `server/discover` instead of `initialize`, the session is handed to rmcp's own
//! transport, which implements that lifecycle's per-request headers; if the server refuses it and
//! rmcp falls back to `initialize`, the session comes back here.
//!
//! Differences from the worker: no cap on POSTs in flight (rmcp's is 16), and the queue to rmcp
//! is unbounded (rmcp reads it as fast as its handlers take messages). A server that negotiates
//! 2026-07-28 through `initialize` gets no per-request standard headers (SEP-2243) from this
//! transport; servers of that version are reached through `server/discover`.
//!
//! The handshake ends once the server has answered the standalone stream's `GET`, waiting at most
//! 500 ms for it: a server may send its own requests and notifications there right away (the
//! TypeScript SDK's `server.request` does) and drops them while no stream is open. A failed
//! re-initialization fails the message that needed it and leaves the next one to try again; it
//! does not end the session (the manager marks the connection unhealthy from the failed request).
//!
//! Every stream reader hands every message to the session's [`Inbound`] router, which knows every
//! request waiting for an answer (see there for why). Dropping an `HttpTransport` aborts its
//! standalone-stream task; its POSTs run in rmcp's send tasks, which end with rmcp's service.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use futures::StreamExt;
use futures::channel::{mpsc, oneshot};
use http::{HeaderName, HeaderValue};
use rmcp::RoleClient;
use rmcp::model::{
    ClientJsonRpcMessage, ClientNotification, ClientRequest, RequestId, ServerJsonRpcMessage,
    ServerResult,
};
use rmcp::transport::Transport;
use rmcp::transport::streamable_http_client::{
    StreamableHttpClient, StreamableHttpClientTransport, StreamableHttpClientTransportConfig,
    StreamableHttpError, StreamableHttpPostResponse, StreamableHttpResponseLimits,
};
use tokio::task::AbortHandle;

use super::direct::{HttpDirect, HttpDirectRequests};
use super::events::{EventReader, Events, StreamEnd};
use super::inbound::{Inbound, Routed, same_id};
use super::reconnect::SseReconnectPolicy;
use super::streamable::StreamableClient;
use crate::error::TransportError;

type HttpResult<T> = Result<T, StreamableHttpError<TransportError>>;

/// How long `close()` gives the server to end the session.
const DELETE_TIMEOUT: Duration = Duration::from_secs(5);

/// How long the handshake waits for the server to answer the standalone stream's `GET`: a round
/// trip or two to a distant server, short enough for one that sends no headers before its first
/// event.
const STANDALONE_OPEN_WAIT: Duration = Duration::from_millis(500);

/// The streamable HTTP transport of one session. Get [`HttpTransport::direct_requests`] before
/// handing it to rmcp.
pub struct HttpTransport {
    shared: Arc<Shared>,
    /// What the server sent that rmcp is to read.
    from_server: mpsc::UnboundedReceiver<ServerJsonRpcMessage>,
    lifecycle: Lifecycle,
    direct: Arc<HttpDirect>,
}

enum Lifecycle {
    /// Nothing sent yet; rmcp's worker is built from this if the session starts with
    /// `server/discover`.
    Unstarted(Box<StreamableHttpClientTransportConfig>),
    /// The `initialize` lifecycle, on this transport.
    Ours,
    /// The `server/discover` lifecycle, on rmcp's transport.
    Rmcp(Box<StreamableHttpClientTransport<StreamableClient>>),
}

impl std::fmt::Debug for HttpTransport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpTransport")
            .field("uri", &self.shared.uri)
            .finish_non_exhaustive()
    }
}

/// The session as this transport keeps it.
struct Shared {
    client: StreamableClient,
    uri: Arc<str>,
    limits: StreamableHttpResponseLimits,
    reconnect: Arc<SseReconnectPolicy>,
    /// Where every stream's messages go.
    inbound: Arc<Inbound>,
    state: Mutex<State>,
    /// One re-initialization at a time; `close()` waits for it.
    reinitializing: tokio::sync::Mutex<()>,
    /// How long a re-initialization may take.
    recovery_timeout: Duration,
}

#[derive(Default)]
struct State {
    /// The session id (`None` for a stateless server) and the headers of every message after
    /// `initialize`, once the server answered it.
    session: Option<Arc<SessionHeaders>>,
    /// The `initialize` request, sent again to re-initialize.
    initialize: Option<ClientJsonRpcMessage>,
    /// The task reading the standalone stream.
    standalone: Option<AbortHandle>,
}

struct SessionHeaders {
    id: Option<Arc<str>>,
    headers: HashMap<HeaderName, HeaderValue>,
}

impl Drop for HttpTransport {
    fn drop(&mut self) {
        self.shared.stop_standalone();
        self.shared.inbound.end();
    }
}

impl HttpTransport {
    pub(super) fn new(
        client: StreamableClient,
        config: StreamableHttpClientTransportConfig,
        limits: StreamableHttpResponseLimits,
        reconnect: Arc<SseReconnectPolicy>,
    ) -> Self {
        let (to_rmcp, from_server) = mpsc::unbounded();
        let uri = Arc::clone(&config.uri);
        let inbound = Inbound::new(to_rmcp, Arc::clone(&uri));
        let direct = HttpDirect::new(
            client.clone(),
            Arc::clone(&uri),
            limits,
            Arc::clone(&reconnect),
            Arc::clone(&inbound),
        );
        let shared = Arc::new(Shared {
            client,
            uri,
            limits,
            reconnect,
            inbound,
            state: Mutex::default(),
            reinitializing: tokio::sync::Mutex::new(()),
            recovery_timeout: config.session_recovery_timeout,
        });
        // Weak: the router is the session's, and must not keep it alive.
        let session = Arc::downgrade(&shared);
        shared.inbound.send_answers_with(Box::new(move |answer| {
            let Some(shared) = session.upgrade() else {
                return;
            };
            // From a task of its own: the stream reader that found the request must not wait
            // for a POST. Without a runtime (the transport is being torn down) there is nobody
            // left to answer.
            let Ok(runtime) = tokio::runtime::Handle::try_current() else {
                return;
            };
            runtime.spawn(async move {
                if let Err(error) = shared.send_in_session(answer).await {
                    tracing::debug!(uri = %shared.uri, %error, "could not answer the server's malformed request");
                }
            });
        }));
        Self {
            shared,
            from_server,
            lifecycle: Lifecycle::Unstarted(Box::new(config)),
            direct,
        }
    }

    /// A handle for requests that skip rmcp's service loop; see [`HttpDirectRequests`].
    pub fn direct_requests(&self) -> HttpDirectRequests {
        HttpDirectRequests::new(Arc::clone(&self.direct))
    }
}

impl Transport<RoleClient> for HttpTransport {
    type Error = StreamableHttpError<TransportError>;

    fn name() -> std::borrow::Cow<'static, str> {
        "streamable-http".into()
    }

    fn send(
        &mut self,
        message: ClientJsonRpcMessage,
    ) -> impl Future<Output = Result<(), Self::Error>> + Send + 'static {
        // `server/discover` was refused and the client falls back to `initialize`: that lifecycle
        // is this transport's own. rmcp's worker, kept, would lose an answer a server sends on the
        // standalone stream (the conformance suite's `sse-retry` server does, whenever the
        // stream's GET reaches it before it answers); this transport's router takes answers from
        // any stream.
        if matches!(self.lifecycle, Lifecycle::Rmcp(_)) && is_initialize(&message) {
            self.lifecycle = Lifecycle::Ours;
        }
        if let Lifecycle::Unstarted(config) = &self.lifecycle {
            let discover = matches!(
                &message,
                ClientJsonRpcMessage::Request(request)
                    if matches!(request.request, ClientRequest::DiscoverRequest(_))
            );
            self.lifecycle = if discover {
                let config = (**config).clone();
                Lifecycle::Rmcp(Box::new(StreamableHttpClientTransport::with_client(
                    self.shared.client.clone(),
                    config,
                )))
            } else {
                Lifecycle::Ours
            };
        }
        let send: futures::future::BoxFuture<'static, HttpResult<()>> = match &mut self.lifecycle {
            Lifecycle::Rmcp(inner) => Box::pin(inner.send(message)),
            _ => Box::pin(Arc::clone(&self.shared).send(message)),
        };
        send
    }

    async fn receive(&mut self) -> Option<ServerJsonRpcMessage> {
        // Channel receives only, so a `select!` that drops this loses nothing.
        match &mut self.lifecycle {
            Lifecycle::Rmcp(inner) => tokio::select! {
                biased;
                Some(message) = self.from_server.next() => Some(message),
                message = inner.receive() => message,
            },
            _ => tokio::select! {
                biased;
                message = self.from_server.next() => message,
                () = self.shared.inbound.ended() => None,
            },
        }
    }

    async fn close(&mut self) -> Result<(), Self::Error> {
        if let Lifecycle::Rmcp(inner) = &mut self.lifecycle {
            return inner.close().await;
        }
        // A re-initialization in flight finishes first, so the session deleted is the last one.
        let _no_reinitialization = self.shared.reinitializing.lock().await;
        self.shared.inbound.end();
        self.shared.stop_standalone();
        let session = self.shared.session();
        let Some(id) = session.as_ref().and_then(|session| session.id.clone()) else {
            return Ok(());
        };
        let headers = session
            .map(|session| session.headers.clone())
            .unwrap_or_default();
        let delete =
            self.shared
                .client
                .delete_session(Arc::clone(&self.shared.uri), id, None, headers);
        match tokio::time::timeout(DELETE_TIMEOUT, delete).await {
            Ok(result) => result,
            Err(_) => Err(StreamableHttpError::Client(TransportError::Timeout {
                phase: crate::error::TimeoutPhase::CloseSession,
                after: DELETE_TIMEOUT,
            })),
        }
    }
}

impl Shared {
    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn session(&self) -> Option<Arc<SessionHeaders>> {
        self.state().session.clone()
    }

    fn stop_standalone(&self) {
        if let Some(task) = self.state().standalone.take() {
            task.abort();
        }
    }

    /// Sends one of rmcp's messages and hands whatever comes back to rmcp.
    async fn send(self: Arc<Self>, message: ClientJsonRpcMessage) -> HttpResult<()> {
        if is_initialize(&message) {
            return self.initialize(message).await;
        }
        if let Some(id) = cancelled_request(&message) {
            // rmcp has given up on the request: its POST and its stream are dropped.
            self.inbound.cancel_rmcp(id);
        }
        let Some(id) = request_id(&message) else {
            return self.send_in_session(message).await;
        };
        let in_flight = self.inbound.expect_rmcp(id.clone());
        let _forget = ForgetRequest { shared: &self, id };
        tokio::select! {
            sent = self.send_in_session(message) => sent,
            // rmcp has already failed the request as cancelled, or its answer came on another
            // stream and was handed to rmcp from there.
            () = in_flight.cancelled() => Ok(()),
        }
    }

    /// POSTs `message` in the current session; after a 404, in a new session, once, if the message
    /// still means something there.
    async fn send_in_session(&self, message: ClientJsonRpcMessage) -> HttpResult<()> {
        let session = self.session();
        let outcome = self.post(message.clone(), session.as_deref()).await;
        let outcome = match (outcome, &session) {
            (Err(StreamableHttpError::SessionExpired), Some(expired)) if resendable(&message) => {
                self.reinitialize(expired).await?;
                let session = self.session();
                self.post(message.clone(), session.as_deref()).await
            }
            // Telling an expired session to stop a request: there is nothing left to stop.
            (Err(StreamableHttpError::SessionExpired), _)
                if cancelled_request(&message).is_some() =>
            {
                Ok(())
            }
            (outcome, _) => outcome,
        };
        outcome?;
        if is_initialized(&message)
            && let Some(opened) = self.start_standalone()
        {
            // The handshake ends once the standalone stream is open: a server may send its own
            // requests and notifications there (the TypeScript SDK's `server.request`, e.g. an
            // elicitation during the first tool call) and drops them while no stream is open. A
            // server that holds the stream's headers back until its first event is not waited
            // for long.
            let _ = tokio::time::timeout(STANDALONE_OPEN_WAIT, opened).await;
        }
        Ok(())
    }

    /// POSTs `message` in `session` and reads the answer to a request into rmcp's queue.
    async fn post(
        &self,
        message: ClientJsonRpcMessage,
        session: Option<&SessionHeaders>,
    ) -> HttpResult<()> {
        let awaited = request_id(&message);
        let response = self
            .client
            .post_message_with_response_limits(
                Arc::clone(&self.uri),
                message,
                session.and_then(|session| session.id.clone()),
                None,
                session
                    .map(|session| session.headers.clone())
                    .unwrap_or_default(),
                self.limits,
            )
            .await?;
        match (response, awaited) {
            (StreamableHttpPostResponse::Accepted, _) => Ok(()),
            (StreamableHttpPostResponse::Json(message, _), _) => {
                self.inbound.deliver(message);
                Ok(())
            }
            (StreamableHttpPostResponse::Sse(events, _), Some(id)) => {
                let until = |routed: Routed| matches!(routed, Routed::RmcpAnswer(answered) if same_id(&answered, &id));
                match self.read_stream(events, session, until).await {
                    StreamEnd::Answered => Ok(()),
                    StreamEnd::Ended(error) => Err(StreamableHttpError::Client(error)),
                }
            }
            // An event stream for a notification or a response awaits nothing: nobody reads it
            // (rmcp's own transport refuses one for `notifications/initialized`).
            (StreamableHttpPostResponse::Sse(..), None) => Ok(()),
            (other, _) => Err(StreamableHttpError::UnexpectedServerResponse(
                format!("an answer of an unknown kind: {other:?}").into(),
            )),
        }
    }

    /// The handshake's `initialize`: remembered for re-initialization; its answer names the session.
    async fn initialize(&self, message: ClientJsonRpcMessage) -> HttpResult<()> {
        self.state().initialize = Some(message.clone());
        let (answer, session_id) = self.exchange_initialize(message).await?;
        let session = session_headers(&answer, session_id);
        self.state().session = Some(Arc::new(session));
        self.inbound.deliver(answer);
        Ok(())
    }

    /// POSTs `initialize` and returns its answer and the session id the server assigned.
    async fn exchange_initialize(
        &self,
        message: ClientJsonRpcMessage,
    ) -> HttpResult<(ServerJsonRpcMessage, Option<String>)> {
        self.client
            .post_message_with_response_limits(
                Arc::clone(&self.uri),
                message,
                None,
                None,
                Default::default(),
                self.limits,
            )
            .await?
            .expect_initialized()
            .await
    }

    /// A new session after the server forgot `expired`: `initialize` again (its answer is not
    /// rmcp's: the handshake is long done), `notifications/initialized`, a new standalone stream.
    /// Bounded by the session recovery timeout, since every message waits for it.
    async fn reinitialize(&self, expired: &SessionHeaders) -> HttpResult<()> {
        let _one_at_a_time = self.reinitializing.lock().await;
        if self.inbound.is_ended() {
            return Err(StreamableHttpError::TransportChannelClosed);
        }
        if self
            .session()
            .is_some_and(|current| current.id != expired.id)
        {
            // Another message already re-initialized.
            return Ok(());
        }
        // A failure is the refused message's error. The session stays as it was: the next message
        // tries again, so a server that comes back is joined again, and each failure names its
        // own cause.
        let session = tokio::time::timeout(self.recovery_timeout, self.initialize_again())
            .await
            .map_err(|_| StreamableHttpError::SessionRecoveryTimeout)??;
        self.state().session = Some(Arc::new(session));
        tracing::debug!(uri = %self.uri, "the server forgot the session; re-initialized");
        // Not waited for: the message that met the 404 is waiting to be sent again.
        drop(self.start_standalone());
        Ok(())
    }

    async fn initialize_again(&self) -> HttpResult<SessionHeaders> {
        let initialize = self
            .state()
            .initialize
            .clone()
            .ok_or(StreamableHttpError::SessionExpired)?;
        let (answer, session_id) = self.exchange_initialize(initialize).await?;
        if let ServerJsonRpcMessage::Error(error) = answer {
            return Err(StreamableHttpError::ReinitializationFailed(error.error));
        }
        let session = session_headers(&answer, session_id);
        let initialized = ClientJsonRpcMessage::notification(
            ClientNotification::InitializedNotification(Default::default()),
        );
        self.post(initialized, Some(&session)).await?;
        Ok(session)
    }

    /// Opens the standalone stream for the current session, from a task of its own; the receiver
    /// resolves once the server has answered the `GET` (with the stream, or a refusal).
    fn start_standalone(&self) -> Option<oneshot::Receiver<()>> {
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return None;
        };
        // A stateless server (no session id) has no stream of its own to offer.
        let session = self.session().filter(|session| session.id.is_some())?;
        if self.inbound.is_ended() {
            return None;
        }
        let (opened, answered) = oneshot::channel();
        let reader = Standalone {
            client: self.client.clone(),
            uri: Arc::clone(&self.uri),
            limits: self.limits,
            reconnect: Arc::clone(&self.reconnect),
            inbound: Arc::clone(&self.inbound),
            session,
        };
        let task = runtime.spawn(reader.run(opened));
        if let Some(previous) = self.state().standalone.replace(task.abort_handle()) {
            previous.abort();
        }
        Some(answered)
    }

    /// Routes a POST's events until `until` says a message was the last one needed, resuming with
    /// `Last-Event-ID` when the stream ends early (only after an event id).
    async fn read_stream(
        &self,
        events: Events,
        session: Option<&SessionHeaders>,
        until: impl Fn(Routed) -> bool,
    ) -> StreamEnd {
        let reader = EventReader {
            client: &self.client,
            inbound: &self.inbound,
            uri: &self.uri,
            limits: self.limits,
            reconnect: &self.reconnect,
            session_id: session.and_then(|session| session.id.clone()),
            headers: session
                .map(|session| session.headers.clone())
                .unwrap_or_default(),
        };
        reader
            .read(events, false, |data| until(self.inbound.route(data)))
            .await
    }
}

/// Unregisters a request in flight however its exchange ends.
struct ForgetRequest<'a> {
    shared: &'a Shared,
    id: RequestId,
}

impl Drop for ForgetRequest<'_> {
    fn drop(&mut self) {
        self.shared.inbound.forget_rmcp(&self.id);
    }
}

/// The task reading a session's standalone `GET` stream.
struct Standalone {
    client: StreamableClient,
    uri: Arc<str>,
    limits: StreamableHttpResponseLimits,
    reconnect: Arc<SseReconnectPolicy>,
    inbound: Arc<Inbound>,
    session: Arc<SessionHeaders>,
}

impl Standalone {
    /// Opens the stream, says so on `opened`, and reads it for the rest of the session.
    async fn run(self, opened: oneshot::Sender<()>) {
        let answer = self
            .client
            .get_stream_with_max_sse_event_size(
                Arc::clone(&self.uri),
                self.session.id.clone(),
                None,
                None,
                self.session.headers.clone(),
                self.limits.max_sse_event_size,
            )
            .await;
        // Nobody may be waiting any more (the handshake stopped waiting).
        let _ = opened.send(());
        let events = match answer {
            Ok(events) => events,
            // The stream is optional; a server without one says so with 405.
            Err(StreamableHttpError::ServerDoesNotSupportSse) => return,
            Err(error) => {
                tracing::debug!(uri = %self.uri, %error, "no standalone event stream");
                return;
            }
        };
        let reader = EventReader {
            client: &self.client,
            inbound: &self.inbound,
            uri: &self.uri,
            limits: self.limits,
            reconnect: &self.reconnect,
            session_id: self.session.id.clone(),
            headers: self.session.headers.clone(),
        };
        // Answers come here too: a server may answer a request on this stream once the request's
        // own stream is closed.
        let ended = reader
            .read(events, true, |data| {
                self.inbound.route(data);
                self.inbound.is_closed()
            })
            .await;
        if let StreamEnd::Ended(detail) = ended {
            tracing::debug!(uri = %self.uri, %detail, "the standalone event stream ended");
        }
    }
}

/// The session `initialize`'s `answer` opened: its id, and `MCP-Protocol-Version` for every later
/// message (the custom headers are the client's own).
fn session_headers(answer: &ServerJsonRpcMessage, session_id: Option<String>) -> SessionHeaders {
    let mut headers = HashMap::new();
    if let ServerJsonRpcMessage::Response(response) = answer
        && let ServerResult::InitializeResult(result) = &response.result
        && let Ok(value) = HeaderValue::from_str(result.protocol_version.as_str())
    {
        headers.insert(HeaderName::from_static("mcp-protocol-version"), value);
    }
    SessionHeaders {
        id: session_id.map(Arc::from),
        headers,
    }
}

fn is_initialize(message: &ClientJsonRpcMessage) -> bool {
    matches!(message, ClientJsonRpcMessage::Request(request)
        if matches!(request.request, ClientRequest::InitializeRequest(_)))
}

fn is_initialized(message: &ClientJsonRpcMessage) -> bool {
    matches!(message, ClientJsonRpcMessage::Notification(notification)
        if matches!(notification.notification, ClientNotification::InitializedNotification(_)))
}

/// The id of a request (not of a notification or an answer).
fn request_id(message: &ClientJsonRpcMessage) -> Option<RequestId> {
    match message {
        ClientJsonRpcMessage::Request(request) => Some(request.id.clone()),
        _ => None,
    }
}

/// Whether `message` means the same in a new session: requests and ordinary notifications. An
/// answer to a server's request or a cancellation belongs to the old session (request ids start
/// over in a new one), and `notifications/initialized` is sent by the re-initialization itself.
fn resendable(message: &ClientJsonRpcMessage) -> bool {
    match message {
        ClientJsonRpcMessage::Request(_) => true,
        ClientJsonRpcMessage::Notification(_) => {
            cancelled_request(message).is_none() && !is_initialized(message)
        }
        _ => false,
    }
}

/// The request a `notifications/cancelled` names.
fn cancelled_request(message: &ClientJsonRpcMessage) -> Option<&RequestId> {
    let ClientJsonRpcMessage::Notification(notification) = message else {
        return None;
    };
    let ClientNotification::CancelledNotification(cancelled) = &notification.notification else {
        return None;
    };
    cancelled.params.request_id.as_ref()
}

/// A server message from an event's data; `None` (skipped, as rmcp does) for a frame that is not one.
pub(super) fn parse_message(data: &str, uri: &str) -> Option<ServerJsonRpcMessage> {
    match serde_json::from_str(data) {
        Ok(message) => Some(message),
        Err(error) => {
            tracing::debug!(%uri, %error, "skipped an event that is not a JSON-RPC message");
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(json: &str) -> ClientJsonRpcMessage {
        serde_json::from_str(json).expect("a client message")
    }

    #[test]
    fn only_requests_and_ordinary_notifications_are_sent_again_in_a_new_session() {
        assert!(resendable(&message(
            r#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#
        )));
        assert!(resendable(&message(
            r#"{"jsonrpc":"2.0","method":"notifications/roots/list_changed"}"#
        )));
        assert!(!resendable(&message(
            r#"{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":1}}"#
        )));
        assert!(!resendable(&message(
            r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#
        )));
        assert!(!resendable(&message(
            r#"{"jsonrpc":"2.0","id":7,"result":{}}"#
        )));
    }
}
