//! The cost of one `tools/call` echo round trip over our stdio and streamable HTTP transports, against
//! the fixture server on this machine. A quick look, not the side-by-side benchmark (`cargo xtask
//! bench` will hold that): `cargo bench -p mcp-tests --bench echo_roundtrip`.

use std::time::{Duration, Instant};

use mcp_tests::http_fixture::HttpFixture;
use mcp_transport::http::{HttpClient, HttpOptions, HttpTransportOptions, ProxyConfig};
use mcp_transport::stdio::{StdioSpec, StdioTransport};
use rmcp::model::{CallToolRequestParams, ClientConfig, ProtocolVersion};
use rmcp::service::{RoleClient, RunningService};

const FIXTURE: &str = env!("CARGO_BIN_EXE_mcp-fixture-server");
const WARM_UP: usize = 200;
const CALLS: usize = 2_000;
const ROUNDS: usize = 5;

fn config() -> ClientConfig {
    ClientConfig::default().with_protocol_version(ProtocolVersion::LATEST_WITH_INITIALIZE)
}

fn echo() -> CallToolRequestParams {
    let arguments = serde_json::json!({ "text": "ping" });
    CallToolRequestParams::new("echo")
        .with_arguments(arguments.as_object().cloned().unwrap_or_default())
}

/// The median, over rounds, of the mean time per sequential call.
async fn measure(client: &RunningService<RoleClient, ClientConfig>) -> Duration {
    for _ in 0..WARM_UP {
        client.call_tool(echo()).await.expect("echo answers");
    }
    let mut per_call = Vec::with_capacity(ROUNDS);
    for _ in 0..ROUNDS {
        let started = Instant::now();
        for _ in 0..CALLS {
            client.call_tool(echo()).await.expect("echo answers");
        }
        per_call.push(started.elapsed() / CALLS as u32);
    }
    per_call.sort();
    per_call[ROUNDS / 2]
}

fn report(name: &str, per_call: Duration) {
    println!(
        "{name:<6} {:>8.1} µs per echo round trip ({:>6.0} calls/s), median of {ROUNDS} x {CALLS} sequential calls",
        per_call.as_secs_f64() * 1e6,
        1.0 / per_call.as_secs_f64()
    );
}

#[tokio::main]
async fn main() {
    let transport = StdioTransport::spawn("fixture", &StdioSpec::new(FIXTURE).args(["--stdio"]))
        .expect("the fixture starts");
    let mut client = rmcp::serve_client(config(), transport)
        .await
        .expect("connected over stdio");
    report("stdio", measure(&client).await);
    let _ = client.close().await;

    let server = HttpFixture::start(FIXTURE, &[]).await;
    let url = server.url();
    let mut options = HttpOptions::default();
    options.proxy = ProxyConfig::Direct;
    let http = HttpClient::new(options).expect("an HTTP client");
    let transport = http
        .transport(url, None, HttpTransportOptions::default())
        .expect("a valid URL");
    let mut client = rmcp::serve_client(config(), transport)
        .await
        .expect("connected over HTTP");
    report("http", measure(&client).await);
    let _ = client.close().await;
    drop(server);
}
