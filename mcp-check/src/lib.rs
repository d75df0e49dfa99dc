//! Compliance checks of an MCP server: `mcpcord check`'s engine.
//!
//! [`run`] connects to a [`Target`] over stdio, streamable HTTP or HTTP+SSE, raw on the wire (so a
//! check sees exactly what the server wrote: a log line on stdout, an envelope without
//! `"jsonrpc": "2.0"`), runs every check that applies, and returns a [`Report`]: one
//! [`CheckResult`] per check, with its stable id, its requirement level, the specification section
//! it enforces, and on failure what was sent, what came back and why that is wrong.
//!
//! - Check ids are the official conformance suite's ids where the suite has the check, and each
//!   such check names the suite's scenario, so verdicts compare scenario by scenario
//!   (`cargo xtask check-agreement`). Checks beyond the suite (JSON-RPC envelopes, capability
//!   respect, bad input, stdio rules, latency) have ids of their own.
//! - A check that needs a capability the server does not declare, or one of the suite's fixture
//!   tools (`test_*`), is skipped and says why. Only those fixture tools are ever called: another
//!   tool may act on the world; error handling is checked with a tool name no server has.
//! - The client declares no capabilities, so any `sampling`, `elicitation` or `roots` request
//!   from the server is a finding (`client-capability-respect`).
//! - Dropping a run mid-way kills a stdio server's process group and closes every connection.
//!
//! ```no_run
//! use mcp_check::{Options, Target};
//! use mcp_transport::StdioSpec;
//!
//! # async fn demo() -> Result<(), mcp_check::RunError> {
//! let target = Target::Stdio(StdioSpec::new("node").args(["server.js"]));
//! let report = mcp_check::run("my-server", &target, &Options::default()).await?;
//! for check in report.checks.iter().filter(|check| check.is_blocking()) {
//!     eprintln!("{}: {}", check.id, check.detail.as_deref().unwrap_or(check.title));
//! }
//! std::process::exit(if report.passed() { 0 } else { 1 });
//! # }
//! ```

mod checks;
mod report;
mod session;
mod wire;

use std::time::Instant;

use mcp_transport::HttpClient;

pub use checks::{Options, SpecChoice, catalogue};
pub use report::{Check, CheckResult, Level, Report, Status, Tally};
pub use session::{Era, LEGACY_VERSION, MODERN_VERSION, OpenError};
pub use wire::{Target, WireError};

use session::Session;

/// Why a run could not start (a server that starts but breaks rules is a [`Report`], not this).
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The HTTP client could not be built.
    #[error("building the HTTP client: {0}")]
    Client(#[from] mcp_transport::HttpClientBuildError),
    /// No session could be opened: the server could not be reached, did not answer in time, or
    /// wants credentials.
    #[error(transparent)]
    Open(#[from] OpenError),
}

impl RunError {
    /// Whether the server could not be reached or did not answer in time.
    pub fn is_unreachable(&self) -> bool {
        matches!(self, RunError::Open(OpenError::Wire { .. }))
    }

    /// Whether the server wants credentials it was not given (HTTP 401 or 403 to the handshake):
    /// a login is missing, not a rule broken.
    pub fn is_auth_required(&self) -> bool {
        matches!(self, RunError::Open(OpenError::AuthRequired { .. }))
    }
}

/// Checks the server at `target` (called `name` in the report) and reports every check.
///
/// A server that answers the handshake with an error is a report whose handshake check failed
/// ([`Report::handshake_refused`]), every other check skipped.
///
/// # Errors
/// [`RunError`] when the server cannot be reached, does not answer the handshake in time, or wants
/// credentials ([`RunError::is_auth_required`]).
pub async fn run(name: &str, target: &Target, options: &Options) -> Result<Report, RunError> {
    let started = Instant::now();
    let mut http_options = options.http.clone();
    http_options.request_timeout = options.timeout;
    let http = HttpClient::new(http_options)?;
    let session = match open(target, &http, options).await {
        Ok(session) => session,
        // Reached, and refused: a finding about the server, not a failure to check it.
        Err(OpenError::Refused {
            era,
            what,
            sent,
            answer,
        }) => {
            return Ok(Report {
                server: name.to_owned(),
                transport: target.transport_name(),
                spec: era.version().to_owned(),
                server_info: None,
                checks: checks::refused_handshake(options, era, what, sent, answer),
                elapsed: started.elapsed(),
                handshake_refused: true,
            });
        }
        Err(error) => return Err(error.into()),
    };
    let spec = session.version.clone();
    let server_info = match session.era {
        Era::Legacy => session.handshake.get("serverInfo").cloned(),
        Era::Modern => session
            .handshake
            .pointer("/_meta/io.modelcontextprotocol~1serverInfo")
            .cloned(),
    };
    let mut ctx = checks::Ctx::new(session, options, target, &http);
    checks::run_all(&mut ctx).await;
    // A check leaves no session behind on the server.
    if let Some(wire) = ctx.session.wire.http() {
        wire.end_session(options.timeout).await;
    }
    Ok(Report {
        server: name.to_owned(),
        transport: target.transport_name(),
        spec,
        server_info,
        checks: ctx.results,
        elapsed: started.elapsed(),
        handshake_refused: false,
    })
}

/// Opens the session `options.spec` asks for. `Auto` tries `server/discover` first (briefly: a
/// server of the old era may not answer it at all) and falls back to `initialize`.
async fn open(target: &Target, http: &HttpClient, options: &Options) -> Result<Session, OpenError> {
    // One for the whole run: every connection's messages are judged together.
    let client_side = wire::ClientSide::new(session::responder());
    let timeout = options.timeout;
    match options.spec {
        SpecChoice::Legacy => Session::open(target, http, Era::Legacy, timeout, &client_side).await,
        SpecChoice::Modern => Session::open(target, http, Era::Modern, timeout, &client_side).await,
        SpecChoice::Auto => {
            let probe = timeout.min(std::time::Duration::from_secs(3));
            Session::open_auto(target, http, probe, timeout, &client_side).await
        }
    }
}
