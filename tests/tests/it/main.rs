//! The cross-crate integration tests, one module per area, in one test binary.
//!
//! The leak tests (`manager_leaks`, `manager_leaks_http`, `manager_cancellation`) are binaries of
//! their own: they count this process's descriptors, threads and children, which any test running
//! beside them would change.

mod faults_http;
mod faults_stdio;
mod fixture_server;
mod interop_everything;
mod manager;
mod manager_scripted;
mod oauth;

/// The fault-injecting fixture server (`mcp-fixture-server`), built with this package.
const FIXTURE: &str = env!("CARGO_BIN_EXE_mcp-fixture-server");
