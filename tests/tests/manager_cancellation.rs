//! Dropping `connect` after k polls, for every k until it completes: after each drop no child process
//! remains, nothing is registered, and the name is free again.
//! One test in this binary, so nothing else runs in the process while it counts.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use mcp_manager::config::ServerConfig;
use mcp_manager::{Manager, ManagerOptions};
use mcp_tests::census::Census;
use tokio::sync::Notify;

const FIXTURE: &str = env!("CARGO_BIN_EXE_mcp-fixture-server");

/// Polls the inner future at most `polls` times, then reports exhaustion and stays pending.
struct PollLimit<F> {
    inner: Pin<Box<F>>,
    polls: usize,
    exhausted: Arc<Notify>,
}

impl<F: Future> Future for PollLimit<F> {
    type Output = F::Output;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        if self.polls == 0 {
            self.exhausted.notify_one();
            return Poll::Pending;
        }
        self.polls -= 1;
        self.inner.as_mut().poll(cx)
    }
}

#[tokio::test]
async fn dropping_connect_at_every_poll_leaves_nothing_behind() {
    let manager = Manager::new(ManagerOptions::default()).expect("a manager");
    let config = ServerConfig::stdio(FIXTURE, ["--stdio"]);
    let mut completed_after = None;
    for polls in 1..10_000 {
        let exhausted = Arc::new(Notify::new());
        let limited = PollLimit {
            inner: Box::pin(manager.connect("cancelled", &config)),
            polls,
            exhausted: Arc::clone(&exhausted),
        };
        let outcome = tokio::select! {
            outcome = limited => Some(outcome),
            () = exhausted.notified() => None,
        };
        if let Some(outcome) = outcome {
            let id = outcome.expect("connected when left to finish");
            completed_after = Some(polls);
            manager.disconnect(id).await.expect("disconnected");
            break;
        }
        assert!(
            manager.servers().is_empty(),
            "dropped after {polls} polls, yet registered"
        );
        let after = Census::settle_until(|now| now.children == 0, Duration::from_secs(10)).await;
        assert_eq!(
            after.children, 0,
            "dropped after {polls} polls, a server is still running"
        );
    }
    let completed_after = completed_after.expect("connect completes eventually");
    println!("connect completed after {completed_after} polls; every earlier drop left nothing");
    // The name was released by every dropped attempt.
    let id = manager
        .connect("cancelled", &config)
        .await
        .expect("the name is free");
    manager.disconnect(id).await.expect("disconnected");
    let after = Census::settle_until(|now| now.children == 0, Duration::from_secs(10)).await;
    assert_eq!(after.children, 0);
}
