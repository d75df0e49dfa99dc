//! `mcp-fixture-server`: a fault-injecting MCP server for tests.
//!
//! `--stdio` serves MCP on stdin and stdout; `--http ADDR` serves streamable HTTP at `/mcp` on a
//! loopback address, prints `listening on http://ADDR/mcp` once bound, and serves until killed or until
//! its stdin closes. `--fault F` (repeatable) injects faults; see `mcp_tests::fixture::Fault`.
//!
//! Exit status: 0 when stdin closes, 2 for bad usage or a failure to serve, and whatever a fault or
//! the `crash` tool chooses (1 for `exit-during-initialize`, 3 for `crash`).

use std::{io::Write as _, net::SocketAddr, process::ExitCode};

use clap::{ArgGroup, Parser};
use mcp_tests::fixture::{
    Era, Fault, FixtureError, HttpFaults, HttpFixture, StdioFaults, serve_stdio, set_era,
};
use tokio::io::AsyncReadExt as _;

/// A fault-injecting MCP server for tests.
#[derive(Debug, Parser)]
#[command(name = "mcp-fixture-server", version)]
#[command(group(ArgGroup::new("transport").required(true).args(["stdio", "http"])))]
struct Args {
    /// Serve MCP over standard input and output.
    #[arg(long)]
    stdio: bool,
    /// Serve streamable HTTP at /mcp on this loopback address (port 0 picks a free port).
    #[arg(long, value_name = "ADDR")]
    http: Option<SocketAddr>,
    // Help text rather than a doc comment: rustdoc would read `[:N]` as a link.
    #[arg(
        long = "fault",
        value_name = "FAULT",
        help = "Inject a fault; repeat to combine. stdio: exit-during-initialize, \
                hang-before-initialize, garbage-stdout, oversized-line, stderr-flood, \
                spawn-grandchild. HTTP: http-500[:N], http-429[:N], http-401, \
                expire-session-after:N, slow-drip, reset[:N], no-get-stream"
    )]
    faults: Vec<Fault>,
    /// Which protocol eras to speak: both (the default), modern (2026-07-28 only) or legacy
    /// (the revisions with `initialize` only).
    #[arg(long, value_enum, default_value_t = Era::Both)]
    era: Era,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            return fail(&FixtureError::Io {
                context: "starting the async runtime",
                source: error,
            });
        }
    };
    let result = runtime.block_on(run(args));
    // A read pending on blocking stdin cannot be cancelled; it must not hold up the exit.
    runtime.shutdown_background();
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => fail(&error),
    }
}

async fn run(args: Args) -> Result<(), FixtureError> {
    set_era(args.era);
    let Some(addr) = args.http else {
        return serve_stdio(StdioFaults::from_faults(&args.faults)?).await;
    };
    let fixture = HttpFixture::bind(addr, HttpFaults::from_faults(&args.faults)?).await?;
    announce(&fixture.url()).map_err(|source| FixtureError::Io {
        context: "announcing the address on stdout",
        source,
    })?;
    tokio::select! {
        result = fixture.serve() => result,
        () = stdin_closed() => Ok(()),
    }
}

/// Prints the one `listening on` line that tests wait for, and flushes it.
fn announce(url: &str) -> std::io::Result<()> {
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "listening on {url}")?;
    stdout.flush()
}

/// Resolves when stdin reaches end of input or fails: the parent is gone or wants the fixture gone.
async fn stdin_closed() {
    let mut stdin = tokio::io::stdin();
    let mut buffer = [0; 1024];
    while let Ok(1..) = stdin.read(&mut buffer).await {}
}

fn fail(error: &FixtureError) -> ExitCode {
    // Nothing better to do if stderr is gone too.
    let _ = writeln!(std::io::stderr(), "mcp-fixture-server: {error}");
    ExitCode::from(2)
}
