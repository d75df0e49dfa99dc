//! What the server offers: the conformance suite's own test tools, resources and prompts, with the
//! exact names and contents its server scenarios check (`tools-call-*`, `resources-*`,
//! `prompts-get-*`, `completion-complete`). Only those that need no request to the client.

use serde_json::{Value, json};

use super::rpc::{RpcError, str_at};

/// A 1x1 PNG.
const PNG: &str = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==";
/// A WAV of eight silent 8-bit samples at 8 kHz.
const WAV: &str = "UklGRiwAAABXQVZFZm10IBAAAAABAAEAQB8AAEAfAAABAAgAZGF0YQgAAACAgICAgICAgA==";
const ERROR_TEXT: &str = "This tool intentionally returns an error for testing";

/// The tools, in `tools/list` order: two pages of [`PAGE_SIZE`].
const TOOLS: [(&str, &str); 8] = [
    ("test_simple_text", "Returns simple text content"),
    ("test_image_content", "Returns a PNG image"),
    ("test_audio_content", "Returns a WAV clip"),
    (
        "test_embedded_resource",
        "Returns an embedded text resource",
    ),
    (
        "test_multiple_content_types",
        "Returns text, an image and a resource",
    ),
    ("test_error_handling", "Always fails, with isError: true"),
    (
        "test_tool_with_logging",
        "Sends three log messages while it runs",
    ),
    (
        "test_tool_with_progress",
        "Reports progress three times while it runs",
    ),
];
const PAGE_SIZE: usize = 4;
/// The opaque cursor of page 2 (base64 of `tools:4`).
const PAGE_2_CURSOR: &str = "dG9vbHM6NA";

/// One page of tools. `loop_pages` is [`super::Violation::BadPagination`]: every cursor, valid or
/// not, yields page 2, which points at itself.
pub(super) fn list_tools(cursor: Option<&str>, loop_pages: bool) -> Result<Value, RpcError> {
    let start = match cursor {
        None => 0,
        Some(_) if loop_pages => PAGE_SIZE,
        Some(PAGE_2_CURSOR) => PAGE_SIZE,
        Some(other) => return Err(RpcError::invalid_params(format!("invalid cursor: {other}"))),
    };
    let tools: Vec<Value> = TOOLS[start..]
        .iter()
        .take(PAGE_SIZE)
        .map(|(name, description)| {
            json!({
                "name": name,
                "description": description,
                "inputSchema": {"type": "object", "properties": {}}
            })
        })
        .collect();
    let mut page = json!({ "tools": tools });
    if start == 0 || loop_pages {
        page["nextCursor"] = PAGE_2_CURSOR.into();
    }
    Ok(page)
}

/// Calls a tool. `hide_errors` is [`super::Violation::MissingIsError`]: failures become normal
/// results that only say, in prose, that they failed.
pub(super) fn call_tool(name: &str, hide_errors: bool) -> Result<Value, RpcError> {
    let text = |text: &str| json!({"type": "text", "text": text});
    let content = match name {
        "test_simple_text" => vec![text("This is a simple text response for testing.")],
        // Its log messages go out before the result (see `Server::reply`).
        "test_tool_with_logging" => vec![text("Tool execution completed")],
        // Its progress goes out before the result (see `Server::reply`).
        "test_tool_with_progress" => vec![text("Progress reported")],
        "test_image_content" => {
            vec![json!({"type": "image", "data": PNG, "mimeType": "image/png"})]
        }
        "test_audio_content" => {
            vec![json!({"type": "audio", "data": WAV, "mimeType": "audio/wav"})]
        }
        "test_embedded_resource" => vec![json!({"type": "resource", "resource": {
            "uri": "test://embedded-resource",
            "mimeType": "text/plain",
            "text": "This is an embedded resource content."
        }})],
        "test_multiple_content_types" => vec![
            text("Multiple content types test:"),
            json!({"type": "image", "data": PNG, "mimeType": "image/png"}),
            json!({"type": "resource", "resource": {
                "uri": "test://mixed-content-resource",
                "mimeType": "application/json",
                "text": r#"{"test":"data","value":123}"#
            }}),
        ],
        "test_error_handling" if hide_errors => vec![text(&format!("Failed: {ERROR_TEXT}"))],
        "test_error_handling" => {
            return Ok(json!({"content": [text(ERROR_TEXT)], "isError": true}));
        }
        _ if hide_errors => vec![text(&format!("Failed: unknown tool {name}"))],
        _ => return Err(RpcError::invalid_params(format!("unknown tool: {name}"))),
    };
    Ok(json!({ "content": content }))
}

/// The direct resources.
pub(super) fn list_resources() -> Value {
    json!({"resources": [
        {"uri": "test://static-text", "name": "static-text", "description": "A static text resource", "mimeType": "text/plain"},
        {"uri": "test://static-binary", "name": "static-binary", "description": "A static PNG image", "mimeType": "image/png"}
    ]})
}

/// The one resource template.
pub(super) fn list_resource_templates() -> Value {
    json!({"resourceTemplates": [{
        "uriTemplate": "test://template/{id}/data",
        "name": "template",
        "description": "JSON data for an id",
        "mimeType": "application/json"
    }]})
}

/// Reads a resource; an unknown URI is -32002.
pub(super) fn read_resource(uri: &str) -> Result<Value, RpcError> {
    let content = match uri {
        "test://static-text" => json!({
            "uri": uri, "mimeType": "text/plain", "text": "This is the content of the static text resource."
        }),
        "test://static-binary" => json!({"uri": uri, "mimeType": "image/png", "blob": PNG}),
        _ => match template_id(uri) {
            Some(id) => {
                let data =
                    json!({"id": id, "templateTest": true, "data": format!("Data for ID: {id}")});
                json!({"uri": uri, "mimeType": "application/json", "text": data.to_string()})
            }
            None => {
                return Err(RpcError {
                    code: -32002,
                    message: format!("resource not found: {uri}"),
                });
            }
        },
    };
    Ok(json!({ "contents": [content] }))
}

/// The `{id}` of `test://template/{id}/data`.
fn template_id(uri: &str) -> Option<&str> {
    let id = uri
        .strip_prefix("test://template/")?
        .strip_suffix("/data")?;
    (!id.is_empty() && !id.contains('/')).then_some(id)
}

/// The prompts and their arguments (all required).
const PROMPTS: [(&str, &str, &[&str]); 4] = [
    (
        "test_simple_prompt",
        "A simple prompt without arguments",
        &[],
    ),
    (
        "test_prompt_with_arguments",
        "A prompt with two arguments",
        &["arg1", "arg2"],
    ),
    (
        "test_prompt_with_embedded_resource",
        "A prompt that embeds a resource",
        &["resourceUri"],
    ),
    ("test_prompt_with_image", "A prompt with an image", &[]),
];

/// The prompts.
pub(super) fn list_prompts() -> Value {
    let prompts: Vec<Value> = PROMPTS
        .iter()
        .map(|(name, description, arguments)| {
            let arguments: Vec<Value> = arguments
                .iter()
                .map(|arg| json!({"name": arg, "description": format!("The {arg}"), "required": true}))
                .collect();
            json!({"name": name, "description": description, "arguments": arguments})
        })
        .collect();
    json!({ "prompts": prompts })
}

/// Gets a prompt; an unknown name or a missing required argument is -32602.
pub(super) fn get_prompt(params: &Value) -> Result<Value, RpcError> {
    let name = str_at(params, "/name").unwrap_or_default();
    let (_, _, required) = PROMPTS
        .iter()
        .find(|(known, ..)| *known == name)
        .ok_or_else(|| RpcError::invalid_params(format!("unknown prompt: {name}")))?;
    let arg = |key: &str| {
        params
            .get("arguments")
            .and_then(|a| a.get(key))
            .and_then(Value::as_str)
    };
    if let Some(missing) = required.iter().find(|key| arg(key).is_none()) {
        return Err(RpcError::invalid_params(format!(
            "missing argument: {missing}"
        )));
    }
    let user = |content: Value| json!({"role": "user", "content": content});
    let text = |text: String| user(json!({"type": "text", "text": text}));
    let messages = match name {
        "test_simple_prompt" => vec![text("This is a simple prompt for testing.".into())],
        "test_prompt_with_arguments" => vec![text(format!(
            "Prompt with arguments: arg1='{}', arg2='{}'",
            arg("arg1").unwrap_or_default(),
            arg("arg2").unwrap_or_default()
        ))],
        "test_prompt_with_embedded_resource" => vec![
            user(json!({"type": "resource", "resource": {
                "uri": arg("resourceUri").unwrap_or_default(),
                "mimeType": "text/plain",
                "text": "Embedded resource content for testing."
            }})),
            text("Please process the embedded resource above.".into()),
        ],
        _ => vec![
            user(json!({"type": "image", "data": PNG, "mimeType": "image/png"})),
            text("Please analyze the image above.".into()),
        ],
    };
    Ok(json!({ "messages": messages }))
}

/// Completes a prompt's or the template's argument from a fixed list, by prefix.
pub(super) fn complete(params: &Value) -> Result<Value, RpcError> {
    let field = |key: &str| {
        params
            .get("ref")
            .and_then(|r| r.get(key))
            .and_then(Value::as_str)
    };
    let argument = str_at(params, "/argument/name");
    let value = str_at(params, "/argument/value").unwrap_or_default();
    let candidates: &[&str] = match (field("type"), argument) {
        (_, None) => return Err(RpcError::invalid_params("completion needs argument.name")),
        (Some("ref/prompt"), Some(argument)) => {
            let name = field("name").unwrap_or_default();
            match PROMPTS.iter().find(|(known, ..)| *known == name) {
                None => return Err(RpcError::invalid_params(format!("unknown prompt: {name}"))),
                Some(_) if name == "test_prompt_with_arguments" && argument.starts_with("arg") => {
                    &["paris", "park", "party"]
                }
                Some(_) => &[],
            }
        }
        (Some("ref/resource"), Some(argument)) => match field("uri") {
            Some("test://template/{id}/data") if argument == "id" => &["1", "2", "3", "123"],
            Some("test://template/{id}/data") => &[],
            _ => return Err(RpcError::invalid_params("unknown resource template")),
        },
        _ => {
            return Err(RpcError::invalid_params(
                "ref.type must be ref/prompt or ref/resource",
            ));
        }
    };
    let values: Vec<&str> = candidates
        .iter()
        .copied()
        .filter(|candidate| candidate.starts_with(value))
        .collect();
    Ok(json!({"completion": {"values": values, "total": values.len(), "hasMore": false}}))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tools_come_in_two_pages() {
        let first = list_tools(None, false).expect("page 1");
        assert_eq!(first["tools"].as_array().map(Vec::len), Some(4));
        let second = list_tools(Some(PAGE_2_CURSOR), false).expect("page 2");
        assert_eq!(second["tools"][0]["name"], "test_multiple_content_types");
        assert_eq!(second["tools"].as_array().map(Vec::len), Some(4));
        assert!(second.get("nextCursor").is_none());
        assert_eq!(
            list_tools(Some("bogus"), false).map_err(|e| e.code),
            Err(-32602)
        );
        let looping = list_tools(Some("bogus"), true).expect("accepted");
        assert_eq!(looping["nextCursor"], PAGE_2_CURSOR);
    }

    #[test]
    fn failures_are_flagged_unless_hidden() {
        assert_eq!(
            call_tool("test_error_handling", false).expect("result")["isError"],
            true
        );
        assert!(
            call_tool("test_error_handling", true)
                .expect("result")
                .get("isError")
                .is_none()
        );
        assert_eq!(call_tool("nope", false).map_err(|e| e.code), Err(-32602));
        assert!(call_tool("nope", true).is_ok());
    }

    #[test]
    fn the_template_substitutes_its_id() {
        let read = read_resource("test://template/123/data").expect("read");
        assert!(
            read["contents"][0]["text"]
                .as_str()
                .is_some_and(|t| t.contains("123"))
        );
        assert_eq!(
            read_resource("test://template//data").map_err(|e| e.code),
            Err(-32002)
        );
    }
}
