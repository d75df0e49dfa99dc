//! 1,000 connect/disconnect cycles leave no file descriptor, thread or child process behind.
//! One test in this binary, so nothing else runs in the process while it counts.

use std::time::{Duration, Instant};

use mcp_manager::config::ServerConfig;
use mcp_manager::{Manager, ManagerOptions};
use mcp_tests::census::Census;

const FIXTURE: &str = env!("CARGO_BIN_EXE_mcp-fixture-server");
const CYCLES: usize = 1_000;

#[tokio::test]
async fn a_thousand_connect_disconnect_cycles_leak_nothing() {
    let manager = Manager::new(ManagerOptions::default()).expect("a manager");
    let config = ServerConfig::stdio(FIXTURE, ["--stdio"]);
    // One cycle first, so lazily created things (TLS roots, the reaper thread) exist before counting.
    let id = manager
        .connect("warm-up", &config)
        .await
        .expect("connected");
    manager.disconnect(id).await.expect("disconnected");
    let baseline = Census::settle_to(
        Census {
            children: 0,
            ..Census::take()
        },
        Duration::from_secs(10),
    )
    .await;
    assert_eq!(baseline.children, 0);

    let started = Instant::now();
    for cycle in 0..CYCLES {
        let id = manager
            .connect("cycle", &config)
            .await
            .unwrap_or_else(|error| panic!("cycle {cycle}: {error}"));
        manager.disconnect(id).await.expect("disconnected");
    }
    let per_cycle = started.elapsed() / CYCLES as u32;
    let after = Census::settle_to(baseline, Duration::from_secs(10)).await;
    println!("{CYCLES} cycles, {per_cycle:?} each; before {baseline:?}, after {after:?}");
    assert_eq!(after, baseline, "something leaked over {CYCLES} cycles");
}
