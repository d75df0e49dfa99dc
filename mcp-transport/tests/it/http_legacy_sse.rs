//! The legacy HTTP+SSE transport (protocol 2024-11-05) under rmcp, against a scripted loopback
//! server that plays one: a `GET` event stream that names its endpoint, and `POST`s answered 202
//! whose answers go out on that stream.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use mcp_transport::{HttpClient, LegacySseTransport, TransportError};
use rmcp::model::CallToolRequestParams;
use serde_json::{Value, json};
use tokio::sync::mpsc;

use crate::scripted::{Seen, Server, direct, fed_sse_reply, feed, reply, take, tool_result};
use crate::support::{eventually, text_of};

/// The answer a tiny legacy server gives to a request: `initialize`, `tools/list` and an `echo`
/// `tools/call`; `None` for a notification, or for a call the test answers itself (`hold`).
fn answer(seen: &Seen) -> Option<Value> {
    let id = seen.body.get("id")?.clone();
    match seen.rpc_method()? {
        "initialize" => Some(json!({
            "jsonrpc": "2.0",
            "id": id,
            "result": {
                "protocolVersion": "2024-11-05",
                "capabilities": {"tools": {}},
                "serverInfo": {"name": "legacy", "version": "1"}
            }
        })),
        "tools/list" => Some(json!({
            "jsonrpc": "2.0",
            "id": id,
            "result": {"tools": [{"name": "echo", "inputSchema": {"type": "object"}}]}
        })),
        "tools/call" if seen.body["params"]["name"] == "hold" => None,
        "tools/call" => Some(tool_result(
            &id,
            seen.body["params"]["arguments"]["text"]
                .as_str()
                .unwrap_or(""),
        )),
        _ => None,
    }
}

/// A legacy server at `server.url` whose stream first names `endpoint`; the returned sender feeds
/// its stream (the test may end the stream by dropping it, and sees the client leave when it is
/// closed). `posts` counts the `POST`s.
async fn legacy_server(
    endpoint: &str,
) -> (Server, mpsc::UnboundedSender<String>, Arc<AtomicUsize>) {
    let (events, stream) = feed();
    events
        .send(format!("event: endpoint\ndata: {endpoint}\n\n"))
        .expect("the feed is open");
    // Weak: the test's sender is the only one keeping the stream open, so dropping it ends it.
    let to_stream = events.downgrade();
    let posts = Arc::new(AtomicUsize::new(0));
    let counted = Arc::clone(&posts);
    let server = Server::answering(move |seen| match seen.method.as_str() {
        "GET" => match take(&stream) {
            Some(stream) => fed_sse_reply(stream),
            None => reply(409, None, "one stream only"),
        },
        "POST" if seen.path == "/messages" => {
            counted.fetch_add(1, Ordering::SeqCst);
            if let Some(answer) = answer(seen)
                && let Some(to_stream) = to_stream.upgrade()
            {
                let _ = to_stream.send(format!("event: message\ndata: {answer}\n\n"));
            }
            reply(202, Some("text/plain"), "Accepted")
        }
        _ => reply(404, None, ""),
    })
    .await;
    (server, events, posts)
}

async fn open(url: &str) -> Result<LegacySseTransport, TransportError> {
    HttpClient::new(direct())
        .expect("client")
        .legacy_sse(url, None, Default::default())
        .await
}

#[tokio::test]
async fn a_session_runs_over_the_stream_and_the_endpoint_it_names() {
    let (server, _events, posts) = legacy_server("/messages?sessionId=abc").await;
    let transport = open(&server.url)
        .await
        .expect("the stream names its endpoint");
    let origin = server.url.trim_end_matches("/mcp");
    assert_eq!(
        transport.endpoint(),
        format!("{origin}/messages?sessionId=abc")
    );
    let client = rmcp::serve_client((), transport)
        .await
        .expect("initialized");
    let info = client.peer_info().expect("the initialize result");
    let name = info.server_info.as_ref().map(|info| info.name.as_str());
    assert_eq!(name, Some("legacy"));
    let tools = client.list_all_tools().await.expect("listed");
    assert_eq!(tools.len(), 1);
    let result = client
        .call_tool(
            CallToolRequestParams::new("echo").with_arguments(
                json!({"text": "over sse"})
                    .as_object()
                    .cloned()
                    .expect("object"),
            ),
        )
        .await
        .expect("answered");
    assert_eq!(text_of(&result), "over sse");
    // initialize, notifications/initialized, tools/list, tools/call: each its own POST.
    assert_eq!(posts.load(Ordering::SeqCst), 4);
    let _ = client.cancel().await;
}

#[tokio::test]
async fn an_endpoint_on_another_origin_is_refused() {
    let (server, _events, posts) = legacy_server("http://127.0.0.2:9/steal?sessionId=abc").await;
    let error = open(&server.url).await.expect_err("refused");
    assert!(error.is_protocol(), "{error:?}");
    assert!(error.to_string().contains("another origin"), "{error}");
    assert_eq!(posts.load(Ordering::SeqCst), 0, "nothing was sent anywhere");
}

#[tokio::test]
async fn an_html_error_page_is_quoted_by_its_title_not_inlined() {
    let page = "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Error</title>\
                <style>body { color: red }</style></head><body><pre>Cannot GET /mcp</pre></body></html>";
    let server =
        Server::answering(move |_| reply(404, Some("text/html; charset=utf-8"), page)).await;
    let error = open(&server.url).await.expect_err("not an SSE endpoint");
    assert!(
        matches!(error, TransportError::HttpStatus { status: 404, .. }),
        "{error:?}"
    );
    let message = error.to_string();
    assert!(message.contains("Error (an HTML page)"), "{message}");
    assert!(
        !message.contains('<'),
        "no markup in the message: {message}"
    );
}

#[tokio::test]
async fn a_response_that_is_not_an_event_stream_says_what_it_was() {
    let server = Server::answering(|_| reply(200, Some("application/json"), "{}")).await;
    let error = open(&server.url).await.expect_err("not an SSE stream");
    assert!(error.is_protocol(), "{error:?}");
    assert!(
        error.to_string().contains("content type application/json"),
        "{error}"
    );
}

#[tokio::test]
async fn a_stream_closed_mid_call_fails_the_call_with_the_reason() {
    let (server, events, _posts) = legacy_server("/messages?sessionId=abc").await;
    let transport = open(&server.url).await.expect("open");
    let reason = transport.close_reason();
    let client = rmcp::serve_client((), transport)
        .await
        .expect("initialized");
    let call = client.call_tool(CallToolRequestParams::new("hold"));
    let close = async {
        // The call is on its way once the server has seen it; then the stream ends.
        eventually("the call is posted", || {
            server
                .requests()
                .iter()
                .any(|seen| seen.body["params"]["name"] == "hold")
        })
        .await;
        drop(events);
    };
    let (outcome, ()) = tokio::join!(call, close);
    outcome.expect_err("the stream closed under the call");
    eventually("the reason is recorded", || reason.get().is_some()).await;
    let reason = reason.get().expect("recorded");
    assert!(
        reason.to_string().contains("closed the SSE stream"),
        "{reason}"
    );
}

#[tokio::test]
async fn dropping_the_transport_closes_the_stream() {
    let (server, events, _posts) = legacy_server("/messages?sessionId=abc").await;
    let transport = open(&server.url).await.expect("open");
    assert!(!events.is_closed());
    drop(transport);
    // The server's side of the stream goes when the connection does.
    eventually("the server sees the stream closed", || events.is_closed()).await;
    drop(server);
}
