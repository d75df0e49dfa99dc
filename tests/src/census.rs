//! Counting what this process holds, to prove nothing leaks: open file descriptors, threads and
//! child processes, read from `/proc`.

use std::time::{Duration, Instant};

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
    /// closed sockets disappear asynchronously; returns the last census taken.
    pub fn settle_to(expected: Census, bound: Duration) -> Census {
        Self::settle_until(|now| *now == expected, bound)
    }

    /// Polls (for at most `bound`) until `done` holds; returns the last census taken.
    pub fn settle_until(done: impl Fn(&Census) -> bool, bound: Duration) -> Census {
        let deadline = Instant::now() + bound;
        loop {
            let now = Self::take();
            if done(&now) || Instant::now() >= deadline {
                return now;
            }
            std::thread::sleep(Duration::from_millis(20));
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
    let me = std::process::id().to_string();
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return 0;
    };
    entries
        .filter_map(Result::ok)
        .filter(|entry| {
            entry
                .file_name()
                .to_string_lossy()
                .chars()
                .all(|c| c.is_ascii_digit())
        })
        .filter_map(|entry| std::fs::read_to_string(entry.path().join("stat")).ok())
        .filter(|stat| {
            // Fields after the command name: state, ppid, ...
            let Some((_, rest)) = stat.rsplit_once(')') else {
                return false;
            };
            let mut fields = rest.split_whitespace();
            let state = fields.next().unwrap_or("Z");
            let parent = fields.next().unwrap_or("");
            parent == me && state != "Z" && state != "X"
        })
        .count()
}
