//! Running a whole operation again and again under a policy.
//!
//! Three decisions shape the loop:
//! - A server's `Retry-After` ([`Decision::RetryAfter`]) replaces the backoff delay for that one
//!   retry, capped by the policy's `max_delay`.
//! - The time budget (`max_elapsed`) stops the loop before a wait that would pass it, but never
//!   cuts a running attempt short: attempts carry their own timeouts, set by the caller.
//! - An error classified as not retryable stops the loop even on the last attempt, so the
//!   [`StopReason`] reported is the truer one (`NotRetryable` rather than `AttemptsExhausted`).
//!
//! Every wait is a `tokio::time::sleep`, so tests run the loop on the paused clock.

use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::time::Duration;

use rand::Rng;
use tokio::time::Instant;

use crate::{Classify, Decision, JitterRng, RetryPolicy};

/// Why [`retry`] gave up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum StopReason {
    /// The classifier said another attempt cannot help.
    NotRetryable,
    /// Every attempt the policy allows was made.
    AttemptsExhausted,
    /// Waiting for the next attempt would have gone past the policy's time budget.
    TimeBudgetExhausted,
}

impl fmt::Display for StopReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            StopReason::NotRetryable => "not retryable",
            StopReason::AttemptsExhausted => "attempts exhausted",
            StopReason::TimeBudgetExhausted => "time budget exhausted",
        })
    }
}

/// The failure of a retried operation: the last attempt's error, how many attempts were made, how long
/// they took in all and why no further attempt was made.
///
/// Its message leads with the cause, e.g. `connection refused (after 3 attempts in 3.2s: attempts
/// exhausted)`.
#[derive(Debug, thiserror::Error)]
#[error(
    "{last_error} (after {attempts} attempt{plural} in {elapsed}: {reason})",
    plural = if *attempts == 1 { "" } else { "s" },
    elapsed = humantime::format_duration(round_to_millis(*elapsed)),
)]
pub struct RetryError<E> {
    last_error: E,
    attempts: u32,
    elapsed: Duration,
    reason: StopReason,
}

impl<E> RetryError<E> {
    /// The error of the last attempt.
    pub fn last_error(&self) -> &E {
        &self.last_error
    }

    /// The error of the last attempt, by value.
    pub fn into_last_error(self) -> E {
        self.last_error
    }

    /// How many attempts were made (at least 1).
    pub fn attempts(&self) -> u32 {
        self.attempts
    }

    /// Time from the start of the first attempt to the end of the last.
    pub fn elapsed(&self) -> Duration {
        self.elapsed
    }

    /// Why no further attempt was made.
    pub fn reason(&self) -> StopReason {
        self.reason
    }
}

fn round_to_millis(duration: Duration) -> Duration {
    Duration::from_millis(u64::try_from(duration.as_millis()).unwrap_or(u64::MAX))
}

/// Runs `operation` until it succeeds or `policy` and `classify` say to stop.
///
/// `operation` is called with the attempt number (1, 2, ...) and must build a **fresh** future each
/// time: retry wraps a complete attempt, never part of one. Between attempts it sleeps for the policy's
/// delay, or for the `Retry-After` the classifier returned (capped at `max_delay`). Each failed attempt
/// emits a `tracing` event. Dropping the returned future at any point (mid-attempt or mid-sleep) drops
/// the current attempt and starts no further one.
///
/// Use [`Retry`] to observe retries or to supply the jitter source.
///
/// # Errors
/// A [`RetryError`] with the last attempt's error, the attempt count, the elapsed time and the
/// [`StopReason`].
///
/// # Example
/// ```
/// use std::time::Duration;
/// use mcp_retry::{retry, Decision, Jitter, RetryPolicy, StopReason};
///
/// # #[tokio::main(flavor = "current_thread", start_paused = true)]
/// # async fn main() {
/// let policy = RetryPolicy::builder()
///     .base_delay(Duration::from_millis(10))
///     .jitter(Jitter::None)
///     .build()
///     .unwrap();
/// let classify = |error: &std::io::Error| match error.kind() {
///     std::io::ErrorKind::ConnectionRefused => Decision::Retry,
///     _ => Decision::Stop,
/// };
///
/// // Succeeds on the third attempt.
/// let value = retry(&policy, classify, |attempt| async move {
///     if attempt < 3 {
///         Err(std::io::Error::from(std::io::ErrorKind::ConnectionRefused))
///     } else {
///         Ok(attempt)
///     }
/// })
/// .await
/// .unwrap();
/// assert_eq!(value, 3);
///
/// // A permission error is not retried.
/// let error = retry(&policy, classify, |_| async {
///     Err::<(), _>(std::io::Error::from(std::io::ErrorKind::PermissionDenied))
/// })
/// .await
/// .unwrap_err();
/// assert_eq!(error.attempts(), 1);
/// assert_eq!(error.reason(), StopReason::NotRetryable);
/// # }
/// ```
pub async fn retry<T, E, C, F, Fut>(
    policy: &RetryPolicy,
    classify: C,
    operation: F,
) -> Result<T, RetryError<E>>
where
    E: fmt::Display,
    C: Classify<E>,
    F: FnMut(u32) -> Fut,
    Fut: Future<Output = Result<T, E>>,
{
    Retry::new(policy, classify).run(operation).await
}

/// The observer type of a [`Retry`] that has none.
pub type NoObserver<E> = fn(u32, Duration, &E);

/// A configurable [`retry`]: an observer called before each retry, and the jitter source.
///
/// ```
/// use std::time::Duration;
/// use mcp_retry::{Decision, Jitter, Retry, RetryPolicy};
///
/// # #[tokio::main(flavor = "current_thread", start_paused = true)]
/// # async fn main() {
/// let policy = RetryPolicy::builder().jitter(Jitter::None).build().unwrap();
/// let mut seen = Vec::new();
/// let result = Retry::new(&policy, |_: &String| Decision::Retry)
///     .on_retry(|attempt, delay, error| seen.push(format!("attempt {attempt} failed ({error}); next in {delay:?}")))
///     .run(|_| async { Err::<(), String>("refused".to_owned()) })
///     .await;
/// assert_eq!(result.unwrap_err().attempts(), 3);
/// assert_eq!(seen, ["attempt 1 failed (refused); next in 1s", "attempt 2 failed (refused); next in 2s"]);
/// # }
/// ```
#[must_use = "a Retry does nothing until `run` is awaited"]
pub struct Retry<'p, E, C, O = NoObserver<E>, R = JitterRng> {
    policy: &'p RetryPolicy,
    classify: C,
    observer: O,
    rng: R,
    error: PhantomData<fn(&E)>,
}

impl<'p, E, C: Classify<E>> Retry<'p, E, C> {
    /// A retry under `policy`, deciding per error with `classify`, jittered from an OS-seeded source.
    pub fn new(policy: &'p RetryPolicy, classify: C) -> Self {
        Self {
            policy,
            classify,
            observer: |_, _, _| {},
            rng: JitterRng::from_entropy(),
            error: PhantomData,
        }
    }
}

impl<'p, E, C, O, R> Retry<'p, E, C, O, R>
where
    C: Classify<E>,
    O: FnMut(u32, Duration, &E),
    R: Rng,
{
    /// Calls `observer(failed_attempt, delay, &error)` before each wait for a retry (not after the last
    /// attempt), e.g. to publish a "retrying" event.
    pub fn on_retry<O2>(self, observer: O2) -> Retry<'p, E, C, O2, R>
    where
        O2: FnMut(u32, Duration, &E),
    {
        Retry {
            policy: self.policy,
            classify: self.classify,
            observer,
            rng: self.rng,
            error: PhantomData,
        }
    }

    /// Draws jitter from `rng` instead (seed it for reproducible delays).
    pub fn with_rng<R2: Rng>(self, rng: R2) -> Retry<'p, E, C, O, R2> {
        Retry {
            policy: self.policy,
            classify: self.classify,
            observer: self.observer,
            rng,
            error: PhantomData,
        }
    }

    /// Runs `operation` as [`retry`] describes.
    ///
    /// # Errors
    /// A [`RetryError`] once an error is not retryable, the attempts are used up, or the next wait
    /// would pass the time budget.
    pub async fn run<T, F, Fut>(mut self, mut operation: F) -> Result<T, RetryError<E>>
    where
        E: fmt::Display,
        F: FnMut(u32) -> Fut,
        Fut: Future<Output = Result<T, E>>,
    {
        let policy = self.policy;
        let started = Instant::now();
        let mut attempt: u32 = 1;
        loop {
            let error = match operation(attempt).await {
                Ok(value) => return Ok(value),
                Err(error) => error,
            };
            let next = match self.classify.classify(&error) {
                Decision::Stop => Err(StopReason::NotRetryable),
                _ if attempt >= policy.max_attempts() => Err(StopReason::AttemptsExhausted),
                Decision::Retry => Ok(policy.delay(attempt, &mut self.rng)),
                Decision::RetryAfter(wait) => Ok(wait.min(policy.max_delay())),
            };
            let next = next.and_then(|delay| match policy.max_elapsed() {
                Some(budget) if started.elapsed() + delay > budget => {
                    Err(StopReason::TimeBudgetExhausted)
                }
                _ => Ok(delay),
            });
            match next {
                Ok(delay) => {
                    tracing::warn!(
                        attempt,
                        max_attempts = policy.max_attempts(),
                        delay_ms = delay.as_millis() as u64,
                        error = %error,
                        "attempt failed; retrying"
                    );
                    (self.observer)(attempt, delay, &error);
                    tokio::time::sleep(delay).await;
                    attempt += 1;
                }
                Err(reason) => {
                    tracing::warn!(
                        attempt,
                        max_attempts = policy.max_attempts(),
                        %reason,
                        error = %error,
                        "attempt failed; giving up"
                    );
                    return Err(RetryError {
                        last_error: error,
                        attempts: attempt,
                        elapsed: started.elapsed(),
                        reason,
                    });
                }
            }
        }
    }
}
