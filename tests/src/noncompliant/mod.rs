//! A deliberately non-compliant MCP server, the target that proves `mcpcord check` catches what it
//! claims to catch.
//!
//! It is a hand-written JSON-RPC 2.0 server, not rmcp: rmcp would never break the rules this server
//! must be able to break. By default it is compliant (protocol 2025-11-25, also 2025-06-18 and
//! 2025-03-26) and passes the official conformance suite's basic server scenarios: it implements the
//! suite's own test tools, resources and prompts (`test_simple_text`, `test://static-text`,
//! `test_prompt_with_arguments`, ...; see `catalog.rs`). [`Violation`] breaks exactly one rule.
//!
//! One core function, [`Server::answer`], maps a request (method, params) to a result or a JSON-RPC
//! error; [`Server::reply`] wraps it in the envelope and adds what a violation sends around it. Two
//! transports serve it:
//!
//! - [`serve_stdio`]: newline-delimited JSON-RPC on stdin and stdout, logs on stderr, returns when
//!   stdin closes;
//! - [`serve_http`]: streamable HTTP at `/mcp` on a loopback address only, with sessions
//!   (`Mcp-Session-Id`) and Host/Origin validation against DNS rebinding.
//!
//! ```no_run
//! use mcp_tests::noncompliant::{Server, Violation, serve_stdio};
//!
//! // Answers every `initialize` with a protocol version the client never asked for.
//! let server = Server::new(Some(Violation::ProtocolVersion));
//! serve_stdio(&server)?;
//! # Ok::<(), std::io::Error>(())
//! ```

mod catalog;
mod http;
mod rpc;
mod stdio;

pub use http::serve_http;
pub use rpc::{Incoming, LATEST_VERSION, Reply, RpcError, SUPPORTED_VERSIONS, Server, parse};
pub use stdio::serve_stdio;

/// The largest message either transport accepts (a stdio line or an HTTP request body).
pub const MAX_MESSAGE: usize = 1024 * 1024;

/// The one rule `--violate RULE` breaks; everything else stays compliant.
///
/// Each variant names the rule it breaks and where the 2025-11-25 specification states it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Violation {
    /// Answers every `initialize` with protocolVersion `DRAFT-2026-v1`, whatever was requested.
    ///
    /// Breaks "if the server supports the requested protocol version, it MUST respond with the same
    /// version" (<https://modelcontextprotocol.io/specification/2025-11-25/basic/lifecycle#version-negotiation>).
    /// An unpublished version rather than an older published one (say 2025-03-26), because the
    /// conformance suite's client accepts any version it knows and only fails one it does not.
    ProtocolVersion,
    /// A failing tool call (`test_error_handling`, an unknown tool) returns a normal result whose
    /// text says it failed, without `isError: true` and without a JSON-RPC error.
    ///
    /// Breaks the tool error reporting rules
    /// (<https://modelcontextprotocol.io/specification/2025-11-25/server/tools#error-handling>).
    MissingIsError,
    /// `tools/list` never ends: page 2 returns the same `nextCursor` again, and an invalid cursor is
    /// accepted silently (it too yields page 2) instead of a -32602 error.
    ///
    /// Breaks the pagination model and its error handling
    /// (<https://modelcontextprotocol.io/specification/2025-11-25/server/utilities/pagination>).
    BadPagination,
    /// Over HTTP, no Host or Origin validation at all, so a DNS-rebinding page can drive the server.
    ///
    /// Breaks "servers MUST validate the Origin header on all incoming connections"
    /// (<https://modelcontextprotocol.io/specification/2025-11-25/basic/transports#security-warning>).
    NoDnsRebinding,
    /// Writes the plain-text line `[info] server started` to stdout before its first answer, and
    /// `[info] tools/call done` after each `tools/call` answer.
    ///
    /// Breaks "the server MUST NOT write anything to its stdout that is not a valid MCP message"
    /// (<https://modelcontextprotocol.io/specification/2025-11-25/basic/transports#stdio>). Over HTTP
    /// the lines go to the process's stdout, where no client can see them.
    StdoutLogs,
    /// Before answering any `tools/call` it sends the client a `sampling/createMessage` request
    /// (over HTTP as the first event of a `text/event-stream` answer) without waiting for its answer,
    /// whether or not the client declared the `sampling` capability.
    ///
    /// Breaks "both parties MUST only use capabilities that were successfully negotiated"
    /// (<https://modelcontextprotocol.io/specification/2025-11-25/basic/lifecycle#operation>) when
    /// the client declared no sampling
    /// (<https://modelcontextprotocol.io/specification/2025-11-25/client/sampling#capabilities>).
    CapabilityNotRespected,
    /// Over stdio, keeps running (sleeps forever) after stdin closes; over HTTP it changes nothing.
    ///
    /// Breaks the stdio shutdown sequence, in which closing the server's input is how the client
    /// asks it to exit (<https://modelcontextprotocol.io/specification/2025-11-25/basic/lifecycle#stdio>).
    NoExitOnStdinClose,
    /// Responses (results and errors) lack the `"jsonrpc": "2.0"` member.
    ///
    /// Breaks "responses MUST include ... `jsonrpc: \"2.0\"`", every message being JSON-RPC 2.0
    /// (<https://modelcontextprotocol.io/specification/2025-11-25/basic#responses>).
    BadEnvelope,
    /// Over stdio, refuses to start (exit status 2) when its stderr leads to the null device, as a
    /// server that insists on its logs being read would; over HTTP it changes nothing.
    ///
    /// Breaks the stdio transport's promise that "the client MAY capture, forward, or ignore" the
    /// server's stderr (<https://modelcontextprotocol.io/specification/2025-11-25/basic/transports#stdio>).
    RequiresStderr,
    /// Exits (status 1, as a crash would) on the first message that is not valid JSON, over stdio
    /// and over HTTP alike, instead of answering it with a parse error.
    ///
    /// Breaks JSON-RPC 2.0's error handling, by which malformed input is answered with -32700
    /// (<https://www.jsonrpc.org/specification#error_object>), and every later request with it.
    DiesOnBadInput,
}
