//! rmcp's `StreamableHttpClient` on our shared hyper client: building requests, credentials, the
//! session direct requests join. Reading what comes back is [`response`](super::response) (status
//! mapping, bounded bodies) and [`sse_limit`](super::sse_limit) (bounded events).
//!
//! Credentials come from the [`Authorizer`], which gets one chance per request to supply a new
//! token after a challenge: once after a 401 and once after a 403 (a login can be followed by a
//! step-up); the next refusal is the answer. A DPoP-bound token goes with a fresh proof on every
//! request; a 401 `use_dpop_nonce` that brings a `DPoP-Nonce` is answered by sending the request
//! once more with a proof carrying it, a retry of its own that does not use up the 401's. The client also remembers the session rmcp's
//! `notifications/initialized` was posted in, which direct requests join.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use bytes::Bytes;
use futures::stream::BoxStream;
use http::header::{ACCEPT, CONTENT_TYPE};
use http::{HeaderMap, HeaderName, HeaderValue, Method, Request, Response, StatusCode};
use http_body_util::Full;
use hyper::body::Incoming;
use rmcp::model::{
    ClientJsonRpcMessage, ClientNotification, ClientRequest, ErrorData, GetMeta,
    ServerJsonRpcMessage,
};
use rmcp::transport::streamable_http_client::{
    SseError, StreamableHttpClient, StreamableHttpError, StreamableHttpPostResponse,
    StreamableHttpResponseLimits,
};
use sse_stream::Sse;

use super::client::HttpClient;
use super::param_headers::ToolHeaderMap;
use super::response::{
    asks_for_dpop_nonce, auth_failure, bearer_challenge, media_type_is, parse_retry_after,
    read_bounded, session_id_of, status_failure,
};
use super::sse_limit::bounded_sse;
use super::standard_headers::message_headers;
use crate::auth::{AuthChallenge, Authorizer, ChallengeOutcome, Credential};
use crate::error::{TimeoutPhase, TransportError, sanitised_excerpt};
use crate::request::RequestError;

pub(super) const SESSION_ID: &str = "mcp-session-id";
/// The response header carrying a server's DPoP nonce (RFC 9449 §8.1); the proof's own header is
/// [`Credential::headers`]'s.
const DPOP_NONCE: &str = "dpop-nonce";
const LAST_EVENT_ID: &str = "last-event-id";
const EVENT_STREAM: &str = "text/event-stream";
pub(super) const JSON: &str = "application/json";
/// Headers rmcp manages itself; a custom header may not replace them.
const RESERVED: &[&str] = &["accept", SESSION_ID, LAST_EVENT_ID];
/// The longest excerpt of an error body quoted in an error.
pub(super) const EXCERPT_CHARS: usize = 300;

pub(super) type HttpResult<T> = Result<T, StreamableHttpError<TransportError>>;

/// The per-server face of the shared [`HttpClient`]: what [`HttpTransport`](super::HttpTransport)
/// (and rmcp's own transport) runs on. It adds this server's credentials ([`Authorizer`]) and default
/// headers. Cheap to clone.
#[derive(Clone, Debug)]
pub struct StreamableClient {
    http: HttpClient,
    authorizer: Option<Arc<dyn Authorizer>>,
    headers: Arc<HeaderMap>,
    session: Arc<SessionCapture>,
    /// The session's tools whose parameters are mirrored into headers (`x-mcp-header`).
    tool_headers: ToolHeaderMap,
}

/// The session rmcp established, as its `notifications/initialized` carried it: what a direct
/// request needs to be part of the same session.
#[derive(Debug)]
pub(super) struct Session {
    /// `Mcp-Session-Id`; `None` for a stateless server.
    pub(super) id: Option<Arc<str>>,
    /// The headers rmcp sends with every message of the session (`MCP-Protocol-Version`, and the
    /// custom ones).
    pub(super) headers: HashMap<HeaderName, HeaderValue>,
}

/// The header that names a message's protocol revision.
const PROTOCOL_VERSION: HeaderName = HeaderName::from_static("mcp-protocol-version");

/// The latest [`Session`], replaced whenever rmcp (re-)initializes.
#[derive(Debug, Default)]
struct SessionCapture(Mutex<Option<Arc<Session>>>);

/// What a direct request's POST brought back, before its events are read.
pub(super) enum DirectResponse {
    /// A JSON body, unparsed.
    Json(Vec<u8>),
    /// An SSE stream.
    Events(BoxStream<'static, Result<Sse, SseError>>),
    /// A JSON-RPC error sent with an HTTP error status.
    Error(ErrorData),
}

impl HttpClient {
    /// A client for one server, authorizing through `authorizer` (if any) and adding `headers` to
    /// every request.
    pub fn streamable(
        &self,
        authorizer: Option<Arc<dyn Authorizer>>,
        headers: HeaderMap,
    ) -> StreamableClient {
        StreamableClient {
            http: self.clone(),
            authorizer,
            headers: Arc::new(headers),
            session: Arc::default(),
            tool_headers: ToolHeaderMap::default(),
        }
    }
}

/// One request, rebuilt as often as a credential retry needs.
struct Outgoing<'a> {
    method: Method,
    uri: &'a str,
    accept: Option<&'static str>,
    session_id: Option<&'a str>,
    last_event_id: Option<&'a str>,
    custom_headers: &'a HashMap<HeaderName, HeaderValue>,
    body: Bytes,
    timeout: Duration,
    /// Whether a 401/403 may ask the authorizer for a new token (never to end a session, or to
    /// cancel a request: those are not worth a sign-in).
    challenge: bool,
}

impl StreamableClient {
    /// The declarations of the session's tools whose parameters go into `Mcp-Param-*` headers;
    /// whoever lists the tools keeps them up to date ([`ToolHeaderMap::replace`]).
    pub fn tool_headers(&self) -> &ToolHeaderMap {
        &self.tool_headers
    }

    /// The session rmcp established, once it has sent `notifications/initialized`.
    pub(super) fn session(&self) -> Option<Arc<Session>> {
        self.session
            .0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Remembers the session `message` belongs to if it is the handshake's last message: from then
    /// on direct requests may join the session.
    fn capture_session(
        &self,
        message: &ClientJsonRpcMessage,
        session_id: &Option<Arc<str>>,
        headers: &HashMap<HeaderName, HeaderValue>,
    ) {
        let opens_session = match message {
            ClientJsonRpcMessage::Notification(notification) => matches!(
                notification.notification,
                ClientNotification::InitializedNotification(_)
            ),
            // The modern era has no handshake and no session: its first ordinary request (after
            // `server/discover`) carries the headers every later one needs, the protocol version
            // among them. Taken once, and again only if the version changes.
            ClientJsonRpcMessage::Request(request) => {
                !matches!(request.request, ClientRequest::DiscoverRequest(_))
                    && session_id.is_none()
                    && request.request.get_meta().protocol_version().is_some()
                    && self.session().is_none_or(|session| {
                        session.headers.get(&PROTOCOL_VERSION) != headers.get(&PROTOCOL_VERSION)
                    })
            }
            _ => false,
        };
        if !opens_session {
            return;
        }
        let session = Session {
            id: session_id.clone(),
            headers: headers.clone(),
        };
        *self
            .session
            .0
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some(Arc::new(session));
    }

    /// POSTs a direct request's `body` as part of `session`, and returns what came back; the
    /// answer is read by the caller.
    pub(super) async fn post_direct(
        &self,
        uri: &str,
        body: Bytes,
        session: &Session,
        limits: StreamableHttpResponseLimits,
    ) -> Result<DirectResponse, RequestError> {
        let lost = |error| RequestError::Transport(super::TransportError::from_streamable(error));
        let timeout = self.http.options().request_timeout;
        let outgoing = Outgoing {
            method: Method::POST,
            uri,
            accept: Some("application/json, text/event-stream"),
            session_id: session.id.as_deref(),
            last_event_id: None,
            custom_headers: &session.headers,
            body,
            timeout,
            challenge: true,
        };
        let response = self.exchange(&outgoing, &None).await.map_err(lost)?;
        if let Some(error) = auth_failure(&response) {
            return Err(lost(error));
        }
        let status = response.status();
        if status == StatusCode::NOT_FOUND && session.id.is_some() {
            // The server forgot the session; rmcp re-initializes it.
            return Err(RequestError::NotDelivered(TransportError::SessionExpired));
        }
        if matches!(status, StatusCode::ACCEPTED | StatusCode::NO_CONTENT) {
            return Err(RequestError::Transport(TransportError::Protocol {
                detail: format!("the server answered a request with HTTP {status} and no result"),
            }));
        }
        if !status.is_success() {
            return match status_failure(response, None, session.id.is_some(), limits, timeout).await
            {
                Ok(StreamableHttpPostResponse::Json(ServerJsonRpcMessage::Error(error), _)) => {
                    Ok(DirectResponse::Error(error.error))
                }
                Ok(_) => Err(RequestError::Transport(TransportError::HttpStatus {
                    status: status.as_u16(),
                    retry_after: None,
                    body_excerpt: String::new(),
                })),
                Err(error) => Err(lost(error)),
            };
        }
        let content_type = response.headers().get(CONTENT_TYPE);
        if media_type_is(content_type, EVENT_STREAM) {
            return Ok(DirectResponse::Events(bounded_sse(
                response.into_body(),
                limits.max_sse_event_size,
            )));
        }
        if media_type_is(content_type, JSON) {
            let body = read_bounded(response, limits.max_json_response_size, timeout)
                .await
                .map_err(lost)?;
            return Ok(DirectResponse::Json(body));
        }
        Err(lost(StreamableHttpError::UnexpectedContentType(
            content_type.map(|value| String::from_utf8_lossy(value.as_bytes()).into_owned()),
        )))
    }

    /// Sends a request outside any streamable session (the legacy SSE transport's `GET` and
    /// `POST`s), with this server's headers and credentials: a 401 or 403 gives the authorizer its
    /// one chance each, as for every other request.
    pub(super) async fn send_plain(
        &self,
        method: Method,
        uri: &str,
        accept: Option<&'static str>,
        body: Bytes,
        timeout: Duration,
    ) -> HttpResult<Response<Incoming>> {
        let no_session_headers = HashMap::new();
        let outgoing = Outgoing {
            method,
            uri,
            accept,
            session_id: None,
            last_event_id: None,
            custom_headers: &no_session_headers,
            body,
            timeout,
            challenge: true,
        };
        self.exchange(&outgoing, &None).await
    }

    /// The credential to send: the authorizer's if there is one, else rmcp's configured token.
    async fn credential(&self, configured: &Option<String>) -> HttpResult<Option<Credential>> {
        match &self.authorizer {
            Some(authorizer) => authorizer
                .credential()
                .await
                .map_err(StreamableHttpError::Client),
            None => Ok(configured.clone().map(Credential::bearer)),
        }
    }

    /// Sends the request; on 401/403 asks the authorizer once whether a new token is worth a retry.
    async fn exchange(
        &self,
        outgoing: &Outgoing<'_>,
        configured_token: &Option<String>,
    ) -> HttpResult<Response<Incoming>> {
        // Read from the body once, not for each credential retry.
        let message_headers = if outgoing.method == Method::POST && !outgoing.body.is_empty() {
            message_headers(&outgoing.body, &self.tool_headers)
        } else {
            Vec::new()
        };
        // One retry after a 401 and one after a 403: a login can be followed by a step-up. And
        // one for a DPoP nonce, which says nothing about the token.
        let (mut asked_401, mut asked_403, mut sent_nonce) = (false, false, false);
        loop {
            let credential = self.credential(configured_token).await?;
            let request = self.build(outgoing, &message_headers, credential.as_ref())?;
            let response = self
                .http
                .send(request, outgoing.timeout)
                .await
                .map_err(StreamableHttpError::Client)?;
            let status = response.status();
            let signer = credential.as_ref().and_then(Credential::dpop_signer);
            // A server may hand out its next nonce on any response (RFC 9449 §8.2).
            let nonce = response
                .headers()
                .get(DPOP_NONCE)
                .and_then(|value| value.to_str().ok());
            if let (Some(signer), Some(nonce)) = (signer, nonce) {
                signer.nonce(nonce);
                if status == StatusCode::UNAUTHORIZED
                    && !sent_nonce
                    && asks_for_dpop_nonce(response.headers())
                {
                    sent_nonce = true;
                    continue;
                }
            }
            let token = credential.map(|credential| credential.token().to_owned());
            let Some(authorizer) = &self.authorizer else {
                return Ok(response);
            };
            if status.is_success() {
                if let Some(token) = &token {
                    authorizer.accepted(token);
                }
                return Ok(response);
            }
            let asked = match status {
                StatusCode::UNAUTHORIZED => &mut asked_401,
                StatusCode::FORBIDDEN => &mut asked_403,
                _ => return Ok(response),
            };
            if *asked || !outgoing.challenge {
                return Ok(response);
            }
            let Some(refused) = auth_failure(&response) else {
                return Ok(response);
            };
            *asked = true;
            let challenge = AuthChallenge {
                status: status.as_u16(),
                challenge: bearer_challenge(response.headers()),
                rejected_token: token,
            };
            // The refused response is dropped before a flow that may take minutes, so its
            // connection goes back to the pool.
            drop(response);
            match authorizer.on_challenge(&challenge).await {
                Ok(ChallengeOutcome::RetryWithNewToken) => continue,
                Ok(ChallengeOutcome::Fail) => return Err(refused),
                Err(error) => return Err(StreamableHttpError::Client(error)),
            }
        }
    }

    fn build(
        &self,
        outgoing: &Outgoing<'_>,
        message_headers: &[(HeaderName, HeaderValue)],
        credential: Option<&Credential>,
    ) -> HttpResult<Request<Full<Bytes>>> {
        let mut builder = Request::builder()
            .method(outgoing.method.clone())
            .uri(outgoing.uri);
        let headers = builder
            .headers_mut()
            .ok_or_else(|| invalid_uri(outgoing.uri))?;
        for (name, value) in self.headers.iter() {
            headers.insert(name.clone(), value.clone());
        }
        for (name, value) in outgoing.custom_headers {
            if RESERVED
                .iter()
                .any(|reserved| name.as_str().eq_ignore_ascii_case(reserved))
            {
                return Err(StreamableHttpError::ReservedHeaderConflict(
                    name.to_string(),
                ));
            }
            headers.insert(name.clone(), value.clone());
        }
        if let Some(accept) = outgoing.accept {
            headers.insert(ACCEPT, HeaderValue::from_static(accept));
        }
        if !outgoing.body.is_empty() {
            headers.insert(CONTENT_TYPE, HeaderValue::from_static(JSON));
            for (name, value) in message_headers {
                headers.insert(name.clone(), value.clone());
            }
        }
        if let Some(credential) = credential {
            // A fresh DPoP proof for every send, retries included.
            let presented = credential
                .headers(&outgoing.method, outgoing.uri)
                .map_err(StreamableHttpError::Client)?;
            for (name, value) in presented {
                headers.insert(name, value);
            }
        }
        if let Some(session_id) = outgoing.session_id {
            headers.insert(SESSION_ID, header_value(session_id, "session id")?);
        }
        if let Some(last_event_id) = outgoing.last_event_id {
            headers.insert(LAST_EVENT_ID, header_value(last_event_id, "event id")?);
        }
        builder
            .body(Full::new(outgoing.body.clone()))
            .map_err(|_| invalid_uri(outgoing.uri))
    }
}

fn is_cancellation(message: &ClientJsonRpcMessage) -> bool {
    matches!(message, ClientJsonRpcMessage::Notification(notification)
        if matches!(notification.notification, ClientNotification::CancelledNotification(_)))
}

fn header_value(value: &str, what: &str) -> HttpResult<HeaderValue> {
    HeaderValue::from_str(value).map_err(|_| {
        StreamableHttpError::Client(TransportError::Protocol {
            detail: format!("the server's {what} is not a valid header value"),
        })
    })
}

fn invalid_uri(uri: &str) -> StreamableHttpError<TransportError> {
    StreamableHttpError::Client(TransportError::Protocol {
        detail: format!("invalid server URL {uri:?}"),
    })
}

impl StreamableHttpClient for StreamableClient {
    type Error = TransportError;

    async fn post_message(
        &self,
        uri: Arc<str>,
        message: ClientJsonRpcMessage,
        session_id: Option<Arc<str>>,
        auth_header: Option<String>,
        custom_headers: HashMap<HeaderName, HeaderValue>,
    ) -> HttpResult<StreamableHttpPostResponse> {
        self.post_message_with_response_limits(
            uri,
            message,
            session_id,
            auth_header,
            custom_headers,
            StreamableHttpResponseLimits::default(),
        )
        .await
    }

    async fn post_message_with_max_sse_event_size(
        &self,
        uri: Arc<str>,
        message: ClientJsonRpcMessage,
        session_id: Option<Arc<str>>,
        auth_header: Option<String>,
        custom_headers: HashMap<HeaderName, HeaderValue>,
        max_sse_event_size: usize,
    ) -> HttpResult<StreamableHttpPostResponse> {
        let mut limits = StreamableHttpResponseLimits::default();
        limits.max_sse_event_size = max_sse_event_size;
        self.post_message_with_response_limits(
            uri,
            message,
            session_id,
            auth_header,
            custom_headers,
            limits,
        )
        .await
    }

    fn post_message_with_response_limits(
        &self,
        uri: Arc<str>,
        message: ClientJsonRpcMessage,
        session_id: Option<Arc<str>>,
        auth_header: Option<String>,
        custom_headers: HashMap<HeaderName, HeaderValue>,
        limits: StreamableHttpResponseLimits,
    ) -> impl Future<Output = HttpResult<StreamableHttpPostResponse>> + Send + '_ {
        // Boxed: the tasks reading a session's streams hold this future inside their own state
        // for the whole session, so its size is paid per session even while idle.
        Box::pin(async move {
            let body = serde_json::to_vec(&message).map_err(StreamableHttpError::Deserialize)?;
            let timeout = self.http.options().request_timeout;
            let outgoing = Outgoing {
                method: Method::POST,
                uri: &uri,
                accept: Some("application/json, text/event-stream"),
                session_id: session_id.as_deref(),
                last_event_id: None,
                custom_headers: &custom_headers,
                body: Bytes::from(body),
                timeout,
                // Telling a server to stop a request is not worth a sign-in.
                challenge: !is_cancellation(&message),
            };
            let response = self.exchange(&outgoing, &auth_header).await?;
            let status = response.status();
            if let Some(error) = auth_failure(&response) {
                return Err(error);
            }
            if status.is_success() {
                self.capture_session(&message, &session_id, &custom_headers);
            }
            if matches!(status, StatusCode::ACCEPTED | StatusCode::NO_CONTENT) {
                return Ok(StreamableHttpPostResponse::Accepted);
            }
            let session_was_attached = session_id.is_some();
            if status == StatusCode::NOT_FOUND && session_was_attached {
                return Err(StreamableHttpError::SessionExpired);
            }
            if !status.is_success() {
                return status_failure(
                    response,
                    Some(&message),
                    session_was_attached,
                    limits,
                    timeout,
                )
                .await;
            }
            let awaits_no_response = !matches!(message, ClientJsonRpcMessage::Request(_));
            let content_type = response.headers().get(CONTENT_TYPE).cloned();
            let new_session_id = session_id_of(&response);
            if media_type_is(content_type.as_ref(), EVENT_STREAM) {
                let events = bounded_sse(response.into_body(), limits.max_sse_event_size);
                return Ok(StreamableHttpPostResponse::Sse(events, new_session_id));
            }
            if media_type_is(content_type.as_ref(), JSON) {
                let body = read_bounded(response, limits.max_json_response_size, timeout).await?;
                return match serde_json::from_slice::<ServerJsonRpcMessage>(&body) {
                    Ok(parsed) => Ok(StreamableHttpPostResponse::Json(parsed, new_session_id)),
                    // Nothing waits for an answer to a notification: an odd body is harmless.
                    Err(_) if awaits_no_response => Ok(StreamableHttpPostResponse::Accepted),
                    Err(error) => Err(StreamableHttpError::UnexpectedServerResponse(Cow::Owned(
                        format!(
                            "the response is not a JSON-RPC message ({error}): {}",
                            sanitised_excerpt(&body, EXCERPT_CHARS)
                        ),
                    ))),
                };
            }
            if awaits_no_response {
                return Ok(StreamableHttpPostResponse::Accepted);
            }
            Err(StreamableHttpError::UnexpectedContentType(
                content_type.map(|value| String::from_utf8_lossy(value.as_bytes()).into_owned()),
            ))
        })
    }

    async fn delete_session(
        &self,
        uri: Arc<str>,
        session_id: Arc<str>,
        auth_header: Option<String>,
        custom_headers: HashMap<HeaderName, HeaderValue>,
    ) -> HttpResult<()> {
        let timeout = self.http.options().close_timeout;
        let outgoing = Outgoing {
            method: Method::DELETE,
            uri: &uri,
            accept: None,
            session_id: Some(&session_id),
            last_event_id: None,
            custom_headers: &custom_headers,
            body: Bytes::new(),
            timeout,
            // Ending a session never starts a sign-in: the session is over either way.
            challenge: false,
        };
        let response =
            self.exchange(&outgoing, &auth_header)
                .await
                .map_err(|error| match error {
                    StreamableHttpError::Client(TransportError::Timeout { after, .. }) => {
                        StreamableHttpError::Client(TransportError::Timeout {
                            phase: TimeoutPhase::CloseSession,
                            after,
                        })
                    }
                    other => other,
                })?;
        let status = response.status();
        // 405: the server does not let clients end sessions; 404: it already forgot this one.
        if status.is_success()
            || matches!(
                status,
                StatusCode::METHOD_NOT_ALLOWED | StatusCode::NOT_FOUND
            )
        {
            return Ok(());
        }
        Err(StreamableHttpError::Client(TransportError::HttpStatus {
            status: status.as_u16(),
            retry_after: parse_retry_after(response.headers()),
            body_excerpt: String::new(),
        }))
    }

    async fn get_stream(
        &self,
        uri: Arc<str>,
        session_id: Option<Arc<str>>,
        last_event_id: Option<String>,
        auth_header: Option<String>,
        custom_headers: HashMap<HeaderName, HeaderValue>,
    ) -> HttpResult<BoxStream<'static, Result<Sse, SseError>>> {
        self.get_stream_with_max_sse_event_size(
            uri,
            session_id,
            last_event_id,
            auth_header,
            custom_headers,
            StreamableHttpResponseLimits::default().max_sse_event_size,
        )
        .await
    }

    fn get_stream_with_max_sse_event_size(
        &self,
        uri: Arc<str>,
        session_id: Option<Arc<str>>,
        last_event_id: Option<String>,
        auth_header: Option<String>,
        custom_headers: HashMap<HeaderName, HeaderValue>,
        max_sse_event_size: usize,
    ) -> impl Future<Output = HttpResult<BoxStream<'static, Result<Sse, SseError>>>> + Send + '_
    {
        // Boxed: the tasks reading a session's streams hold this future inside their own state
        // for the whole session, so its size is paid per session even while idle.
        Box::pin(async move {
            let timeout = self.http.options().request_timeout;
            let outgoing = Outgoing {
                method: Method::GET,
                uri: &uri,
                accept: Some("text/event-stream"),
                session_id: session_id.as_deref(),
                last_event_id: last_event_id.as_deref(),
                custom_headers: &custom_headers,
                body: Bytes::new(),
                timeout,
                challenge: true,
            };
            let response = self.exchange(&outgoing, &auth_header).await?;
            let status = response.status();
            if let Some(error) = auth_failure(&response) {
                return Err(error);
            }
            // A session the server forgot is expired, on GET as on POST.
            if status == StatusCode::NOT_FOUND && session_id.is_some() {
                return Err(StreamableHttpError::SessionExpired);
            }
            // The standalone stream is optional: 405 (and 400/404 from servers that only speak POST)
            // means the server has none.
            if status == StatusCode::METHOD_NOT_ALLOWED
                || (last_event_id.is_none()
                    && matches!(status, StatusCode::BAD_REQUEST | StatusCode::NOT_FOUND))
            {
                return Err(StreamableHttpError::ServerDoesNotSupportSse);
            }
            if !status.is_success() {
                let limits = StreamableHttpResponseLimits::default();
                return match status_failure(response, None, session_id.is_some(), limits, timeout)
                    .await
                {
                    Err(error) => Err(error),
                    Ok(_) => Err(StreamableHttpError::UnexpectedServerResponse(Cow::Owned(
                        format!("HTTP {status} on the event stream"),
                    ))),
                };
            }
            let content_type = response.headers().get(CONTENT_TYPE);
            if !media_type_is(content_type, EVENT_STREAM) {
                return Err(StreamableHttpError::UnexpectedContentType(
                    content_type
                        .map(|value| String::from_utf8_lossy(value.as_bytes()).into_owned()),
                ));
            }
            Ok(bounded_sse(response.into_body(), max_sse_event_size))
        })
    }
}
