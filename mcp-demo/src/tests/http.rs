//! The streamable HTTP server: serving MCP, 404 and Origin checks, and closing everything it opened.

use std::{io::ErrorKind, net::SocketAddr};

use mcp_transport::{HttpClient, HttpOptions, HttpTransportOptions, ProxyConfig};
use rmcp::model::{CallToolRequestParams, ClientConfig, ProtocolVersion};
use serde_json::json;
use tokio::{
    io::{AsyncReadExt as _, AsyncWriteExt as _},
    net::TcpStream,
};

use super::{assert_refused, bounded};
use crate::{DemoError, DemoHttpServer, DemoHttpWatch, SERVER_NAME};

async fn bind() -> DemoHttpServer {
    let addr = SocketAddr::from(([127, 0, 0, 1], 0));
    bounded("binding", DemoHttpServer::bind(addr))
        .await
        .expect("a loopback port")
}

/// Sends a raw HTTP/1.1 request on a new connection and reads the response until the server
/// closes it (`Connection: close`).
async fn raw_exchange(addr: SocketAddr, request: &str) -> String {
    let mut stream = bounded("connecting", TcpStream::connect(addr))
        .await
        .expect("the server accepts");
    stream.write_all(request.as_bytes()).await.expect("sent");
    let mut response = String::new();
    bounded("reading the response", stream.read_to_string(&mut response))
        .await
        .expect("a response");
    response
}

async fn assert_all_closed(watch: &DemoHttpWatch) {
    bounded("closing every socket", watch.closed()).await;
    assert!(!watch.is_open());
}

#[tokio::test]
async fn rmcp_clients_call_tools_over_http_and_close_leaves_nothing_open() {
    let server = bind().await;
    let url = server.url();
    let addr = server.local_addr();
    assert_eq!(url, format!("http://{addr}/mcp"));
    let handle = server.spawn();
    assert_eq!(handle.url(), url);
    let watch = handle.watch();
    assert!(watch.is_open());

    let mut options = HttpOptions::default();
    options.proxy = ProxyConfig::Direct;
    let transport = HttpClient::new(options)
        .expect("an HTTP client")
        .transport(&url, None, HttpTransportOptions::default())
        .expect("a valid URL");
    let config =
        ClientConfig::default().with_protocol_version(ProtocolVersion::LATEST_WITH_INITIALIZE);
    let client = bounded("connecting", rmcp::serve_client(config, transport))
        .await
        .expect("the client connects");
    let info = client.peer_info().expect("the initialize result");
    let server = info.server_info.as_ref().expect("the server names itself");
    assert_eq!(server.name, SERVER_NAME);
    let arguments = json!({ "text": "over http" })
        .as_object()
        .cloned()
        .expect("an object");
    let result = bounded(
        "calling echo",
        client.call_tool(CallToolRequestParams::new("echo").with_arguments(arguments)),
    )
    .await
    .expect("echo answers");
    let text = &result.content[0].as_text().expect("text").text;
    assert_eq!(text, "over http");

    // The client still holds its session and pooled connections: close cuts them.
    bounded("closing", handle.close())
        .await
        .expect("a clean stop");
    assert!(
        !watch.is_open(),
        "close returns only once everything is closed"
    );
    assert_refused(addr).await;
    drop(client);
}

#[tokio::test]
async fn paths_other_than_mcp_are_404() {
    let handle = bind().await.spawn();
    let response = raw_exchange(
        handle.local_addr(),
        "GET /other HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
    )
    .await;
    assert!(response.starts_with("HTTP/1.1 404"), "{response}");
    assert!(response.contains("/mcp"), "{response}");
    assert!(response.contains("/sse"), "{response}");
}

#[tokio::test]
async fn requests_from_a_remote_web_page_are_forbidden() {
    let handle = bind().await.spawn();
    let body = r#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#;
    let request = format!(
        "POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nOrigin: https://attacker.example\r\n\
         Content-Type: application/json\r\nAccept: application/json, text/event-stream\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let response = raw_exchange(handle.local_addr(), &request).await;
    assert!(response.starts_with("HTTP/1.1 403"), "{response}");
}

#[tokio::test]
async fn dropping_the_handle_closes_the_listener_and_open_connections() {
    let handle = bind().await.spawn();
    let addr = handle.local_addr();
    let watch = handle.watch();

    // A kept-alive connection the server has accepted and answered on.
    let mut connection = bounded("connecting", TcpStream::connect(addr))
        .await
        .expect("the server accepts");
    connection
        .write_all(b"GET /other HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        .await
        .expect("sent");
    let mut response = Vec::new();
    while !response.ends_with(b"/sse\n") {
        let mut buffer = [0; 1024];
        let n = bounded("reading", connection.read(&mut buffer))
            .await
            .expect("readable");
        assert_ne!(n, 0, "the server keeps the connection open");
        response.extend_from_slice(&buffer[..n]);
    }

    drop(handle);
    assert_all_closed(&watch).await;
    assert_refused(addr).await;
    let mut buffer = [0; 16];
    let read = bounded("reading", connection.read(&mut buffer)).await;
    assert!(
        matches!(read, Ok(0) | Err(_)),
        "the server closed the connection: {read:?}"
    );
}

#[tokio::test]
async fn dropping_the_serve_future_closes_the_listener_at_once() {
    let server = bind().await;
    let addr = server.local_addr();
    let watch = server.watch();
    let request = "GET /other HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
    let response = tokio::select! {
        served = server.serve() => panic!("serve returned: {served:?}"),
        response = raw_exchange(addr, request) => response,
    };
    assert!(response.starts_with("HTTP/1.1 404"), "{response}");
    // The listener went with the future; its connections' tasks end right after.
    assert_refused(addr).await;
    assert_all_closed(&watch).await;
}

#[tokio::test]
async fn an_unserved_server_closes_when_dropped() {
    let server = bind().await;
    let addr = server.local_addr();
    let watch = server.watch();
    drop(server);
    assert!(!watch.is_open());
    assert_refused(addr).await;
}

#[tokio::test]
async fn non_loopback_addresses_are_refused_before_binding() {
    for addr in ["0.0.0.0:0", "192.0.2.1:8080", "[::]:0"] {
        let addr: SocketAddr = addr.parse().expect("a socket address");
        let error = DemoHttpServer::bind(addr).await.expect_err("not loopback");
        assert!(matches!(error, DemoError::NotLoopback(refused) if refused == addr));
        assert_eq!(error.addr(), Some(addr));
        assert!(error.to_string().contains("loopback"), "{error}");
    }
}

#[tokio::test]
async fn a_taken_port_is_a_bind_error_naming_the_address() {
    let taken = bind().await;
    let addr = taken.local_addr();
    let error = DemoHttpServer::bind(addr)
        .await
        .expect_err("the port is taken");
    assert!(
        matches!(&error, DemoError::Bind { addr: named, source }
            if *named == addr && source.kind() == ErrorKind::AddrInUse),
        "{error:?}"
    );
    assert!(error.to_string().contains(&addr.to_string()), "{error}");
}
