//! The SSE event-size limit: a response body cut off, before the SSE parser buffers it, as soon as
//! one event passes the configured number of bytes.
//!
//! The limit is enforced on raw bytes, across chunk boundaries, because the parser would otherwise
//! buffer an endless event (or line) whole before anyone could look at its size.

use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use futures::stream::BoxStream;
use futures::{Stream, StreamExt, TryStreamExt};
use http_body_util::BodyExt;
use hyper::body::Incoming;
use rmcp::transport::streamable_http_client::SseError;
use sse_stream::{Sse, SseStream};

/// A response body as a stream of SSE events that fails, before parsing, as soon as one event's
/// bytes pass `max`. Comment lines are not added to the event, but no single line may pass `max`
/// either (the parser buffers whole lines).
pub fn bounded_sse(body: Incoming, max: usize) -> BoxStream<'static, Result<Sse, SseError>> {
    let bytes = body
        .into_data_stream()
        .map_err(|error| BodyFailure::Body(error.to_string()));
    let limited = SizeLimited {
        inner: bytes.boxed(),
        limiter: EventSizeLimiter::new(max),
        done: false,
    };
    SseStream::from_bytes_stream(limited).boxed()
}

/// The limit an SSE event passed, if that is why `error` ended a stream.
pub(super) fn event_too_large(error: &SseError) -> Option<usize> {
    let SseError::Body(body) = error else {
        return None;
    };
    match body.downcast_ref::<BodyFailure>() {
        Some(BodyFailure::EventTooLarge(max)) => Some(*max),
        _ => None,
    }
}

/// Why an SSE body stopped.
#[derive(Debug, thiserror::Error)]
enum BodyFailure {
    #[error("reading the event stream: {0}")]
    Body(String),
    #[error("an SSE event exceeds the {0}-byte limit")]
    EventTooLarge(usize),
}

struct SizeLimited {
    inner: BoxStream<'static, Result<Bytes, BodyFailure>>,
    limiter: EventSizeLimiter,
    done: bool,
}

impl Stream for SizeLimited {
    type Item = Result<Bytes, BodyFailure>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if self.done {
            return Poll::Ready(None);
        }
        match self.inner.poll_next_unpin(cx) {
            Poll::Ready(Some(Ok(chunk))) => {
                if self.limiter.observe(&chunk) {
                    Poll::Ready(Some(Ok(chunk)))
                } else {
                    self.done = true;
                    let max = self.limiter.max;
                    Poll::Ready(Some(Err(BodyFailure::EventTooLarge(max))))
                }
            }
            Poll::Ready(Some(Err(error))) => {
                self.done = true;
                Poll::Ready(Some(Err(error)))
            }
            other => other,
        }
    }
}

/// Counts the bytes of the event being received, line by line, across chunk boundaries.
#[derive(Debug)]
struct EventSizeLimiter {
    max: usize,
    event: usize,
    line: usize,
    comment: bool,
    after_cr: bool,
}

impl EventSizeLimiter {
    fn new(max: usize) -> Self {
        Self {
            max,
            event: 0,
            line: 0,
            comment: false,
            after_cr: false,
        }
    }

    /// Returns false once the current event is over the limit.
    fn observe(&mut self, chunk: &[u8]) -> bool {
        for &byte in chunk {
            if std::mem::take(&mut self.after_cr) && byte == b'\n' {
                continue;
            }
            match byte {
                b'\r' | b'\n' => {
                    self.after_cr = byte == b'\r';
                    if self.line == 0 {
                        self.event = 0;
                    } else if !self.comment {
                        self.event = self.event.saturating_add(self.line + 1);
                    }
                    self.line = 0;
                    self.comment = false;
                }
                _ => {
                    if self.line == 0 {
                        self.comment = byte == b':';
                    }
                    self.line += 1;
                }
            }
            if self.event.saturating_add(self.line) > self.max {
                return false;
            }
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limiter_counts_each_event_separately() {
        let mut limiter = EventSizeLimiter::new(20);
        assert!(limiter.observe(b"data: 0123456789\n\n"));
        assert!(limiter.observe(b"data: 0123456789\n\n"));
        assert!(!limiter.observe(b"data: 0123456789abcdef\n\n"));
    }

    #[test]
    fn limiter_ignores_comments_and_sees_across_chunks() {
        let mut limiter = EventSizeLimiter::new(12);
        assert!(limiter.observe(b": keepalive\n: keepalive\n"));
        assert!(limiter.observe(b"data: 01"));
        assert!(limiter.observe(b"23"));
        assert!(!limiter.observe(b"456789"));
    }

    #[test]
    fn limiter_handles_crlf() {
        let mut limiter = EventSizeLimiter::new(10);
        assert!(limiter.observe(b"data: abc\r\n\r\ndata: abc\r\n\r\n"));
    }
}
