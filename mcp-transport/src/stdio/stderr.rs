//! Draining a server's stderr: every line to `tracing`, the last few kept for error messages.

use std::collections::VecDeque;
use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};

use tokio::io::{AsyncRead, AsyncReadExt};

/// Most lines kept.
const TAIL_LINES: usize = 64;
/// Most bytes kept across those lines.
const TAIL_BYTES: usize = 16 * 1024;
/// Longest line kept; the rest of a longer line is dropped (the whole line still goes to `tracing`
/// in pieces of this size).
const LINE_BYTES: usize = 1024;

/// The last lines a server wrote to stderr (at most 64 lines and 16 KiB), as errors quote them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StderrTail {
    lines: Vec<String>,
    discarded: bool,
}

impl StderrTail {
    /// Whether the server's stderr went to the null device
    /// ([`StderrHandling::Discard`](crate::StderrHandling::Discard)), so that nothing could be kept.
    pub fn is_discarded(&self) -> bool {
        self.discarded
    }

    /// The kept lines, oldest first.
    pub fn lines(&self) -> &[String] {
        &self.lines
    }

    /// Whether the server wrote nothing (that was kept).
    pub fn is_empty(&self) -> bool {
        self.lines.is_empty()
    }

    /// The last `max_lines` lines on one line each, ready to quote in a message.
    pub fn excerpt(&self, max_lines: usize) -> String {
        let start = self.lines.len().saturating_sub(max_lines);
        let shown = &self.lines[start..];
        match shown {
            [one] => one.clone(),
            _ => shown
                .iter()
                .map(|line| format!("\n  {line}"))
                .collect::<String>(),
        }
    }
}

impl fmt::Display for StderrTail {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.lines.join("\n"))
    }
}

/// The shared, bounded ring of recent stderr lines.
#[derive(Debug, Default)]
pub(crate) struct StderrRing {
    inner: Mutex<Ring>,
    /// Nothing will ever be pushed: stderr was discarded.
    discarded: bool,
}

#[derive(Debug, Default)]
struct Ring {
    lines: VecDeque<String>,
    bytes: usize,
}

impl StderrRing {
    /// The ring of a server whose stderr is discarded: always empty, and saying why.
    pub(crate) fn discarded() -> Self {
        Self {
            discarded: true,
            ..Self::default()
        }
    }

    pub(crate) fn push(&self, line: String) {
        let mut ring = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        ring.bytes += line.len();
        ring.lines.push_back(line);
        while ring.lines.len() > TAIL_LINES || ring.bytes > TAIL_BYTES {
            match ring.lines.pop_front() {
                Some(old) => ring.bytes -= old.len(),
                None => break,
            }
        }
    }

    pub(crate) fn snapshot(&self) -> StderrTail {
        let ring = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        StderrTail {
            lines: ring.lines.iter().cloned().collect(),
            discarded: self.discarded,
        }
    }
}

/// Reads `stderr` to its end, logging each line under the server's name and keeping the tail.
/// Memory stays bounded whatever the server writes: lines are cut at [`LINE_BYTES`].
pub(crate) async fn drain<R: AsyncRead + Unpin>(
    mut stderr: R,
    ring: Arc<StderrRing>,
    server: Arc<str>,
) {
    let mut chunk = vec![0u8; 8192];
    let mut line: Vec<u8> = Vec::with_capacity(256);
    let mut cut = false;
    loop {
        let read = match stderr.read(&mut chunk).await {
            Ok(0) | Err(_) => break,
            Ok(read) => read,
        };
        for piece in chunk[..read].split_inclusive(|byte| *byte == b'\n') {
            let (body, complete) = match piece.strip_suffix(b"\n") {
                Some(body) => (body, true),
                None => (piece, false),
            };
            let room = LINE_BYTES.saturating_sub(line.len());
            line.extend_from_slice(&body[..body.len().min(room)]);
            cut |= body.len() > room;
            if complete {
                emit(&mut line, &mut cut, &ring, &server);
            }
        }
    }
    if !line.is_empty() {
        emit(&mut line, &mut cut, &ring, &server);
    }
}

fn emit(line: &mut Vec<u8>, cut: &mut bool, ring: &StderrRing, server: &str) {
    let mut text = String::from_utf8_lossy(line)
        .trim_end_matches('\r')
        .replace(|c: char| c.is_control() && c != '\t', " ");
    if *cut {
        text.push('…');
    }
    tracing::info!(target: "mcp_transport::stderr", server, "{text}");
    ring.push(text);
    line.clear();
    *cut = false;
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn drained(input: &[u8]) -> StderrTail {
        let ring = Arc::new(StderrRing::default());
        drain(input, Arc::clone(&ring), Arc::from("test")).await;
        ring.snapshot()
    }

    #[tokio::test]
    async fn lines_are_split_and_kept() {
        let tail = drained(b"first\nsecond\r\nthird without newline").await;
        assert_eq!(tail.lines(), ["first", "second", "third without newline"]);
    }

    #[tokio::test]
    async fn only_the_last_64_lines_are_kept() {
        let input: String = (0..1000).map(|n| format!("line {n}\n")).collect();
        let tail = drained(input.as_bytes()).await;
        assert_eq!(tail.lines().len(), 64);
        assert_eq!(tail.lines()[63], "line 999");
    }

    #[tokio::test]
    async fn long_lines_are_cut_and_bytes_bounded() {
        let mut input = vec![b'x'; 1_000_000];
        input.push(b'\n');
        input.extend_from_slice(b"after\n");
        let tail = drained(&input).await;
        assert_eq!(tail.lines().len(), 2);
        assert!(tail.lines()[0].len() <= LINE_BYTES + '…'.len_utf8());
        assert!(tail.lines()[0].ends_with('…'));
        assert_eq!(tail.lines()[1], "after");
    }

    #[test]
    fn total_bytes_stay_bounded() {
        let ring = StderrRing::default();
        for _ in 0..100 {
            ring.push("y".repeat(LINE_BYTES));
        }
        let tail = ring.snapshot();
        assert!(tail.lines().iter().map(String::len).sum::<usize>() <= TAIL_BYTES);
    }

    #[test]
    fn excerpt_quotes_one_line_inline_and_several_indented() {
        let one = StderrTail {
            lines: vec!["boom".into()],
            discarded: false,
        };
        assert_eq!(one.excerpt(10), "boom");
        let two = StderrTail {
            lines: vec!["a".into(), "b".into(), "c".into()],
            discarded: false,
        };
        assert_eq!(two.excerpt(2), "\n  b\n  c");
    }
}
