//! Smoke tests of the `mcp-fixture-server` binary, spoken to in raw JSON-RPC over stdio and HTTP.
//!
//! Every test owns its fixture through [`Fixture`], whose `Drop` kills and reaps it, so a failing test
//! leaves no process behind. Nothing here waits by sleeping: tests read the fixture's own output (the
//! reply line, the `listening on` line), with a generous timeout only so a broken fixture fails the
//! test instead of hanging it.

use std::{
    process::{Child, Command, ExitStatus, Stdio},
    time::Duration,
};

use bytes::Bytes;
use http::{HeaderMap, Request, StatusCode, header};
use http_body_util::{BodyExt as _, Full};
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};
use tokio::{
    io::{AsyncBufReadExt as _, AsyncWriteExt as _, BufReader, Lines},
    net::TcpStream,
    process::{ChildStdin, ChildStdout},
};

use crate::FIXTURE;

/// Only a safety net: a healthy fixture answers in milliseconds.
const PATIENCE: Duration = Duration::from_secs(30);

/// A running fixture process, killed and reaped on drop.
struct Fixture {
    child: Child,
    stdin: Option<ChildStdin>,
    stdout: Lines<BufReader<ChildStdout>>,
}

impl Fixture {
    /// Starts the fixture with `args`, stdin and stdout piped, stderr discarded.
    fn start(args: &[&str]) -> Self {
        let mut child = Command::new(FIXTURE)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("the fixture binary starts");
        let stdin = child
            .stdin
            .take()
            .map(|stdin| ChildStdin::from_std(stdin).expect("stdin is a pipe"));
        let stdout = child.stdout.take().expect("stdout is piped");
        let stdout =
            BufReader::new(ChildStdout::from_std(stdout).expect("stdout is a pipe")).lines();
        Self {
            child,
            stdin,
            stdout,
        }
    }

    async fn send(&mut self, message: Value) {
        let stdin = self.stdin.as_mut().expect("stdin is open");
        let mut line = message.to_string();
        line.push('\n');
        stdin
            .write_all(line.as_bytes())
            .await
            .expect("the fixture reads stdin");
        stdin.flush().await.expect("the fixture reads stdin");
    }

    async fn read_line(&mut self) -> String {
        tokio::time::timeout(PATIENCE, self.stdout.next_line())
            .await
            .expect("the fixture writes a line in time")
            .expect("stdout is readable")
            .expect("the fixture writes a line before closing stdout")
    }

    async fn read_message(&mut self) -> Value {
        let line = self.read_line().await;
        serde_json::from_str(&line).unwrap_or_else(|error| panic!("not JSON ({error}): {line}"))
    }

    /// Closes stdin, which tells the fixture to stop.
    fn close_stdin(&mut self) {
        drop(self.stdin.take());
    }

    /// Returns the fixture's exit status once it has exited on its own.
    async fn wait_for_exit(&mut self) -> ExitStatus {
        // End of stdout means the fixture has exited (it starts no other process here), so the wait
        // below returns at once.
        let rest = tokio::time::timeout(PATIENCE, self.stdout.next_line())
            .await
            .expect("the fixture exits in time")
            .expect("stdout is readable");
        assert_eq!(rest, None, "the fixture writes nothing more before exiting");
        self.child.wait().expect("the fixture can be waited for")
    }
}

impl Drop for Fixture {
    fn drop(&mut self) {
        // SIGKILL ends the fixture at once, so the wait that reaps it returns at once too.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn initialize_request() -> Value {
    json!({
        "jsonrpc": "2.0",
        "id": 1,
        "method": "initialize",
        "params": {
            "protocolVersion": "2025-06-18",
            "capabilities": {},
            "clientInfo": { "name": "fixture-smoke-test", "version": "0" }
        }
    })
}

#[tokio::test(flavor = "multi_thread")]
async fn stdio_fixture_initializes_and_echoes() {
    let mut fixture = Fixture::start(&["--stdio"]);

    fixture.send(initialize_request()).await;
    let reply = fixture.read_message().await;
    assert_eq!(reply["id"], 1);
    assert_eq!(reply["result"]["serverInfo"]["name"], "mcp-fixture-server");
    assert_eq!(
        reply["result"]["capabilities"]["tools"]["listChanged"],
        false
    );

    fixture
        .send(json!({ "jsonrpc": "2.0", "method": "notifications/initialized" }))
        .await;
    fixture
        .send(json!({
            "jsonrpc": "2.0",
            "id": 2,
            "method": "tools/call",
            "params": { "name": "echo", "arguments": { "text": "ping" } }
        }))
        .await;
    let reply = fixture.read_message().await;
    assert_eq!(reply["id"], 2);
    assert_eq!(reply["result"]["content"][0]["text"], "ping");
    assert_eq!(reply["result"]["isError"], false);

    fixture.close_stdin();
    assert!(
        fixture.wait_for_exit().await.success(),
        "the fixture exits cleanly when stdin closes"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn stdio_exit_during_initialize_exits_1_without_replying() {
    let mut fixture = Fixture::start(&["--stdio", "--fault", "exit-during-initialize"]);

    fixture.send(initialize_request()).await;

    assert_eq!(fixture.wait_for_exit().await.code(), Some(1));
}

/// Where an HTTP fixture said it listens.
struct Endpoint {
    /// `127.0.0.1:PORT`.
    authority: String,
}

impl Endpoint {
    /// Reads the fixture's one `listening on http://127.0.0.1:PORT/mcp` line.
    async fn announced_by(fixture: &mut Fixture) -> Self {
        let line = fixture.read_line().await;
        let url = line
            .strip_prefix("listening on http://")
            .unwrap_or_else(|| panic!("not a `listening on` line: {line}"));
        let (authority, path) = url
            .split_once('/')
            .unwrap_or_else(|| panic!("no path in {url}"));
        assert!(
            authority.starts_with("127.0.0.1:"),
            "listens on loopback: {authority}"
        );
        assert_eq!(path, "mcp");
        Self {
            authority: authority.to_owned(),
        }
    }

    /// POSTs `message` to `/mcp` over a fresh HTTP/1.1 connection, returning the whole response.
    async fn post(&self, message: &Value) -> (StatusCode, HeaderMap, String) {
        let exchange = async {
            let stream = TcpStream::connect(&self.authority)
                .await
                .expect("the fixture accepts");
            let (mut sender, connection) =
                hyper::client::conn::http1::handshake(TokioIo::new(stream))
                    .await
                    .expect("HTTP/1.1 handshake");
            // Ends when `sender` is dropped at the end of this exchange.
            tokio::spawn(connection);
            let request = Request::post("/mcp")
                .header(header::HOST, &self.authority)
                .header(header::ACCEPT, "application/json, text/event-stream")
                .header(header::CONTENT_TYPE, "application/json")
                .body(Full::new(Bytes::from(message.to_string())))
                .expect("a valid request");
            let response = sender.send_request(request).await.expect("a response");
            let (parts, body) = response.into_parts();
            let body = body.collect().await.expect("the whole body").to_bytes();
            let body = String::from_utf8(body.to_vec()).expect("a text body");
            (parts.status, parts.headers, body)
        };
        tokio::time::timeout(PATIENCE, exchange)
            .await
            .expect("the fixture answers in time")
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn http_fixture_announces_its_address_and_initializes_a_session() {
    let mut fixture = Fixture::start(&["--http", "127.0.0.1:0"]);
    let endpoint = Endpoint::announced_by(&mut fixture).await;

    let (status, headers, body) = endpoint.post(&initialize_request()).await;

    assert_eq!(status, StatusCode::OK, "body: {body}");
    let session = headers
        .get("mcp-session-id")
        .expect("an Mcp-Session-Id header");
    assert!(!session.is_empty());
    assert!(
        body.contains(r#""name":"mcp-fixture-server""#),
        "body: {body}"
    );
    fixture.close_stdin();
    assert!(
        fixture.wait_for_exit().await.success(),
        "the fixture exits cleanly when stdin closes"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn http_500_fault_answers_500_with_its_text() {
    let mut fixture = Fixture::start(&["--http", "127.0.0.1:0", "--fault", "http-500"]);
    let endpoint = Endpoint::announced_by(&mut fixture).await;

    let (status, headers, body) = endpoint.post(&initialize_request()).await;

    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(body, "fixture: internal error");
    assert!(headers.get("mcp-session-id").is_none());
}

#[test]
fn http_fixture_refuses_a_non_loopback_address() {
    // A documentation-range address: even if the check were broken, nothing could be bound there.
    let output = Command::new(FIXTURE)
        .args(["--http", "192.0.2.1:0"])
        .stdin(Stdio::null())
        .output()
        .expect("the fixture binary runs");

    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("loopback addresses only"),
        "stderr: {stderr}"
    );
    assert!(output.stdout.is_empty(), "announces nothing");
}

#[tokio::test(flavor = "multi_thread")]
async fn stdio_crash_tool_exits_3_mid_call_without_replying() {
    let mut fixture = Fixture::start(&["--stdio"]);
    fixture.send(initialize_request()).await;
    fixture.read_message().await;
    fixture
        .send(json!({ "jsonrpc": "2.0", "method": "notifications/initialized" }))
        .await;

    fixture
        .send(json!({
            "jsonrpc": "2.0",
            "id": 2,
            "method": "tools/call",
            "params": { "name": "crash", "arguments": {} }
        }))
        .await;

    assert_eq!(fixture.wait_for_exit().await.code(), Some(3));
}
