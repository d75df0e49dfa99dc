//! `ManagerOptions::subreaper`: what escapes a stdio server's process group dies with the manager.
//!
//! A test binary of its own: the option makes the whole test process a child subreaper whose
//! sweep kills every child that is not a stdio server, which other tests' processes must not meet.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use mcp_manager::config::ServerConfig;
use mcp_manager::{Manager, ManagerOptions};

const MCPM: &str = env!("CARGO_BIN_EXE_mcpm");
/// The most any wait may take; reaching it is a failure.
const BOUND: Duration = Duration::from_secs(10);

/// The process state letter of `pid` (`Z` for a zombie), or `None` once it does not exist at all.
fn state_of(pid: u32) -> Option<String> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let (_, rest) = stat.rsplit_once(')')?;
    rest.split_whitespace().next().map(str::to_owned)
}

/// SIGKILLs a process this test may have been left with.
struct KillOnDrop(u32);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        if state_of(self.0).is_some() {
            let pid = i32::try_from(self.0)
                .ok()
                .and_then(rustix::process::Pid::from_raw);
            if let Some(pid) = pid {
                let _ = rustix::process::kill_process(pid, rustix::process::Signal::KILL);
            }
        }
    }
}

fn pid_file(label: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("mcp-subreaper-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a temp dir");
    let file = dir.join(label);
    let _ = std::fs::remove_file(&file);
    file
}

/// The demo server over stdio, after starting `sleep 1000` in a session of its own (out of the
/// server's process group, so no group kill reaches it) with its pid written to `pid_file`.
fn escaping_server(pid_file: &Path) -> ServerConfig {
    let file = pid_file.display();
    let script = format!(
        "setsid sh -c 'echo $$ > {file}; exec sleep 1000' </dev/null >/dev/null 2>&1 & \
         while [ ! -s {file} ]; do sleep 0.01; done; exec {MCPM} serve-demo --stdio"
    );
    ServerConfig::stdio("sh", ["-c", script.as_str()])
}

fn read_pid(file: &Path) -> u32 {
    std::fs::read_to_string(file)
        .expect("the escaped grandchild wrote its pid")
        .trim()
        .parse()
        .expect("a pid")
}

fn subreaping_manager() -> Manager {
    let mut options = ManagerOptions::default();
    options.subreaper = true;
    Manager::new(options).expect("a manager")
}

#[tokio::test]
async fn shutdown_kills_and_reaps_a_grandchild_that_left_the_servers_group() {
    let file = pid_file("shutdown.pid");
    let manager = subreaping_manager();
    manager
        .connect("escaping", &escaping_server(&file))
        .await
        .expect("connected");
    let grandchild = read_pid(&file);
    let _cleanup = KillOnDrop(grandchild);
    assert!(state_of(grandchild).is_some(), "the grandchild runs");

    manager.shutdown(Duration::from_secs(2)).await;

    // Reaped too, not just killed: a zombie would show here.
    assert_eq!(
        state_of(grandchild),
        None,
        "the grandchild outlived shutdown"
    );
}

#[tokio::test]
async fn drop_kills_and_reaps_a_grandchild_that_left_the_servers_group() {
    let file = pid_file("drop.pid");
    let manager = subreaping_manager();
    manager
        .connect("escaping", &escaping_server(&file))
        .await
        .expect("connected");
    let grandchild = read_pid(&file);
    let _cleanup = KillOnDrop(grandchild);

    drop(manager);

    // `Drop` only hands the work to the reaper thread, which does it in the background.
    let deadline = Instant::now() + BOUND;
    while state_of(grandchild).is_some() {
        assert!(
            Instant::now() < deadline,
            "the grandchild outlived the manager"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}
