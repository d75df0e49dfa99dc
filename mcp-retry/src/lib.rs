//! A small, generic retry policy: exponential backoff with jitter, a decision per error, an attempt
//! budget and an optional time budget.
//!
//! This crate knows nothing of MCP, HTTP or processes. The rest of the toolkit uses it around *whole*
//! operations (a complete connect attempt: spawn or open, handshake, discovery), never inside a resource
//! guard's lifetime, so a failed attempt is always cleaned up by its own guard before the next begins.
//!
//! - [`RetryPolicy`] is the policy as a value (defaults: 3 attempts, 1 s base delay doubling to a 30 s
//!   cap, full jitter). It reads from configuration with human durations (`"250ms"`, `"1s"`, `"2m"`).
//! - [`Classify`] says per error: [`Decision::Retry`], [`Decision::RetryAfter`] (a server's
//!   `Retry-After`, capped by the policy) or [`Decision::Stop`]. Closures implement it; errors that know
//!   their own answer implement [`Retryable`] and are classified by [`ByRetryable`].
//! - [`retry`] runs a fresh operation per attempt and returns its value or a [`RetryError`] that keeps the
//!   last cause, the attempt count, the elapsed time and the [`StopReason`]. [`Retry`] adds an observer
//!   hook and an injectable jitter source.
//! - [`Backoff`] is the bare sequence of delays, for loops that count their own retries.
//!
//! All waiting uses `tokio::time`, so tests drive it with a paused clock, and dropping a retry future at
//! any point cancels it cleanly: the running attempt is dropped and no further attempt starts.
//!
//! # Example
//! ```
//! use std::time::Duration;
//! use mcp_retry::{retry, Decision, RetryPolicy, StopReason};
//!
//! #[derive(Debug, thiserror::Error)]
//! enum ConnectError {
//!     #[error("server busy")]
//!     Busy { retry_after: Duration },
//!     #[error("connection refused")]
//!     Refused,
//!     #[error("command not found")]
//!     NotFound,
//! }
//!
//! # #[tokio::main(flavor = "current_thread", start_paused = true)]
//! # async fn main() {
//! let policy = RetryPolicy::default();
//! let classify = |error: &ConnectError| match error {
//!     ConnectError::Busy { retry_after } => Decision::RetryAfter(*retry_after),
//!     ConnectError::Refused => Decision::Retry,
//!     ConnectError::NotFound => Decision::Stop,
//! };
//! let error = retry(&policy, classify, |attempt| async move {
//!     match attempt {
//!         1 => Err::<(), _>(ConnectError::Busy { retry_after: Duration::from_secs(2) }),
//!         _ => Err(ConnectError::Refused),
//!     }
//! })
//! .await
//! .unwrap_err();
//! assert_eq!(error.attempts(), 3);
//! assert_eq!(error.reason(), StopReason::AttemptsExhausted);
//! assert!(error.to_string().starts_with("connection refused (after 3 attempts in"));
//! # }
//! ```

mod backoff;
mod classify;
mod config;
mod policy;
mod retry;

pub use backoff::{Backoff, JitterRng};
pub use classify::{ByRetryable, Classify, Decision, Retryable};
pub use policy::{Jitter, PolicyError, RetryPolicy, RetryPolicyBuilder};
pub use retry::{NoObserver, Retry, RetryError, StopReason, retry};
