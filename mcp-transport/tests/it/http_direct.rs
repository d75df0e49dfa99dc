//! Direct requests over streamable HTTP, against a scripted loopback server that speaks just enough
//! of the protocol for rmcp's handshake and then answers each test's request its own way.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use mcp_transport::http::HttpDirectRequests;
use mcp_transport::{RequestError, TransportError};
use rmcp::ClientHandler;
use rmcp::model::{
    CallToolRequestParams, ClientRequest, ProgressNotificationParam, Request as McpRequest,
    ServerResult,
};
use rmcp::service::{NotificationContext, RoleClient, RunningService};
use serde_json::{Value, json};
use tokio::sync::mpsc;

use crate::scripted::{
    SESSION, Server, data_event, is_call, is_resumption, json_reply, reply, sse_reply, tool_result,
};
use crate::support::{text_of, tool_call_result};

/// Calls a tool directly and returns the text of its result.
async fn text_of_call(session: &Session) -> String {
    let result = session
        .direct
        .request(call(), LONG)
        .await
        .expect("a result");
    text_of(&tool_call_result(result)).to_owned()
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
    let transport = server.transport();
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
    assert_eq!(text_of_call(&session).await, "hello");

    let seen = server.next("tools/call").await;
    assert_eq!(seen.headers["mcp-session-id"], SESSION);
    assert_eq!(seen.headers["mcp-protocol-version"], "2025-06-18");
    let id = seen.body["id"].as_str().expect("a string id");
    assert!(id.starts_with("d-"), "{id}");
    assert_eq!(seen.body["params"]["_meta"]["progressToken"], id);
}

/// Protocol 2026-07-28's standard headers, and a tool's `x-mcp-header` parameters mirrored into
/// `Mcp-Param-*` headers, on a direct call and on one that goes through rmcp.
#[tokio::test]
async fn calls_carry_the_method_name_and_mirrored_parameter_headers() {
    let mut server = Server::start(|seen| {
        is_call(seen).then(|| json_reply(&tool_result(&seen.body["id"], "ok")))
    })
    .await;
    let transport = server.transport();
    let direct = transport.direct_requests();
    let service = rmcp::serve_client((), transport).await.expect("handshake");
    let schema = json!({"type": "object", "properties": {
        "region": {"type": "string", "x-mcp-header": "Region"},
        "query": {"type": "string"}}});
    let Value::Object(schema) = schema else {
        unreachable!("an object")
    };
    let declared = mcp_transport::ParamHeaders::from_schema(&schema)
        .expect("valid")
        .expect("declared");
    direct
        .tool_headers()
        .replace([("execute_sql".to_owned(), declared)]);
    let arguments = json!({"region": "us-west1", "query": "SELECT 1"});
    let mut params = CallToolRequestParams::new("execute_sql");
    params.arguments = arguments.as_object().cloned();
    let request = ClientRequest::CallToolRequest(McpRequest::new(params.clone()));
    direct.request(request, LONG).await.expect("direct call");
    let seen = server.next("tools/call").await;
    assert_eq!(seen.headers["mcp-method"], "tools/call");
    assert_eq!(seen.headers["mcp-name"], "execute_sql");
    assert_eq!(seen.headers["mcp-param-region"], "us-west1");
    assert!(!seen.headers.contains_key("mcp-param-query"));
    service.call_tool(params).await.expect("call through rmcp");
    let seen = server.next("tools/call").await;
    assert_eq!(seen.headers["mcp-name"], "execute_sql");
    assert_eq!(seen.headers["mcp-param-region"], "us-west1");
    let _ = service.cancel().await;
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
        if is_resumption(seen) {
            let id = remembered.lock().expect("id").clone();
            return Some(sse_reply(&[data_event(&tool_result(&id, "resumed"))], true));
        }
        None
    })
    .await;
    let session = connect(&server).await;
    assert_eq!(text_of_call(&session).await, "resumed");
    let resumed = server.next_http(http::Method::GET, is_resumption).await;
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
    assert!(detail.contains("ended before the answer"), "{detail}");
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
    let transport = server.transport();
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
