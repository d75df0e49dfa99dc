//! The stdio transport's own rules: nothing but JSON-RPC on stdout, no need for anyone to read
//! stderr, and an exit once stdin closes.

use mcp_transport::{StderrHandling, StdioSpec};
use serde_json::json;

use super::{Ctx, Failure, MUST, Outcome, SHOULD};
use crate::report::Check;
use crate::session::{KILL_WAIT, OpenError, Session};
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

/// Runs after every check that needs the session: closing stdin ends it; then a copy with stderr
/// discarded is started.
pub(super) async fn run(ctx: &mut Ctx<'_>) {
    let Target::Stdio(spec) = ctx.target else {
        for check in CATALOGUE {
            ctx.skip(check, "stdio only");
        }
        return;
    };
    let grace = ctx.options.exit_grace;
    let purity = ctx.selected(&STDOUT_ONLY_JSONRPC);
    let exit = ctx.wants(&EXIT_ON_STDIN_CLOSE);
    let Some(wire) = ctx.session.wire.stdio() else {
        for check in CATALOGUE {
            ctx.skip(check, "stdio only");
        }
        return;
    };
    let exited = if exit {
        Some(wire.close_and_wait(grace).await)
    } else {
        None
    };
    // The session's copy goes before another starts: a server that allows one copy at a time
    // (a lock file, a fixed port) must not fail the next check for that.
    wire.kill_and_wait(KILL_WAIT).await;
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
    // A copy of its own: whether the session ended early does not matter.
    if ctx.selected(&STDERR_NOT_REQUIRED) {
        let outcome = with_stderr_ignored(ctx, spec).await;
        ctx.record(&STDERR_NOT_REQUIRED, outcome);
    }
}

/// Starts a copy of the server with its stderr on the null device, shakes hands in this run's era
/// and asks it to show it is alive. If that fails, a copy with stderr captured is tried the same
/// way: only if it succeeds is the failure the server needing its stderr read (else the server
/// cannot be started twice, or not now, and the check is skipped). Each copy is killed when its
/// session drops.
async fn with_stderr_ignored(ctx: &Ctx<'_>, spec: &StdioSpec) -> Outcome {
    let failure = match start_copy(ctx, spec.clone().stderr(StderrHandling::Discard)).await {
        Ok(method) => {
            return Outcome::Pass(Some(format!(
                "a second copy, stderr discarded, answered {method}"
            )));
        }
        Err(failure) => failure,
    };
    match start_copy(ctx, spec.clone().stderr(StderrHandling::Capture)).await {
        Ok(_) => Outcome::Fail(failure),
        Err(captured) => Outcome::Skip(format!(
            "a second copy failed with stderr captured too ({}), so stderr is not the cause",
            captured.why
        )),
    }
}

/// Starts a copy under `spec`, shakes hands and asks it to show it is alive: the method it
/// answered, or why not. The copy is killed and waited for before this returns.
async fn start_copy(ctx: &Ctx<'_>, spec: StdioSpec) -> Result<&'static str, Failure> {
    let ignored = match spec.stderr {
        StderrHandling::Discard => "with its stderr on the null device",
        _ => "with its stderr captured",
    };
    let era = ctx.era();
    let target = Target::Stdio(spec);
    let timeout = ctx.options.timeout;
    let client_side = &ctx.session.client_side;
    let mut session = match Session::open(&target, ctx.http, era, timeout, client_side).await {
        Ok(session) => session,
        Err(OpenError::Refused {
            what, sent, answer, ..
        }) => {
            return Err(Failure {
                why: format!("{ignored}, the server refused {what}, which it accepted before"),
                sent: Some(sent),
                received: Some(answer),
            });
        }
        Err(error) => return Err(Failure::because(format!("{ignored}: {error}"))),
    };
    let method = era.alive_method();
    let outcome = match session.request(method, json!({})).await {
        // Whether ping itself is right is another check's business: an answer shows it alive.
        Ok(exchange) if exchange.result().is_some() || exchange.error().is_some() => Ok(method),
        Ok(exchange) => Err(Failure {
            why: format!("{ignored}, {method} got no JSON-RPC answer"),
            sent: Some(excerpt(&exchange.sent)),
            received: Some(exchange.received_excerpt()),
        }),
        Err(error) => Err(Failure::because(format!("{ignored}, {method}: {error}"))),
    };
    session.close_now().await;
    outcome
}
