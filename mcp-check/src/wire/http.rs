//! Streamable HTTP: each message a POST whose answer comes as JSON or as an event stream.

use std::time::Duration;

use bytes::Bytes;
use futures::StreamExt;
use http::header::{ACCEPT, CONTENT_TYPE};
use http::{HeaderMap, HeaderName, HeaderValue, Method, Request, StatusCode};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use mcp_transport::HttpClient;
use mcp_transport::http::bounded_sse;
use serde_json::Value;
use url::Url;

use super::{
    ClientSide, Exchange, HttpReply, MAX_BODY_BYTES, Pending, Presented, Received, Step, WireError,
};

/// The session header of streamable HTTP.
pub(crate) const SESSION_HEADER: &str = "mcp-session-id";
/// The protocol version header every request after `initialize` carries.
pub(crate) const VERSION_HEADER: &str = "mcp-protocol-version";
/// The most characters of a non-JSON-RPC body a report keeps.
const TEXT_CHARS: usize = 64 * 1024;

/// What one request changes of the usual headers: extra or replaced ones (`Host`, `Origin`,
/// `Mcp-Method`), and whether the session and version headers are left off.
#[derive(Debug, Clone, Default)]
pub(crate) struct Overrides {
    pub(crate) headers: HeaderMap,
    pub(crate) without_session: bool,
    pub(crate) without_version: bool,
    pub(crate) accept: Option<&'static str>,
}

/// A streamable HTTP endpoint under check, with the session it assigned.
#[derive(Debug)]
pub(crate) struct HttpWire {
    client: HttpClient,
    url: Url,
    presented: Presented,
    client_side: ClientSide,
    /// The `Mcp-Session-Id` the server assigned at `initialize`, if any.
    pub(crate) session: Option<HeaderValue>,
    /// The version sent in `MCP-Protocol-Version` once negotiated.
    pub(crate) protocol_version: Option<HeaderValue>,
}

impl HttpWire {
    pub(crate) fn new(
        client: HttpClient,
        url: Url,
        presented: Presented,
        client_side: ClientSide,
    ) -> Self {
        Self {
            client,
            url,
            presented,
            client_side,
            session: None,
            protocol_version: None,
        }
    }

    /// The endpoint's URL.
    pub(crate) fn url(&self) -> &Url {
        &self.url
    }

    /// A request to the endpoint with the usual headers and credential, changed by `overrides`.
    fn request(
        &self,
        method: Method,
        body: Vec<u8>,
        overrides: &Overrides,
    ) -> Result<Request<Full<Bytes>>, WireError> {
        let mut request = Request::new(Full::new(Bytes::from(body)));
        *request.method_mut() = method;
        *request.uri_mut() = self.url.as_str().parse().map_err(|_| {
            WireError::Transport(mcp_transport::TransportError::Protocol {
                detail: format!("{} is not a URI an HTTP request can carry", self.url),
            })
        })?;
        self.presented.apply(&mut request)?;
        let headers = request.headers_mut();
        headers.insert(
            ACCEPT,
            HeaderValue::from_static(
                overrides
                    .accept
                    .unwrap_or("application/json, text/event-stream"),
            ),
        );
        if let (Some(session), false) = (&self.session, overrides.without_session) {
            headers.insert(HeaderName::from_static(SESSION_HEADER), session.clone());
        }
        if let (Some(version), false) = (&self.protocol_version, overrides.without_version) {
            headers.insert(HeaderName::from_static(VERSION_HEADER), version.clone());
        }
        for (name, value) in &overrides.headers {
            headers.insert(name.clone(), value.clone());
        }
        if request.method() == Method::POST {
            request
                .headers_mut()
                .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        }
        Ok(request)
    }

    /// POSTs `bytes` and reads the answer to `id` from the JSON body or the event stream.
    pub(crate) async fn exchange(
        &mut self,
        bytes: Vec<u8>,
        id: Option<&Value>,
        overrides: &Overrides,
        timeout: Duration,
    ) -> Result<Exchange, WireError> {
        let mut pending = Pending::new(&bytes, id, timeout);
        let request = self.request(Method::POST, bytes, overrides)?;
        let response = self.client.send(request, timeout).await?;
        let (parts, body) = response.into_parts();
        if self.session.is_none()
            && parts.status.is_success()
            && let Some(session) = parts.headers.get(SESSION_HEADER)
        {
            self.session = Some(session.clone());
        }
        let is_stream = parts
            .headers
            .get(CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .is_some_and(|value| value.trim_start().starts_with("text/event-stream"));
        pending.exchange_mut().http = Some(HttpReply {
            status: parts.status,
            text: String::new(),
        });
        let deadline = pending.deadline();
        if is_stream {
            let read = self.read_stream(body, &mut pending);
            match tokio::time::timeout_at(deadline, read).await {
                Ok(Ok(true)) => {}
                Ok(Err(error)) => return Err(error),
                Ok(Ok(false)) | Err(_) if id.is_some() => return Err(pending.timed_out()),
                // A notification's stream that stays open: its status was the point.
                Ok(Ok(false)) | Err(_) => {}
            }
        } else {
            let body = tokio::time::timeout_at(deadline, read_body(body))
                .await
                .map_err(|_| pending.timed_out())??;
            let text = String::from_utf8_lossy(&body).into_owned();
            // An error status's JSON body that does not claim to be JSON-RPC (a framework's
            // `{"error": "forbidden host"}`) is an error page, not a message to judge.
            let error_page = |value: &Value| {
                !parts.status.is_success()
                    && value
                        .as_object()
                        .is_some_and(|o| !o.contains_key("jsonrpc"))
            };
            let messages = match serde_json::from_str::<Value>(&text) {
                Ok(Value::Array(batch)) => batch,
                Ok(message) if !error_page(&message) => vec![message],
                Ok(_) | Err(_) => {
                    if let Some(reply) = &mut pending.exchange_mut().http {
                        reply.text = text.chars().take(TEXT_CHARS).collect();
                    }
                    Vec::new()
                }
            };
            for message in messages {
                if pending.expired() {
                    return Err(pending.timed_out());
                }
                let received = Received {
                    raw: message.to_string(),
                    message: Some(message),
                };
                if let Step::Respond(answer) = pending.take(received, &self.client_side) {
                    tokio::time::timeout_at(deadline, self.post_only(answer))
                        .await
                        .map_err(|_| pending.timed_out())??;
                }
            }
        }
        Ok(pending.finish())
    }

    /// Reads an event stream up to the answer (or its end), answering the server's requests;
    /// `false` if the deadline passed first.
    async fn read_stream(
        &mut self,
        body: Incoming,
        pending: &mut Pending<'_>,
    ) -> Result<bool, WireError> {
        let mut events = bounded_sse(body, MAX_BODY_BYTES);
        while let Some(event) = events.next().await {
            if pending.expired() {
                return Ok(false);
            }
            let event = event.map_err(|error| WireError::Stream(error.to_string()))?;
            let Some(data) = event.data else { continue };
            match pending.take(Received::new(data), &self.client_side) {
                Step::Answered => return Ok(true),
                Step::Respond(answer) => {
                    self.post_only(answer).await?;
                }
                Step::Continue => {}
            }
        }
        Ok(true)
    }

    /// POSTs a message that needs no answer (a response to the server's request), ignoring the body.
    async fn post_only(&self, bytes: Vec<u8>) -> Result<StatusCode, WireError> {
        let request = self.request(Method::POST, bytes, &Overrides::default())?;
        let timeout = self.client.options().request_timeout;
        let response = self.client.send(request, timeout).await?;
        Ok(response.status())
    }

    /// Sends a body-less request (`GET` for the event stream, `DELETE` to end the session) and
    /// returns the status and headers; an event stream's body is not read.
    pub(crate) async fn bodiless(
        &self,
        method: Method,
        overrides: &Overrides,
        timeout: Duration,
    ) -> Result<(StatusCode, HeaderMap), WireError> {
        let request = self.request(method, Vec::new(), overrides)?;
        let response = self.client.send(request, timeout).await?;
        Ok((response.status(), response.headers().clone()))
    }
}

/// A whole body, at most [`MAX_BODY_BYTES`].
async fn read_body(body: Incoming) -> Result<Bytes, WireError> {
    Limited::new(body, MAX_BODY_BYTES)
        .collect()
        .await
        .map(http_body_util::Collected::to_bytes)
        .map_err(|error| {
            WireError::Transport(mcp_transport::TransportError::Protocol {
                detail: format!("reading the response body: {error}"),
            })
        })
}

impl HttpWire {
    /// A new wire to the same endpoint, without a session (for checks that need one of their own).
    pub(crate) fn fresh(&self) -> Self {
        Self::new(
            self.client.clone(),
            self.url.clone(),
            self.presented.clone(),
            self.client_side.clone(),
        )
    }

    /// Ends the session the server assigned to this wire, if any (`DELETE`, its answer ignored):
    /// a probe leaves no session behind on the server.
    pub(crate) async fn end_session(&mut self, timeout: Duration) {
        if self.session.is_some() {
            let _ = self
                .bodiless(Method::DELETE, &Overrides::default(), timeout)
                .await;
            self.session = None;
        }
    }

    /// POSTs each of `bodies` at once, with the usual headers and `overrides`, and returns each
    /// status (or why there was none). Bodies are not read.
    pub(crate) async fn concurrent_posts(
        &self,
        bodies: Vec<Vec<u8>>,
        overrides: &Overrides,
        timeout: Duration,
    ) -> Vec<Result<StatusCode, WireError>> {
        let sends = bodies.into_iter().map(|body| {
            let request = self.request(Method::POST, body, overrides);
            async move {
                let response = self.client.send(request?, timeout).await?;
                Ok(response.status())
            }
        });
        futures::future::join_all(sends).await
    }
}
