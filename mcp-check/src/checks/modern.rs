//! Protocol 2026-07-28: per-request `_meta`, version errors, removed methods, capabilities that
//! match the handlers, caching hints, and `input_required` only where it may appear.

use http::{HeaderName, HeaderValue};
use serde_json::{Value, json};

use super::{Ctx, MUST, Outcome};
use crate::report::Check;
use crate::session::{Era, META_CAPABILITIES, META_CLIENT_INFO, META_VERSION, MODERN_VERSION};
use crate::wire::Exchange;

const DISCOVER: &str = "https://modelcontextprotocol.io/specification/2026-07-28/server/discover";
const CACHING: &str =
    "https://modelcontextprotocol.io/specification/2026-07-28/server/utilities/caching";
const MRTR: &str = "https://modelcontextprotocol.io/specification/2026-07-28/basic/patterns/mrtr";

/// The error code of an `UnsupportedProtocolVersionError` (the 2026-07-28 schema).
const UNSUPPORTED_PROTOCOL_VERSION: i64 = -32022;
/// The error code of a `HeaderMismatch` error.
const HEADER_MISMATCH_CODE: i64 = -32020;

const fn stateless(id: &'static str, title: &'static str) -> Check {
    Check {
        id,
        scenario: Some("server-stateless"),
        level: MUST,
        section: DISCOVER,
        title,
    }
}

const MISSING_META: Check = stateless(
    "sep-2575-request-meta-invalid-missing-meta",
    "a request without _meta is error -32602",
);
const MISSING_VERSION: Check = stateless(
    "sep-2575-request-meta-invalid-missing-protocol-version",
    "a request whose _meta lacks the protocol version is error -32602",
);
const MISSING_CAPABILITIES: Check = stateless(
    "sep-2575-request-meta-invalid-missing-client-capabilities",
    "a request whose _meta lacks the client capabilities is error -32602",
);
const META_400: Check = stateless(
    "sep-2575-http-server-meta-invalid-400",
    "over HTTP, each of those is answered with status 400",
);
const CLIENT_INFO_OPTIONAL: Check = stateless(
    "sep-2575-request-meta-client-info-optional",
    "a request without clientInfo in _meta is served",
);
const UNSUPPORTED_VERSION: Check = stateless(
    "sep-2575-server-unsupported-version-error",
    "an unknown version is an UnsupportedProtocolVersionError whose data lists supported versions and echoes the requested one",
);
const UNSUPPORTED_VERSION_400: Check = stateless(
    "sep-2575-http-server-unsupported-version-400",
    "over HTTP, with status 400",
);
const HEADER_MISMATCH: Check = stateless(
    "sep-2575-http-server-header-mismatch-400",
    "an MCP-Protocol-Version header that differs from _meta is status 400 and error -32020",
);
const METHOD_NOT_FOUND_404: Check = stateless(
    "sep-2575-http-server-method-not-found-404",
    "over HTTP, an unknown method is status 404 and error -32601",
);
const REMOVED_METHODS: Check = stateless(
    "sep-2575-removed-methods-not-found",
    "ping, logging/setLevel, resources/subscribe and resources/unsubscribe (removed) are error -32601 (HTTP: 404)",
);
const CAPABILITIES_MATCH: Check = stateless(
    "sep-2575-discover-capabilities-match-handlers",
    "tools/list and prompts/list are served exactly when the capability is declared",
);
const ERROR_IDS: Check = stateless(
    "sep-2575-http-server-error-jsonrpc-id",
    "every error answering a readable request carries that request's id",
);

const fn caching(id: &'static str, title: &'static str) -> Check {
    Check {
        id,
        scenario: Some("caching"),
        level: MUST,
        section: CACHING,
        title,
    }
}

const TOOLS_HINTS: Check = caching(
    "sep-2549-tools-list-caching-hints",
    "tools/list carries ttlMs and cacheScope",
);
const PROMPTS_HINTS: Check = caching(
    "sep-2549-prompts-list-caching-hints",
    "prompts/list carries ttlMs and cacheScope",
);
const RESOURCES_HINTS: Check = caching(
    "sep-2549-resources-list-caching-hints",
    "resources/list carries ttlMs and cacheScope",
);
const TEMPLATES_HINTS: Check = caching(
    "sep-2549-resources-templates-list-caching-hints",
    "resources/templates/list carries ttlMs and cacheScope",
);
const READ_HINTS: Check = caching(
    "sep-2549-resources-read-caching-hints",
    "resources/read of the first listed resource carries ttlMs and cacheScope",
);
const TTL_VALID: Check = caching(
    "sep-2549-ttl-non-negative",
    "every ttlMs is an integer of 0 or more",
);
const SCOPE_VALID: Check = caching(
    "sep-2549-cache-scope-valid",
    "every cacheScope is \"public\" or \"private\"",
);
const NOT_ON_LISTS: Check = Check {
    id: "sep-2322-not-on-unsupported-requests",
    scenario: Some("input-required-result-unsupported-methods"),
    level: MUST,
    section: MRTR,
    title: "tools/list and prompts/list never answer with resultType input_required",
};

/// The checks that read every list.
const LIST_READERS: [Check; 8] = [
    TOOLS_HINTS,
    PROMPTS_HINTS,
    RESOURCES_HINTS,
    TEMPLATES_HINTS,
    READ_HINTS,
    TTL_VALID,
    SCOPE_VALID,
    NOT_ON_LISTS,
];

pub(super) const CATALOGUE: &[Check] = &[
    MISSING_META,
    MISSING_VERSION,
    MISSING_CAPABILITIES,
    META_400,
    CLIENT_INFO_OPTIONAL,
    UNSUPPORTED_VERSION,
    UNSUPPORTED_VERSION_400,
    HEADER_MISMATCH,
    METHOD_NOT_FOUND_404,
    REMOVED_METHODS,
    CAPABILITIES_MATCH,
    ERROR_IDS,
    TOOLS_HINTS,
    PROMPTS_HINTS,
    RESOURCES_HINTS,
    TEMPLATES_HINTS,
    READ_HINTS,
    TTL_VALID,
    SCOPE_VALID,
    NOT_ON_LISTS,
];

pub(super) async fn run(ctx: &mut Ctx<'_>) {
    if ctx.era() != Era::Modern {
        for check in CATALOGUE {
            ctx.skip(check, super::NOT_THIS_REVISION_2026);
        }
        return;
    }
    let mut errors: Vec<Exchange> = Vec::new();
    meta(ctx, &mut errors).await;
    versions(ctx, &mut errors).await;
    methods(ctx, &mut errors).await;
    if !ctx.is_http() {
        ctx.skip(
            &ERROR_IDS,
            "streamable HTTP only (over stdio an answer with another id is no answer)",
        );
    } else if ctx.selected(&ERROR_IDS) {
        // An error that does not carry the request's id is never taken as its answer, so it is
        // looked for among everything that came back.
        let wrong = errors.iter().find(|exchange| {
            exchange.answer.is_none()
                && exchange
                    .received
                    .iter()
                    .filter_map(|received| received.message.as_ref())
                    .any(|message| message.get("error").is_some())
        });
        let outcome = match wrong {
            Some(exchange) => Outcome::fail(
                "an error answered a readable request without that request's id",
                exchange,
            ),
            None if errors.is_empty() => Outcome::Skip("no request was refused".into()),
            None => Outcome::Pass(Some(format!("{} errors", errors.len()))),
        };
        ctx.record(&ERROR_IDS, outcome);
    }
    hints(ctx).await;
}

/// Sends `server/discover` with its `_meta` changed by `edit` (and, with `header`, that
/// `MCP-Protocol-Version`).
async fn discover_with(
    ctx: &mut Ctx<'_>,
    edit: impl FnOnce(&mut serde_json::Map<String, Value>),
    header: Option<&str>,
) -> Result<Exchange, crate::wire::WireError> {
    let (mut message, mut overrides) = ctx.session.build("server/discover", json!({}));
    if let Some(meta) = message
        .pointer_mut("/params/_meta")
        .and_then(Value::as_object_mut)
    {
        edit(meta);
    }
    if let Some(version) = header.and_then(|header| HeaderValue::from_str(header).ok()) {
        overrides
            .headers
            .insert(HeaderName::from_static("mcp-protocol-version"), version);
    }
    ctx.session.send(&message, &overrides).await
}

async fn meta(ctx: &mut Ctx<'_>, errors: &mut Vec<Exchange>) {
    let http = ctx.is_http();
    let mut statuses_400 = Vec::new();
    for (check, key) in [
        (MISSING_META, None),
        (MISSING_VERSION, Some(META_VERSION)),
        (MISSING_CAPABILITIES, Some(META_CAPABILITIES)),
    ] {
        if !ctx.wants(&check) {
            continue;
        }
        let result = match key {
            Some(key) => {
                discover_with(
                    ctx,
                    |meta| {
                        meta.remove(key);
                    },
                    None,
                )
                .await
            }
            None => {
                let (mut message, overrides) = ctx.session.build("server/discover", json!({}));
                if let Some(params) = message.get_mut("params").and_then(Value::as_object_mut) {
                    params.remove("_meta");
                }
                ctx.session.send(&message, &overrides).await
            }
        };
        let exchange = match result {
            Ok(exchange) => exchange,
            Err(error) => {
                ctx.lost(&check, &error);
                ctx.record(&check, Outcome::no_answer("server/discover", &error));
                continue;
            }
        };
        let outcome = match exchange.error_code() {
            Some(-32602) => Outcome::pass(),
            Some(code) => Outcome::fail(format!("error code {code}, not -32602"), &exchange),
            None => Outcome::fail("the request was served", &exchange),
        };
        ctx.record(&check, outcome);
        if let Some(reply) = &exchange.http {
            statuses_400.push((reply.status.as_u16() == 400, exchange.clone()));
        }
        errors.push(exchange);
    }
    if !http {
        ctx.skip(&META_400, "streamable HTTP only");
    } else if ctx.selected(&META_400) && !statuses_400.is_empty() {
        let outcome = match statuses_400.iter().find(|(is_400, _)| !is_400) {
            Some((_, exchange)) => Outcome::fail(
                "an invalid _meta was not answered with status 400",
                exchange,
            ),
            None => Outcome::pass(),
        };
        ctx.record(&META_400, outcome);
    }
    if ctx.wants(&CLIENT_INFO_OPTIONAL) {
        let outcome = match discover_with(
            ctx,
            |meta| {
                meta.remove(META_CLIENT_INFO);
            },
            None,
        )
        .await
        {
            Ok(exchange) if exchange.result().is_some() => Outcome::pass(),
            Ok(exchange) => Outcome::fail("refused without clientInfo", &exchange),
            Err(error) => Outcome::no_answer("server/discover", &error),
        };
        ctx.record(&CLIENT_INFO_OPTIONAL, outcome);
    }
}

async fn versions(ctx: &mut Ctx<'_>, errors: &mut Vec<Exchange>) {
    let http = ctx.is_http();
    let requested = "v999.0.0";
    let supported: Vec<Value> = ctx
        .session
        .handshake
        .get("supportedVersions")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    if ctx.wants(&UNSUPPORTED_VERSION) {
        let header = http.then_some(requested);
        match discover_with(
            ctx,
            |meta| {
                meta.insert(META_VERSION.into(), json!(requested));
            },
            header,
        )
        .await
        {
            Ok(exchange) => {
                let data = exchange.error().and_then(|error| error.get("data"));
                let listed = data
                    .and_then(|d| d.get("supported"))
                    .and_then(Value::as_array);
                let outcome = match listed {
                    _ if exchange.error().is_none() => {
                        Outcome::fail("the request was served", &exchange)
                    }
                    _ if exchange.error_code() != Some(UNSUPPORTED_PROTOCOL_VERSION) => {
                        Outcome::fail(
                            format!(
                                "error code {:?}, not {UNSUPPORTED_PROTOCOL_VERSION} (UnsupportedProtocolVersionError)",
                                exchange.error_code()
                            ),
                            &exchange,
                        )
                    }
                    Some(listed)
                        if !listed.is_empty() && listed.iter().all(|v| supported.contains(v)) =>
                    {
                        if data.and_then(|d| d.get("requested")) == Some(&json!(requested)) {
                            Outcome::pass()
                        } else {
                            Outcome::fail(
                                "error.data.requested does not echo the requested version",
                                &exchange,
                            )
                        }
                    }
                    _ => Outcome::fail(
                        "error.data.supported does not list versions server/discover supports",
                        &exchange,
                    ),
                };
                ctx.record(&UNSUPPORTED_VERSION, outcome);
                if !http {
                    ctx.skip(&UNSUPPORTED_VERSION_400, "streamable HTTP only");
                } else if ctx.selected(&UNSUPPORTED_VERSION_400) {
                    let outcome = match &exchange.http {
                        Some(reply) if reply.status.as_u16() == 400 => Outcome::pass(),
                        _ => Outcome::fail("the status is not 400", &exchange),
                    };
                    ctx.record(&UNSUPPORTED_VERSION_400, outcome);
                }
                errors.push(exchange);
            }
            Err(error) => {
                ctx.lost(&UNSUPPORTED_VERSION, &error);
                ctx.record(
                    &UNSUPPORTED_VERSION,
                    Outcome::no_answer("server/discover", &error),
                );
            }
        }
    }
    if !http {
        ctx.skip(&HEADER_MISMATCH, "streamable HTTP only");
    } else if ctx.wants(&HEADER_MISMATCH) {
        let outcome = match discover_with(
            ctx,
            |meta| {
                meta.insert(META_VERSION.into(), json!(requested));
            },
            Some(MODERN_VERSION),
        )
        .await
        {
            Ok(exchange) => {
                let status = exchange.http.as_ref().map(|reply| reply.status.as_u16());
                let outcome =
                    if status == Some(400) && exchange.error_code() == Some(HEADER_MISMATCH_CODE) {
                        Outcome::pass()
                    } else {
                        Outcome::fail(
                            format!(
                                "status {status:?} and error code {:?}, not 400 and -32020",
                                exchange.error_code()
                            ),
                            &exchange,
                        )
                    };
                errors.push(exchange);
                outcome
            }
            Err(error) => Outcome::no_answer("server/discover", &error),
        };
        ctx.record(&HEADER_MISMATCH, outcome);
    }
}

async fn methods(ctx: &mut Ctx<'_>, errors: &mut Vec<Exchange>) {
    let http = ctx.is_http();
    // The 404 is streamable HTTP's; over stdio and legacy SSE the error alone says it.
    let not_found = |exchange: &Exchange| {
        exchange.error_code() == Some(-32601)
            && (!http
                || exchange
                    .http
                    .as_ref()
                    .is_some_and(|reply| reply.status.as_u16() == 404))
    };
    if !http {
        ctx.skip(
            &METHOD_NOT_FOUND_404,
            "streamable HTTP only (jsonrpc-unknown-method covers stdio)",
        );
    } else if ctx.wants(&METHOD_NOT_FOUND_404)
        && let Some(exchange) = ctx
            .request(&METHOD_NOT_FOUND_404, "unknown/method", json!({}))
            .await
    {
        let outcome = if not_found(&exchange) {
            Outcome::pass()
        } else {
            Outcome::fail("not status 404 with error -32601", &exchange)
        };
        ctx.record(&METHOD_NOT_FOUND_404, outcome);
        errors.push(exchange);
    }
    if ctx.wants(&REMOVED_METHODS) {
        let mut outcome = Outcome::pass();
        for (method, params) in [
            ("ping", json!({})),
            ("logging/setLevel", json!({ "level": "info" })),
            (
                "resources/subscribe",
                json!({ "uri": "test://static-text" }),
            ),
            (
                "resources/unsubscribe",
                json!({ "uri": "test://static-text" }),
            ),
        ] {
            match ctx.session.request(method, params).await {
                Ok(exchange) if not_found(&exchange) => errors.push(exchange),
                Ok(exchange) => {
                    outcome =
                        Outcome::fail(format!("{method} was not refused as not found"), &exchange);
                    errors.push(exchange);
                    break;
                }
                Err(error) => {
                    ctx.lost(&REMOVED_METHODS, &error);
                    outcome = Outcome::no_answer(method, &error);
                    break;
                }
            }
        }
        ctx.record(&REMOVED_METHODS, outcome);
    }
    if ctx.wants(&CAPABILITIES_MATCH) {
        let mut outcome = Outcome::pass();
        for (capability, method) in [("tools", "tools/list"), ("prompts", "prompts/list")] {
            let declared = ctx.session.declares(capability, None);
            match ctx.session.request(method, json!({})).await {
                Ok(exchange) => {
                    let served = exchange.result().is_some();
                    if declared && !served {
                        outcome = Outcome::fail(
                            format!("{capability} is declared but {method} is not served"),
                            &exchange,
                        );
                    } else if !declared && exchange.error_code() != Some(-32601) {
                        outcome = Outcome::fail(
                            format!(
                                "{capability} is not declared but {method} is not error -32601"
                            ),
                            &exchange,
                        );
                    }
                }
                Err(error) => outcome = Outcome::no_answer(method, &error),
            }
            if !matches!(outcome, Outcome::Pass(_)) {
                break;
            }
        }
        ctx.record(&CAPABILITIES_MATCH, outcome);
    }
}

/// The caching hints of every list, and of the first resource read; then `input_required`, which
/// lists must never use.
async fn hints(ctx: &mut Ctx<'_>) {
    if !LIST_READERS.iter().any(|check| ctx.selected(check)) {
        return;
    }
    // Every result read here is kept: each hint present is judged, wherever it is. The
    // handshake's own result counts too (server/discover is cacheable).
    let mut results: Vec<Exchange> = vec![ctx.session.handshake_exchange.clone()];
    let mut first_resource = None;
    let mut input_required: Option<(String, Exchange)> = None;
    for (check, capability, method) in [
        (TOOLS_HINTS, "tools", "tools/list"),
        (PROMPTS_HINTS, "prompts", "prompts/list"),
        (RESOURCES_HINTS, "resources", "resources/list"),
        (TEMPLATES_HINTS, "resources", "resources/templates/list"),
    ] {
        if !ctx.session.declares(capability, None) {
            ctx.skip(
                &check,
                format!("the server declares no {capability} capability"),
            );
            continue;
        }
        if ctx.session_gone() {
            ctx.skip(&check, "the connection ended earlier");
            continue;
        }
        let exchange = match ctx.session.request(method, json!({})).await {
            Ok(exchange) => exchange,
            Err(error) => {
                ctx.lost(&check, &error);
                if ctx.selected(&check) {
                    ctx.record(&check, Outcome::no_answer(method, &error));
                }
                continue;
            }
        };
        if method == "resources/list" {
            first_resource = exchange
                .result()
                .and_then(|r| r.pointer("/resources/0/uri"))
                .and_then(Value::as_str)
                .map(str::to_owned);
        }
        if ctx.selected(&check) {
            ctx.record(&check, hint_outcome(&exchange));
        }
        if input_required.is_none()
            && method != "resources/list"
            && exchange.result().and_then(|r| r.get("resultType")) == Some(&json!("input_required"))
        {
            input_required = Some((method.to_owned(), exchange.clone()));
        }
        results.push(exchange);
    }
    if ctx.selected(&NOT_ON_LISTS) {
        let read_any = results.len() > 1;
        let outcome = match input_required {
            Some((method, exchange)) => {
                Outcome::fail(format!("{method} answered input_required"), &exchange)
            }
            None if read_any => Outcome::pass(),
            None => Outcome::Skip("no list was read".into()),
        };
        ctx.record(&NOT_ON_LISTS, outcome);
    }
    match first_resource {
        None => ctx.skip(&READ_HINTS, "the server lists no resource"),
        Some(uri) => {
            if ctx.wants(&READ_HINTS)
                && let Some(exchange) = ctx
                    .request(&READ_HINTS, "resources/read", json!({ "uri": uri }))
                    .await
            {
                ctx.record(&READ_HINTS, hint_outcome(&exchange));
                results.push(exchange);
            }
        }
    }
    let with = |key: &str| -> Vec<(&Value, &Exchange)> {
        results
            .iter()
            .filter_map(|exchange| Some((exchange.result()?.get(key)?, exchange)))
            .collect()
    };
    for (check, key, valid, why) in [
        (
            TTL_VALID,
            "ttlMs",
            (|value: &Value| value.as_u64().is_some()) as fn(&Value) -> bool,
            "a ttlMs is not an integer of 0 or more",
        ),
        (
            SCOPE_VALID,
            "cacheScope",
            |value: &Value| matches!(value.as_str(), Some("public" | "private")),
            "a cacheScope is neither \"public\" nor \"private\"",
        ),
    ] {
        if !ctx.selected(&check) {
            continue;
        }
        let present = with(key);
        let outcome = match present.iter().find(|(value, _)| !valid(value)) {
            Some((_, exchange)) => Outcome::fail(why, exchange),
            // Only the discover result, which need not carry hints: nothing to judge.
            None if present.is_empty() && results.len() == 1 => {
                Outcome::Skip("no cacheable result was read (nothing listed or read)".to_owned())
            }
            // As the suite judges it: hints are required on these results, so none at all fails.
            None if present.is_empty() => {
                Outcome::fail_because(format!("no result carried a {key}"))
            }
            None => Outcome::Pass(Some(format!("{} results", present.len()))),
        };
        ctx.record(&check, outcome);
    }
}

/// Passes when the result carries both hints (their values are judged on their own).
fn hint_outcome(exchange: &Exchange) -> Outcome {
    let Some(result) = exchange.result() else {
        return Outcome::fail("not answered with a result", exchange);
    };
    let missing: Vec<&str> = ["ttlMs", "cacheScope"]
        .into_iter()
        .filter(|key| result.get(*key).is_none())
        .collect();
    if missing.is_empty() {
        Outcome::pass()
    } else {
        Outcome::fail(
            format!("the result has no {}", missing.join(" and ")),
            exchange,
        )
    }
}
