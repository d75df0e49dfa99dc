//! `bench-rmcp-stock-server`: an MCP server as rmcp 3.11's users deploy one, for `cargo xtask
//! bench` to measure the clients against: rmcp's own `StreamableHttpService` with its default
//! configuration, served by `axum::serve` on a plain `tokio::net::TcpListener`.
//!
//! ```text
//! bench-rmcp-stock-server [--stateless]
//! ```
//!
//! It binds a free port on 127.0.0.1, prints `listening on http://127.0.0.1:PORT/mcp` on stdout, and
//! serves one tool, `echo` (`{"text": string}`, answered with the text), until it is killed.
//! `--stateless` turns rmcp's session mode off (`with_legacy_session_mode(false)`): every request is
//! served by a fresh handler and no `Mcp-Session-Id` is issued.
//!
//! Nothing is tuned, on purpose: in particular no socket gets `TCP_NODELAY`, so a response that
//! leaves in several small writes meets Nagle's algorithm, as it does on the servers people run.
//! Our fixture server sets `TCP_NODELAY`, which hides what a client does about that; this one
//! does not.

use std::process::ExitCode;
use std::sync::Arc;

use mcp_bench::BenchError;
use rmcp::handler::server::router::tool::ToolRouter;
use rmcp::handler::server::wrapper::Parameters;
use rmcp::model::{Implementation, ServerCapabilities, ServerConfig};
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

/// The server: tools only, and only `echo`.
#[derive(Debug, Clone)]
struct StockServer {
    tool_router: ToolRouter<Self>,
}

#[tool_router]
impl StockServer {
    fn new() -> Self {
        Self {
            tool_router: Self::tool_router(),
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
}

/// Whether `--stateless` was given; anything else is refused.
fn stateless_from_args() -> Result<bool, BenchError> {
    let mut stateless = false;
    for arg in std::env::args().skip(1) {
        match arg.as_str() {
            "--stateless" => stateless = true,
            other => {
                return Err(BenchError::new(format!(
                    "unexpected argument `{other}` (usage: bench-rmcp-stock-server [--stateless])"
                )));
            }
        }
    }
    Ok(stateless)
}

async fn serve(stateless: bool) -> Result<(), BenchError> {
    let config = StreamableHttpServerConfig::default().with_legacy_session_mode(!stateless);
    let service = StreamableHttpService::new(
        || Ok(StockServer::new()),
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
    let run = async { serve(stateless_from_args()?).await };
    mcp_bench::exit_on_error(run.await)
}
