//! Direct requests over streamable HTTP, against a scripted loopback server that speaks just enough
//! of the protocol for rmcp's handshake and then answers each test's request its own way.

use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use futures::StreamExt;
use http::{HeaderMap, Request, Response};
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full, StreamBody};
use hyper::body::{Frame, Incoming};
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use mcp_transport::http::{HttpClient, HttpDirectRequests, HttpOptions, ProxyConfig};
use mcp_transport::{RequestError, TransportError};
use rmcp::ClientHandler;
use rmcp::model::{
    CallToolRequestParams, ClientRequest, ProgressNotificationParam, Request as McpRequest,
    ServerResult,
};
use rmcp::service::{NotificationContext, RoleClient, RunningService};
use serde_json::{Value, json};
use tokio::sync::mpsc;

const SESSION: &str = "session-1";

/// A request as the scripted server saw it.
#[derive(Debug, Clone)]
struct Seen {
    method: http::Method,
    headers: HeaderMap,
    body: Value,
}

impl Seen {
    fn rpc_method(&self) -> Option<&str> {
        self.body.get("method").and_then(Value::as_str)
    }
}

type Body = BoxBody<Bytes, Infallible>;
type Script = Arc<dyn Fn(&Seen) -> Option<Response<Body>> + Send + Sync>;

/// A loopback server: the handshake and `DELETE` are answered here, `GET` is 405 unless the script
/// answers it; every other request goes to the script.
struct Server {
    url: String,
    seen: mpsc::UnboundedReceiver<Seen>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Server {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Server {
    async fn start(
        script: impl Fn(&Seen) -> Option<Response<Body>> + Send + Sync + 'static,
    ) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind loopback");
        let url = format!("http://{}/mcp", listener.local_addr().expect("address"));
        let script: Script = Arc::new(script);
        let (log, seen) = mpsc::unbounded_channel();
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let (script, log) = (Arc::clone(&script), log.clone());
                tokio::spawn(async move {
                    let service = service_fn(move |request: Request<Incoming>| {
                        let (script, log) = (Arc::clone(&script), log.clone());
                        async move {
                            let method = request.method().clone();
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
                                headers,
                                body,
                            };
                            let response = answer(&script, &seen);
                            let _ = log.send(seen);
                            Ok::<_, Infallible>(response)
                        }
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Server { url, seen, task }
    }

    /// The next request the server saw with JSON-RPC method `method` (earlier ones are skipped).
    async fn next(&mut self, method: &str) -> Seen {
        loop {
            let seen = self.seen.recv().await.expect("the server is running");
            if seen.rpc_method() == Some(method) {
                return seen;
            }
        }
    }
}

fn answer(script: &Script, seen: &Seen) -> Response<Body> {
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

fn reply(status: u16, content_type: Option<&str>, body: &str) -> Response<Body> {
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

fn json_reply(message: &Value) -> Response<Body> {
    reply(200, Some("application/json"), &message.to_string())
}

/// An event stream of `events`, left open afterwards if `open`.
fn sse_reply(events: &[String], open: bool) -> Response<Body> {
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

fn data_event(message: &Value) -> String {
    format!("data: {message}\n\n")
}

fn tool_result(id: &Value, text: &str) -> Value {
    json!({
        "jsonrpc": "2.0",
        "id": id,
        "result": {"content": [{"type": "text", "text": text}], "isError": false}
    })
}

fn is_call(seen: &Seen) -> bool {
    seen.method == http::Method::POST && seen.rpc_method() == Some("tools/call")
}

fn call() -> ClientRequest {
    ClientRequest::CallToolRequest(McpRequest::new(CallToolRequestParams::new("echo")))
}

/// Records the progress notifications rmcp hands it.
#[derive(Clone)]
struct Recorder(mpsc::UnboundedSender<ProgressNotificationParam>);

impl ClientHandler for Recorder {
    async fn on_progress(
        &self,
        params: ProgressNotificationParam,
        _context: NotificationContext<RoleClient>,
    ) {
        let _ = self.0.send(params);
    }
}

struct Session {
    direct: HttpDirectRequests,
    progress: mpsc::UnboundedReceiver<ProgressNotificationParam>,
    _service: RunningService<RoleClient, Recorder>,
}

async fn connect(server: &Server) -> Session {
    let mut options = HttpOptions::default();
    options.proxy = ProxyConfig::Direct;
    let transport = HttpClient::new(options)
        .expect("client")
        .transport(&server.url, None, Default::default())
        .expect("transport");
    let direct = transport.direct_requests();
    let (sender, progress) = mpsc::unbounded_channel();
    let service = rmcp::serve_client(Recorder(sender), transport)
        .await
        .expect("handshake");
    Session {
        direct,
        progress,
        _service: service,
    }
}

const LONG: Duration = Duration::from_secs(30);

#[tokio::test]
async fn a_json_answer_reaches_the_caller_in_the_handshake_session() {
    let mut server = Server::start(|seen| {
        is_call(seen).then(|| json_reply(&tool_result(&seen.body["id"], "hello")))
    })
    .await;
    let session = connect(&server).await;
    let result = session
        .direct
        .request(call(), LONG)
        .await
        .expect("a result");
    let ServerResult::CallToolResult(result) = result else {
        panic!("not a tool result: {result:?}");
    };
    assert_eq!(
        result.content[0].as_text().map(|text| text.text.as_str()),
        Some("hello")
    );

    let seen = server.next("tools/call").await;
    assert_eq!(seen.headers["mcp-session-id"], SESSION);
    assert_eq!(seen.headers["mcp-protocol-version"], "2025-06-18");
    let id = seen.body["id"].as_str().expect("a string id");
    assert!(id.starts_with("d-"), "{id}");
    assert_eq!(seen.body["params"]["_meta"]["progressToken"], id);
}

#[tokio::test]
async fn other_messages_on_the_stream_reach_rmcp_and_the_answer_the_caller() {
    let mut server = Server::start(|seen| {
        is_call(seen).then(|| {
            let log = json!({
                "jsonrpc": "2.0",
                "method": "notifications/progress",
                "params": {"progressToken": seen.body["id"], "progress": 1}
            });
            let events = [
                ": a comment\n\n".to_owned(),
                data_event(&log),
                "event: ping\ndata: {}\n\n".to_owned(),
                data_event(&tool_result(&seen.body["id"], "done")),
            ];
            sse_reply(&events, true)
        })
    })
    .await;
    let mut session = connect(&server).await;
    let result = session
        .direct
        .request(call(), LONG)
        .await
        .expect("a result");
    assert!(matches!(result, ServerResult::CallToolResult(_)));
    let progress = session
        .progress
        .recv()
        .await
        .expect("the progress notification");
    let sent = server.next("tools/call").await;
    assert_eq!(json!(progress.progress_token), sent.body["id"]);
}

#[tokio::test]
async fn a_stream_that_ends_before_the_answer_is_resumed_from_its_last_event() {
    let answer_id: Arc<Mutex<Value>> = Arc::default();
    let remembered = Arc::clone(&answer_id);
    let mut server = Server::start(move |seen| {
        if is_call(seen) {
            *remembered.lock().expect("id") = seen.body["id"].clone();
            return Some(sse_reply(
                &["id: e-1\nretry: 5\ndata: \n\n".to_owned()],
                false,
            ));
        }
        if seen.method == http::Method::GET && seen.headers.contains_key("last-event-id") {
            let id = remembered.lock().expect("id").clone();
            return Some(sse_reply(&[data_event(&tool_result(&id, "resumed"))], true));
        }
        None
    })
    .await;
    let session = connect(&server).await;
    let result = session
        .direct
        .request(call(), LONG)
        .await
        .expect("a result");
    let ServerResult::CallToolResult(result) = result else {
        panic!("not a tool result: {result:?}");
    };
    assert_eq!(
        result.content[0].as_text().map(|text| text.text.as_str()),
        Some("resumed")
    );
    let resumed = loop {
        let seen = server.seen.recv().await.expect("running");
        if seen.method == http::Method::GET && seen.headers.contains_key("last-event-id") {
            break seen;
        }
    };
    assert_eq!(resumed.headers["last-event-id"], "e-1");
    assert_eq!(resumed.headers["mcp-session-id"], SESSION);
}

#[tokio::test]
async fn a_stream_that_ends_without_an_event_id_is_a_protocol_error() {
    let server = Server::start(|seen| is_call(seen).then(|| sse_reply(&[], false))).await;
    let session = connect(&server).await;
    let error = session.direct.request(call(), LONG).await.unwrap_err();
    let RequestError::Transport(TransportError::Protocol { detail }) = &error else {
        panic!("not a protocol error: {error:?}");
    };
    assert!(detail.contains("ended before its answer"), "{detail}");
}

#[tokio::test]
async fn a_forgotten_session_is_handed_back_undelivered() {
    let server = Server::start(|seen| is_call(seen).then(|| reply(404, None, ""))).await;
    let session = connect(&server).await;
    let error = session.direct.request(call(), LONG).await.unwrap_err();
    assert!(
        matches!(
            error,
            RequestError::NotDelivered(TransportError::SessionExpired)
        ),
        "{error:?}"
    );
}

#[tokio::test]
async fn nothing_is_sent_before_the_handshake() {
    let server = Server::start(|_| None).await;
    let transport = HttpClient::new(HttpOptions::default())
        .expect("client")
        .transport(&server.url, None, Default::default())
        .expect("transport");
    let error = transport
        .direct_requests()
        .request(call(), LONG)
        .await
        .unwrap_err();
    assert!(matches!(error, RequestError::NotDelivered(_)), "{error:?}");
}

#[tokio::test]
async fn json_rpc_errors_are_typed_with_or_without_an_error_status() {
    let server = Server::start(|seen| {
        if !is_call(seen) {
            return None;
        }
        let error = json!({
            "jsonrpc": "2.0",
            "id": seen.body["id"],
            "error": {"code": -32602, "message": "no such tool"}
        });
        let status = if seen.body["params"]["name"] == "bad-status" {
            400
        } else {
            200
        };
        Some(reply(status, Some("application/json"), &error.to_string()))
    })
    .await;
    let session = connect(&server).await;
    for name in ["echo", "bad-status"] {
        let request =
            ClientRequest::CallToolRequest(McpRequest::new(CallToolRequestParams::new(name)));
        let error = session.direct.request(request, LONG).await.unwrap_err();
        let RequestError::Rpc { method, error } = error else {
            panic!("not a JSON-RPC error for {name}: {error:?}");
        };
        assert_eq!(
            (method.as_str(), error.code.0),
            ("tools/call", -32602),
            "{name}"
        );
    }
}

#[tokio::test]
async fn an_answer_to_another_id_is_a_protocol_error() {
    let server = Server::start(|seen| {
        is_call(seen).then(|| json_reply(&tool_result(&json!("d-999"), "not yours")))
    })
    .await;
    let session = connect(&server).await;
    let error = session.direct.request(call(), LONG).await.unwrap_err();
    assert!(
        matches!(
            error,
            RequestError::Transport(TransportError::Protocol { .. })
        ),
        "{error:?}"
    );
}

#[tokio::test]
async fn a_timeout_tells_the_server_to_cancel_the_request() {
    let mut server = Server::start(|seen| {
        is_call(seen).then(|| sse_reply(&["id: e-1\ndata: \n\n".to_owned()], true))
    })
    .await;
    let session = connect(&server).await;
    let timeout = Duration::from_millis(50);
    let error = session.direct.request(call(), timeout).await.unwrap_err();
    assert!(matches!(error, RequestError::Timeout { .. }), "{error:?}");
    let sent = server.next("tools/call").await;
    let cancelled = server.next("notifications/cancelled").await;
    assert_eq!(cancelled.body["params"]["requestId"], sent.body["id"]);
    assert_eq!(cancelled.headers["mcp-session-id"], SESSION);
}

#[tokio::test]
async fn a_dropped_request_tells_the_server_to_cancel_it() {
    let mut server = Server::start(|seen| {
        is_call(seen).then(|| sse_reply(&["id: e-1\ndata: \n\n".to_owned()], true))
    })
    .await;
    let session = connect(&server).await;
    let mut request = Box::pin(session.direct.request(call(), LONG));
    // Polled until the server has the request, then dropped.
    let sent = tokio::select! {
        _ = &mut request => panic!("the request was never answered"),
        sent = server.next("tools/call") => sent,
    };
    drop(request);
    let cancelled = server.next("notifications/cancelled").await;
    assert_eq!(cancelled.body["params"]["requestId"], sent.body["id"]);
}
