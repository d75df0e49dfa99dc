//! HTTP: one shared hyper client, and the per-server transports rmcp runs on it: streamable HTTP
//! ([`HttpClient::transport`]) and the legacy HTTP+SSE transport of protocol 2024-11-05
//! ([`HttpClient::legacy_sse`], in `legacy_sse`).
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use mcp_transport::{HttpClient, HttpOptions, HttpTransportOptions};
//!
//! let client = HttpClient::new(HttpOptions::default())?;
//! let transport = client.transport("http://127.0.0.1:8080/mcp", None, HttpTransportOptions::default())?;
//! let service = rmcp::serve_client((), transport).await?;
//! # drop(service);
//! # Ok(())
//! # }
//! ```
//!
//! **Lifecycle.** rmcp's default lifecycle (the `initialize` handshake) is the one to use: every
//! server of the 2025 protocol versions speaks it, and rmcp falls back to it from the 2026-07-28
//! `server/discover` probe only after a round trip. Announce
//! `ProtocolVersion::LATEST_WITH_INITIALIZE` (2025-11-25) in the handshake; servers may negotiate
//! down to 2025-03-26.
//!
//! **Errors.** Our client's own failures travel through rmcp as
//! `StreamableHttpError::Client(TransportError)`, so a status error keeps its body excerpt; a 401,
//! a 403 with a challenge and a 404 for a session use rmcp's own variants instead, because rmcp's
//! recovery and auth layers match on them. [`TransportError::find_in`] and [`TransportError::from_streamable`] map
//! either back to a [`TransportError`].

mod client;
mod direct;
mod events;
mod inbound;
mod legacy_sse;
mod param_headers;
mod reconnect;
mod response;
mod sse_limit;
mod standard_headers;
mod streamable;
mod transport;

use std::sync::Arc;

use http::HeaderMap;
use rmcp::transport::streamable_http_client::{
    StreamableHttpClientTransportConfig, StreamableHttpError, StreamableHttpResponseLimits,
};

pub use client::{HttpClient, HttpClientBuildError, HttpOptions, MAX_REDIRECTS, ProxyConfig};
pub use direct::HttpDirectRequests;
pub use legacy_sse::{LegacySseTransport, SseCloseReason};
pub use param_headers::{InvalidParamHeader, ParamHeaders, ToolHeaderMap};
pub use reconnect::SseReconnectPolicy;
pub use sse_limit::bounded_sse;
pub use standard_headers::standard_headers;
pub use streamable::StreamableClient;
pub use transport::HttpTransport;

use crate::auth::Authorizer;
use crate::error::TransportError;
use crate::www_authenticate;

/// Per-server settings of a streamable HTTP transport.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct HttpTransportOptions {
    /// Headers added to every request (e.g. a tenant id). `Accept`, `Mcp-Session-Id` and
    /// `Last-Event-ID` are managed by the transport and may not be set.
    pub headers: HeaderMap,
    /// How the SSE streams reconnect: the delays between attempts, and how many failed attempts in
    /// a row end a stream (a reconnect that delivers starts the count over). Default: from 1 s,
    /// doubling, 5 attempts. A server's `retry:` interval replaces the delay.
    pub reconnect: mcp_retry::RetryPolicy,
    /// The largest SSE event accepted, in bytes. Default 16 MiB.
    pub max_sse_event_bytes: usize,
    /// The largest JSON response accepted, in bytes. Default 16 MiB.
    pub max_json_response_bytes: usize,
}

impl Default for HttpTransportOptions {
    fn default() -> Self {
        Self {
            headers: HeaderMap::new(),
            reconnect: SseReconnectPolicy::default_policy(),
            max_sse_event_bytes: 16 * 1024 * 1024,
            max_json_response_bytes: 16 * 1024 * 1024,
        }
    }
}

impl HttpClient {
    /// A streamable HTTP transport to `url`, authorizing through `authorizer`.
    ///
    /// # Errors
    /// [`TransportError::Protocol`] if `url` is not an `http` or `https` URL.
    pub fn transport(
        &self,
        url: &str,
        authorizer: Option<Arc<dyn Authorizer>>,
        options: HttpTransportOptions,
    ) -> Result<HttpTransport, TransportError> {
        let parsed: http::Uri = url.parse().map_err(|_| TransportError::Protocol {
            detail: format!("invalid server URL {url:?}"),
        })?;
        if !matches!(parsed.scheme_str(), Some("http" | "https")) || parsed.host().is_none() {
            return Err(TransportError::Protocol {
                detail: format!("the server URL {url:?} is not an http:// or https:// URL"),
            });
        }
        let reconnect = Arc::new(SseReconnectPolicy::new(options.reconnect));
        let mut config = StreamableHttpClientTransportConfig::with_uri(url);
        config.retry_config = Arc::clone(&reconnect) as _;
        config.max_sse_event_size = options.max_sse_event_bytes;
        config.max_json_response_size = options.max_json_response_bytes;
        let mut limits = StreamableHttpResponseLimits::default();
        limits.max_sse_event_size = options.max_sse_event_bytes;
        limits.max_json_response_size = options.max_json_response_bytes;
        let client = self.streamable(authorizer, options.headers);
        Ok(HttpTransport::new(client, config, limits, reconnect))
    }
}

impl TransportError {
    /// The transport error inside an error rmcp returned for a streamable HTTP connection, in our
    /// terms: our client's own errors come back as they were; rmcp's status variants are mapped.
    pub fn from_streamable(error: StreamableHttpError<TransportError>) -> TransportError {
        match error {
            StreamableHttpError::Client(error) => error,
            StreamableHttpError::Io(error) => TransportError::io("the HTTP transport", error),
            other => TransportError::from_streamable_ref(&other),
        }
    }

    /// Finds the transport error inside an error rmcp returned (`ClientInitializeError`,
    /// `ServiceError`, or anything whose source chain holds one), so callers see what actually went
    /// wrong rather than "send message error".
    pub fn find_in(error: &(dyn std::error::Error + 'static)) -> Option<TransportError> {
        use rmcp::service::{ClientInitializeError, ServiceError};
        let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(error);
        while let Some(current) = cause {
            if let Some(found) = current.downcast_ref::<TransportError>() {
                return Some(found.clone());
            }
            if let Some(found) = current.downcast_ref::<StreamableHttpError<TransportError>>() {
                return Some(TransportError::from_streamable_ref(found));
            }
            // rmcp keeps the transport's error in a field it does not expose as `source()`.
            cause = match current.downcast_ref::<ClientInitializeError>() {
                Some(ClientInitializeError::TransportError { error, .. }) => Some(&*error.error),
                // The era probe was refused and the `initialize` that followed failed: the
                // second failure is the one that says what the server is.
                Some(ClientInitializeError::LegacyFallbackFailed { fallback, .. }) => {
                    Some(&**fallback as &(dyn std::error::Error + 'static))
                }
                _ => match current.downcast_ref::<ServiceError>() {
                    Some(ServiceError::TransportSend(error)) => Some(&*error.error),
                    _ => current.source(),
                },
            };
        }
        None
    }

    fn from_streamable_ref(error: &StreamableHttpError<TransportError>) -> TransportError {
        match error {
            StreamableHttpError::Client(error) => error.clone(),
            StreamableHttpError::AuthRequired(auth) => TransportError::AuthRequired {
                challenge: parse_bearer(&auth.www_authenticate_header),
            },
            StreamableHttpError::InsufficientScope(scope) => TransportError::InsufficientScope {
                challenge: parse_bearer(&scope.www_authenticate_header),
            },
            StreamableHttpError::SessionExpired => TransportError::SessionExpired,
            StreamableHttpError::HttpStatus(status) => TransportError::HttpStatus {
                status: status.status,
                retry_after: status
                    .retry_after
                    .as_deref()
                    .and_then(|value| value.trim().parse().ok())
                    .map(std::time::Duration::from_secs),
                body_excerpt: String::new(),
            },
            StreamableHttpError::ResponseBodyTooLarge { max_size } => {
                TransportError::MessageTooLarge {
                    what: "an HTTP response body",
                    limit: *max_size,
                }
            }
            StreamableHttpError::TransportChannelClosed => TransportError::Closed,
            other => TransportError::Protocol {
                detail: other.to_string(),
            },
        }
    }
}

fn parse_bearer(header: &str) -> Option<www_authenticate::Challenge> {
    let challenges = www_authenticate::parse_challenges(header).ok()?;
    www_authenticate::find_bearer(&challenges).cloned()
}
