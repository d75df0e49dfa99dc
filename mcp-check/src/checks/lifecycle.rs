//! The handshake: `initialize` (and its version negotiation) or `server/discover`.

use serde_json::{Value, json};

use super::{Ctx, MUST, Outcome, SHOULD, kind};
use crate::report::Check;
use crate::session::{Era, KNOWN_VERSIONS, MODERN_VERSION};
use crate::wire::{Overrides, Target, Wire};

const INITIALIZE: Check = Check {
    id: "server-initialize",
    scenario: Some("server-initialize"),
    level: MUST,
    section: "https://modelcontextprotocol.io/specification/2025-11-25/basic/lifecycle#initialization",
    title: "initialize answers with a known protocol version, capabilities and serverInfo",
};
const NEGOTIATION: Check = Check {
    id: "initialize-version-negotiation",
    scenario: Some("server-initialize"),
    level: MUST,
    section: "https://modelcontextprotocol.io/specification/2025-11-25/basic/lifecycle#version-negotiation",
    title: "initialize asking for an unknown version gets a version the server supports, not an echo",
};
const SESSION_ID: Check = Check {
    id: "server-session-id-visible-ascii",
    scenario: Some("server-initialize"),
    level: MUST,
    section: "https://modelcontextprotocol.io/specification/2025-11-25/basic/transports#session-management",
    title: "Mcp-Session-Id holds only visible ASCII (0x21-0x7E)",
};
const DISCOVER: Check = Check {
    id: "sep-2575-server-implements-discover",
    scenario: Some("server-stateless"),
    level: MUST,
    section: "https://modelcontextprotocol.io/specification/2026-07-28/server/discover",
    title: "server/discover answers with supportedVersions (2026-07-28 among them) and capabilities",
};
const SERVER_INFO_META: Check = Check {
    id: "sep-2575-server-identifies-in-result-meta",
    scenario: Some("server-stateless"),
    level: SHOULD,
    section: "https://modelcontextprotocol.io/specification/2026-07-28/server/discover",
    title: "server/discover names the server in _meta io.modelcontextprotocol/serverInfo",
};

/// The check a refused handshake fails in `era`.
pub(super) fn handshake_check(era: Era) -> Check {
    match era {
        Era::Legacy => INITIALIZE,
        Era::Modern => DISCOVER,
    }
}

pub(super) const CATALOGUE: &[Check] = &[
    INITIALIZE,
    NEGOTIATION,
    SESSION_ID,
    DISCOVER,
    SERVER_INFO_META,
];

/// Judges the handshake the session already made.
pub(super) async fn run(ctx: &mut Ctx<'_>) {
    match ctx.era() {
        Era::Legacy => {
            if ctx.wants(&INITIALIZE) {
                let outcome =
                    judge_initialize(&ctx.session.handshake, &ctx.session.handshake_exchange);
                ctx.record(&INITIALIZE, outcome);
            }
            if !ctx.is_http() {
                ctx.skip(&SESSION_ID, "streamable HTTP only");
            } else if ctx.wants(&SESSION_ID) {
                let outcome = match ctx
                    .session
                    .wire
                    .http()
                    .and_then(|http| http.session.clone())
                {
                    None => Outcome::Pass(Some("the server assigned no session".into())),
                    Some(id)
                        if !id.is_empty()
                            && id.as_bytes().iter().all(|b| (0x21..=0x7e).contains(b)) =>
                    {
                        Outcome::pass()
                    }
                    Some(id) => Outcome::fail(
                        format!("the session id {id:?} holds characters outside 0x21-0x7E"),
                        &ctx.session.handshake_exchange,
                    ),
                };
                ctx.record(&SESSION_ID, outcome);
            }
            ctx.skip(&DISCOVER, super::NOT_THIS_REVISION_2026);
            ctx.skip(&SERVER_INFO_META, super::NOT_THIS_REVISION_2026);
        }
        Era::Modern => {
            ctx.skip(&INITIALIZE, "2026-07-28 has no initialize");
            ctx.skip(&NEGOTIATION, "2026-07-28 has no initialize");
            ctx.skip(&SESSION_ID, "2026-07-28 has no sessions");
            if ctx.wants(&DISCOVER) {
                let result = &ctx.session.handshake;
                let mut problems = Vec::new();
                match result.get("supportedVersions").and_then(Value::as_array) {
                    Some(versions) if versions.iter().any(|v| v == MODERN_VERSION) => {}
                    Some(_) => {
                        problems.push(format!("supportedVersions does not list {MODERN_VERSION}"))
                    }
                    None => problems.push(format!(
                        "supportedVersions is {}, not an array",
                        kind(result.get("supportedVersions"))
                    )),
                }
                if !result.get("capabilities").is_some_and(Value::is_object) {
                    problems.push(format!(
                        "capabilities is {}",
                        kind(result.get("capabilities"))
                    ));
                }
                let outcome = Outcome::from_problems(&problems, &ctx.session.handshake_exchange);
                ctx.record(&DISCOVER, outcome);
            }
            if ctx.wants(&SERVER_INFO_META) {
                let info = ctx
                    .session
                    .handshake
                    .pointer("/_meta/io.modelcontextprotocol~1serverInfo");
                let outcome = match info {
                    Some(info) if info.get("name").is_some_and(Value::is_string) => Outcome::pass(),
                    _ => Outcome::fail(
                        "result._meta carries no io.modelcontextprotocol/serverInfo with a name",
                        &ctx.session.handshake_exchange,
                    ),
                };
                ctx.record(&SERVER_INFO_META, outcome);
            }
        }
    }
}

/// The problems of an `initialize` result.
fn judge_initialize(result: &Value, exchange: &crate::wire::Exchange) -> Outcome {
    let mut problems = Vec::new();
    match result.get("protocolVersion").and_then(Value::as_str) {
        Some(version) if KNOWN_VERSIONS.contains(&version) && version != MODERN_VERSION => {}
        Some(version) => problems.push(format!(
            "protocolVersion {version:?} is no revision with initialize; a client can only disconnect"
        )),
        None => problems.push(format!(
            "protocolVersion is {}, not a string",
            kind(result.get("protocolVersion"))
        )),
    }
    if !result.get("capabilities").is_some_and(Value::is_object) {
        problems.push(format!(
            "capabilities is {}, not an object",
            kind(result.get("capabilities"))
        ));
    }
    let info = result.get("serverInfo");
    for field in ["name", "version"] {
        if !info
            .and_then(|info| info.get(field))
            .is_some_and(Value::is_string)
        {
            problems.push(format!("serverInfo.{field} is not a string"));
        }
    }
    Outcome::from_problems(&problems, exchange)
}

/// Version negotiation, on a connection of its own (a second `initialize` on one connection is
/// not allowed): asking for a version no revision has must not be echoed.
pub(super) async fn run_negotiation(ctx: &mut Ctx<'_>) {
    if ctx.era() != Era::Legacy {
        return;
    }
    // Over stdio its connection is a new process, whatever became of the session's; over HTTP it
    // is the same server, which may be gone.
    let runs = if matches!(ctx.target, Target::Stdio(_)) {
        ctx.selected(&NEGOTIATION)
    } else {
        ctx.wants(&NEGOTIATION)
    };
    if !runs {
        return;
    }
    let asked = "1999-01-01";
    let message = json!({
        "jsonrpc": "2.0",
        "id": 1,
        "method": "initialize",
        "params": crate::session::initialize_params(asked),
    });
    let timeout = ctx.options.timeout;
    let mut wire = match Wire::open(
        ctx.target,
        ctx.http,
        ctx.session.client_side.clone(),
        timeout,
    )
    .await
    {
        Ok(wire) => wire,
        Err(error) => {
            ctx.record(&NEGOTIATION, Outcome::no_answer("connecting again", &error));
            return;
        }
    };
    let exchange = match wire
        .exchange(
            message.to_string().into_bytes(),
            Some(&json!(1)),
            &Overrides::default(),
            timeout,
        )
        .await
    {
        Ok(exchange) => exchange,
        Err(error) => {
            ctx.record(&NEGOTIATION, Outcome::no_answer("initialize", &error));
            return;
        }
    };
    if let Some(http) = wire.http() {
        http.end_session(timeout).await;
    }
    let outcome = match exchange
        .result()
        .and_then(|r| r.get("protocolVersion"))
        .and_then(Value::as_str)
    {
        Some(version) if version == asked => Outcome::fail(
            format!(
                "the server echoed {asked:?}, a version no revision has, instead of one it supports"
            ),
            &exchange,
        ),
        Some(version) if KNOWN_VERSIONS.contains(&version) => Outcome::pass(),
        Some(version) => Outcome::fail(
            format!("the server answered {version:?}, no known revision"),
            &exchange,
        ),
        // Refusing the handshake is allowed too: the spec lets the server answer with an error
        // when it supports nothing the client could.
        None if exchange.error().is_some() => Outcome::Pass(Some("refused with an error".into())),
        None => Outcome::fail(
            "the answer is neither a result with protocolVersion nor an error",
            &exchange,
        ),
    };
    ctx.record(&NEGOTIATION, outcome);
}
