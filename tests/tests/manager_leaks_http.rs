//! 300 connect/call/disconnect cycles over streamable HTTP leave no file descriptor (socket), thread or
//! task holding one behind: each session's standalone stream, POSTs and answer streams end with it.
//! One test in this binary, so nothing else runs in the process while it counts.

use std::time::{Duration, Instant};

use mcp_manager::config::ServerConfig;
use mcp_manager::{Manager, ManagerOptions, Url};
use mcp_tests::census::Census;
use mcp_tests::http_fixture::HttpFixture;
use mcp_transport::http::ProxyConfig;

const FIXTURE: &str = env!("CARGO_BIN_EXE_mcp-fixture-server");
const CYCLES: usize = 300;

#[tokio::test]
async fn three_hundred_http_sessions_leak_nothing() {
    let server = HttpFixture::start(FIXTURE, &[]).await;
    let mut options = ManagerOptions::default();
    options.http.proxy = ProxyConfig::Direct;
    // No idle connections kept, so every socket a session opened is closed once it is gone.
    options.http.pool_max_idle_per_host = 0;
    let manager = Manager::new(options).expect("a manager");
    let config = ServerConfig::http(Url::parse(server.url()).expect("the fixture's URL"));
    let before = Census::take();
    // One cycle first, so lazily created things (TLS roots, runtime threads) exist before counting.
    let id = manager
        .connect("warm-up", &config)
        .await
        .expect("connected");
    manager.disconnect(id).await.expect("disconnected");
    // Sockets close asynchronously: the warm-up's are gone once the count is back down.
    let baseline = Census::settle_until(|now| now.fds <= before.fds, Duration::from_secs(10)).await;

    let started = Instant::now();
    for cycle in 0..CYCLES {
        let id = manager
            .connect("cycle", &config)
            .await
            .unwrap_or_else(|error| panic!("cycle {cycle}: {error}"));
        manager
            .call_tool(
                id,
                "echo",
                serde_json::json!({ "text": "x" }).as_object().cloned(),
            )
            .await
            .unwrap_or_else(|error| panic!("cycle {cycle}: {error}"));
        manager.disconnect(id).await.expect("disconnected");
    }
    let per_cycle = started.elapsed() / CYCLES as u32;
    let after = Census::settle_to(baseline, Duration::from_secs(10)).await;
    println!("{CYCLES} cycles, {per_cycle:?} each; before {baseline:?}, after {after:?}");
    assert_eq!(after, baseline, "something leaked over {CYCLES} cycles");
    drop(server);
}
