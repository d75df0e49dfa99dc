//! The stdio transport's own rules: nothing but JSON-RPC on stdout, and an exit once stdin closes.

use super::{Ctx, MUST, Outcome, SHOULD};
use crate::report::Check;
use crate::wire::excerpt;

const STDOUT_ONLY_JSONRPC: Check = Check {
    id: "stdio-stdout-only-jsonrpc",
    scenario: None,
    level: MUST,
    section: "https://modelcontextprotocol.io/specification/2025-11-25/basic/transports#stdio",
    title: "the server wrote nothing but JSON-RPC messages to stdout (logs belong on stderr)",
};
const EXIT_ON_STDIN_CLOSE: Check = Check {
    id: "stdio-exit-on-stdin-close",
    scenario: None,
    level: SHOULD,
    section: "https://modelcontextprotocol.io/specification/2025-11-25/basic/lifecycle#stdio",
    title: "the server exits once its stdin is closed, before the client has to signal it",
};

pub(super) const CATALOGUE: &[Check] = &[STDOUT_ONLY_JSONRPC, EXIT_ON_STDIN_CLOSE];

/// Runs last: closing stdin ends the session.
pub(super) async fn run(ctx: &mut Ctx<'_>) {
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
