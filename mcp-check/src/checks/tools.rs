//! Tools: the list and its pages, and calls. Only the conformance suite's own `test_*` tools are
//! ever called (a server's other tools may act on the world); errors are checked with a tool name
//! no server has.

use serde_json::{Value, json};

use super::{Ctx, MUST, Outcome, SHOULD, kind, list_outcome};
use crate::report::Check;
use crate::session::{Era, Listed};
use crate::wire::Exchange;

/// The most pages a list check reads.
pub(super) const MAX_PAGES: usize = 100;

const LIST: Check = Check {
    id: "tools-list",
    scenario: Some("tools-list"),
    level: MUST,
    section: "https://modelcontextprotocol.io/specification/2025-11-25/server/tools#listing-tools",
    title: "tools/list gives tools, each with a name and an object inputSchema",
};
const NAME_FORMAT: Check = Check {
    id: "tools-name-format",
    scenario: Some("tools-list"),
    level: SHOULD,
    section: "https://modelcontextprotocol.io/specification/2025-11-25/server/tools#tool-names",
    title: "tool names are 1-128 characters of A-Z a-z 0-9 _ - . and unique",
};
const PAGINATION: Check = Check {
    id: "tools-list-pagination",
    scenario: None,
    level: MUST,
    section: "https://modelcontextprotocol.io/specification/2025-11-25/server/utilities/pagination",
    title: "tools/list pages end: no cursor handed out twice, no tool listed twice",
};
const INVALID_CURSOR: Check = Check {
    id: "tools-list-invalid-cursor",
    scenario: None,
    level: SHOULD,
    section: "https://modelcontextprotocol.io/specification/2025-11-25/server/utilities/pagination#error-handling",
    title: "an invalid cursor is answered with -32602",
};
const UNKNOWN_TOOL: Check = Check {
    id: "tools-call-unknown-tool",
    scenario: Some("tools-call-error"),
    level: MUST,
    section: "https://modelcontextprotocol.io/specification/2025-11-25/server/tools#error-handling",
    title: "calling a tool that does not exist is an error (JSON-RPC error or isError: true), never a success",
};
const UNKNOWN_TOOL_PROTOCOL: Check = Check {
    id: "tools-call-unknown-tool-protocol-error",
    scenario: Some("tools-call-error"),
    level: SHOULD,
    section: "https://modelcontextprotocol.io/specification/2025-11-25/server/tools#error-handling",
    title: "an unknown tool is a protocol error (JSON-RPC -32602), as the spec lists it",
};

/// A call to one of the conformance suite's fixture tools, and what its result must hold.
struct FixtureCall {
    check: Check,
    tool: &'static str,
    judge: fn(&Value) -> Vec<String>,
}

const fn fixture(id: &'static str, title: &'static str, section: &'static str) -> Check {
    Check {
        id,
        scenario: Some(id),
        level: MUST,
        section,
        title,
    }
}

const CALLING: &str =
    "https://modelcontextprotocol.io/specification/2025-11-25/server/tools#calling-tools";

const FIXTURE_CALLS: [FixtureCall; 6] = [
    FixtureCall {
        check: fixture(
            "tools-call-simple-text",
            "test_simple_text returns text content",
            CALLING,
        ),
        tool: "test_simple_text",
        judge: |result| need_content(result, "text", &["text"]),
    },
    FixtureCall {
        check: fixture(
            "tools-call-image",
            "test_image_content returns image content with data and mimeType",
            CALLING,
        ),
        tool: "test_image_content",
        judge: |result| need_content(result, "image", &["data", "mimeType"]),
    },
    FixtureCall {
        check: fixture(
            "tools-call-audio",
            "test_audio_content returns audio content with data and mimeType",
            CALLING,
        ),
        tool: "test_audio_content",
        judge: |result| need_content(result, "audio", &["data", "mimeType"]),
    },
    FixtureCall {
        check: fixture(
            "tools-call-embedded-resource",
            "test_embedded_resource returns an embedded resource with uri and text or blob",
            CALLING,
        ),
        tool: "test_embedded_resource",
        judge: |result| {
            let found = content(result).iter().any(|item| {
                item.get("type") == Some(&json!("resource"))
                    && item.get("resource").is_some_and(|resource| {
                        resource.get("uri").is_some_and(Value::is_string)
                            && (resource.get("text").is_some() || resource.get("blob").is_some())
                    })
            });
            if found {
                Vec::new()
            } else {
                vec!["no resource content with uri and text or blob".into()]
            }
        },
    },
    FixtureCall {
        check: fixture(
            "tools-call-mixed-content",
            "test_multiple_content_types returns text, image and resource content together",
            CALLING,
        ),
        tool: "test_multiple_content_types",
        judge: |result| {
            ["text", "image", "resource"]
                .into_iter()
                .filter(|wanted| {
                    !content(result)
                        .iter()
                        .any(|item| item.get("type") == Some(&json!(wanted)))
                })
                .map(|missing| format!("no {missing} content"))
                .collect()
        },
    },
    FixtureCall {
        check: fixture(
            "tools-call-error",
            "test_error_handling reports its failure with isError: true and a text",
            "https://modelcontextprotocol.io/specification/2025-11-25/server/tools#error-handling",
        ),
        tool: "test_error_handling",
        judge: |result| {
            let mut problems = Vec::new();
            if result.get("isError") != Some(&json!(true)) {
                problems.push("isError is not true".to_owned());
            }
            if !content(result)
                .first()
                .and_then(|item| item.get("text"))
                .is_some_and(Value::is_string)
            {
                problems.push("the first content item has no text".to_owned());
            }
            problems
        },
    },
];

const PROGRESS: Check = fixture(
    "tools-call-with-progress",
    "test_tool_with_progress sends at least 3 progress notifications for the token, each higher",
    "https://modelcontextprotocol.io/specification/2025-11-25/basic/utilities/progress",
);

const LOGGING: Check = fixture(
    "tools-call-with-logging",
    "test_tool_with_logging sends at least 3 log messages while it runs (level set to debug first)",
    "https://modelcontextprotocol.io/specification/2025-11-25/server/utilities/logging",
);

pub(super) const CATALOGUE: &[Check] = &[
    LIST,
    NAME_FORMAT,
    PAGINATION,
    INVALID_CURSOR,
    FIXTURE_CALLS[0].check,
    FIXTURE_CALLS[1].check,
    FIXTURE_CALLS[2].check,
    FIXTURE_CALLS[3].check,
    FIXTURE_CALLS[4].check,
    FIXTURE_CALLS[5].check,
    UNKNOWN_TOOL,
    UNKNOWN_TOOL_PROTOCOL,
    PROGRESS,
    LOGGING,
];

/// A result's content array (empty when there is none).
pub(super) fn content(result: &Value) -> &[Value] {
    result
        .get("content")
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice)
}

/// Problems unless `result` has a content item of `kind` with every field in `fields`.
fn need_content(result: &Value, kind_wanted: &str, fields: &[&str]) -> Vec<String> {
    let found = content(result).iter().any(|item| {
        item.get("type") == Some(&json!(kind_wanted))
            && fields.iter().all(|field| item.get(*field).is_some())
    });
    if found {
        Vec::new()
    } else {
        vec![format!(
            "no {kind_wanted} content with {}",
            fields.join(" and ")
        )]
    }
}

pub(super) async fn run(ctx: &mut Ctx<'_>) {
    let all: Vec<Check> = CATALOGUE.to_vec();
    if !ctx.session.declares("tools", None) {
        for check in &all {
            if *check != UNKNOWN_TOOL && *check != UNKNOWN_TOOL_PROTOCOL {
                ctx.skip(check, "the server declares no tools capability");
            }
        }
        unknown_tool(ctx).await;
        return;
    }
    let wants_list = [LIST, NAME_FORMAT, PAGINATION]
        .iter()
        .any(|check| ctx.selected(check))
        || FIXTURE_CALLS.iter().any(|call| ctx.selected(&call.check))
        || ctx.selected(&PROGRESS);
    let mut tools = Vec::new();
    if wants_list && !ctx.session_gone() {
        match ctx.session.list_all("tools/list", "tools", MAX_PAGES).await {
            Ok(listed) => {
                judge_list(ctx, &listed);
                tools = listed.items;
            }
            Err(error) => {
                ctx.lost(&LIST, &error);
                for check in [LIST, NAME_FORMAT, PAGINATION] {
                    if ctx.selected(&check) {
                        ctx.record(&check, Outcome::no_answer("tools/list", &error));
                    }
                }
            }
        }
    }
    if ctx.wants(&INVALID_CURSOR)
        && let Some(exchange) = ctx
            .request(
                &INVALID_CURSOR,
                "tools/list",
                json!({ "cursor": "mcpcord-check-not-a-cursor" }),
            )
            .await
    {
        let outcome = match exchange.error_code() {
            Some(-32602) => Outcome::pass(),
            Some(code) => Outcome::fail(format!("error code {code}, not -32602"), &exchange),
            None => Outcome::fail("the invalid cursor was accepted", &exchange),
        };
        ctx.record(&INVALID_CURSOR, outcome);
    }
    let has = |name: &str| {
        tools
            .iter()
            .any(|tool| tool.get("name") == Some(&json!(name)))
    };
    for call in &FIXTURE_CALLS {
        if !has(call.tool) {
            ctx.skip(&call.check, super::NO_FIXTURE);
            continue;
        }
        if ctx.wants(&call.check)
            && let Some(exchange) = ctx
                .request(
                    &call.check,
                    "tools/call",
                    json!({ "name": call.tool, "arguments": {} }),
                )
                .await
        {
            let outcome = match exchange.result() {
                Some(result) => Outcome::from_problems(&(call.judge)(result), &exchange),
                None => Outcome::fail("the call was not answered with a result", &exchange),
            };
            ctx.record(&call.check, outcome);
        }
    }
    unknown_tool(ctx).await;
    logging(ctx, has("test_tool_with_logging")).await;
    if !has("test_tool_with_progress") {
        ctx.skip(&PROGRESS, super::NO_FIXTURE);
    } else if ctx.wants(&PROGRESS) {
        let params = json!({
            "name": "test_tool_with_progress",
            "arguments": {},
            "_meta": { "progressToken": "mcpcord-progress-1" },
        });
        if let Some(exchange) = ctx.request(&PROGRESS, "tools/call", params).await {
            let outcome = judge_progress(&exchange);
            ctx.record(&PROGRESS, outcome);
        }
    }
}

/// The fixture's logging tool: the level set to debug, then at least three `notifications/message`
/// while the call runs (on the call's stream over HTTP; before its answer over stdio).
async fn logging(ctx: &mut Ctx<'_>, listed: bool) {
    if ctx.era() == Era::Modern {
        ctx.skip(&LOGGING, "2026-07-28 removed logging/setLevel");
        return;
    }
    if !listed {
        ctx.skip(&LOGGING, super::NO_FIXTURE);
        return;
    }
    if !ctx.session.declares("logging", None) {
        ctx.skip(&LOGGING, "the server declares no logging capability");
        return;
    }
    if !ctx.wants(&LOGGING)
        || ctx
            .request(&LOGGING, "logging/setLevel", json!({ "level": "debug" }))
            .await
            .is_none()
    {
        return;
    }
    let params = json!({ "name": "test_tool_with_logging", "arguments": {} });
    let Some(exchange) = ctx.request(&LOGGING, "tools/call", params).await else {
        return;
    };
    let messages = exchange
        .received
        .iter()
        .filter_map(|received| received.message.as_ref())
        .filter(|message| message.get("method") == Some(&json!("notifications/message")))
        .count();
    let outcome = if exchange.result().is_none() {
        Outcome::fail("the call was not answered with a result", &exchange)
    } else if messages < 3 {
        Outcome::fail(
            format!("{messages} log messages before the result, not 3 or more"),
            &exchange,
        )
    } else {
        Outcome::pass()
    };
    ctx.record(&LOGGING, outcome);
}

/// The unknown-tool checks, which need no listed tool.
async fn unknown_tool(ctx: &mut Ctx<'_>) {
    let wants = ctx.wants(&UNKNOWN_TOOL);
    // Without the tools capability tools/call is itself unknown: -32601 is then right.
    let wants_protocol = if ctx.session.declares("tools", None) {
        ctx.selected(&UNKNOWN_TOOL_PROTOCOL)
    } else {
        ctx.skip(
            &UNKNOWN_TOOL_PROTOCOL,
            "the server declares no tools capability",
        );
        false
    };
    if !wants && !wants_protocol {
        return;
    }
    let params = json!({ "name": "mcpcord-check-no-such-tool", "arguments": {} });
    let exchange = match ctx.session.request("tools/call", params).await {
        Ok(exchange) => exchange,
        Err(error) => {
            ctx.lost(&UNKNOWN_TOOL, &error);
            for (check, selected) in [
                (UNKNOWN_TOOL, wants),
                (UNKNOWN_TOOL_PROTOCOL, wants_protocol),
            ] {
                if selected {
                    ctx.record(&check, Outcome::no_answer("tools/call", &error));
                }
            }
            return;
        }
    };
    let is_error_result =
        exchange.result().and_then(|result| result.get("isError")) == Some(&json!(true));
    if wants {
        let outcome = if exchange.error().is_some() || is_error_result {
            Outcome::pass()
        } else {
            Outcome::fail(
                "a tool that does not exist was reported as a success",
                &exchange,
            )
        };
        ctx.record(&UNKNOWN_TOOL, outcome);
    }
    if wants_protocol {
        let outcome = match exchange.error_code() {
            Some(-32602) => Outcome::pass(),
            Some(code) => Outcome::fail(format!("error code {code}, not -32602"), &exchange),
            None => Outcome::fail("answered with a result, not a JSON-RPC error", &exchange),
        };
        ctx.record(&UNKNOWN_TOOL_PROTOCOL, outcome);
    }
}

fn judge_list(ctx: &mut Ctx<'_>, listed: &Listed) {
    let last = listed.failed.as_ref().or(listed.pages.last());
    if ctx.selected(&LIST) {
        let outcome = list_outcome(listed, "tools/list", tool_problems);
        ctx.record(&LIST, outcome);
    }
    if ctx.selected(&NAME_FORMAT) {
        let mut problems = Vec::new();
        let mut seen = std::collections::HashSet::new();
        for tool in &listed.items {
            let Some(name) = tool.get("name").and_then(Value::as_str) else {
                continue;
            };
            let length = name.chars().count();
            if !(1..=128).contains(&length) {
                problems.push(format!("{name:?} is {length} characters long"));
            } else if !name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
            {
                problems.push(format!("{name:?} has characters outside A-Z a-z 0-9 _ - ."));
            }
            if !seen.insert(name) {
                problems.push(format!("{name:?} is listed twice"));
            }
        }
        let outcome = match last {
            Some(exchange) => Outcome::from_problems(&problems, exchange),
            None => Outcome::fail_because("tools/list was never answered"),
        };
        ctx.record(&NAME_FORMAT, outcome);
    }
    if ctx.selected(&PAGINATION) {
        let outcome = pagination_outcome(listed, "tools", "name");
        ctx.record(&PAGINATION, outcome);
    }
}

/// The verdict on a list's pages: it ended, and no item came twice (by `key`).
pub(super) fn pagination_outcome(listed: &Listed, what: &str, key: &str) -> Outcome {
    let Some(last) = listed.pages.last() else {
        return Outcome::Skip(format!("no page of {what} was read"));
    };
    if let Some(cursor) = &listed.looped {
        return Outcome::fail(
            format!("the cursor {cursor:?} was handed out twice: the list never ends"),
            last,
        );
    }
    if listed.unfinished {
        return Outcome::fail(format!("still a nextCursor after {MAX_PAGES} pages"), last);
    }
    // An item on two pages is the list going round; twice on one page is a naming matter (the
    // uniqueness SHOULD of tools-name-format), not pagination's.
    let mut first_page = std::collections::HashMap::new();
    for (item, page) in listed.items.iter().zip(&listed.item_pages) {
        if let Some(name) = item.get(key).and_then(Value::as_str)
            && let Some(earlier) = first_page.insert(name, *page)
            && earlier != *page
        {
            return Outcome::fail(
                format!(
                    "{what} {name:?} came on page {} and again on page {}",
                    earlier + 1,
                    page + 1
                ),
                last,
            );
        }
    }
    Outcome::Pass((listed.pages.len() > 1).then(|| format!("{} pages", listed.pages.len())))
}

fn tool_problems(listed: &Listed, exchange: &Exchange) -> Vec<String> {
    let mut problems = Vec::new();
    if exchange
        .result()
        .and_then(|result| result.get("tools"))
        .is_none_or(|tools| !tools.is_array())
    {
        problems.push(format!(
            "result.tools is {}, not an array",
            kind(exchange.result().and_then(|result| result.get("tools")))
        ));
    }
    for (index, tool) in listed.items.iter().enumerate() {
        let name = tool.get("name").and_then(Value::as_str);
        let label = name.map_or_else(|| format!("tool {index}"), |name| format!("tool {name:?}"));
        if name.is_none_or(str::is_empty) {
            problems.push(format!("{label} has no name"));
        }
        match tool.get("inputSchema") {
            Some(schema) if schema.get("type") == Some(&json!("object")) => {}
            Some(schema) => problems.push(format!(
                "{label}: inputSchema.type is {}, not \"object\"",
                kind(schema.get("type"))
            )),
            None => problems.push(format!("{label} has no inputSchema")),
        }
    }
    problems
}

fn judge_progress(exchange: &Exchange) -> Outcome {
    let values: Vec<f64> = exchange
        .received
        .iter()
        .filter_map(|received| received.message.as_ref())
        .filter(|message| message.get("method") == Some(&json!("notifications/progress")))
        .filter(|message| {
            message.pointer("/params/progressToken") == Some(&json!("mcpcord-progress-1"))
        })
        .filter_map(|message| message.pointer("/params/progress").and_then(Value::as_f64))
        .collect();
    if values.len() < 3 {
        return Outcome::fail(
            format!(
                "{} progress notifications for the token, not 3 or more",
                values.len()
            ),
            exchange,
        );
    }
    // "The progress value MUST increase with each notification."
    if values.windows(2).any(|pair| pair[1] <= pair[0]) {
        return Outcome::fail(
            format!("progress did not increase each time: {values:?}"),
            exchange,
        );
    }
    Outcome::pass()
}
