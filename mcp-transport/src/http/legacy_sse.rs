//! The HTTP+SSE transport of protocol 2024-11-05, deprecated since 2025-03-26 and still served by
//! many deployed servers: one `GET` event stream carries everything the server sends, and every
//! client message is a `POST` to the endpoint the stream names.
//!
//! - **Opening** ([`HttpClient::legacy_sse`]): `GET` the SSE URL (`Accept: text/event-stream`), with
//!   this server's headers and credentials (an [`Authorizer`] gets its challenge on a 401 or 403,
//!   as over streamable HTTP), then read events until the `endpoint` event. Its data is resolved
//!   against the SSE URL and must stay on the same origin (scheme, host and port): a server may
//!   not send our messages, and our token, anywhere else. Events before it are ignored.
//! - **Receiving**: one task reads the rest of the stream; each `message` event (or an event with
//!   no name) is one JSON-RPC message, handed to rmcp through a bounded queue. An event larger
//!   than `max_sse_event_bytes` is refused before it is buffered. A message that is not JSON-RPC,
//!   or the end of the stream, ends the transport, and [`LegacySseTransport::close_reason`] says
//!   why; rmcp then fails every request still waiting.
//! - **Sending**: each message is `POST`ed to the endpoint as JSON; any 2xx (servers answer 202)
//!   is success and the answer arrives on the stream. A refusal is a typed error (the status, and
//!   an excerpt of the body).
//! - **Closing**: the protocol has no `DELETE`; dropping the transport (or `close`) ends the
//!   stream's task at once, which closes the connection, and the server ends the session.
//!
//! No direct requests: over this transport every answer arrives on the one stream rmcp reads, so
//! a request sent past rmcp would need its answer routed out of rmcp's stream; requests go through
//! rmcp's service loop instead.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use bytes::Bytes;
use futures::StreamExt;
use futures::stream::BoxStream;
use http::header::CONTENT_TYPE;
use http::{Method, StatusCode};
use rmcp::model::{ClientJsonRpcMessage, ServerJsonRpcMessage};
use rmcp::service::RoleClient;
use rmcp::transport::Transport;
use rmcp::transport::streamable_http_client::{SseError, StreamableHttpResponseLimits};
use sse_stream::Sse;
use tokio::sync::mpsc;
use tokio::task::AbortHandle;

use super::HttpTransportOptions;
use super::client::HttpClient;
use super::response::{auth_failure, media_type_is, read_prefix, status_failure};
use super::sse_limit::{bounded_sse, event_too_large};
use super::streamable::StreamableClient;
use crate::auth::Authorizer;
use crate::error::{TimeoutPhase, TransportError, sanitised_excerpt};

const EVENT_STREAM: &str = "text/event-stream";
/// How many received messages may wait for rmcp before the stream's reader waits too.
const QUEUE: usize = 256;
/// The most of a `POST`'s success body read (and dropped), so its connection can be reused.
const MAX_ACCEPTED_BODY: usize = 64 * 1024;
/// The longest endpoint quoted in an error.
const ENDPOINT_CHARS: usize = 200;

/// A connection to a server of the HTTP+SSE transport (protocol 2024-11-05), for rmcp to run a
/// client session on: one `GET` event stream carries what the server sends, each message is
/// `POST`ed to the endpoint the stream names (see [`HttpClient::legacy_sse`]).
#[derive(Debug)]
pub struct LegacySseTransport {
    client: StreamableClient,
    endpoint: Arc<str>,
    from_server: mpsc::Receiver<ServerJsonRpcMessage>,
    reader: AbortHandle,
    close_reason: Arc<Mutex<Option<TransportError>>>,
    timeout: Duration,
}

impl HttpClient {
    /// Opens a legacy HTTP+SSE connection: `GET url` and waits for the `endpoint` event, at most
    /// the client's `request_timeout`.
    ///
    /// # Errors
    /// A refused or failed `GET` (with the status and a body excerpt, or an authorization error),
    /// a response that is not an event stream, a stream that ends or says nothing usable before
    /// naming its endpoint, an endpoint on another origin, or the timeout.
    pub async fn legacy_sse(
        &self,
        url: &str,
        authorizer: Option<Arc<dyn Authorizer>>,
        options: HttpTransportOptions,
    ) -> Result<LegacySseTransport, TransportError> {
        let base = url::Url::parse(url)
            .ok()
            .filter(|base| matches!(base.scheme(), "http" | "https") && base.has_host())
            .ok_or_else(|| TransportError::Protocol {
                detail: format!("the server URL {url:?} is not an http:// or https:// URL"),
            })?;
        let timeout = self.options().request_timeout;
        let client = self.streamable(authorizer, options.headers);
        let limits = options_limits(options.max_sse_event_bytes, options.max_json_response_bytes);
        let response = client
            .send_plain(Method::GET, url, Some(EVENT_STREAM), Bytes::new(), timeout)
            .await
            .map_err(TransportError::from_streamable)?;
        if let Some(refused) = auth_failure(&response) {
            return Err(TransportError::from_streamable(refused));
        }
        if !response.status().is_success() {
            return Err(refusal(response, limits, timeout).await);
        }
        if !media_type_is(response.headers().get(CONTENT_TYPE), EVENT_STREAM) {
            let found = response
                .headers()
                .get(CONTENT_TYPE)
                .map(|value| sanitised_excerpt(value.as_bytes(), 80))
                .unwrap_or_else(|| "none".to_owned());
            return Err(TransportError::Protocol {
                detail: format!(
                    "GET {url} answered with content type {found}, not an SSE event stream (text/event-stream)"
                ),
            });
        }
        let mut events = bounded_sse(response.into_body(), options.max_sse_event_bytes);
        let endpoint = tokio::time::timeout(timeout, endpoint_event(&mut events, &base))
            .await
            .map_err(|_| TransportError::Timeout {
                phase: TimeoutPhase::Connect,
                after: timeout,
            })??;
        let (to_rmcp, from_server) = mpsc::channel(QUEUE);
        let close_reason = Arc::new(Mutex::new(None));
        let reader = tokio::spawn(read_messages(events, to_rmcp, Arc::clone(&close_reason)));
        tracing::debug!(%url, %endpoint, "legacy HTTP+SSE stream open");
        Ok(LegacySseTransport {
            client,
            endpoint: endpoint.as_str().into(),
            from_server,
            reader: reader.abort_handle(),
            close_reason,
            timeout,
        })
    }
}

impl LegacySseTransport {
    /// Where messages are `POST`ed: the endpoint the server named, resolved against the SSE URL.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// Why the server's stream ended, once it has: the stream closed by the server, a failed
    /// read, an event too large, or a message that is not JSON-RPC. A handle that stays valid
    /// after the transport is handed to rmcp.
    pub fn close_reason(&self) -> SseCloseReason {
        SseCloseReason(Arc::clone(&self.close_reason))
    }
}

/// Why a [`LegacySseTransport`]'s stream ended; readable after rmcp took the transport.
#[derive(Debug, Clone)]
pub struct SseCloseReason(Arc<Mutex<Option<TransportError>>>);

impl SseCloseReason {
    /// The reason, once the stream has ended (`None` while it is open, or after our own close).
    pub fn get(&self) -> Option<TransportError> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

impl Drop for LegacySseTransport {
    fn drop(&mut self) {
        self.reader.abort();
    }
}

impl Transport<RoleClient> for LegacySseTransport {
    type Error = TransportError;

    fn name() -> std::borrow::Cow<'static, str> {
        "legacy-sse".into()
    }

    fn send(
        &mut self,
        message: ClientJsonRpcMessage,
    ) -> impl Future<Output = Result<(), Self::Error>> + Send + 'static {
        let client = self.client.clone();
        let endpoint = Arc::clone(&self.endpoint);
        let timeout = self.timeout;
        async move { post(&client, &endpoint, &message, timeout).await }
    }

    async fn receive(&mut self) -> Option<ServerJsonRpcMessage> {
        // A channel receive only: a `select!` that drops this future loses nothing.
        self.from_server.recv().await
    }

    async fn close(&mut self) -> Result<(), Self::Error> {
        self.reader.abort();
        self.from_server.close();
        Ok(())
    }
}

/// `POST`s one message to the endpoint; a 2xx is delivery, the answer comes on the stream.
async fn post(
    client: &StreamableClient,
    endpoint: &str,
    message: &ClientJsonRpcMessage,
    timeout: Duration,
) -> Result<(), TransportError> {
    let body = serde_json::to_vec(message).map_err(|error| TransportError::Protocol {
        detail: format!("could not serialise a message: {error}"),
    })?;
    let response = client
        .send_plain(Method::POST, endpoint, None, Bytes::from(body), timeout)
        .await
        .map_err(TransportError::from_streamable)?;
    if let Some(refused) = auth_failure(&response) {
        return Err(TransportError::from_streamable(refused));
    }
    let status = response.status();
    if status.is_success() {
        // Read to its end (servers send "Accepted" or nothing) so the connection can be reused.
        let _ = read_prefix(response, MAX_ACCEPTED_BODY, timeout).await;
        return Ok(());
    }
    if status == StatusCode::NOT_FOUND {
        tracing::debug!(%endpoint, "the server no longer knows the SSE session");
    }
    Err(refusal(response, StreamableHttpResponseLimits::default(), timeout).await)
}

/// A non-success response as a typed error, with the status and a body excerpt.
async fn refusal(
    response: http::Response<hyper::body::Incoming>,
    limits: StreamableHttpResponseLimits,
    timeout: Duration,
) -> TransportError {
    let status = response.status().as_u16();
    match status_failure(response, None, false, limits, timeout).await {
        Err(error) => TransportError::from_streamable(error),
        // A JSON-RPC error sent with an error status, for a message that is not a request.
        Ok(_) => TransportError::HttpStatus {
            status,
            retry_after: None,
            body_excerpt: String::new(),
        },
    }
}

fn options_limits(max_sse: usize, max_json: usize) -> StreamableHttpResponseLimits {
    let mut limits = StreamableHttpResponseLimits::default();
    limits.max_sse_event_size = max_sse;
    limits.max_json_response_size = max_json;
    limits
}

/// Reads events until the `endpoint` event, and returns the URL it names.
async fn endpoint_event(
    events: &mut BoxStream<'static, Result<Sse, SseError>>,
    base: &url::Url,
) -> Result<url::Url, TransportError> {
    while let Some(event) = events.next().await {
        let event = event.map_err(|error| stream_failure(&error))?;
        if event.event.as_deref() != Some("endpoint") {
            continue;
        }
        let data = event.data.unwrap_or_default();
        let shown = sanitised_excerpt(data.as_bytes(), ENDPOINT_CHARS);
        let endpoint = base
            .join(data.trim())
            .map_err(|error| TransportError::Protocol {
                detail: format!("the endpoint event names {shown:?}, which is not a URL: {error}"),
            })?;
        if endpoint.origin() != base.origin() {
            return Err(TransportError::Protocol {
                detail: format!(
                    "the endpoint event names {shown:?}, on another origin than the SSE URL; \
                     messages (and credentials) are only sent to the server's own origin"
                ),
            });
        }
        return Ok(endpoint);
    }
    Err(TransportError::Protocol {
        detail: "the SSE stream ended before an endpoint event".to_owned(),
    })
}

/// Hands every `message` event to rmcp until the stream ends, and records why it ended.
async fn read_messages(
    mut events: BoxStream<'static, Result<Sse, SseError>>,
    to_rmcp: mpsc::Sender<ServerJsonRpcMessage>,
    close_reason: Arc<Mutex<Option<TransportError>>>,
) {
    let reason = loop {
        let event = match events.next().await {
            Some(Ok(event)) => event,
            Some(Err(error)) => break stream_failure(&error),
            None => {
                break TransportError::Protocol {
                    detail: "the server closed the SSE stream".to_owned(),
                };
            }
        };
        if !matches!(event.event.as_deref(), None | Some("message")) {
            continue;
        }
        let Some(data) = event.data else { continue };
        match serde_json::from_str::<ServerJsonRpcMessage>(&data) {
            Ok(message) => {
                if to_rmcp.send(message).await.is_err() {
                    // rmcp is gone: nothing to report to anyone.
                    return;
                }
            }
            Err(error) => {
                break TransportError::Protocol {
                    detail: format!(
                        "the server sent a message that is not JSON-RPC ({error}): {}",
                        sanitised_excerpt(data.as_bytes(), 200)
                    ),
                };
            }
        }
    };
    tracing::debug!(%reason, "legacy HTTP+SSE stream ended");
    *close_reason.lock().unwrap_or_else(PoisonError::into_inner) = Some(reason);
    // Dropping the sender ends rmcp's receive, which fails the requests still waiting.
}

fn stream_failure(error: &SseError) -> TransportError {
    match event_too_large(error) {
        Some(limit) => TransportError::MessageTooLarge {
            what: "an SSE event",
            limit,
        },
        None => TransportError::Protocol {
            detail: format!("reading the SSE stream failed: {error}"),
        },
    }
}
