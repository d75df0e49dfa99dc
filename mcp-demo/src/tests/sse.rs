//! The legacy HTTP+SSE endpoint over plain HTTP/1.1: sessions, messages, refusals, and every
//! session ending with its stream or with the server.

use std::net::SocketAddr;

use http::StatusCode;
use serde_json::json;

use super::{
    bounded,
    sse_client::{LEGACY_VERSION, SseStream, call, initialize, initialized, post, post_accepted},
};
use crate::{DemoHttpHandle, DemoHttpServer, SERVER_NAME};

async fn start() -> DemoHttpHandle {
    let addr = SocketAddr::from(([127, 0, 0, 1], 0));
    bounded("binding", DemoHttpServer::bind(addr))
        .await
        .expect("a loopback port")
        .spawn()
}

#[tokio::test]
async fn get_sse_opens_a_session_whose_first_event_names_its_message_url() {
    let handle = start().await;
    assert_eq!(
        handle.sse_url(),
        format!("http://{}/sse", handle.local_addr())
    );
    let mut stream = SseStream::open(handle.local_addr(), None).await;
    assert_eq!(stream.status, StatusCode::OK);
    assert_eq!(
        stream.headers.get("content-type").map(|v| v.as_bytes()),
        Some(&b"text/event-stream"[..])
    );
    let endpoint = stream.endpoint().await;
    let id = endpoint
        .strip_prefix("/messages?sessionId=")
        .unwrap_or_else(|| panic!("a message URL: {endpoint}"));
    assert_eq!(id.len(), 32, "{id}");
    assert_eq!(handle.sse_sessions(), 1);

    let other = SseStream::open(handle.local_addr(), None)
        .await
        .endpoint()
        .await;
    assert_ne!(other, endpoint, "each session has its own id");
}

#[tokio::test]
async fn initialize_is_accepted_with_202_and_answered_on_the_stream() {
    let handle = start().await;
    let addr = handle.local_addr();
    let mut stream = SseStream::open(addr, None).await;
    let endpoint = stream.endpoint().await;

    post_accepted(addr, &endpoint, None, &initialize(7)).await;
    let answer = stream.message().await;
    assert_eq!(answer["jsonrpc"], "2.0");
    assert_eq!(answer["id"], 7);
    assert_eq!(answer["result"]["protocolVersion"], LEGACY_VERSION);
    assert_eq!(answer["result"]["serverInfo"]["name"], SERVER_NAME);
}

#[tokio::test]
async fn tools_are_listed_and_called_over_the_session() {
    let handle = start().await;
    let addr = handle.local_addr();
    let (mut stream, endpoint, _) = initialized(addr, None).await;

    let list = json!({ "jsonrpc": "2.0", "id": 2, "method": "tools/list" });
    post_accepted(addr, &endpoint, None, &list).await;
    let answer = stream.message().await;
    assert_eq!(answer["id"], 2);
    let tools = answer["result"]["tools"].as_array().expect("a tool list");
    assert!(tools.iter().any(|tool| tool["name"] == "echo"), "{answer}");

    post_accepted(
        addr,
        &endpoint,
        None,
        &call(3, "echo", json!({ "text": "over sse" })),
    )
    .await;
    let answer = stream.message().await;
    assert_eq!(answer["id"], 3);
    assert_eq!(answer["result"]["content"][0]["text"], "over sse");
}

#[tokio::test]
async fn a_post_for_an_unknown_session_is_404() {
    let handle = start().await;
    let posted = post(
        handle.local_addr(),
        "/messages?sessionId=00000000000000000000000000000000",
        None,
        initialize(1).to_string(),
    )
    .await;
    assert_eq!(posted.status, StatusCode::NOT_FOUND, "{posted:?}");
}

#[tokio::test]
async fn a_post_without_a_session_id_or_with_a_body_that_is_not_json_is_400() {
    let handle = start().await;
    let addr = handle.local_addr();
    let mut stream = SseStream::open(addr, None).await;
    let endpoint = stream.endpoint().await;

    let posted = post(addr, "/messages", None, initialize(1).to_string()).await;
    assert_eq!(posted.status, StatusCode::BAD_REQUEST, "{posted:?}");
    let posted = post(addr, &endpoint, None, "not json").await;
    assert_eq!(posted.status, StatusCode::BAD_REQUEST, "{posted:?}");
    let posted = post(addr, &endpoint, None, r#"{"not":"json-rpc"}"#).await;
    assert_eq!(posted.status, StatusCode::BAD_REQUEST, "{posted:?}");

    // The session is unharmed.
    post_accepted(addr, &endpoint, None, &initialize(1)).await;
    assert_eq!(stream.message().await["id"], 1);
}

#[tokio::test]
async fn wrong_methods_are_405_and_a_remote_web_page_is_forbidden() {
    let handle = start().await;
    let addr = handle.local_addr();
    let posted = post(addr, "/sse", None, "{}").await;
    assert_eq!(posted.status, StatusCode::METHOD_NOT_ALLOWED, "{posted:?}");
    assert_eq!(
        posted.headers.get("allow").map(|v| v.as_bytes()),
        Some(&b"GET"[..])
    );

    let request = format!(
        "GET /sse HTTP/1.1\r\nHost: {addr}\r\nOrigin: https://attacker.example\r\n\
         Accept: text/event-stream\r\nConnection: close\r\n\r\n"
    );
    let response = raw_exchange(addr, &request).await;
    assert!(response.starts_with("HTTP/1.1 403"), "{response}");
    assert_eq!(handle.sse_sessions(), 0);
}

#[tokio::test]
async fn dropping_the_event_stream_ends_the_session_and_its_task() {
    let handle = start().await;
    let addr = handle.local_addr();
    let (stream, endpoint, _) = initialized(addr, None).await;
    assert_eq!(handle.sse_sessions(), 1);

    drop(stream);
    bounded("the session ending", handle.sse_sessions_ended()).await;
    assert_eq!(handle.sse_sessions(), 0);
    let posted = post(addr, &endpoint, None, initialize(2).to_string()).await;
    assert_eq!(posted.status, StatusCode::NOT_FOUND, "{posted:?}");
}

#[tokio::test]
async fn a_failed_handshake_ends_the_session_and_its_stream() {
    let handle = start().await;
    let addr = handle.local_addr();
    let mut stream = SseStream::open(addr, None).await;
    let endpoint = stream.endpoint().await;
    // A notification before `initialize` is a handshake rmcp refuses.
    let initialized = json!({ "jsonrpc": "2.0", "method": "notifications/initialized" });
    post_accepted(addr, &endpoint, None, &initialized).await;
    assert_eq!(stream.next_event().await, None, "the stream ends");
    bounded("the session ending", handle.sse_sessions_ended()).await;
}

#[tokio::test]
async fn close_ends_open_event_streams_and_leaves_nothing_running() {
    let handle = start().await;
    let addr = handle.local_addr();
    let watch = handle.watch();
    let sessions = handle.sse_session_counter();
    let (mut first, _, _) = initialized(addr, None).await;
    let mut second = SseStream::open(addr, None).await;
    let _ = second.endpoint().await;
    assert_eq!(sessions.count(), 2);

    let closing = tokio::spawn(handle.close());
    assert_eq!(first.next_event().await, None, "close ends the stream");
    assert_eq!(second.next_event().await, None, "close ends the stream");
    bounded("closing", closing)
        .await
        .expect("the close task")
        .expect("a clean stop");
    assert!(!watch.is_open(), "every socket is closed");
    assert_eq!(
        sessions.count(),
        0,
        "close returns after every session's task ended"
    );
}

#[tokio::test]
async fn dropping_the_handle_ends_the_sessions_too() {
    let handle = start().await;
    let addr = handle.local_addr();
    let sessions = handle.sse_session_counter();
    let (mut stream, _, _) = initialized(addr, None).await;
    drop(handle);
    // Cut off, not ended: dropping the handle lets nothing finish.
    stream.closed().await;
    bounded("the session ending", sessions.ended()).await;
}

/// Sends a raw HTTP/1.1 request on a new connection and reads the response until the server
/// closes it (`Connection: close`).
async fn raw_exchange(addr: SocketAddr, request: &str) -> String {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

    let mut stream = bounded("connecting", tokio::net::TcpStream::connect(addr))
        .await
        .expect("the server accepts");
    stream.write_all(request.as_bytes()).await.expect("sent");
    let mut response = String::new();
    bounded("reading the response", stream.read_to_string(&mut response))
        .await
        .expect("a response");
    response
}
