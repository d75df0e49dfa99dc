//! How `mcpcord` ends when something other than its work ends it: SIGTERM, SIGHUP, Ctrl+C, SIGKILL;
//! and what happens to its servers and to what they started.
//!
//! This test process makes itself a child subreaper, so whatever `mcpcord` leaves behind (a server
//! still running, or a zombie it did not reap) is re-parented to the test and can be seen here,
//! instead of vanishing into init.

use std::io::Read;
use std::process::{Child, Stdio};

use mcp_tests::support::{
    KillOnDrop, TempDir, escaping_server_script, eventually_blocking, eventually_some_blocking,
    live_children_of, mcpcord_command, read_pid, state_of,
};
use rustix::process::{Pid, Signal, WaitOptions};

/// The `mcpcord` binary under test.
const MCPCORD: &str = env!("CARGO_BIN_EXE_mcpcord");

fn become_subreaper() {
    rustix::process::set_child_subreaper(Some(rustix::process::getpid())).expect("a subreaper");
}

fn pid(raw: u32) -> Pid {
    Pid::from_raw(i32::try_from(raw).expect("a pid")).expect("a pid")
}

/// `mcpcord` running `args` with a home of its own, with stderr captured; killed and reaped on
/// drop.
struct Mcpcord {
    child: Child,
    _home: TempDir,
}

impl Mcpcord {
    fn start(args: &[&str]) -> Self {
        let home = TempDir::new("mcpcord-signals-home");
        let child = mcpcord_command(MCPCORD, home.path())
            .args(args)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("mcpcord runs");
        Self { child, _home: home }
    }

    /// Waits until `mcpcord` has started its one server; its pid.
    fn server(&self) -> u32 {
        eventually_some_blocking("mcpcord has started its server", || match live_children_of(
            self.child.id(),
        )
        .as_slice()
        {
            [server] => Some(*server),
            _ => None,
        })
    }

    fn signal(&self, signal: Signal) {
        rustix::process::kill_process(pid(self.child.id()), signal).expect("signalled");
    }

    /// Waits (bounded) for `mcpcord` to exit; its exit code and stderr.
    fn exit(mut self) -> (Option<i32>, String) {
        let status = eventually_some_blocking("mcpcord has exited", || {
            self.child.try_wait().expect("mcpcord is our child")
        });
        let mut stderr = String::new();
        let _ = self
            .child
            .stderr
            .take()
            .map(|mut pipe| pipe.read_to_string(&mut stderr));
        (status.code(), stderr)
    }
}

impl Drop for Mcpcord {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Asserts that `server` is gone entirely, at once: not running, and not a zombie either (a
/// zombie would mean `mcpcord` exited without reaping it, leaving it to us, its subreaper).
fn assert_gone_and_reaped(server: u32) {
    assert_eq!(
        state_of(server),
        None,
        "process {server} outlived mcpcord or was not reaped by it"
    );
}

/// `mcpcord call sleep` (10 s) on the demo server over stdio: a server that closes politely.
const CALL_SLEEP_ON_THE_DEMO: [&str; 8] = [
    "call",
    "sleep",
    "--args",
    r#"{"ms":10000}"#,
    "--",
    MCPCORD,
    "serve-demo",
    "--stdio",
];

/// `mcpcord call echo` on a server that never answers `initialize` and ignores its stdin closing: it
/// must be killed.
const CALL_A_MUTE_SERVER: [&str; 5] = ["call", "echo", "--", "sh", "-c"];
const MUTE_SERVER_SCRIPT: &str = "exec sleep 1000";

fn call_a_mute_server() -> Mcpcord {
    Mcpcord::start(&[&CALL_A_MUTE_SERVER[..], &[MUTE_SERVER_SCRIPT][..]].concat())
}

#[test]
fn sigterm_shuts_down_reaps_the_server_and_exits_143() {
    become_subreaper();
    let mcpcord = Mcpcord::start(&CALL_SLEEP_ON_THE_DEMO);
    let server = mcpcord.server();
    let _cleanup = KillOnDrop(server);
    mcpcord.signal(Signal::TERM);
    let (code, stderr) = mcpcord.exit();
    assert_eq!(code, Some(143), "{stderr}");
    assert!(stderr.contains("terminated; shutting down"), "{stderr}");
    assert_gone_and_reaped(server);
}

#[test]
fn sighup_kills_a_server_that_ignores_stdin_reaps_it_and_exits_129() {
    become_subreaper();
    let mcpcord = call_a_mute_server();
    let server = mcpcord.server();
    let _cleanup = KillOnDrop(server);
    mcpcord.signal(Signal::HUP);
    let (code, stderr) = mcpcord.exit();
    assert_eq!(code, Some(129), "{stderr}");
    assert!(stderr.contains("hung up; shutting down"), "{stderr}");
    assert_gone_and_reaped(server);
}

#[test]
fn ctrl_c_reaps_a_killed_server_before_exiting() {
    become_subreaper();
    let mcpcord = call_a_mute_server();
    let server = mcpcord.server();
    let _cleanup = KillOnDrop(server);
    mcpcord.signal(Signal::INT);
    let (code, stderr) = mcpcord.exit();
    assert_eq!(code, Some(130), "{stderr}");
    assert_gone_and_reaped(server);
}

#[test]
fn servers_die_with_a_sigkilled_mcpcord() {
    become_subreaper();
    let mcpcord = call_a_mute_server();
    let server = mcpcord.server();
    let _cleanup = KillOnDrop(server);
    mcpcord.signal(Signal::KILL);
    let (code, _) = mcpcord.exit();
    assert_eq!(code, None, "SIGKILL ends mcpcord");
    // Nobody can clean up after a SIGKILL but the kernel: the server must die by itself. It is
    // then our zombie (we are its subreaper); reaping it here is the test's own business.
    eventually_blocking(
        "the server has died with the SIGKILLed mcpcord",
        || match state_of(server).as_deref() {
            None => true,
            Some("Z") => {
                let _ = rustix::process::waitpid(Some(pid(server)), WaitOptions::empty());
                true
            }
            Some(_) => false,
        },
    );
}

/// A server script for `sh -c` that starts a grandchild leaving its process group (its pid in
/// `pid_file`), then runs the demo server over stdio.
fn escaping_demo_server(pid_file: &std::path::Path) -> String {
    escaping_server_script(pid_file, &format!("{MCPCORD} serve-demo --stdio"))
}

#[test]
fn a_grandchild_that_left_the_servers_session_dies_with_mcpcord() {
    become_subreaper();
    let scratch = TempDir::new("mcpcord-signals");
    let pid_file = scratch.join("escaped.pid");
    let script = escaping_demo_server(&pid_file);
    let mcpcord = Mcpcord::start(&[
        "call",
        "echo",
        "--args",
        r#"{"text":"hi"}"#,
        "--",
        "sh",
        "-c",
        &script,
    ]);
    let (code, stderr) = mcpcord.exit();
    let grandchild = read_pid(&pid_file);
    let _cleanup = KillOnDrop(grandchild);
    assert_eq!(code, Some(0), "{stderr}");
    assert_gone_and_reaped(grandchild);
}

#[test]
fn a_grandchild_that_left_the_servers_session_dies_when_mcpcord_is_terminated() {
    become_subreaper();
    let scratch = TempDir::new("mcpcord-signals");
    let pid_file = scratch.join("escaped-term.pid");
    let script = escaping_demo_server(&pid_file);
    let mcpcord = Mcpcord::start(&[
        "call",
        "sleep",
        "--args",
        r#"{"ms":10000}"#,
        "--",
        "sh",
        "-c",
        &script,
    ]);
    let server = mcpcord.server();
    let _server_cleanup = KillOnDrop(server);
    eventually_blocking("the grandchild has started", || {
        std::fs::read_to_string(&pid_file).is_ok_and(|pid| pid.ends_with('\n'))
    });
    let grandchild = read_pid(&pid_file);
    let _cleanup = KillOnDrop(grandchild);
    mcpcord.signal(Signal::TERM);
    let (code, stderr) = mcpcord.exit();
    assert_eq!(code, Some(143), "{stderr}");
    assert_gone_and_reaped(server);
    assert_gone_and_reaped(grandchild);
}
