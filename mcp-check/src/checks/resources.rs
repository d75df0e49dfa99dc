//! Resources: lists, reads (reading has no side effects, so the first listed resource is read),
//! templates, subscriptions and a resource that does not exist.

use serde_json::{Value, json};

use super::tools::MAX_PAGES;
use super::{Ctx, ListArea, MUST, Outcome, SHOULD, kind, list_area, list_outcome};
use crate::report::Check;
use crate::session::Era;

const LIST: Check = Check {
    id: "resources-list",
    scenario: Some("resources-list"),
    level: MUST,
    section: "https://modelcontextprotocol.io/specification/2025-11-25/server/resources#listing-resources",
    title: "resources/list gives resources, each with a uri and a name",
};
const PAGINATION: Check = Check {
    id: "resources-list-pagination",
    scenario: None,
    level: MUST,
    section: "https://modelcontextprotocol.io/specification/2025-11-25/server/utilities/pagination",
    title: "resources/list pages end, no resource listed twice",
};
const READ: Check = Check {
    id: "resources-read",
    scenario: None,
    level: MUST,
    section: "https://modelcontextprotocol.io/specification/2025-11-25/server/resources#reading-resources",
    title: "reading the first listed resource gives contents, each with a uri and text or blob",
};
const READ_TEXT: Check = Check {
    id: "resources-read-text",
    scenario: Some("resources-read-text"),
    level: MUST,
    section: "https://modelcontextprotocol.io/specification/2025-11-25/server/resources#reading-resources",
    title: "test://static-text reads as text with uri and mimeType",
};
const READ_BINARY: Check = Check {
    id: "resources-read-binary",
    scenario: Some("resources-read-binary"),
    level: MUST,
    section: "https://modelcontextprotocol.io/specification/2025-11-25/server/resources#reading-resources",
    title: "test://static-binary reads as a blob with uri and mimeType",
};
const TEMPLATES: Check = Check {
    id: "resources-templates-list",
    scenario: None,
    level: MUST,
    section: "https://modelcontextprotocol.io/specification/2025-11-25/server/resources#resource-templates",
    title: "resources/templates/list gives templates, each with a uriTemplate and a name",
};
const TEMPLATE_READ: Check = Check {
    id: "resources-templates-read",
    scenario: Some("resources-templates-read"),
    level: MUST,
    section: "https://modelcontextprotocol.io/specification/2025-11-25/server/resources#resource-templates",
    title: "test://template/123/data (from test://template/{id}/data) reads with the id in it",
};
const SUBSCRIBE: Check = Check {
    id: "resources-subscribe",
    scenario: Some("resources-subscribe"),
    level: MUST,
    section: "https://modelcontextprotocol.io/specification/2025-11-25/server/resources#subscriptions",
    title: "resources/subscribe to a listed resource succeeds",
};
const UNSUBSCRIBE: Check = Check {
    id: "resources-unsubscribe",
    scenario: Some("resources-unsubscribe"),
    level: MUST,
    section: "https://modelcontextprotocol.io/specification/2025-11-25/schema#unsubscriberequest",
    title: "resources/unsubscribe from it succeeds",
};
const NOT_FOUND_LEGACY: Check = Check {
    id: "resources-read-not-found",
    scenario: None,
    level: SHOULD,
    section: "https://modelcontextprotocol.io/specification/2025-11-25/server/resources#error-handling",
    title: "reading a resource that does not exist is error -32002",
};
const NOT_FOUND_IS_ERROR: Check = Check {
    id: "sep-2164-not-found-is-error",
    scenario: Some("sep-2164-resource-not-found"),
    level: MUST,
    section: "https://modelcontextprotocol.io/specification/2026-07-28/server/resources#error-handling",
    title: "reading a resource that does not exist is a JSON-RPC error",
};
const NO_EMPTY_CONTENTS: Check = Check {
    id: "sep-2164-no-empty-contents",
    scenario: Some("sep-2164-resource-not-found"),
    level: MUST,
    section: "https://modelcontextprotocol.io/specification/2026-07-28/server/resources#error-handling",
    title: "a resource that does not exist is never a result with empty contents",
};
const NOT_FOUND_CODE: Check = Check {
    id: "sep-2164-error-code",
    scenario: Some("sep-2164-resource-not-found"),
    // A MUST in 2026-07-28 (the suite, written against a draft, warns only).
    level: MUST,
    section: "https://modelcontextprotocol.io/specification/2026-07-28/server/resources#error-handling",
    title: "that error is -32602",
};
const NOT_FOUND_URI: Check = Check {
    id: "sep-2164-data-uri",
    scenario: Some("sep-2164-resource-not-found"),
    level: SHOULD,
    section: "https://modelcontextprotocol.io/specification/2026-07-28/server/resources#error-handling",
    title: "that error's data.uri is the URI asked for",
};

pub(super) const CATALOGUE: &[Check] = &[
    LIST,
    PAGINATION,
    READ,
    READ_TEXT,
    READ_BINARY,
    TEMPLATES,
    TEMPLATE_READ,
    SUBSCRIBE,
    UNSUBSCRIBE,
    NOT_FOUND_LEGACY,
    NOT_FOUND_IS_ERROR,
    NO_EMPTY_CONTENTS,
    NOT_FOUND_CODE,
    NOT_FOUND_URI,
];

const MISSING_URI: &str = "test://nonexistent-resource-for-conformance-testing";

pub(super) async fn run(ctx: &mut Ctx<'_>) {
    if !ctx.session.declares("resources", None) {
        for check in CATALOGUE {
            ctx.skip(check, "the server declares no resources capability");
        }
        return;
    }
    let resources = list_area(
        ctx,
        &ListArea {
            method: "resources/list",
            key: "resources",
            item: "resource",
            id_field: "uri",
            list: LIST,
            pagination: PAGINATION,
            catalogue: CATALOGUE,
            problems: |items| item_problems(items, "resource", &["uri", "name"]),
        },
    )
    .await;
    let uris: Vec<String> = resources
        .iter()
        .filter_map(|resource| {
            resource
                .get("uri")
                .and_then(Value::as_str)
                .map(str::to_owned)
        })
        .collect();

    match uris.first() {
        None => ctx.skip_unless_gone(&READ, "the server lists no resource"),
        Some(uri) => {
            if ctx.wants(&READ)
                && let Some(exchange) = ctx
                    .request(&READ, "resources/read", json!({ "uri": uri }))
                    .await
            {
                let outcome = match exchange.result() {
                    Some(result) => {
                        Outcome::from_problems(&contents_problems(result, None), &exchange)
                    }
                    None => Outcome::fail(
                        format!("reading {uri} was not answered with a result"),
                        &exchange,
                    ),
                };
                ctx.record(&READ, outcome);
            }
        }
    }
    for (check, uri, field) in [
        (READ_TEXT, "test://static-text", "text"),
        (READ_BINARY, "test://static-binary", "blob"),
    ] {
        if !uris.iter().any(|listed| listed == uri) {
            ctx.skip(&check, super::NO_FIXTURE);
            continue;
        }
        if ctx.wants(&check)
            && let Some(exchange) = ctx
                .request(&check, "resources/read", json!({ "uri": uri }))
                .await
        {
            let outcome = match exchange.result() {
                Some(result) => {
                    let mut problems = contents_problems(result, Some(field));
                    if result
                        .pointer("/contents/0/mimeType")
                        .is_none_or(|m| !m.is_string())
                    {
                        problems.push("contents[0] has no mimeType".into());
                    }
                    Outcome::from_problems(&problems, &exchange)
                }
                None => Outcome::fail(
                    format!("reading {uri} was not answered with a result"),
                    &exchange,
                ),
            };
            ctx.record(&check, outcome);
        }
    }
    templates(ctx).await;
    subscriptions(ctx, uris.first().cloned()).await;
    not_found(ctx).await;
}

async fn templates(ctx: &mut Ctx<'_>) {
    let mut templates = Vec::new();
    // Recorded when selected (skipped, saying why, if the connection ended earlier).
    let templates_wanted = ctx.wants(&TEMPLATES);
    if (templates_wanted || ctx.selected(&TEMPLATE_READ)) && !ctx.session_gone() {
        match ctx
            .session
            .list_all("resources/templates/list", "resourceTemplates", MAX_PAGES)
            .await
        {
            Ok(listed) => {
                if templates_wanted {
                    let outcome = list_outcome(&listed, "resources/templates/list", |listed, _| {
                        item_problems(&listed.items, "template", &["uriTemplate", "name"])
                    });
                    ctx.record(&TEMPLATES, outcome);
                }
                templates = listed.items;
            }
            Err(error) => {
                ctx.lost(&TEMPLATES, &error);
                if templates_wanted {
                    ctx.record(
                        &TEMPLATES,
                        Outcome::no_answer("resources/templates/list", &error),
                    );
                }
            }
        }
    }
    let fixture = "test://template/{id}/data";
    if !templates
        .iter()
        .any(|template| template.get("uriTemplate") == Some(&json!(fixture)))
    {
        ctx.skip_unless_gone(&TEMPLATE_READ, super::NO_FIXTURE);
    } else if ctx.wants(&TEMPLATE_READ)
        && let Some(exchange) = ctx
            .request(
                &TEMPLATE_READ,
                "resources/read",
                json!({ "uri": "test://template/123/data" }),
            )
            .await
    {
        let outcome = match exchange.result() {
            Some(result) => {
                let mut problems = contents_problems(result, None);
                let text = result
                    .pointer("/contents/0/text")
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                if !text.contains("123") {
                    problems.push("the text does not contain the id 123".into());
                }
                Outcome::from_problems(&problems, &exchange)
            }
            None => Outcome::fail("the read was not answered with a result", &exchange),
        };
        ctx.record(&TEMPLATE_READ, outcome);
    }
}

async fn subscriptions(ctx: &mut Ctx<'_>, first: Option<String>) {
    if ctx.era() == Era::Modern {
        ctx.skip(
            &SUBSCRIBE,
            "2026-07-28 replaced resources/subscribe with subscriptions/listen",
        );
        ctx.skip(
            &UNSUBSCRIBE,
            "2026-07-28 replaced resources/subscribe with subscriptions/listen",
        );
        return;
    }
    if !ctx.session.declares("resources", Some("subscribe")) {
        ctx.skip(
            &SUBSCRIBE,
            "the server does not declare resources.subscribe",
        );
        ctx.skip(
            &UNSUBSCRIBE,
            "the server does not declare resources.subscribe",
        );
        return;
    }
    let Some(uri) = first else {
        ctx.skip(&SUBSCRIBE, "the server lists no resource to subscribe to");
        ctx.skip(&UNSUBSCRIBE, "the server lists no resource to subscribe to");
        return;
    };
    let mut subscribed = false;
    if ctx.wants(&SUBSCRIBE)
        && let Some(exchange) = ctx
            .request(&SUBSCRIBE, "resources/subscribe", json!({ "uri": uri }))
            .await
    {
        subscribed = exchange.result().is_some();
        let outcome = if subscribed {
            Outcome::pass()
        } else {
            Outcome::fail(
                format!("subscribing to {uri} was not answered with a result"),
                &exchange,
            )
        };
        ctx.record(&SUBSCRIBE, outcome);
    }
    if !subscribed {
        ctx.skip(&UNSUBSCRIBE, "nothing was subscribed to");
    } else if ctx.wants(&UNSUBSCRIBE)
        && let Some(exchange) = ctx
            .request(&UNSUBSCRIBE, "resources/unsubscribe", json!({ "uri": uri }))
            .await
    {
        let outcome = if exchange.result().is_some() {
            Outcome::pass()
        } else {
            Outcome::fail("unsubscribing was not answered with a result", &exchange)
        };
        ctx.record(&UNSUBSCRIBE, outcome);
    }
}

async fn not_found(ctx: &mut Ctx<'_>) {
    let modern_checks = [
        NOT_FOUND_IS_ERROR,
        NO_EMPTY_CONTENTS,
        NOT_FOUND_CODE,
        NOT_FOUND_URI,
    ];
    let exchange = match ctx.era() {
        Era::Legacy => {
            for check in &modern_checks {
                ctx.skip(check, super::NOT_THIS_REVISION_2026);
            }
            if !ctx.wants(&NOT_FOUND_LEGACY) {
                return;
            }
            let Some(exchange) = ctx
                .request(
                    &NOT_FOUND_LEGACY,
                    "resources/read",
                    json!({ "uri": MISSING_URI }),
                )
                .await
            else {
                return;
            };
            let outcome = match exchange.error_code() {
                Some(-32002) => Outcome::pass(),
                Some(code) => Outcome::fail(format!("error code {code}, not -32002"), &exchange),
                None => Outcome::fail("no error for a resource that does not exist", &exchange),
            };
            ctx.record(&NOT_FOUND_LEGACY, outcome);
            return;
        }
        Era::Modern => {
            ctx.skip(
                &NOT_FOUND_LEGACY,
                "2026-07-28 asks for -32602 instead (sep-2164)",
            );
            if !modern_checks.iter().any(|check| ctx.selected(check)) || ctx.session_gone() {
                return;
            }
            match ctx
                .session
                .request("resources/read", json!({ "uri": MISSING_URI }))
                .await
            {
                Ok(exchange) => exchange,
                Err(error) => {
                    ctx.lost(&NOT_FOUND_IS_ERROR, &error);
                    for check in &modern_checks {
                        if ctx.selected(check) {
                            ctx.record(check, Outcome::no_answer("resources/read", &error));
                        }
                    }
                    return;
                }
            }
        }
    };
    let verdicts = [
        (
            NOT_FOUND_IS_ERROR,
            if exchange.error().is_some() {
                Outcome::pass()
            } else {
                Outcome::fail("answered with a result", &exchange)
            },
        ),
        (
            NO_EMPTY_CONTENTS,
            match exchange
                .result()
                .and_then(|r| r.get("contents"))
                .and_then(Value::as_array)
            {
                Some(contents) if contents.is_empty() => {
                    Outcome::fail("a result with empty contents", &exchange)
                }
                _ => Outcome::pass(),
            },
        ),
        (
            NOT_FOUND_CODE,
            match exchange.error_code() {
                Some(-32602) => Outcome::pass(),
                Some(code) => Outcome::fail(format!("error code {code}, not -32602"), &exchange),
                None => Outcome::fail("no error", &exchange),
            },
        ),
        (
            NOT_FOUND_URI,
            if exchange.error().and_then(|e| e.pointer("/data/uri")) == Some(&json!(MISSING_URI)) {
                Outcome::pass()
            } else {
                Outcome::fail("the error's data.uri is not the URI asked for", &exchange)
            },
        ),
    ];
    for (check, outcome) in verdicts {
        if ctx.selected(&check) {
            ctx.record(&check, outcome);
        }
    }
}

/// Problems of list items that must each have string `fields`.
fn item_problems(items: &[Value], what: &str, fields: &[&str]) -> Vec<String> {
    let mut problems = Vec::new();
    for (index, item) in items.iter().enumerate() {
        for field in fields {
            if !item.get(*field).is_some_and(Value::is_string) {
                problems.push(format!(
                    "{what} {index}: {field} is {}",
                    kind(item.get(*field))
                ));
            }
        }
    }
    problems
}

/// Problems of a read result: contents non-empty, each with a uri and text or blob (or, with
/// `field`, that one).
fn contents_problems(result: &Value, field: Option<&str>) -> Vec<String> {
    let Some(contents) = result.get("contents").and_then(Value::as_array) else {
        return vec![format!("contents is {}", kind(result.get("contents")))];
    };
    if contents.is_empty() {
        return vec!["contents is empty".into()];
    }
    let mut problems = Vec::new();
    for (index, item) in contents.iter().enumerate() {
        if !item.get("uri").is_some_and(Value::is_string) {
            problems.push(format!("contents[{index}] has no uri"));
        }
        let has = match field {
            Some(field) => item.get(field).is_some_and(Value::is_string),
            None => {
                item.get("text").is_some_and(Value::is_string)
                    || item.get("blob").is_some_and(Value::is_string)
            }
        };
        if !has {
            problems.push(format!(
                "contents[{index}] has no {}",
                field.unwrap_or("text or blob")
            ));
        }
    }
    problems
}
