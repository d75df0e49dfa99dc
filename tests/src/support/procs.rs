//! Processes as `/proc` shows them (Linux): whether one runs, is a zombie or is gone, and whose child
//! it is.

use std::path::Path;

/// The fields of `/proc/PID/stat` after the command name (which is in parentheses and may hold
/// spaces): the state letter first, then the parent's pid.
fn stat_fields(pid: u32) -> Option<Vec<String>> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let (_, rest) = stat.rsplit_once(')')?;
    Some(rest.split_whitespace().map(str::to_owned).collect())
}

/// The state letter of `pid` (`R`, `S`, `Z` for a zombie...), or `None` once it does not exist at
/// all (reaped).
pub fn state_of(pid: u32) -> Option<String> {
    stat_fields(pid)?.into_iter().next()
}

/// Whether `pid` is running: it exists and is not a zombie (a zombie holds nothing but its pid).
pub fn running(pid: u32) -> bool {
    state_of(pid).is_some_and(|state| state != "Z" && state != "X")
}

/// Whether `pid` is gone entirely: reaped, not even a zombie.
pub fn reaped(pid: u32) -> bool {
    !Path::new(&format!("/proc/{pid}")).exists()
}

/// The parent of `pid`, while it exists.
fn parent_of(pid: u32) -> Option<u32> {
    stat_fields(pid)?.get(1)?.parse().ok()
}

/// The running (not zombie) children of `parent`.
pub fn live_children_of(parent: u32) -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(Result::ok)
        .filter_map(|entry| entry.file_name().to_str()?.parse::<u32>().ok())
        .filter(|&pid| running(pid) && parent_of(pid) == Some(parent))
        .collect()
}

/// The pid a process wrote to `file` (a number, perhaps with a newline).
///
/// # Panics
/// When the file cannot be read or holds no pid.
pub fn read_pid(file: &Path) -> u32 {
    let text = std::fs::read_to_string(file)
        .unwrap_or_else(|error| panic!("no pid in {} ({error})", file.display()));
    text.trim()
        .parse()
        .unwrap_or_else(|error| panic!("not a pid in {} ({error}): {text:?}", file.display()))
}

/// SIGKILLs a process a test may have been left with when dropped, if it still exists, and reaps
/// it if it is (or was re-parented to) this process's child. A test's cleanup, whatever it asserts.
#[derive(Debug)]
pub struct KillOnDrop(pub u32);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        use rustix::process::{Pid, Signal, WaitOptions, kill_process, waitpid};
        if state_of(self.0).is_none() {
            return;
        }
        if let Some(pid) = i32::try_from(self.0).ok().and_then(Pid::from_raw) {
            let _ = kill_process(pid, Signal::KILL);
            // Not our child: ECHILD at once.
            let _ = waitpid(Some(pid), WaitOptions::empty());
        }
    }
}

/// A server script for `sh -c` whose descendant escapes its process group: it starts `sleep 1000`
/// in a session of its own (so no group kill reaches it) with that process's pid written to
/// `pid_file`, waits until the file is written, then `exec`s `server` (a command line for `sh`).
pub fn escaping_server_script(pid_file: &Path, server: &str) -> String {
    let file = pid_file.display();
    format!(
        "setsid sh -c 'echo $$ > {file}; exec sleep 1000' </dev/null >/dev/null 2>&1 & \
         while [ ! -s {file} ]; do sleep 0.01; done; exec {server}"
    )
}
