//! `Manager::shutdown` returns only once the servers it killed are reaped, so a program that
//! exits right after (`mcpcord` on Ctrl+C) leaves no zombie for init to collect.

use std::time::Duration;

use mcp_manager::config::ServerConfig;
use mcp_manager::{Manager, ManagerOptions};

const MCPCORD: &str = env!("CARGO_BIN_EXE_mcpcord");

/// The process state letter of `pid` (`Z` for a zombie), or `None` once it does not exist at all.
fn state_of(pid: u32) -> Option<String> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let (_, rest) = stat.rsplit_once(')')?;
    rest.split_whitespace().next().map(str::to_owned)
}

#[tokio::test]
async fn shutdown_returns_once_a_killed_server_is_reaped() {
    let manager = Manager::new(ManagerOptions::default()).expect("a manager");
    let id = manager
        .connect(
            "demo",
            &ServerConfig::stdio(MCPCORD, ["serve-demo", "--stdio"]),
        )
        .await
        .expect("connected");
    let server = manager
        .pid(id)
        .expect("a known server")
        .expect("a stdio server");

    // No grace at all: the server is SIGKILLed, and its reaping is all that is left to wait for.
    manager.shutdown(Duration::ZERO).await;

    assert_eq!(
        state_of(server),
        None,
        "the killed server was not reaped when shutdown returned"
    );
}
