//! `ManagerOptions::subreaper`: what escapes a stdio server's process group dies with the manager.
//!
//! A test binary of its own: the option makes the whole test process a child subreaper whose
//! sweep kills every child that is not a stdio server, which other tests' processes must not meet.

use std::path::Path;
use std::time::Duration;

use mcp_manager::config::ServerConfig;
use mcp_manager::{Manager, ManagerOptions};
use mcp_tests::support::{
    KillOnDrop, TempDir, escaping_server_script, eventually, read_pid, state_of,
};

/// The `mcpcord` binary, whose demo server is the server under test.
const MCPCORD: &str = env!("CARGO_BIN_EXE_mcpcord");

/// The demo server over stdio, after starting a grandchild that leaves its process group (see
/// [`escaping_server_script`]).
fn escaping_server(pid_file: &Path) -> ServerConfig {
    let script = escaping_server_script(pid_file, &format!("{MCPCORD} serve-demo --stdio"));
    ServerConfig::stdio("sh", ["-c", script.as_str()])
}

fn subreaping_manager() -> Manager {
    let mut options = ManagerOptions::default();
    options.subreaper = true;
    Manager::new(options).expect("a manager")
}

#[tokio::test]
async fn shutdown_kills_and_reaps_a_grandchild_that_left_the_servers_group() {
    let scratch = TempDir::new("mcp-subreaper");
    let file = scratch.join("shutdown.pid");
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
    let scratch = TempDir::new("mcp-subreaper");
    let file = scratch.join("drop.pid");
    let manager = subreaping_manager();
    manager
        .connect("escaping", &escaping_server(&file))
        .await
        .expect("connected");
    let grandchild = read_pid(&file);
    let _cleanup = KillOnDrop(grandchild);

    drop(manager);

    // `Drop` only hands the work to the reaper thread, which does it in the background.
    eventually("the grandchild is gone with the manager", || {
        state_of(grandchild).is_none()
    })
    .await;
}
