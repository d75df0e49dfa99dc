//! `Manager::shutdown` returns only once the servers it killed are reaped, so a program that
//! exits right after (`mcpcord` on Ctrl+C) leaves no zombie for init to collect.

use std::time::Duration;

use mcp_manager::config::ServerConfig;
use mcp_manager::{Manager, ManagerOptions};
use mcp_tests::support::state_of;

use crate::MCPCORD;

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
