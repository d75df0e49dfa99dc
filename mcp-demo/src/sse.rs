//! The legacy HTTP+SSE transport of MCP 2024-11-05, served beside streamable HTTP.
//!
//! A client opens a session with `GET /sse`; the event stream's first event names the URL to post
//! its messages to, and every message the server sends follows on the same stream:
//!
//! ```text
//! GET /sse                                  200 text/event-stream
//!                                           event: endpoint
//!                                           data: /messages?sessionId=9f1c…
//!
//! POST /messages?sessionId=9f1c…  {initialize request}
//!                                 202 Accepted (no body)
//!                                           event: message
//!                                           data: {"jsonrpc":"2.0","id":1,"result":{…}}
//! ```
//!
//! A `POST` for an unknown (or ended) session is 404; one without `sessionId`, or whose body is
//! not one JSON-RPC message, is 400. Comments (`: keep-alive`) keep an idle stream open through
//! proxies and find clients that went away.
//!
//! Each session runs its own [`DemoServer`] on a task, over two bounded in-memory queues (rmcp
//! takes a `(Sink, Stream)` pair as a transport). **A session lives exactly as long as its event
//! stream**: the response body owns a guard, and when hyper drops the body (the client hung up, or
//! the stream ended) the guard forgets the session and cancels its service, whose task then ends.
//! [`SseEndpoint::end_sessions`] ends every stream and service at once; the serve loop then waits
//! for their tasks ([`SseEndpoint::shutdown`]).

use std::{
    collections::HashMap,
    convert::Infallible,
    pin::Pin,
    sync::{Arc, Mutex, MutexGuard, PoisonError},
    task::{Context, Poll},
    time::Duration,
};

use futures::stream;
use http::{
    HeaderMap, HeaderValue, Method, Request, Response, StatusCode,
    header::{ACCEPT, CACHE_CONTROL, CONTENT_TYPE, HOST, ORIGIN},
};
use http_body_util::{BodyExt as _, Full};
use hyper::body::{Body, Bytes, Frame};
use rmcp::{
    ServiceExt as _,
    model::{ClientJsonRpcMessage, ServerJsonRpcMessage},
    transport::streamable_http_server::{
        StreamableHttpServerConfig, session::local::SessionConfig,
    },
};
use serde_json::Value;
use tokio::{
    sync::{mpsc, watch},
    task::JoinSet,
    time::{Instant, Interval},
};
use tokio_util::sync::{CancellationToken, PollSender, WaitForCancellationFutureOwned};

use crate::{
    DemoServer,
    http::{BodyError, DemoBody, method_not_allowed, read_body, text},
};

/// The path where a `GET` opens a legacy HTTP+SSE session (MCP 2024-11-05).
pub const SSE_PATH: &str = "/sse";

/// The path a legacy HTTP+SSE client posts its messages to, with `?sessionId=…`, as the
/// session's `endpoint` event says.
pub const MESSAGES_PATH: &str = "/messages";

/// The most sessions open at once; more are refused with 503. Each holds a connection, a task
/// and two queues, and the demo serves one machine.
const MAX_SESSIONS: usize = 64;

/// The capacity of each session's queues, either way: rmcp's for a streamable HTTP session.
const QUEUE: usize = SessionConfig::DEFAULT_CHANNEL_CAPACITY;

/// How long a session may wait for `initialize` before it is ended: rmcp's deadline for a
/// streamable HTTP session, so a client that opens streams and never speaks cannot hold them.
const INIT_TIMEOUT: Duration = SessionConfig::DEFAULT_INIT_TIMEOUT;

/// The legacy HTTP+SSE endpoint: `GET` [`SSE_PATH`] and `POST` [`MESSAGES_PATH`]. Cheap to clone;
/// the clones share the sessions.
#[derive(Clone)]
pub(crate) struct SseEndpoint(Arc<Shared>);

/// What every clone of an [`SseEndpoint`] shares.
struct Shared {
    /// The `Host` (and `Origin` host) names admitted, without IPv6 brackets.
    hosts: Vec<String>,
    max_body: usize,
    keep_alive: Option<Duration>,
    /// Cancelled by [`SseEndpoint::end_sessions`]; every session's token is a child of it.
    stop: CancellationToken,
    /// How many session tasks are running.
    live: Arc<watch::Sender<usize>>,
    sessions: Mutex<Sessions>,
}

#[derive(Default)]
struct Sessions {
    /// The open sessions' inbound queues, by session id.
    open: HashMap<String, Inbound>,
    /// The sessions' tasks. Aborted if the endpoint is dropped without [`SseEndpoint::shutdown`]
    /// (the serve future was dropped): nothing outlives the server.
    tasks: JoinSet<()>,
}

/// Where a session's messages from the client go, and the session's cancellation.
#[derive(Clone)]
struct Inbound {
    queue: mpsc::Sender<ClientJsonRpcMessage>,
    ended: CancellationToken,
}

impl SseEndpoint {
    /// The endpoint for a server admitting `hosts` (the loopback names, as in a URL), with the
    /// streamable endpoint's body limit and keep-alive interval from `config`.
    pub(crate) fn new(hosts: &[String], config: &StreamableHttpServerConfig) -> Self {
        let hosts = hosts
            .iter()
            .map(|host| {
                host.trim_start_matches('[')
                    .trim_end_matches(']')
                    .to_owned()
            })
            .collect();
        Self(Arc::new(Shared {
            hosts,
            max_body: config.max_request_body_bytes,
            keep_alive: config.sse_keep_alive,
            stop: CancellationToken::new(),
            live: Arc::new(watch::channel(0).0),
            sessions: Mutex::default(),
        }))
    }

    /// A count of the running sessions, for the server's handle.
    pub(crate) fn sessions(&self) -> SseSessions {
        SseSessions(self.0.live.subscribe())
    }

    /// Answers a request to [`SSE_PATH`] or [`MESSAGES_PATH`].
    pub(crate) async fn handle<B>(&self, request: Request<B>) -> Response<DemoBody>
    where
        B: Body<Data = Bytes> + Send + 'static,
        B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        if let Err((status, why)) = self.0.check_host_and_origin(request.headers()) {
            return text(status, why);
        }
        let get = request.method() == Method::GET;
        match (request.uri().path() == SSE_PATH, get) {
            (true, true) => self.open(request.headers()),
            (true, false) => method_not_allowed("GET"),
            (false, _) if request.method() == Method::POST => self.post(request).await,
            (false, _) => method_not_allowed("POST"),
        }
    }

    /// Ends every session: their streams end and their services are cancelled; new sessions are
    /// refused.
    pub(crate) fn end_sessions(&self) {
        self.0.stop.cancel();
    }

    /// Ends every session, and returns once their tasks are gone: those still winding down at
    /// `deadline` are aborted.
    pub(crate) async fn shutdown(&self, deadline: Instant) {
        self.end_sessions();
        let mut tasks = std::mem::take(&mut self.0.sessions().tasks);
        let _ = tokio::time::timeout_at(deadline, async {
            while tasks.join_next().await.is_some() {}
        })
        .await;
        tasks.shutdown().await;
    }

    /// `GET /sse`: a new session, and its event stream.
    fn open(&self, headers: &HeaderMap) -> Response<DemoBody> {
        if !accepts_event_stream(headers) {
            return text(
                StatusCode::NOT_ACCEPTABLE,
                "GET /sse answers with an event stream: accept text/event-stream\n",
            );
        }
        let Some(id) = session_id() else {
            return text(
                StatusCode::INTERNAL_SERVER_ERROR,
                "the OS random source failed\n",
            );
        };
        let (inbound, inbound_rx) = mpsc::channel(QUEUE);
        let (outbound, outbound_rx) = mpsc::channel(QUEUE);
        // A child of `stop`: ended with every other session, or alone when its stream goes.
        let ended = self.0.stop.child_token();
        {
            let mut sessions = self.0.sessions();
            if self.0.stop.is_cancelled() {
                return text(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "the demo server is shutting down\n",
                );
            }
            if sessions.open.len() >= MAX_SESSIONS {
                return text(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "too many open SSE sessions; close one and retry\n",
                );
            }
            // Reap finished tasks so the set does not grow without bound.
            while sessions.tasks.try_join_next().is_some() {}
            let live = Live::new(&self.0.live);
            sessions
                .tasks
                .spawn(serve_session(inbound_rx, outbound, ended.clone(), live));
            let queue = Inbound {
                queue: inbound,
                ended: ended.clone(),
            };
            sessions.open.insert(id.clone(), queue);
        }
        let guard = SessionGuard {
            shared: Arc::clone(&self.0),
            id: id.clone(),
            ended: ended.clone(),
        };
        let body = EventStream::new(&id, outbound_rx, ended, self.0.keep_alive, guard);
        let mut response = Response::new(body.boxed());
        let headers = response.headers_mut();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("text/event-stream"));
        headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-cache"));
        response
    }

    /// `POST /messages?sessionId=…`: one message for a session's server; its answer goes out on
    /// the session's stream.
    async fn post<B>(&self, request: Request<B>) -> Response<DemoBody>
    where
        B: Body<Data = Bytes>,
        B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        let Some(id) = session_param(request.uri().query()) else {
            return text(
                StatusCode::BAD_REQUEST,
                "sessionId is missing: post to the URL of the session's endpoint event\n",
            );
        };
        // Looked up before the body is read, so an unknown session costs nothing more.
        let Some(inbound) = self.0.sessions().open.get(&id).cloned() else {
            return unknown_session();
        };
        let body = match read_body(request.into_body(), self.0.max_body).await {
            Ok(body) => body,
            Err(BodyError::TooLarge) => {
                return text(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "the request body is too large\n",
                );
            }
            Err(BodyError::Broken) => {
                return text(StatusCode::BAD_REQUEST, "the request body broke off\n");
            }
        };
        let Ok(json) = serde_json::from_slice::<Value>(&body) else {
            return text(StatusCode::BAD_REQUEST, "the body is not JSON\n");
        };
        // The 2024-11-05 transport carries single messages; batches came with 2025-03-26.
        let Ok(message) = serde_json::from_value::<ClientJsonRpcMessage>(json) else {
            return text(
                StatusCode::BAD_REQUEST,
                "the body is not one JSON-RPC message an MCP client sends\n",
            );
        };
        // The queue is bounded: a client that posts faster than its server reads waits here.
        tokio::select! {
            sent = inbound.queue.send(message) => match sent {
                Ok(()) => accepted(),
                Err(_) => unknown_session(),
            },
            () = inbound.ended.cancelled() => unknown_session(),
        }
    }
}

impl Shared {
    fn sessions(&self) -> MutexGuard<'_, Sessions> {
        // Every update leaves the map valid, so a panic elsewhere does not make it unusable.
        self.sessions.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The DNS-rebinding and cross-origin checks rmcp makes at `/mcp`: the `Host` must be a
    /// loopback name (or the address bound), and so must the `Origin`'s host when a browser sends
    /// one. Any port is fine; requests without `Origin` (every non-browser client) pass.
    fn check_host_and_origin(&self, headers: &HeaderMap) -> Result<(), (StatusCode, &'static str)> {
        let host = headers
            .get(HOST)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.parse::<http::uri::Authority>().ok());
        let Some(host) = host else {
            return Err((
                StatusCode::BAD_REQUEST,
                "Bad Request: a valid Host header is required\n",
            ));
        };
        if !self.admits(host.host()) {
            return Err((
                StatusCode::FORBIDDEN,
                "Forbidden: Host header is not allowed\n",
            ));
        }
        let Some(origin) = headers.get(ORIGIN) else {
            return Ok(());
        };
        let admitted = origin
            .to_str()
            .ok()
            .and_then(|value| value.parse::<http::Uri>().ok())
            .is_some_and(|origin| {
                origin.scheme_str() == Some("http")
                    && origin.path_and_query().is_none_or(|path| path == "/")
                    && origin.authority().is_some_and(|a| self.admits(a.host()))
            });
        if !admitted {
            return Err((
                StatusCode::FORBIDDEN,
                "Forbidden: Origin header is not allowed\n",
            ));
        }
        Ok(())
    }

    fn admits(&self, host: &str) -> bool {
        let host = host.trim_start_matches('[').trim_end_matches(']');
        self.hosts
            .iter()
            .any(|known| known.eq_ignore_ascii_case(host))
    }
}

/// The running sessions of one server, as its handle reports them.
#[derive(Debug, Clone)]
pub(crate) struct SseSessions(watch::Receiver<usize>);

impl SseSessions {
    pub(crate) fn count(&self) -> usize {
        *self.0.borrow()
    }

    /// Completes once no session task is running.
    pub(crate) async fn ended(&self) {
        let mut receiver = self.0.clone();
        // An error means the server, and so every session, is gone.
        let _ = receiver.wait_for(|count| *count == 0).await;
    }
}

/// Counts one running session task, from before it is spawned until it ends or is aborted.
struct Live(Arc<watch::Sender<usize>>);

impl Live {
    fn new(live: &Arc<watch::Sender<usize>>) -> Self {
        live.send_modify(|count| *count += 1);
        Self(Arc::clone(live))
    }
}

impl Drop for Live {
    fn drop(&mut self) {
        self.0.send_modify(|count| *count -= 1);
    }
}

/// One session's task: a [`DemoServer`] reading the posted messages from `inbound` and writing to
/// `outbound`, until `ended` is cancelled or the client stops (its stream, and so `outbound`'s
/// receiver, went away).
async fn serve_session(
    mut inbound: mpsc::Receiver<ClientJsonRpcMessage>,
    outbound: mpsc::Sender<ServerJsonRpcMessage>,
    ended: CancellationToken,
    _live: Live,
) {
    let posted = stream::poll_fn(move |cx| inbound.poll_recv(cx));
    let transport = (PollSender::new(outbound), posted);
    let serving = DemoServer::new().serve_with_ct(transport, ended);
    // A failed or late handshake ends the session; dropping the transport ends its stream.
    let Ok(Ok(running)) = tokio::time::timeout(INIT_TIMEOUT, serving).await else {
        return;
    };
    // Returns once rmcp's own task has ended, so the count stays up until everything is gone.
    let _ = running.waiting().await;
}

/// Forgets a session and cancels its service, when its stream's body is dropped or ends.
struct SessionGuard {
    shared: Arc<Shared>,
    id: String,
    ended: CancellationToken,
}

impl Drop for SessionGuard {
    fn drop(&mut self) {
        self.ended.cancel();
        self.shared.sessions().open.remove(&self.id);
    }
}

/// A session's event stream: the `endpoint` event, then each of the server's messages, with
/// keep-alive comments while idle. It ends when the session does.
struct EventStream {
    endpoint: Option<Bytes>,
    outbound: mpsc::Receiver<ServerJsonRpcMessage>,
    ended: Pin<Box<WaitForCancellationFutureOwned>>,
    keep_alive: Option<Interval>,
    /// Taken (dropped) when the stream ends, so the session ends with it.
    session: Option<SessionGuard>,
}

impl EventStream {
    fn new(
        id: &str,
        outbound: mpsc::Receiver<ServerJsonRpcMessage>,
        ended: CancellationToken,
        keep_alive: Option<Duration>,
        session: SessionGuard,
    ) -> Self {
        let endpoint = format!("event: endpoint\ndata: {MESSAGES_PATH}?sessionId={id}\n\n");
        Self {
            endpoint: Some(Bytes::from(endpoint)),
            outbound,
            ended: Box::pin(ended.cancelled_owned()),
            keep_alive: keep_alive.map(|period| {
                let mut interval = tokio::time::interval_at(Instant::now() + period, period);
                // After a stall, one comment is enough.
                interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
                interval
            }),
            session: Some(session),
        }
    }

    fn finish(&mut self) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        self.session = None;
        // Whatever the server still sends is for nobody; refuse it rather than let it queue.
        self.outbound.close();
        Poll::Ready(None)
    }
}

impl Body for EventStream {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        let this = self.get_mut();
        if this.session.is_none() {
            return Poll::Ready(None);
        }
        if let Some(endpoint) = this.endpoint.take() {
            return Poll::Ready(Some(Ok(Frame::data(endpoint))));
        }
        if this.ended.as_mut().poll(cx).is_ready() {
            return this.finish();
        }
        loop {
            match this.outbound.poll_recv(cx) {
                Poll::Ready(Some(message)) => {
                    // rmcp's messages always serialize; one that did not would be skipped.
                    if let Some(event) = message_event(&message) {
                        return Poll::Ready(Some(Ok(Frame::data(event))));
                    }
                }
                // The session's service ended (a failed handshake, or it was cancelled).
                Poll::Ready(None) => return this.finish(),
                Poll::Pending => break,
            }
        }
        if let Some(keep_alive) = &mut this.keep_alive
            && keep_alive.poll_tick(cx).is_ready()
        {
            return Poll::Ready(Some(Ok(Frame::data(Bytes::from_static(
                b": keep-alive\n\n",
            )))));
        }
        Poll::Pending
    }

    fn is_end_stream(&self) -> bool {
        self.session.is_none()
    }
}

/// `event: message` with the message as its one `data` line (compact JSON has no newlines).
fn message_event(message: &ServerJsonRpcMessage) -> Option<Bytes> {
    let json = serde_json::to_string(message).ok()?;
    Some(Bytes::from(format!("event: message\ndata: {json}\n\n")))
}

/// A new session id: 128 bits from the operating system's random source, in hex.
fn session_id() -> Option<String> {
    use rand::TryRng as _;

    let mut bytes = [0u8; 16];
    rand::rngs::SysRng.try_fill_bytes(&mut bytes).ok()?;
    Some(format!("{:032x}", u128::from_be_bytes(bytes)))
}

/// The `sessionId` query parameter, if given and not empty.
fn session_param(query: Option<&str>) -> Option<String> {
    url::form_urlencoded::parse(query?.as_bytes())
        .find(|(name, value)| name == "sessionId" && !value.is_empty())
        .map(|(_, value)| value.into_owned())
}

/// Whether the request accepts an event stream: no `Accept`, or one that admits
/// `text/event-stream`.
fn accepts_event_stream(headers: &HeaderMap) -> bool {
    let mut values = headers.get_all(ACCEPT).iter().peekable();
    if values.peek().is_none() {
        return true;
    }
    values
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .filter_map(|range| range.split(';').next())
        .map(str::trim)
        .any(|essence| {
            ["text/event-stream", "text/*", "*/*"]
                .iter()
                .any(|admitted| essence.eq_ignore_ascii_case(admitted))
        })
}

/// 202, with no body: the answer goes out on the session's stream.
fn accepted() -> Response<DemoBody> {
    let mut response = Response::new(Full::default().boxed());
    *response.status_mut() = StatusCode::ACCEPTED;
    response
}

fn unknown_session() -> Response<DemoBody> {
    text(
        StatusCode::NOT_FOUND,
        "no such SSE session: it ended, or never existed; open a new one with GET /sse\n",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn accept(values: &[&str]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for value in values {
            headers.append(ACCEPT, value.parse().expect("a header value"));
        }
        headers
    }

    #[test]
    fn an_event_stream_is_accepted_unless_accept_rules_it_out() {
        assert!(accepts_event_stream(&accept(&[])));
        assert!(accepts_event_stream(&accept(&["text/event-stream"])));
        assert!(accepts_event_stream(&accept(&[
            "application/json, Text/Event-Stream;q=0.9"
        ])));
        assert!(accepts_event_stream(&accept(&["*/*"])));
        assert!(accepts_event_stream(&accept(&[
            "application/json",
            "text/*"
        ])));
        assert!(!accepts_event_stream(&accept(&["application/json"])));
    }

    #[test]
    fn the_session_id_is_read_from_the_query() {
        assert_eq!(session_param(Some("sessionId=abc")), Some("abc".to_owned()));
        assert_eq!(
            session_param(Some("x=1&sessionId=a%20b")),
            Some("a b".to_owned())
        );
        assert_eq!(session_param(Some("sessionId=")), None);
        assert_eq!(session_param(Some("session=abc")), None);
        assert_eq!(session_param(None), None);
    }

    #[test]
    fn session_ids_are_distinct_hex() {
        let a = session_id().expect("random bytes");
        let b = session_id().expect("random bytes");
        assert_eq!(a.len(), 32);
        assert!(a.bytes().all(|byte| byte.is_ascii_hexdigit()));
        assert_ne!(a, b);
    }

    #[test]
    fn only_loopback_hosts_and_origins_are_admitted() {
        let hosts = ["localhost", "127.0.0.1", "[::1]"].map(str::to_owned);
        let endpoint = SseEndpoint::new(&hosts, &StreamableHttpServerConfig::default());
        let check = |pairs: &[(http::HeaderName, &str)]| {
            let mut headers = HeaderMap::new();
            for (name, value) in pairs {
                headers.insert(name, value.parse().expect("a header value"));
            }
            endpoint
                .0
                .check_host_and_origin(&headers)
                .map_err(|(status, _)| status)
        };
        assert_eq!(check(&[(HOST, "127.0.0.1:8080")]), Ok(()));
        assert_eq!(check(&[(HOST, "[::1]:8080")]), Ok(()));
        assert_eq!(check(&[(HOST, "LOCALHOST")]), Ok(()));
        assert_eq!(
            check(&[(HOST, "localhost:1"), (ORIGIN, "http://127.0.0.1:3000")]),
            Ok(())
        );
        assert_eq!(check(&[]), Err(StatusCode::BAD_REQUEST));
        assert_eq!(
            check(&[(HOST, "attacker.example")]),
            Err(StatusCode::FORBIDDEN)
        );
        for origin in [
            "https://attacker.example",
            "http://attacker.example:80",
            "https://127.0.0.1",
            "null",
        ] {
            assert_eq!(
                check(&[(HOST, "127.0.0.1:1"), (ORIGIN, origin)]),
                Err(StatusCode::FORBIDDEN),
                "{origin}"
            );
        }
    }
}
