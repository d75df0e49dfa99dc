//! A hand-written legacy HTTP+SSE client over plain HTTP/1.1, for the tests of both demos: it reads
//! the event stream event by event, and posts messages on connections of their own.

use std::net::SocketAddr;

use http::{HeaderMap, Method, Request, StatusCode, header};
use http_body_util::{BodyExt as _, Full};
use hyper::body::{Bytes, Incoming};
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};
use tokio::{net::TcpStream, task::JoinHandle};

use super::bounded;

/// The protocol version of the HTTP+SSE transport.
pub(crate) const LEGACY_VERSION: &str = "2024-11-05";

/// One event of a stream: its name (`message` when it has none) and its data.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Event {
    pub(crate) name: String,
    pub(crate) data: String,
}

/// The answer to `GET /sse`: its status and headers, and its body read as events. Dropping it
/// closes the connection, as a client that goes away does.
pub(crate) struct SseStream {
    pub(crate) status: StatusCode,
    pub(crate) headers: HeaderMap,
    body: Incoming,
    pending: String,
    driver: JoinHandle<()>,
}

impl SseStream {
    /// `GET /sse` on a new connection, with a bearer token if given.
    pub(crate) async fn open(addr: SocketAddr, token: Option<&str>) -> Self {
        let mut request = Request::builder()
            .method(Method::GET)
            .uri(crate::SSE_PATH)
            .header(header::ACCEPT, "text/event-stream");
        if let Some(token) = token {
            request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
        }
        let request = request.body(Full::default()).expect("a request");
        let (response, driver) = bounded("opening the event stream", send(addr, request)).await;
        let (parts, body) = response.into_parts();
        Self {
            status: parts.status,
            headers: parts.headers,
            body,
            pending: String::new(),
            driver,
        }
    }

    /// The next event, skipping comments; `None` once the server ends the stream.
    pub(crate) async fn next_event(&mut self) -> Option<Event> {
        loop {
            if let Some(end) = self.pending.find("\n\n") {
                let block: String = self.pending.drain(..end + 2).collect();
                if let Some(event) = parse_event(&block) {
                    return Some(event);
                }
                continue;
            }
            let frame = bounded("reading the event stream", self.body.frame()).await?;
            let Ok(data) = frame.expect("a body frame").into_data() else {
                continue;
            };
            self.pending
                .push_str(std::str::from_utf8(&data).expect("UTF-8"));
        }
    }

    /// Returns once the stream is over, whether the server ended it or cut the connection.
    pub(crate) async fn closed(&mut self) {
        while let Some(frame) = bounded("reading the event stream", self.body.frame()).await {
            if frame.is_err() {
                return;
            }
        }
    }

    /// The session's message URL, from the `endpoint` event, which must come first.
    pub(crate) async fn endpoint(&mut self) -> String {
        let event = self.next_event().await.expect("an endpoint event");
        assert_eq!(event.name, "endpoint", "{event:?}");
        event.data
    }

    /// The JSON-RPC message of the next event, which must be a `message`.
    pub(crate) async fn message(&mut self) -> Value {
        let event = self.next_event().await.expect("a message event");
        assert_eq!(event.name, "message", "{event:?}");
        serde_json::from_str(&event.data).expect("a JSON-RPC message")
    }

    /// The whole body, for a response that is not an event stream.
    pub(crate) async fn text(mut self) -> String {
        let mut text = std::mem::take(&mut self.pending);
        while let Some(frame) = bounded("reading the body", self.body.frame()).await {
            if let Ok(data) = frame.expect("a body frame").into_data() {
                text.push_str(&String::from_utf8_lossy(&data));
            }
        }
        text
    }
}

impl Drop for SseStream {
    fn drop(&mut self) {
        self.driver.abort();
    }
}

/// An event from one `\n\n`-terminated block, or `None` for a block of comments.
fn parse_event(block: &str) -> Option<Event> {
    let mut name = None;
    let mut data: Option<String> = None;
    for line in block.lines() {
        let (field, value) = line.split_once(':').unwrap_or((line, ""));
        let value = value.strip_prefix(' ').unwrap_or(value);
        match field {
            "event" => name = Some(value.to_owned()),
            "data" => match &mut data {
                Some(data) => {
                    data.push('\n');
                    data.push_str(value);
                }
                None => data = Some(value.to_owned()),
            },
            _ => {}
        }
    }
    let data = data?;
    Some(Event {
        name: name.unwrap_or_else(|| "message".to_owned()),
        data,
    })
}

/// The answer to a `POST`, read whole.
#[derive(Debug)]
pub(crate) struct Posted {
    pub(crate) status: StatusCode,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Bytes,
}

/// POSTs `body` to `path` (the endpoint event's URL, or any other) on a new connection.
pub(crate) async fn post(
    addr: SocketAddr,
    path: &str,
    token: Option<&str>,
    body: impl Into<Bytes>,
) -> Posted {
    let mut request = Request::builder()
        .method(Method::POST)
        .uri(path)
        .header(header::CONTENT_TYPE, "application/json");
    if let Some(token) = token {
        request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
    }
    let request = request.body(Full::new(body.into())).expect("a request");
    bounded("posting", async {
        let (response, driver) = send(addr, request).await;
        let (parts, body) = response.into_parts();
        let body = body.collect().await.expect("a body").to_bytes();
        driver.abort();
        Posted {
            status: parts.status,
            headers: parts.headers,
            body,
        }
    })
    .await
}

/// POSTs a JSON-RPC message and expects it accepted: 202, no body.
pub(crate) async fn post_accepted(
    addr: SocketAddr,
    endpoint: &str,
    token: Option<&str>,
    message: &Value,
) {
    let posted = post(addr, endpoint, token, message.to_string()).await;
    assert_eq!(posted.status, StatusCode::ACCEPTED, "{posted:?}");
    assert!(posted.body.is_empty(), "{posted:?}");
}

/// Opens a session and initializes it: `initialize` (answered on the stream), then the
/// `initialized` notification. Returns the stream, the message URL and the initialize result.
pub(crate) async fn initialized(
    addr: SocketAddr,
    token: Option<&str>,
) -> (SseStream, String, Value) {
    let mut stream = SseStream::open(addr, token).await;
    assert_eq!(stream.status, StatusCode::OK);
    let endpoint = stream.endpoint().await;
    post_accepted(addr, &endpoint, token, &initialize(1)).await;
    let answer = stream.message().await;
    assert_eq!(answer["id"], 1, "{answer}");
    let initialized = json!({ "jsonrpc": "2.0", "method": "notifications/initialized" });
    post_accepted(addr, &endpoint, token, &initialized).await;
    (stream, endpoint, answer["result"].clone())
}

/// An `initialize` request for the 2024-11-05 protocol.
pub(crate) fn initialize(id: u64) -> Value {
    json!({
        "jsonrpc": "2.0",
        "id": id,
        "method": "initialize",
        "params": {
            "protocolVersion": LEGACY_VERSION,
            "capabilities": {},
            "clientInfo": { "name": "sse-test", "version": "0" },
        },
    })
}

/// A `tools/call` request.
pub(crate) fn call(id: u64, tool: &str, arguments: Value) -> Value {
    json!({
        "jsonrpc": "2.0",
        "id": id,
        "method": "tools/call",
        "params": { "name": tool, "arguments": arguments },
    })
}

/// Sends `request` on a new connection, naming `addr` as the `Host`; returns the response and
/// the connection's task (abort it to close the connection).
async fn send(
    addr: SocketAddr,
    mut request: Request<Full<Bytes>>,
) -> (http::Response<Incoming>, JoinHandle<()>) {
    let stream = TcpStream::connect(addr).await.expect("the server accepts");
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .expect("an HTTP/1.1 connection");
    let driver = tokio::spawn(async move {
        // The server closing the connection is how some of the tests end.
        let _ = connection.await;
    });
    request.headers_mut().insert(
        header::HOST,
        addr.to_string().parse().expect("a header value"),
    );
    let response = sender.send_request(request).await.expect("a response");
    (response, driver)
}

#[test]
fn events_are_parsed_and_comments_skipped() {
    assert_eq!(parse_event(": keep-alive\n\n"), None);
    assert_eq!(
        parse_event("event: endpoint\ndata: /messages?sessionId=1\n\n"),
        Some(Event {
            name: "endpoint".to_owned(),
            data: "/messages?sessionId=1".to_owned(),
        })
    );
    assert_eq!(
        parse_event("data:a\ndata: b\n\n"),
        Some(Event {
            name: "message".to_owned(),
            data: "a\nb".to_owned(),
        })
    );
}
