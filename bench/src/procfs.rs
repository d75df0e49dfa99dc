//! The facts a run reads from Linux's `/proc`: this process's resident memory and its children.

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

/// The parent pid in a `/proc/PID/stat` line: the fourth field, counted after the command name,
/// which is in parentheses and may itself contain spaces or parentheses.
fn parent_pid(stat: &str) -> Option<u32> {
    let after_name = &stat[stat.rfind(')')? + 1..];
    after_name.split_whitespace().nth(1)?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::parent_pid;

    #[test]
    fn parent_pid_is_read_after_a_command_name_with_spaces() {
        assert_eq!(parent_pid("42 (a) b) S 7 42 42 0"), Some(7));
    }

    #[test]
    fn resident_memory_is_readable() {
        assert!(super::rss_kib().expect("VmRSS") > 0);
    }
}
