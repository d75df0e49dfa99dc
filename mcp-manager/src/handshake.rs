//! A watch on the first answer a server gives: a peer that sends us a request where the answer to
//! `server/discover` or `initialize` should be is not an MCP server, and the attempt ends at
//! once; and a legacy server that answers the `server/discover` probe with some other result is
//! told apart, so the connection falls back to `initialize`.
//!
//! Why: rmcp logs and ignores anything but a ping or a log message before the answer to
//! `initialize`, and keeps waiting. A program that echoes its input (`cat`), or another MCP
//! client, sends our own `initialize` back as a request, so the attempt waited out the whole
//! `connect_timeout` and was then retried as a timeout: 3 x 30 s for a plain mistake. The
//! specification lets a server send only pings (and log messages) before it has answered, so any
//! other request there is a protocol violation, reported as a handshake failure, which is not
//! retried.

use std::borrow::Cow;
use std::sync::{Arc, OnceLock};

use rmcp::model::{
    ClientJsonRpcMessage, ClientRequest, ErrorCode, ErrorData, ProtocolVersion, RequestId,
    ServerJsonRpcMessage, ServerRequest, ServerResult,
};
use rmcp::service::{RoleClient, RxJsonRpcMessage, TxJsonRpcMessage};
use rmcp::transport::Transport;

/// The longest method name quoted in the error (a server chooses it).
const MAX_METHOD_CHARS: usize = 64;

/// Why the handshake was broken off, once it was.
#[derive(Debug, Clone, Default)]
pub(crate) struct Violation(Arc<OnceLock<String>>);

impl Violation {
    /// What the peer did, if it broke the handshake.
    pub(crate) fn get(&self) -> Option<String> {
        self.0.get().cloned()
    }
}

/// `T`, ending the stream (so rmcp's handshake fails) when the server sends a request other than
/// a ping before its first answer. Once an answer has come, it only passes messages through.
pub(crate) struct WatchHandshake<T> {
    inner: T,
    answered: bool,
    violation: Violation,
    /// The id of the `server/discover` probe in flight, if one is.
    probe: Option<RequestId>,
    /// Whether a refused probe may fall back to `initialize` (the era is found out), so answers
    /// that mean "legacy" are made to say so; otherwise they pass as they are.
    may_fall_back: bool,
}

impl<T> WatchHandshake<T> {
    /// Watches `inner`; `violation` learns what went wrong, if anything does. `may_fall_back`:
    /// whether the lifecycle falls back to `initialize` when the era probe is refused.
    pub(crate) fn new(inner: T, violation: Violation, may_fall_back: bool) -> Self {
        Self {
            inner,
            answered: false,
            violation,
            probe: None,
            may_fall_back,
        }
    }

    /// A probe's answer that is a result but not a discover result (some legacy servers answer
    /// every unknown method with `{}`) marks a legacy server as surely as an error does, but rmcp
    /// falls back to `initialize` only on an error: it becomes one.
    fn legacy_probe_answer(&mut self, message: ServerJsonRpcMessage) -> ServerJsonRpcMessage {
        if let ServerJsonRpcMessage::Error(error) = &message
            && self.probe.is_some()
            && self.probe == error.id
        {
            self.probe = None;
            if only_legacy_versions(&error.error) {
                tracing::debug!("server/discover refused with only legacy versions: legacy");
                return ServerJsonRpcMessage::error(
                    ErrorData::method_not_found::<rmcp::model::DiscoverRequestMethod>(),
                    error.id.clone(),
                );
            }
            return message;
        }
        let ServerJsonRpcMessage::Response(response) = &message else {
            return message;
        };
        if self.probe.as_ref() != Some(&response.id) {
            return message;
        }
        self.probe = None;
        if matches!(response.result, ServerResult::DiscoverResult(_)) {
            return message;
        }
        tracing::debug!("server/discover answered with another kind of result: a legacy server");
        ServerJsonRpcMessage::error(
            ErrorData::method_not_found::<rmcp::model::DiscoverRequestMethod>(),
            Some(response.id.clone()),
        )
    }

    /// Whether `message` may pass; records the violation when it may not.
    fn check(&mut self, message: &ServerJsonRpcMessage) -> bool {
        match message {
            ServerJsonRpcMessage::Response(_) | ServerJsonRpcMessage::Error(_) => {
                self.answered = true;
                true
            }
            ServerJsonRpcMessage::Request(request)
                if !matches!(request.request, ServerRequest::PingRequest(_)) =>
            {
                let method = method_of(&request.request);
                tracing::debug!(%method, "a request before the answer to initialize");
                let _ = self.violation.0.set(format!(
                    "the peer answered our first request with a request ({method:?}), not a result: \
                     it is not an MCP server (a program that echoes its input, such as cat, \
                     does this)"
                ));
                false
            }
            _ => true,
        }
    }
}

/// Whether `error` is an unsupported-version error whose `supported` list holds only versions
/// that open with `initialize`: a server that knows the modern era exists but speaks only the
/// legacy one. The specification has a modern error mean "retry at a listed version"; here every
/// listed version is legacy, and retrying at one means `initialize`, so rmcp is told "legacy"
/// (it would otherwise give up, having no modern version in common).
fn only_legacy_versions(error: &ErrorData) -> bool {
    if error.code != ErrorCode::UNSUPPORTED_PROTOCOL_VERSION {
        return false;
    }
    let supported = error
        .data
        .as_ref()
        .and_then(|data| data.get("supported"))
        .and_then(|supported| {
            serde_json::from_value::<Vec<ProtocolVersion>>(supported.clone()).ok()
        })
        .unwrap_or_default();
    !supported.is_empty() && supported.iter().all(ProtocolVersion::has_initialize)
}

/// The method of a request a server sent, shortened (it is the server's text).
fn method_of(request: &ServerRequest) -> String {
    let value = serde_json::to_value(request).unwrap_or_default();
    let method = value
        .get("method")
        .and_then(serde_json::Value::as_str)
        .unwrap_or("?");
    method.chars().take(MAX_METHOD_CHARS).collect()
}

impl<T: Transport<RoleClient>> Transport<RoleClient> for WatchHandshake<T> {
    type Error = T::Error;

    fn name() -> Cow<'static, str> {
        T::name()
    }

    fn send(
        &mut self,
        item: TxJsonRpcMessage<RoleClient>,
    ) -> impl Future<Output = Result<(), Self::Error>> + Send + 'static {
        if self.may_fall_back
            && let ClientJsonRpcMessage::Request(request) = &item
            && matches!(request.request, ClientRequest::DiscoverRequest(_))
        {
            self.probe = Some(request.id.clone());
        }
        self.inner.send(item)
    }

    async fn receive(&mut self) -> Option<RxJsonRpcMessage<RoleClient>> {
        // Cancel-safe as `T`'s receive is: nothing is awaited after it.
        let mut message = self.inner.receive().await?;
        if self.probe.is_some() {
            message = self.legacy_probe_answer(message);
        }
        if self.answered || self.check(&message) {
            Some(message)
        } else {
            None
        }
    }

    fn close(&mut self) -> impl Future<Output = Result<(), Self::Error>> + Send {
        self.inner.close()
    }
}

#[cfg(test)]
mod tests {
    use rmcp::model::{DiscoverResult, EmptyResult, NumberOrString, ServerConfig};
    use serde_json::json;

    use super::*;

    /// A watch whose `server/discover` probe, id 0, is in flight.
    fn probing(may_fall_back: bool) -> WatchHandshake<()> {
        let mut watch = WatchHandshake::new((), Violation::default(), may_fall_back);
        watch.probe = Some(NumberOrString::Number(0));
        watch
    }

    fn error_code(message: &ServerJsonRpcMessage) -> Option<ErrorCode> {
        match message {
            ServerJsonRpcMessage::Error(error) => Some(error.error.code),
            _ => None,
        }
    }

    fn unsupported(supported: &[&str]) -> ServerJsonRpcMessage {
        ServerJsonRpcMessage::error(
            ErrorData::new(
                ErrorCode::UNSUPPORTED_PROTOCOL_VERSION,
                "Unsupported protocol version",
                Some(json!({"supported": supported, "requested": "2026-07-28"})),
            ),
            Some(NumberOrString::Number(0)),
        )
    }

    #[test]
    fn another_kind_of_result_to_the_probe_means_legacy() {
        let mut watch = probing(true);
        let answer = ServerJsonRpcMessage::response(
            ServerResult::EmptyResult(EmptyResult {}),
            NumberOrString::Number(0),
        );
        let seen = watch.legacy_probe_answer(answer);
        assert_eq!(error_code(&seen), Some(ErrorCode::METHOD_NOT_FOUND));
        assert!(watch.probe.is_none(), "one answer per probe");
    }

    #[test]
    fn a_discover_result_passes_as_it_is() {
        let mut watch = probing(true);
        let result = DiscoverResult::from_server_info(
            vec![ProtocolVersion::V_2026_07_28],
            ServerConfig::default(),
        );
        let answer = ServerJsonRpcMessage::response(
            ServerResult::DiscoverResult(result),
            NumberOrString::Number(0),
        );
        let seen = watch.legacy_probe_answer(answer);
        assert!(matches!(
            seen,
            ServerJsonRpcMessage::Response(ref response)
                if matches!(response.result, ServerResult::DiscoverResult(_))
        ));
    }

    #[test]
    fn an_unsupported_version_listing_only_legacy_versions_means_legacy() {
        let mut watch = probing(true);
        let seen = watch.legacy_probe_answer(unsupported(&["2025-11-25", "2025-06-18"]));
        assert_eq!(error_code(&seen), Some(ErrorCode::METHOD_NOT_FOUND));
    }

    #[test]
    fn an_unsupported_version_listing_a_modern_one_stays_a_retry_signal() {
        let mut watch = probing(true);
        let seen = watch.legacy_probe_answer(unsupported(&["2026-07-28", "2025-11-25"]));
        assert_eq!(
            error_code(&seen),
            Some(ErrorCode::UNSUPPORTED_PROTOCOL_VERSION)
        );
        // Not a list of versions at all: left for rmcp to judge.
        let mut watch = probing(true);
        let seen = watch.legacy_probe_answer(unsupported(&[]));
        assert_eq!(
            error_code(&seen),
            Some(ErrorCode::UNSUPPORTED_PROTOCOL_VERSION)
        );
    }

    #[test]
    fn answers_to_other_requests_pass_as_they_are() {
        let mut watch = probing(true);
        let answer = ServerJsonRpcMessage::response(
            ServerResult::EmptyResult(EmptyResult {}),
            NumberOrString::Number(7),
        );
        let seen = watch.legacy_probe_answer(answer);
        assert!(matches!(seen, ServerJsonRpcMessage::Response(_)));
        assert!(
            watch.probe.is_some(),
            "still waiting for the probe's answer"
        );
    }
}
