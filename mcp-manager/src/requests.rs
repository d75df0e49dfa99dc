//! How one session's requests reach its server: through our transports' direct requests, which
//! skip rmcp's service loop (several task hand-offs per request and a parse of every result through
//! an untagged union): straight down the pipe for a stdio server, a POST read by the caller for an
//! HTTP one. rmcp still runs the handshake and handles what the server sends on its own (requests,
//! notifications). A request the HTTP path could not deliver (no session yet, or a session the
//! server forgot, which rmcp re-initializes) goes through rmcp's `Peer`. Either way a request has a
//! timeout, after which the server is told to cancel it.

use std::time::Duration;

use mcp_transport::http::HttpDirectRequests;
use mcp_transport::stdio::DirectRequests;
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
    Stdio(DirectRequests),
    Http(HttpDirectRequests),
}

/// Why a request got no result.
#[derive(Debug)]
pub(crate) enum RequestFailure {
    /// No answer within the timeout; the server was told to cancel.
    Timeout(Duration),
    /// The server answered with a JSON-RPC error.
    Rpc { code: i32, message: String },
    /// The connection broke or ended under the request, with the transport's own reason.
    Transport(TransportError),
    /// The connection broke, or the answer made no sense, and no transport reason says more.
    Lost(String),
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
            Self::Lost(detail) | Self::Misbehaved(detail) => f.write_str(detail),
        }
    }
}

impl Requests {
    /// Requests through `peer`, or through `direct` when the transport offers it.
    pub(crate) fn new(peer: Peer<RoleClient>, direct: Option<Direct>) -> Self {
        Self { peer, direct }
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
            RequestError::Transport(transport) => RequestFailure::Transport(transport),
            other => RequestFailure::Lost(other.to_string()),
        })
    }

    async fn send_through_rmcp(
        &self,
        request: ClientRequest,
        timeout: Duration,
    ) -> Result<ServerResult, RequestFailure> {
        let mut options = PeerRequestOptions::no_options();
        options.timeout = Some(timeout);
        let lost = |error: ServiceError| match TransportError::find_in(&error) {
            Some(transport) => RequestFailure::Transport(transport),
            None => RequestFailure::Lost(error.to_string()),
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
