//! The modern era's notifications (protocol 2026-07-28): a server sends list changes and resource
//! updates only on a `subscriptions/listen` stream the client opened with a filter, never on its
//! own. One stream per session carries what the Manager needs: the list changes the server
//! declares (so discovery stays current, as in the legacy era) and the resources subscribed
//! through [`Manager::subscribe_resource`](crate::Manager::subscribe_resource).
//!
//! A subscription's filter cannot change, so a new resource (or one dropped) opens a new stream,
//! acknowledged before the call returns, and the old one is dropped (rmcp cancels it). One task
//! per session reads whichever stream is current and turns what arrives into a refresh or a
//! [`ManagerEvent::ResourceUpdated`].

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use rmcp::Peer;
use rmcp::model::{ServerNotification, SubscriptionFilter};
use rmcp::service::{RoleClient, Subscription};
use tokio::sync::{Notify, broadcast, mpsc, oneshot};
use tokio::task::AbortHandle;

use crate::events::ManagerEvent;
use crate::requests::RequestFailure;

/// One modern session's subscriptions. Cheap to share.
pub(crate) struct Listener {
    peer: Peer<RoleClient>,
    server: Arc<str>,
    /// The list changes the server declares it can notify.
    lists: SubscriptionFilter,
    /// The resources subscribed to, in the current stream's filter.
    resources: Mutex<BTreeSet<String>>,
    /// Hands the reading task its new stream (`None`: none is needed any more), and learns when
    /// the old one is dropped (its cancellation sent).
    streams: mpsc::UnboundedSender<(Option<Subscription>, oneshot::Sender<()>)>,
}

impl Listener {
    /// Starts listening for the list changes `peer`'s server declares; `list_changed` is woken
    /// for each, and resource updates become events. Returns the listener and its task (which
    /// ends with the session).
    pub(crate) fn start(
        peer: Peer<RoleClient>,
        server: Arc<str>,
        events: broadcast::Sender<ManagerEvent>,
        list_changed: Arc<Notify>,
        timeout: Duration,
    ) -> (Arc<Self>, AbortHandle) {
        let mut lists = SubscriptionFilter::new();
        if let Some(capabilities) = peer.peer_info().map(|info| info.capabilities.clone()) {
            let declared = |flag: Option<bool>| flag.unwrap_or(false).then_some(true);
            lists.tools_list_changed = capabilities
                .tools
                .as_ref()
                .and_then(|tools| declared(tools.list_changed));
            lists.prompts_list_changed = capabilities
                .prompts
                .as_ref()
                .and_then(|prompts| declared(prompts.list_changed));
            lists.resources_list_changed = capabilities
                .resources
                .as_ref()
                .and_then(|resources| declared(resources.list_changed));
        }
        let (streams, mut incoming) = mpsc::unbounded_channel();
        let listener = Arc::new(Self {
            peer,
            server,
            lists,
            resources: Mutex::default(),
            streams,
        });
        let opening = Arc::clone(&listener);
        let task = tokio::spawn(async move {
            let mut current = None;
            if opening.wants_lists() {
                match opening.open(&BTreeSet::new(), timeout).await {
                    Ok(stream) => current = Some(stream),
                    // Not fatal: discovery just does not follow list changes on this session.
                    Err(error) => tracing::info!(
                        server = %opening.server,
                        %error,
                        "the server refused subscriptions/listen for list changes"
                    ),
                }
            }
            // Only the stream's channel and the events are needed from here.
            let server = Arc::clone(&opening.server);
            drop(opening);
            loop {
                let replacement = match current.as_mut() {
                    Some(stream) => tokio::select! {
                        next = stream.next() => match next {
                            Ok(Some(notification)) => {
                                route(notification, &server, &events, &list_changed);
                                continue;
                            }
                            // Ended (by the server, or the connection): wait for a new one.
                            _ => {
                                current = None;
                                continue;
                            }
                        },
                        replacement = incoming.recv() => replacement,
                    },
                    None => incoming.recv().await,
                };
                let Some((stream, replaced)) = replacement else {
                    return;
                };
                // Dropping the old stream cancels it (rmcp sends the cancellation).
                current = stream;
                let _ = replaced.send(());
            }
        });
        (listener, task.abort_handle())
    }

    /// Whether the server declared any list change to follow.
    fn wants_lists(&self) -> bool {
        self.lists.tools_list_changed.is_some()
            || self.lists.prompts_list_changed.is_some()
            || self.lists.resources_list_changed.is_some()
    }

    /// Subscribes to (`add`) or unsubscribes from one resource's updates: a new stream with the
    /// new set, acknowledged before this returns, replaces the current one.
    pub(crate) async fn change(
        &self,
        uri: &str,
        add: bool,
        timeout: Duration,
    ) -> Result<(), RequestFailure> {
        let mut wanted = self.resources().clone();
        if add {
            wanted.insert(uri.to_owned());
        } else {
            wanted.remove(uri);
        }
        // Nothing left to hear: no stream at all, rather than an empty one.
        let stream = if wanted.is_empty() && !self.wants_lists() {
            None
        } else {
            Some(self.open(&wanted, timeout).await?)
        };
        if add && let Some(stream) = &stream {
            let accepted = stream
                .acknowledged()
                .resource_subscriptions
                .as_ref()
                .is_some_and(|uris| uris.iter().any(|accepted| accepted == uri));
            if !accepted {
                return Err(RequestFailure::Unsupported(format!(
                    "the server did not accept a subscription to {}",
                    mcp_transport::error::terminal_safe(uri, 200)
                )));
            }
        }
        *self.resources() = wanted;
        // The task is gone only when the session is; then nothing is listening anyway. Once it
        // answers, the old stream's cancellation is on its way to the server.
        let (replaced, dropped) = oneshot::channel();
        if self.streams.send((stream, replaced)).is_ok() {
            let _ = dropped.await;
        }
        Ok(())
    }

    fn resources(&self) -> std::sync::MutexGuard<'_, BTreeSet<String>> {
        self.resources
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Opens a stream for the declared list changes and `resources`, waiting at most `timeout`
    /// for its acknowledgment.
    async fn open(
        &self,
        resources: &BTreeSet<String>,
        timeout: Duration,
    ) -> Result<Subscription, RequestFailure> {
        let mut filter = self.lists.clone();
        if !resources.is_empty() {
            filter.resource_subscriptions = Some(resources.iter().cloned().collect());
        }
        match tokio::time::timeout(timeout, self.peer.listen(filter)).await {
            Err(_) => Err(RequestFailure::Timeout(timeout)),
            Ok(Ok(stream)) => Ok(stream),
            Ok(Err(rmcp::ServiceError::McpError(error))) => Err(RequestFailure::Rpc {
                code: error.code.0,
                message: error.message.to_string(),
                data: error.data,
            }),
            Ok(Err(error)) => Err(RequestFailure::Transport(
                mcp_transport::TransportError::find_in(&error).unwrap_or(
                    mcp_transport::TransportError::Protocol {
                        detail: format!("subscriptions/listen: {error}"),
                    },
                ),
            )),
        }
    }
}

/// What one notification on the stream means: a list to fetch again, or a resource update.
fn route(
    notification: ServerNotification,
    server: &str,
    events: &broadcast::Sender<ManagerEvent>,
    list_changed: &Notify,
) {
    match notification {
        ServerNotification::ToolListChangedNotification(_)
        | ServerNotification::PromptListChangedNotification(_)
        | ServerNotification::ResourceListChangedNotification(_) => list_changed.notify_one(),
        ServerNotification::ResourceUpdatedNotification(updated) => {
            // Nobody listening is fine.
            let _ = events.send(ManagerEvent::ResourceUpdated {
                server: server.to_owned(),
                uri: updated.params.uri,
            });
        }
        other => tracing::debug!(%server, ?other, "ignored on the listen stream"),
    }
}
