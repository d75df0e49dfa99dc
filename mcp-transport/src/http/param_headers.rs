//! Tool parameters mirrored into HTTP headers (`x-mcp-header`, protocol 2026-07-28): a tool's
//! `inputSchema` may mark primitive properties with `"x-mcp-header": "Region"`, and every
//! `tools/call` of it over streamable HTTP then carries `Mcp-Param-Region: <value>`.
//!
//! [`ParamHeaders::from_schema`] checks a tool's declarations as the specification's Schema
//! Extension section requires: a non-empty header token, unique (case-insensitively) in the schema,
//! on a `string`, `integer` or `boolean` property reached from the root through `properties` keys
//! only (never through `items`, composition, conditionals or `$ref`). A tool with an invalid
//! declaration must not be offered at all: the caller drops it from its listing and says why.
//! [`ToolHeaderMap`] holds a session's valid declarations; the streamable client reads it for each
//! `tools/call` it sends. A value is sent as its string form (`42`, `true`), Base64-encoded in the
//! sentinel form when it is not plain ASCII; a value that is absent sends no header.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, PoisonError, RwLock};

use http::{HeaderName, HeaderValue};
use serde_json::{Map, Value};

use super::standard_headers::header_safe;

const DECLARATION: &str = "x-mcp-header";
/// Keywords whose values are instance data, not schemas: a declaration-like key inside them is
/// data, not a declaration.
const DATA_KEYWORDS: &[&str] = &["default", "examples", "const", "enum"];
/// JavaScript's safe integers: what an integer header value may be.
const MAX_SAFE_INTEGER: i64 = (1 << 53) - 1;

/// Why a tool's `x-mcp-header` declarations are invalid (the tool is then not offered).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid x-mcp-header declaration at {location}: {problem}")]
pub struct InvalidParamHeader {
    location: String,
    problem: String,
}

impl InvalidParamHeader {
    fn new(path: &[String], problem: impl Into<String>) -> Self {
        let location = if path.is_empty() {
            "the schema root".to_owned()
        } else {
            format!("/{}", path.join("/"))
        };
        Self {
            location,
            problem: problem.into(),
        }
    }

    /// Where in the schema the bad declaration is (a JSON-pointer-like path of keys).
    pub fn location(&self) -> &str {
        &self.location
    }
}

/// One tool's mirrored parameters: where each value is in the arguments, and its header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParamHeaders {
    params: Vec<(Vec<String>, HeaderName)>,
}

impl ParamHeaders {
    /// The declarations in a tool's `inputSchema`: `Ok(None)` when it has none.
    ///
    /// # Errors
    /// [`InvalidParamHeader`] for the first declaration that breaks a rule.
    pub fn from_schema(schema: &Map<String, Value>) -> Result<Option<Self>, InvalidParamHeader> {
        let mut params = Vec::new();
        visit(schema, &mut Vec::new(), true, &mut params)?;
        let mut seen = HashSet::new();
        for (path, name) in &params {
            if !seen.insert(name.as_str().to_owned()) {
                return Err(InvalidParamHeader::new(
                    path,
                    format!("the header {name} is declared twice"),
                ));
            }
        }
        Ok((!params.is_empty()).then_some(Self { params }))
    }

    /// The `Mcp-Param-*` headers for a call with `arguments`.
    pub(super) fn headers_for(&self, arguments: &Value) -> Vec<(HeaderName, HeaderValue)> {
        self.params
            .iter()
            .filter_map(|(path, name)| {
                let value = path
                    .iter()
                    .try_fold(arguments, |value, key| value.get(key))?;
                let text = match value {
                    Value::String(text) => text.clone(),
                    Value::Bool(flag) => flag.to_string(),
                    Value::Number(number) => number
                        .as_i64()
                        .filter(|integer| integer.abs() <= MAX_SAFE_INTEGER)?
                        .to_string(),
                    // Not a value the declaration allows: no header rather than a wrong one.
                    _ => return None,
                };
                Some((name.clone(), header_safe(&text)))
            })
            .collect()
    }
}

/// Walks a schema node. `reachable`: whether `path` leads here through `properties` keys only.
fn visit(
    node: &Map<String, Value>,
    path: &mut Vec<String>,
    reachable: bool,
    found: &mut Vec<(Vec<String>, HeaderName)>,
) -> Result<(), InvalidParamHeader> {
    if let Some(declared) = node.get(DECLARATION) {
        found.push((path.clone(), declaration(node, declared, path, reachable)?));
    }
    for (key, value) in node {
        if key == DECLARATION || DATA_KEYWORDS.contains(&key.as_str()) {
            continue;
        }
        if key == "properties"
            && let Value::Object(properties) = value
        {
            for (name, property) in properties {
                if let Value::Object(property) = property {
                    path.push(name.clone());
                    visit(property, path, reachable, found)?;
                    path.pop();
                }
            }
            continue;
        }
        // Any other keyword's subschemas are not statically reachable.
        path.push(key.clone());
        visit_value(value, path, found)?;
        path.pop();
    }
    Ok(())
}

fn visit_value(
    value: &Value,
    path: &mut Vec<String>,
    found: &mut Vec<(Vec<String>, HeaderName)>,
) -> Result<(), InvalidParamHeader> {
    match value {
        Value::Object(node) => visit(node, path, false, found),
        Value::Array(items) => {
            for (index, item) in items.iter().enumerate() {
                path.push(index.to_string());
                visit_value(item, path, found)?;
                path.pop();
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

/// The header one declaration names, if the declaration is valid where it stands.
fn declaration(
    node: &Map<String, Value>,
    declared: &Value,
    path: &[String],
    reachable: bool,
) -> Result<HeaderName, InvalidParamHeader> {
    if !reachable || path.is_empty() {
        return Err(InvalidParamHeader::new(
            path,
            "only a property reached through `properties` keys from the root may be mirrored",
        ));
    }
    let Value::String(name) = declared else {
        return Err(InvalidParamHeader::new(path, "the value must be a string"));
    };
    let token = !name.is_empty()
        && name
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&byte));
    if !token {
        return Err(InvalidParamHeader::new(
            path,
            format!("{name:?} is not an HTTP header name token"),
        ));
    }
    match node.get("type") {
        Some(Value::String(kind)) if matches!(kind.as_str(), "string" | "integer" | "boolean") => {}
        other => {
            return Err(InvalidParamHeader::new(
                path,
                format!(
                    "only string, integer and boolean properties may be mirrored, not {}",
                    other.map_or_else(|| "an untyped one".to_owned(), Value::to_string)
                ),
            ));
        }
    }
    HeaderName::from_bytes(format!("mcp-param-{name}").as_bytes())
        .map_err(|_| InvalidParamHeader::new(path, format!("{name:?} makes no valid header name")))
}

/// A session's tools whose parameters are mirrored into headers, by tool name; shared by the
/// transport's requests and refreshed by whoever lists the tools. Cheap to clone.
#[derive(Debug, Clone, Default)]
pub struct ToolHeaderMap(Arc<RwLock<HashMap<String, Arc<ParamHeaders>>>>);

impl ToolHeaderMap {
    /// Replaces every declaration with `tools` (after each full `tools/list`).
    pub fn replace(&self, tools: impl IntoIterator<Item = (String, ParamHeaders)>) {
        let tools = tools
            .into_iter()
            .map(|(name, headers)| (name, Arc::new(headers)))
            .collect();
        *self.0.write().unwrap_or_else(PoisonError::into_inner) = tools;
    }

    /// The declarations of `tool`, if it has any.
    pub fn declarations(&self, tool: &str) -> Option<Arc<ParamHeaders>> {
        self.0
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(tool)
            .cloned()
    }

    /// The `Mcp-Param-*` headers for a call of `tool` with `arguments` (unparsed JSON): none when
    /// the tool declares none (the arguments are then not parsed), or they are not JSON.
    pub(super) fn headers_for(
        &self,
        tool: &str,
        arguments: &serde_json::value::RawValue,
    ) -> Vec<(HeaderName, HeaderValue)> {
        let Some(declared) = self.declarations(tool) else {
            return Vec::new();
        };
        serde_json::from_str::<Value>(arguments.get())
            .map(|arguments| declared.headers_for(&arguments))
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn schema(value: Value) -> Map<String, Value> {
        match value {
            Value::Object(map) => map,
            _ => panic!("an object"),
        }
    }

    #[test]
    fn declarations_on_reachable_primitives_are_mirrored_with_their_values() {
        let headers = ParamHeaders::from_schema(&schema(json!({
            "type": "object",
            "properties": {
                "region": {"type": "string", "x-mcp-header": "Region"},
                "limit": {"type": "integer", "x-mcp-header": "Limit"},
                "options": {"type": "object", "properties": {
                    "dry": {"type": "boolean", "x-mcp-header": "Dry-Run"}
                }},
                "query": {"type": "string", "default": {"x-mcp-header": "data, not a declaration"}}
            }
        })))
        .expect("valid")
        .expect("declared");
        let sent = headers.headers_for(&json!({
            "region": "Hello, 世界", "limit": 42, "options": {"dry": true}, "query": "q"
        }));
        let shown: Vec<(String, String)> = sent
            .iter()
            .map(|(name, value)| (name.to_string(), value.to_str().expect("ascii").to_owned()))
            .collect();
        assert!(shown.contains(&(
            "mcp-param-region".into(),
            "=?base64?SGVsbG8sIOS4lueVjA==?=".into()
        )));
        assert!(shown.contains(&("mcp-param-limit".into(), "42".into())));
        assert!(shown.contains(&("mcp-param-dry-run".into(), "true".into())));
        // An absent value sends no header.
        assert!(headers.headers_for(&json!({"query": "q"})).is_empty());
    }

    #[test]
    fn invalid_declarations_are_refused_with_where_and_why() {
        let refused =
            |value: Value| ParamHeaders::from_schema(&schema(value)).expect_err("invalid");
        let in_items = refused(json!({"properties": {"list": {"type": "array",
            "items": {"type": "string", "x-mcp-header": "Item"}}}}));
        assert_eq!(in_items.location(), "/list/items");
        let number = refused(json!({"properties": {"x": {"type": "number", "x-mcp-header": "X"}}}));
        assert!(number.to_string().contains("not \"number\""), "{number}");
        let twice = refused(json!({"properties": {
            "a": {"type": "string", "x-mcp-header": "Same"},
            "b": {"type": "string", "x-mcp-header": "same"}}}));
        assert!(twice.to_string().contains("declared twice"), "{twice}");
        let empty = refused(json!({"properties": {"a": {"type": "string", "x-mcp-header": ""}}}));
        assert!(
            empty.to_string().contains("not an HTTP header name token"),
            "{empty}"
        );
        let in_any_of = refused(json!({"anyOf": [{"properties": {
            "a": {"type": "string", "x-mcp-header": "A"}}}]}));
        assert_eq!(in_any_of.location(), "/anyOf/0/a");
        assert_eq!(
            ParamHeaders::from_schema(&schema(json!({"type": "object"}))),
            Ok(None)
        );
    }
}
