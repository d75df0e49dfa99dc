//! `mcp-noncompliant-server`: an MCP server that breaks one chosen rule, the target of compliance
//! checkers such as `mcpcord check`.
//!
//! Serves stdio by default (exits when stdin closes); `--http ADDR` serves streamable HTTP at `/mcp`
//! on a loopback address and prints `listening on http://ADDR/mcp` as its first stdout line once
//! bound. `--violate RULE` breaks exactly one rule; see `mcp_tests::noncompliant::Violation`.
//!
//! Exit status: 0 when stdin closes (stdio), 2 for bad usage or a failure to serve.

use std::{io::Write as _, net::SocketAddr, process::ExitCode};

use clap::Parser;
use mcp_tests::noncompliant::{Server, Violation, serve_http, serve_stdio};

/// An MCP server that breaks one chosen rule (compliant without --violate).
#[derive(Debug, Parser)]
#[command(name = "mcp-noncompliant-server", version)]
struct Args {
    /// Serve streamable HTTP at /mcp on this loopback address instead of stdio (port 0 picks a
    /// free port).
    #[arg(long, value_name = "ADDR")]
    http: Option<SocketAddr>,
    /// Break this one rule.
    #[arg(long, value_enum, value_name = "RULE")]
    violate: Option<Violation>,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let server = Server::new(args.violate);
    let result = match args.http {
        None => serve_stdio(&server),
        Some(addr) => match tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
        {
            Ok(runtime) => runtime.block_on(serve_http(addr, server, announce(args.violate))),
            Err(error) => Err(error),
        },
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("mcp-noncompliant-server: {error}");
            ExitCode::from(2)
        }
    }
}

/// Prints the listening line first, then (under `stdout-logs`) the startup log line.
fn announce(violation: Option<Violation>) -> impl FnOnce(SocketAddr) {
    move |addr| {
        let mut stdout = std::io::stdout().lock();
        let _ = writeln!(stdout, "listening on http://{addr}/mcp");
        if let Some(line) = Server::new(violation).startup_stray() {
            let _ = writeln!(stdout, "{line}");
        }
        let _ = stdout.flush();
    }
}
