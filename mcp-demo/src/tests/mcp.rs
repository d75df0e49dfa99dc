//! Every tool, resource and prompt, through rmcp's client over an in-memory stream.

use std::time::{SystemTime, UNIX_EPOCH};

use rmcp::{
    ServiceExt as _,
    model::{
        CallToolRequestParams, CallToolResult, ClientConfig, ErrorCode, GetPromptRequestParams,
        ProtocolVersion, ReadResourceRequestParams, ResourceContents,
    },
    service::{RoleClient, RunningService, ServiceError},
};
use serde_json::{Value, json};

use super::bounded;
use crate::{CONFIG_URI, DemoServer, ITEM_TEMPLATE, MAX_SLEEP, README_URI, SERVER_NAME};

type Client = RunningService<RoleClient, ClientConfig>;

/// A client connected to a fresh demo server over `tokio::io::duplex`, announcing `version`.
async fn connect_with(version: ProtocolVersion) -> Client {
    let (client_io, server_io) = tokio::io::duplex(64 * 1024);
    // Ends when the client hangs up, or with the test's runtime.
    tokio::spawn(async move {
        if let Ok(running) = DemoServer::new().serve(server_io).await {
            let _ = running.waiting().await;
        }
    });
    let config = ClientConfig::default().with_protocol_version(version);
    bounded("connecting", rmcp::serve_client(config, client_io))
        .await
        .expect("the client connects")
}

/// A client as mcpcord connects: with the `initialize` handshake.
async fn connect() -> Client {
    connect_with(ProtocolVersion::LATEST_WITH_INITIALIZE).await
}

async fn call(client: &Client, tool: &'static str, arguments: Value) -> CallToolResult {
    let Value::Object(arguments) = arguments else {
        panic!("tool arguments are an object");
    };
    let params = CallToolRequestParams::new(tool).with_arguments(arguments);
    bounded(tool, client.call_tool(params))
        .await
        .unwrap_or_else(|error| panic!("calling {tool}: {error}"))
}

/// The text of a result that holds exactly one text block.
fn only_text(result: &CallToolResult) -> &str {
    let [block] = result.content.as_slice() else {
        panic!("one content block: {result:?}");
    };
    &block.as_text().expect("a text block").text
}

async fn read_text(client: &Client, uri: &str) -> (String, Option<String>) {
    let result = bounded(
        uri,
        client.read_resource(ReadResourceRequestParams::new(uri)),
    )
    .await
    .unwrap_or_else(|error| panic!("reading {uri}: {error}"));
    let [
        ResourceContents::TextResourceContents {
            text,
            mime_type,
            uri: read_uri,
            ..
        },
    ] = result.contents.as_slice()
    else {
        panic!("one text content: {result:?}");
    };
    assert_eq!(read_uri, uri);
    (text.clone(), mime_type.clone())
}

#[tokio::test]
async fn initialize_names_the_demo_with_this_crates_version_and_instructions() {
    let client = connect().await;
    let info = client.peer_info().expect("the server's initialize result");
    let server = info.server_info.as_ref().expect("the server names itself");
    assert_eq!(server.name, SERVER_NAME);
    assert_eq!(server.version, env!("CARGO_PKG_VERSION"));
    assert_eq!(
        info.protocol_version,
        ProtocolVersion::LATEST_WITH_INITIALIZE
    );
    assert!(
        info.instructions
            .as_deref()
            .is_some_and(|text| text.contains("demo")),
        "{:?}",
        info.instructions
    );
    let capabilities = &info.capabilities;
    let tools = capabilities.tools.as_ref().expect("tools are advertised");
    let resources = capabilities
        .resources
        .as_ref()
        .expect("resources are advertised");
    let prompts = capabilities
        .prompts
        .as_ref()
        .expect("prompts are advertised");
    assert_eq!(tools.list_changed, Some(false));
    assert_eq!(resources.list_changed, Some(false));
    assert_eq!(prompts.list_changed, Some(false));
}

#[tokio::test]
async fn every_tool_is_listed_with_its_schemas() {
    let client = connect().await;
    let tools = bounded("listing tools", client.list_all_tools())
        .await
        .expect("tools list");
    let mut names: Vec<&str> = tools.iter().map(|tool| tool.name.as_ref()).collect();
    names.sort_unstable();
    assert_eq!(names, ["add", "echo", "fail", "sleep", "time"]);
    let tool = |name: &str| {
        tools
            .iter()
            .find(|tool| tool.name == name)
            .expect("listed above")
    };
    let add_output = tool("add")
        .output_schema
        .as_ref()
        .expect("add has an output schema");
    assert!(
        add_output["properties"].get("sum").is_some(),
        "{add_output:?}"
    );
    assert_eq!(tool("echo").input_schema["required"], json!(["text"]));
    let ms = &tool("sleep").input_schema["properties"]["ms"];
    assert_eq!(ms["maximum"], json!(10_000), "{ms:?}");
}

#[tokio::test]
async fn echo_returns_the_text_unchanged() {
    let client = connect().await;
    let result = call(&client, "echo", json!({ "text": "hello, demo" })).await;
    assert_eq!(result.is_error, Some(false));
    assert_eq!(only_text(&result), "hello, demo");
}

#[tokio::test]
async fn add_returns_the_sum_as_structured_content_and_its_json_text() {
    let client = connect().await;
    let result = call(&client, "add", json!({ "a": 1, "b": 2 })).await;
    assert_eq!(result.is_error, Some(false));
    assert_eq!(result.structured_content, Some(json!({ "sum": 3 })));
    let text: Value = serde_json::from_str(only_text(&result)).expect("the text is JSON");
    assert_eq!(text, json!({ "sum": 3 }));

    let fractional = call(&client, "add", json!({ "a": 0.5, "b": 0.25 })).await;
    assert_eq!(fractional.structured_content, Some(json!({ "sum": 0.75 })));
}

#[tokio::test]
async fn add_overflowing_to_infinity_is_a_tool_error() {
    let client = connect().await;
    let result = call(&client, "add", json!({ "a": 1e308, "b": 1e308 })).await;
    assert_eq!(result.is_error, Some(true));
    assert!(only_text(&result).contains("not a finite number"));
}

#[tokio::test]
async fn fail_answers_with_is_error() {
    let client = connect().await;
    let result = call(&client, "fail", json!({})).await;
    assert_eq!(result.is_error, Some(true));
    assert!(only_text(&result).contains("always fails"));
}

// The paused clock stands in for the ten seconds; nothing here waits for real.
#[tokio::test(start_paused = true)]
async fn sleep_of_the_bound_answers_slept_after_that_long() {
    let client = connect().await;
    let started = tokio::time::Instant::now();
    let params = CallToolRequestParams::new("sleep").with_arguments(
        json!({ "ms": 10_000 })
            .as_object()
            .cloned()
            .expect("an object"),
    );
    let result = client.call_tool(params).await.expect("sleep answers");
    assert_eq!(only_text(&result), "slept");
    assert!(started.elapsed() >= MAX_SLEEP);
}

#[tokio::test]
async fn sleep_beyond_ten_seconds_is_a_tool_error_at_once() {
    let client = connect().await;
    let result = call(&client, "sleep", json!({ "ms": 10_001 })).await;
    assert_eq!(result.is_error, Some(true));
    assert!(only_text(&result).contains("at most 10000"), "{result:?}");
}

#[tokio::test]
async fn time_is_the_current_utc_time_in_rfc3339() {
    let client = connect().await;
    let whole_seconds = |time: SystemTime| {
        time.duration_since(UNIX_EPOCH)
            .expect("after the epoch")
            .as_secs()
    };
    let before = whole_seconds(SystemTime::now());
    let result = call(&client, "time", json!({})).await;
    let after = whole_seconds(SystemTime::now());
    let text = only_text(&result);
    assert!(text.ends_with('Z'), "UTC: {text}");
    let reported = whole_seconds(humantime::parse_rfc3339(text).expect("RFC 3339"));
    assert!(before <= reported && reported <= after, "{text}");
}

#[tokio::test]
async fn resources_and_the_template_are_listed_with_mime_types() {
    let client = connect().await;
    let resources = bounded("listing resources", client.list_all_resources())
        .await
        .expect("resources list");
    let listed: Vec<(&str, Option<&str>)> = resources
        .iter()
        .map(|resource| (resource.uri.as_str(), resource.mime_type.as_deref()))
        .collect();
    assert_eq!(
        listed,
        [
            (README_URI, Some("text/markdown")),
            (CONFIG_URI, Some("application/json")),
        ]
    );
    let templates = bounded("listing templates", client.list_all_resource_templates())
        .await
        .expect("templates list");
    let [template] = templates.as_slice() else {
        panic!("one template: {templates:?}");
    };
    assert_eq!(template.uri_template, ITEM_TEMPLATE);
}

#[tokio::test]
async fn the_readme_and_config_read_as_markdown_and_json() {
    let client = connect().await;
    let (readme, mime_type) = read_text(&client, README_URI).await;
    assert_eq!(mime_type.as_deref(), Some("text/markdown"));
    assert!(readme.starts_with("# The mcpcord demo server"));
    assert!(readme.contains("serve-demo --stdio"));

    let (config, mime_type) = read_text(&client, CONFIG_URI).await;
    assert_eq!(mime_type.as_deref(), Some("application/json"));
    let config: Value = serde_json::from_str(&config).expect("the config is JSON");
    assert_eq!(config["mcpServers"]["mcpcord-demo"]["command"], "mcpcord");
}

#[tokio::test]
async fn items_read_through_the_template() {
    let client = connect().await;
    let (item, mime_type) = read_text(&client, "demo://items/42").await;
    assert_eq!(item, "item 42");
    assert_eq!(mime_type.as_deref(), Some("text/plain"));
}

#[tokio::test]
async fn an_unknown_resource_is_not_found() {
    let client = connect().await;
    let error = bounded(
        "reading",
        client.read_resource(ReadResourceRequestParams::new("demo://items/")),
    )
    .await
    .expect_err("no item without an id");
    let ServiceError::McpError(error) = error else {
        panic!("an MCP error: {error}");
    };
    assert_eq!(error.code, ErrorCode::RESOURCE_NOT_FOUND);
}

#[tokio::test]
async fn prompts_are_listed_with_their_required_arguments() {
    let client = connect().await;
    let prompts = bounded("listing prompts", client.list_all_prompts())
        .await
        .expect("prompts list");
    // "name(required argument, ...)", e.g. "greet(name*)" when `name` is required.
    let mut listed: Vec<String> = prompts
        .iter()
        .map(|prompt| {
            let arguments: Vec<String> = prompt
                .arguments
                .iter()
                .flatten()
                .map(|argument| {
                    let required = if argument.required == Some(true) {
                        "*"
                    } else {
                        ""
                    };
                    format!("{}{required}", argument.name)
                })
                .collect();
            format!("{}({})", prompt.name, arguments.join(", "))
        })
        .collect();
    listed.sort_unstable();
    assert_eq!(listed, ["greet(name*)", "summarize(text*)"]);
}

#[tokio::test]
async fn prompts_fill_in_their_arguments() {
    let client = connect().await;
    for (prompt, argument, value) in [
        ("greet", "name", "Ada"),
        ("summarize", "text", "A long story."),
    ] {
        let mut arguments = serde_json::Map::new();
        arguments.insert(argument.to_owned(), json!(value));
        let params = GetPromptRequestParams::new(prompt).with_arguments(arguments);
        let result = bounded(prompt, client.get_prompt(params))
            .await
            .unwrap_or_else(|error| panic!("getting {prompt}: {error}"));
        let [message] = result.messages.as_slice() else {
            panic!("one message: {result:?}");
        };
        let text = &message.content.as_text().expect("a text message").text;
        assert!(text.contains(value), "{prompt}: {text}");
    }
}

#[tokio::test]
async fn clients_on_the_newest_protocol_are_served_too() {
    let client = connect_with(ProtocolVersion::LATEST).await;
    let result = call(&client, "echo", json!({ "text": "newest" })).await;
    assert_eq!(only_text(&result), "newest");
}
