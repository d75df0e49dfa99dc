//! `bench-rmcp-raw`: a minimal client on rmcp 3.11 and its own transports (`TokioChildProcess`, and
//! `StreamableHttpClientTransport` on reqwest), the baseline our client is compared with.
//!
//! By default it opens a session as `rmcp::serve_client` does, with the `initialize` handshake;
//! `--protocol modern` opens it as rmcp's README shows for protocol 2026-07-28:
//! `serve_client_with_lifecycle` in `ClientLifecycleMode::Discover`, which starts with
//! `server/discover` and puts the protocol metadata into every request's `_meta`.

use std::process::ExitCode;
use std::sync::Arc;

use mcp_bench::driver::{self, Subject};
use mcp_bench::{Args, BenchError, Protocol, Report, Target, echo_arguments};
use rmcp::ClientLifecycleMode;
use rmcp::model::{CallToolRequestParams, ClientConfig, ProtocolVersion};
use rmcp::service::{RoleClient, RunningService};
use rmcp::transport::{ConfigureCommandExt, StreamableHttpClientTransport, TokioChildProcess};

/// rmcp's defaults, with the `initialize` handshake our manager also uses.
fn config() -> ClientConfig {
    ClientConfig::default().with_protocol_version(ProtocolVersion::LATEST_WITH_INITIALIZE)
}

/// How a session opens: `initialize` (what `rmcp::serve_client` does) unless told the modern era.
fn lifecycle(protocol: Option<Protocol>) -> ClientLifecycleMode {
    match protocol {
        Some(Protocol::Modern) => ClientLifecycleMode::Discover {
            preferred_versions: vec![ProtocolVersion::V_2026_07_28],
        },
        Some(Protocol::Legacy) | None => ClientLifecycleMode::Initialize,
    }
}

struct RawRmcp {
    target: Target,
    protocol: Option<Protocol>,
}

type Session = RunningService<RoleClient, ClientConfig>;

impl RawRmcp {
    async fn handshake(&self) -> Result<Session, BenchError> {
        let failed = |error: rmcp::service::ClientInitializeError| {
            BenchError::new(format!("opening the session failed: {error}"))
        };
        match &self.target {
            Target::Stdio { command, args } => {
                let command = tokio::process::Command::new(command).configure(|command| {
                    command.args(args);
                });
                let transport = TokioChildProcess::new(command)
                    .map_err(|error| BenchError::new(format!("spawn failed: {error}")))?;
                rmcp::serve_client_with_lifecycle(config(), transport, lifecycle(self.protocol))
                    .await
                    .map_err(failed)
            }
            Target::Http { url } => {
                let transport = StreamableHttpClientTransport::from_uri(url.as_str());
                rmcp::serve_client_with_lifecycle(config(), transport, lifecycle(self.protocol))
                    .await
                    .map_err(failed)
            }
            Target::Sse { .. } => Err(BenchError::new(
                "rmcp 3.11 has no client for the legacy HTTP+SSE transport",
            )),
        }
    }
}

impl Subject for RawRmcp {
    type Session = Session;

    async fn connect(&self) -> Result<Session, BenchError> {
        let session = self.handshake().await?;
        let failed =
            |error: rmcp::ServiceError| BenchError::new(format!("discovery failed: {error}"));
        // The same discovery our manager does: everything the server advertises, every page. The
        // stock servers advertise tools only, and some answer a list of anything else with
        // "method not found".
        let capabilities = session
            .peer_info()
            .map(|info| info.capabilities.clone())
            .unwrap_or_default();
        if capabilities.tools.is_some() {
            session.list_all_tools().await.map_err(failed)?;
        }
        if capabilities.resources.is_some() {
            session.list_all_resources().await.map_err(failed)?;
            session
                .list_all_resource_templates()
                .await
                .map_err(failed)?;
        }
        if capabilities.prompts.is_some() {
            session.list_all_prompts().await.map_err(failed)?;
        }
        Ok(session)
    }

    async fn echo(&self, session: &Session) -> Result<(), BenchError> {
        let result = session
            .call_tool(CallToolRequestParams::new("echo").with_arguments(echo_arguments()))
            .await
            .map_err(|error| BenchError::new(format!("echo failed: {error}")))?;
        if result.is_error == Some(true) || result.content.is_empty() {
            return Err(BenchError::new("echo answered with an error or no content"));
        }
        Ok(())
    }

    async fn close(&self, session: Session) {
        let _ = session.cancel().await;
    }
}

async fn run(args: Args) -> Result<(), BenchError> {
    let subject = Arc::new(RawRmcp {
        target: args.target.clone(),
        protocol: args.protocol,
    });
    let report = Report::new("rmcp-raw", &args);
    driver::run(subject, &args, report).await?.print();
    Ok(())
}

fn main() -> ExitCode {
    mcp_bench::exit_on_error(
        mcp_bench::pin_to_one_cpu_if_asked()
            .and_then(|()| Args::from_env())
            .and_then(|args| mcp_bench::runtime()?.block_on(run(args))),
    )
}
