//! JSON-RPC 2.0 and the basic utilities (ping, log level): answers to unknown methods and to ids of each type, the envelope of every
//! message, input a server cannot read, and the capabilities a server may ask the client for.

use serde_json::{Value, json};

use super::{Ctx, MUST, Outcome, SHOULD};
use crate::report::Check;
use crate::session::Era;
use crate::wire::{Flagged, Overrides};

const PING: Check = Check {
    id: "ping",
    scenario: Some("ping"),
    level: MUST,
    section: "https://modelcontextprotocol.io/specification/2025-11-25/basic/utilities/ping",
    title: "ping is answered with an empty result",
};
const LOG_LEVEL: Check = Check {
    id: "logging-set-level",
    scenario: Some("logging-set-level"),
    level: MUST,
    section: "https://modelcontextprotocol.io/specification/2025-11-25/server/utilities/logging",
    title: "logging/setLevel is answered with an empty result",
};
const UNKNOWN_METHOD: Check = Check {
    id: "jsonrpc-unknown-method",
    scenario: None,
    level: MUST,
    section: "https://www.jsonrpc.org/specification#response_object",
    title: "a request for an unknown method is answered with an error",
};
const METHOD_NOT_FOUND: Check = Check {
    id: "jsonrpc-method-not-found-code",
    scenario: None,
    level: SHOULD,
    section: "https://www.jsonrpc.org/specification#error_object",
    title: "that error is -32601 (Method not found)",
};
const STRING_ID: Check = Check {
    id: "jsonrpc-string-id",
    scenario: None,
    level: MUST,
    section: "https://modelcontextprotocol.io/specification/2025-11-25/basic#responses",
    title: "a request with a string id is answered with the same id",
};
const PARSE_ERROR: Check = Check {
    id: "jsonrpc-parse-error",
    scenario: None,
    level: SHOULD,
    section: "https://www.jsonrpc.org/specification#error_object",
    title: "malformed JSON is answered with -32700 and a null or absent id (HTTP: a 4xx status)",
};
const INVALID_REQUEST: Check = Check {
    id: "jsonrpc-invalid-request",
    scenario: None,
    level: SHOULD,
    section: "https://www.jsonrpc.org/specification#error_object",
    title: "a request without a method, or with \"jsonrpc\": \"1.0\", is answered with -32600 (HTTP: a 4xx)",
};
const OVERSIZED: Check = Check {
    id: "input-oversized",
    scenario: None,
    level: SHOULD,
    section: "https://modelcontextprotocol.io/specification/2025-11-25/basic/lifecycle#error-handling",
    title: "a 1 MiB argument is answered (an error, or HTTP 413), not left hanging",
};
const ODD_CHARACTERS: Check = Check {
    id: "input-odd-characters",
    scenario: None,
    level: SHOULD,
    section: "https://modelcontextprotocol.io/specification/2025-11-25/server/tools#error-handling",
    title: "a tool name with NUL, bidi controls, emoji and a lone surrogate is refused with an error",
};
const SURVIVES: Check = Check {
    id: "jsonrpc-survives-bad-input",
    scenario: None,
    level: MUST,
    section: "https://www.jsonrpc.org/specification#response_object",
    title: "after all that bad input the server still answers",
};
const ENVELOPE: Check = Check {
    id: "jsonrpc-envelope",
    scenario: None,
    level: MUST,
    section: "https://modelcontextprotocol.io/specification/2025-11-25/basic#messages",
    title: "every message the server sent is JSON-RPC 2.0: \"jsonrpc\": \"2.0\", a valid id, one of result or error",
};
const CAPABILITY_RESPECT: Check = Check {
    id: "client-capability-respect",
    scenario: None,
    level: MUST,
    section: "https://modelcontextprotocol.io/specification/2025-11-25/basic/lifecycle#operation",
    title: "the server asked for no capability the client did not declare (no sampling, elicitation, roots)",
};

pub(super) const CATALOGUE: &[Check] = &[
    PING,
    LOG_LEVEL,
    UNKNOWN_METHOD,
    METHOD_NOT_FOUND,
    STRING_ID,
    PARSE_ERROR,
    INVALID_REQUEST,
    OVERSIZED,
    ODD_CHARACTERS,
    SURVIVES,
    ENVELOPE,
    CAPABILITY_RESPECT,
];

pub(super) async fn run(ctx: &mut Ctx<'_>) {
    if ctx.era() == Era::Modern {
        ctx.skip(&PING, "2026-07-28 removed ping");
    } else if ctx.wants(&PING)
        && let Some(exchange) = ctx.request(&PING, "ping", json!({})).await
    {
        let outcome = match exchange.result() {
            Some(Value::Object(map)) if map.keys().all(|key| key == "_meta") => Outcome::pass(),
            Some(_) => Outcome::fail("the result is not an empty object", &exchange),
            None => Outcome::fail("ping was not answered with a result", &exchange),
        };
        ctx.record(&PING, outcome);
    }

    if ctx.era() == Era::Modern {
        ctx.skip(&LOG_LEVEL, "2026-07-28 sets the log level per request");
    } else if !ctx.session.declares("logging", None) {
        ctx.skip(&LOG_LEVEL, "the server declares no logging capability");
    } else if ctx.wants(&LOG_LEVEL)
        && let Some(exchange) = ctx
            .request(&LOG_LEVEL, "logging/setLevel", json!({ "level": "info" }))
            .await
    {
        let outcome = match exchange.result() {
            Some(Value::Object(map)) if map.keys().all(|key| key == "_meta") => Outcome::pass(),
            Some(_) => Outcome::fail("the result is not an empty object", &exchange),
            None => Outcome::fail("logging/setLevel was not answered with a result", &exchange),
        };
        ctx.record(&LOG_LEVEL, outcome);
    }

    if ctx.wants(&UNKNOWN_METHOD)
        && let Some(exchange) = ctx
            .request(&UNKNOWN_METHOD, "mcpcord/no-such-method", json!({}))
            .await
    {
        let answered = exchange.error().is_some();
        ctx.record(
            &UNKNOWN_METHOD,
            if answered {
                Outcome::pass()
            } else {
                Outcome::fail("no error came back", &exchange)
            },
        );
        if ctx.wants(&METHOD_NOT_FOUND) {
            let outcome = match exchange.error_code() {
                Some(-32601) => Outcome::pass(),
                _ => Outcome::fail("the error code is not -32601", &exchange),
            };
            ctx.record(&METHOD_NOT_FOUND, outcome);
        }
    }

    if ctx.wants(&STRING_ID) {
        let (mut message, overrides) = ctx.session.build(ctx.era().alive_method(), json!({}));
        let id = json!("mcpcord-check-ü-1");
        message["id"] = id.clone();
        match ctx.session.send(&message, &overrides).await {
            Ok(exchange) => {
                let outcome = if exchange.answer.is_some() {
                    Outcome::pass()
                } else {
                    Outcome::fail("no answer carried the string id", &exchange)
                };
                ctx.record(&STRING_ID, outcome);
            }
            Err(error) => {
                ctx.lost(&STRING_ID, &error);
                ctx.record(
                    &STRING_ID,
                    Outcome::fail_because(format!(
                        "no answer with the id {id} ({error}); answers to other ids are not it"
                    )),
                );
            }
        }
    }
}

/// Bad input: malformed JSON, requests that are not requests, a huge argument, odd characters;
/// then whether the server is still there.
pub(super) async fn run_robustness(ctx: &mut Ctx<'_>) {
    let alive_before = !ctx.session_gone();
    let parse = ctx.wants(&PARSE_ERROR);
    let invalid = ctx.wants(&INVALID_REQUEST);
    if parse || invalid {
        let malformed = br#"{"jsonrpc": "2.0", "id": 9001, "method": "ping", "params": {"#.to_vec();
        let missing_method = json!({ "jsonrpc": "2.0", "id": "mcpcord-no-method" });
        let (mut old_version, _) = ctx.session.build(ctx.era().alive_method(), json!({}));
        old_version["jsonrpc"] = json!("1.0");
        old_version["id"] = json!("mcpcord-version-1");
        let invalid_inputs = [
            (
                missing_method.to_string().into_bytes(),
                json!("mcpcord-no-method"),
            ),
            (
                old_version.to_string().into_bytes(),
                json!("mcpcord-version-1"),
            ),
        ];
        if ctx.is_http() {
            // Each POST has its own answer (a status at least), so each is judged alone.
            if parse {
                let outcome = bad_input(ctx, &PARSE_ERROR, malformed, &json!(null), -32700).await;
                ctx.record(&PARSE_ERROR, outcome);
            }
            if invalid {
                let mut outcome = Outcome::pass();
                for (bytes, id) in invalid_inputs {
                    outcome = bad_input(ctx, &INVALID_REQUEST, bytes, &id, -32600).await;
                    if !matches!(outcome, Outcome::Pass(_)) {
                        break;
                    }
                }
                ctx.record(&INVALID_REQUEST, outcome);
            }
        } else {
            pipelined_bad_input(ctx, parse, invalid, malformed, invalid_inputs).await;
        }
    }
    recover_over_http(ctx).await;
    if ctx.wants(&OVERSIZED) {
        let big = "x".repeat(1024 * 1024);
        let (message, overrides) = ctx.session.build(
            "tools/call",
            json!({ "name": "mcpcord-check-no-such-tool", "arguments": { "text": big } }),
        );
        let id = message.get("id").cloned().unwrap_or(Value::Null);
        let text = message.to_string();
        let outcome = expect_refusal(ctx, &OVERSIZED, text, &id, &overrides).await;
        ctx.record(&OVERSIZED, outcome);
    }
    recover_over_http(ctx).await;
    if ctx.wants(&ODD_CHARACTERS) {
        let (message, overrides) = ctx.session.build(
            "tools/call",
            json!({ "name": "PLACEHOLDER", "arguments": {} }),
        );
        // Written by hand: a lone surrogate escape is valid JSON text that no string type holds.
        let text = message.to_string().replace(
            "\"PLACEHOLDER\"",
            r#""odd\u0000name\u202e\ud83d\ude00\ud800""#,
        );
        let id = message.get("id").cloned().unwrap_or(Value::Null);
        let outcome = expect_refusal(ctx, &ODD_CHARACTERS, text, &id, &overrides).await;
        ctx.record(&ODD_CHARACTERS, outcome);
    }
    recover_over_http(ctx).await;
    // A connection that ended during the bad input fails this check rather than skipping it: over
    // stdio or legacy SSE it was the session's, and over streamable HTTP `recover_over_http` just
    // asked the server and got no answer.
    let ended_during_bad_input = ctx.gone_during().filter(|_| alive_before);
    if let Some(during) = ended_during_bad_input
        && ctx.selected(&SURVIVES)
    {
        ctx.record(
            &SURVIVES,
            Outcome::fail_because(format!(
                "the connection ended during {during} and the server answers no more: it did not \
                 survive the bad input"
            )),
        );
    } else if ctx.wants(&SURVIVES) {
        let method = ctx.era().alive_method();
        let outcome = match ctx.session.request(method, json!({})).await {
            Ok(exchange) if exchange.result().is_some() => Outcome::pass(),
            Ok(exchange) => Outcome::fail(
                format!("{method} was not answered with a result"),
                &exchange,
            ),
            Err(error) => {
                ctx.lost(&SURVIVES, &error);
                Outcome::no_answer(method, &error)
            }
        };
        ctx.record(&SURVIVES, outcome);
    }
}

/// Over streamable HTTP, a connection that broke during bad input may have been that request's
/// alone: if the server still answers, the session goes on (the next inputs are checked).
async fn recover_over_http(ctx: &mut Ctx<'_>) {
    if !ctx.is_http() || !ctx.session_gone() {
        return;
    }
    let method = ctx.era().alive_method();
    if let Ok(exchange) = ctx.session.request(method, json!({})).await
        && exchange.result().is_some()
    {
        ctx.revive();
    }
}

/// Over one stream (stdio, legacy SSE), a server that stays silent on bad input would cost a
/// timeout per input: the inputs are written back to back, then a request the server must answer,
/// and the answers to the bad inputs are looked for among what came before its answer (a server
/// reads its input in order).
async fn pipelined_bad_input(
    ctx: &mut Ctx<'_>,
    parse: bool,
    invalid: bool,
    malformed: Vec<u8>,
    invalid_inputs: [(Vec<u8>, Value); 2],
) {
    let mut sent = vec![String::from_utf8_lossy(&malformed).into_owned()];
    let mut write = vec![malformed];
    for (bytes, _) in &invalid_inputs {
        sent.push(String::from_utf8_lossy(bytes).into_owned());
        write.push(bytes.clone());
    }
    for bytes in write {
        if let Err(error) = ctx.session.raw(bytes, None, &Overrides::default()).await {
            ctx.lost(&PARSE_ERROR, &error);
            let outcome = || Outcome::no_answer("writing bad input", &error);
            if parse {
                ctx.record(&PARSE_ERROR, outcome());
            }
            if invalid {
                ctx.record(&INVALID_REQUEST, outcome());
            }
            return;
        }
    }
    let method = ctx.era().alive_method();
    let mut exchange = match ctx.session.request(method, json!({})).await {
        Ok(exchange) => exchange,
        Err(error) => {
            ctx.lost(&PARSE_ERROR, &error);
            let outcome = || Outcome::no_answer(&format!("{method} after bad input"), &error);
            if parse {
                ctx.record(&PARSE_ERROR, outcome());
            }
            if invalid {
                ctx.record(&INVALID_REQUEST, outcome());
            }
            return;
        }
    };
    exchange.sent = sent.join("\n");
    let errors: Vec<(Value, Option<i64>)> = exchange
        .received
        .iter()
        .filter_map(|received| received.message.as_ref())
        .filter_map(|message| {
            let error = message.get("error")?;
            Some((
                message.get("id").cloned().unwrap_or(Value::Null),
                error.get("code").and_then(Value::as_i64),
            ))
        })
        .collect();
    if parse {
        let outcome = if errors
            .iter()
            .any(|(id, code)| id.is_null() && *code == Some(-32700))
        {
            Outcome::pass()
        } else {
            Outcome::fail(
                format!(
                    "no -32700 error without an id came before the answer to the {method} that followed"
                ),
                &exchange,
            )
        };
        ctx.record(&PARSE_ERROR, outcome);
    }
    if invalid {
        let missing: Vec<String> = invalid_inputs
            .iter()
            .filter(|(_, id)| {
                !errors.iter().any(|(answered, code)| {
                    *code == Some(-32600) && (answered == id || answered.is_null())
                })
            })
            .map(|(_, id)| id.to_string())
            .collect();
        let outcome = if missing.is_empty() {
            Outcome::pass()
        } else {
            Outcome::fail(
                format!("no -32600 error answered {}", missing.join(" and ")),
                &exchange,
            )
        };
        ctx.record(&INVALID_REQUEST, outcome);
    }
}

/// Sends a request the server must refuse: passes on an error (its id, or null when the server
/// could not read the request), an `isError` result, or over HTTP a 4xx status. Over one stream
/// the request is followed by one the server must answer, and the refusal looked for before that
/// answer: a server that drops what it cannot read is then found at once, not after a timeout.
async fn expect_refusal(
    ctx: &mut Ctx<'_>,
    check: &Check,
    text: String,
    id: &Value,
    overrides: &Overrides,
) -> Outcome {
    let refusal = |message: &Value| {
        let about_this = message.get("id") == Some(id)
            || (message.get("id").is_none_or(Value::is_null) && message.get("error").is_some());
        about_this
            && (message.get("error").is_some()
                || message.pointer("/result/isError") == Some(&json!(true)))
    };
    if ctx.is_http() {
        return match ctx
            .session
            .raw(text.into_bytes(), Some(id), overrides)
            .await
        {
            Ok(exchange) => match &exchange.http {
                Some(reply) if reply.status.is_client_error() => {
                    Outcome::Pass(Some(format!("refused with HTTP {}", reply.status)))
                }
                _ if exchange.answer.as_ref().is_some_and(refusal) => Outcome::pass(),
                _ => Outcome::fail("the request was not refused", &exchange),
            },
            Err(error) => {
                ctx.lost(check, &error);
                Outcome::no_answer("the request", &error)
            }
        };
    }
    let sent = crate::wire::excerpt(&text);
    if let Err(error) = ctx.session.raw(text.into_bytes(), None, overrides).await {
        ctx.lost(check, &error);
        return Outcome::no_answer("writing the request", &error);
    }
    let method = ctx.era().alive_method();
    match ctx.session.request(method, json!({})).await {
        Ok(mut exchange) => {
            exchange.sent = sent;
            let found = exchange
                .received
                .iter()
                .filter_map(|received| received.message.as_ref())
                .any(refusal);
            if found {
                Outcome::pass()
            } else {
                Outcome::fail(
                    format!("no refusal came before the answer to the {method} that followed"),
                    &exchange,
                )
            }
        }
        Err(error) => {
            ctx.lost(check, &error);
            Outcome::no_answer(&format!("{method} after the request"), &error)
        }
    }
}

/// Sends input the server cannot accept; passes on the error `code` with id `id` (or null), or
/// over HTTP on a 4xx status.
async fn bad_input(
    ctx: &mut Ctx<'_>,
    check: &Check,
    bytes: Vec<u8>,
    id: &Value,
    code: i64,
) -> Outcome {
    let exchange = match ctx
        .session
        .raw(bytes, Some(id), &Overrides::default())
        .await
    {
        Ok(exchange) => exchange,
        Err(error) => {
            ctx.lost(check, &error);
            return Outcome::no_answer("the bad input", &error);
        }
    };
    // A 4xx refuses it; so does a JSON-RPC error with the right code in a 2xx body (what
    // JSON-RPC alone would do), whatever id it carries.
    if let Some(reply) = &exchange.http {
        let right_error = exchange
            .received
            .iter()
            .filter_map(|received| received.message.as_ref())
            .any(|message| message.pointer("/error/code").and_then(Value::as_i64) == Some(code));
        return if reply.status.is_client_error() || right_error {
            Outcome::pass()
        } else {
            Outcome::fail(
                format!(
                    "HTTP {} without error {code} for input the server cannot accept",
                    reply.status
                ),
                &exchange,
            )
        };
    }
    match exchange.error_code() {
        Some(found) if found == code => Outcome::pass(),
        Some(found) => Outcome::fail(format!("error code {found}, not {code}"), &exchange),
        None => Outcome::fail("no error came back", &exchange),
    }
}

/// Checks over everything the session saw.
pub(super) fn run_whole_session(ctx: &mut Ctx<'_>) {
    let findings = ctx.session.client_side.findings();
    if ctx.selected(&ENVELOPE) {
        let outcome = flagged_outcome(findings.bad_envelope.as_ref(), str::to_owned);
        ctx.record(&ENVELOPE, outcome);
    }
    if ctx.selected(&CAPABILITY_RESPECT) {
        let outcome = flagged_outcome(findings.undeclared_request.as_ref(), |method| {
            format!("the server sent {method} although the client declared no capabilities")
        });
        ctx.record(&CAPABILITY_RESPECT, outcome);
    }
}

/// A whole-run check's verdict: a pass, or the first message flagged, shown with what the client
/// had sent.
fn flagged_outcome(flagged: Option<&Flagged>, why: impl Fn(&str) -> String) -> Outcome {
    match flagged {
        None => Outcome::pass(),
        Some(flagged) => Outcome::Fail(super::Failure {
            why: why(&flagged.why),
            sent: Some(flagged.sent.clone()),
            received: Some(flagged.excerpt.clone()),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::envelope_problem;

    #[test]
    fn envelopes_are_judged_by_member_not_by_luck() {
        assert_eq!(
            envelope_problem(&json!({"jsonrpc": "2.0", "id": 1, "result": {}})),
            None
        );
        assert_eq!(
            envelope_problem(
                &json!({"jsonrpc": "2.0", "id": null, "error": {"code": -32700, "message": "x"}})
            ),
            None
        );
        assert_eq!(
            envelope_problem(&json!({"jsonrpc": "2.0", "method": "notifications/x"})),
            None
        );
        for broken in [
            json!({"id": 1, "result": {}}),
            json!({"jsonrpc": "1.0", "id": 1, "result": {}}),
            json!({"jsonrpc": "2.0", "id": 1, "result": {}, "error": {"code": 1, "message": "x"}}),
            json!({"jsonrpc": "2.0", "id": 1.5, "result": {}}),
            json!({"jsonrpc": "2.0", "id": 1, "error": {"code": "x", "message": "x"}}),
            json!({"jsonrpc": "2.0", "id": [1], "error": {"code": 1, "message": "x"}}),
            json!({"jsonrpc": "2.0", "id": 1}),
            json!([1]),
        ] {
            assert!(envelope_problem(&broken).is_some(), "{broken}");
        }
    }
}
