//! The transports against stand-in servers (`sh` scripts for stdio, scripted hyper servers on
//! loopback for HTTP), one module per area, in one test binary.
//!
//! The shared test helpers of the workspace (`mcp-tests`) depend on this crate, so this binary keeps
//! the few it needs itself: [`scripted`], the HTTP server, and [`support`].

mod http;
mod http_answer_on_any_stream;
mod http_direct;
mod http_legacy_sse;
mod http_malformed_request;
#[cfg(target_os = "linux")]
mod http_stock_server;
mod http_transport;
mod scripted;
mod stdio;
mod stdio_direct;
mod stdio_lifetime;
mod support;
