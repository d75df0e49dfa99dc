//! Our streamable HTTP transport under rmcp, against a scripted loopback server: the standalone
//! stream, resumption, the end of a session.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use http::Method;
use rmcp::ClientHandler;
use rmcp::model::CallToolRequestParams;
use rmcp::service::{NotificationContext, RoleClient, RunningService};
use serde_json::{Value, json};
use tokio::sync::mpsc;

use crate::scripted::{
    SESSION, Seen, Server, data_event, hang, is_call, is_resumption, reply, sse_reply, tool_result,
    watched_sse_reply,
};
use crate::support::text_of;

/// Counts the `tools/list_changed` notifications rmcp hands it.
#[derive(Clone)]
struct Recorder(mpsc::UnboundedSender<()>);

impl ClientHandler for Recorder {
    async fn on_tool_list_changed(&self, _context: NotificationContext<RoleClient>) {
        let _ = self.0.send(());
    }
}

async fn connect(
    server: &Server,
) -> (
    RunningService<RoleClient, Recorder>,
    mpsc::UnboundedReceiver<()>,
) {
    let transport = server.transport();
    let (sender, changes) = mpsc::unbounded_channel();
    let service = rmcp::serve_client(Recorder(sender), transport)
        .await
        .expect("handshake");
    (service, changes)
}

fn list_changed() -> String {
    data_event(&json!({"jsonrpc": "2.0", "method": "notifications/tools/list_changed"}))
}

fn is_get(seen: &Seen) -> bool {
    seen.method == Method::GET
}

/// A tool call through rmcp with a 50 ms timeout, which the server never answers in time: rmcp
/// fails it and sends `notifications/cancelled`.
async fn call_until_rmcp_times_out(service: &RunningService<RoleClient, Recorder>) {
    let mut options = rmcp::service::PeerRequestOptions::no_options();
    options.timeout = Some(Duration::from_millis(50));
    let request = rmcp::model::ClientRequest::CallToolRequest(rmcp::model::Request::new(call()));
    let handle = service
        .peer()
        .send_cancellable_request(request, options)
        .await
        .expect("sent");
    let error = handle
        .await_response()
        .await
        .expect_err("no answer in time");
    assert!(
        matches!(error, rmcp::ServiceError::Timeout { .. }),
        "{error:?}"
    );
}

fn call() -> CallToolRequestParams {
    CallToolRequestParams::new("echo")
}

#[tokio::test]
async fn the_standalone_stream_delivers_and_resumes_from_its_last_event() {
    let mut server = Server::start(|seen| {
        if !is_get(seen) {
            return None;
        }
        Some(match seen.headers.get("last-event-id") {
            // The first stream: one message, then the server closes it.
            None => sse_reply(&[format!("id: g-1\nretry: 5\n{}", list_changed())], false),
            Some(_) => sse_reply(&[list_changed()], true),
        })
    })
    .await;
    let (_service, mut changes) = connect(&server).await;
    changes.recv().await.expect("the first notification");
    changes
        .recv()
        .await
        .expect("the notification on the resumed stream");
    let first = server.next_http(Method::GET, |_| true).await;
    assert_eq!(first.headers["mcp-session-id"], SESSION);
    assert_eq!(first.headers["mcp-protocol-version"], "2025-06-18");
    let resumed = server
        .next_http(Method::GET, |seen| {
            seen.headers.contains_key("last-event-id")
        })
        .await;
    assert_eq!(resumed.headers["last-event-id"], "g-1");
}

#[tokio::test]
async fn closing_ends_the_session_on_the_server() {
    let mut server = Server::start(|_| None).await;
    let (service, _changes) = connect(&server).await;
    service.cancel().await.expect("closed");
    let deleted = server.next_http(Method::DELETE, |_| true).await;
    assert_eq!(deleted.headers["mcp-session-id"], SESSION);
}

#[tokio::test]
async fn an_answer_stream_that_ends_early_is_resumed_for_rmcp() {
    let call_id: Arc<std::sync::Mutex<Value>> = Arc::default();
    let remembered = Arc::clone(&call_id);
    let server = Server::start(move |seen| {
        if is_call(seen) {
            *remembered.lock().expect("id") = seen.body["id"].clone();
            return Some(sse_reply(
                &["id: p-1\nretry: 5\ndata: \n\n".to_owned()],
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
    let (service, _changes) = connect(&server).await;
    let result = service.peer().call_tool(call()).await.expect("a result");
    assert_eq!(text_of(&result), "resumed");
}

#[tokio::test]
async fn an_answer_stream_that_ends_without_an_event_id_fails_the_request_at_once() {
    let server = Server::start(|seen| is_call(seen).then(|| sse_reply(&[], false))).await;
    let (service, _changes) = connect(&server).await;
    let outcome = tokio::time::timeout(Duration::from_secs(20), service.peer().call_tool(call()))
        .await
        .expect("an answer before any timeout");
    let error = outcome.expect_err("no result");
    assert!(
        error.to_string().contains("ended before the answer"),
        "{error}"
    );
}

#[tokio::test]
async fn a_failed_reinitialization_fails_the_message_and_is_tried_again_by_the_next() {
    let initializations = Arc::new(AtomicUsize::new(0));
    let counted = Arc::clone(&initializations);
    let server = Server::start(move |seen| {
        if seen.rpc_method() == Some("initialize") && counted.fetch_add(1, Ordering::SeqCst) > 0 {
            return Some(reply(500, None, "down"));
        }
        is_call(seen).then(|| reply(404, None, ""))
    })
    .await;
    let (service, _changes) = connect(&server).await;
    for attempt in 1..=2 {
        let error = service
            .peer()
            .call_tool(call())
            .await
            .expect_err("the server is down");
        assert!(error.to_string().contains("500"), "{error}");
        assert_eq!(initializations.load(Ordering::SeqCst), 1 + attempt);
    }
}

#[tokio::test]
async fn a_request_rmcp_cancels_stops_having_its_stream_read() {
    let (dropped, mut stream_dropped) = mpsc::unbounded_channel();
    let mut server = Server::start(move |seen| {
        is_call(seen)
            .then(|| watched_sse_reply(&["id: p-1\ndata: \n\n".to_owned()], dropped.clone()))
    })
    .await;
    let (service, _changes) = connect(&server).await;
    call_until_rmcp_times_out(&service).await;
    let sent = server.next("tools/call").await;
    let cancelled = server.next("notifications/cancelled").await;
    assert_eq!(cancelled.body["params"]["requestId"], sent.body["id"]);
    // Bounded so that a regression fails rather than hangs.
    tokio::time::timeout(Duration::from_secs(10), stream_dropped.recv())
        .await
        .expect("the client let go of the stream")
        .expect("the server is running");
}

#[tokio::test]
async fn a_request_rmcp_cancels_before_any_answer_is_abandoned_at_once() {
    let mut server = Server::start(|seen| is_call(seen).then(hang)).await;
    let (service, _changes) = connect(&server).await;
    call_until_rmcp_times_out(&service).await;
    // Bounded so that a regression fails rather than hangs.
    tokio::time::timeout(Duration::from_secs(10), server.abandoned.recv())
        .await
        .expect("the client let go of the POST")
        .expect("the server is running");
}

#[tokio::test]
async fn a_standalone_stream_that_keeps_closing_is_followed_for_the_whole_session() {
    // No event ids, one message per stream: more reconnects than the policy's 5 attempts, each
    // of which delivers.
    let server = Server::start(|seen| {
        is_get(seen).then(|| sse_reply(&[format!("retry: 1\n{}", list_changed())], false))
    })
    .await;
    let (_service, mut changes) = connect(&server).await;
    for _ in 0..8 {
        tokio::time::timeout(Duration::from_secs(10), changes.recv())
            .await
            .expect("the stream was reopened")
            .expect("the handler is running");
    }
}

#[tokio::test]
async fn the_handshake_ends_once_the_standalone_stream_is_open() {
    // A server may send its own requests on the standalone stream as soon as the handshake is
    // over, and drop them while no stream is open (the TypeScript SDK's `server.request` does).
    // Before, the stream was opened after the handshake, and a few sessions in a row always
    // showed the race. Each session has a server of its own, so a late GET counts for no other.
    for session in 0..5 {
        let (answered, mut get_answered) = mpsc::unbounded_channel();
        let server = Server::start(move |seen| {
            is_get(seen).then(|| {
                // Sent as the answer is handed to the connection, before the client can read it.
                let _ = answered.send(());
                sse_reply(&[], true)
            })
        })
        .await;
        let service = rmcp::serve_client((), server.transport())
            .await
            .expect("handshake");
        if let Err(error) = get_answered.try_recv() {
            panic!(
                "session {session}: the handshake ended before the standalone GET was answered ({error})"
            );
        }
        drop(service);
    }
}
