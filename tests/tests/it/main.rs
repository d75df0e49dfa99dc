//! The cross-crate integration tests, one module per area, in one test binary.
//!
//! The leak tests (`manager_leaks`, `manager_leaks_http`, `manager_cancellation`) are binaries of
//! their own: they count this process's descriptors, threads and children, which any test running
//! beside them would change.

mod check;
mod dpop;
mod eras;
mod faults_http;
mod faults_stdio;
mod fixture_server;
mod interop_everything;
mod interop_legacy_sse;
mod legacy_sse_servers;
mod manager;
mod manager_elicitation;
mod manager_scripted;
mod oauth;
mod oauth_legacy_sse;
mod skills;

/// The fault-injecting fixture server (`mcp-fixture-server`), built with this package.
const FIXTURE: &str = env!("CARGO_BIN_EXE_mcp-fixture-server");

/// The deliberately non-compliant fixture server (`mcp-noncompliant-server`), built with this
/// package.
const NONCOMPLIANT: &str = env!("CARGO_BIN_EXE_mcp-noncompliant-server");

/// rmcp's client configuration, asking for the newest protocol version that still opens with
/// `initialize`.
fn client_config() -> rmcp::model::ClientConfig {
    rmcp::model::ClientConfig::default()
        .with_protocol_version(rmcp::model::ProtocolVersion::LATEST_WITH_INITIALIZE)
}

/// An HTTP client for the loopback servers under test: no proxy from the environment, and a
/// request timeout short enough that a server that never answers fails the test.
fn http_client() -> mcp_transport::http::HttpClient {
    use mcp_transport::http::{HttpClient, HttpOptions, ProxyConfig};
    let mut options = HttpOptions::default();
    options.proxy = ProxyConfig::Direct;
    options.request_timeout = std::time::Duration::from_secs(5);
    HttpClient::new(options).expect("an HTTP client")
}
