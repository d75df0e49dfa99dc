//! Waiting for real processes, as `/proc` shows them (Linux), and reading tool results.
//!
//! A killed process is torn down asynchronously, so tests wait for it, bounded; the waits sleep on
//! tokio's timer so the runtime goes on with the tasks the condition may depend on.

use std::time::{Duration, Instant};

use rmcp::model::{CallToolResult, ServerResult};

/// The longest any wait takes before it fails the test.
const BOUND: Duration = Duration::from_secs(5);

/// The pause between two polls.
const POLL: Duration = Duration::from_millis(10);

/// Whether a process is still running (a zombie or a vanished pid counts as gone).
pub(crate) fn running(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().next())
            .is_some_and(|state| state != "Z" && state != "X"),
        Err(_) => false,
    }
}

/// Whether the pid is gone entirely (reaped, not even a zombie).
pub(crate) fn reaped(pid: u32) -> bool {
    !std::path::Path::new(&format!("/proc/{pid}")).exists()
}

/// Waits until `condition` holds; fails the test, naming `what`, after [`BOUND`].
pub(crate) async fn eventually(what: &str, condition: impl Fn() -> bool) {
    let deadline = Instant::now() + BOUND;
    while !condition() {
        assert!(Instant::now() < deadline, "timed out waiting until {what}");
        tokio::time::sleep(POLL).await;
    }
}

/// [`eventually`] for a test outside any runtime: blocks the calling thread between polls.
pub(crate) fn eventually_blocking(what: &str, condition: impl Fn() -> bool) {
    let deadline = Instant::now() + BOUND;
    while !condition() {
        assert!(Instant::now() < deadline, "timed out waiting until {what}");
        std::thread::sleep(POLL);
    }
}

/// The result of a `tools/call` answered on the direct path; panics showing any other answer.
pub(crate) fn tool_call_result(result: ServerResult) -> CallToolResult {
    match result {
        ServerResult::CallToolResult(result) => result,
        other => panic!("not a tool result: {other:?}"),
    }
}

/// The text of a tool result whose content is exactly one text block; panics showing the content
/// otherwise.
pub(crate) fn text_of(result: &CallToolResult) -> &str {
    match result.content.as_slice() {
        [block] => match block.as_text() {
            Some(text) => &text.text,
            None => panic!("not a text block: {block:?}"),
        },
        content => panic!("not one text block: {content:?}"),
    }
}
