//! Against a server that writes the way stock servers do: no `TCP_NODELAY`, and a response's
//! headers, its event and the end of its chunked body in three separate writes (rmcp's own server
//! on axum sends an SSE response's headers before the answer exists). With Nagle on the server, each
//! write after the first waits for the client to acknowledge the one before; a client whose kernel
//! delays that ACK (Linux does, up to 40 ms, on a kept-alive connection) stalls every such call.
//!
//! The calls must not stall, must complete as soon as the answer has arrived (the end of the body
//! may come later), and must share connections rather than open one each.
//!
//! Linux only (`main.rs` leaves the module out elsewhere): the delayed ACK and its remedy
//! (`TCP_QUICKACK`) are Linux's.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use rmcp::model::{ClientRequest, ServerResult};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;

use crate::scripted::transport_to;

/// A delayed ACK is never sent sooner than 40 ms (the kernel's minimum); a prompt one takes
/// microseconds. A call this slow waited for one.
const STALL: Duration = Duration::from_millis(35);

const CALLS: usize = 30;

/// Calls whose body's end the server holds back until the call has returned.
const HELD_CALLS: usize = 10;

/// The most requests one connection reads before the server reports a broken client.
const MAX_REQUEST_BYTES: usize = 64 * 1024;

struct StockServer {
    url: String,
    connections: Arc<AtomicUsize>,
    /// When set, the end of each SSE body is held back until [`StockServer::release_ends`].
    hold_ends: Option<Arc<Notify>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for StockServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl StockServer {
    async fn start(hold_ends: bool) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind loopback");
        let url = format!("http://{}/mcp", listener.local_addr().expect("address"));
        let connections = Arc::new(AtomicUsize::new(0));
        let hold_ends = hold_ends.then(|| Arc::new(Notify::new()));
        let (count, held) = (Arc::clone(&connections), hold_ends.clone());
        let task = tokio::spawn(async move {
            let mut served = tokio::task::JoinSet::new();
            while let Ok((stream, _)) = listener.accept().await {
                count.fetch_add(1, Ordering::SeqCst);
                served.spawn(serve(stream, held.clone()));
            }
        });
        Self {
            url,
            connections,
            hold_ends,
            task,
        }
    }

    fn release_ends(&self) {
        if let Some(held) = &self.hold_ends {
            held.notify_waiters();
        }
    }
}

/// Serves one kept-alive connection, the stock way: every write a separate segment.
async fn serve(mut stream: TcpStream, hold_ends: Option<Arc<Notify>>) {
    let mut buffer = Vec::new();
    loop {
        let Some((head, body)) = read_request(&mut stream, &mut buffer).await else {
            return;
        };
        let written = if head.starts_with("GET ") {
            stream
                .write_all(b"HTTP/1.1 405 Method Not Allowed\r\ncontent-length: 0\r\n\r\n")
                .await
        } else if head.starts_with("DELETE ") {
            stream
                .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n")
                .await
        } else {
            answer(&mut stream, &body, hold_ends.as_deref()).await
        };
        if written.is_err() {
            return;
        }
    }
}

async fn answer(
    stream: &mut TcpStream,
    body: &Value,
    hold_ends: Option<&Notify>,
) -> std::io::Result<()> {
    let id = body.get("id");
    let method = body.get("method").and_then(Value::as_str);
    match (method, id) {
        (Some("initialize"), Some(id)) => {
            let result = json!({
                "jsonrpc": "2.0",
                "id": id,
                "result": {
                    "protocolVersion": "2025-06-18",
                    "capabilities": {"tools": {}},
                    "serverInfo": {"name": "stock", "version": "1"}
                }
            })
            .to_string();
            let response = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\nmcp-session-id: s-1\r\ncontent-length: {}\r\n\r\n{result}",
                result.len()
            );
            stream.write_all(response.as_bytes()).await
        }
        (Some(_), Some(id)) => {
            stream
                .write_all(
                    b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\nmcp-session-id: s-1\r\ntransfer-encoding: chunked\r\n\r\n",
                )
                .await?;
            let event = format!(
                "data: {}\n\n",
                json!({"jsonrpc": "2.0", "id": id, "result": {}})
            );
            stream
                .write_all(format!("{:x}\r\n{event}\r\n", event.len()).as_bytes())
                .await?;
            if let Some(held) = hold_ends {
                held.notified().await;
            }
            stream.write_all(b"0\r\n\r\n").await
        }
        _ => {
            stream
                .write_all(b"HTTP/1.1 202 Accepted\r\ncontent-length: 0\r\n\r\n")
                .await
        }
    }
}

/// Reads one request (head and `Content-Length` body) off the connection; `None` when the client
/// closed it or sent something this server does not understand.
async fn read_request(stream: &mut TcpStream, buffer: &mut Vec<u8>) -> Option<(String, Value)> {
    let head_end = loop {
        if let Some(end) = buffer.windows(4).position(|window| window == b"\r\n\r\n") {
            break end + 4;
        }
        if buffer.len() > MAX_REQUEST_BYTES {
            return None;
        }
        let mut chunk = [0; 4096];
        let read = stream.read(&mut chunk).await.ok()?;
        if read == 0 {
            return None;
        }
        buffer.extend_from_slice(&chunk[..read]);
    };
    let head = String::from_utf8_lossy(&buffer[..head_end]).into_owned();
    let length = head
        .lines()
        .find_map(|line| {
            let (name, value) = line.split_once(':')?;
            name.eq_ignore_ascii_case("content-length")
                .then(|| value.trim().parse::<usize>().ok())
                .flatten()
        })
        .unwrap_or(0);
    while buffer.len() < head_end + length {
        let mut chunk = [0; 4096];
        let read = stream.read(&mut chunk).await.ok()?;
        if read == 0 {
            return None;
        }
        buffer.extend_from_slice(&chunk[..read]);
    }
    let body = serde_json::from_slice(&buffer[head_end..head_end + length]).unwrap_or(Value::Null);
    buffer.drain(..head_end + length);
    Some((head, body))
}

fn ping() -> ClientRequest {
    ClientRequest::PingRequest(Default::default())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_to_a_server_without_nodelay_do_not_wait_for_a_delayed_ack() {
    let server = StockServer::start(false).await;
    let transport = transport_to(&server.url);
    let direct = transport.direct_requests();
    let service = rmcp::serve_client((), transport).await.expect("handshake");
    let before_calls = server.connections.load(Ordering::SeqCst);
    let mut stalled = Vec::new();
    for _ in 0..CALLS {
        let started = Instant::now();
        let answer = direct.request(ping(), Duration::from_secs(10)).await;
        assert!(
            matches!(answer, Ok(ServerResult::EmptyResult(_))),
            "{answer:?}"
        );
        if started.elapsed() >= STALL {
            stalled.push(started.elapsed());
        }
    }
    for _ in 0..CALLS {
        let started = Instant::now();
        service
            .peer()
            .send_request(ping())
            .await
            .expect("rmcp's path answers too");
        if started.elapsed() >= STALL {
            stalled.push(started.elapsed());
        }
    }
    // One slow call may be the machine's doing; a delayed ACK stalls every other call or more.
    assert!(
        stalled.len() <= 1,
        "{} of {} calls waited {STALL:?} or more: {stalled:?}",
        stalled.len(),
        2 * CALLS
    );
    // A call opens no connection of its own: they go back to the pool once their body is read.
    let opened = server.connections.load(Ordering::SeqCst) - before_calls;
    assert!(
        opened <= CALLS / 3,
        "{opened} connections for {} calls",
        2 * CALLS
    );
}

#[tokio::test]
async fn a_call_completes_when_its_answer_arrives_not_when_its_stream_ends() {
    let server = StockServer::start(true).await;
    let transport = transport_to(&server.url);
    let direct = transport.direct_requests();
    let _service = rmcp::serve_client((), transport).await.expect("handshake");
    let before_calls = server.connections.load(Ordering::SeqCst);
    for _ in 0..HELD_CALLS {
        // The server holds the end of each body until the call has returned.
        let answer = tokio::time::timeout(
            Duration::from_secs(10),
            direct.request(ping(), Duration::from_secs(30)),
        )
        .await
        .expect("answered before its stream ended");
        assert!(
            matches!(answer, Ok(ServerResult::EmptyResult(_))),
            "{answer:?}"
        );
        server.release_ends();
    }
    // Each body is read to its end after its call returned, so its connection is used again
    // (dropping a body before its end closes the connection: one new connection per call).
    let opened = server.connections.load(Ordering::SeqCst) - before_calls;
    assert!(
        opened <= HELD_CALLS / 2,
        "{opened} connections for {HELD_CALLS} calls"
    );
}
