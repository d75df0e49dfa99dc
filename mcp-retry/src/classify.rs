//! Deciding, per error, whether another attempt can help.

use std::time::Duration;

/// What to do after a failed attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// The failure may be transient: retry after the policy's backoff delay.
    Retry,
    /// Retry after this long, as the server asked (`Retry-After`). The wait is capped by the policy's
    /// `max_delay`, and replaces the backoff delay for this one retry.
    RetryAfter(Duration),
    /// Another attempt cannot help (bad configuration, a missing program, a refused credential...).
    Stop,
}

impl Decision {
    /// Whether this decision allows another attempt.
    pub fn is_retry(&self) -> bool {
        !matches!(self, Decision::Stop)
    }
}

/// Says, per error, whether to retry.
///
/// Implemented for closures `Fn(&E) -> Decision`, so a classifier is usually written inline (annotate
/// the argument type: the compiler cannot infer it through this trait), and by [`ByRetryable`] for
/// errors that know their own answer.
///
/// ```
/// # use mcp_retry::{Classify, Decision};
/// let classify = |error: &std::io::Error| match error.kind() {
///     std::io::ErrorKind::ConnectionRefused => Decision::Retry,
///     _ => Decision::Stop,
/// };
/// let refused = std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
/// assert_eq!(classify.classify(&refused), Decision::Retry);
/// ```
pub trait Classify<E> {
    /// The decision for this error.
    fn classify(&self, error: &E) -> Decision;
}

impl<E, F> Classify<E> for F
where
    F: Fn(&E) -> Decision,
{
    fn classify(&self, error: &E) -> Decision {
        self(error)
    }
}

/// An error that knows whether retrying it can help.
///
/// The toolkit's error types implement this from their variants (never from the text of a message), so
/// callers retry with [`ByRetryable`] instead of writing a classifier.
pub trait Retryable {
    /// The decision for this error.
    fn retry_decision(&self) -> Decision;
}

/// A classifier that asks the error itself, through [`Retryable`].
///
/// ```
/// # use mcp_retry::{ByRetryable, Classify, Decision, Retryable};
/// #[derive(Debug)]
/// enum FetchError { Refused, BadConfig }
/// impl Retryable for FetchError {
///     fn retry_decision(&self) -> Decision {
///         match self {
///             FetchError::Refused => Decision::Retry,
///             FetchError::BadConfig => Decision::Stop,
///         }
///     }
/// }
/// assert_eq!(ByRetryable.classify(&FetchError::BadConfig), Decision::Stop);
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct ByRetryable;

impl<E: Retryable> Classify<E> for ByRetryable {
    fn classify(&self, error: &E) -> Decision {
        error.retry_decision()
    }
}
