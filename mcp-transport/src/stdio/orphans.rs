//! Descendants that leave their server's process group: adopted, then killed and reaped.
//!
//! A server's descendant that calls `setsid()` (a daemon, a language server started "detached")
//! is in no group we signal, so killing the server's group leaves it running. A process that is a
//! *child subreaper* (Linux `PR_SET_CHILD_SUBREAPER`) inherits such orphans when their parent
//! dies, instead of init: they become our children, and [`kill_adopted_orphans`] kills and reaps
//! every child of ours that is not a server leader.
//!
//! Both are process-wide and opt-in: a child subreaper also inherits the orphans of every other
//! child it starts (a browser that an opener like `xdg-open` leaves behind), and the sweep kills
//! every child that is not a stdio server of this crate. Turn it on in a program that owns all its
//! children, as `mcpcord` does (through `mcp_manager::ManagerOptions::subreaper`), and start what is
//! not yours under [`pause_subreaper`] (mcp-oauth's system browser does).
//!
//! The sweep runs on the reaper thread, after the leaders handed to it so far are reaped (so
//! their orphans have been re-parented to us), and kills and reaps through pidfds, generation by
//! generation. [`all_reaped`] awaits the reaper thread: every kill and sweep asked for so far.
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! use std::time::Duration;
//! use mcp_transport::stdio;
//!
//! stdio::become_subreaper()?;
//! // ... start servers, use them, drop them ...
//! stdio::kill_adopted_orphans();
//! stdio::all_reaped(Duration::from_secs(1)).await;
//! # Ok(())
//! # }
//! ```

use std::io;
use std::time::Duration;

use super::child::{reaper_idle, request_orphan_sweep};
#[cfg(target_os = "linux")]
use super::{child::leaders, spawn::spawning};

#[cfg(target_os = "linux")]
/// How many generations one sweep goes down: killing an orphan re-parents its own children to us,
/// which the next round takes.
const MAX_ROUNDS: usize = 16;

/// Makes this process a child subreaper (Linux): a descendant whose parent dies becomes our child
/// instead of init's, so [`kill_adopted_orphans`] can reach it. Process-wide and lasting.
///
/// # Errors
/// The system refused (`prctl` failed), or this is not Linux (`ErrorKind::Unsupported`).
pub fn become_subreaper() -> io::Result<()> {
    #[cfg(target_os = "linux")]
    {
        let mut pauses = subreaper_pauses();
        if pauses.count > 0 {
            // Taken up when the last pause ends.
            pauses.resume = true;
            return Ok(());
        }
        rustix::process::set_child_subreaper(Some(rustix::process::getpid()))?;
        Ok(())
    }
    #[cfg(not(target_os = "linux"))]
    {
        Err(io::Error::new(
            io::ErrorKind::Unsupported,
            "child subreapers exist on Linux only",
        ))
    }
}

/// The pauses of the subreaper attribute under way, and whether it is to be set again after them.
#[cfg(target_os = "linux")]
#[derive(Default)]
struct SubreaperPauses {
    count: usize,
    resume: bool,
}

#[cfg(target_os = "linux")]
fn subreaper_pauses() -> std::sync::MutexGuard<'static, SubreaperPauses> {
    static PAUSES: std::sync::Mutex<SubreaperPauses> = std::sync::Mutex::new(SubreaperPauses {
        count: 0,
        resume: false,
    });
    PAUSES
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// While held, this process is not a child subreaper (if it was one): the orphans of a process
/// started meanwhile go to init, not to us. For starting a process whose descendants are not ours
/// to kill: a browser opener (`xdg-open`) exits at once and leaves the person's browser behind,
/// which the [sweep](kill_adopted_orphans) would otherwise kill. Hold it until that process has
/// exited (its orphans are re-parented as it exits). Pauses may overlap; the attribute comes back
/// when the last one ends.
#[must_use = "the subreaper is paused only while this is held"]
#[derive(Debug)]
pub struct SubreaperPause {
    _private: (),
}

/// Pauses the subreaper attribute until the returned guard is dropped; see [`SubreaperPause`].
/// A no-op where there are no subreapers (not Linux) or when this process is not one.
pub fn pause_subreaper() -> SubreaperPause {
    #[cfg(target_os = "linux")]
    {
        let mut pauses = subreaper_pauses();
        if pauses.count == 0 {
            pauses.resume = matches!(rustix::process::child_subreaper(), Ok(Some(_)));
            if pauses.resume
                && let Err(error) = rustix::process::set_child_subreaper(None)
            {
                tracing::debug!(%error, "could not pause the child subreaper attribute");
            }
        }
        pauses.count += 1;
    }
    SubreaperPause { _private: () }
}

impl Drop for SubreaperPause {
    fn drop(&mut self) {
        #[cfg(target_os = "linux")]
        {
            let mut pauses = subreaper_pauses();
            pauses.count = pauses.count.saturating_sub(1);
            if pauses.count == 0 && std::mem::take(&mut pauses.resume) {
                let me = Some(rustix::process::getpid());
                if let Err(error) = rustix::process::set_child_subreaper(me) {
                    tracing::warn!(%error, "could not become a child subreaper again");
                }
            }
        }
    }
}

/// SIGKILLs and reaps every child of this process that is not a running stdio server of this
/// crate, generation by generation: the orphans a [subreaper](become_subreaper) adopted.
///
/// Runs on the reaper thread, after the servers already handed to it are reaped (so their
/// orphans have been re-parented to us by then). Returns at once; synchronous, needs no runtime.
/// Await [`all_reaped`] to know it is done.
pub fn kill_adopted_orphans() {
    request_orphan_sweep();
}

/// Resolves once every server killed so far is reaped, and any sweep asked for is done; `false`
/// if that took longer than `timeout`. Killed servers are otherwise reaped in the background, so
/// a program that exits right after dropping them would leave them for init to reap.
pub async fn all_reaped(timeout: Duration) -> bool {
    reaper_idle(timeout).await
}

/// The sweep itself, on the reaper thread.
#[cfg(not(target_os = "linux"))]
pub(super) fn sweep() {}

/// The sweep itself, on the reaper thread.
#[cfg(target_os = "linux")]
pub(super) fn sweep() {
    let ours = std::process::id();
    for _ in 0..MAX_ROUNDS {
        let victims = {
            // No new leader is forked while we pick, so none can be taken for an orphan. The
            // leaders' lock is held only to read the set: `Drop`s reaping a leader take it too.
            let _spawning = spawning();
            let children = children_of(ours);
            let orphans: Vec<u32> = {
                let leaders = leaders();
                children
                    .into_iter()
                    .filter(|pid| !leaders.contains(pid))
                    .collect()
            };
            orphans.into_iter().filter_map(kill).collect::<Vec<_>>()
        };
        if victims.is_empty() {
            return;
        }
        for victim in victims {
            wait_for(&victim);
        }
    }
    tracing::warn!("descendants kept appearing; stopped sweeping after {MAX_ROUNDS} generations");
}

#[cfg(target_os = "linux")]
/// SIGKILLs a child of ours through a pidfd, which names this very process even if it is reaped
/// (by whoever else waits for it) and its pid reused meanwhile. Returns the pidfd to reap it by.
fn kill(pid: u32) -> Option<std::os::fd::OwnedFd> {
    use rustix::process::{PidfdFlags, Signal, pidfd_open, pidfd_send_signal};
    let raw = i32::try_from(pid)
        .ok()
        .and_then(rustix::process::Pid::from_raw)?;
    let pidfd = pidfd_open(raw, PidfdFlags::empty()).ok()?;
    // The pidfd was opened by number: make sure that number was still our child when it was.
    if !children_of(std::process::id()).contains(&pid) {
        return None;
    }
    match pidfd_send_signal(&pidfd, Signal::KILL) {
        Ok(()) => {
            tracing::debug!(pid, "killed an adopted orphan");
            Some(pidfd)
        }
        // Already a zombie, to be reaped all the same.
        Err(error) if error == rustix::io::Errno::SRCH => Some(pidfd),
        // Not ours to kill (it gained privileges): waiting for it could take for ever.
        Err(error) => {
            tracing::debug!(pid, %error, "could not kill an adopted orphan");
            None
        }
    }
}

#[cfg(target_os = "linux")]
/// Reaps a killed child (it dies at once; someone else may reap it first, which is fine).
fn wait_for(pidfd: &std::os::fd::OwnedFd) {
    use rustix::process::{WaitId, WaitIdOptions, waitid};
    use std::os::fd::AsFd;
    while waitid(WaitId::PidFd(pidfd.as_fd()), WaitIdOptions::EXITED).err()
        == Some(rustix::io::Errno::INTR)
    {}
}

#[cfg(target_os = "linux")]
/// The children of `parent`, zombies included, from `/proc/*/stat`.
fn children_of(parent: u32) -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(Result::ok)
        .filter_map(|entry| {
            let pid: u32 = entry.file_name().to_str()?.parse().ok()?;
            let stat = std::fs::read_to_string(entry.path().join("stat")).ok()?;
            // The command name may contain anything, `)` included: the fields start after the last.
            let (_, fields) = stat.rsplit_once(')')?;
            let ppid: u32 = fields.split_whitespace().nth(1)?.parse().ok()?;
            (ppid == parent).then_some(pid)
        })
        .collect()
}
