//! Counting what this process holds, to prove nothing leaks: open file descriptors, threads and
//! child processes, read from `/proc`.

use std::time::{Duration, Instant};

use crate::support::live_children_of;

/// What this process holds at one moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Census {
    /// Open file descriptors (`/proc/self/fd`).
    pub fds: usize,
    /// Threads (`/proc/self/task`), not counting the toolkit's shared stdio reaper thread, which is
    /// started once, on first need, and lives for the process.
    pub threads: usize,
    /// Child processes that are still running (zombies excluded: they hold nothing but a pid).
    pub children: usize,
}

impl Census {
    /// Counts now.
    pub fn take() -> Self {
        Self {
            fds: count_entries("/proc/self/fd"),
            threads: threads(),
            children: live_children(),
        }
    }

    /// Polls (for at most `bound`) until the census equals `expected`, since killed processes and
    /// closed sockets disappear asynchronously; returns the last census taken. Sleeps on tokio's
    /// timer between polls, so the runtime goes on running the tasks that are closing things.
    pub async fn settle_to(expected: Census, bound: Duration) -> Census {
        Self::settle_until(|now| *now == expected, bound).await
    }

    /// Polls (for at most `bound`) until `done` holds; returns the last census taken.
    pub async fn settle_until(done: impl Fn(&Census) -> bool, bound: Duration) -> Census {
        let deadline = Instant::now() + bound;
        loop {
            let now = Self::take();
            if done(&now) || Instant::now() >= deadline {
                return now;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

fn count_entries(dir: &str) -> usize {
    std::fs::read_dir(dir).map_or(0, |entries| entries.count())
}

fn threads() -> usize {
    let Ok(entries) = std::fs::read_dir("/proc/self/task") else {
        return 0;
    };
    entries
        .filter_map(Result::ok)
        .filter(|entry| {
            std::fs::read_to_string(entry.path().join("comm"))
                .map(|name| name.trim() != "mcp-stdio-reape")
                .unwrap_or(true)
        })
        .count()
}

/// Running processes whose parent is this process.
pub fn live_children() -> usize {
    live_children_of(std::process::id()).len()
}
