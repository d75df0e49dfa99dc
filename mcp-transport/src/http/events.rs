//! Reading one SSE stream of a session, resuming it when it ends early: what the transport's answer
//! streams, its standalone stream and direct requests share.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use futures::stream::BoxStream;
use http::{HeaderName, HeaderValue};
use rmcp::transport::common::client_side_sse::SseRetryPolicy;
use rmcp::transport::streamable_http_client::{
    SseError, StreamableHttpClient, StreamableHttpError, StreamableHttpResponseLimits,
};
use sse_stream::Sse;

use super::reconnect::SseReconnectPolicy;
use super::streamable::{StreamableClient, event_too_large};
use crate::error::TransportError;

/// An SSE response body, as the client hands it over.
pub(super) type Events = BoxStream<'static, Result<Sse, SseError>>;

/// Why a stream stopped being read.
pub(super) enum StreamEnd {
    /// The message waited for arrived.
    Answered,
    /// The stream ended and could not be resumed, or an event was too large.
    Ended(TransportError),
}

/// Reads one event stream of a session, resuming it when it ends early.
pub(super) struct EventReader<'a> {
    pub(super) client: &'a StreamableClient,
    pub(super) uri: &'a Arc<str>,
    pub(super) limits: StreamableHttpResponseLimits,
    pub(super) reconnect: &'a SseReconnectPolicy,
    pub(super) session_id: Option<Arc<str>>,
    pub(super) headers: HashMap<HeaderName, HeaderValue>,
}

impl EventReader<'_> {
    /// Hands the data of each message event to `on_data` until it returns true. A stream that ends
    /// or fails is resumed (with `Last-Event-ID` once the server sent an event id; without one only
    /// if `always_resume`, as for the standalone stream), after the server's `retry:` interval if
    /// it sent one (the specification's "SHOULD wait"), else the policy's backoff. The policy's
    /// attempts bound reconnects in a row that bring no event; a stream that delivers starts the
    /// count over, so a server that closes its streams routinely is followed for the whole session.
    pub(super) async fn read(
        &self,
        mut events: Events,
        always_resume: bool,
        mut on_data: impl FnMut(&str) -> bool,
    ) -> StreamEnd {
        let mut last_event_id: Option<String> = None;
        let mut server_retry: Option<Duration> = None;
        let mut reconnects = 0_usize;
        loop {
            let failure = loop {
                let event = match events.next().await {
                    Some(Ok(event)) => event,
                    Some(Err(error)) => break Some(error),
                    None => break None,
                };
                // The stream works: the reconnect budget is for failures in a row.
                reconnects = 0;
                if let Some(retry) = event.retry {
                    server_retry = Some(Duration::from_millis(retry));
                }
                if event.id.is_some() {
                    last_event_id = event.id;
                }
                // Only unnamed and `message` events carry JSON-RPC messages.
                if !matches!(event.event.as_deref(), None | Some("" | "message")) {
                    continue;
                }
                let Some(data) = event.data.filter(|data| !data.trim().is_empty()) else {
                    continue;
                };
                if on_data(&data) {
                    return StreamEnd::Answered;
                }
            };
            if let Some(limit) = failure.as_ref().and_then(event_too_large) {
                return StreamEnd::Ended(TransportError::MessageTooLarge {
                    what: "an SSE event",
                    limit,
                });
            }
            let ended = |detail: String| StreamEnd::Ended(TransportError::Protocol { detail });
            // Without an event id the server offers no way back to this stream.
            if last_event_id.is_none() && !always_resume {
                return ended(ended_text(&failure));
            }
            events = loop {
                reconnects += 1;
                let Some(delay) = self.reconnect.retry(reconnects) else {
                    return ended(format!(
                        "{}, and resuming it failed {} times",
                        ended_text(&failure),
                        reconnects - 1
                    ));
                };
                tokio::time::sleep(server_retry.unwrap_or(delay)).await;
                let resumed = self
                    .client
                    .get_stream_with_max_sse_event_size(
                        Arc::clone(self.uri),
                        self.session_id.clone(),
                        last_event_id.clone(),
                        None,
                        self.headers.clone(),
                        self.limits.max_sse_event_size,
                    )
                    .await;
                match resumed {
                    Ok(events) => break events,
                    // Nothing a later try would change.
                    Err(
                        error @ (StreamableHttpError::SessionExpired
                        | StreamableHttpError::AuthRequired(_)
                        | StreamableHttpError::InsufficientScope(_)
                        | StreamableHttpError::ServerDoesNotSupportSse),
                    ) => {
                        return ended(format!(
                            "{}, and resuming it failed: {error}",
                            ended_text(&failure)
                        ));
                    }
                    Err(error) => {
                        tracing::debug!(uri = %self.uri, %error, "resuming an event stream failed");
                    }
                }
            };
        }
    }
}

fn ended_text(failure: &Option<SseError>) -> String {
    match failure {
        Some(error) => format!("the event stream failed ({error})"),
        None => "the event stream ended before the answer".to_owned(),
    }
}
