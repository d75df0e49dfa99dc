//! An answer belongs on its request's own stream or a resumption of it, but some servers answer on
//! another of the session's streams once the request's own is closed (the conformance suite's
//! `sse-retry` server answers on whichever `GET` comes next, the standalone one included). The
//! answer reaches the waiting request whichever stream carries it, on the direct path and on
//! rmcp's, in either order of the race. The order is driven by the tests, through streams whose
//! events they send themselves. (Duplicates are dropped: `inbound.rs`'s unit tests.)

use std::sync::Arc;
use std::time::Duration;

use http::Method;
use mcp_transport::http::HttpDirectRequests;
use rmcp::model::{CallToolRequestParams, ClientRequest, Request as McpRequest, ServerResult};
use rmcp::service::{RoleClient, RunningService};
use serde_json::Value;
use tokio::sync::mpsc;

use crate::scripted::{
    Feed, Server, data_event, fed_sse_reply, feed, is_call, is_resumption, is_standalone,
    sse_reply, take, tool_result, watched_sse_reply,
};
use crate::support::{text_of, tool_call_result};

/// The longest any step may take before the test fails rather than hangs.
const BOUND: Duration = Duration::from_secs(20);

/// A server whose standalone stream and first `tools/call` stream carry what the test sends; a
/// resumption of the call's stream stays open and carries nothing (the answer went elsewhere).
struct Scene {
    server: Server,
    standalone: mpsc::UnboundedSender<String>,
    post: mpsc::UnboundedSender<String>,
}

impl Scene {
    async fn start() -> Self {
        let (standalone, standalone_feed) = feed();
        let (post, post_feed) = feed();
        let server = Server::start(move |seen| {
            if is_standalone(seen) {
                return take(&standalone_feed).map(fed_sse_reply);
            }
            if is_call(seen) {
                return take(&post_feed).map(fed_sse_reply);
            }
            is_resumption(seen).then(|| sse_reply(&[], true))
        })
        .await;
        Self {
            server,
            standalone,
            post,
        }
    }

    /// Waits until the client has opened the standalone stream.
    async fn standalone_opened(&mut self) {
        self.server.next_http(Method::GET, is_standalone).await;
    }

    /// Waits for the call's POST and returns its JSON-RPC id.
    async fn call_id(&mut self) -> Value {
        self.server.next("tools/call").await.body["id"].clone()
    }
}

fn priming(retry_ms: u64) -> String {
    format!("id: e-1\nretry: {retry_ms}\ndata: \n\n")
}

fn call() -> ClientRequest {
    ClientRequest::CallToolRequest(McpRequest::new(CallToolRequestParams::new("echo")))
}

async fn direct_session(server: &Server) -> (HttpDirectRequests, RunningService<RoleClient, ()>) {
    let transport = server.transport();
    let direct = transport.direct_requests();
    let service = rmcp::serve_client((), transport).await.expect("handshake");
    (direct, service)
}

type DirectCall = tokio::task::JoinHandle<Result<ServerResult, mcp_transport::RequestError>>;

/// A direct session on the scene's server, its standalone stream open, and a tool call sent:
/// the call, and the JSON-RPC id the server saw.
async fn call_with_standalone_open(
    scene: &mut Scene,
) -> (DirectCall, Value, RunningService<RoleClient, ()>) {
    let (direct, service) = direct_session(&scene.server).await;
    scene.standalone_opened().await;
    let call = tokio::spawn(async move { direct.request(call(), BOUND).await });
    let id = scene.call_id().await;
    (call, id, service)
}

/// The text of a spawned direct call's result, once it has one.
async fn answer_text(call: DirectCall) -> String {
    let result = tokio::time::timeout(BOUND, call)
        .await
        .expect("answered in time")
        .expect("joined")
        .expect("a result");
    text_of(&tool_call_result(result)).to_owned()
}

#[tokio::test]
async fn a_direct_answer_on_the_standalone_stream_while_the_post_stream_is_open() {
    let mut scene = Scene::start().await;
    let (call, id, _service) = call_with_standalone_open(&mut scene).await;
    scene.post.send(priming(3_600_000)).expect("post stream");
    scene
        .standalone
        .send(data_event(&tool_result(&id, "via GET")))
        .expect("standalone stream");
    assert_eq!(answer_text(call).await, "via GET");
}

#[tokio::test]
async fn a_direct_answer_on_the_standalone_stream_after_the_post_stream_closed() {
    let mut scene = Scene::start().await;
    let (call, id, _service) = call_with_standalone_open(&mut scene).await;
    // The POST stream ends after its priming event; the client resumes it (after `retry`), and
    // only then does the answer come, on the other stream.
    scene.post.send(priming(5)).expect("post stream");
    drop(scene.post);
    scene.server.next_http(Method::GET, is_resumption).await;
    scene
        .standalone
        .send(data_event(&tool_result(&id, "via GET")))
        .expect("standalone stream");
    assert_eq!(answer_text(call).await, "via GET");
}

#[tokio::test]
async fn an_rmcp_answer_on_the_standalone_stream_stops_the_post_stream_being_read() {
    let (dropped, mut post_dropped) = mpsc::unbounded_channel();
    let (standalone, standalone_feed) = feed();
    let mut server = Server::start(move |seen| {
        if is_standalone(seen) {
            return take(&standalone_feed).map(fed_sse_reply);
        }
        is_call(seen).then(|| watched_sse_reply(&[priming(3_600_000)], dropped.clone()))
    })
    .await;
    let service = rmcp::serve_client((), server.transport())
        .await
        .expect("handshake");
    server.next_http(Method::GET, is_standalone).await;
    let peer = service.peer().clone();
    let call =
        tokio::spawn(async move { peer.call_tool(CallToolRequestParams::new("echo")).await });
    let id = server.next("tools/call").await.body["id"].clone();
    standalone
        .send(data_event(&tool_result(&id, "via GET")))
        .expect("standalone stream");
    let result = tokio::time::timeout(BOUND, call)
        .await
        .expect("answered in time")
        .expect("joined")
        .expect("a result");
    assert_eq!(text_of(&result), "via GET");
    // The POST stream, which would only ever repeat the answer, is let go.
    tokio::time::timeout(BOUND, post_dropped.recv())
        .await
        .expect("the client let go of the POST stream")
        .expect("the server is running");
}

#[tokio::test]
async fn an_answer_to_another_direct_request_on_a_post_stream_reaches_that_request() {
    let (first_post, first_feed) = feed();
    let second_feed: Feed = Arc::default();
    let (second_post, second_receiver) = mpsc::unbounded_channel();
    *second_feed.lock().expect("feed") = Some(second_receiver);
    let mut server = Server::start(move |seen| {
        if !is_call(seen) {
            return None;
        }
        take(&first_feed)
            .or_else(|| take(&second_feed))
            .map(fed_sse_reply)
    })
    .await;
    let (direct, _service) = direct_session(&server).await;
    let first_request = direct.clone();
    let first = tokio::spawn(async move { first_request.request(call(), BOUND).await });
    let first_id = server.next("tools/call").await.body["id"].clone();
    let second = tokio::spawn(async move { direct.request(call(), BOUND).await });
    let second_id = server.next("tools/call").await.body["id"].clone();
    // Both answers on the first request's stream, the second request's first.
    first_post
        .send(data_event(&tool_result(&second_id, "second")))
        .expect("first stream");
    first_post
        .send(data_event(&tool_result(&first_id, "first")))
        .expect("first stream");
    assert_eq!(answer_text(second).await, "second");
    assert_eq!(answer_text(first).await, "first");
    drop(second_post);
}
