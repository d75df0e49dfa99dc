//! The behaviour of `retry`, on tokio's paused clock: every wait is exact and takes no real time.

use std::convert::Infallible;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use mcp_retry::{ByRetryable, Decision, Jitter, Retry, RetryPolicy, Retryable, StopReason, retry};
use rand::SeedableRng;
use rand::TryRng;
use rand::rngs::SmallRng;
use tokio::time::Instant;

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
enum TestError {
    #[error("transient failure")]
    Transient,
    #[error("busy; retry after {0:?}")]
    Busy(Duration),
    #[error("fatal failure")]
    Fatal,
}

impl Retryable for TestError {
    fn retry_decision(&self) -> Decision {
        match self {
            TestError::Transient => Decision::Retry,
            TestError::Busy(after) => Decision::RetryAfter(*after),
            TestError::Fatal => Decision::Stop,
        }
    }
}

fn exact(attempts: u32) -> RetryPolicy {
    RetryPolicy::builder()
        .max_attempts(attempts)
        .jitter(Jitter::None)
        .build()
        .expect("a valid policy")
}

/// Runs `retry` over a scripted sequence of results and records (attempt, start time) per attempt and
/// (attempt, delay) per observed retry.
struct Script {
    starts: Vec<(u32, Duration)>,
    retries: Vec<(u32, Duration)>,
}

async fn run_script(
    policy: &RetryPolicy,
    results: Vec<Result<u32, TestError>>,
) -> (Result<u32, mcp_retry::RetryError<TestError>>, Script) {
    let origin = Instant::now();
    let mut starts = Vec::new();
    let mut retries = Vec::new();
    let mut results = results.into_iter();
    let outcome = Retry::new(policy, ByRetryable)
        .on_retry(|attempt, delay, _| retries.push((attempt, delay)))
        .run(|attempt| {
            starts.push((attempt, origin.elapsed()));
            let result = results.next().expect("script ran out of results");
            async move { result }
        })
        .await;
    (outcome, Script { starts, retries })
}

#[tokio::test(start_paused = true)]
async fn success_on_first_attempt_makes_one_attempt_and_no_wait() {
    let (outcome, script) = run_script(&exact(3), vec![Ok(7)]).await;
    assert_eq!(outcome.unwrap(), 7);
    assert_eq!(script.starts, [(1, Duration::ZERO)]);
    assert!(script.retries.is_empty());
}

#[tokio::test(start_paused = true)]
async fn delays_without_jitter_are_exact() {
    let (outcome, script) = run_script(
        &exact(4),
        vec![
            Err(TestError::Transient),
            Err(TestError::Transient),
            Err(TestError::Transient),
            Ok(4),
        ],
    )
    .await;
    assert_eq!(outcome.unwrap(), 4);
    let secs = Duration::from_secs;
    assert_eq!(
        script.starts,
        [(1, secs(0)), (2, secs(1)), (3, secs(3)), (4, secs(7))]
    );
    assert_eq!(script.retries, [(1, secs(1)), (2, secs(2)), (3, secs(4))]);
}

#[tokio::test(start_paused = true)]
async fn operation_sees_attempt_numbers_in_order() {
    let (outcome, script) = run_script(
        &exact(5),
        vec![
            Err(TestError::Transient),
            Err(TestError::Transient),
            Err(TestError::Transient),
            Err(TestError::Transient),
            Err(TestError::Transient),
        ],
    )
    .await;
    let attempts: Vec<u32> = script.starts.iter().map(|(attempt, _)| *attempt).collect();
    assert_eq!(attempts, [1, 2, 3, 4, 5]);
    assert_eq!(outcome.unwrap_err().attempts(), 5);
}

#[tokio::test(start_paused = true)]
async fn attempts_exhausted_keeps_last_cause_count_and_elapsed() {
    let (outcome, script) = run_script(
        &exact(3),
        vec![
            Err(TestError::Transient),
            Err(TestError::Busy(Duration::from_millis(500))),
            Err(TestError::Transient),
        ],
    )
    .await;
    let error = outcome.unwrap_err();
    assert_eq!(error.reason(), StopReason::AttemptsExhausted);
    assert_eq!(error.attempts(), 3);
    assert_eq!(error.last_error(), &TestError::Transient);
    assert_eq!(error.elapsed(), Duration::from_millis(1500));
    assert_eq!(
        error.to_string(),
        "transient failure (after 3 attempts in 1s 500ms: attempts exhausted)"
    );
    // No wait follows the last attempt.
    assert_eq!(script.retries.len(), 2);
}

#[tokio::test(start_paused = true)]
async fn non_retryable_error_stops_after_one_attempt() {
    let (outcome, script) = run_script(&exact(5), vec![Err(TestError::Fatal)]).await;
    let error = outcome.unwrap_err();
    assert_eq!(error.reason(), StopReason::NotRetryable);
    assert_eq!(error.attempts(), 1);
    assert_eq!(error.elapsed(), Duration::ZERO);
    assert_eq!(error.into_last_error(), TestError::Fatal);
    assert_eq!(script.starts.len(), 1);
    assert!(script.retries.is_empty());
}

#[tokio::test(start_paused = true)]
async fn non_retryable_error_after_retries_reports_not_retryable() {
    let (outcome, _) = run_script(
        &exact(5),
        vec![Err(TestError::Transient), Err(TestError::Fatal)],
    )
    .await;
    let error = outcome.unwrap_err();
    assert_eq!(error.reason(), StopReason::NotRetryable);
    assert_eq!(error.attempts(), 2);
}

#[tokio::test(start_paused = true)]
async fn retry_after_replaces_the_backoff_delay() {
    let (outcome, script) = run_script(
        &exact(3),
        vec![Err(TestError::Busy(Duration::from_millis(1234))), Ok(1)],
    )
    .await;
    assert_eq!(outcome.unwrap(), 1);
    assert_eq!(script.retries, [(1, Duration::from_millis(1234))]);
    assert_eq!(script.starts[1], (2, Duration::from_millis(1234)));
}

#[tokio::test(start_paused = true)]
async fn retry_after_is_capped_by_max_delay() {
    let policy = exact(3)
        .to_builder()
        .max_delay(Duration::from_secs(5))
        .build()
        .unwrap();
    let (outcome, script) = run_script(
        &policy,
        vec![Err(TestError::Busy(Duration::from_secs(3600))), Ok(1)],
    )
    .await;
    assert_eq!(outcome.unwrap(), 1);
    assert_eq!(script.retries, [(1, Duration::from_secs(5))]);
    assert_eq!(script.starts[1], (2, Duration::from_secs(5)));
}

#[tokio::test(start_paused = true)]
async fn delays_are_capped_by_max_delay() {
    let policy = exact(6)
        .to_builder()
        .max_delay(Duration::from_secs(3))
        .build()
        .unwrap();
    let (_, script) = run_script(&policy, vec![Err(TestError::Transient); 6]).await;
    let delays: Vec<Duration> = script.retries.iter().map(|(_, delay)| *delay).collect();
    assert_eq!(delays, [1, 2, 3, 3, 3].map(Duration::from_secs));
}

#[tokio::test(start_paused = true)]
async fn time_budget_stops_before_a_wait_that_would_pass_it() {
    // Waits would be 1 s, 2 s, 4 s; with a 5 s budget the third wait (starting at 3 s) would end at 7 s.
    let policy = exact(10)
        .to_builder()
        .max_elapsed(Some(Duration::from_secs(5)))
        .build()
        .unwrap();
    let (outcome, script) = run_script(&policy, vec![Err(TestError::Transient); 10]).await;
    let error = outcome.unwrap_err();
    assert_eq!(error.reason(), StopReason::TimeBudgetExhausted);
    assert_eq!(error.attempts(), 3);
    assert_eq!(error.elapsed(), Duration::from_secs(3));
    assert_eq!(script.retries.len(), 2);
}

#[tokio::test(start_paused = true)]
async fn time_budget_counts_time_spent_inside_attempts() {
    let policy = exact(10)
        .to_builder()
        .max_elapsed(Some(Duration::from_secs(10)))
        .build()
        .unwrap();
    let error = retry(&policy, ByRetryable, |_| async {
        tokio::time::sleep(Duration::from_secs(4)).await;
        Err::<(), _>(TestError::Transient)
    })
    .await
    .unwrap_err();
    // t=4 fail, wait 1 -> t=5..9 fail, the 2 s wait would end at 11 s.
    assert_eq!(error.attempts(), 2);
    assert_eq!(error.reason(), StopReason::TimeBudgetExhausted);
    assert_eq!(error.elapsed(), Duration::from_secs(9));
}

/// A jitter source that always draws the same value.
struct ConstantRng(u64);

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

async fn observed_delays<R: rand::Rng>(policy: &RetryPolicy, rng: R) -> Vec<Duration> {
    let mut delays = Vec::new();
    let _ = Retry::new(policy, ByRetryable)
        .with_rng(rng)
        .on_retry(|_, delay, _| delays.push(delay))
        .run(|_| async { Err::<(), _>(TestError::Transient) })
        .await;
    delays
}

#[tokio::test(start_paused = true)]
async fn full_jitter_stays_within_zero_and_the_nominal_delay() {
    let policy = RetryPolicy::builder().max_attempts(6).build().unwrap();
    assert_eq!(
        observed_delays(&policy, ConstantRng(0)).await,
        [Duration::ZERO; 5]
    );
    for seed in 0..20 {
        let delays = observed_delays(&policy, SmallRng::seed_from_u64(seed)).await;
        for (index, delay) in delays.iter().enumerate() {
            assert!(
                *delay <= policy.nominal_delay(index as u32 + 1),
                "{delays:?}"
            );
        }
    }
}

#[tokio::test(start_paused = true)]
async fn equal_jitter_stays_within_half_and_the_nominal_delay() {
    let policy = RetryPolicy::builder()
        .max_attempts(6)
        .jitter(Jitter::Equal)
        .build()
        .unwrap();
    assert_eq!(
        observed_delays(&policy, ConstantRng(0)).await,
        [500, 1000, 2000, 4000, 8000].map(Duration::from_millis)
    );
    for seed in 0..20 {
        let delays = observed_delays(&policy, SmallRng::seed_from_u64(seed)).await;
        for (index, delay) in delays.iter().enumerate() {
            let nominal = policy.nominal_delay(index as u32 + 1);
            assert!(*delay >= nominal / 2 && *delay <= nominal, "{delays:?}");
        }
    }
}

#[tokio::test(start_paused = true)]
async fn seeded_jitter_is_reproducible() {
    let policy = RetryPolicy::builder().max_attempts(8).build().unwrap();
    let first = observed_delays(&policy, SmallRng::seed_from_u64(42)).await;
    let second = observed_delays(&policy, SmallRng::seed_from_u64(42)).await;
    assert_eq!(first, second);
    assert_eq!(first.len(), 7);
}

#[tokio::test(start_paused = true)]
async fn closures_classify_errors() {
    let attempts = AtomicU32::new(0);
    let error = retry(
        &exact(4),
        |error: &String| {
            if error == "retry me" {
                Decision::Retry
            } else {
                Decision::Stop
            }
        },
        |attempt| {
            attempts.fetch_add(1, Ordering::SeqCst);
            async move { Err::<(), _>(if attempt < 2 { "retry me" } else { "stop" }.to_owned()) }
        },
    )
    .await
    .unwrap_err();
    assert_eq!(attempts.load(Ordering::SeqCst), 2);
    assert_eq!(error.last_error(), "stop");
}

#[tokio::test(start_paused = true)]
async fn dropping_mid_sleep_starts_no_further_attempt() {
    let attempts = Arc::new(AtomicU32::new(0));
    let counter = Arc::clone(&attempts);
    let policy = exact(5);
    // Attempt 1 at 0 s, attempt 2 at 1 s, then a 2 s wait: the timeout drops the future at 1.5 s.
    let outcome = tokio::time::timeout(
        Duration::from_millis(1500),
        retry(&policy, ByRetryable, move |_| {
            counter.fetch_add(1, Ordering::SeqCst);
            async { Err::<(), _>(TestError::Transient) }
        }),
    )
    .await;
    outcome.expect_err("the timeout fired");
    assert_eq!(attempts.load(Ordering::SeqCst), 2);
    tokio::time::sleep(Duration::from_secs(3600)).await;
    assert_eq!(attempts.load(Ordering::SeqCst), 2);
}

/// Sets its flag when dropped: shows that an attempt's future was dropped, not leaked.
struct DropFlag(Arc<AtomicU32>);

impl Drop for DropFlag {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

#[tokio::test(start_paused = true)]
async fn dropping_mid_attempt_drops_the_running_attempt() {
    let dropped = Arc::new(AtomicU32::new(0));
    let started = Arc::new(AtomicU32::new(0));
    let (flag, count) = (Arc::clone(&dropped), Arc::clone(&started));
    let policy = exact(5);
    let outcome = tokio::time::timeout(
        Duration::from_secs(10),
        retry(&policy, ByRetryable, move |_| {
            count.fetch_add(1, Ordering::SeqCst);
            let guard = DropFlag(Arc::clone(&flag));
            async move {
                let _guard = guard;
                std::future::pending::<Result<(), TestError>>().await
            }
        }),
    )
    .await;
    outcome.expect_err("the timeout fired");
    assert_eq!(started.load(Ordering::SeqCst), 1);
    assert_eq!(dropped.load(Ordering::SeqCst), 1);
}

#[tokio::test(start_paused = true)]
async fn retry_future_is_send_for_spawning() {
    let policy = exact(2);
    let handle = tokio::spawn(async move {
        retry(&policy, ByRetryable, |attempt| async move {
            if attempt == 1 {
                Err(TestError::Transient)
            } else {
                Ok(attempt)
            }
        })
        .await
    });
    assert_eq!(handle.await.unwrap().unwrap(), 2);
}
