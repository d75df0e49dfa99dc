//! The facts a run reads from Linux's `/proc`: this process's resident memory and its children, and
//! the calling thread's run and wait times (`/proc/thread-self/schedstat`) for the drop rows.

use std::time::{Duration, Instant};

use crate::BenchError;

/// This process's resident set size (`VmRSS` in `/proc/self/status`), in KiB.
pub fn rss_kib() -> Result<u64, BenchError> {
    let status = std::fs::read_to_string("/proc/self/status")
        .map_err(|error| BenchError::new(format!("cannot read /proc/self/status: {error}")))?;
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .ok_or_else(|| BenchError::new("no VmRSS line in /proc/self/status"))
}

/// How many processes have this process as their parent, zombies (exited, not yet reaped) included.
pub fn child_count() -> usize {
    let me = std::process::id();
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return 0;
    };
    entries
        .filter_map(Result::ok)
        .filter(|entry| {
            entry
                .file_name()
                .to_string_lossy()
                .bytes()
                .all(|b| b.is_ascii_digit())
        })
        .filter_map(|entry| std::fs::read_to_string(entry.path().join("stat")).ok())
        .filter(|stat| parent_pid(stat) == Some(me))
        .count()
}

/// Polls until this process has no child left, or `limit` passes; returns how long it took, or
/// `None` when children remained at the limit.
pub fn wait_for_no_children(started: Instant, limit: Duration) -> Option<Duration> {
    loop {
        if child_count() == 0 {
            return Some(started.elapsed());
        }
        if started.elapsed() > limit {
            return None;
        }
        std::thread::sleep(Duration::from_micros(500));
    }
}

/// How long the calling thread has run on a CPU, and how long it has been runnable but waiting for
/// one (`/proc/thread-self/schedstat`). Their growth across a `drop` splits its wall time into
/// the work done and the time other processes (for example dying servers doing their exit work on
/// the same core) held the CPU.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ThreadTimes {
    /// Time spent running.
    pub on_cpu: Duration,
    /// Time spent runnable, queued behind other threads.
    pub waiting_for_cpu: Duration,
}

impl ThreadTimes {
    /// The calling thread's times so far.
    ///
    /// # Errors
    /// When the kernel does not provide `/proc/thread-self/schedstat` (built without scheduler
    /// statistics) or the file is not the three numbers it should be.
    pub fn now() -> Result<Self, BenchError> {
        let path = "/proc/thread-self/schedstat";
        let text = std::fs::read_to_string(path)
            .map_err(|error| BenchError::new(format!("cannot read {path}: {error}")))?;
        Self::parse(&text).ok_or_else(|| {
            BenchError::new(format!(
                "{path} is not `on-cpu-ns waiting-ns slices`: {text:?}"
            ))
        })
    }

    /// What grew since `earlier`.
    pub fn since(self, earlier: Self) -> Self {
        Self {
            on_cpu: self.on_cpu.saturating_sub(earlier.on_cpu),
            waiting_for_cpu: self.waiting_for_cpu.saturating_sub(earlier.waiting_for_cpu),
        }
    }

    fn parse(text: &str) -> Option<Self> {
        let mut fields = text.split_whitespace().map(str::parse::<u64>);
        let on_cpu = fields.next()?.ok()?;
        let waiting_for_cpu = fields.next()?.ok()?;
        Some(Self {
            on_cpu: Duration::from_nanos(on_cpu),
            waiting_for_cpu: Duration::from_nanos(waiting_for_cpu),
        })
    }
}

/// The parent pid in a `/proc/PID/stat` line: the fourth field, counted after the command name,
/// which is in parentheses and may itself contain spaces or parentheses.
fn parent_pid(stat: &str) -> Option<u32> {
    let after_name = &stat[stat.rfind(')')? + 1..];
    after_name.split_whitespace().nth(1)?.parse().ok()
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::{ThreadTimes, parent_pid};

    #[test]
    fn parent_pid_is_read_after_a_command_name_with_spaces() {
        assert_eq!(parent_pid("42 (a) b) S 7 42 42 0"), Some(7));
    }

    #[test]
    fn thread_times_are_the_first_two_schedstat_numbers() {
        let times = ThreadTimes::parse("1500 2000000 7\n").expect("three numbers");
        assert_eq!(times.on_cpu, Duration::from_nanos(1500));
        assert_eq!(times.waiting_for_cpu, Duration::from_millis(2));
        assert_eq!(ThreadTimes::parse("12 x 3"), None);
        assert_eq!(ThreadTimes::parse(""), None);
    }

    #[test]
    fn resident_memory_is_readable() {
        assert!(super::rss_kib().expect("VmRSS") > 0);
    }
}
