//! `bench-rmcp-stock-server`: an MCP server as rmcp 3.11's users deploy one, for `cargo xtask
//! bench` to measure the clients against: rmcp's own `StreamableHttpService` with its default
//! configuration, served by `axum::serve` on a plain `tokio::net::TcpListener`.
//!
//! ```text
//! bench-rmcp-stock-server [--stateless | --modern]
//! ```
//!
//! It binds a free port on 127.0.0.1, prints `listening on http://127.0.0.1:PORT/mcp` on stdout, and
//! serves one tool, `echo` (`{"text": string}`, answered with the text), until it is killed.
//! `--stateless` turns rmcp's session mode off (`with_legacy_session_mode(false)`): every request is
//! served by a fresh handler and no `Mcp-Session-Id` is issued. Either way the server speaks every
//! revision rmcp knows; rmcp serves a 2026-07-28 request statelessly in both modes.
//!
//! `--modern` is a stateless server of protocol 2026-07-28 only, set up as rmcp's README
//! ("Stateless Streamable HTTP") sets up a modern-only server: sessions off, the per-request
//! protocol metadata required (`with_stateless_protocol_metadata_required(true)`), and only
//! 2026-07-28 advertised (`supported_protocol_versions`). A client can then not fall back to
//! `initialize` unnoticed: what is measured against it is the modern era.
//!
//! Nothing is tuned, on purpose: in particular no socket gets `TCP_NODELAY`, so a response that
//! leaves in several small writes meets Nagle's algorithm, as it does on the servers people run.
//! Our fixture server sets `TCP_NODELAY`, which hides what a client does about that; this one
//! does not.

use std::borrow::Cow;
use std::process::ExitCode;
use std::sync::Arc;

use mcp_bench::BenchError;
use rmcp::handler::server::router::tool::ToolRouter;
use rmcp::handler::server::wrapper::Parameters;
use rmcp::model::{Implementation, ProtocolVersion, ServerCapabilities, ServerConfig};
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
use rmcp::{ServerHandler, schemars, tool, tool_handler, tool_router};
use serde::Deserialize;

/// Where rmcp's service is mounted, the path the fixture serves too.
const MCP_PATH: &str = "/mcp";

/// Arguments of the `echo` tool: the same as the fixture's, so every subject runs unchanged.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
struct EchoArgs {
    /// The text to send back.
    text: String,
}

/// How the server is run: rmcp's default (sessions for the legacy revisions), sessions off, or
/// sessions off and protocol 2026-07-28 only.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Stateful,
    Stateless,
    Modern,
}

/// The server: tools only, and only `echo`.
#[derive(Debug, Clone)]
struct StockServer {
    tool_router: ToolRouter<Self>,
    /// Whether only 2026-07-28 is advertised.
    modern_only: bool,
}

#[tool_router]
impl StockServer {
    fn new(modern_only: bool) -> Self {
        Self {
            tool_router: Self::tool_router(),
            modern_only,
        }
    }

    /// Sends the text back.
    #[tool(description = "Return the given text unchanged")]
    fn echo(&self, Parameters(EchoArgs { text }): Parameters<EchoArgs>) -> String {
        text
    }
}

#[tool_handler(router = self.tool_router)]
impl ServerHandler for StockServer {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build()).with_server_info(
            Implementation::new("bench-rmcp-stock-server", env!("CARGO_PKG_VERSION")),
        )
    }

    fn supported_protocol_versions(&self) -> Cow<'static, [ProtocolVersion]> {
        if self.modern_only {
            Cow::Borrowed(&[ProtocolVersion::V_2026_07_28])
        } else {
            Cow::Borrowed(ProtocolVersion::KNOWN_VERSIONS)
        }
    }
}

/// The mode the arguments ask for (at most one of `--stateless` and `--modern`); anything else
/// is refused.
fn mode_from_args() -> Result<Mode, BenchError> {
    let mut mode = Mode::Stateful;
    for arg in std::env::args().skip(1) {
        mode = match (mode, arg.as_str()) {
            (Mode::Stateful, "--stateless") => Mode::Stateless,
            (Mode::Stateful, "--modern") => Mode::Modern,
            (_, other) => {
                return Err(BenchError::new(format!(
                    "unexpected argument `{other}` (usage: bench-rmcp-stock-server \
                     [--stateless | --modern])"
                )));
            }
        };
    }
    Ok(mode)
}

async fn serve(mode: Mode) -> Result<(), BenchError> {
    let config = match mode {
        Mode::Stateful => StreamableHttpServerConfig::default(),
        Mode::Stateless => StreamableHttpServerConfig::default().with_legacy_session_mode(false),
        Mode::Modern => StreamableHttpServerConfig::default()
            .with_legacy_session_mode(false)
            .with_stateless_protocol_metadata_required(true),
    };
    let modern_only = mode == Mode::Modern;
    let service = StreamableHttpService::new(
        move || Ok(StockServer::new(modern_only)),
        Arc::new(LocalSessionManager::default()),
        config,
    );
    let router = axum::Router::new().nest_service(MCP_PATH, service);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(|error| BenchError::new(format!("cannot bind 127.0.0.1:0: {error}")))?;
    let addr = listener
        .local_addr()
        .map_err(|error| BenchError::new(format!("no local address: {error}")))?;
    // Already listening: a client that connects as soon as it reads this line waits in the
    // backlog until `axum::serve` accepts it.
    println!("listening on http://{addr}{MCP_PATH}");
    axum::serve(listener, router)
        .await
        .map_err(|error| BenchError::new(format!("serving failed: {error}")))
}

#[tokio::main]
async fn main() -> ExitCode {
    let run = async { serve(mode_from_args()?).await };
    mcp_bench::exit_on_error(run.await)
}
