//! Where servers are started: one thread that lives as long as the process, so they die with us.
//!
//! On Linux every server is started with `PR_SET_PDEATHSIG(SIGKILL)`: when we die, even by
//! SIGKILL (no `Drop`, no handler runs), the kernel kills the server too. The signal fires when
//! the *thread* that forked the child ends, not the process, and the threads that call
//! [`StdioTransport::spawn`](super::StdioTransport::spawn) may end at any time (tokio's blocking
//! pool retires idle threads after ten seconds; a runtime can be dropped while its servers live on).
//! So the fork happens on one dedicated thread that never returns: its receiver waits on a sender
//! that lives in a `static`. If that thread cannot be started, servers are started on the caller's
//! thread without the death signal rather than with one that could fire early.
//!
//! The death signal reaches the leader only. Its own children are reached by the group kill while
//! we live; after we are SIGKILLed, only if they stop with their leader.
//!
//! The spawner also registers each new leader with [`leaders`] before
//! anyone can look: `SPAWNING` is held across the fork and the registration, and the orphan sweep
//! takes it too, so the sweep never sees a leader it does not know.

use std::io;
use std::process::{Child, Command};
use std::sync::mpsc::{Sender, SyncSender, channel, sync_channel};
use std::sync::{Mutex, MutexGuard, OnceLock, PoisonError};

use super::child::leaders;

/// Held while a server is forked and registered, and while the orphan sweep picks its victims.
static SPAWNING: Mutex<()> = Mutex::new(());

pub(super) fn spawning() -> MutexGuard<'static, ()> {
    SPAWNING.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A command to start, and where the spawner sends the result.
type Request = (Command, SyncSender<io::Result<Child>>);

/// Starts `command` as a server (see the module docs). Blocks for as long as the fork and exec
/// take, as `Command::spawn` does.
pub(super) fn spawn_server(command: Command) -> io::Result<Child> {
    static SPAWNER: OnceLock<Option<Sender<Request>>> = OnceLock::new();
    let spawner = SPAWNER.get_or_init(|| {
        let (sender, receiver) = channel::<Request>();
        let started = std::thread::Builder::new()
            .name("mcp-stdio-spawner".into())
            .spawn(move || {
                for (mut command, reply) in receiver {
                    die_with_parent(&mut command);
                    let _ = reply.send(start(&mut command));
                }
            });
        match started {
            Ok(_) => Some(sender),
            Err(error) => {
                tracing::warn!(%error, "could not start the spawner thread; stdio servers will not die with this process if it is killed");
                None
            }
        }
    });
    let Some(spawner) = spawner else {
        let mut command = command;
        return start(&mut command);
    };
    let (reply, answer) = sync_channel(1);
    if let Err(unsent) = spawner.send((command, reply)) {
        // The spawner thread is gone (it panicked): start here, without the death signal.
        let (mut command, _) = unsent.0;
        return start(&mut command);
    }
    answer
        .recv()
        .unwrap_or_else(|_| Err(io::Error::other("the spawner thread ended mid-spawn")))
}

/// Forks and registers the leader, so the orphan sweep never sees it unregistered.
fn start(command: &mut Command) -> io::Result<Child> {
    let _spawning = spawning();
    let child = command.spawn()?;
    leaders().insert(child.id());
    Ok(child)
}

/// Makes the child SIGKILLed when the thread that forks it ends: called on the spawner thread
/// only, which never ends before the process does.
///
/// This is the crate's one `unsafe` block (see ARCHITECTURE.md, Cross-cutting: Lints).
#[cfg(target_os = "linux")]
#[allow(unsafe_code)]
fn die_with_parent(command: &mut Command) {
    use rustix::process::{Signal, getpid, getppid, set_parent_process_death_signal};
    use std::os::unix::process::CommandExt;
    let parent = getpid();
    let hook = move || -> io::Result<()> {
        set_parent_process_death_signal(Some(Signal::KILL))?;
        // We may have died between the fork and the line above, and then no signal will come:
        // the child was re-parented already. Fail the exec instead of running unsupervised.
        if getppid() != Some(parent) {
            return Err(rustix::io::Errno::SRCH.into());
        }
        Ok(())
    };
    // SAFETY: `pre_exec` runs the hook in the child between `fork` and `exec`, where, in a
    // multi-threaded parent, only async-signal-safe work is allowed: another thread may have held
    // the allocator's or any other lock at the fork. The hook makes two system calls,
    // `prctl(PR_SET_PDEATHSIG)` and `getppid`, through rustix (raw syscalls on Linux; the libc
    // wrappers, where rustix uses them, are plain syscall stubs too); it captures only a `Pid`
    // (`Copy`), takes no lock, does not allocate (its errors are built from a raw errno, which
    // `io::Error` stores inline), and touches no memory shared with the parent's other threads.
    unsafe {
        command.pre_exec(hook);
    }
}

#[cfg(not(target_os = "linux"))]
fn die_with_parent(_command: &mut Command) {}
