//! `ManagerOptions::subreaper`: what escapes a stdio server's process group dies with the manager.
//!
//! A test binary of its own: the option makes the whole test process a child subreaper whose
//! sweep kills every child that is not a stdio server, which other tests' processes must not meet.

use std::path::Path;
use std::time::{Duration, Instant};

use mcp_manager::config::ServerConfig;
use mcp_manager::{Manager, ManagerOptions};

mod common;

use common::procs::{escaping_server_script, state_of, temp_file};
/// The most any wait may take; reaching it is a failure.
const BOUND: Duration = Duration::from_secs(10);

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

/// The demo server over stdio, after starting a grandchild that leaves its process group (see
/// [`escaping_server_script`]).
fn escaping_server(pid_file: &Path) -> ServerConfig {
    ServerConfig::stdio("sh", ["-c", escaping_server_script(pid_file).as_str()])
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
    let file = temp_file("mcp-subreaper", "shutdown.pid");
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
    let file = temp_file("mcp-subreaper", "drop.pid");
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
