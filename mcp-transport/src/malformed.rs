//! Requests from the server that rmcp cannot read, and how both transports answer them.
//!
//! rmcp reads a server's message as one of the shapes its method promises; a request whose
//! `params` do not fit (`{"jsonrpc":"2.0","id":5,"method":"roots/list","params":"string"}`) is not
//! one of them. Such a request is still a well-formed JSON-RPC request, so it is answered with a
//! JSON-RPC error (the server learns what was wrong, instead of waiting for ever) and the session
//! goes on: a server's bug in one request is not worth the whole session. What is not a JSON-RPC
//! request or notification at all stays each transport's business (stdio ends the stream).
//!
//! The codes, from JSON-RPC 2.0 §5.1: `params` that is not a structured value (an object or an
//! array) makes the message an invalid request (-32600); structured `params` that do not fit the
//! method are invalid params (-32602). A request whose `id` is null (or not a number or string)
//! and a notification (no `id`) cannot be answered: they are dropped with a debug log.
//!
//! The answer is sent from a task of its own, so the reader that found the request never waits
//! on the server: over stdio through the one stdin writer, over HTTP POSTed in the session.

use rmcp::model::{ClientJsonRpcMessage, ErrorCode, ErrorData, JsonRpcError, RequestId};
use serde::Deserialize;
use serde_json::Value;

/// What a transport does with a message from the server that rmcp could not read.
#[derive(Debug)]
pub(crate) enum Unreadable {
    /// A request whose `params` do not fit: send this error to the server and read on. (Boxed:
    /// a message is large, and this is the rare case.)
    Answer(Box<ClientJsonRpcMessage>),
    /// A request or notification there is no way to answer (`id` null, or a notification): read
    /// on without it.
    Dropped,
    /// Not a JSON-RPC request or notification at all.
    NotARequest,
}

/// Classifies `bytes`, a message rmcp's `ServerJsonRpcMessage` did not accept.
pub(crate) fn classify(bytes: &[u8]) -> Unreadable {
    let Ok(Value::Object(message)) = serde_json::from_slice::<Value>(bytes) else {
        return Unreadable::NotARequest;
    };
    let is_request = message.get("jsonrpc").and_then(Value::as_str) == Some("2.0")
        && message.get("method").is_some_and(Value::is_string)
        && !message.contains_key("result")
        && !message.contains_key("error");
    if !is_request {
        return Unreadable::NotARequest;
    }
    // The method is the server's text: it goes to the log only through `Debug`, bounded here.
    let method: String = message
        .get("method")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .chars()
        .take(64)
        .collect();
    let Some(id) = message.get("id") else {
        tracing::debug!(
            ?method,
            "dropped a notification from the server that does not fit its method"
        );
        return Unreadable::Dropped;
    };
    let Ok(id) = RequestId::deserialize(id) else {
        tracing::debug!(
            ?method,
            "dropped a request from the server without a usable id (null, or not a number or \
             string): there is nothing to answer"
        );
        return Unreadable::Dropped;
    };
    let structured = message
        .get("params")
        .is_none_or(|params| params.is_object() || params.is_array());
    let error = if structured {
        ErrorData::new(
            ErrorCode::INVALID_PARAMS,
            "the request's params do not fit its method",
            None,
        )
    } else {
        ErrorData::new(
            ErrorCode::INVALID_REQUEST,
            "the request's params must be an object",
            None,
        )
    };
    tracing::debug!(?method, %id, code = error.code.0, "answered a request from the server that does not fit its method");
    Unreadable::Answer(Box::new(ClientJsonRpcMessage::Error(JsonRpcError::new(
        Some(id),
        error,
    ))))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(json: &str) -> Value {
        match classify(json.as_bytes()) {
            Unreadable::Answer(message) => serde_json::to_value(message).expect("encodes"),
            other => panic!("{json}: not answered: {other:?}"),
        }
    }

    #[test]
    fn params_that_are_not_structured_are_an_invalid_request_answered_by_id() {
        let error = answer(r#"{"jsonrpc":"2.0","id":5,"method":"roots/list","params":"string"}"#);
        assert_eq!(error["id"], 5);
        assert_eq!(error["error"]["code"], -32600);
        let error = answer(r#"{"jsonrpc":"2.0","id":"s-1","method":"ping","params":7}"#);
        assert_eq!(error["id"], "s-1");
    }

    #[test]
    fn structured_params_that_do_not_fit_are_invalid_params() {
        let error = answer(
            r#"{"jsonrpc":"2.0","id":6,"method":"sampling/createMessage","params":{"messages":3}}"#,
        );
        assert_eq!(error["id"], 6);
        assert_eq!(error["error"]["code"], -32602);
    }

    #[test]
    fn a_null_id_and_a_notification_are_dropped() {
        for json in [
            r#"{"jsonrpc":"2.0","id":null,"method":"roots/list","params":"string"}"#,
            r#"{"jsonrpc":"2.0","id":{"x":1},"method":"roots/list"}"#,
            r#"{"jsonrpc":"2.0","method":"notifications/progress","params":"string"}"#,
        ] {
            assert!(
                matches!(classify(json.as_bytes()), Unreadable::Dropped),
                "{json}"
            );
        }
    }

    #[test]
    fn what_is_not_a_json_rpc_request_is_left_to_the_transport() {
        for json in [
            "this is not json",
            "[1,2]",
            r#"{"jsonrpc":"1.0","id":1,"method":"ping"}"#,
            r#"{"jsonrpc":"2.0","id":1,"method":7}"#,
            r#"{"jsonrpc":"2.0","id":1,"result":{},"error":{}}"#,
        ] {
            assert!(
                matches!(classify(json.as_bytes()), Unreadable::NotARequest),
                "{json}"
            );
        }
    }
}
