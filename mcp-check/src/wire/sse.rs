//! HTTP+SSE of protocol 2024-11-05: one event stream (`GET`) that names the endpoint messages are
//! posted to, and carries every answer.

use std::time::Duration;

use bytes::Bytes;
use futures::StreamExt;
use http::header::{ACCEPT, CONTENT_TYPE};
use http::{HeaderValue, Method, Request};
use http_body_util::Full;
use mcp_transport::HttpClient;
use mcp_transport::http::bounded_sse;
use serde_json::Value;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio::time::Instant;
use url::Url;

use super::{
    ClientSide, Exchange, HttpReply, MAX_BODY_BYTES, Pending, Presented, Received, Step, WireError,
};

/// How many events the stream's reader holds before it waits for the checks to take them.
const EVENTS_BUFFERED: usize = 32;

/// A legacy SSE server under check. Dropping it ends the stream's task, closing its connection.
#[derive(Debug)]
pub(crate) struct SseWire {
    client: HttpClient,
    endpoint: Url,
    presented: Presented,
    client_side: ClientSide,
    events: mpsc::Receiver<Result<Received, String>>,
    reader: JoinHandle<()>,
}

impl Drop for SseWire {
    fn drop(&mut self) {
        self.reader.abort();
    }
}

impl SseWire {
    /// Opens the event stream and waits (up to `timeout`) for its `endpoint` event.
    pub(crate) async fn open(
        client: HttpClient,
        url: &Url,
        presented: Presented,
        client_side: ClientSide,
        timeout: Duration,
    ) -> Result<Self, WireError> {
        let mut request = Request::new(Full::new(Bytes::new()));
        *request.uri_mut() = url
            .as_str()
            .parse()
            .map_err(|_| WireError::Endpoint(format!("{url} is not a valid URI")))?;
        presented.apply(&mut request)?;
        request
            .headers_mut()
            .insert(ACCEPT, HeaderValue::from_static("text/event-stream"));
        let response = client.send(request, timeout).await?;
        if !response.status().is_success() {
            return Err(WireError::Endpoint(format!(
                "GET {url} answered {}",
                response.status()
            )));
        }
        let mut stream = bounded_sse(response.into_body(), MAX_BODY_BYTES);
        let first = tokio::time::timeout(timeout, async {
            while let Some(Ok(event)) = stream.next().await {
                if event.event.as_deref() == Some("endpoint") {
                    return event.data;
                }
            }
            None
        })
        .await
        .map_err(|_| WireError::Timeout(timeout))?
        .ok_or_else(|| WireError::Endpoint("the stream ended first".to_owned()))?;
        let endpoint = url
            .join(first.trim())
            .map_err(|error| WireError::Endpoint(format!("{first:?}: {error}")))?;
        if endpoint.origin() != url.origin() {
            return Err(WireError::Endpoint(format!(
                "{endpoint} is not on the stream's origin"
            )));
        }
        // At most EVENTS_BUFFERED events (each at most MAX_BODY_BYTES) wait here; a server that
        // streams without end is then held back by TCP, not by our memory.
        let (sender, events) = mpsc::channel(EVENTS_BUFFERED);
        let reader = tokio::spawn(async move {
            while let Some(event) = stream.next().await {
                let item = match event {
                    Ok(event) => match event.data {
                        Some(data) => Ok(Received::new(data)),
                        None => continue,
                    },
                    Err(error) => Err(error.to_string()),
                };
                let ended = item.is_err();
                if sender.send(item).await.is_err() || ended {
                    return;
                }
            }
        });
        Ok(Self {
            client,
            endpoint,
            presented,
            client_side,
            events,
            reader,
        })
    }

    /// POSTs `bytes` to the endpoint; the answer comes on the stream.
    async fn post(&self, bytes: Vec<u8>, timeout: Duration) -> Result<HttpReply, WireError> {
        let mut request = Request::new(Full::new(Bytes::from(bytes)));
        *request.method_mut() = Method::POST;
        *request.uri_mut() = self
            .endpoint
            .as_str()
            .parse()
            .map_err(|_| WireError::Endpoint(self.endpoint.to_string()))?;
        self.presented.apply(&mut request)?;
        request
            .headers_mut()
            .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        let response = self.client.send(request, timeout).await?;
        Ok(HttpReply {
            status: response.status(),
            text: String::new(),
        })
    }

    /// Takes the events that came between exchanges: each is judged and a request among them
    /// answered, so that the stream's reader is not left blocked on a full channel while the
    /// server waits for it to read. Returns those kept as evidence.
    async fn take_waiting_events(&mut self, timeout: Duration) -> Result<Vec<Received>, WireError> {
        let mut between = Pending::new(b"(between exchanges)", None, timeout);
        // At most what the channel holds: a server streaming without end is not waited out.
        for _ in 0..EVENTS_BUFFERED {
            let Ok(item) = self.events.try_recv() else {
                break;
            };
            let received = item.map_err(WireError::Stream)?;
            if let Step::Respond(answer) = between.take(received, &self.client_side) {
                let left = between.deadline().saturating_duration_since(Instant::now());
                tokio::time::timeout(left, self.post(answer, left))
                    .await
                    .map_err(|_| between.timed_out())??;
            }
        }
        Ok(between.finish().received)
    }

    pub(crate) async fn exchange(
        &mut self,
        bytes: Vec<u8>,
        id: Option<&Value>,
        timeout: Duration,
    ) -> Result<Exchange, WireError> {
        let earlier = self.take_waiting_events(timeout).await?;
        let mut pending = Pending::new(&bytes, id, timeout);
        // Kept as what came before (already judged): a late answer to an abandoned request
        // among them can still tell the session something (a slow server/discover).
        pending.exchange_mut().received.extend(earlier);
        pending.exchange_mut().http = Some(self.post(bytes, timeout).await?);
        if pending.id().is_none() {
            return Ok(pending.finish());
        }
        loop {
            if pending.expired() {
                return Err(pending.timed_out());
            }
            let received =
                match tokio::time::timeout_at(pending.deadline(), self.events.recv()).await {
                    Err(_) => return Err(pending.timed_out()),
                    Ok(None) => return Err(WireError::Ended),
                    Ok(Some(Err(error))) => return Err(WireError::Stream(error)),
                    Ok(Some(Ok(received))) => received,
                };
            match pending.take(received, &self.client_side) {
                Step::Answered => return Ok(pending.finish()),
                Step::Respond(answer) => {
                    let left = pending.deadline().saturating_duration_since(Instant::now());
                    tokio::time::timeout(left, self.post(answer, left))
                        .await
                        .map_err(|_| pending.timed_out())??;
                }
                Step::Continue => {}
            }
        }
    }
}
