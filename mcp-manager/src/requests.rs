//! How one session's requests reach its server: through our transports' direct requests, which
//! skip rmcp's service loop (several task hand-offs per request and a parse of every result through
//! an untagged union): straight down the pipe for a stdio server, a POST read by the caller for an
//! HTTP one. rmcp still runs the handshake and handles what the server sends on its own (requests,
//! notifications). A request the HTTP path could not deliver (no session yet, or a session the
//! server forgot, which rmcp re-initializes) goes through rmcp's `Peer`. Either way a request has a
//! timeout, after which the server is told to cancel it.

use std::time::Duration;

use mcp_transport::HttpDirectRequests;
use mcp_transport::StdioDirectRequests;
use mcp_transport::{RequestError, TransportError};
use rmcp::model::{ClientRequest, ServerResult};
use rmcp::service::{PeerRequestOptions, RoleClient};
use rmcp::{Peer, ServiceError};

/// One session's way to its server. Cheap to clone.
#[derive(Clone)]
pub(crate) struct Requests {
    peer: Peer<RoleClient>,
    direct: Option<Direct>,
}

/// A transport's own way to send a request past rmcp's service loop.
#[derive(Clone)]
pub(crate) enum Direct {
    Stdio(StdioDirectRequests),
    Http(HttpDirectRequests),
}

/// Why a request got no result.
#[derive(Debug)]
pub(crate) enum RequestFailure {
    /// No answer within the timeout; the server was told to cancel.
    Timeout(Duration),
    /// The server answered with a JSON-RPC error.
    Rpc { code: i32, message: String },
    /// The connection broke or ended under the request, or the answer made no sense, with the
    /// transport's own reason (or the closest one when rmcp gave none).
    Transport(TransportError),
    /// The server's answers, each fine on its own, add up to nonsense we refuse (pages that never
    /// end, a result of another kind): our own finding, with the connection still working, so no
    /// later reason (such as the kill that follows) may replace it.
    Misbehaved(String),
}

impl std::fmt::Display for RequestFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Timeout(timeout) => write!(
                f,
                "no answer within {}",
                humantime::format_duration(*timeout)
            ),
            Self::Rpc { code, message } => write!(f, "{message} (JSON-RPC error {code})"),
            Self::Transport(transport) => transport.fmt(f),
            Self::Misbehaved(detail) => f.write_str(detail),
        }
    }
}

impl RequestFailure {
    /// The failure as the transport's error: a server's nonsense is a protocol violation; a
    /// timeout or a JSON-RPC error (which callers report on their own) become the nearest
    /// transport terms.
    pub(crate) fn into_transport_error(self) -> TransportError {
        match self {
            Self::Transport(transport) => transport,
            Self::Misbehaved(detail) => TransportError::Protocol { detail },
            Self::Timeout(after) => TransportError::Timeout {
                phase: mcp_transport::TimeoutPhase::Request,
                after,
            },
            rpc @ Self::Rpc { .. } => TransportError::Protocol {
                detail: rpc.to_string(),
            },
        }
    }
}

impl Requests {
    /// Requests through `peer`, or through `direct` when the transport offers it.
    pub(crate) fn new(peer: Peer<RoleClient>, direct: Option<Direct>) -> Self {
        Self { peer, direct }
    }

    /// The streamable HTTP session's `x-mcp-header` declarations, to keep up to date with the tool
    /// list; `None` on other transports, which need none.
    pub(crate) fn tool_headers(&self) -> Option<&mcp_transport::ToolHeaderMap> {
        match &self.direct {
            Some(Direct::Http(direct)) => Some(direct.tool_headers()),
            _ => None,
        }
    }

    /// rmcp's peer: what the server said at the handshake.
    pub(crate) fn peer(&self) -> &Peer<RoleClient> {
        &self.peer
    }

    /// Sends `request` and waits at most `timeout` for its result.
    pub(crate) async fn send(
        &self,
        request: ClientRequest,
        timeout: Duration,
    ) -> Result<ServerResult, RequestFailure> {
        let outcome = match &self.direct {
            Some(Direct::Stdio(direct)) => direct.request(request, timeout).await,
            Some(Direct::Http(direct)) => {
                // Kept for a request the direct path hands back undelivered (rare: a clone is
                // cheaper than parsing every request twice).
                let again = request.clone();
                match direct.request(request, timeout).await {
                    Err(RequestError::NotDelivered(reason)) => {
                        tracing::debug!(%reason, "sending through rmcp");
                        return self.send_through_rmcp(again, timeout).await;
                    }
                    other => other,
                }
            }
            None => return self.send_through_rmcp(request, timeout).await,
        };
        outcome.map_err(|error| match error {
            RequestError::Rpc { error, .. } => RequestFailure::Rpc {
                code: error.code.0,
                message: error.message.to_string(),
            },
            RequestError::Timeout { timeout, .. } => RequestFailure::Timeout(timeout),
            RequestError::Transport(transport) | RequestError::NotDelivered(transport) => {
                RequestFailure::Transport(transport)
            }
            // `RequestError` is non-exhaustive: a kind added later is reported as it describes
            // itself, as a protocol problem.
            other => RequestFailure::Transport(TransportError::Protocol {
                detail: other.to_string(),
            }),
        })
    }

    async fn send_through_rmcp(
        &self,
        request: ClientRequest,
        timeout: Duration,
    ) -> Result<ServerResult, RequestFailure> {
        let mut options = PeerRequestOptions::no_options();
        options.timeout = Some(timeout);
        let lost = |error: ServiceError| {
            RequestFailure::Transport(TransportError::find_in(&error).unwrap_or_else(|| {
                // rmcp's own reasons: the service loop ended (the transport closed under it), the
                // request was cancelled, or an answer of the wrong shape.
                match error {
                    ServiceError::TransportClosed => TransportError::Closed,
                    ServiceError::Cancelled { .. } => TransportError::Cancelled,
                    other => TransportError::Protocol {
                        detail: other.to_string(),
                    },
                }
            }))
        };
        let handle = self
            .peer
            .send_cancellable_request(request, options)
            .await
            .map_err(lost)?;
        match handle.await_response().await {
            Ok(result) => Ok(result),
            Err(ServiceError::Timeout { .. }) => Err(RequestFailure::Timeout(timeout)),
            Err(ServiceError::McpError(error)) => Err(RequestFailure::Rpc {
                code: error.code.0,
                message: error.message.to_string(),
            }),
            Err(error) => Err(lost(error)),
        }
    }
}
