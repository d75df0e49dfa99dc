//! Cross-crate integration tests and the fixture servers they run against.
//!
//! The tests here prove that every fault gives a typed error, the right retry decision and no leaked
//! process, task, socket or port, across the transport, the manager and OAuth. Tests bind only to
//! `127.0.0.1` or `[::1]`. [`http_fixture::HttpFixture`] runs the fixture over HTTP for them;
//! [`support`] holds what the tests share (bounded waits, `/proc`, scratch directories), and
//! [`census`] counts what this process holds, for the leak tests.
//!
//! This crate is not a product crate: it is the one place that uses rmcp's *server* side, to play the
//! misbehaving servers the product crates must survive.
//!
//! # The fixture server
//!
//! The `mcp-fixture-server` binary (logic in [`fixture`]) is a small MCP server that can be told to
//! misbehave. Integration tests start it with `env!("CARGO_BIN_EXE_mcp-fixture-server")`:
//!
//! ```text
//! mcp-fixture-server --stdio [--fault F]...            MCP over stdin/stdout
//! mcp-fixture-server --http 127.0.0.1:0 [--fault F]... streamable HTTP at /mcp; prints one line
//!                                                     `listening on http://127.0.0.1:PORT/mcp`
//! ```
//!
//! stdio faults: `exit-during-initialize`, `hang-before-initialize`, `garbage-stdout`, `oversized-line`,
//! `stderr-flood`, `spawn-grandchild`. HTTP faults: `http-500[:N]`, `http-429[:N]`, `http-401`,
//! `expire-session-after:N`, `slow-drip`, `reset[:N]`, `no-get-stream`. Faults combine; each is
//! described on [`fixture::Fault`].
//!
//! # The non-compliant server
//!
//! The `mcp-noncompliant-server` binary (logic in [`noncompliant`]) is a hand-written JSON-RPC MCP
//! server, compliant by default, that breaks exactly one chosen rule; `mcpcord check` is validated
//! against it and against the official conformance suite's server scenarios:
//!
//! ```text
//! mcp-noncompliant-server [--violate RULE]                  MCP over stdin/stdout
//! mcp-noncompliant-server --http 127.0.0.1:0 [--violate RULE] streamable HTTP at /mcp (loopback only)
//! ```
//!
//! Rules: `protocol-version`, `missing-is-error`, `bad-pagination`, `no-dns-rebinding`, `stdout-logs`,
//! `capability-not-respected`, `no-exit-on-stdin-close`, `bad-envelope`, `requires-stderr`,
//! `dies-on-bad-input`; each is described on [`noncompliant::Violation`].

pub mod census;
pub mod fixture;
pub mod http_fixture;
pub mod noncompliant;
pub mod support;
