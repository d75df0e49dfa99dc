//! The sequence of delays a policy produces, usable without [`retry`](crate::retry).

use std::convert::Infallible;
use std::time::Duration;

use rand::rngs::{SmallRng, SysRng};
use rand::{Rng, SeedableRng, TryRng};

use crate::RetryPolicy;

/// An iterator over the delays between the attempts of a [`RetryPolicy`]: one item per retry, so
/// `max_attempts - 1` items in all.
///
/// It knows nothing of time budgets or `Retry-After`; [`retry`](crate::retry) adds those. On its own it
/// drives reconnect loops whose retries are counted elsewhere, such as an SSE stream's.
///
/// ```
/// # use mcp_retry::{Jitter, RetryPolicy};
/// # use rand::{SeedableRng, rngs::SmallRng};
/// # use std::time::Duration;
/// let policy = RetryPolicy::builder().max_attempts(6).jitter(Jitter::Equal).build()?;
/// // A seeded source gives the same sequence every time.
/// let a: Vec<Duration> = policy.backoff_with_rng(SmallRng::seed_from_u64(7)).collect();
/// let b: Vec<Duration> = policy.backoff_with_rng(SmallRng::seed_from_u64(7)).collect();
/// assert_eq!(a, b);
/// assert_eq!(a.len(), 5);
/// # Ok::<(), mcp_retry::PolicyError>(())
/// ```
#[derive(Debug, Clone)]
pub struct Backoff<R> {
    policy: RetryPolicy,
    failed_attempts: u32,
    rng: R,
}

impl<R: Rng> Backoff<R> {
    pub(crate) fn new(policy: RetryPolicy, rng: R) -> Self {
        Self {
            policy,
            failed_attempts: 0,
            rng,
        }
    }

    /// How many delays this iterator has produced so far.
    pub fn retries_so_far(&self) -> u32 {
        self.failed_attempts
    }
}

impl<R: Rng> Iterator for Backoff<R> {
    type Item = Duration;

    fn next(&mut self) -> Option<Duration> {
        if self.failed_attempts >= self.policy.max_retries() {
            return None;
        }
        self.failed_attempts += 1;
        Some(self.policy.delay(self.failed_attempts, &mut self.rng))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let left =
            usize::try_from(self.policy.max_retries() - self.failed_attempts).unwrap_or(usize::MAX);
        (left, Some(left))
    }
}

impl<R: Rng> ExactSizeIterator for Backoff<R> {}

/// The default jitter source: a small, fast generator seeded from the operating system.
///
/// Jitter only spreads retries apart, so it needs no cryptographic strength; it does need to be `Send`,
/// because retry futures move between worker threads (rand's thread-local generator is not).
#[derive(Debug, Clone)]
pub struct JitterRng(SmallRng);

impl JitterRng {
    /// A generator seeded from the OS; if the OS source fails, from the clock and the stack address,
    /// which still decorrelates processes well enough for jitter.
    pub fn from_entropy() -> Self {
        match SmallRng::try_from_rng(&mut SysRng) {
            Ok(rng) => Self(rng),
            Err(_) => {
                let nanos = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0, |elapsed| elapsed.as_nanos() as u64);
                let local = 0u8;
                let address = std::ptr::addr_of!(local) as usize as u64;
                Self(SmallRng::seed_from_u64(nanos ^ address.rotate_left(32)))
            }
        }
    }
}

impl TryRng for JitterRng {
    type Error = Infallible;

    fn try_next_u32(&mut self) -> Result<u32, Infallible> {
        Ok(self.0.next_u32())
    }

    fn try_next_u64(&mut self) -> Result<u64, Infallible> {
        Ok(self.0.next_u64())
    }

    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Infallible> {
        self.0.fill_bytes(dst);
        Ok(())
    }
}

/// A uniform fraction in `[0, 1)` from the top 53 bits of one draw (all an `f64` mantissa holds).
pub(crate) fn unit_fraction<R: Rng + ?Sized>(rng: &mut R) -> f64 {
    const SCALE: f64 = 1.0 / (1u64 << 53) as f64;
    (rng.next_u64() >> 11) as f64 * SCALE
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::Jitter;
    use proptest::prelude::*;

    /// A source that always draws the same value, to pin jitter at its bounds.
    pub(crate) struct ConstantRng(pub(crate) u64);

    impl TryRng for ConstantRng {
        type Error = Infallible;
        fn try_next_u32(&mut self) -> Result<u32, Infallible> {
            Ok(self.0 as u32)
        }
        fn try_next_u64(&mut self) -> Result<u64, Infallible> {
            Ok(self.0)
        }
        fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Infallible> {
            dst.fill(self.0 as u8);
            Ok(())
        }
    }

    fn policy(jitter: Jitter) -> RetryPolicy {
        RetryPolicy::builder()
            .max_attempts(4)
            .jitter(jitter)
            .build()
            .unwrap()
    }

    #[test]
    fn yields_one_delay_per_retry() {
        let backoff = policy(Jitter::None).backoff();
        assert_eq!(backoff.len(), 3);
        assert_eq!(
            backoff.collect::<Vec<_>>(),
            [1, 2, 4].map(Duration::from_secs)
        );
    }

    #[test]
    fn full_jitter_spans_zero_to_the_nominal_delay() {
        let low: Vec<_> = policy(Jitter::Full)
            .backoff_with_rng(ConstantRng(0))
            .collect();
        assert_eq!(low, [Duration::ZERO; 3]);
        let high: Vec<_> = policy(Jitter::Full)
            .backoff_with_rng(ConstantRng(u64::MAX))
            .collect();
        for (delay, nominal) in high.iter().zip([1, 2, 4].map(Duration::from_secs)) {
            assert!(*delay <= nominal && nominal - *delay < Duration::from_micros(1));
        }
    }

    #[test]
    fn equal_jitter_never_goes_below_half() {
        let low: Vec<_> = policy(Jitter::Equal)
            .backoff_with_rng(ConstantRng(0))
            .collect();
        assert_eq!(low, [500, 1000, 2000].map(Duration::from_millis));
    }

    #[test]
    fn default_source_is_send_and_varies() {
        fn assert_send<T: Send>(_: &T) {}
        let mut rng = JitterRng::from_entropy();
        assert_send(&rng);
        let draws: std::collections::HashSet<u64> = (0..8).map(|_| rng.next_u64()).collect();
        assert!(draws.len() > 1);
    }

    fn any_jitter() -> impl Strategy<Value = Jitter> {
        prop_oneof![Just(Jitter::None), Just(Jitter::Full), Just(Jitter::Equal)]
    }

    proptest! {
        #[test]
        fn no_delay_exceeds_the_cap_and_each_respects_its_bounds(
            attempts in 1u32..40,
            base_ms in 0u64..10_000,
            extra_ms in 0u64..120_000,
            factor in 1.0f64..5.0,
            jitter in any_jitter(),
            seed: u64,
        ) {
            let policy = RetryPolicy::builder()
                .max_attempts(attempts)
                .base_delay(Duration::from_millis(base_ms))
                .max_delay(Duration::from_millis(base_ms + extra_ms))
                .factor(factor)
                .jitter(jitter)
                .build()
                .unwrap();
            let delays: Vec<_> = policy.backoff_with_rng(SmallRng::seed_from_u64(seed)).collect();
            prop_assert_eq!(delays.len() as u32, attempts - 1);
            let mut previous_nominal = Duration::ZERO;
            for (index, delay) in delays.iter().enumerate() {
                let nominal = policy.nominal_delay(index as u32 + 1);
                prop_assert!(nominal <= policy.max_delay());
                prop_assert!(nominal >= previous_nominal, "nominal delays never shrink");
                prop_assert!(*delay <= nominal);
                match jitter {
                    Jitter::None => prop_assert_eq!(*delay, nominal),
                    Jitter::Full => {}
                    Jitter::Equal => prop_assert!(*delay >= nominal / 2),
                }
                previous_nominal = nominal;
            }
        }
    }
}
