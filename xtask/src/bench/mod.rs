//! `cargo xtask bench` and `cargo xtask bench-smoke`: our client side by side with raw rmcp, a
//! hand-written floor and the official Python SDK, against the same fixture echo server, and over
//! HTTP also against the stock servers people run (issue 15).
//!
//! Absolute numbers on a shared 2-core machine are noise; ratios measured in the same run are not.
//! So every case runs each subject in turn, repetition after repetition (A B C A B C ...), each run a
//! fresh process (and, over HTTP, a fresh server), and the table shows medians and the ratios
//! ours/rmcp, ours/floor and ours/python. The subjects are the binaries of the separate `bench/`
//! workspace (built into `target/bench-build`, so raw rmcp's reqwest never enters the product
//! crates' graph), `mcpcord bench`, and `bench/python/bench_client.py` in a venv under
//! `target/bench/venv`. Each prints one JSON line; see `bench/src/lib.rs` for the protocol.
//!
//! Output: the table on stdout and in `target/bench/report.md` (with the machine line and the
//! issue's targets, each "met" or "not met"), and `target/bench/scaling.svg` (sessions against
//! calls/s). The smoke version runs every subject on every workload once, at tiny sizes, so CI
//! knows the benchmark still works; its numbers mean nothing, with one exception: it fails if any
//! single sequential call of ours or `mcpcord` against the stock rmcp server takes
//! [`SLOW_CALL`](targets::SLOW_CALL) or more, the stall Nagle's algorithm on the server and a
//! delayed ACK on the client make together.
//!
//! # The stock servers
//!
//! Our fixture sets `TCP_NODELAY` on every connection (its rows say "tuned: NODELAY"), which hides
//! how a client copes with a server that does not. So the HTTP sequential and sessions workloads
//! also run against three servers exactly as their SDKs ship them, each stateful and stateless,
//! each offering the fixture's `echo` tool so every subject runs unchanged:
//! - rmcp's `StreamableHttpService` under `axum::serve` (`bench-rmcp-stock-server`, built with the
//!   `bench/` workspace);
//! - the Python SDK's `MCPServer` under uvicorn (`bench/python/stock_server.py`, in the venv);
//! - the TypeScript SDK's `McpServer` on its express app (`bench/node/stock_server.cjs`, with the
//!   pinned npm packages in `target/bench/node/`).
//!
//! # Code map, in the order a run goes
//!
//! - [`setup`]: where everything is, and building the subjects (cargo, the Python venv).
//! - [`workloads`]: what is measured. The sizes ([`workloads::FULL`], [`workloads::SMOKE`]), the
//!   cases, and each row's typed identity ([`workloads::RowId`]), which its label and metric are
//!   made from; [`subjects`]: the clients under test, the transports and the servers.
//! - [`measure`]: running each subject and reading the number from its JSON line; [`server`]: the
//!   HTTP server each run gets.
//! - [`stats`]: medians and ratios, one [`stats::Row`] per line of the table.
//! - [`targets`]: the targets, attached to row identities, never to label text.
//! - [`report`]: the table, `report.md` and `scaling.svg`.

mod measure;
mod report;
mod server;
mod setup;
mod stats;
mod subjects;
mod targets;
mod workloads;

#[cfg(test)]
mod tests;

use std::time::Instant;

use crate::command::TaskError;
use crate::npm::{self, NpmPackage};

use self::setup::Paths;
use self::subjects::{Server, Stock};
use self::workloads::{FULL, SMOKE, Sizes};

/// The official Python SDK, at the one version the numbers are for.
const PYTHON_MCP_VERSION: &str = "2.3.0";

/// The official TypeScript SDK, whose stock server is measured against, at one version.
const TYPESCRIPT_SDK: NpmPackage = NpmPackage {
    name: "@modelcontextprotocol/sdk",
    version: "1.32.2",
};

/// The web framework the TypeScript SDK's examples serve with (`createMcpExpressApp`).
const EXPRESS: NpmPackage = NpmPackage {
    name: "express",
    version: "5.3.0",
};

/// The schema library the TypeScript SDK takes tool arguments in (a peer dependency).
const ZOD: NpmPackage = NpmPackage {
    name: "zod",
    version: "4.6.7",
};

/// The full benchmark.
pub(crate) fn run() -> Result<(), TaskError> {
    bench(&FULL)
}

/// The one-minute version CI runs (after the builds).
pub(crate) fn smoke() -> Result<(), TaskError> {
    bench(&SMOKE)
}

fn bench(sizes: &Sizes) -> Result<(), TaskError> {
    let started = Instant::now();
    let paths = Paths::new(sizes.release);
    setup::build(&paths, sizes.release)?;
    setup::python_venv(&paths)?;
    let cases = workloads::cases(sizes);
    if cases
        .iter()
        .any(|case| matches!(case.server, Server::Stock(stock) if stock.sdk == Stock::Typescript))
    {
        npm::install(&paths.node_prefix, &[TYPESCRIPT_SDK, EXPRESS, ZOD])?;
    }
    let mut results = Vec::with_capacity(cases.len());
    for case in &cases {
        results.push(measure::measure(&paths, case)?);
    }
    let machine = report::machine_line();
    let rows = stats::rows(&cases, &results);
    let table = report::table(&rows);
    let targets = targets::targets(&rows);
    println!("\n{machine}\n\n{table}\n{targets}");
    let took = started.elapsed();
    report::write_file(
        &paths.out.join("report.md"),
        &report::report(sizes, &machine, &table, &targets, took),
    )?;
    report::write_file(
        &paths.out.join("scaling.svg"),
        &report::scaling_svg(&cases, &results),
    )?;
    println!(
        "bench ({}): {} cases in {:.0}s; wrote {} and {}",
        sizes.name,
        cases.len(),
        took.as_secs_f64(),
        paths.out.join("report.md").display(),
        paths.out.join("scaling.svg").display()
    );
    if sizes.fail_on_slow_calls {
        targets::no_slow_calls(&cases, &results)?;
    }
    Ok(())
}
