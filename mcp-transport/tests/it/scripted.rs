//! A scripted loopback server for the HTTP transport's tests: it speaks just enough of the protocol
//! for rmcp's handshake (and `DELETE`), and hands every other request to the test's script; or,
//! [started as answering](Server::answering), hands every request to the test.

use std::convert::Infallible;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use futures::StreamExt;
use http::{HeaderMap, Request, Response};
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full, StreamBody};
use hyper::body::{Frame, Incoming};
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use mcp_transport::http::{HttpClient, HttpOptions, HttpTransport, ProxyConfig};
use serde_json::{Value, json};
use tokio::sync::mpsc;

pub(crate) const SESSION: &str = "session-1";

/// A request as the scripted server saw it.
#[derive(Debug, Clone)]
pub(crate) struct Seen {
    pub(crate) method: http::Method,
    /// The request target's path.
    pub(crate) path: String,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Value,
}

impl Seen {
    pub(crate) fn rpc_method(&self) -> Option<&str> {
        self.body.get("method").and_then(Value::as_str)
    }
}

pub(crate) type Body = BoxBody<Bytes, Infallible>;
pub(crate) type Script = Arc<dyn Fn(&Seen) -> Option<Response<Body>> + Send + Sync>;

/// A loopback server: the handshake and `DELETE` are answered here, `GET` is 405 unless the script
/// answers it; every other request goes to the script.
pub(crate) struct Server {
    /// `http://127.0.0.1:PORT/mcp`.
    pub(crate) url: String,
    /// Each request as it arrives, for tests that wait for one.
    pub(crate) seen: mpsc::UnboundedReceiver<Seen>,
    /// One message each time the client gives up on a request [`hang`] answered.
    pub(crate) abandoned: mpsc::UnboundedReceiver<()>,
    /// Every request so far, in order (see [`Server::requests`]).
    history: Arc<Mutex<Vec<Seen>>>,
    /// The connections accepted so far.
    pub(crate) connections: Arc<AtomicUsize>,
    task: tokio::task::JoinHandle<()>,
}

/// The header that makes the server never answer (see [`hang`]).
const HANG: &str = "x-scripted-hang";

/// A response the server never sends: it waits until the client gives up on the request, and
/// reports that on [`Server::abandoned`].
pub(crate) fn hang() -> Response<Body> {
    Response::builder()
        .header(HANG, "1")
        .body(BodyExt::boxed(Full::new(Bytes::new())))
        .expect("a valid response")
}

/// Reports on drop: the client went away while the server was holding its request.
struct Abandoned(mpsc::UnboundedSender<()>);

impl Drop for Abandoned {
    fn drop(&mut self) {
        let _ = self.0.send(());
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Server {
    /// A server answering each request with `script`'s response, or with the protocol's own
    /// answer where the script has none (see [`answer`]).
    pub(crate) async fn start(
        script: impl Fn(&Seen) -> Option<Response<Body>> + Send + Sync + 'static,
    ) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind loopback");
        let url = format!("http://{}/mcp", listener.local_addr().expect("address"));
        let script: Script = Arc::new(script);
        let (log, seen) = mpsc::unbounded_channel();
        let (gave_up, abandoned) = mpsc::unbounded_channel();
        let history: Arc<Mutex<Vec<Seen>>> = Arc::default();
        let connections = Arc::new(AtomicUsize::new(0));
        let (kept, accepted) = (Arc::clone(&history), Arc::clone(&connections));
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                accepted.fetch_add(1, Ordering::SeqCst);
                let (script, log, gave_up, kept) = (
                    Arc::clone(&script),
                    log.clone(),
                    gave_up.clone(),
                    Arc::clone(&kept),
                );
                tokio::spawn(async move {
                    let service = service_fn(move |request: Request<Incoming>| {
                        let (script, log, gave_up, kept) = (
                            Arc::clone(&script),
                            log.clone(),
                            gave_up.clone(),
                            Arc::clone(&kept),
                        );
                        async move {
                            let method = request.method().clone();
                            let path = request.uri().path().to_owned();
                            let headers = request.headers().clone();
                            let bytes = request
                                .into_body()
                                .collect()
                                .await
                                .map(|body| body.to_bytes());
                            let body = bytes
                                .ok()
                                .and_then(|bytes| serde_json::from_slice(&bytes).ok())
                                .unwrap_or(Value::Null);
                            let seen = Seen {
                                method,
                                path,
                                headers,
                                body,
                            };
                            let response = answer(&script, &seen);
                            kept.lock()
                                .unwrap_or_else(std::sync::PoisonError::into_inner)
                                .push(seen.clone());
                            let _ = log.send(seen);
                            if response.headers().contains_key(HANG) {
                                let _abandoned = Abandoned(gave_up);
                                futures::future::pending::<()>().await;
                            }
                            Ok::<_, Infallible>(response)
                        }
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Server {
            url,
            seen,
            abandoned,
            history,
            connections,
            task,
        }
    }

    /// A server answering every request, the handshake included, with `handler`'s response.
    pub(crate) async fn answering(
        handler: impl Fn(&Seen) -> Response<Body> + Send + Sync + 'static,
    ) -> Self {
        Self::start(move |seen| Some(handler(seen))).await
    }

    /// Every request the server has answered so far, in order.
    pub(crate) fn requests(&self) -> Vec<Seen> {
        self.history
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// Our transport to this server (no proxy, default options).
    pub(crate) fn transport(&self) -> HttpTransport {
        transport_to(&self.url)
    }

    /// The next request the server saw with HTTP method `method` that `matches` (earlier ones are
    /// skipped).
    pub(crate) async fn next_http(
        &mut self,
        method: http::Method,
        matches: impl Fn(&Seen) -> bool,
    ) -> Seen {
        loop {
            let seen = self.seen.recv().await.expect("the server is running");
            if seen.method == method && matches(&seen) {
                return seen;
            }
        }
    }

    /// The next request the server saw with JSON-RPC method `method` (earlier ones are skipped).
    pub(crate) async fn next(&mut self, method: &str) -> Seen {
        loop {
            let seen = self.seen.recv().await.expect("the server is running");
            if seen.rpc_method() == Some(method) {
                return seen;
            }
        }
    }
}

/// The HTTP client's default options, without a proxy: tests talk to loopback servers.
pub(crate) fn direct() -> HttpOptions {
    let mut options = HttpOptions::default();
    options.proxy = ProxyConfig::Direct;
    options
}

/// Our transport to the MCP endpoint `url` (no proxy, default options).
pub(crate) fn transport_to(url: &str) -> HttpTransport {
    HttpClient::new(direct())
        .expect("client")
        .transport(url, None, Default::default())
        .expect("transport")
}

pub(crate) fn answer(script: &Script, seen: &Seen) -> Response<Body> {
    if let Some(response) = script(seen) {
        return response;
    }
    match (seen.method.as_str(), seen.rpc_method()) {
        ("POST", Some("initialize")) => json_reply(&json!({
            "jsonrpc": "2.0",
            "id": seen.body["id"],
            "result": {
                "protocolVersion": "2025-06-18",
                "capabilities": {"tools": {}},
                "serverInfo": {"name": "scripted", "version": "1"}
            }
        })),
        ("POST", Some(_)) if seen.body.get("id").is_none() => reply(202, None, ""),
        ("DELETE", _) => reply(200, None, ""),
        _ => reply(405, None, ""),
    }
}

pub(crate) fn reply(status: u16, content_type: Option<&str>, body: &str) -> Response<Body> {
    let mut builder = Response::builder()
        .status(status)
        .header("mcp-session-id", SESSION);
    if let Some(content_type) = content_type {
        builder = builder.header("content-type", content_type);
    }
    builder
        .body(Full::new(Bytes::from(body.to_owned())).boxed())
        .expect("a valid response")
}

pub(crate) fn json_reply(message: &Value) -> Response<Body> {
    reply(200, Some("application/json"), &message.to_string())
}

/// An event stream of `events`, left open afterwards if `open`.
pub(crate) fn sse_reply(events: &[String], open: bool) -> Response<Body> {
    let chunks: Vec<Result<Frame<Bytes>, Infallible>> = events
        .iter()
        .map(|event| Ok(Frame::data(Bytes::from(event.clone()))))
        .collect();
    let stream = futures::stream::iter(chunks);
    let body = if open {
        BodyExt::boxed(StreamBody::new(stream.chain(futures::stream::pending())))
    } else {
        BodyExt::boxed(StreamBody::new(stream))
    };
    Response::builder()
        .status(200)
        .header("content-type", "text/event-stream")
        .header("mcp-session-id", SESSION)
        .body(body)
        .expect("a valid response")
}

/// An event stream of `events` that stays open, and says on `dropped` when the server stops
/// sending it (the client went away).
pub(crate) fn watched_sse_reply(
    events: &[String],
    dropped: tokio::sync::mpsc::UnboundedSender<()>,
) -> Response<Body> {
    struct Watch(tokio::sync::mpsc::UnboundedSender<()>);
    impl Drop for Watch {
        fn drop(&mut self) {
            let _ = self.0.send(());
        }
    }
    let watch = Watch(dropped);
    let chunks: Vec<Result<Frame<Bytes>, Infallible>> = events
        .iter()
        .map(|event| Ok(Frame::data(Bytes::from(event.clone()))))
        .collect();
    let stream = futures::stream::iter(chunks)
        .chain(futures::stream::pending())
        .map(move |frame| {
            let _held = &watch;
            frame
        });
    Response::builder()
        .status(200)
        .header("content-type", "text/event-stream")
        .header("mcp-session-id", SESSION)
        .body(BodyExt::boxed(StreamBody::new(stream)))
        .expect("a valid response")
}

pub(crate) fn data_event(message: &Value) -> String {
    format!("data: {message}\n\n")
}

pub(crate) fn tool_result(id: &Value, text: &str) -> Value {
    json!({
        "jsonrpc": "2.0",
        "id": id,
        "result": {"content": [{"type": "text", "text": text}], "isError": false}
    })
}

pub(crate) fn is_call(seen: &Seen) -> bool {
    seen.method == http::Method::POST && seen.rpc_method() == Some("tools/call")
}

/// The session's standalone stream: a `GET` that resumes nothing.
pub(crate) fn is_standalone(seen: &Seen) -> bool {
    seen.method == http::Method::GET && !seen.headers.contains_key("last-event-id")
}

/// A `GET` resuming a stream from its last event.
pub(crate) fn is_resumption(seen: &Seen) -> bool {
    seen.method == http::Method::GET && seen.headers.contains_key("last-event-id")
}

/// An event stream whose events the test sends, one `String` at a time, in the order it chooses;
/// the stream ends when the sender is dropped.
pub(crate) fn fed_sse_reply(events: mpsc::UnboundedReceiver<String>) -> Response<Body> {
    let stream = futures::stream::unfold(events, |mut events| async move {
        let event = events.recv().await?;
        Some((Ok(Frame::data(Bytes::from(event))), events))
    });
    Response::builder()
        .status(200)
        .header("content-type", "text/event-stream")
        .header("mcp-session-id", SESSION)
        .body(BodyExt::boxed(StreamBody::new(stream)))
        .expect("a valid response")
}

/// The receiving end of a scripted stream's feed, taken once by the script that answers with it.
pub(crate) type Feed = Arc<std::sync::Mutex<Option<mpsc::UnboundedReceiver<String>>>>;

/// A scripted stream's feed: the script takes the receiver once, for the response it answers with;
/// the test keeps the sender.
pub(crate) fn feed() -> (mpsc::UnboundedSender<String>, Feed) {
    let (sender, receiver) = mpsc::unbounded_channel();
    (sender, Arc::new(std::sync::Mutex::new(Some(receiver))))
}

/// The receiver of `feed`, the first time it is asked for.
pub(crate) fn take(feed: &Feed) -> Option<mpsc::UnboundedReceiver<String>> {
    feed.lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .take()
}
