//! Streamable HTTP's own rules: notification status, the GET stream, sessions, the protocol
//! version header, DNS-rebinding protection, and several POST streams at once.

use http::header::{HOST, ORIGIN};
use http::{HeaderName, HeaderValue, Method};
use serde_json::{Value, json};

use super::{Ctx, MUST, Outcome, SHOULD};
use crate::report::Check;
use crate::session::{Era, LEGACY_VERSION, initialize_params, modern_meta};
use crate::wire::{Exchange, HttpWire, Overrides};

const INITIALIZED_ACCEPTED: Check = Check {
    id: "server-session-initialized-accepted",
    scenario: Some("server-session-lifecycle"),
    level: MUST,
    section: "https://modelcontextprotocol.io/specification/2025-11-25/basic/transports#sending-messages-to-the-server",
    title: "notifications/initialized is accepted with a 2xx status",
};
const NOTIFICATION_202: Check = Check {
    id: "http-notification-202",
    scenario: None,
    level: MUST,
    section: "https://modelcontextprotocol.io/specification/2025-11-25/basic/transports#sending-messages-to-the-server",
    title: "a notification the server accepts is answered 202 Accepted with no body",
};
const GET_STREAM: Check = Check {
    id: "http-get-stream-or-405",
    scenario: None,
    level: MUST,
    section: "https://modelcontextprotocol.io/specification/2025-11-25/basic/transports#listening-for-messages-from-the-server",
    title: "GET on the endpoint opens an event stream or is 405 Method Not Allowed",
};
const GET_405_MODERN: Check = Check {
    id: "http-get-delete-405-modern-only",
    scenario: None,
    level: SHOULD,
    section: "https://modelcontextprotocol.io/specification/2026-07-28/basic/transports/streamable-http#earlier-streamable-http-revisions",
    title: "a server of 2026-07-28 only answers GET and DELETE with 405 Method Not Allowed",
};
const MISSING_SESSION: Check = Check {
    id: "http-missing-session-400",
    scenario: None,
    level: SHOULD,
    section: "https://modelcontextprotocol.io/specification/2025-11-25/basic/transports#session-management",
    title: "a request without the Mcp-Session-Id the server assigned is 400 Bad Request",
};
const BAD_VERSION_HEADER: Check = Check {
    id: "http-invalid-protocol-version-400",
    scenario: None,
    level: MUST,
    section: "https://modelcontextprotocol.io/specification/2025-11-25/basic/transports#protocol-version-header",
    title: "an unsupported MCP-Protocol-Version header is 400 Bad Request",
};
const DELETE_ACCEPTED: Check = Check {
    id: "server-session-delete-accepted",
    scenario: Some("server-session-lifecycle"),
    level: SHOULD,
    section: "https://modelcontextprotocol.io/specification/2025-11-25/basic/transports#session-management",
    title: "DELETE with a session id is 2xx (or 405: the server does not let clients end sessions)",
};
const TERMINATED_404: Check = Check {
    id: "server-session-terminated-returns-404",
    scenario: Some("server-session-lifecycle"),
    level: MUST,
    section: "https://modelcontextprotocol.io/specification/2025-11-25/basic/transports#session-management",
    title: "a request with a session id that was ended is 404 Not Found",
};
const REBINDING_REJECTED: Check = Check {
    id: "localhost-host-rebinding-rejected",
    scenario: Some("dns-rebinding-protection"),
    level: MUST,
    section: "https://modelcontextprotocol.io/specification/2025-11-25/basic/transports#security-warning",
    title: "a local server refuses Host and Origin evil.example.com with a 4xx status",
};
const VALID_HOST_ACCEPTED: Check = Check {
    id: "localhost-host-valid-accepted",
    scenario: Some("dns-rebinding-protection"),
    level: MUST,
    section: "https://modelcontextprotocol.io/specification/2025-11-25/basic/transports#security-warning",
    title: "and serves its own Host and Origin",
};
const ORIGIN_REFUSED: Check = Check {
    id: "http-origin-invalid-403",
    scenario: None,
    level: MUST,
    section: "https://modelcontextprotocol.io/specification/2025-11-25/basic/transports#security-warning",
    title: "a local server answers its own Host with Origin evil.example.com by 403 Forbidden",
};
const MULTIPLE_STREAMS: Check = Check {
    id: "server-accepts-multiple-post-streams",
    scenario: Some("server-sse-multiple-streams"),
    level: MUST,
    section: "https://modelcontextprotocol.io/specification/2025-11-25/basic/transports#multiple-connections",
    title: "three POSTs at once are all served (2xx)",
};

pub(super) const CATALOGUE: &[Check] = &[
    INITIALIZED_ACCEPTED,
    NOTIFICATION_202,
    GET_STREAM,
    GET_405_MODERN,
    MISSING_SESSION,
    BAD_VERSION_HEADER,
    REBINDING_REJECTED,
    VALID_HOST_ACCEPTED,
    ORIGIN_REFUSED,
    MULTIPLE_STREAMS,
    DELETE_ACCEPTED,
    TERMINATED_404,
];

pub(super) async fn run(ctx: &mut Ctx<'_>) {
    if !ctx.is_http() {
        for check in CATALOGUE {
            ctx.skip(check, "streamable HTTP only");
        }
        return;
    }
    let legacy = ctx.era() == Era::Legacy;
    let initialized = ctx.session.initialized.clone();
    for check in [INITIALIZED_ACCEPTED, NOTIFICATION_202] {
        match &initialized {
            _ if !legacy => ctx.skip(&check, "2026-07-28 sends no notifications/initialized"),
            None => ctx.skip(&check, "no notification was sent"),
            Some(exchange) => {
                if ctx.wants(&check) {
                    let status = exchange.http.as_ref().map(|reply| reply.status);
                    let outcome = match status {
                        Some(status) if check == INITIALIZED_ACCEPTED && status.is_success() => {
                            Outcome::pass()
                        }
                        Some(status)
                            if status.as_u16() == 202
                                && exchange.received_count == 0
                                && exchange
                                    .http
                                    .as_ref()
                                    .is_some_and(|reply| reply.text.is_empty()) =>
                        {
                            Outcome::pass()
                        }
                        _ => Outcome::fail(format!("status {status:?}"), exchange),
                    };
                    ctx.record(&check, outcome);
                }
            }
        }
    }
    let timeout = ctx.options.timeout;
    if legacy {
        ctx.skip(&GET_405_MODERN, super::NOT_THIS_REVISION_2026);
        if ctx.wants(&GET_STREAM) {
            let outcome = get_stream(ctx, timeout).await;
            ctx.record(&GET_STREAM, outcome);
        }
    } else {
        ctx.skip(&GET_STREAM, "2026-07-28 removed the GET stream");
        let modern_only = ctx
            .session
            .handshake
            .get("supportedVersions")
            .and_then(Value::as_array)
            .is_some_and(|versions| versions.iter().all(|version| version == "2026-07-28"));
        if !modern_only {
            ctx.skip(
                &GET_405_MODERN,
                "the server also speaks earlier revisions, whose GET and DELETE it may serve",
            );
        } else if ctx.wants(&GET_405_MODERN) {
            let outcome = modern_405(ctx, timeout).await;
            ctx.record(&GET_405_MODERN, outcome);
        }
    }
    let has_session = ctx
        .session
        .wire
        .http()
        .is_some_and(|wire| wire.session.is_some());
    if !legacy || !has_session {
        let why = if legacy {
            "the server assigned no session"
        } else {
            "2026-07-28 has no sessions"
        };
        ctx.skip(&MISSING_SESSION, why);
    } else if ctx.wants(&MISSING_SESSION) {
        let (message, _) = ctx.session.build("ping", json!({}));
        let overrides = Overrides {
            without_session: true,
            ..Overrides::default()
        };
        let outcome = match ctx.session.send(&message, &overrides).await {
            Ok(exchange) => status_outcome(&exchange, 400),
            Err(error) => Outcome::no_answer("ping without a session", &error),
        };
        ctx.record(&MISSING_SESSION, outcome);
    }
    if !legacy {
        ctx.skip(
            &BAD_VERSION_HEADER,
            "sep-2575-http-server-unsupported-version-400 covers 2026-07-28",
        );
    } else if ctx.session.version.as_str() < "2025-06-18" {
        // Revision dates order as text. The header came with 2025-06-18.
        let skipped = format!(
            "the session speaks {}, before the header was defined (2025-06-18)",
            ctx.session.version
        );
        ctx.skip(&BAD_VERSION_HEADER, skipped);
    } else if ctx.wants(&BAD_VERSION_HEADER) {
        let (message, mut overrides) = ctx.session.build("ping", json!({}));
        overrides.headers.insert(
            HeaderName::from_static("mcp-protocol-version"),
            HeaderValue::from_static("1999-01-01"),
        );
        let outcome = match ctx.session.send(&message, &overrides).await {
            Ok(exchange) => status_outcome(&exchange, 400),
            Err(error) => Outcome::no_answer("ping with a bad version header", &error),
        };
        ctx.record(&BAD_VERSION_HEADER, outcome);
    }
    rebinding(ctx).await;
    multiple_streams(ctx).await;
    session_end(ctx, has_session).await;
}

/// GET opens an event stream or is refused with 405.
async fn get_stream(ctx: &mut Ctx<'_>, timeout: std::time::Duration) -> Outcome {
    let Some(wire) = ctx.session.wire.http() else {
        return Outcome::Skip("streamable HTTP only".into());
    };
    let overrides = Overrides {
        accept: Some("text/event-stream"),
        ..Overrides::default()
    };
    match wire.bodiless(Method::GET, &overrides, timeout).await {
        Ok((status, headers)) => {
            let content_type = headers
                .get(http::header::CONTENT_TYPE)
                .and_then(|value| value.to_str().ok());
            let stream = content_type.is_some_and(|value| value.starts_with("text/event-stream"));
            if status.as_u16() == 405 || (status.is_success() && stream) {
                Outcome::pass()
            } else {
                Outcome::fail_because(format!(
                    "GET answered {status} with Content-Type {content_type:?}"
                ))
            }
        }
        Err(error) => Outcome::no_answer("GET", &error),
    }
}

/// GET and DELETE are both 405 on a server of 2026-07-28 only.
async fn modern_405(ctx: &mut Ctx<'_>, timeout: std::time::Duration) -> Outcome {
    let Some(wire) = ctx.session.wire.http() else {
        return Outcome::Skip("streamable HTTP only".into());
    };
    for method in [Method::GET, Method::DELETE] {
        match wire
            .bodiless(method.clone(), &Overrides::default(), timeout)
            .await
        {
            Ok((status, _)) if status.as_u16() == 405 => {}
            Ok((status, _)) => return Outcome::fail_because(format!("{method} answered {status}")),
            Err(error) => return Outcome::no_answer(method.as_str(), &error),
        }
    }
    Outcome::pass()
}

/// Passes when the POST's status is `wanted`.
fn status_outcome(exchange: &Exchange, wanted: u16) -> Outcome {
    match &exchange.http {
        Some(reply) if reply.status.as_u16() == wanted => Outcome::pass(),
        Some(reply) => Outcome::fail(format!("status {}, not {wanted}", reply.status), exchange),
        None => Outcome::fail("no HTTP status", exchange),
    }
}

/// The message that opens a conversation in the session's era (a probe needs nothing before it).
fn opening(era: Era) -> (Value, &'static str) {
    match era {
        Era::Legacy => (
            json!({
                "jsonrpc": "2.0", "id": "mcpcord-open", "method": "initialize",
                "params": initialize_params(LEGACY_VERSION),
            }),
            "initialize",
        ),
        Era::Modern => (
            json!({
                "jsonrpc": "2.0", "id": "mcpcord-open", "method": "server/discover",
                "params": { "_meta": modern_meta() },
            }),
            "server/discover",
        ),
    }
}

async fn rebinding(ctx: &mut Ctx<'_>) {
    const PROBES: [Check; 3] = [REBINDING_REJECTED, VALID_HOST_ACCEPTED, ORIGIN_REFUSED];
    let wanted = PROBES.iter().any(|check| ctx.selected(check));
    let era = ctx.era();
    let timeout = ctx.options.timeout;
    let Some(wire) = ctx.session.wire.http() else {
        return;
    };
    let url = wire.url().clone();
    let local = matches!(
        url.host_str(),
        Some("localhost" | "127.0.0.1" | "[::1]" | "::1")
    );
    if !local {
        for check in PROBES {
            ctx.skip(
                &check,
                "the server is not on localhost (the protection is for local servers)",
            );
        }
        return;
    }
    if !wanted {
        return;
    }
    let own_host = match url.port() {
        Some(port) => format!("{}:{port}", url.host_str().unwrap_or("localhost")),
        None => url.host_str().unwrap_or("localhost").to_owned(),
    };
    let evil = "evil.example.com";
    let mut outcomes = Vec::new();
    for (check, host, origin) in [
        (REBINDING_REJECTED, evil, evil),
        (VALID_HOST_ACCEPTED, own_host.as_str(), own_host.as_str()),
        (ORIGIN_REFUSED, own_host.as_str(), evil),
    ] {
        let (message, method) = opening(era);
        let mut probe = wire.fresh();
        let mut overrides = Overrides::default();
        if let (Ok(host_value), Ok(origin_value)) = (
            HeaderValue::from_str(host),
            HeaderValue::from_str(&format!("http://{origin}")),
        ) {
            overrides.headers.insert(HOST, host_value);
            overrides.headers.insert(ORIGIN, origin_value);
        }
        if era == Era::Modern {
            overrides
                .headers
                .extend(crate::session::modern_headers(&message).headers);
        }
        let result = probe
            .exchange(
                message.to_string().into_bytes(),
                message.get("id"),
                &overrides,
                timeout,
            )
            .await;
        let outcome = match result {
            Ok(exchange) => {
                let status = exchange.http.as_ref().map(|reply| reply.status);
                let served = format!("{method} with Host {host} and Origin http://{origin}");
                match (check, status) {
                    (REBINDING_REJECTED, Some(status)) if status.is_client_error() => {
                        Outcome::pass()
                    }
                    (VALID_HOST_ACCEPTED, Some(status)) if status.is_success() => Outcome::pass(),
                    (ORIGIN_REFUSED, Some(status)) if status.as_u16() == 403 => Outcome::pass(),
                    (VALID_HOST_ACCEPTED, _) => {
                        Outcome::fail(format!("{served} was refused ({status:?})"), &exchange)
                    }
                    (ORIGIN_REFUSED, Some(status)) if status.is_client_error() => Outcome::fail(
                        format!("{served} was refused with {status}, not 403 Forbidden"),
                        &exchange,
                    ),
                    _ => Outcome::fail(format!("{served} was served ({status:?})"), &exchange),
                }
            }
            Err(error) => Outcome::no_answer(method, &error),
        };
        probe.end_session(timeout).await;
        outcomes.push((check, outcome));
    }
    for (check, outcome) in outcomes {
        if ctx.selected(&check) {
            ctx.record(&check, outcome);
        }
    }
}

async fn multiple_streams(ctx: &mut Ctx<'_>) {
    if !ctx.wants(&MULTIPLE_STREAMS) {
        return;
    }
    let method = if ctx.session.declares("tools", None) {
        "tools/list"
    } else if ctx.era() == Era::Legacy {
        "ping"
    } else {
        "server/discover"
    };
    let mut bodies = Vec::new();
    let mut overrides = Overrides {
        accept: Some("text/event-stream, application/json"),
        ..Overrides::default()
    };
    for _ in 0..3 {
        let (message, headers) = ctx.session.build(method, json!({}));
        overrides.headers.extend(headers.headers);
        bodies.push(message.to_string().into_bytes());
    }
    let timeout = ctx.options.timeout;
    let Some(wire) = ctx.session.wire.http() else {
        return;
    };
    let statuses = wire.concurrent_posts(bodies, &overrides, timeout).await;
    let bad: Vec<String> = statuses
        .iter()
        .filter_map(|status| match status {
            Ok(status) if status.is_success() => None,
            Ok(status) => Some(status.to_string()),
            Err(error) => Some(error.to_string()),
        })
        .collect();
    let outcome = if bad.is_empty() {
        Outcome::pass()
    } else {
        Outcome::fail_because(format!(
            "three concurrent {method} POSTs: {}",
            bad.join(", ")
        ))
    };
    ctx.record(&MULTIPLE_STREAMS, outcome);
}

/// Ends a session of its own with DELETE and checks the id is dead afterwards.
async fn session_end(ctx: &mut Ctx<'_>, has_session: bool) {
    if ctx.era() != Era::Legacy || !has_session {
        let why = if ctx.era() == Era::Legacy {
            "the server assigned no session"
        } else {
            "2026-07-28 has no sessions"
        };
        ctx.skip(&DELETE_ACCEPTED, why);
        ctx.skip(&TERMINATED_404, why);
        return;
    }
    if !ctx.selected(&DELETE_ACCEPTED) && !ctx.selected(&TERMINATED_404) {
        return;
    }
    let timeout = ctx.options.timeout;
    let Some(main) = ctx.session.wire.http() else {
        return;
    };
    let mut wire: HttpWire = main.fresh();
    let (message, _) = opening(Era::Legacy);
    let opened = wire
        .exchange(
            message.to_string().into_bytes(),
            message.get("id"),
            &Overrides::default(),
            timeout,
        )
        .await;
    let version = opened
        .as_ref()
        .ok()
        .and_then(|exchange| exchange.result())
        .and_then(|result| result.get("protocolVersion"))
        .and_then(Value::as_str)
        .and_then(|version| HeaderValue::from_str(version).ok());
    if wire.session.is_none() || version.is_none() {
        ctx.skip(&DELETE_ACCEPTED, "a second session could not be opened");
        ctx.skip(&TERMINATED_404, "a second session could not be opened");
        return;
    }
    wire.protocol_version = version;
    let initialized = json!({ "jsonrpc": "2.0", "method": "notifications/initialized" });
    let _ = wire
        .exchange(
            initialized.to_string().into_bytes(),
            None,
            &Overrides::default(),
            timeout,
        )
        .await;
    let deleted = wire
        .bodiless(Method::DELETE, &Overrides::default(), timeout)
        .await;
    let delete_status = match &deleted {
        Ok((status, _)) => Some(*status),
        Err(_) => None,
    };
    if ctx.selected(&DELETE_ACCEPTED) {
        let outcome = match (&deleted, delete_status) {
            (_, Some(status)) if status.is_success() || status.as_u16() == 405 => Outcome::pass(),
            (_, Some(status)) => Outcome::fail_because(format!("DELETE answered {status}")),
            (Err(error), None) => Outcome::no_answer("DELETE", error),
            (Ok(_), None) => Outcome::fail_because("DELETE got no status"),
        };
        ctx.record(&DELETE_ACCEPTED, outcome);
    }
    if !ctx.selected(&TERMINATED_404) {
        return;
    }
    if delete_status.is_none_or(|status| !status.is_success()) {
        ctx.record(
            &TERMINATED_404,
            Outcome::Skip(format!(
                "the session was not ended (DELETE answered {delete_status:?}); the spec lets a server refuse it with 405"
            )),
        );
        return;
    }
    let after = json!({ "jsonrpc": "2.0", "id": "mcpcord-after-delete", "method": "ping" });
    let outcome = match wire
        .exchange(
            after.to_string().into_bytes(),
            after.get("id"),
            &Overrides::default(),
            timeout,
        )
        .await
    {
        Ok(exchange) => status_outcome(&exchange, 404),
        Err(error) => Outcome::no_answer("ping after DELETE", &error),
    };
    ctx.record(&TERMINATED_404, outcome);
}
