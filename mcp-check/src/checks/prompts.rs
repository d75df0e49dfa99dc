//! Prompts (getting one has no side effects, so the first listed prompt is got) and completion.

use serde_json::{Map, Value, json};

use super::{Ctx, ListArea, MUST, Outcome, kind, list_area};
use crate::report::Check;
use crate::wire::Exchange;

const GETTING: &str =
    "https://modelcontextprotocol.io/specification/2025-11-25/server/prompts#getting-a-prompt";

const LIST: Check = Check {
    id: "prompts-list",
    scenario: Some("prompts-list"),
    level: MUST,
    section: "https://modelcontextprotocol.io/specification/2025-11-25/server/prompts#listing-prompts",
    title: "prompts/list gives prompts, each with a name",
};
const PAGINATION: Check = Check {
    id: "prompts-list-pagination",
    scenario: None,
    level: MUST,
    section: "https://modelcontextprotocol.io/specification/2025-11-25/server/utilities/pagination",
    title: "prompts/list pages end, no prompt listed twice",
};
const GET: Check = Check {
    id: "prompts-get",
    scenario: None,
    level: MUST,
    section: GETTING,
    title: "getting the first listed prompt (required arguments filled) gives messages with a role and content",
};
const COMPLETION: Check = Check {
    id: "completion-complete",
    scenario: Some("completion-complete"),
    level: MUST,
    section: "https://modelcontextprotocol.io/specification/2025-11-25/server/utilities/completion",
    title: "completion/complete for a prompt argument gives at most 100 string values",
};

/// A get of one of the conformance suite's fixture prompts, and what its messages must hold.
struct FixturePrompt {
    check: Check,
    prompt: &'static str,
    arguments: fn() -> Value,
    judge: fn(&[Value]) -> Option<String>,
}

const fn fixture(id: &'static str, title: &'static str) -> Check {
    Check {
        id,
        scenario: Some(id),
        level: MUST,
        section: GETTING,
        title,
    }
}

const FIXTURE_PROMPTS: [FixturePrompt; 4] = [
    FixturePrompt {
        check: fixture("prompts-get-simple", "test_simple_prompt gives messages"),
        prompt: "test_simple_prompt",
        arguments: || json!({}),
        judge: |_| None,
    },
    FixturePrompt {
        check: fixture(
            "prompts-get-with-args",
            "test_prompt_with_arguments puts both arguments in its messages",
        ),
        prompt: "test_prompt_with_arguments",
        arguments: || json!({ "arg1": "testValue1", "arg2": "testValue2" }),
        judge: |messages| {
            let text = Value::from(messages.to_vec()).to_string();
            (!(text.contains("testValue1") && text.contains("testValue2")))
                .then(|| "the messages do not contain both argument values".to_owned())
        },
    },
    FixturePrompt {
        check: fixture(
            "prompts-get-embedded-resource",
            "test_prompt_with_embedded_resource embeds a resource",
        ),
        prompt: "test_prompt_with_embedded_resource",
        arguments: || json!({ "resourceUri": "test://example-resource" }),
        judge: |messages| {
            (!messages
                .iter()
                .any(|m| m.pointer("/content/type") == Some(&json!("resource"))))
            .then(|| "no message has resource content".to_owned())
        },
    },
    FixturePrompt {
        check: fixture(
            "prompts-get-with-image",
            "test_prompt_with_image gives image content",
        ),
        prompt: "test_prompt_with_image",
        arguments: || json!({}),
        judge: |messages| {
            (!messages.iter().any(|m| {
                m.pointer("/content/type") == Some(&json!("image"))
                    && m.pointer("/content/data").is_some()
                    && m.pointer("/content/mimeType").is_some()
            }))
            .then(|| "no message has image content with data and mimeType".to_owned())
        },
    },
];

pub(super) const CATALOGUE: &[Check] = &[
    LIST,
    PAGINATION,
    GET,
    FIXTURE_PROMPTS[0].check,
    FIXTURE_PROMPTS[1].check,
    FIXTURE_PROMPTS[2].check,
    FIXTURE_PROMPTS[3].check,
    COMPLETION,
];

pub(super) async fn run(ctx: &mut Ctx<'_>) {
    if !ctx.session.declares("prompts", None) {
        for check in CATALOGUE {
            if *check != COMPLETION {
                ctx.skip(check, "the server declares no prompts capability");
            }
        }
        completion(ctx, &[]).await;
        return;
    }
    let prompts = list_area(
        ctx,
        &ListArea {
            method: "prompts/list",
            key: "prompts",
            item: "prompt",
            id_field: "name",
            list: LIST,
            pagination: PAGINATION,
            catalogue: CATALOGUE,
            problems: prompt_problems,
        },
    )
    .await;
    match prompts.first() {
        None => ctx.skip_unless_gone(&GET, "the server lists no prompt"),
        Some(prompt) => {
            let name = prompt
                .get("name")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned();
            let arguments = required_arguments(prompt);
            let placeholders = !arguments_empty(&arguments);
            if ctx.wants(&GET)
                && let Some(exchange) = ctx
                    .request(
                        &GET,
                        "prompts/get",
                        json!({ "name": &name, "arguments": arguments }),
                    )
                    .await
            {
                // The placeholder may not be a value the prompt accepts: refusing it as invalid
                // params is a right answer, and leaves the result's shape unseen.
                let outcome = if placeholders && exchange.error_code() == Some(-32602) {
                    Outcome::Skip(format!(
                        "{name} refused the placeholder arguments with -32602 (invalid params), \
                         so no result could be judged"
                    ))
                } else {
                    judge_messages(&exchange, |_| None)
                };
                ctx.record(&GET, outcome);
            }
        }
    }
    let has = |name: &str| {
        prompts
            .iter()
            .any(|prompt| prompt.get("name") == Some(&json!(name)))
    };
    for fixture in &FIXTURE_PROMPTS {
        if !has(fixture.prompt) {
            ctx.skip(&fixture.check, super::NO_FIXTURE);
            continue;
        }
        if ctx.wants(&fixture.check)
            && let Some(exchange) = ctx
                .request(
                    &fixture.check,
                    "prompts/get",
                    json!({ "name": fixture.prompt, "arguments": (fixture.arguments)() }),
                )
                .await
        {
            let outcome = judge_messages(&exchange, fixture.judge);
            ctx.record(&fixture.check, outcome);
        }
    }
    completion(ctx, &prompts).await;
}

/// Prompts without a string name.
fn prompt_problems(prompts: &[Value]) -> Vec<String> {
    prompts
        .iter()
        .enumerate()
        .filter(|(_, prompt)| !prompt.get("name").is_some_and(Value::is_string))
        .map(|(index, prompt)| format!("prompt {index}: name is {}", kind(prompt.get("name"))))
        .collect()
}

/// Whether `arguments` (an object) has no member.
fn arguments_empty(arguments: &Value) -> bool {
    arguments.as_object().is_none_or(Map::is_empty)
}

/// Every required argument of `prompt`, filled with a harmless string.
fn required_arguments(prompt: &Value) -> Value {
    let mut arguments = Map::new();
    for argument in prompt
        .get("arguments")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        if argument.get("required") == Some(&json!(true))
            && let Some(name) = argument.get("name").and_then(Value::as_str)
        {
            arguments.insert(name.to_owned(), json!("mcpcord-check"));
        }
    }
    Value::Object(arguments)
}

/// Messages present, each with a user or assistant role and a typed content; then `extra`.
fn judge_messages(exchange: &Exchange, extra: fn(&[Value]) -> Option<String>) -> Outcome {
    let Some(messages) = exchange
        .result()
        .and_then(|r| r.get("messages"))
        .and_then(Value::as_array)
    else {
        return Outcome::fail("no result with a messages array", exchange);
    };
    let mut problems = Vec::new();
    if messages.is_empty() {
        problems.push("messages is empty".to_owned());
    }
    for (index, message) in messages.iter().enumerate() {
        match message.get("role").and_then(Value::as_str) {
            Some("user" | "assistant") => {}
            _ => problems.push(format!("messages[{index}].role is not user or assistant")),
        }
        if !message
            .pointer("/content/type")
            .is_some_and(Value::is_string)
        {
            problems.push(format!("messages[{index}].content has no type"));
        }
    }
    problems.extend(extra(messages));
    Outcome::from_problems(&problems, exchange)
}

async fn completion(ctx: &mut Ctx<'_>, prompts: &[Value]) {
    if !ctx.session.declares("completions", None) {
        ctx.skip(&COMPLETION, "the server declares no completions capability");
        return;
    }
    let with_argument = |prompt: &&Value| {
        prompt
            .pointer("/arguments/0/name")
            .and_then(Value::as_str)
            .is_some()
    };
    let chosen = prompts
        .iter()
        .find(|prompt| prompt.get("name") == Some(&json!("test_prompt_with_arguments")))
        .or_else(|| prompts.iter().find(with_argument));
    let Some((prompt, argument)) = chosen.and_then(|prompt| {
        Some((
            prompt.get("name")?.as_str()?.to_owned(),
            prompt.pointer("/arguments/0/name")?.as_str()?.to_owned(),
        ))
    }) else {
        ctx.skip(&COMPLETION, "no listed prompt has an argument to complete");
        return;
    };
    if !ctx.wants(&COMPLETION) {
        return;
    }
    let params = json!({
        "ref": { "type": "ref/prompt", "name": prompt },
        "argument": { "name": argument, "value": "test" },
    });
    let Some(exchange) = ctx
        .request(&COMPLETION, "completion/complete", params)
        .await
    else {
        return;
    };
    let outcome = match exchange
        .result()
        .and_then(|r| r.pointer("/completion/values"))
        .and_then(Value::as_array)
    {
        Some(values) if values.len() > 100 => {
            Outcome::fail(format!("{} values, more than 100", values.len()), &exchange)
        }
        Some(values) if values.iter().all(Value::is_string) => Outcome::pass(),
        Some(_) => Outcome::fail("a value is not a string", &exchange),
        None => Outcome::fail("no result with completion.values", &exchange),
    };
    ctx.record(&COMPLETION, outcome);
}
