//! The demo's resources: a README, an example configuration, and items from a template.

use rmcp::{
    ErrorData,
    model::{ReadResourceResult, Resource, ResourceContents, ResourceTemplate},
};

/// The demo's README, in Markdown.
pub const README_URI: &str = "demo://readme";
/// An `.mcp.json` entry that starts the demo server over stdio, in JSON.
pub const CONFIG_URI: &str = "demo://config";
/// The demo's resource template; reading `demo://items/7` gives `item 7`.
pub const ITEM_TEMPLATE: &str = "demo://items/{id}";

const ITEM_PREFIX: &str = "demo://items/";
const README: &str = include_str!("readme.md");
const CONFIG: &str = r#"{
  "mcpServers": {
    "mcpcord-demo": {
      "command": "mcpcord",
      "args": ["serve-demo", "--stdio"]
    }
  }
}
"#;

/// Every static resource.
pub(crate) fn list() -> Vec<Resource> {
    vec![
        Resource::new(README_URI, "readme")
            .with_title("About the mcpcord demo server")
            .with_description("What this server offers and how to run it")
            .with_mime_type("text/markdown"),
        Resource::new(CONFIG_URI, "config")
            .with_title("Demo client configuration")
            .with_description("An .mcp.json entry that starts this server over stdio")
            .with_mime_type("application/json"),
    ]
}

/// Every resource template.
pub(crate) fn templates() -> Vec<ResourceTemplate> {
    vec![
        ResourceTemplate::new(ITEM_TEMPLATE, "item")
            .with_description("An item by id; demo://items/7 reads as \"item 7\"")
            .with_mime_type("text/plain"),
    ]
}

/// The contents at `uri`, or a resource-not-found error naming it.
pub(crate) fn read(uri: &str) -> Result<ReadResourceResult, ErrorData> {
    let (text, mime_type) = match uri {
        README_URI => (README.to_owned(), "text/markdown"),
        CONFIG_URI => (CONFIG.to_owned(), "application/json"),
        _ => match item_id(uri) {
            Some(id) => (format!("item {id}"), "text/plain"),
            None => {
                // The `data` the MCP specification suggests for this error: the URI asked for.
                return Err(ErrorData::resource_not_found(
                    format!(
                        "no demo resource at {uri}; try {README_URI}, {CONFIG_URI} or {ITEM_PREFIX}1"
                    ),
                    Some(serde_json::json!({ "uri": uri })),
                ));
            }
        },
    };
    Ok(ReadResourceResult::new(vec![
        ResourceContents::text(text, uri).with_mime_type(mime_type),
    ]))
}

/// The `{id}` of an item URI: one non-empty path segment.
fn item_id(uri: &str) -> Option<&str> {
    let id = uri.strip_prefix(ITEM_PREFIX)?;
    (!id.is_empty() && !id.contains(['/', '?', '#'])).then_some(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn items_resolve_from_the_template_and_nothing_else_does() {
        assert_eq!(item_id("demo://items/42"), Some("42"));
        assert_eq!(item_id("demo://items/"), None);
        assert_eq!(item_id("demo://items/a/b"), None);
        assert_eq!(item_id("demo://items/a?b"), None);
        assert_eq!(item_id("demo://other"), None);
    }

    #[test]
    fn the_config_resource_is_valid_json() {
        let config: serde_json::Value =
            serde_json::from_str(CONFIG).expect("the config resource parses");
        assert_eq!(
            config["mcpServers"]["mcpcord-demo"]["args"],
            serde_json::json!(["serve-demo", "--stdio"])
        );
    }

    #[test]
    fn unknown_uris_are_not_found() {
        let error = read("demo://nothing").expect_err("no such resource");
        assert_eq!(error.code, rmcp::model::ErrorCode::RESOURCE_NOT_FOUND);
        assert!(
            error.message.contains("demo://nothing"),
            "{}",
            error.message
        );
        assert_eq!(
            error.data,
            Some(serde_json::json!({ "uri": "demo://nothing" }))
        );
    }
}
