//! The standard request headers of streamable HTTP (protocol 2026-07-28): `Mcp-Method` on every
//! message, and `Mcp-Name` (`params.name` or `params.uri`) on `tools/call`, `resources/read` and
//! `prompts/get`, so proxies and servers can route without parsing bodies.
//!
//! Earlier revisions ignore headers they do not know, so every POST carries them whatever the
//! server speaks. A value that is not plain visible ASCII (or has leading or trailing whitespace,
//! or looks like the sentinel itself) is sent as `=?base64?{Base64 of its UTF-8}?=`, as the
//! specification's Value Encoding section requires.

use std::borrow::Cow;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use http::{HeaderName, HeaderValue};
use serde::Deserialize;
use serde_json::value::RawValue;

use super::param_headers::ToolHeaderMap;

pub(super) const MCP_METHOD: HeaderName = HeaderName::from_static("mcp-method");
pub(super) const MCP_NAME: HeaderName = HeaderName::from_static("mcp-name");

/// What the headers are read from: the message's method and the name or URI it is about.
#[derive(Deserialize)]
struct Peek<'a> {
    #[serde(borrow)]
    method: Option<Cow<'a, str>>,
    #[serde(borrow)]
    params: Option<PeekParams<'a>>,
}

#[derive(Deserialize)]
struct PeekParams<'a> {
    #[serde(borrow)]
    name: Option<Cow<'a, str>>,
    #[serde(borrow)]
    uri: Option<Cow<'a, str>>,
    /// A `tools/call`'s arguments, left unparsed unless the tool mirrors some into headers.
    #[serde(borrow)]
    arguments: Option<&'a RawValue>,
}

/// The headers a JSON-RPC message body adds to its POST: the standard ones, and for a `tools/call`
/// of a tool in `tools`, its `Mcp-Param-*` headers. None for a body that is not one message with a
/// method (a response, a batch). The body is read once, whatever it adds.
pub(super) fn message_headers(
    body: &[u8],
    tools: &ToolHeaderMap,
) -> Vec<(HeaderName, HeaderValue)> {
    let Ok(peek) = serde_json::from_slice::<Peek<'_>>(body) else {
        return Vec::new();
    };
    let Some(method) = peek.method else {
        return Vec::new();
    };
    let mut headers = vec![(MCP_METHOD, header_safe(&method))];
    let name = match (&*method, &peek.params) {
        ("tools/call" | "prompts/get", Some(params)) => params.name.as_deref(),
        ("resources/read", Some(params)) => params.uri.as_deref(),
        _ => None,
    };
    if let Some(name) = name {
        headers.push((MCP_NAME, header_safe(name)));
    }
    if method == "tools/call"
        && let Some(params) = &peek.params
        && let (Some(tool), Some(arguments)) = (params.name.as_deref(), params.arguments)
    {
        headers.extend(tools.headers_for(tool, arguments));
    }
    headers
}

/// The standard headers of one JSON-RPC message's POST (`Mcp-Method`, and `Mcp-Name` where the
/// method has one), encoded as the specification requires: for a caller that builds its own
/// requests (a compliance check). None for a body that is not one message with a method.
pub fn standard_headers(body: &[u8]) -> Vec<(HeaderName, HeaderValue)> {
    message_headers(body, &ToolHeaderMap::default())
}

/// `text` as a header value: as it is when it is plain visible ASCII (spaces inside allowed),
/// else in the Base64 sentinel form.
pub(crate) fn header_safe(text: &str) -> HeaderValue {
    let sentinel = text.starts_with("=?base64?") && text.ends_with("?=");
    let plain = !text.is_empty()
        && text.bytes().all(|byte| matches!(byte, 0x20..=0x7e))
        && !text.starts_with(' ')
        && !text.ends_with(' ')
        && !sentinel;
    let value = if plain {
        HeaderValue::from_str(text)
    } else {
        HeaderValue::from_str(&format!("=?base64?{}?=", STANDARD.encode(text.as_bytes())))
    };
    // Both forms are visible ASCII by construction; an empty value is a valid header too.
    value.unwrap_or_else(|_| HeaderValue::from_static(""))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shown(value: &HeaderValue) -> &str {
        value.to_str().expect("visible ASCII")
    }

    #[test]
    fn values_are_encoded_as_the_specification_shows() {
        assert_eq!(shown(&header_safe("us-west1")), "us-west1");
        assert_eq!(
            shown(&header_safe("Hello, 世界")),
            "=?base64?SGVsbG8sIOS4lueVjA==?="
        );
        assert_eq!(shown(&header_safe(" padded ")), "=?base64?IHBhZGRlZCA=?=");
        assert_eq!(
            shown(&header_safe("line1\nline2")),
            "=?base64?bGluZTEKbGluZTI=?="
        );
        assert_eq!(
            shown(&header_safe("=?base64?literal?=")),
            "=?base64?PT9iYXNlNjQ/bGl0ZXJhbD89?="
        );
    }

    #[test]
    fn method_on_every_message_and_name_where_the_method_has_one() {
        let call = br#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"get_weather","arguments":{"name":"x"}}}"#;
        let headers = message_headers(call, &ToolHeaderMap::default());
        assert_eq!(headers.len(), 2);
        assert_eq!(shown(&headers[0].1), "tools/call");
        assert_eq!(shown(&headers[1].1), "get_weather");
        let read = br#"{"jsonrpc":"2.0","id":2,"method":"resources/read","params":{"uri":"file:///a b.txt"}}"#;
        assert_eq!(
            shown(&message_headers(read, &ToolHeaderMap::default())[1].1),
            "file:///a b.txt"
        );
        let list = br#"{"jsonrpc":"2.0","id":3,"method":"tools/list","params":{"name":"ignored"}}"#;
        assert_eq!(message_headers(list, &ToolHeaderMap::default()).len(), 1);
        let notification = br#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#;
        assert_eq!(
            shown(&message_headers(notification, &ToolHeaderMap::default())[0].1),
            "notifications/initialized"
        );
        let response = br#"{"jsonrpc":"2.0","id":4,"result":{}}"#;
        assert!(message_headers(response, &ToolHeaderMap::default()).is_empty());
        assert!(message_headers(b"not json", &ToolHeaderMap::default()).is_empty());
    }
}
