//! Requests over streamable HTTP that skip rmcp's service loop: the caller's own task POSTs the
//! request into the session the transport established and reads the answer from the response (a
//! JSON body, or the POST's event stream).
//!
//! Why: through rmcp's `Peer`, one request crosses the service loop and a send task, each a
//! hand-off between tasks (often between cores), and its answer is parsed through rmcp's untagged
//! `ServerResult` union. Here the caller's task does the whole exchange, and the result is parsed
//! as the type its method names.
//!
//! The session stays the transport's: the handshake, the standalone stream, re-initialization
//! after the server forgets the session (a request that meets a 404 is handed back undelivered, for
//! rmcp's path, which re-initializes), `DELETE` at the end. Whatever else arrives on a direct
//! request's event stream goes where the session's [`Inbound`] router sends it: progress, logging
//! and the server's own requests (such as elicitation) to rmcp, exactly as if rmcp had read them,
//! and an answer to another direct request to that request. A stream that ends before the answer
//! is resumed with `Last-Event-ID`; an answer a server sends on another stream is taken too.
//!
//! A request that cannot be delivered here (no session yet, or a 404 for the session) fails with
//! `RequestError::NotDelivered`, for rmcp's path to carry. A timeout, or a caller that drops the
//! request, sends `notifications/cancelled` from a task of its own, if a runtime is there.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use bytes::Bytes;
use futures::FutureExt;
use rmcp::model::{ClientRequest, ServerResult};
use rmcp::transport::streamable_http_client::{StreamableHttpClient, StreamableHttpResponseLimits};

use super::events::{EventReader, Events, StreamEnd};
use super::inbound::{Inbound, Routed};
use super::reconnect::SseReconnectPolicy;
use super::streamable::{DirectResponse, Session, StreamableClient};
use crate::error::TransportError;
use crate::request::{
    Answer, DROPPED_REASON, Pending, RequestError, TIMEOUT_REASON, cancelled, direct_answer,
};

/// How long telling the server to cancel a request may take (rmcp's control-message limit).
const CANCEL_TIMEOUT: Duration = Duration::from_secs(5);

/// What every [`HttpDirectRequests`] handle of one transport shares.
pub(super) struct HttpDirect {
    client: StreamableClient,
    uri: Arc<str>,
    limits: StreamableHttpResponseLimits,
    reconnect: Arc<SseReconnectPolicy>,
    next_id: AtomicU64,
    inbound: Arc<Inbound>,
}

/// A handle for sending requests over streamable HTTP without going through rmcp's service loop.
/// Cheap to clone; get it from [`HttpTransport::direct_requests`](super::HttpTransport::direct_requests) before handing the transport to
/// rmcp, and use it only while rmcp serves that transport (it reads the session rmcp established,
/// and rmcp handles what the server sends besides the answers).
///
/// ```no_run
/// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
/// use std::time::Duration;
/// use mcp_transport::{HttpClient, HttpOptions};
/// use rmcp::model::{ClientRequest, ServerResult};
///
/// let http = HttpClient::new(HttpOptions::default())?;
/// let transport = http.transport("http://127.0.0.1:8080/mcp", None, Default::default())?;
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
pub struct HttpDirectRequests {
    shared: Arc<HttpDirect>,
}

impl std::fmt::Debug for HttpDirectRequests {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpDirectRequests")
            .field("uri", &self.shared.uri)
            .finish_non_exhaustive()
    }
}

impl HttpDirectRequests {
    pub(super) fn new(shared: Arc<HttpDirect>) -> Self {
        Self { shared }
    }

    /// The session's tools whose parameters are mirrored into headers (`x-mcp-header`): kept up to
    /// date by whoever lists the tools, read by every `tools/call`, direct or through rmcp.
    pub fn tool_headers(&self) -> &super::ToolHeaderMap {
        self.shared.client.tool_headers()
    }

    /// Sends `request` in the current session and waits at most `timeout` for its answer, which is
    /// parsed as the result type of the request's method (`tools/call` as `CallToolResult`, and so
    /// on; a method without a known result type as rmcp's `ServerResult` union).
    ///
    /// Dropping the future stops waiting, and the server is sent `notifications/cancelled` (if a
    /// runtime is still there to send it).
    ///
    /// # Errors
    /// [`RequestError::NotDelivered`] when the request did not reach the server and rmcp's own
    /// path should carry it (no session yet; the server forgot the session, which rmcp
    /// re-initializes); [`RequestError::Rpc`] for the server's JSON-RPC error;
    /// [`RequestError::Timeout`] (the server was told to cancel); [`RequestError::Transport`] when
    /// the exchange failed (HTTP status, credentials, the stream ended and could not be resumed) or
    /// the answer is not the result the method promises ([`TransportError::Protocol`]).
    pub async fn request(
        &self,
        request: ClientRequest,
        timeout: Duration,
    ) -> Result<ServerResult, RequestError> {
        let shared = &self.shared;
        let session = shared.client.session().ok_or_else(|| {
            RequestError::NotDelivered(TransportError::Protocol {
                detail: "the session is not initialized yet".to_owned(),
            })
        })?;
        let number = shared.next_id.fetch_add(1, Ordering::Relaxed);
        let (message, pending) = Pending::prepare(request, number);
        let body = serde_json::to_vec(&message).map_err(|error| TransportError::Protocol {
            detail: format!("could not encode a message: {error}"),
        })?;
        // From here until the exchange is over, dropping this future cancels the request.
        let mut in_flight = InFlight {
            shared: Arc::clone(shared),
            session: Arc::clone(&session),
            number,
            armed: true,
        };
        let exchange = shared.exchange(
            Bytes::from(body),
            &session,
            number,
            &pending.method,
            &mut in_flight.armed,
        );
        let outcome = tokio::time::timeout(timeout, exchange).await;
        match outcome {
            Ok(Ok(answer)) => {
                in_flight.armed = false;
                pending.finish(answer)
            }
            // Not delivered, or refused: nothing runs on the server.
            Ok(Err(error @ (RequestError::NotDelivered(_) | RequestError::Rpc { .. }))) => {
                in_flight.armed = false;
                Err(error)
            }
            // The server may still be working on it; `in_flight` tells it to stop.
            Ok(Err(error)) => Err(error),
            Err(_) => {
                in_flight.armed = false;
                in_flight.cancel(TIMEOUT_REASON);
                Err(RequestError::Timeout {
                    method: pending.method,
                    timeout,
                })
            }
        }
    }
}

impl HttpDirect {
    pub(super) fn new(
        client: StreamableClient,
        uri: Arc<str>,
        limits: StreamableHttpResponseLimits,
        reconnect: Arc<SseReconnectPolicy>,
        inbound: Arc<Inbound>,
    ) -> Arc<Self> {
        Arc::new(Self {
            client,
            uri,
            limits,
            reconnect,
            next_id: AtomicU64::new(1),
            inbound,
        })
    }

    /// POSTs the request and reads its answer from the response, or takes it from whichever other
    /// stream of the session brings it first (see [`Inbound`]). `may_be_running` is cleared when
    /// the POST failed in a way that means the server never took the request on (refused, no
    /// credentials, an error status): then there is nothing to cancel.
    async fn exchange(
        &self,
        body: Bytes,
        session: &Session,
        number: u64,
        method: &str,
        may_be_running: &mut bool,
    ) -> Result<Answer, RequestError> {
        // Registered before the POST, so no stream can bring the answer unnoticed.
        let mut waiting = self.inbound.expect_direct(number);
        let own = self.post_and_read(body, session, number, method, may_be_running);
        let outcome = tokio::select! {
            biased;
            Some(answer) = waiting.answer() => return Ok(answer),
            outcome = own => outcome,
        };
        match outcome {
            Ok(Some(answer)) => Ok(answer),
            // The stream carried the answer, which the router put in `waiting` before the reader
            // stopped.
            Ok(None) => waiting.arrived().ok_or_else(|| {
                RequestError::Transport(TransportError::Protocol {
                    detail: format!("{method}: the event stream ended before the answer"),
                })
            }),
            // A failure after the answer came elsewhere does not matter.
            Err(error) => waiting.arrived().ok_or(error),
        }
    }

    /// The request's own exchange: `Some` answer from a JSON body or an error status, `None` once
    /// its event stream carried the answer (routed to the request's [`DirectWait`](super::inbound::DirectWait)).
    async fn post_and_read(
        &self,
        body: Bytes,
        session: &Session,
        number: u64,
        method: &str,
        may_be_running: &mut bool,
    ) -> Result<Option<Answer>, RequestError> {
        let response = self
            .client
            .post_direct(&self.uri, body, session, self.limits)
            .await
            .inspect_err(|error| {
                // Only a timeout leaves open whether the server got it.
                *may_be_running = matches!(
                    error,
                    RequestError::Transport(TransportError::Timeout { .. })
                );
            })?;
        match response {
            DirectResponse::Error(error) => Ok(Some(Answer::Error(error))),
            DirectResponse::Json(body) => match direct_answer(&body) {
                Some((answered, answer)) if answered == number => Ok(Some(answer)),
                _ => Err(RequestError::Transport(TransportError::Protocol {
                    detail: format!(
                        "the server's JSON response to {method} is not its answer: {}",
                        crate::error::sanitised_excerpt(&body, 300)
                    ),
                })),
            },
            DirectResponse::Events(events) => self
                .read_events(events, session, number, method)
                .await
                .map(|()| None),
        }
    }

    /// Reads the request's event stream until it carries the answer, routing every message (the
    /// answer to the request's [`DirectWait`](super::inbound::DirectWait), others to rmcp or to the direct request they
    /// answer), and resumes the stream (`Last-Event-ID`) if it ends before the answer.
    async fn read_events(
        &self,
        events: Events,
        session: &Session,
        number: u64,
        method: &str,
    ) -> Result<(), RequestError> {
        let reader = EventReader {
            client: &self.client,
            inbound: &self.inbound,
            uri: &self.uri,
            limits: self.limits,
            reconnect: &self.reconnect,
            session_id: session.id.clone(),
            headers: session.headers.clone(),
        };
        let ended = reader
            .read(events, false, |data| {
                matches!(self.inbound.route(data), Routed::DirectAnswer(answered) if answered == number)
            })
            .await;
        match ended {
            StreamEnd::Answered => Ok(()),
            StreamEnd::Ended(TransportError::Protocol { detail }) => {
                Err(RequestError::Transport(TransportError::Protocol {
                    detail: format!("{method}: {detail}"),
                }))
            }
            StreamEnd::Ended(error) => Err(RequestError::Transport(error)),
        }
    }

    /// Tells the server to stop working on request `number` (best effort, from a task of its own).
    fn cancel_on_server(
        self: &Arc<Self>,
        session: &Arc<Session>,
        number: u64,
        reason: &'static str,
    ) {
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let shared = Arc::clone(self);
        let session = Arc::clone(session);
        runtime.spawn(async move {
            let send = shared
                .client
                .post_message_with_response_limits(
                    Arc::clone(&shared.uri),
                    cancelled(number, reason),
                    session.id.clone(),
                    None,
                    session.headers.clone(),
                    shared.limits,
                )
                .map(|result| result.map(drop));
            // Bounded, so the task never outlives a slow server by much.
            match tokio::time::timeout(CANCEL_TIMEOUT, send).await {
                Ok(Ok(())) => {}
                Ok(Err(error)) => {
                    tracing::debug!(uri = %shared.uri, %error, "could not send notifications/cancelled");
                }
                Err(_) => {
                    tracing::debug!(uri = %shared.uri, "notifications/cancelled got no answer in time");
                }
            }
        });
    }
}

/// A direct request whose server may still be working on it: dropped while armed, it sends
/// `notifications/cancelled`.
struct InFlight {
    shared: Arc<HttpDirect>,
    session: Arc<Session>,
    number: u64,
    armed: bool,
}

impl InFlight {
    fn cancel(&self, reason: &'static str) {
        self.shared
            .cancel_on_server(&self.session, self.number, reason);
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        if self.armed {
            self.cancel(DROPPED_REASON);
        }
    }
}
