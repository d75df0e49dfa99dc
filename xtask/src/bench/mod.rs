//! `cargo xtask bench` and `cargo xtask bench-smoke`: our client side by side with raw rmcp, a
//! hand-written floor and the official Python SDK, against the same fixture echo server, and over
//! HTTP also against the stock servers people run (issue 15); over legacy SSE, with the official
//! TypeScript SDK too, against its SSE server (issue 18).
//!
//! Absolute numbers on a shared 2-core machine are noise; ratios measured in the same run are not.
//! So every case runs each subject in turn, repetition after repetition (A B C A B C ...), each run a
//! fresh process (and, over HTTP, a fresh server), and the table shows medians and the ratios
//! ours/rmcp, ours/floor, ours/python and ours/typescript. The subjects are the binaries of the
//! separate `bench/` workspace (built into `target/bench-build`, so raw rmcp's reqwest never enters
//! the product crates' graph), `mcpcord bench`, `bench/python/bench_client.py` in the venv
//! `cargo xtask py-deps` makes (`target/python/venv`), and `bench/node/bench_client.cjs`. Each
//! prints one JSON line; see `bench/src/lib.rs` for the protocol.
//!
//! Output: the table on stdout and in `target/bench/report.md` (with the machine line and the
//! issue's targets, each "met" or "not met"), and `target/bench/scaling.svg` (sessions against
//! calls/s). The smoke version runs every subject on every workload once, at tiny sizes, so CI
//! knows the benchmark still works; its numbers mean nothing, with one exception: it fails if any
//! single sequential call of ours or `mcpcord` against the stock rmcp server (stateful, and
//! 2026-07-28: [`targets::GUARDED`]) takes [`SLOW_CALL`](targets::SLOW_CALL) or more, the stall
//! Nagle's algorithm on the server and a delayed ACK on the client make together.
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
//! # The 2026-07-28 rows
//!
//! Protocol 2026-07-28 has no handshake and no session (issue 19). Its rows run against rmcp's
//! server set up as rmcp's README sets up a modern-only one (`bench-rmcp-stock-server --modern`:
//! stateless, that revision only, per-request metadata required), so no client can fall back to
//! `initialize` unnoticed. Raw rmcp is told `--protocol modern` (its
//! `ClientLifecycleMode::Discover`); ours and `mcpcord` run on their defaults, which find the
//! era out. The pinned Python SDK's bench client opens with `initialize`, so it sits these out.
//!
//! # The legacy SSE rows
//!
//! The legacy HTTP+SSE transport of protocol 2024-11-05 (issue 18) runs the same two workloads,
//! at the stock servers' sizes, against the TypeScript SDK's `SSEServerTransport` as the interop
//! tests run it (`tests/node/legacy_sse_server.cjs`, untouched). Its subjects are the clients that
//! speak it: ours (`bench-ours --transport sse`), `mcpcord bench` (given the URL, it finds the
//! transport itself: one refused POST per connect, before the timed calls), the Python SDK
//! (`sse_client`) and the TypeScript SDK (`SSEClientTransport`, `bench/node/bench_client.cjs`);
//! raw rmcp 3.11 has no SSE client. These rows add the column ours/typescript.
//!
//! # Code map, in the order a run goes
//!
//! - [`setup`]: where everything is, and building the subjects (cargo; the Python venv is
//!   [`crate::python`]'s).
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
use crate::npm::{self, EXPRESS, TYPESCRIPT_SDK, ZOD};
use crate::python;

use self::setup::Paths;
use self::workloads::{FULL, SMOKE, Sizes};

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
    python::install()?;
    let cases = workloads::cases(sizes);
    if cases.iter().any(|case| {
        case.server.needs_node() || case.subjects.iter().any(|subject| subject.needs_node())
    }) {
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
