//! What the direct request paths of both transports share: ids, the typed result parse, how an answer
//! is recognised, and the error a direct request fails with.
//!
//! A direct request skips rmcp's service loop: the caller's own task sends it and gets its answer
//! back, parsed as the result type its method names (rmcp parses every result through an untagged
//! union of about 20 shapes). Direct requests carry string ids (`d-1`, `d-2`, ...) and rmcp's carry
//! numbers, so an answer is never mistaken for another. Each request names its id as its progress
//! token, so a server's progress notifications reach the client handler as for rmcp's requests.

use std::time::Duration;

use rmcp::model::{
    CancelledNotification, CancelledNotificationParam, ClientJsonRpcMessage, ClientNotification,
    ClientRequest, ErrorData, GetMeta, NumberOrString, ProgressToken, RequestId, ServerResult,
};
use serde::Deserialize;
use serde::de::{DeserializeOwned, IgnoredAny};
use serde_json::value::RawValue;

use crate::error::TransportError;

/// Every direct request id is this prefix and a number; rmcp's own ids are plain numbers.
const ID_PREFIX: &str = "d-";

/// Why the server gets a `notifications/cancelled` after a timeout (rmcp's wording, so a server sees
/// the same reason whichever path timed out).
pub(crate) const TIMEOUT_REASON: &str = "request timeout";

/// Why the server gets a `notifications/cancelled` when the caller stopped waiting.
pub(crate) const DROPPED_REASON: &str = "the client stopped waiting";

/// Why a direct request failed.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum RequestError {
    /// The server answered with a JSON-RPC error.
    #[error("the server answered {method} with JSON-RPC error {}: {}", .error.code.0, .error.message)]
    Rpc {
        /// The request's method.
        method: String,
        /// The error, as the server sent it.
        error: ErrorData,
    },
    /// No answer came within the timeout; the server was sent `notifications/cancelled`.
    #[error("no answer to {method} within {}", humantime::format_duration(*timeout))]
    Timeout {
        /// The request's method.
        method: String,
        /// The limit that passed.
        timeout: Duration,
    },
    /// The connection failed or ended (with the transport's reason), or the answer was not the
    /// result its method promises ([`TransportError::Protocol`]).
    #[error(transparent)]
    Transport(#[from] TransportError),
    /// The request never reached the server and can be sent again through rmcp's own path, which
    /// can recover: over HTTP, no session was established yet, or the server forgot the session
    /// (a 404), which rmcp re-initializes.
    #[error("the request was not delivered: {0}")]
    NotDelivered(TransportError),
}

/// An answer to a direct request, its result still unparsed.
pub(crate) enum Answer {
    Result(Box<RawValue>),
    Error(ErrorData),
}

/// The fields of a message looked at to route an answer; `result` is kept unparsed.
#[derive(Deserialize)]
struct Peek<'a> {
    id: Option<RequestId>,
    method: Option<IgnoredAny>,
    #[serde(borrow)]
    result: Option<&'a RawValue>,
    error: Option<ErrorData>,
}

/// If `message` is an answer to a direct request, its number and the answer; `None` for anything
/// else (requests, notifications, answers to rmcp's requests, a message that does not parse or is
/// neither a result nor an error), which is rmcp's to read.
pub(crate) fn direct_answer(message: &[u8]) -> Option<(u64, Answer)> {
    let peek = serde_json::from_slice::<Peek<'_>>(message).ok()?;
    if peek.method.is_some() {
        return None;
    }
    let number = peek.id.as_ref().and_then(direct_number)?;
    match (peek.result, peek.error) {
        (Some(result), None) => Some((number, Answer::Result(result.to_owned()))),
        (None, Some(error)) => Some((number, Answer::Error(error))),
        // Neither or both: not a valid answer; rmcp's parser reports it.
        _ => None,
    }
}

/// What a direct request needs to read its answer: its method, and how to parse its result.
pub(crate) struct Pending {
    pub(crate) method: String,
    decode: Decode,
}

impl Pending {
    /// `request` as direct request `number`: the message to send (its id and progress token set),
    /// and what reads the answer.
    pub(crate) fn prepare(mut request: ClientRequest, number: u64) -> (ClientJsonRpcMessage, Self) {
        let method = request.method().to_owned();
        let decode = decoder(&request);
        let id = request_id(number);
        request
            .get_meta_mut()
            .set_progress_token(ProgressToken(id.clone()));
        (
            ClientJsonRpcMessage::request(request, id),
            Self { method, decode },
        )
    }

    /// The caller's result for `answer`.
    pub(crate) fn finish(self, answer: Answer) -> Result<ServerResult, RequestError> {
        let Self { method, decode } = self;
        match answer {
            Answer::Result(raw) => decode(raw.get()).map_err(|error| {
                RequestError::Transport(TransportError::Protocol {
                    detail: format!(
                        "the server's answer to {method} is not a valid result: {error}"
                    ),
                })
            }),
            Answer::Error(error) => Err(RequestError::Rpc { method, error }),
        }
    }
}

/// `notifications/cancelled` for direct request `number`.
pub(crate) fn cancelled(number: u64, reason: &str) -> ClientJsonRpcMessage {
    ClientJsonRpcMessage::notification(ClientNotification::CancelledNotification(
        CancelledNotification::new(CancelledNotificationParam::new(
            Some(request_id(number)),
            Some(reason.to_owned()),
        )),
    ))
}

fn request_id(number: u64) -> RequestId {
    NumberOrString::String(format!("{ID_PREFIX}{number}").into())
}

/// The number in a direct request's id; `None` for any other id (rmcp's numbers among them).
fn direct_number(id: &RequestId) -> Option<u64> {
    match id {
        NumberOrString::String(id) => id.strip_prefix(ID_PREFIX)?.parse().ok(),
        NumberOrString::Number(_) => None,
    }
}

type Decode = fn(&str) -> Result<ServerResult, serde_json::Error>;

/// How to parse the result of `request`: as the type its method names, else as the whole union.
fn decoder(request: &ClientRequest) -> Decode {
    fn typed<T: DeserializeOwned>(
        wrap: fn(T) -> ServerResult,
    ) -> impl Fn(&str) -> Result<ServerResult, serde_json::Error> {
        move |json| serde_json::from_str(json).map(wrap)
    }
    match request {
        // A result that is not the expected type (a task, a request for input...) is read as the
        // union, so it reaches the caller as what it is, exactly as through rmcp.
        ClientRequest::CallToolRequest(_) => {
            |json| typed(ServerResult::CallToolResult)(json).or_else(|_| serde_json::from_str(json))
        }
        ClientRequest::ListToolsRequest(_) => |json| typed(ServerResult::ListToolsResult)(json),
        ClientRequest::ListResourcesRequest(_) => {
            |json| typed(ServerResult::ListResourcesResult)(json)
        }
        ClientRequest::ListResourceTemplatesRequest(_) => {
            |json| typed(ServerResult::ListResourceTemplatesResult)(json)
        }
        ClientRequest::ListPromptsRequest(_) => |json| typed(ServerResult::ListPromptsResult)(json),
        ClientRequest::ReadResourceRequest(_) => {
            |json| typed(ServerResult::ReadResourceResult)(json)
        }
        ClientRequest::GetPromptRequest(_) => |json| typed(ServerResult::GetPromptResult)(json),
        ClientRequest::CompleteRequest(_) => |json| typed(ServerResult::CompleteResult)(json),
        ClientRequest::PingRequest(_)
        | ClientRequest::SetLevelRequest(_)
        | ClientRequest::SubscribeRequest(_)
        | ClientRequest::UnsubscribeRequest(_) => |json| typed(ServerResult::EmptyResult)(json),
        _ => |json| serde_json::from_str(json),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn direct_ids_are_recognised_and_rmcp_ids_are_not() {
        assert_eq!(direct_number(&request_id(42)), Some(42));
        assert_eq!(direct_number(&NumberOrString::Number(42)), None);
        assert_eq!(direct_number(&NumberOrString::String("42".into())), None);
        assert_eq!(direct_number(&NumberOrString::String("d-x".into())), None);
    }

    #[test]
    fn results_are_parsed_as_the_type_their_method_names() {
        let call = ClientRequest::CallToolRequest(rmcp::model::Request::new(
            rmcp::model::CallToolRequestParams::new("echo"),
        ));
        let text = r#"{"content":[{"type":"text","text":"hi"}],"isError":false}"#;
        let result = decoder(&call)(text).expect("a tool result");
        assert!(matches!(result, ServerResult::CallToolResult(_)));

        let ping = ClientRequest::PingRequest(Default::default());
        assert!(matches!(
            decoder(&ping)("{}"),
            Ok(ServerResult::EmptyResult(_))
        ));
        assert!(decoder(&ping)("42").is_err());
    }
}
