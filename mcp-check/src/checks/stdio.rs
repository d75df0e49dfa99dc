//! The stdio transport's own rules: nothing but JSON-RPC on stdout, no need for anyone to read
//! stderr, and an exit once stdin closes.

use mcp_transport::StderrHandling;
use serde_json::json;

use super::{Ctx, MUST, Outcome, SHOULD};
use crate::report::Check;
use crate::session::{OpenError, Session};
use crate::wire::{Target, excerpt};

const STDOUT_ONLY_JSONRPC: Check = Check {
    id: "stdio-stdout-only-jsonrpc",
    scenario: None,
    level: MUST,
    section: "https://modelcontextprotocol.io/specification/2025-11-25/basic/transports#stdio",
    title: "the server wrote nothing but JSON-RPC messages to stdout (logs belong on stderr)",
};
const STDERR_NOT_REQUIRED: Check = Check {
    id: "stdio-stderr-not-required",
    scenario: None,
    level: SHOULD,
    section: "https://modelcontextprotocol.io/specification/2025-11-25/basic/transports#stdio",
    title: "the server works with its stderr ignored (sent to the null device), as a client MAY do",
};
const EXIT_ON_STDIN_CLOSE: Check = Check {
    id: "stdio-exit-on-stdin-close",
    scenario: None,
    level: SHOULD,
    section: "https://modelcontextprotocol.io/specification/2025-11-25/basic/lifecycle#stdio",
    title: "the server exits once its stdin is closed, before the client has to signal it",
};

pub(super) const CATALOGUE: &[Check] = &[
    STDOUT_ONLY_JSONRPC,
    STDERR_NOT_REQUIRED,
    EXIT_ON_STDIN_CLOSE,
];

/// Runs last: closing stdin ends the session.
pub(super) async fn run(ctx: &mut Ctx<'_>) {
    let Target::Stdio(spec) = ctx.target else {
        for check in CATALOGUE {
            ctx.skip(check, "stdio only");
        }
        return;
    };
    // A copy of its own: whether the session has ended does not matter.
    if ctx.selected(&STDERR_NOT_REQUIRED) {
        let outcome = with_stderr_ignored(ctx, spec.clone()).await;
        ctx.record(&STDERR_NOT_REQUIRED, outcome);
    }
    let grace = ctx.options.exit_grace;
    let purity = ctx.selected(&STDOUT_ONLY_JSONRPC);
    let exit = ctx.wants(&EXIT_ON_STDIN_CLOSE);
    let Some(wire) = ctx.session.wire.stdio() else {
        for check in [&STDOUT_ONLY_JSONRPC, &EXIT_ON_STDIN_CLOSE] {
            ctx.skip(check, "stdio only");
        }
        return;
    };
    let exited = if exit {
        Some(wire.close_and_wait(grace).await)
    } else {
        None
    };
    let (stray, count) = (wire.stray_lines.clone(), wire.stray_count);
    let stderr = wire.stderr_excerpt();
    if purity {
        let outcome = match stray.first() {
            None => Outcome::pass(),
            Some(first) => Outcome::fail_because(format!(
                "{count} line(s) on stdout were not JSON-RPC; the first: {}",
                excerpt(first)
            )),
        };
        ctx.record(&STDOUT_ONLY_JSONRPC, outcome);
    }
    if let Some(exited) = exited {
        let outcome = match exited {
            Some(status) => Outcome::Pass(Some(format!("exited: {status}"))),
            None => Outcome::fail_because(format!(
                "still running {} ms after its stdin closed{}",
                grace.as_millis(),
                if stderr.is_empty() {
                    String::new()
                } else {
                    format!("; its stderr ends: {stderr}")
                }
            )),
        };
        ctx.record(&EXIT_ON_STDIN_CLOSE, outcome);
    }
}

/// Starts a second copy of the server with its stderr on the null device, shakes hands in this
/// run's era and asks it to show it is alive. The first copy, stderr captured, did both, so a
/// failure here is the server needing its stderr read. Dropping the session kills the copy.
async fn with_stderr_ignored(ctx: &Ctx<'_>, spec: mcp_transport::StdioSpec) -> Outcome {
    let target = Target::Stdio(spec.stderr(StderrHandling::Discard));
    let era = ctx.era();
    let ignored = "with its stderr on the null device";
    let mut session = match Session::open(&target, ctx.http, era, ctx.options.timeout).await {
        Ok(session) => session,
        Err(OpenError::Refused {
            what, sent, answer, ..
        }) => {
            return Outcome::Fail(super::Failure {
                why: format!("{ignored}, the server refused {what}, which it accepted before"),
                sent: Some(sent),
                received: Some(answer),
            });
        }
        Err(error) => return Outcome::fail_because(format!("{ignored}: {error}")),
    };
    let method = era.alive_method();
    match session.request(method, json!({})).await {
        // Whether ping itself is right is another check's business: an answer shows it alive.
        Ok(exchange) if exchange.result().is_some() || exchange.error().is_some() => {
            Outcome::Pass(Some(format!(
                "a second copy, stderr discarded, answered {method}"
            )))
        }
        Ok(exchange) => Outcome::fail(
            format!("{ignored}, {method} got no JSON-RPC answer"),
            &exchange,
        ),
        Err(error) => Outcome::no_answer(&format!("{ignored}, {method}"), &error),
    }
}
