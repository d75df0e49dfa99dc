//! Waiting, bounded, for something that happens outside the test's control: a killed process being
//! torn down, a file being written by a child. Each wait polls a condition and fails the test, naming
//! what it waited for, once [`BOUND`] of real time has passed.
//!
//! The async waits sleep on tokio's timer between polls, so the runtime keeps running the tasks the
//! condition may depend on (a current-thread runtime has no other thread to run them on). On a
//! paused clock those sleeps end at once; the bound is still real time. The `_blocking` waits are for
//! tests that run outside any runtime.

use std::time::{Duration, Instant};

/// The longest any wait takes before it fails the test: far more than a healthy machine needs.
pub const BOUND: Duration = Duration::from_secs(10);

/// The pause between two polls.
const POLL: Duration = Duration::from_millis(10);

/// Waits until `condition` holds.
///
/// # Panics
/// When it does not hold within [`BOUND`]: "timed out waiting until {what}".
pub async fn eventually(what: &str, condition: impl Fn() -> bool) {
    eventually_some(what, || condition().then_some(())).await;
}

/// Waits until `poll` returns a value, and returns it.
///
/// # Panics
/// When it returns none within [`BOUND`]: "timed out waiting until {what}".
pub async fn eventually_some<T>(what: &str, mut poll: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + BOUND;
    loop {
        if let Some(value) = poll() {
            return value;
        }
        assert!(
            Instant::now() < deadline,
            "timed out after {BOUND:?} waiting until {what}"
        );
        tokio::time::sleep(POLL).await;
    }
}

/// [`eventually`] for a test outside any runtime: blocks the calling thread between polls.
///
/// # Panics
/// When `condition` does not hold within [`BOUND`].
pub fn eventually_blocking(what: &str, condition: impl Fn() -> bool) {
    eventually_some_blocking(what, || condition().then_some(()));
}

/// [`eventually_some`] for a test outside any runtime: blocks the calling thread between polls.
///
/// # Panics
/// When `poll` returns none within [`BOUND`].
pub fn eventually_some_blocking<T>(what: &str, mut poll: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + BOUND;
    loop {
        if let Some(value) = poll() {
            return value;
        }
        assert!(
            Instant::now() < deadline,
            "timed out after {BOUND:?} waiting until {what}"
        );
        std::thread::sleep(POLL);
    }
}
