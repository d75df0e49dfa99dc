//! The workloads, written once for every async subject (ours and raw rmcp), so both are measured by
//! the same code and differ only in how they connect, call and close.

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::{Args, BenchError, Report, Workload, median_ms, procfs};

/// Sessions opened at once while filling memory: enough to be quick, few enough that the server's
/// accept queue and the subject's connect timeouts are never what is measured.
const MEMORY_OPEN_CONCURRENCY: usize = 50;

/// A client under test: how it opens a session (connect, initialize, full discovery), makes one echo
/// call, and closes.
pub trait Subject: Send + Sync + 'static {
    /// One open session.
    type Session: Send + Sync + 'static;

    /// Connects, initializes and lists every tool, resource, template and prompt.
    fn connect(&self) -> impl Future<Output = Result<Self::Session, BenchError>> + Send;

    /// Calls `echo` once and checks it answered.
    fn echo(&self, session: &Self::Session) -> impl Future<Output = Result<(), BenchError>> + Send;

    /// Closes the session (gracefully where the client has a way).
    fn close(&self, session: Self::Session) -> impl Future<Output = ()> + Send;
}

/// Runs the workload in `args` and adds its metrics to `report`.
pub async fn run<S: Subject>(
    subject: Arc<S>,
    args: &Args,
    report: Report,
) -> Result<Report, BenchError> {
    match args.workload {
        Workload::Connect => {
            let warm = subject.connect().await?;
            subject.close(warm).await;
            let mut samples = Vec::with_capacity(args.repeat);
            for _ in 0..args.repeat {
                let started = Instant::now();
                let session = subject.connect().await?;
                samples.push(started.elapsed());
                subject.close(session).await;
            }
            Ok(report.metric("connect_ms", median_ms(&mut samples)))
        }
        Workload::Sequential => {
            let session = subject.connect().await?;
            let calls = sequential_calls(Arc::clone(&subject), session, args.calls);
            let (session, timed) = if crate::caller_in_task() {
                tokio::spawn(calls).await.map_err(|error| {
                    BenchError::new(format!("the calling task failed: {error}"))
                })??
            } else {
                calls.await?
            };
            subject.close(session).await;
            let us = |call: Duration| call.as_secs_f64() * 1e6;
            Ok(report
                .metric("calls_per_s", args.calls as f64 / timed.total.as_secs_f64())
                .metric("p50_call_us", us(timed.percentile(50)))
                .metric("p99_call_us", us(timed.percentile(99)))
                .metric("max_call_us", us(timed.slowest())))
        }
        Workload::Sessions => {
            let sessions = open(&subject, args.sessions, args.sessions).await?;
            let started = Instant::now();
            let sessions = calls_in_parallel(&subject, sessions, args.calls).await?;
            let took = started.elapsed();
            close_all(&subject, sessions).await;
            let calls = (args.sessions * args.calls) as f64;
            Ok(report.metric("calls_per_s", calls / took.as_secs_f64()))
        }
        Workload::Open => {
            let started = Instant::now();
            let sessions = open(&subject, args.sessions, args.sessions).await?;
            let took = started.elapsed();
            close_all(&subject, sessions).await;
            Ok(report.metric("open_ms", took.as_secs_f64() * 1e3))
        }
        Workload::Memory => {
            // One session first, so libraries, pools and the runtime are already counted.
            let warm = subject.connect().await?;
            subject.echo(&warm).await?;
            subject.close(warm).await;
            let before = procfs::rss_kib()?;
            let sessions = open(&subject, args.sessions, MEMORY_OPEN_CONCURRENCY).await?;
            let after = procfs::rss_kib()?;
            close_all(&subject, sessions).await;
            let per_session = after.saturating_sub(before) as f64 / args.sessions as f64;
            Ok(report
                .metric("kib_per_session", per_session)
                .metric("rss_before_kib", before as f64)
                .metric("rss_after_kib", after as f64))
        }
        Workload::Callback | Workload::Drop => Err(BenchError::new(format!(
            "workload `{}` is measured for our client only",
            args.workload.name()
        ))),
    }
}

/// How long the timed sequential calls took.
struct Timed {
    /// From the first call to the last answer.
    total: Duration,
    /// Each call's time, fastest first: a stall on some calls (a delayed ACK, say) can hide in an
    /// average but not in the slowest call or the 99th percentile.
    calls: Vec<Duration>,
}

impl Timed {
    /// The call time `percent` per cent of the calls took at most (nearest rank).
    fn percentile(&self, percent: usize) -> Duration {
        let rank = (self.calls.len() * percent).div_ceil(100).max(1);
        self.calls.get(rank - 1).copied().unwrap_or_default()
    }

    fn slowest(&self) -> Duration {
        self.calls.last().copied().unwrap_or_default()
    }
}

/// Warms up, then makes `calls` echo calls one after another; the session back, and how long the
/// timed calls took.
async fn sequential_calls<S: Subject>(
    subject: Arc<S>,
    session: S::Session,
    calls: usize,
) -> Result<(S::Session, Timed), BenchError> {
    for _ in 0..warm_up_calls(calls) {
        subject.echo(&session).await?;
    }
    // Allocated before the clock starts, so timing a call costs no allocation.
    let mut times = Vec::with_capacity(calls);
    let started = Instant::now();
    for _ in 0..calls {
        let call_started = Instant::now();
        subject.echo(&session).await?;
        times.push(call_started.elapsed());
    }
    let total = started.elapsed();
    times.sort_unstable();
    Ok((
        session,
        Timed {
            total,
            calls: times,
        },
    ))
}

/// A tenth of the calls, at most 100: enough to fill caches and pools before the clock starts.
pub fn warm_up_calls(calls: usize) -> usize {
    (calls / 10).min(100)
}

/// Opens `count` sessions, at most `concurrency` at a time, each on a task of its own.
async fn open<S: Subject>(
    subject: &Arc<S>,
    count: usize,
    concurrency: usize,
) -> Result<Vec<S::Session>, BenchError> {
    let mut sessions = Vec::with_capacity(count);
    while sessions.len() < count {
        let batch = concurrency.min(count - sessions.len());
        let handles: Vec<_> = (0..batch)
            .map(|_| {
                let subject = Arc::clone(subject);
                tokio::spawn(async move { subject.connect().await })
            })
            .collect();
        for handle in handles {
            sessions.push(joined(handle.await)??);
        }
    }
    Ok(sessions)
}

/// Every session makes `calls` sequential echo calls, all sessions at once.
async fn calls_in_parallel<S: Subject>(
    subject: &Arc<S>,
    sessions: Vec<S::Session>,
    calls: usize,
) -> Result<Vec<S::Session>, BenchError> {
    let handles: Vec<_> = sessions
        .into_iter()
        .map(|session| {
            let subject = Arc::clone(subject);
            tokio::spawn(async move {
                for _ in 0..calls {
                    subject.echo(&session).await?;
                }
                Ok::<_, BenchError>(session)
            })
        })
        .collect();
    let mut done = Vec::with_capacity(handles.len());
    for handle in handles {
        done.push(joined(handle.await)??);
    }
    Ok(done)
}

/// Closes every session in parallel; not measured, but bounded so a stuck close cannot hang a run.
async fn close_all<S: Subject>(subject: &Arc<S>, sessions: Vec<S::Session>) {
    let handles: Vec<_> = sessions
        .into_iter()
        .map(|session| {
            let subject = Arc::clone(subject);
            tokio::spawn(async move { subject.close(session).await })
        })
        .collect();
    let _ = tokio::time::timeout(Duration::from_secs(10), futures_join(handles)).await;
}

async fn futures_join(handles: Vec<tokio::task::JoinHandle<()>>) {
    for handle in handles {
        let _ = handle.await;
    }
}

fn joined<T>(result: Result<T, tokio::task::JoinError>) -> Result<T, BenchError> {
    result.map_err(|error| BenchError::new(format!("a session task failed: {error}")))
}
