//! Printing results: one JSON document with `--json`, else readable lines and tables.
//!
//! In human output every string a server sent passes through `terminal_safe` (control characters
//! replaced, length bounded): a server chooses its names, descriptions and tool output, and raw
//! escape sequences could rewrite what the user sees. JSON escapes them itself.

use std::process::ExitCode;
use std::time::Duration;

use mcp_manager::ConnectError;
use mcp_manager::Listing;
use mcp_manager::transport::error::terminal_safe;
use rmcp::model::CallToolResult;
use serde::Serialize;
use serde_json::{Value, json};
use unicode_width::UnicodeWidthStr as _;

use crate::content::{self, Printer, SaveDir};

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

/// Text a server sent, for one line on a terminal (a header, a log line, a note on stderr): line
/// breaks and tabs become spaces, the rest as [`shown`] makes it (no control characters, bounded).
pub(crate) fn one_line(text: &str) -> String {
    shown(&text.replace(['\r', '\n', '\t'], " "))
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

    /// The row in `health`'s table, each cell on one line.
    fn cells(&self) -> Vec<String> {
        let mut cells = vec![
            // A configured name is the user's, yet may come from another client's file.
            one_line(&self.name),
            self.transport.to_owned(),
            String::new(),
            self.attempts.to_string(),
            format!("{} ms", self.connect.as_millis()),
        ];
        match &self.result {
            Ok(discovery) => {
                cells[2] = "ok".to_owned();
                cells.extend([
                    discovery.tools.len().to_string(),
                    (discovery.resources.len() + discovery.resource_templates.len()).to_string(),
                    discovery.prompts.len().to_string(),
                    String::new(),
                ]);
            }
            Err((_, message)) => {
                cells[2] = "FAILED".to_owned();
                cells.extend(["-", "-", "-"].map(str::to_owned));
                cells.push(one_line(message));
            }
        }
        cells
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
    let rows: Vec<Vec<String>> = rows.iter().map(HealthRow::cells).collect();
    let header = [
        "SERVER",
        "TRANSPORT",
        "STATUS",
        "ATTEMPTS",
        "CONNECT",
        "TOOLS",
        "RESOURCES",
        "PROMPTS",
        "ERROR",
    ];
    let right = [false, false, false, true, true, true, true, true, false];
    for line in table(&header, &right, &rows) {
        out!("{line}");
    }
}

/// A table's lines: each column as wide as its widest cell (in terminal columns: a CJK character
/// or an emoji takes two), header included, so that a long name
/// pushes the columns after it right instead of out of line. `right` marks the columns aligned
/// right (numbers); a last column aligned left is free text, never padded (two spaces before it);
/// no line ends in spaces.
pub(crate) fn table(header: &[&str], right: &[bool], rows: &[Vec<String>]) -> Vec<String> {
    let columns = header.len();
    let mut widths: Vec<usize> = header.iter().map(|cell| cell.width()).collect();
    for row in rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.width());
        }
    }
    let header: Vec<String> = header.iter().map(|&cell| cell.to_owned()).collect();
    std::iter::once(&header)
        .chain(rows)
        .map(|row| {
            let mut line = String::new();
            for (index, cell) in row.iter().enumerate().take(columns) {
                let pad = " ".repeat(widths[index].saturating_sub(cell.width()));
                let aligned_right = right.get(index).copied().unwrap_or(false);
                let free_text = index == columns - 1 && !aligned_right;
                if index > 0 {
                    line.push_str(if free_text { "  " } else { " " });
                }
                if aligned_right {
                    line.push_str(&pad);
                    line.push_str(cell);
                } else {
                    line.push_str(cell);
                    if !free_text {
                        line.push_str(&pad);
                    }
                }
            }
            line.trim_end().to_owned()
        })
        .collect()
}

/// A server's JSON document, as `inspect --json` prints it: MCP's own JSON per item.
pub(crate) fn inspect_json(discovery: &Listing, transport: &str) -> Value {
    json!({
        "server": discovery.server_info,
        "transport": transport,
        "protocol_version": discovery.protocol_version.as_ref().map(|version| version.as_str().to_owned()),
        "instructions": discovery.instructions,
        "tools": json_value(&discovery.tools),
        "resources": json_value(&discovery.resources),
        "resource_templates": json_value(&discovery.resource_templates),
        "prompts": json_value(&discovery.prompts),
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
        out!(
            "  {} ({}){}",
            shown(&resource.uri),
            shown(&resource.name),
            content::annotations(resource.annotations.as_ref())
        );
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

/// A tool result: MCP's own JSON with `--json`, else its content made readable (see `content`)
/// and its structured content, pretty-printed when it is an object. Binary items are saved into
/// `save` (named after `tool`); a failed save is the error, and under `--json` nothing is
/// printed then: the caller reports it instead.
pub(crate) fn call_result(
    result: &CallToolResult,
    as_json: bool,
    save: Option<&SaveDir>,
    tool: &str,
) -> Result<(), String> {
    let mut printer = Printer::new(as_json, save, tool);
    for content in &result.content {
        printer.block("", content);
    }
    printer.done();
    if as_json {
        return match printer.error() {
            Some(error) => Err(error.to_owned()),
            None => {
                print_json(result);
                Ok(())
            }
        };
    }
    match &result.structured_content {
        // JSON escapes control characters; only the length needs a bound.
        Some(structured @ Value::Object(_)) => {
            let pretty = serde_json::to_string_pretty(structured).unwrap_or_default();
            out!("structured:\n{}", shown_output(&pretty));
        }
        Some(structured) => out!("structured: {}", shown_output(&structured.to_string())),
        None => {}
    }
    if result.is_error == Some(true) {
        eprintln!("the tool reported an error (isError: true)");
    }
    printer
        .error()
        .map_or(Ok(()), |error| Err(error.to_owned()))
}

/// Prints `value` as one pretty JSON document, its numbers as their JSON text says them (see
/// [`json_value`]: rmcp holds an annotation's `priority` as an `f32`, which a `Value` made
/// directly would print as 0.699999988079071 for 0.7) and its keys sorted, as they always were.
pub(crate) fn print_json<T: Serialize + ?Sized>(value: &T) {
    match serde_json::to_string_pretty(&json_value(value)) {
        Ok(text) => out!("{text}"),
        Err(error) => eprintln!("mcpcord: could not render JSON: {error}"),
    }
}

/// A usage or configuration error (exit 2): with `--json`, `{"error": {"kind": "usage",
/// "message"}}` on stdout like every other JSON error; the message on stderr either way.
pub(crate) fn usage_error(as_json: bool, message: &str) -> ExitCode {
    if as_json {
        usage_json(message);
    }
    eprintln!("mcpcord: {message}");
    ExitCode::from(2)
}

/// A usage error's JSON document on stdout, written out at once (the process may exit next).
pub(crate) fn usage_json(message: &str) {
    print_json(&json!({ "error": { "kind": "usage", "message": message } }));
    // A failed write changes nothing: the exit code says "usage" already.
    let _ = crate::output::finish();
}

/// `value` as a JSON `Value` with its numbers as their JSON text says them (an `f32` 0.7 stays
/// 0.7): through its text, since `serde_json::to_value` widens an `f32` to the nearest `f64`
/// (0.699999988079071). serde_json's `float_roundtrip` makes reading that text back exact. For
/// documents composed around MCP's own items.
pub(crate) fn json_value<T: Serialize + ?Sized>(value: &T) -> Value {
    match serde_json::to_string(value).map(|text| serde_json::from_str(&text)) {
        Ok(Ok(value)) => value,
        // Serialising MCP's types or a `Value` does not fail; were it to, `null` says so.
        _ => Value::Null,
    }
}

/// A progress number as the server most likely wrote it: `3`, not `3.0` (MCP's progress is a
/// JSON number; whole ones are sent as integers); fractions stay as they are. Its text is how
/// people read it too.
pub(crate) fn progress_number(value: f64) -> Value {
    if value.fract() == 0.0 && value.abs() < 9e15 {
        json!(value as i64)
    } else {
        json!(value)
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

#[cfg(test)]
mod tests {
    use rmcp::model::{Annotations, ContentBlock, Resource};

    use super::*;

    #[test]
    fn whole_progress_numbers_are_integers_and_fractions_stay() {
        assert_eq!(progress_number(3.0).to_string(), "3");
        assert_eq!(progress_number(0.5).to_string(), "0.5");
        assert_eq!(progress_number(f64::NAN).to_string(), "null");
    }

    #[test]
    fn table_columns_widen_for_long_names_and_stay_aligned() {
        let rows = vec![
            vec![
                "a-server-with-a-rather-long-name".to_owned(),
                "7".to_owned(),
                String::new(),
            ],
            vec!["b".to_owned(), "12345".to_owned(), "it broke".to_owned()],
        ];
        let lines = table(&["SERVER", "N", "ERROR"], &[false, true, false], &rows);
        assert_eq!(
            lines,
            [
                "SERVER                               N  ERROR",
                "a-server-with-a-rather-long-name     7",
                "b                                12345  it broke",
            ]
        );
    }

    #[test]
    fn wide_characters_take_two_columns_and_stay_aligned() {
        let rows = vec![
            vec!["日本".to_owned(), "1".to_owned()],
            vec!["abcd".to_owned(), "2".to_owned()],
        ];
        assert_eq!(
            table(&["NAME", "N"], &[false, true], &rows),
            ["NAME N", "日本 1", "abcd 2"]
        );
    }

    #[test]
    fn a_failed_servers_error_is_one_line_in_the_health_table() {
        let row = HealthRow {
            name: "two\nlines".to_owned(),
            transport: "stdio",
            attempts: 1,
            connect: Duration::from_millis(3),
            result: Err((
                "spawn".to_owned(),
                "it failed\nwith this\tand \x1b[2J that".to_owned(),
            )),
        };
        let cells = row.cells();
        assert_eq!(cells[0], "two lines");
        let error = cells.last().expect("an ERROR cell");
        assert!(error.starts_with("it failed with this and "), "{error:?}");
        assert!(!error.contains(['\n', '\t', '\x1b']), "{error:?}");
    }

    #[test]
    fn a_last_column_of_numbers_is_aligned_right_too() {
        let rows = vec![
            vec!["connect ms".to_owned(), "3".to_owned(), "12".to_owned()],
            vec!["call µs".to_owned(), "1500".to_owned(), "7".to_owned()],
        ];
        assert_eq!(
            table(&["", "p50", "max"], &[false, true, true], &rows),
            [
                "            p50 max",
                "connect ms    3  12",
                "call µs    1500   7",
            ]
        );
    }

    #[test]
    fn f32_numbers_keep_their_json_form() {
        let mut resource = Resource::new("demo://x", "x");
        resource.annotations = Some(Annotations::default().with_priority(0.7));
        // What serde_json's `Value` does to an f32, and why print_json does not go through it.
        let widened = serde_json::to_value(&resource).unwrap_or_default();
        assert_eq!(
            widened["annotations"]["priority"].to_string(),
            "0.699999988079071"
        );
        let kept = json_value(&resource);
        assert_eq!(kept["annotations"]["priority"].to_string(), "0.7");
        let mut block = ContentBlock::text("hi");
        if let ContentBlock::Text(text) = &mut block {
            text.annotations = Some(Annotations::default().with_priority(0.3));
        }
        // An f64 keeps every digit it has.
        assert_eq!(
            json_value(&(0.1f64 + 0.2)).to_string(),
            "0.30000000000000004"
        );
        let printed = serde_json::to_string_pretty(&block).unwrap_or_default();
        assert!(printed.contains("\"priority\": 0.3"), "{printed}");
    }
}
