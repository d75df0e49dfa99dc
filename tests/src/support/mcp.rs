//! Small readers and builders of MCP values, for assertions.

use rmcp::model::CallToolResult;

/// The text of a tool result whose content is exactly one text block.
///
/// # Panics
/// When the content is anything else, showing it.
pub fn text_of(result: &CallToolResult) -> &str {
    match result.content.as_slice() {
        [block] => match block.as_text() {
            Some(text) => &text.text,
            None => panic!("not a text block: {block:?}"),
        },
        content => panic!("not one text block: {content:?}"),
    }
}

/// The fixture server's arguments for stdio with `faults`: `--stdio [--fault F]...`.
pub fn stdio_fixture_args(faults: &[&str]) -> Vec<String> {
    let mut args = vec!["--stdio".to_owned()];
    for fault in faults {
        args.push("--fault".to_owned());
        args.push((*fault).to_owned());
    }
    args
}
