//! Reading one SSE stream of a session, resuming it when it ends early: what the transport's answer
//! streams, its standalone stream and direct requests share.
//!
//! Once the awaited answer is in, the rest of the stream is still read to its end, so that its
//! connection goes back to the pool instead of being closed: inline if it has already arrived,
//! else by a task bounded to 1 s, to 8 such tasks per session, and to the session's life.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use futures::stream::BoxStream;
use futures::{FutureExt, StreamExt};
use http::{HeaderName, HeaderValue};
use rmcp::transport::common::client_side_sse::SseRetryPolicy;
use rmcp::transport::streamable_http_client::{
    SseError, StreamableHttpClient, StreamableHttpError, StreamableHttpResponseLimits,
};
use sse_stream::Sse;

use super::inbound::Inbound;
use super::reconnect::SseReconnectPolicy;
use super::sse_limit::event_too_large;
use super::streamable::StreamableClient;
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

/// How long the rest of a stream is read after the message waited for: a server should end the
/// stream right after the answer, and one that keeps it open is not waited for longer.
const FINISH_LIMIT: Duration = Duration::from_secs(1);

/// How many streams of one session may be finished in the background at once; the rest are
/// dropped, closing their connections, so a server that never ends its streams cannot pile up
/// tasks and sockets.
const FINISHING_MAX: usize = 8;

/// Reads one event stream of a session, resuming it when it ends early.
pub(super) struct EventReader<'a> {
    pub(super) client: &'a StreamableClient,
    /// Where the rest of a stream goes once the message waited for has arrived.
    pub(super) inbound: &'a Arc<Inbound>,
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
                let mut event = match events.next().await {
                    Some(Ok(event)) => event,
                    Some(Err(error)) => break Some(error),
                    None => break None,
                };
                // The stream works: the reconnect budget is for failures in a row.
                reconnects = 0;
                if let Some(retry) = event.retry {
                    server_retry = Some(Duration::from_millis(retry));
                }
                if let Some(id) = event.id.take() {
                    last_event_id = Some(id);
                }
                let Some(data) = message_data(event) else {
                    continue;
                };
                if on_data(&data) {
                    finish(events, self.inbound);
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

/// The data of an event that carries a JSON-RPC message: unnamed and `message` events do, with
/// data that is not blank (a priming event's is).
fn message_data(event: Sse) -> Option<String> {
    if !matches!(event.event.as_deref(), None | Some("" | "message")) {
        return None;
    }
    event.data.filter(|data| !data.trim().is_empty())
}

/// Reads the rest of a stream whose awaited message has arrived, routing what it still carries,
/// so that its connection goes back to the pool: a response body dropped before its end closes
/// the connection, and the next request pays a new handshake (a TLS one for `https`).
///
/// What has already arrived (usually the end, sent with the answer) is read at once; if more is
/// still to come, a task reads it, for at most [`FINISH_LIMIT`], and no longer than the session
/// lasts.
fn finish(mut rest: Events, inbound: &Arc<Inbound>) {
    loop {
        match rest.next().now_or_never() {
            Some(Some(Ok(event))) => route_event(inbound, event),
            // Over, or broken: either way there is nothing left to read.
            Some(Some(Err(_)) | None) => return,
            None => break,
        }
    }
    let Ok(runtime) = tokio::runtime::Handle::try_current() else {
        return;
    };
    let Some(finishing) = inbound.start_finishing(FINISHING_MAX) else {
        return;
    };
    runtime.spawn(async move {
        let inbound = finishing.inbound();
        let read_rest = async {
            while let Some(Ok(event)) = rest.next().await {
                route_event(inbound, event);
            }
        };
        tokio::select! {
            () = read_rest => {}
            () = tokio::time::sleep(FINISH_LIMIT) => {}
            () = inbound.ended() => {}
        }
        drop(finishing);
    });
}

/// Hands an event of a stream's rest to the router, if it carries a message.
fn route_event(inbound: &Inbound, event: Sse) {
    if let Some(data) = message_data(event) {
        inbound.route(&data);
    }
}

fn ended_text(failure: &Option<SseError>) -> String {
    match failure {
        Some(error) => format!("the event stream failed ({error})"),
        None => "the event stream ended before the answer".to_owned(),
    }
}
