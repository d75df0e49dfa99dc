//! HTTP/1.1 on one accepted connection of the callback server: read one request head, write one
//! response, close (RFC 9112).
//!
//! The callback needs exactly one exchange per connection, so this is all of HTTP it speaks:
//! - The head (request line and header fields, up to the empty line) is read into a buffer of at
//!   most [`MAX_HEAD_BYTES`]; a head that does not fit, or has more than [`MAX_HEADER_FIELDS`]
//!   fields, is refused as too large (431). The caller bounds the read in time.
//! - The request line must be `METHOD SP request-target SP HTTP/1.x`; header fields must be
//!   `name: value` with a valid name and value and no line folding. Anything else is malformed
//!   (400). Empty lines before the request line are ignored, and a bare LF ends a line as CRLF
//!   does (both allowed by RFC 9112 §2.2).
//! - No body is ever read: a request body, if any, is discarded by the staged close.
//! - Every response says `Connection: close`, carries `Content-Length` and `Date`, and is
//!   followed by a half-close and a short lingering read (RFC 9112 §9.6), so that closing the
//!   socket cannot reset the connection before the client has read the response.

use std::io;
use std::time::{Duration, SystemTime};

use http::header::{self, HeaderName, HeaderValue};
use http::{Method, Request, Response, Uri, Version};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// The largest request head accepted, in bytes, the final empty line included. A browser's
/// redirect to the callback is well under 8 KiB; this is the limit the server has always had.
pub(super) const MAX_HEAD_BYTES: usize = 16 * 1024;
/// The most header fields accepted in one request head (hyper's default, which this server had).
pub(super) const MAX_HEADER_FIELDS: usize = 100;
/// How long the client may keep sending after the response, while the connection is closed in
/// stages; a client that has read the response closes its side at once.
const LINGER: Duration = Duration::from_secs(2);
/// The most bytes read and discarded while lingering.
const MAX_LINGER_BYTES: usize = 64 * 1024;

/// What came in on a connection.
#[derive(Debug)]
pub(super) enum Received {
    /// A complete, well-formed request head (boxed: it is far larger than the other variants).
    Request(Box<Request<()>>),
    /// A head that is answered with an error and never reaches the callback logic.
    Refused(Refusal),
    /// The client closed the connection before completing a head: nothing to answer.
    Closed,
}

/// Why a request head was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Refusal {
    /// Not a well-formed HTTP/1.x request head (400).
    Malformed,
    /// Larger than [`MAX_HEAD_BYTES`], or more than [`MAX_HEADER_FIELDS`] fields (431).
    TooLarge,
}

/// Reads one request head from `reader`, never buffering more than [`MAX_HEAD_BYTES`]. Bytes after
/// the head (a body, a pipelined request) may have been read too; they are ignored.
///
/// # Errors
/// Only the reader's own errors.
pub(super) async fn read_head<R: AsyncRead + Unpin>(reader: &mut R) -> io::Result<Received> {
    let mut buffer = Vec::with_capacity(1024);
    let mut chunk = [0u8; 2048];
    loop {
        let room = (MAX_HEAD_BYTES - buffer.len()).min(chunk.len());
        let read = reader.read(&mut chunk[..room]).await?;
        if read == 0 {
            return Ok(Received::Closed);
        }
        buffer.extend_from_slice(&chunk[..read]);
        // Searched again from the start each time: at most a few passes over 16 KiB, and no
        // terminator split across two reads can be missed.
        if let Some(head) = complete_head(&buffer) {
            return Ok(match parse_head(head) {
                Ok(request) => Received::Request(Box::new(request)),
                Err(refusal) => Received::Refused(refusal),
            });
        }
        if buffer.len() >= MAX_HEAD_BYTES {
            return Ok(Received::Refused(Refusal::TooLarge));
        }
    }
}

/// The head in `buffer` without leading empty lines and without its final empty line, once that
/// empty line has arrived.
fn complete_head(buffer: &[u8]) -> Option<&[u8]> {
    let start = buffer
        .iter()
        .position(|&byte| byte != b'\r' && byte != b'\n')?;
    let head = &buffer[start..];
    (0..head.len()).find_map(|at| {
        let rest = &head[at..];
        (rest.starts_with(b"\n\n") || rest.starts_with(b"\n\r\n")).then(|| &head[..at])
    })
}

/// Parses a complete head (as [`complete_head`] returns it) into a request without a body.
fn parse_head(head: &[u8]) -> Result<Request<()>, Refusal> {
    let mut lines = head
        .split(|&byte| byte == b'\n')
        .map(|line| line.strip_suffix(b"\r").unwrap_or(line));
    let request_line = lines.next().ok_or(Refusal::Malformed)?;
    let mut parts = request_line.split(|&byte| byte == b' ');
    let (Some(method), Some(target), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(Refusal::Malformed);
    };
    let version = match version {
        b"HTTP/1.1" => Version::HTTP_11,
        b"HTTP/1.0" => Version::HTTP_10,
        _ => return Err(Refusal::Malformed),
    };
    let method = Method::from_bytes(method).map_err(|_| Refusal::Malformed)?;
    // The same parser hyper used: origin-form (`/path?query`) and absolute-form targets.
    let uri = Uri::try_from(target).map_err(|_| Refusal::Malformed)?;
    let mut request = Request::new(());
    *request.method_mut() = method;
    *request.uri_mut() = uri;
    *request.version_mut() = version;

    for (count, line) in lines.enumerate() {
        if count >= MAX_HEADER_FIELDS {
            return Err(Refusal::TooLarge);
        }
        // Obsolete line folding: RFC 9112 §5.2 lets a server reject it, and nothing here needs it.
        if line.starts_with(b" ") || line.starts_with(b"\t") {
            return Err(Refusal::Malformed);
        }
        let colon = line
            .iter()
            .position(|&byte| byte == b':')
            .ok_or(Refusal::Malformed)?;
        // A name with whitespace before the colon is invalid here, as RFC 9112 §5.1 requires.
        let name = HeaderName::from_bytes(&line[..colon]).map_err(|_| Refusal::Malformed)?;
        let value = HeaderValue::from_bytes(trim_whitespace(&line[colon + 1..]))
            .map_err(|_| Refusal::Malformed)?;
        request.headers_mut().append(name, value);
    }
    Ok(request)
}

/// `bytes` without leading and trailing spaces and tabs (the optional whitespace around a field
/// value).
fn trim_whitespace(bytes: &[u8]) -> &[u8] {
    let blank = |byte: &u8| *byte == b' ' || *byte == b'\t';
    let start = bytes
        .iter()
        .position(|byte| !blank(byte))
        .unwrap_or(bytes.len());
    let end = bytes
        .iter()
        .rposition(|byte| !blank(byte))
        .map_or(start, |end| end + 1);
    &bytes[start..end]
}

/// The bytes of `response` on the wire: status line, its headers, `Content-Length`, `Date`,
/// `Connection: close`, and the body unless `head_only` (the answer to a `HEAD` request).
pub(super) fn encode(mut response: Response<String>, head_only: bool) -> Vec<u8> {
    let length = response.body().len();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(length));
    if let Ok(date) = HeaderValue::from_str(&httpdate::fmt_http_date(SystemTime::now())) {
        headers.insert(header::DATE, date);
    }
    // One exchange per connection: no keep-alive, so no request can wait behind another.
    headers.insert(header::CONNECTION, HeaderValue::from_static("close"));

    let status = response.status();
    let mut bytes = Vec::with_capacity(512 + length);
    bytes.extend_from_slice(b"HTTP/1.1 ");
    bytes.extend_from_slice(status.as_str().as_bytes());
    bytes.push(b' ');
    bytes.extend_from_slice(status.canonical_reason().unwrap_or("").as_bytes());
    bytes.extend_from_slice(b"\r\n");
    for (name, value) in response.headers() {
        bytes.extend_from_slice(name.as_str().as_bytes());
        bytes.extend_from_slice(b": ");
        bytes.extend_from_slice(value.as_bytes());
        bytes.extend_from_slice(b"\r\n");
    }
    bytes.extend_from_slice(b"\r\n");
    if !head_only {
        bytes.extend_from_slice(response.body().as_bytes());
    }
    bytes
}

/// Writes `bytes`, then closes the connection in stages (RFC 9112 §9.6): shuts the write side
/// down, and reads until the client closes its side, at most [`LINGER`] and [`MAX_LINGER_BYTES`].
/// Closing at once with unread input (a request body) would make the kernel reset the connection,
/// and a reset can destroy the response before the client reads it.
///
/// # Errors
/// A failed write or shutdown; the lingering read cannot fail.
pub(super) async fn send_and_close<S: AsyncRead + AsyncWrite + Unpin>(
    stream: &mut S,
    bytes: &[u8],
) -> io::Result<()> {
    stream.write_all(bytes).await?;
    stream.shutdown().await?;
    let linger = async {
        let mut sink = [0u8; 2048];
        let mut left = MAX_LINGER_BYTES;
        while left > 0 {
            match stream.read(&mut sink).await {
                Ok(0) | Err(_) => break,
                Ok(read) => left = left.saturating_sub(read),
            }
        }
    };
    let _ = tokio::time::timeout(LINGER, linger).await;
    Ok(())
}
