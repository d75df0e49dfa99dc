//! Printing results: one JSON document with `--json`, else readable lines and tables.
//!
//! In human output every string a server sent passes through `terminal_safe` (control characters
//! replaced, length bounded): a server chooses its names, descriptions and tool output, and raw
//! escape sequences could rewrite what the user sees. JSON escapes them itself.

use std::time::Duration;

use mcp_manager::ConnectError;
use mcp_manager::Listing;
use mcp_manager::transport::error::terminal_safe;
use rmcp::model::CallToolResult;
use serde_json::{Value, json};

/// The most characters of one short string a server sent (a name, a description, an error
/// message) shown in human output.
const MAX_FIELD_CHARS: usize = 2_000;

/// The most characters of one piece of tool output, or of the server's instructions, shown in
/// human output (`--json` prints everything).
const MAX_OUTPUT_CHARS: usize = 100_000;

/// A short string a server sent, for human output: no control characters, bounded.
pub(crate) fn shown(text: &str) -> String {
    terminal_safe(text, MAX_FIELD_CHARS)
}

/// Tool output or instructions, for human output: no control characters but its lines, bounded.
pub(crate) fn shown_output(text: &str) -> String {
    terminal_safe(text, MAX_OUTPUT_CHARS)
}

/// One server's line in `health` (and `demo`).
#[derive(Debug, Clone)]
pub(crate) struct HealthRow {
    pub(crate) name: String,
    pub(crate) transport: &'static str,
    pub(crate) attempts: u32,
    pub(crate) connect: Duration,
    pub(crate) result: Result<std::sync::Arc<Listing>, (String, String)>,
}

impl HealthRow {
    pub(crate) fn failed(
        name: &str,
        transport: &'static str,
        connect: Duration,
        error: &ConnectError,
    ) -> Self {
        Self {
            name: name.to_owned(),
            transport,
            attempts: error.attempts(),
            connect,
            result: Err((error.code().to_owned(), connect_failure(name, error))),
        }
    }

    pub(crate) fn json(&self) -> Value {
        let base = json!({
            "name": self.name,
            "transport": self.transport,
            "ok": self.result.is_ok(),
            "attempts": self.attempts,
            "connect_ms": self.connect.as_millis() as u64,
        });
        let mut object = base.as_object().cloned().unwrap_or_default();
        match &self.result {
            Ok(discovery) => {
                object.insert(
                    "protocol_version".into(),
                    json!(
                        discovery
                            .protocol_version
                            .as_ref()
                            .map(|version| version.as_str().to_owned())
                    ),
                );
                object.insert(
                    "server".into(),
                    json!({
                        "name": discovery.server_info.as_ref().map(|info| info.name.clone()),
                        "version": discovery.server_info.as_ref().map(|info| info.version.clone()),
                    }),
                );
                object.insert("tools".into(), json!(discovery.tools.len()));
                object.insert("resources".into(), json!(discovery.resources.len()));
                object.insert(
                    "resource_templates".into(),
                    json!(discovery.resource_templates.len()),
                );
                object.insert("prompts".into(), json!(discovery.prompts.len()));
                object.insert("error".into(), Value::Null);
            }
            Err((kind, message)) => {
                for key in [
                    "protocol_version",
                    "server",
                    "tools",
                    "resources",
                    "resource_templates",
                    "prompts",
                ] {
                    object.insert(key.into(), Value::Null);
                }
                object.insert("error".into(), json!({ "kind": kind, "message": message }));
            }
        }
        Value::Object(object)
    }
}

/// The health table, or its JSON document.
pub(crate) fn health(rows: &[HealthRow], as_json: bool) {
    if as_json {
        let ok = rows.iter().all(|row| row.result.is_ok());
        let document =
            json!({ "ok": ok, "servers": rows.iter().map(HealthRow::json).collect::<Vec<_>>() });
        print_json(&document);
        return;
    }
    out!(
        "{:<20} {:<15} {:<7} {:>8} {:>10} {:>6} {:>10} {:>8}  {}",
        "SERVER",
        "TRANSPORT",
        "STATUS",
        "ATTEMPTS",
        "CONNECT",
        "TOOLS",
        "RESOURCES",
        "PROMPTS",
        "ERROR"
    );
    for row in rows {
        let connect = format!("{} ms", row.connect.as_millis());
        match &row.result {
            Ok(discovery) => out!(
                "{:<20} {:<15} {:<7} {:>8} {:>10} {:>6} {:>10} {:>8}",
                row.name,
                row.transport,
                "ok",
                row.attempts,
                connect,
                discovery.tools.len(),
                discovery.resources.len() + discovery.resource_templates.len(),
                discovery.prompts.len()
            ),
            Err((_, message)) => out!(
                "{:<20} {:<15} {:<7} {:>8} {:>10} {:>6} {:>10} {:>8}  {}",
                row.name,
                row.transport,
                "FAILED",
                row.attempts,
                connect,
                "-",
                "-",
                "-",
                shown(message)
            ),
        }
    }
}

/// A server's JSON document, as `inspect --json` prints it: MCP's own JSON per item.
pub(crate) fn inspect_json(discovery: &Listing, transport: &str) -> Value {
    json!({
        "server": discovery.server_info,
        "transport": transport,
        "protocol_version": discovery.protocol_version.as_ref().map(|version| version.as_str().to_owned()),
        "instructions": discovery.instructions,
        "tools": discovery.tools,
        "resources": discovery.resources,
        "resource_templates": discovery.resource_templates,
        "prompts": discovery.prompts,
    })
}

/// A server's full description, or its JSON document.
pub(crate) fn inspect(discovery: &Listing, transport: &str, as_json: bool) {
    if as_json {
        print_json(&inspect_json(discovery, transport));
        return;
    }
    let (name, version) = discovery
        .server_info
        .as_ref()
        .map_or(("unknown", "?"), |info| {
            (info.name.as_str(), info.version.as_str())
        });
    // Everything shown below but the counts is the server's own text.
    out!("server: {} {}", shown(name), shown(version));
    if let Some(protocol) = &discovery.protocol_version {
        out!("protocol: {} over {transport}", shown(protocol.as_str()));
    }
    if let Some(instructions) = &discovery.instructions {
        out!("instructions: {}", shown_output(instructions));
    }
    out!("\ntools ({}):", discovery.tools.len());
    for tool in &discovery.tools {
        out!(
            "  {} - {}",
            shown(&tool.name),
            shown(tool.description.as_deref().unwrap_or(""))
        );
        // JSON escapes control characters; only the length needs a bound.
        out!(
            "    input: {}",
            shown_output(&Value::Object((*tool.input_schema).clone()).to_string())
        );
    }
    out!("\nresources ({}):", discovery.resources.len());
    for resource in &discovery.resources {
        out!("  {} ({})", shown(&resource.uri), shown(&resource.name));
    }
    out!(
        "\nresource templates ({}):",
        discovery.resource_templates.len()
    );
    for template in &discovery.resource_templates {
        out!(
            "  {} ({})",
            shown(&template.uri_template),
            shown(&template.name)
        );
    }
    out!("\nprompts ({}):", discovery.prompts.len());
    for prompt in &discovery.prompts {
        out!(
            "  {} - {}",
            shown(&prompt.name),
            shown(prompt.description.as_deref().unwrap_or(""))
        );
    }
}

/// A tool result: MCP's own JSON with `--json`, else its text and anything else as JSON.
pub(crate) fn call_result(result: &CallToolResult, as_json: bool) {
    if as_json {
        print_json(&serde_json::to_value(result).unwrap_or(Value::Null));
        return;
    }
    for content in &result.content {
        match content.as_text() {
            Some(text) => out!("{}", shown_output(&text.text)),
            // JSON escapes control characters; only the length needs a bound.
            None => out!(
                "{}",
                shown_output(&serde_json::to_string(content).unwrap_or_default())
            ),
        }
    }
    if let Some(structured) = &result.structured_content {
        out!("structured: {}", shown_output(&structured.to_string()));
    }
    if result.is_error == Some(true) {
        eprintln!("the tool reported an error (isError: true)");
    }
}

pub(crate) fn print_json(value: &Value) {
    match serde_json::to_string_pretty(value) {
        Ok(text) => out!("{text}"),
        Err(error) => eprintln!("mcpcord: could not render JSON: {error}"),
    }
}

/// p50, p99 and max of a set of samples (nearest rank).
pub(crate) fn percentiles(samples: &mut [u64]) -> (u64, u64, u64) {
    if samples.is_empty() {
        return (0, 0, 0);
    }
    samples.sort_unstable();
    let rank = |p: f64| {
        let index = ((p / 100.0) * samples.len() as f64).ceil() as usize;
        samples[index.clamp(1, samples.len()) - 1]
    };
    (rank(50.0), rank(99.0), samples[samples.len() - 1])
}

/// A failed connect as the CLI says it: the error, and for a server that needs a login, how to
/// give it one (the library's message knows nothing of this command line).
pub(crate) fn connect_failure(name: &str, error: &ConnectError) -> String {
    let mut message = error.to_string();
    if error.is_login_required() {
        message.push_str(&format!(
            "; run `mcpcord login {name}` (or choose a browser with --browser / MCPCORD_BROWSER)"
        ));
    }
    message
}
