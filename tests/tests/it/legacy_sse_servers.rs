//! The harness of the stock legacy HTTP+SSE servers (`mcp_tests::support::LegacySseServer`), checked
//! without any client of ours: each server starts, says where it listens, opens an SSE stream to a
//! hand-written HTTP/1.1 GET, names its message endpoint on that stream, and is gone once dropped.
//!
//! The servers come from `cargo xtask npm-deps` and `cargo xtask py-deps` (`cargo xtask ci` runs
//! both first). Without them these tests fail, naming the command: they never pass by skipping.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;

use mcp_tests::support::{BOUND, LegacySseKind, LegacySseServer, reaped, state_of};
use url::Url;

#[test]
fn everything_announces_its_message_endpoint_on_the_sse_stream_and_dies_with_its_guard() {
    announces_its_message_endpoint_and_dies_with_its_guard(LegacySseKind::Everything);
}

#[test]
fn typescript_sdk_announces_its_message_endpoint_on_the_sse_stream_and_dies_with_its_guard() {
    announces_its_message_endpoint_and_dies_with_its_guard(LegacySseKind::TypeScript);
}

#[test]
fn python_sdk_announces_its_message_endpoint_on_the_sse_stream_and_dies_with_its_guard() {
    announces_its_message_endpoint_and_dies_with_its_guard(LegacySseKind::Python);
}

fn announces_its_message_endpoint_and_dies_with_its_guard(kind: LegacySseKind) {
    let server = LegacySseServer::start(kind);
    let sse_url = Url::parse(&server.sse_url()).expect("the SSE URL is a URL");
    assert_eq!(sse_url.host_str(), Some("127.0.0.1"));
    assert_eq!(sse_url.path(), "/sse");

    let data = first_endpoint_event(&server);
    // The 2024-11-05 transport: the data is a URI reference, resolved against the SSE URL; every
    // server here sends a path with the session in its query.
    assert!(
        data.starts_with('/') && !data.starts_with("//"),
        "{kind:?}: the endpoint is an absolute path: {data:?}"
    );
    let endpoint = sse_url.join(&data).expect("the endpoint resolves");
    assert_eq!(
        endpoint.origin(),
        sse_url.origin(),
        "{kind:?}: the endpoint {data:?} is on the SSE URL's origin"
    );
    let without_query = endpoint.as_str().split('?').next().unwrap_or_default();
    assert_eq!(
        without_query,
        server.message_url(),
        "{kind:?}: message_url() is the endpoint without its query"
    );
    // `sessionId` from the TypeScript SDK's transport, `session_id` from the Python SDK's.
    let session = endpoint
        .query_pairs()
        .find(|(key, _)| key == "sessionId" || key == "session_id");
    assert!(
        session.is_some_and(|(_, id)| !id.is_empty()),
        "{kind:?}: the endpoint names a session: {data:?}"
    );

    let pid = server.pid();
    drop(server);
    assert!(
        reaped(pid),
        "{kind:?}: the server {pid} is gone once dropped, not even a zombie (state {:?})",
        state_of(pid)
    );
}

/// GETs the server's SSE URL over a plain socket and returns the data of the first `endpoint`
/// event, failing the test if it does not come within [`BOUND`].
fn first_endpoint_event(server: &LegacySseServer) -> String {
    let mut socket = TcpStream::connect(server.addr()).expect("connect to the server");
    socket
        .set_read_timeout(Some(BOUND))
        .expect("set a read timeout");
    write!(
        socket,
        "GET /sse HTTP/1.1\r\nHost: {}\r\nAccept: text/event-stream\r\n\r\n",
        server.addr()
    )
    .expect("send the GET");
    let mut reader = BufReader::new(socket);

    let status = read_line(&mut reader);
    assert!(
        status.starts_with("HTTP/1.1 200 "),
        "{:?}: GET /sse answers 200: {status:?}",
        server.kind()
    );
    let mut chunked = false;
    let mut content_type = String::new();
    loop {
        let header = read_line(&mut reader);
        if header.is_empty() {
            break;
        }
        let (name, value) = header.split_once(':').expect("a header line");
        match name.to_ascii_lowercase().as_str() {
            "transfer-encoding" => chunked = value.trim().eq_ignore_ascii_case("chunked"),
            "content-type" => value.trim().clone_into(&mut content_type),
            _ => {}
        }
    }
    assert!(
        content_type.starts_with("text/event-stream"),
        "{:?}: the stream is SSE: {content_type:?}",
        server.kind()
    );

    let mut body = Body {
        reader,
        chunked,
        chunk_left: 0,
    };
    let mut event = String::new();
    let mut data = Vec::new();
    loop {
        let line = body.read_line();
        if line.is_empty() {
            if event == "endpoint" {
                return data.join("\n");
            }
            event.clear();
            data.clear();
        } else if let Some(value) = line.strip_prefix("event:") {
            value.trim_start().clone_into(&mut event);
        } else if let Some(value) = line.strip_prefix("data:") {
            data.push(value.strip_prefix(' ').unwrap_or(value).to_owned());
        }
        // Comments (`: ping`), `id:` and `retry:` lines say nothing about the endpoint.
    }
}

/// One line of the response head, without its line ending.
fn read_line(reader: &mut impl BufRead) -> String {
    let mut line = String::new();
    let read = reader.read_line(&mut line).expect("read the response");
    assert!(read > 0, "the server closed the connection mid-response");
    line.trim_end_matches(['\r', '\n']).to_owned()
}

/// A response body, de-chunked if it is chunked (every server here streams SSE chunked).
struct Body<R> {
    reader: R,
    chunked: bool,
    chunk_left: usize,
}

impl<R: BufRead> Body<R> {
    /// One line of the body, without its line ending (`\n` or `\r\n`; no server here ends a
    /// line with a lone `\r`, which SSE also allows).
    fn read_line(&mut self) -> String {
        let mut line = Vec::new();
        loop {
            match self.read_byte() {
                b'\n' => break,
                byte => line.push(byte),
            }
        }
        if line.last() == Some(&b'\r') {
            line.pop();
        }
        String::from_utf8(line).expect("SSE is UTF-8")
    }

    fn read_byte(&mut self) -> u8 {
        if self.chunked && self.chunk_left == 0 {
            self.chunk_left = self.next_chunk_size();
        }
        let buffer = self.reader.fill_buf().expect("read the SSE stream");
        let byte = *buffer.first().expect("the SSE stream ended early");
        self.reader.consume(1);
        if self.chunked {
            self.chunk_left -= 1;
        }
        byte
    }

    /// The size line of the next chunk, after the line ending that closes the previous one.
    fn next_chunk_size(&mut self) -> usize {
        let mut size = read_line(&mut self.reader);
        if size.is_empty() {
            size = read_line(&mut self.reader);
        }
        let hex = size.split(';').next().unwrap_or_default().trim();
        let size = usize::from_str_radix(hex, 16)
            .unwrap_or_else(|error| panic!("not a chunk size ({error}): {hex:?}"));
        assert!(size > 0, "the SSE stream ended before the endpoint event");
        size
    }
}
