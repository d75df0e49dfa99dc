//! A watch on the first answer a server gives: a peer that sends us a request where the answer to
//! `initialize` should be is not an MCP server, and the attempt ends at once.
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

use rmcp::model::{ServerJsonRpcMessage, ServerRequest};
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
}

impl<T> WatchHandshake<T> {
    /// Watches `inner`; `violation` learns what went wrong, if anything does.
    pub(crate) fn new(inner: T, violation: Violation) -> Self {
        Self {
            inner,
            answered: false,
            violation,
        }
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
                    "the peer answered initialize with a request ({method:?}), not a result: \
                     it is not an MCP server (a program that echoes its input, such as cat, \
                     does this)"
                ));
                false
            }
            _ => true,
        }
    }
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
        self.inner.send(item)
    }

    async fn receive(&mut self) -> Option<RxJsonRpcMessage<RoleClient>> {
        // Cancel-safe as `T`'s receive is: nothing is awaited after it.
        let message = self.inner.receive().await?;
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
