//! The server process and its group: killed synchronously, reaped without blocking, no runtime needed.
//!
//! The child is spawned as the leader of a new process group, so a signal to the group reaches the
//! grandchildren that wrappers such as `npx` and `uvx` start. The group is signalled only while the
//! leader is not yet reaped: a zombie leader keeps its pid (the group id) reserved, so a signal can
//! never reach an unrelated group that reused the number. Reaping always SIGKILLs the group first, so
//! a leader that exits by itself does not leave orphans running.
//!
//! How, in short (each item below says why):
//! - The group is signalled with rustix's `kill_process_group`. A leader's exit is seen through a
//!   pidfd on Linux (elsewhere on SIGCHLD) and checked with `waitid(WNOWAIT)`, which looks without
//!   reaping, so the group can still be signalled before the leader is reaped.
//! - A kill is SIGKILL to the group, then the leader is reaped at once if it is already gone, else
//!   handed to one shared reaper thread: `Drop` never blocks and never needs a runtime.
//!   `kill_all` (a Manager's drop) signals every group first, then hands all the leaders to the
//!   reaper thread in one message, so the caller's `Drop` does not pay for reaping.
//! - A group SIGKILLed by whoever reaps it next is left alone by its exit watcher: no second
//!   signal, no lock.
//! - `LEADERS` registers every leader not yet reaped: the children the orphan sweep
//!   (`orphans`) must spare.

use std::collections::BTreeSet;
use std::process::{Child, ExitStatus};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Sender, channel};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, PoisonError, Weak};

use rustix::process::{Pid, Signal, kill_process_group};
use tokio::sync::{oneshot, watch};
use tokio::task::AbortHandle;

use crate::error::ExitInfo;

/// A spawned server process, shared by its transport and any handles.
#[derive(Debug)]
pub(crate) struct ProcessGroup {
    pid: u32,
    child: Mutex<Option<Child>>,
    exit: watch::Sender<Option<ExitInfo>>,
    monitor: Mutex<Option<AbortHandle>>,
    /// Set once the whole group was sent SIGKILL, by a caller that reaps the leader next: the exit
    /// watcher then has nothing left to do (no second signal, which costs the kernel a wake-up of
    /// every thread in the group; no reaping).
    killed: AtomicBool,
}

impl ProcessGroup {
    /// Takes ownership of a freshly spawned group leader and starts watching for its exit (which
    /// needs the current tokio runtime).
    pub(crate) fn adopt(child: Child) -> Arc<Self> {
        let group = Arc::new(Self {
            pid: child.id(),
            child: Mutex::new(Some(child)),
            exit: watch::Sender::new(None),
            monitor: Mutex::new(None),
            killed: AtomicBool::new(false),
        });
        let watcher = tokio::spawn(watch_exit(Arc::downgrade(&group), group.pid));
        *group.monitor.lock().unwrap_or_else(PoisonError::into_inner) =
            Some(watcher.abort_handle());
        group
    }

    pub(crate) fn pid(&self) -> u32 {
        self.pid
    }

    /// How it exited, once it has.
    pub(crate) fn exit_status(&self) -> Option<ExitInfo> {
        *self.exit.borrow()
    }

    /// Resolves when the leader has exited (and been reaped).
    pub(crate) async fn exited(&self) -> ExitInfo {
        let mut receiver = self.exit.subscribe();
        loop {
            if let Some(status) = *receiver.borrow_and_update() {
                return status;
            }
            if receiver.changed().await.is_err() {
                // The sender lives in `self`, which outlives this borrow: unreachable in practice.
                return ExitInfo::Code(-1);
            }
        }
    }

    /// Sends `signal` to the whole group, if the leader is not yet reaped.
    pub(crate) fn signal(&self, signal: Signal) {
        let child = self.child.lock().unwrap_or_else(PoisonError::into_inner);
        if child.is_some() {
            signal_group(self.pid, signal);
            if signal == Signal::KILL {
                self.killed.store(true, Ordering::Release);
            }
        }
    }

    /// Reaps the leader if it has exited, killing what is left of its group first (orphans of an
    /// exited server have no one to stop them). Returns whether the leader is gone.
    fn reap_if_exited(&self) -> bool {
        // Whoever sent SIGKILL (`kill_now`, `kill_all`) reaps the leader or hands it to the reaper
        // thread right after, so there is nothing to do here, and not taking the lock keeps a
        // hundred exit watchers from competing with a Manager drop.
        if self.killed.load(Ordering::Acquire) {
            return true;
        }
        let mut slot = self.child.lock().unwrap_or_else(PoisonError::into_inner);
        let Some(child) = slot.as_mut() else {
            return true;
        };
        if !has_exited(self.pid) {
            return false;
        }
        signal_group(self.pid, Signal::KILL);
        match try_reap(child) {
            Ok(Some(status)) => {
                *slot = None;
                self.exit.send_replace(Some(status.into()));
                true
            }
            Ok(None) => false,
            Err(error) => {
                tracing::warn!(pid = self.pid, %error, "could not reap the server process");
                *slot = None;
                self.exit.send_replace(Some(ExitInfo::Code(-1)));
                true
            }
        }
    }

    /// SIGKILLs the group and reaps the leader without blocking: if it is not dead yet, the shared
    /// reaper thread waits for it. Synchronous, needs no runtime; idempotent.
    pub(crate) fn kill_now(&self) {
        self.signal(Signal::KILL);
        self.reap_killed();
    }

    /// Kills many groups: every group is signalled before any is reaped. A killed server's threads
    /// wake up to exit and compete for the CPU; signalling all of them in one tight loop first
    /// keeps that from stretching the loop.
    ///
    /// The leaders are then handed to the reaper thread in one go rather than reaped here: reaping
    /// costs the kernel about 20 µs per process (2 ms for a hundred), which would otherwise be spent
    /// inside the caller's `Drop`. Their exit is recorded as the SIGKILL they were just sent.
    pub(crate) fn kill_all(groups: &[&Self]) {
        for group in groups {
            group.signal(Signal::KILL);
        }
        let leaders: Vec<Child> = groups
            .iter()
            .filter_map(|group| group.take_killed())
            .collect();
        if !leaders.is_empty() {
            hand_to_reaper(leaders);
        }
    }

    /// Takes the leader of a group already sent SIGKILL, for the reaper, and records the kill as
    /// its exit. `None` when it was already reaped.
    fn take_killed(&self) -> Option<Child> {
        let child = self
            .child
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()?;
        self.exit
            .send_replace(Some(ExitInfo::Signal(Signal::KILL.as_raw())));
        Some(child)
    }

    /// The second half of `kill_now`, for a group already sent SIGKILL (a process forked in the
    /// group at that moment is sent it too, by the kernel): reaps the leader, or hands it to the
    /// reaper thread.
    fn reap_killed(&self) {
        let mut slot = self.child.lock().unwrap_or_else(PoisonError::into_inner);
        let Some(mut child) = slot.take() else { return };
        let status = match try_reap(&mut child) {
            Ok(Some(status)) => status.into(),
            _ => {
                hand_to_reaper(vec![child]);
                ExitInfo::Signal(Signal::KILL.as_raw())
            }
        };
        self.exit.send_replace(Some(status));
    }
}

impl Drop for ProcessGroup {
    fn drop(&mut self) {
        self.kill_now();
        if let Some(monitor) = self
            .monitor
            .get_mut()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
        {
            monitor.abort();
        }
    }
}

fn signal_group(pid: u32, signal: Signal) {
    let Some(pid) = i32::try_from(pid).ok().and_then(Pid::from_raw) else {
        return;
    };
    if let Err(error) = kill_process_group(pid, signal) {
        // ESRCH: the whole group is already gone.
        if error != rustix::io::Errno::SRCH {
            tracing::warn!(pid = pid.as_raw_nonzero().get(), %error, "could not signal process group");
        }
    }
}

/// Waits for the leader's exit, then reaps it. Holds only a weak reference, so it never keeps a
/// process alive; the group aborts it on drop.
///
/// On Linux the exit is seen through a pidfd, which wakes this watcher alone. Elsewhere (or on a
/// kernel without pidfds) every watcher wakes on each SIGCHLD and looks with `waitid(WNOWAIT)`,
/// which does not reap, so the group can still be signalled (its id still reserved by the zombie
/// leader) before the leader is reaped.
async fn watch_exit(group: Weak<ProcessGroup>, pid: u32) {
    #[cfg(target_os = "linux")]
    if let Some(exit) = exit_notifier(pid) {
        loop {
            {
                let Some(group) = group.upgrade() else { return };
                if group.reap_if_exited() {
                    return;
                }
            }
            match exit.readable().await {
                // Readable once the process has exited; stays so, so the next look reaps it.
                Ok(mut ready) => ready.retain_ready(),
                Err(_) => break,
            }
        }
    }
    watch_exit_by_signal(group).await;
}

/// A pidfd for `pid`, registered with the runtime: readable once the process has exited.
#[cfg(target_os = "linux")]
fn exit_notifier(pid: u32) -> Option<tokio::io::unix::AsyncFd<std::os::fd::OwnedFd>> {
    use rustix::process::{PidfdFlags, pidfd_open};
    let pid = i32::try_from(pid).ok().and_then(Pid::from_raw)?;
    let fd = pidfd_open(pid, PidfdFlags::NONBLOCK)
        .map_err(
            |error| tracing::debug!(%error, "no pidfd; watching SIGCHLD for the server's exit"),
        )
        .ok()?;
    // Deprecated because, for an arbitrary `T`, the descriptor could be closed or replaced while
    // registered; an `OwnedFd` that only this `AsyncFd` ever holds cannot be (and the replacement,
    // `register_with_interest`, is `unsafe`, which this workspace denies outside one audited hook).
    #[allow(deprecated)]
    let registered = tokio::io::unix::AsyncFd::with_interest(fd, tokio::io::Interest::READABLE);
    registered.ok()
}

async fn watch_exit_by_signal(group: Weak<ProcessGroup>) {
    use tokio::signal::unix::{SignalKind, signal};
    // Listen before the first look, so an exit between the two is not missed.
    let mut sigchld = match signal(SignalKind::child()) {
        Ok(stream) => Some(stream),
        Err(error) => {
            tracing::debug!(%error, "no SIGCHLD stream; polling for the server's exit");
            None
        }
    };
    let mut poll = tokio::time::interval(std::time::Duration::from_millis(50));
    loop {
        {
            let Some(group) = group.upgrade() else { return };
            if group.reap_if_exited() {
                return;
            }
        }
        match sigchld.as_mut() {
            Some(stream) => {
                if stream.recv().await.is_none() {
                    sigchld = None;
                }
            }
            None => {
                poll.tick().await;
            }
        }
    }
}

/// Whether the process has exited, without reaping it.
fn has_exited(pid: u32) -> bool {
    use rustix::process::{WaitId, WaitIdOptions, waitid};
    let Some(pid) = i32::try_from(pid).ok().and_then(Pid::from_raw) else {
        return true;
    };
    let options = WaitIdOptions::EXITED | WaitIdOptions::NOHANG | WaitIdOptions::NOWAIT;
    match waitid(WaitId::Pid(pid), options) {
        Ok(status) => status.is_some(),
        // ECHILD: already reaped.
        Err(_) => true,
    }
}

/// Pids of the server leaders this process started and has not reaped yet: the children the
/// orphan sweep (`orphans::sweep`) leaves alone. A pid is added by the spawner right after its
/// fork and removed in the same critical section that reaps it, so the sweep never mistakes a
/// leader for an orphan, and a pid reused after a reap is never still listed.
static LEADERS: Mutex<BTreeSet<u32>> = Mutex::new(BTreeSet::new());

pub(super) fn leaders() -> MutexGuard<'static, BTreeSet<u32>> {
    LEADERS.lock().unwrap_or_else(PoisonError::into_inner)
}

/// `Child::try_wait`, forgetting the leader once it is reaped.
fn try_reap(child: &mut Child) -> std::io::Result<Option<ExitStatus>> {
    let mut leaders = leaders();
    let reaped = child.try_wait();
    if !matches!(reaped, Ok(None)) {
        leaders.remove(&child.id());
    }
    reaped
}

/// What the shared reaper thread is asked to do; jobs are done in the order they were sent.
enum ReaperJob {
    /// Reap these leaders, already sent SIGKILL.
    Leaders(Vec<Child>),
    /// Kill and reap every child of this process that is not a server leader (see `orphans`).
    Orphans,
    /// Report that every job sent before this one is done.
    Flush(oneshot::Sender<()>),
}

/// The reaper thread's queue; `None` inside if the thread could not be started.
static REAPER: OnceLock<Option<Sender<ReaperJob>>> = OnceLock::new();

/// The reaper thread's queue, started on first use; `None` if the thread could not be started.
fn reaper() -> Option<&'static Sender<ReaperJob>> {
    REAPER
        .get_or_init(|| {
            let (sender, receiver) = channel::<ReaperJob>();
            std::thread::Builder::new()
                .name("mcp-stdio-reaper".into())
                .spawn(move || {
                    for job in receiver {
                        match job {
                            ReaperJob::Leaders(batch) => batch.into_iter().for_each(reap_blocking),
                            ReaperJob::Orphans => super::orphans::sweep(),
                            ReaperJob::Flush(done) => {
                                let _ = done.send(());
                            }
                        }
                    }
                })
                .ok()
                .map(|_| sender)
        })
        .as_ref()
}

/// Waits for a SIGKILLed leader, then reaps it. The wait itself does not reap (`WNOWAIT`), so the
/// reap happens under the `LEADERS` lock without holding it while the kernel tears the process
/// down.
fn reap_blocking(mut child: Child) {
    use rustix::process::{WaitId, WaitIdOptions, waitid};
    if let Some(pid) = i32::try_from(child.id()).ok().and_then(Pid::from_raw) {
        // Already SIGKILLed, so this returns as soon as the kernel has torn it down.
        let exited = WaitIdOptions::EXITED | WaitIdOptions::NOWAIT;
        while waitid(WaitId::Pid(pid), exited).err() == Some(rustix::io::Errno::INTR) {}
    }
    if let Ok(None) = try_reap(&mut child) {
        // Not reapable yet (it cannot be, after the wait above; this is the belt to its braces).
        let _ = child.wait();
        leaders().remove(&child.id());
    }
}

/// Reaps SIGKILLed children on one shared thread, so `Drop` never blocks and never needs a runtime.
/// A batch is one message, so handing over a hundred leaders wakes the thread once.
fn hand_to_reaper(children: Vec<Child>) {
    match reaper() {
        Some(sender) => {
            if let Err(unsent) = sender.send(ReaperJob::Leaders(children))
                && let ReaperJob::Leaders(children) = unsent.0
            {
                leave_zombies(&children);
            }
        }
        None => leave_zombies(&children),
    }
}

/// Asks the reaper thread to sweep up adopted orphans once it has reaped what it was handed so far.
/// Non-blocking; needs no runtime.
pub(super) fn request_orphan_sweep() {
    match reaper() {
        Some(sender) => {
            let _ = sender.send(ReaperJob::Orphans);
        }
        None => {
            tracing::error!("could not start the reaper thread; adopted orphans are left running")
        }
    }
}

/// Resolves once the reaper thread has done every job sent before this call (immediately if it
/// never started); `false` if it did not within `timeout`.
pub(super) async fn reaper_idle(timeout: std::time::Duration) -> bool {
    // Never started: nothing was ever handed to it.
    let Some(Some(sender)) = REAPER.get() else {
        return true;
    };
    let (done, finished) = oneshot::channel();
    if sender.send(ReaperJob::Flush(done)).is_err() {
        return true;
    }
    tokio::time::timeout(timeout, finished).await.is_ok()
}

fn leave_zombies(children: &[Child]) {
    for child in children {
        tracing::error!(
            pid = child.id(),
            "could not start the reaper thread; the killed server stays a zombie until this process exits"
        );
    }
}
