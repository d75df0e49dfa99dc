//! The JSON-RPC core: the envelope of what comes in ([`parse`]), the one function that answers a
//! request ([`Server::answer`]) and the envelope of what goes out ([`Server::reply`]).

use std::sync::atomic::{AtomicU64, Ordering};

use serde_json::{Map, Value, json};

use super::{Violation, catalog};

/// The protocol version this server prefers, and answers to a version it does not know.
pub const LATEST_VERSION: &str = "2025-11-25";
/// Every protocol version this server speaks.
pub const SUPPORTED_VERSIONS: [&str; 3] = [LATEST_VERSION, "2025-06-18", "2025-03-26"];
/// What [`Violation::ProtocolVersion`] answers to every `initialize`: the naming of an unreleased
/// draft, so no client can support it.
const WRONG_VERSION: &str = "DRAFT-2026-v1";
const LOG_LEVELS: [&str; 8] = [
    "debug",
    "info",
    "notice",
    "warning",
    "error",
    "critical",
    "alert",
    "emergency",
];

/// The string at a JSON pointer (`/argument/name`) in `params`, if there is one.
pub(super) fn str_at<'a>(params: &'a Value, pointer: &str) -> Option<&'a str> {
    params.pointer(pointer).and_then(Value::as_str)
}

/// A JSON-RPC error object: a code and a message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RpcError {
    /// The JSON-RPC error code (-32700 parse error, -32600 invalid request, -32601 method not found,
    /// -32602 invalid params, -32002 resource not found, -32000 transport-level refusals).
    pub code: i64,
    /// A one-line human-readable message.
    pub message: String,
}

impl RpcError {
    /// A -32602 error: the params are missing, of the wrong type or name nothing known.
    pub fn invalid_params(message: impl Into<String>) -> Self {
        Self {
            code: -32602,
            message: message.into(),
        }
    }

    fn invalid_request(message: impl Into<String>) -> Self {
        Self {
            code: -32600,
            message: message.into(),
        }
    }
}

/// One message from the client, once its envelope has been checked.
#[derive(Debug)]
pub enum Incoming {
    /// A request, to be answered with [`Server::reply`].
    Request {
        /// The request id (a string or a number).
        id: Value,
        /// The method name.
        method: String,
        /// The params (`Null` when absent).
        params: Value,
    },
    /// A notification; it gets no answer.
    Notification {
        /// The method name.
        method: String,
    },
    /// A client's response to a request of ours (only [`Violation::CapabilityNotRespected`] sends
    /// any); it is ignored.
    Response,
    /// Not a valid message: send back [`Server::error_response`] for this id and error.
    Invalid {
        /// The request's id when it had a valid one, else `Null`.
        id: Value,
        /// -32700 for malformed JSON, -32600 for an invalid request.
        error: RpcError,
    },
}

/// Parses one message and checks its JSON-RPC 2.0 envelope. Batches (removed in 2025-06-18) are
/// invalid requests.
pub fn parse(bytes: &[u8]) -> Incoming {
    let invalid = |id: Value, error| Incoming::Invalid { id, error };
    let value: Value = match serde_json::from_slice(bytes) {
        Ok(value) => value,
        Err(error) => {
            return invalid(
                Value::Null,
                RpcError {
                    code: -32700,
                    message: format!("parse error: {error}"),
                },
            );
        }
    };
    let Value::Object(mut message) = value else {
        return invalid(
            Value::Null,
            RpcError::invalid_request(
                "a message must be a JSON object (batches are not supported)",
            ),
        );
    };
    let id = match message.remove("id") {
        None => None,
        Some(id @ (Value::String(_) | Value::Number(_))) => Some(id),
        Some(_) => {
            let error = RpcError::invalid_request("id must be a string or a number");
            return invalid(Value::Null, error);
        }
    };
    if message.get("jsonrpc").and_then(Value::as_str) != Some("2.0") {
        let error = RpcError::invalid_request("jsonrpc must be \"2.0\"");
        return invalid(id.unwrap_or(Value::Null), error);
    }
    let method = match message.remove("method") {
        Some(Value::String(method)) => method,
        Some(_) => {
            let error = RpcError::invalid_request("method must be a string");
            return invalid(id.unwrap_or(Value::Null), error);
        }
        None if id.is_some()
            && (message.contains_key("result") || message.contains_key("error")) =>
        {
            return Incoming::Response;
        }
        None => {
            let error = RpcError::invalid_request("a request needs a method");
            return invalid(id.unwrap_or(Value::Null), error);
        }
    };
    match id {
        Some(id) => Incoming::Request {
            id,
            method,
            params: message.remove("params").unwrap_or(Value::Null),
        },
        None => Incoming::Notification { method },
    }
}

/// What to send for one request, in order.
#[derive(Debug)]
pub struct Reply {
    /// Messages sent before the response (`test_tool_with_logging`'s log messages,
    /// `test_tool_with_progress`'s progress; the unrequested
    /// `sampling/createMessage` of
    /// [`Violation::CapabilityNotRespected`]).
    pub before: Vec<Value>,
    /// The response itself.
    pub response: Value,
    /// A plain-text line written to stdout after the response ([`Violation::StdoutLogs`]).
    pub stray_after: Option<&'static str>,
}

/// The server: compliant, or breaking the one rule of its [`Violation`].
#[derive(Debug)]
pub struct Server {
    violation: Option<Violation>,
    requests_sent: AtomicU64,
}

impl Server {
    /// A server that breaks `violation`'s rule, or none.
    pub fn new(violation: Option<Violation>) -> Self {
        Self {
            violation,
            requests_sent: AtomicU64::new(0),
        }
    }

    /// Whether this server breaks `violation`'s rule.
    pub fn violates(&self, violation: Violation) -> bool {
        self.violation == Some(violation)
    }

    /// Whether a message that failed to parse with `error` ends the process
    /// ([`Violation::DiesOnBadInput`]).
    pub fn dies_of(&self, error: &RpcError) -> bool {
        self.violates(Violation::DiesOnBadInput) && error.code == -32700
    }

    /// The plain-text line to write to stdout at startup, before any answer ([`Violation::StdoutLogs`]).
    pub fn startup_stray(&self) -> Option<&'static str> {
        self.violates(Violation::StdoutLogs)
            .then_some("[info] server started")
    }

    /// Whether an `MCP-Protocol-Version` header value names a version this server speaks (or the one
    /// it wrongly answered, so that [`Violation::ProtocolVersion`] breaks nothing else).
    pub fn accepts_version(&self, version: &str) -> bool {
        SUPPORTED_VERSIONS.contains(&version)
            || (self.violates(Violation::ProtocolVersion) && version == WRONG_VERSION)
    }

    /// Answers a request: the envelope around [`Server::answer`], and what a violation adds.
    pub fn reply(&self, id: Value, method: &str, params: &Value) -> Reply {
        let is_tool_call = method == "tools/call";
        let mut before = Vec::new();
        if is_tool_call && self.violates(Violation::CapabilityNotRespected) {
            let n = self.requests_sent.fetch_add(1, Ordering::Relaxed) + 1;
            before.push(json!({
                "jsonrpc": "2.0",
                "id": format!("noncompliant-sampling-{n}"),
                "method": "sampling/createMessage",
                "params": {
                    "messages": [{"role": "user", "content": {"type": "text", "text": "Say hello."}}],
                    "maxTokens": 16
                }
            }));
        }
        if is_tool_call
            && params.get("name") == Some(&json!("test_tool_with_progress"))
            && let Some(token) = params.pointer("/_meta/progressToken")
        {
            for progress in [0, 50, 100] {
                before.push(json!({
                    "jsonrpc": "2.0",
                    "method": "notifications/progress",
                    "params": {"progressToken": token, "progress": progress, "total": 100}
                }));
            }
        }
        if is_tool_call && params.get("name") == Some(&json!("test_tool_with_logging")) {
            for text in [
                "Tool execution started",
                "Tool processing data",
                "Tool execution completed",
            ] {
                before.push(json!({
                    "jsonrpc": "2.0",
                    "method": "notifications/message",
                    "params": {"level": "info", "data": text}
                }));
            }
        }
        Reply {
            before,
            response: self.envelope(id, self.answer(method, params)),
            stray_after: (is_tool_call && self.violates(Violation::StdoutLogs))
                .then_some("[info] tools/call done"),
        }
    }

    /// The error response for an invalid message or a refused HTTP request.
    pub fn error_response(&self, id: Value, error: RpcError) -> Value {
        self.envelope(id, Err(error))
    }

    fn envelope(&self, id: Value, outcome: Result<Value, RpcError>) -> Value {
        let mut message = Map::new();
        if !self.violates(Violation::BadEnvelope) {
            message.insert("jsonrpc".into(), "2.0".into());
        }
        message.insert("id".into(), id);
        match outcome {
            Ok(result) => message.insert("result".into(), result),
            Err(error) => message.insert(
                "error".into(),
                json!({"code": error.code, "message": error.message}),
            ),
        };
        Value::Object(message)
    }

    /// The core: maps a request's method and params to its result or JSON-RPC error.
    pub fn answer(&self, method: &str, params: &Value) -> Result<Value, RpcError> {
        match method {
            "initialize" => self.initialize(params),
            "ping" => Ok(json!({})),
            "logging/setLevel" => match str_at(params, "/level") {
                Some(level) if LOG_LEVELS.contains(&level) => Ok(json!({})),
                _ => Err(RpcError::invalid_params(
                    "level must be one of the eight syslog levels",
                )),
            },
            "tools/list" => {
                let cursor = str_at(params, "/cursor");
                catalog::list_tools(cursor, self.violates(Violation::BadPagination))
            }
            "tools/call" => {
                let name = str_at(params, "/name").ok_or_else(|| {
                    RpcError::invalid_params("tools/call needs a string params.name")
                })?;
                catalog::call_tool(name, self.violates(Violation::MissingIsError))
            }
            "resources/list" => Ok(catalog::list_resources()),
            "resources/templates/list" => Ok(catalog::list_resource_templates()),
            "resources/read" => {
                let uri = str_at(params, "/uri").ok_or_else(|| {
                    RpcError::invalid_params("resources/read needs a string params.uri")
                })?;
                catalog::read_resource(uri)
            }
            "prompts/list" => Ok(catalog::list_prompts()),
            "prompts/get" => catalog::get_prompt(params),
            "completion/complete" => catalog::complete(params),
            _ => Err(RpcError {
                code: -32601,
                message: format!("method not found: {method}"),
            }),
        }
    }

    fn initialize(&self, params: &Value) -> Result<Value, RpcError> {
        let requested = str_at(params, "/protocolVersion")
            .ok_or_else(|| RpcError::invalid_params("initialize needs params.protocolVersion"))?;
        let version = if self.violates(Violation::ProtocolVersion) {
            WRONG_VERSION
        } else if SUPPORTED_VERSIONS.contains(&requested) {
            requested
        } else {
            LATEST_VERSION
        };
        Ok(json!({
            "protocolVersion": version,
            "capabilities": {
                "tools": {"listChanged": false},
                "resources": {"subscribe": false, "listChanged": false},
                "prompts": {"listChanged": false},
                "logging": {},
                "completions": {}
            },
            "serverInfo": {"name": "mcp-noncompliant-server", "version": env!("CARGO_PKG_VERSION")},
            "instructions": "A test server for compliance checkers; see --violate."
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_envelope_is_checked() {
        assert!(matches!(parse(b"{nope"), Incoming::Invalid { error, .. } if error.code == -32700));
        let no_method = parse(br#"{"jsonrpc":"2.0","id":1}"#);
        assert!(
            matches!(no_method, Incoming::Invalid { id, error } if error.code == -32600 && id == 1)
        );
        let old = parse(br#"{"jsonrpc":"1.0","id":1,"method":"ping"}"#);
        assert!(matches!(old, Incoming::Invalid { error, .. } if error.code == -32600));
        let batch = parse(br#"[{"jsonrpc":"2.0","id":1,"method":"ping"}]"#);
        assert!(matches!(batch, Incoming::Invalid { error, .. } if error.code == -32600));
        let answer = parse(br#"{"jsonrpc":"2.0","id":"s-1","result":{}}"#);
        assert!(matches!(answer, Incoming::Response));
    }

    #[test]
    fn versions_are_negotiated() {
        let version = |server: &Server, requested: &str| {
            let params = json!({"protocolVersion": requested, "capabilities": {}});
            server
                .answer("initialize", &params)
                .map(|r| r["protocolVersion"].clone())
        };
        let compliant = Server::new(None);
        assert_eq!(version(&compliant, "2025-06-18"), Ok(json!("2025-06-18")));
        assert_eq!(version(&compliant, "1999-01-01"), Ok(json!(LATEST_VERSION)));
        let wrong = Server::new(Some(Violation::ProtocolVersion));
        assert_eq!(version(&wrong, LATEST_VERSION), Ok(json!(WRONG_VERSION)));
    }

    #[test]
    fn bad_envelope_drops_jsonrpc() {
        let reply = Server::new(Some(Violation::BadEnvelope)).reply(json!(1), "ping", &Value::Null);
        assert_eq!(reply.response, json!({"id": 1, "result": {}}));
    }
}
