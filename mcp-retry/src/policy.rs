//! The retry policy as a value: how many attempts, how long to wait between them, how much time in all.
//!
//! A [`RetryPolicy`] is built through [`RetryPolicyBuilder`], which refuses values that cannot work
//! (zero attempts, a factor below 1, a base delay longer than the cap) with a [`PolicyError`], so
//! every policy in hand is valid.

use std::time::Duration;

use rand::Rng;

use crate::backoff::{Backoff, JitterRng, unit_fraction};

/// How the computed delay is randomised, so that many clients failing together do not retry together.
///
/// See "Exponential Backoff And Jitter" (AWS Architecture Blog, 2015) for the comparison that made
/// full jitter the usual default.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Jitter {
    /// No randomness: the delay is exactly the exponential value. Useful for tests and single clients.
    None,
    /// Uniform in `[0, delay]`: the best spread, and the default.
    #[default]
    Full,
    /// Half the delay fixed plus a uniform `[0, delay/2]`: never retries sooner than half the delay.
    Equal,
}

/// A policy that was asked for something it cannot do, such as zero attempts.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum PolicyError {
    /// `max_attempts` was 0; one attempt is the least (it means "no retries").
    #[error("max_attempts must be at least 1 (1 means a single attempt and no retries), got 0")]
    ZeroAttempts,
    /// The growth factor was below 1, not a number or infinite.
    #[error("factor must be a finite number of at least 1, got {0}")]
    InvalidFactor(f64),
    /// The first delay was longer than the cap on every delay.
    #[error(
        "base_delay ({}) is longer than max_delay ({})",
        humantime::format_duration(*base_delay),
        humantime::format_duration(*max_delay)
    )]
    BaseDelayExceedsMaxDelay {
        /// The configured first delay.
        base_delay: Duration,
        /// The configured cap.
        max_delay: Duration,
    },
}

/// When and how often to retry a failed operation: exponential backoff with jitter, capped, with an
/// attempt budget and an optional time budget.
///
/// The delay after the `n`th failed attempt is `base_delay * factor^(n-1)`, capped at `max_delay`, then
/// randomised by [`Jitter`]. A policy is a plain value: build it once, share it by reference, and test
/// it in isolation from whatever it retries.
///
/// The defaults are 3 attempts, a 1 s base delay doubling each time, a 30 s cap, full jitter and no
/// time budget.
///
/// In configuration files a policy is a table whose durations are human strings:
///
/// ```
/// # use mcp_retry::{Jitter, RetryPolicy};
/// # use std::time::Duration;
/// let policy: RetryPolicy = toml::from_str(r#"
///     attempts = 5
///     base_delay = "250ms"
///     max_delay = "10s"
///     jitter = "equal"
///     max_elapsed = "2m"
/// "#).unwrap();
/// assert_eq!(policy.max_attempts(), 5);
/// assert_eq!(policy.base_delay(), Duration::from_millis(250));
/// assert_eq!(policy.jitter(), Jitter::Equal);
/// assert_eq!(policy.max_elapsed(), Some(Duration::from_secs(120)));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(
    try_from = "crate::config::RetryPolicyConfig",
    into = "crate::config::RetryPolicyConfig"
)]
pub struct RetryPolicy {
    pub(crate) max_attempts: u32,
    pub(crate) base_delay: Duration,
    pub(crate) factor: f64,
    pub(crate) max_delay: Duration,
    pub(crate) jitter: Jitter,
    pub(crate) max_elapsed: Option<Duration>,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 3,
            base_delay: Duration::from_secs(1),
            factor: 2.0,
            max_delay: Duration::from_secs(30),
            jitter: Jitter::Full,
            max_elapsed: None,
        }
    }
}

impl RetryPolicy {
    /// A builder starting from the defaults.
    ///
    /// ```
    /// # use mcp_retry::{Jitter, RetryPolicy};
    /// # use std::time::Duration;
    /// let policy = RetryPolicy::builder()
    ///     .max_attempts(5)
    ///     .base_delay(Duration::from_millis(100))
    ///     .jitter(Jitter::None)
    ///     .build()?;
    /// assert_eq!(policy.nominal_delay(3), Duration::from_millis(400));
    /// # Ok::<(), mcp_retry::PolicyError>(())
    /// ```
    pub fn builder() -> RetryPolicyBuilder {
        RetryPolicyBuilder {
            policy: Self::default(),
        }
    }

    /// A policy that makes exactly one attempt and never retries.
    pub fn single_attempt() -> Self {
        Self {
            max_attempts: 1,
            ..Self::default()
        }
    }

    /// A builder starting from this policy, to derive a variant (for example fewer attempts for recovery).
    pub fn to_builder(&self) -> RetryPolicyBuilder {
        RetryPolicyBuilder { policy: *self }
    }

    /// The most attempts made in all, the first one included (at least 1).
    pub fn max_attempts(&self) -> u32 {
        self.max_attempts
    }

    /// The most retries, that is attempts after the first.
    pub fn max_retries(&self) -> u32 {
        self.max_attempts - 1
    }

    /// The delay after the first failed attempt, before jitter.
    pub fn base_delay(&self) -> Duration {
        self.base_delay
    }

    /// How much each delay grows over the previous one (at least 1).
    pub fn factor(&self) -> f64 {
        self.factor
    }

    /// The cap on every delay, including a server's `Retry-After`.
    pub fn max_delay(&self) -> Duration {
        self.max_delay
    }

    /// How delays are randomised.
    pub fn jitter(&self) -> Jitter {
        self.jitter
    }

    /// The time budget, if any: no attempt starts once waiting for it would go past this much time since
    /// the first attempt started. It does not cut a running attempt short; bound each attempt with a
    /// timeout of its own.
    pub fn max_elapsed(&self) -> Option<Duration> {
        self.max_elapsed
    }

    /// The delay after the `failed_attempts`th failure, before jitter: `base_delay * factor^(n-1)`,
    /// capped at `max_delay`. This is the upper bound of the jittered delay. `0` is treated as `1`.
    pub fn nominal_delay(&self, failed_attempts: u32) -> Duration {
        let exponent = i32::try_from(failed_attempts.saturating_sub(1)).unwrap_or(i32::MAX);
        // Nanoseconds in f64 are exact up to 2^53 ns (about 104 days), so the usual powers of two over
        // millisecond or second bases give exact durations.
        let nanos = self.base_delay.as_nanos() as f64 * self.factor.powi(exponent);
        let cap = self.max_delay.as_nanos() as f64;
        if nanos.is_nan() || nanos >= cap {
            self.max_delay
        } else {
            Duration::from_nanos(nanos.round() as u64)
        }
    }

    /// The delay after the `failed_attempts`th failure with this policy's jitter applied, drawing from
    /// `rng`. Never more than [`nominal_delay`](Self::nominal_delay), hence never more than `max_delay`.
    pub fn delay<R: Rng + ?Sized>(&self, failed_attempts: u32, rng: &mut R) -> Duration {
        let nominal = self.nominal_delay(failed_attempts);
        match self.jitter {
            Jitter::None => nominal,
            Jitter::Full => nominal.mul_f64(unit_fraction(rng)),
            Jitter::Equal => {
                let half = nominal / 2;
                half + (nominal - half).mul_f64(unit_fraction(rng))
            }
        }
    }

    /// The delays of this policy's retries, jittered from a randomly seeded source.
    ///
    /// ```
    /// # use mcp_retry::{Jitter, RetryPolicy};
    /// # use std::time::Duration;
    /// let policy = RetryPolicy::builder().max_attempts(4).jitter(Jitter::None).build()?;
    /// let delays: Vec<Duration> = policy.backoff().collect();
    /// assert_eq!(delays, [1, 2, 4].map(Duration::from_secs));
    /// # Ok::<(), mcp_retry::PolicyError>(())
    /// ```
    pub fn backoff(&self) -> Backoff<JitterRng> {
        Backoff::new(*self, JitterRng::from_entropy())
    }

    /// The delays of this policy's retries, jittered from `rng` (seed it for reproducible sequences).
    pub fn backoff_with_rng<R: Rng>(&self, rng: R) -> Backoff<R> {
        Backoff::new(*self, rng)
    }
}

/// Builds a [`RetryPolicy`], checking it on [`build`](Self::build).
#[derive(Debug, Clone)]
#[must_use = "a builder does nothing until `build` is called"]
pub struct RetryPolicyBuilder {
    policy: RetryPolicy,
}

impl RetryPolicyBuilder {
    /// The most attempts in all, the first included; 1 means no retries. Default 3.
    pub fn max_attempts(mut self, attempts: u32) -> Self {
        self.policy.max_attempts = attempts;
        self
    }

    /// The delay after the first failure. Default 1 s.
    pub fn base_delay(mut self, delay: Duration) -> Self {
        self.policy.base_delay = delay;
        self
    }

    /// The growth of each delay over the previous one. Default 2.
    pub fn factor(mut self, factor: f64) -> Self {
        self.policy.factor = factor;
        self
    }

    /// The cap on every delay. Default 30 s.
    pub fn max_delay(mut self, delay: Duration) -> Self {
        self.policy.max_delay = delay;
        self
    }

    /// How delays are randomised. Default [`Jitter::Full`].
    pub fn jitter(mut self, jitter: Jitter) -> Self {
        self.policy.jitter = jitter;
        self
    }

    /// An optional time budget for all attempts together. Default none.
    pub fn max_elapsed(mut self, budget: Option<Duration>) -> Self {
        self.policy.max_elapsed = budget;
        self
    }

    /// Checks the values and returns the policy.
    ///
    /// # Errors
    /// [`PolicyError`] names the value that cannot work: zero attempts, a factor below 1 or not finite,
    /// or a base delay longer than the cap.
    pub fn build(self) -> Result<RetryPolicy, PolicyError> {
        let policy = self.policy;
        if policy.max_attempts == 0 {
            return Err(PolicyError::ZeroAttempts);
        }
        if !policy.factor.is_finite() || policy.factor < 1.0 {
            return Err(PolicyError::InvalidFactor(policy.factor));
        }
        if policy.base_delay > policy.max_delay {
            return Err(PolicyError::BaseDelayExceedsMaxDelay {
                base_delay: policy.base_delay,
                max_delay: policy.max_delay,
            });
        }
        Ok(policy)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn no_jitter() -> RetryPolicyBuilder {
        RetryPolicy::builder().jitter(Jitter::None)
    }

    #[test]
    fn defaults_match_the_design() {
        let policy = RetryPolicy::default();
        assert_eq!(policy.max_attempts(), 3);
        assert_eq!(policy.base_delay(), Duration::from_secs(1));
        assert_eq!(policy.factor(), 2.0);
        assert_eq!(policy.max_delay(), Duration::from_secs(30));
        assert_eq!(policy.jitter(), Jitter::Full);
        assert_eq!(policy.max_elapsed(), None);
    }

    #[test]
    fn nominal_delays_grow_exponentially_then_hit_the_cap() {
        let policy = no_jitter()
            .base_delay(Duration::from_millis(100))
            .factor(3.0)
            .max_delay(Duration::from_secs(2))
            .build()
            .unwrap();
        let delays: Vec<_> = (1..=5).map(|n| policy.nominal_delay(n)).collect();
        assert_eq!(
            delays,
            [100, 300, 900, 2000, 2000].map(Duration::from_millis)
        );
    }

    #[test]
    fn huge_attempt_numbers_saturate_at_the_cap() {
        let policy = RetryPolicy::default();
        assert_eq!(policy.nominal_delay(u32::MAX), Duration::from_secs(30));
        assert_eq!(policy.nominal_delay(0), Duration::from_secs(1));
    }

    #[test]
    fn factor_one_gives_a_constant_delay() {
        let policy = no_jitter().factor(1.0).build().unwrap();
        assert!((1..10).all(|n| policy.nominal_delay(n) == Duration::from_secs(1)));
    }

    #[test]
    fn zero_attempts_is_rejected() {
        assert_eq!(
            RetryPolicy::builder().max_attempts(0).build(),
            Err(PolicyError::ZeroAttempts)
        );
    }

    #[test]
    fn factor_below_one_or_not_finite_is_rejected() {
        for factor in [0.5, f64::NAN, f64::INFINITY] {
            let err = RetryPolicy::builder().factor(factor).build().unwrap_err();
            assert!(matches!(err, PolicyError::InvalidFactor(_)), "{factor}");
        }
    }

    #[test]
    fn base_delay_longer_than_cap_is_rejected_with_both_values() {
        let err = RetryPolicy::builder()
            .base_delay(Duration::from_secs(5))
            .max_delay(Duration::from_secs(1))
            .build()
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "base_delay (5s) is longer than max_delay (1s)"
        );
    }

    #[test]
    fn to_builder_derives_a_variant() {
        let policy = no_jitter().max_attempts(5).build().unwrap();
        let recovery = policy.to_builder().max_attempts(2).build().unwrap();
        assert_eq!(recovery.max_attempts(), 2);
        assert_eq!(recovery.jitter(), Jitter::None);
    }

    #[test]
    fn single_attempt_never_retries() {
        let policy = RetryPolicy::single_attempt();
        assert_eq!(policy.max_retries(), 0);
        assert_eq!(policy.backoff().count(), 0);
    }
}
