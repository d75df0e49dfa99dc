//! Where a message the server sent goes, whichever of the session's streams carried it.
//!
//! Why one router: a request's answer belongs on its own POST stream or a resumption of it (the
//! specification forbids answers on the standalone `GET` stream otherwise), but servers do not all
//! keep to that: the conformance suite's `sse-retry` server closes the POST stream after its
//! priming event and answers on whichever `GET` comes next, the standalone one included. Each
//! stream reader used to know only its own request, so such an answer to a direct request was
//! handed to rmcp, which knows no `d-` ids, and the request waited for its timeout. Here every
//! reader hands every message to one place, which knows every request waiting for an answer: we
//! are lenient with servers that answer on the wrong stream, as long as the answer is one.
//!
//! - An answer to a direct request goes to that request (it is never rmcp's); an answer nobody
//!   waits for any more (a duplicate after a resumption, or one that came after its timeout) is
//!   dropped.
//! - An answer to one of rmcp's requests goes to rmcp once: the reader still waiting for it on the
//!   request's own stream is told to stop, and a later duplicate is dropped.
//! - Everything else (notifications, the server's own requests) goes to rmcp.
//! - A request of the server's that rmcp cannot read (its `params` do not fit its method) is
//!   answered with a JSON-RPC error, POSTed in the session; see `crate::malformed`.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use futures::channel::{mpsc, oneshot};
use rmcp::model::{ClientJsonRpcMessage, RequestId, ServerJsonRpcMessage};
use tokio_util::sync::CancellationToken;

use super::transport::parse_message;
use crate::malformed::{self, Unreadable};
use crate::request::{Answer, direct_answer};

/// Sends a message to the server in the session (the transport's own POST path).
pub(super) type ToServer = Box<dyn Fn(ClientJsonRpcMessage) + Send + Sync>;

/// How many of rmcp's answered request ids are remembered to drop duplicates: a duplicate comes
/// from a resumption of a stream, soon after the original, so a short memory is enough.
const ANSWERED_REMEMBERED: usize = 64;

/// What a message handed to [`Inbound::route`] turned out to be.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Routed {
    /// An answer to direct request `number` (delivered, or dropped if nobody waits for it).
    DirectAnswer(u64),
    /// An answer to rmcp's request with this id (handed to rmcp, or dropped as a duplicate).
    RmcpAnswer(RequestId),
    /// Anything else: handed to rmcp, or skipped if it is not a JSON-RPC message.
    Other,
}

/// The session's one destination for what its streams carry. Shared by the transport's readers
/// and its direct requests.
pub(super) struct Inbound {
    to_rmcp: mpsc::UnboundedSender<ServerJsonRpcMessage>,
    uri: Arc<str>,
    waiting: Mutex<Waiting>,
    /// Streams being read to their end in the background.
    finishing: AtomicUsize,
    /// Cancelled when the transport is dropped or closed.
    ended: CancellationToken,
    /// How an error answering a malformed request reaches the server; set by the transport once
    /// its session state exists (which itself holds this router).
    to_server: OnceLock<ToServer>,
}

#[derive(Default)]
struct Waiting {
    /// Direct requests waiting for their answer, by number.
    direct: HashMap<u64, oneshot::Sender<Answer>>,
    /// rmcp's requests being sent or read: cancelled when rmcp gives up on one, or when its answer
    /// arrives on another stream.
    rmcp: HashMap<RequestId, CancellationToken>,
    /// rmcp's requests answered lately, oldest first.
    answered: VecDeque<RequestId>,
}

impl Waiting {
    /// The most direct requests whose table an idle session keeps: a caller making one request at
    /// a time never reallocates it, and a burst (discovery's four lists at once, a benchmark's
    /// parallel calls) gives its memory back once it is over.
    const KEPT_DIRECT_CAPACITY: usize = 3;

    /// Whether rmcp's request `id` was answered on a stream already.
    fn was_answered(&self, id: &RequestId) -> bool {
        self.answered.iter().any(|answered| same_id(answered, id))
    }

    /// Stops the reader still waiting for the answer to rmcp's request `id`, if one is.
    fn stop_reader(&mut self, id: &RequestId) {
        let key = self
            .rmcp
            .keys()
            .find(|waiting| same_id(waiting, id))
            .cloned();
        if let Some(exchange) = key.and_then(|key| self.rmcp.remove(&key)) {
            exchange.cancel();
        }
    }

    fn release_burst(&mut self) {
        if self.direct.is_empty() && self.direct.capacity() > Self::KEPT_DIRECT_CAPACITY {
            self.direct.shrink_to_fit();
        }
    }
}

impl Inbound {
    pub(super) fn new(
        to_rmcp: mpsc::UnboundedSender<ServerJsonRpcMessage>,
        uri: Arc<str>,
    ) -> Arc<Self> {
        Arc::new(Self {
            to_rmcp,
            uri,
            waiting: Mutex::default(),
            finishing: AtomicUsize::new(0),
            ended: CancellationToken::new(),
            to_server: OnceLock::new(),
        })
    }

    /// Sets how answers to the server's malformed requests are sent (once; later calls are
    /// ignored).
    pub(super) fn send_answers_with(&self, to_server: ToServer) {
        let _ = self.to_server.set(to_server);
    }

    fn waiting(&self) -> std::sync::MutexGuard<'_, Waiting> {
        self.waiting.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Registers direct request `number` as waiting for its answer, until the returned guard is
    /// dropped.
    pub(super) fn expect_direct(self: &Arc<Self>, number: u64) -> DirectWait {
        let (sender, receiver) = oneshot::channel();
        self.waiting().direct.insert(number, sender);
        DirectWait {
            inbound: Arc::clone(self),
            number,
            receiver,
            answered: false,
        }
    }

    /// Registers rmcp's request `id` as being sent or read; the token is cancelled when rmcp gives
    /// up on it ([`Inbound::cancel_rmcp`]) or its answer arrives on another stream.
    pub(super) fn expect_rmcp(&self, id: RequestId) -> CancellationToken {
        let token = CancellationToken::new();
        self.waiting().rmcp.insert(id, token.clone());
        token
    }

    /// Forgets rmcp's request `id` (its exchange is over, however it ended).
    pub(super) fn forget_rmcp(&self, id: &RequestId) {
        let mut waiting = self.waiting();
        waiting.rmcp.remove(id);
        // rmcp's own requests are few once a session is up (direct requests carry the rest), so
        // an idle session keeps no table for them.
        if waiting.rmcp.is_empty() {
            waiting.rmcp.shrink_to_fit();
        }
    }

    /// rmcp has given up on request `id`: its POST and its stream are dropped.
    pub(super) fn cancel_rmcp(&self, id: &RequestId) {
        if let Some(exchange) = self.waiting().rmcp.remove(id) {
            exchange.cancel();
        }
    }

    /// Hands a message rmcp needs that did not come as an event (a JSON body, `initialize`'s
    /// answer) to rmcp, unless the same answer already came on a stream. It is not remembered
    /// itself: a POST's JSON body is its request's only answer, and remembering it would cost
    /// every idle session its memory of answers.
    pub(super) fn deliver(&self, message: ServerJsonRpcMessage) {
        if let Some(id) = answered_id(&message) {
            let mut waiting = self.waiting();
            if waiting.was_answered(id) {
                return;
            }
            waiting.stop_reader(id);
        }
        self.hand_to_rmcp(message);
    }

    /// Routes the data of one event: see the module documentation.
    pub(super) fn route(&self, data: &str) -> Routed {
        if let Some((number, answer)) = direct_answer(data.as_bytes()) {
            // Sent under the lock: once a duplicate finds no sender, the answer is in the channel.
            let mut waiting = self.waiting();
            match waiting.direct.remove(&number) {
                // The request's future may be gone this very moment: then nobody needs it.
                Some(request) => {
                    drop(request.send(answer));
                    waiting.release_burst();
                }
                None => tracing::debug!(
                    uri = %self.uri,
                    number,
                    "dropped an answer nobody waits for (a duplicate, or after its timeout)"
                ),
            }
            return Routed::DirectAnswer(number);
        }
        let Some(message) = parse_message(data, &self.uri) else {
            // Parsed again only here, on the rare path: a well-formed request whose params do not
            // fit gets an error instead of leaving the server waiting for ever.
            if let Unreadable::Answer(answer) = malformed::classify(data.as_bytes())
                && let Some(to_server) = self.to_server.get()
            {
                to_server(*answer);
            }
            return Routed::Other;
        };
        let Some(id) = answered_id(&message).cloned() else {
            self.hand_to_rmcp(message);
            return Routed::Other;
        };
        if self.first_answer(&id) {
            self.hand_to_rmcp(message);
        } else {
            tracing::debug!(uri = %self.uri, %id, "dropped a duplicate answer");
        }
        Routed::RmcpAnswer(id)
    }

    /// Records the answer to rmcp's request `id`; false if it was answered already. The reader
    /// still waiting for it elsewhere stops.
    fn first_answer(&self, id: &RequestId) -> bool {
        let mut waiting = self.waiting();
        if waiting.was_answered(id) {
            return false;
        }
        if waiting.answered.len() == ANSWERED_REMEMBERED {
            waiting.answered.pop_front();
        }
        waiting.answered.push_back(id.clone());
        waiting.stop_reader(id);
        true
    }

    /// The session is over (the transport was closed or dropped): rmcp's receive ends and
    /// background reads stop.
    pub(super) fn end(&self) {
        self.ended.cancel();
    }

    /// Resolves once the session is over.
    pub(super) async fn ended(&self) {
        self.ended.cancelled().await;
    }

    /// Whether the session is over.
    pub(super) fn is_ended(&self) -> bool {
        self.ended.is_cancelled()
    }

    /// Counts one more stream read to its end in the background, unless `max` are already, or the
    /// session is over.
    pub(super) fn start_finishing(self: &Arc<Self>, max: usize) -> Option<Finishing> {
        if self.ended.is_cancelled() {
            return None;
        }
        self.finishing
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |count| {
                (count < max).then_some(count + 1)
            })
            .ok()?;
        Some(Finishing(Arc::clone(self)))
    }

    /// Whether rmcp has stopped reading (the transport is gone): then no stream needs reading.
    pub(super) fn is_closed(&self) -> bool {
        self.to_rmcp.is_closed()
    }

    fn hand_to_rmcp(&self, message: ServerJsonRpcMessage) {
        // The receiving side is gone only with the transport; then nobody needs the message.
        let _ = self.to_rmcp.unbounded_send(message);
    }
}

/// One stream being read to its end in the background; counted until dropped.
pub(super) struct Finishing(Arc<Inbound>);

impl Finishing {
    pub(super) fn inbound(&self) -> &Inbound {
        &self.0
    }
}

impl Drop for Finishing {
    fn drop(&mut self) {
        self.0.finishing.fetch_sub(1, Ordering::AcqRel);
    }
}

/// A direct request waiting for its answer from any stream; unregistered on drop.
pub(super) struct DirectWait {
    inbound: Arc<Inbound>,
    number: u64,
    receiver: oneshot::Receiver<Answer>,
    /// The answer came: the router has already forgotten the request.
    answered: bool,
}

impl DirectWait {
    /// The answer, once some stream carried it.
    pub(super) async fn answer(&mut self) -> Option<Answer> {
        let answer = (&mut self.receiver).await.ok();
        self.answered |= answer.is_some();
        answer
    }

    /// The answer if it has arrived already.
    pub(super) fn arrived(&mut self) -> Option<Answer> {
        let answer = self.receiver.try_recv().ok().flatten();
        self.answered |= answer.is_some();
        answer
    }
}

impl Drop for DirectWait {
    fn drop(&mut self) {
        if !self.answered {
            let mut waiting = self.inbound.waiting();
            waiting.direct.remove(&self.number);
            waiting.release_burst();
        }
    }
}

/// The id `message` answers, if it is an answer.
fn answered_id(message: &ServerJsonRpcMessage) -> Option<&RequestId> {
    match message {
        ServerJsonRpcMessage::Response(response) => Some(&response.id),
        ServerJsonRpcMessage::Error(error) => error.id.as_ref(),
        _ => None,
    }
}

/// Whether two ids name the same request (a number echoed as a string counts, as rmcp's own
/// transport counts it).
pub(super) fn same_id(one: &RequestId, other: &RequestId) -> bool {
    match (one, other) {
        (RequestId::Number(number), RequestId::String(text))
        | (RequestId::String(text), RequestId::Number(number)) => {
            text.parse::<i64>().is_ok_and(|parsed| parsed == *number)
        }
        _ => one == other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::StreamExt;

    fn inbound() -> (Arc<Inbound>, mpsc::UnboundedReceiver<ServerJsonRpcMessage>) {
        let (to_rmcp, from_transport) = mpsc::unbounded();
        (
            Inbound::new(to_rmcp, Arc::from("http://127.0.0.1/mcp")),
            from_transport,
        )
    }

    #[test]
    fn an_answer_matches_its_id_also_when_a_number_comes_back_as_a_string() {
        let three = RequestId::Number(3);
        assert!(same_id(&RequestId::String("3".into()), &three));
        assert!(same_id(&three, &three));
        assert!(!same_id(&RequestId::Number(4), &three));
        assert!(!same_id(&RequestId::String("x".into()), &three));
        assert!(same_id(
            &RequestId::String("d-1".into()),
            &RequestId::String("d-1".into())
        ));
    }

    #[tokio::test]
    async fn a_direct_answer_reaches_its_request_once_and_never_rmcp() {
        let (inbound, mut rmcp) = inbound();
        let mut waiting = inbound.expect_direct(7);
        let answer = r#"{"jsonrpc":"2.0","id":"d-7","result":{}}"#;
        assert_eq!(inbound.route(answer), Routed::DirectAnswer(7));
        assert!(matches!(waiting.answer().await, Some(Answer::Result(_))));
        // The same answer again (a resumed stream replays it): dropped.
        assert_eq!(inbound.route(answer), Routed::DirectAnswer(7));
        drop(waiting);
        assert!(inbound.waiting().direct.is_empty());
        drop(inbound);
        assert!(rmcp.next().await.is_none(), "rmcp got a direct answer");
    }

    #[tokio::test]
    async fn an_rmcp_answer_on_another_stream_stops_the_reader_waiting_for_it() {
        let (inbound, mut rmcp) = inbound();
        let exchange = inbound.expect_rmcp(RequestId::Number(3));
        // Echoed as a string on the standalone stream.
        let answer = r#"{"jsonrpc":"2.0","id":"3","result":{}}"#;
        assert_eq!(
            inbound.route(answer),
            Routed::RmcpAnswer(RequestId::String("3".into()))
        );
        assert!(exchange.is_cancelled(), "the POST's reader is told to stop");
        assert!(rmcp.next().await.is_some());
    }

    #[tokio::test]
    async fn a_duplicate_rmcp_answer_is_dropped() {
        let (inbound, mut rmcp) = inbound();
        let answer = r#"{"jsonrpc":"2.0","id":3,"result":{}}"#;
        assert_eq!(
            inbound.route(answer),
            Routed::RmcpAnswer(RequestId::Number(3))
        );
        assert!(rmcp.next().await.is_some());
        let duplicate = r#"{"jsonrpc":"2.0","id":3,"result":{}}"#;
        assert_eq!(
            inbound.route(duplicate),
            Routed::RmcpAnswer(RequestId::Number(3))
        );
        let notification = r#"{"jsonrpc":"2.0","method":"notifications/message","params":{"level":"info","data":"x"}}"#;
        assert_eq!(inbound.route(notification), Routed::Other);
        drop(inbound);
        let rest: Vec<_> = rmcp.collect().await;
        assert_eq!(rest.len(), 1, "only the notification follows: {rest:?}");
    }
}
