//! The bounded reconnect policy for SSE streams, driven by `mcp-retry`.

use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use mcp_retry::{JitterRng, RetryPolicy};
use rmcp::transport::common::client_side_sse::SseRetryPolicy;

/// SSE reconnects bounded by a [`RetryPolicy`]: after the policy's retries the stream ends (rmcp's
/// default retries for ever). Used by our transport's streams and by rmcp's own (the
/// `server/discover` lifecycle); both resume with `Last-Event-ID`.
#[derive(Debug)]
pub struct SseReconnectPolicy {
    policy: RetryPolicy,
    rng: Mutex<JitterRng>,
}

impl SseReconnectPolicy {
    /// Reconnects with `policy`'s delays, at most `policy.max_retries()` times.
    pub fn new(policy: RetryPolicy) -> Self {
        Self {
            policy,
            rng: Mutex::new(JitterRng::from_entropy()),
        }
    }

    /// The default: from 1 s, doubling, capped at 30 s, 5 reconnect attempts.
    pub fn default_policy() -> RetryPolicy {
        RetryPolicy::builder()
            .max_attempts(6)
            .build()
            .unwrap_or_default()
    }
}

impl Default for SseReconnectPolicy {
    fn default() -> Self {
        Self::new(Self::default_policy())
    }
}

impl SseRetryPolicy for SseReconnectPolicy {
    fn retry(&self, reconnects_so_far: usize) -> Option<Duration> {
        // rmcp counts from 1 for the first reconnect.
        let attempt = u32::try_from(reconnects_so_far).ok()?.max(1);
        if attempt > self.policy.max_retries() {
            return None;
        }
        let mut rng = self.rng.lock().unwrap_or_else(PoisonError::into_inner);
        Some(self.policy.delay(attempt, &mut *rng))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mcp_retry::Jitter;

    #[test]
    fn stops_after_the_policy_retries() {
        let policy = RetryPolicy::builder()
            .max_attempts(4)
            .jitter(Jitter::None)
            .build()
            .unwrap();
        let reconnect = SseReconnectPolicy::new(policy);
        let delays: Vec<_> = (1..=5).map(|n| reconnect.retry(n)).collect();
        let secs = |s| Some(Duration::from_secs(s));
        assert_eq!(delays, [secs(1), secs(2), secs(4), None, None]);
    }

    #[test]
    fn default_allows_five_reconnects() {
        let reconnect = SseReconnectPolicy::default();
        assert!(reconnect.retry(5).is_some());
        assert!(reconnect.retry(6).is_none());
        assert!(
            reconnect
                .retry(1)
                .is_some_and(|delay| delay <= Duration::from_secs(1))
        );
    }
}
