//! Direct requests on the stdio transport (the path that skips rmcp's service loop), against tiny
//! `sh` scripts standing in for servers. A task standing in for rmcp's loop keeps calling
//! `receive`, which is what delivers the answers.

use std::time::Duration;

use mcp_transport::TransportError;
use mcp_transport::error::ExitInfo;
use mcp_transport::stdio::{RequestError, StdioDirectRequests, StdioSpec, StdioTransport};
use rmcp::model::{ClientRequest, ServerJsonRpcMessage, ServerResult};
use rmcp::service::RoleClient;
use rmcp::transport::Transport;
use tokio::sync::mpsc;

/// Reads one request line and sets `$id` to its (string) id.
const READ_ID: &str = r#"read_id() { read -r line; id=$(printf '%s' "$line" | sed 's/.*"id":"\([^"]*\)".*/\1/'); }
"#;

fn script(body: &str) -> StdioSpec {
    StdioSpec::new("sh").args(["-c", &format!("{READ_ID}{body}")])
}

/// Starts a server running `body` and a stand-in for rmcp's loop reading its transport.
fn start(
    body: &str,
) -> (
    StdioDirectRequests,
    mpsc::UnboundedReceiver<ServerJsonRpcMessage>,
) {
    let transport = StdioTransport::spawn("direct", &script(body)).expect("spawned");
    let direct = transport.direct_requests();
    (direct, rmcp_loop(transport))
}

/// Runs `receive` in a loop the way rmcp's service loop does, forwarding what rmcp would get.
fn rmcp_loop(mut transport: StdioTransport) -> mpsc::UnboundedReceiver<ServerJsonRpcMessage> {
    let (sender, receiver) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Some(message) = Transport::<RoleClient>::receive(&mut transport).await {
            if sender.send(message).is_err() {
                break;
            }
        }
    });
    receiver
}

fn ping() -> ClientRequest {
    ClientRequest::PingRequest(Default::default())
}

fn method_of(message: &ServerJsonRpcMessage) -> String {
    let value = serde_json::to_value(message).expect("messages serialise");
    value["method"].as_str().unwrap_or_default().to_owned()
}

#[tokio::test]
async fn the_answer_reaches_the_caller_and_rmcp_sees_only_the_rest() {
    let (direct, mut rmcp) = start(
        r#"read_id
printf '{"jsonrpc":"2.0","method":"notifications/message","params":{"level":"info","data":"before"}}\n'
printf '{"jsonrpc":"2.0","id":"%s","result":{}}\n' "$id"
read -r rest"#,
    );

    let answer = direct
        .request(ping(), Duration::from_secs(10))
        .await
        .expect("answered");
    assert!(matches!(answer, ServerResult::EmptyResult(_)));
    let notification = rmcp.recv().await.expect("the notification reaches rmcp");
    assert_eq!(method_of(&notification), "notifications/message");
    if let Ok(message) = rmcp.try_recv() {
        panic!("the answer must not reach rmcp as well, yet it got {message:?}");
    }
}

#[tokio::test]
async fn a_json_rpc_error_is_typed_with_its_code() {
    let (direct, _rmcp) = start(
        r#"read_id
printf '{"jsonrpc":"2.0","id":"%s","error":{"code":-32601,"message":"no such method"}}\n' "$id"
read -r rest"#,
    );

    let error = direct
        .request(ping(), Duration::from_secs(10))
        .await
        .expect_err("an error answer");
    match error {
        RequestError::Rpc { method, error } => {
            assert_eq!(method, "ping");
            assert_eq!(error.code.0, -32601);
            assert_eq!(error.message, "no such method");
        }
        other => panic!("expected an RPC error, got {other:?}"),
    }
}

#[tokio::test]
async fn an_answer_of_the_wrong_shape_is_a_protocol_error() {
    let (direct, _rmcp) = start(
        r#"read_id
printf '{"jsonrpc":"2.0","id":"%s","result":{"tools":"not a list"}}\n' "$id"
read -r rest"#,
    );

    let list = ClientRequest::ListToolsRequest(Default::default());
    let error = direct
        .request(list, Duration::from_secs(10))
        .await
        .expect_err("not a tool list");
    match error {
        RequestError::Transport(TransportError::Protocol { detail }) => {
            assert!(detail.contains("tools/list"), "{detail}");
        }
        other => panic!("expected a protocol error, got {other:?}"),
    }
}

#[tokio::test(start_paused = true)]
async fn a_timeout_tells_the_server_to_cancel_and_a_late_answer_is_dropped() {
    // The server answers only after the cancellation arrives, then reports which id was cancelled.
    let (direct, mut rmcp) = start(
        r#"read_id
read -r cancel
printf '{"jsonrpc":"2.0","id":"%s","result":{}}\n' "$id"
cancelled=$(printf '%s' "$cancel" | sed 's/.*"requestId":"\([^"]*\)".*/\1/')
printf '{"jsonrpc":"2.0","method":"notifications/message","params":{"level":"info","data":"%s"}}\n' "$cancelled"
read -r rest"#,
    );

    let error = direct
        .request(ping(), Duration::from_secs(30))
        .await
        .expect_err("no answer in time");
    assert!(
        matches!(&error, RequestError::Timeout { method, timeout } if method == "ping" && *timeout == Duration::from_secs(30)),
        "{error:?}"
    );
    let report = rmcp.recv().await.expect("the server's report");
    let value = serde_json::to_value(&report).expect("serialises");
    assert_eq!(value["params"]["data"], "d-1", "the cancelled id");
}

#[tokio::test]
async fn waiting_requests_fail_with_the_reason_when_the_server_exits() {
    let (direct, _rmcp) = start("read_id\necho 'giving up' >&2\nexit 3");

    let error = direct
        .request(ping(), Duration::from_secs(30))
        .await
        .expect_err("the server is gone");
    match error {
        RequestError::Transport(TransportError::ServerExited {
            status,
            stderr_tail,
            ..
        }) => {
            assert_eq!(status, Some(ExitInfo::Code(3)));
            assert!(stderr_tail.to_string().contains("giving up"));
        }
        other => panic!("expected the server's exit, got {other:?}"),
    }
    let again = direct
        .request(ping(), Duration::from_secs(30))
        .await
        .expect_err("nothing is sent to a closed connection");
    assert!(matches!(
        again,
        RequestError::Transport(TransportError::ServerExited { .. })
    ));
}

#[tokio::test]
async fn requests_fail_at_once_when_the_transport_is_dropped() {
    let transport =
        StdioTransport::spawn("direct", &script("read_id\nread -r rest")).expect("spawned");
    let direct = transport.direct_requests();
    let waiting = tokio::spawn({
        let direct = direct.clone();
        async move { direct.request(ping(), Duration::from_secs(30)).await }
    });
    // Let the request be written before the transport goes.
    tokio::task::yield_now().await;
    drop(transport);
    let error = waiting
        .await
        .expect("the task ends")
        .expect_err("no answer can come");
    assert!(matches!(error, RequestError::Transport(_)), "{error:?}");
}

#[tokio::test(start_paused = true)]
async fn a_receive_dropped_in_the_middle_of_a_line_loses_nothing() {
    // One write: a complete line and the first half of the next. The second half comes only
    // after the test says so, so a `receive` in between must give up holding half a line.
    let transport = StdioTransport::spawn(
        "halves",
        &StdioSpec::new("sh").args([
            "-c",
            r#"printf '{"jsonrpc":"2.0","method":"notifications/message","params":{"level":"info","data":"first"}}\n{"jsonrpc":"2.0","method":"notifications/message",'
read -r go
printf '"params":{"level":"info","data":"second"}}\n'
read -r rest"#,
        ]),
    )
    .expect("spawned");
    let mut transport = transport;
    let first = Transport::<RoleClient>::receive(&mut transport)
        .await
        .expect("the first line");
    assert_eq!(method_of(&first), "notifications/message");
    // rmcp's service loop drops `receive` whenever another event wins its `select!`.
    let interrupted = tokio::time::timeout(
        Duration::from_secs(1),
        Transport::<RoleClient>::receive(&mut transport),
    )
    .await;
    if let Ok(message) = interrupted {
        panic!("half a line is not a message, yet receive gave {message:?}");
    }
    let go = rmcp::model::ClientJsonRpcMessage::notification(
        rmcp::model::ClientNotification::InitializedNotification(Default::default()),
    );
    Transport::<RoleClient>::send(&mut transport, go)
        .await
        .expect("sent");
    let second = Transport::<RoleClient>::receive(&mut transport)
        .await
        .expect("the whole second line");
    let value = serde_json::to_value(&second).expect("serialises");
    assert_eq!(value["params"]["data"], "second");
}

/// A `tools/call` whose argument is larger than a pipe's buffer (64 KiB on Linux), so writing it
/// blocks until the server reads.
fn big_call() -> ClientRequest {
    let mut arguments = serde_json::Map::new();
    arguments.insert("text".to_owned(), "x".repeat(256 * 1024).into());
    let mut params = rmcp::model::CallToolRequestParams::new("echo");
    params.arguments = Some(arguments);
    ClientRequest::CallToolRequest(rmcp::model::Request::new(params))
}

#[tokio::test(start_paused = true)]
async fn the_timeout_covers_writing_the_request_to_a_server_that_stops_reading() {
    // The server never reads its stdin: the pipe fills and the write cannot finish.
    let (direct, _rmcp) = start("exec sleep 1000");

    let outcome = tokio::time::timeout(
        Duration::from_secs(10),
        direct.request(big_call(), Duration::from_millis(200)),
    )
    .await
    .expect("the request's own timeout ends it, not the test's bound");
    let error = outcome.expect_err("no answer in time");
    assert!(matches!(error, RequestError::Timeout { .. }), "{error:?}");
}

#[tokio::test(start_paused = true)]
async fn after_a_request_times_out_half_written_nothing_else_is_written_after_it() {
    let (direct, _rmcp) = start("exec sleep 1000");
    let first = tokio::time::timeout(
        Duration::from_secs(10),
        direct.request(big_call(), Duration::from_millis(200)),
    )
    .await
    .expect("bounded by its own timeout");
    let error = first.expect_err("timed out");
    assert!(matches!(error, RequestError::Timeout { .. }), "{error:?}");

    // Half a line is on the pipe: anything written after it would reach the server as part of
    // that line. The session is closed instead, so the next request fails at once.
    let started = tokio::time::Instant::now();
    let second = tokio::time::timeout(
        Duration::from_secs(10),
        direct.request(ping(), Duration::from_secs(5)),
    )
    .await
    .expect("not left waiting");
    let error = second.expect_err("the session is closed");
    assert!(
        matches!(error, RequestError::Transport(_)),
        "a closed session, not another timeout: {error:?}"
    );
    assert!(started.elapsed() < Duration::from_secs(1), "failed at once");
}
