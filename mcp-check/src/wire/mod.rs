//! The wire: messages sent as bytes and received as they are, before anything interprets them, so
//! that a check can judge what a server really wrote (a log line on stdout, an envelope without
//! `"jsonrpc": "2.0"`, an answer with the wrong id).
//!
//! Three carriers share one shape: write a message, then read what comes back up to the answer
//! that carries the message's id (or up to a deadline). A request the server sends meanwhile is
//! answered by the run's [`ClientSide`] (which judges every message as it comes) and recorded.

mod http;
mod sse;
mod stdio;

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::time::Instant;

use ::http::{HeaderMap, StatusCode};
use mcp_transport::{Credential, HttpClient, StdioSpec, TransportError};
use serde_json::{Value, json};
use url::Url;

pub(crate) use http::{HttpWire, Overrides};
pub(crate) use sse::SseWire;
pub(crate) use stdio::StdioWire;

/// The longest excerpt of a message a report shows.
const EXCERPT_CHARS: usize = 2_000;

/// The most messages one exchange keeps (the answer is always kept, as `answer`).
const RECEIVED_KEPT: usize = 1_000;

/// The most bytes of messages one exchange keeps as evidence: a server that floods large
/// notifications before its answer is answered all the same, and judged message by message, but
/// only this much of what it sent is held (and past it, responses slimmed to a few hundred bytes
/// each, at most [`RECEIVED_KEPT`] messages in all).
const RECEIVED_BYTES_KEPT: usize = 1024 * 1024;

/// The longest string a slimmed response keeps (an id, an error message).
const SLIM_CHARS: usize = 200;

/// The most server requests one exchange keeps (each is answered and judged, kept or not).
const SERVER_REQUESTS_KEPT: usize = 32;

/// The most a check reads of one response body or one event stream.
pub(crate) const MAX_BODY_BYTES: usize = 16 * 1024 * 1024;

/// Where the server under check is, and how to reach it.
#[derive(Debug, Clone)]
pub enum Target {
    /// A command whose stdin and stdout carry newline-delimited JSON-RPC.
    Stdio(StdioSpec),
    /// A streamable HTTP endpoint, with the headers every request carries.
    StreamableHttp {
        /// The MCP endpoint.
        url: Url,
        /// Sent with every request.
        headers: HeaderMap,
        /// The access token every request presents (a DPoP-bound one with a fresh proof each).
        credential: Option<Credential>,
    },
    /// An HTTP+SSE endpoint of protocol 2024-11-05: the URL of its event stream.
    Sse {
        /// The event stream's URL.
        url: Url,
        /// Sent with every request.
        headers: HeaderMap,
        /// The access token every request presents.
        credential: Option<Credential>,
    },
}

impl Target {
    /// The transport's name as reports show it: `stdio`, `http` or `sse`.
    pub fn transport_name(&self) -> &'static str {
        match self {
            Target::Stdio(_) => "stdio",
            Target::StreamableHttp { .. } => "http",
            Target::Sse { .. } => "sse",
        }
    }
}

/// What every HTTP request presents: the target's headers, and its credential.
#[derive(Debug, Clone)]
pub(crate) struct Presented {
    headers: HeaderMap,
    credential: Option<Credential>,
}

impl Presented {
    fn new(headers: &HeaderMap, credential: &Option<Credential>) -> Self {
        Self {
            headers: headers.clone(),
            credential: credential.clone(),
        }
    }

    /// Adds the headers, and the credential for a `method` request to `url`, to `request`.
    pub(crate) fn apply<B>(&self, request: &mut ::http::Request<B>) -> Result<(), WireError> {
        let headers = request.headers_mut();
        headers.extend(self.headers.clone());
        if let Some(credential) = &self.credential {
            let url = request.uri().to_string();
            for (name, value) in credential.headers(request.method(), &url)? {
                request.headers_mut().insert(name, value);
            }
        }
        Ok(())
    }
}

/// One line (stdio) or event (HTTP) the server sent, as it came, and parsed if it parses.
#[derive(Debug, Clone)]
pub(crate) struct Received {
    pub(crate) raw: String,
    pub(crate) message: Option<Value>,
}

impl Received {
    pub(crate) fn new(raw: String) -> Self {
        let message = serde_json::from_str(&raw)
            .ok()
            .or_else(|| serde_json::from_str(&without_lone_surrogates(&raw)?).ok());
        Self { raw, message }
    }
}

/// `text` with each `\uXXXX` escape of an unpaired UTF-16 surrogate replaced by `\ufffd`, if it
/// has any. Such an escape is valid JSON text (RFC 8259 leaves its meaning open) that no string
/// type can hold: a server echoing one wrote JSON-RPC all the same.
fn without_lone_surrogates(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let escape_at = |at: usize| -> Option<u16> {
        let hex = bytes.get(at..at + 6)?;
        if hex[0] != b'\\' || hex[1] != b'u' {
            return None;
        }
        u16::from_str_radix(std::str::from_utf8(&hex[2..]).ok()?, 16).ok()
    };
    let mut out = String::with_capacity(text.len());
    let mut changed = false;
    let mut copied = 0;
    let mut at = 0;
    while at < bytes.len() {
        if bytes[at] != b'\\' {
            at += 1;
            continue;
        }
        let Some(unit) = escape_at(at) else {
            // Any other escape: skip the escaped character (an escaped backslash included).
            at += 2;
            continue;
        };
        let high = (0xD800..0xDC00).contains(&unit);
        let paired = high && escape_at(at + 6).is_some_and(|low| (0xDC00..0xE000).contains(&low));
        if paired {
            at += 12;
        } else if (0xD800..0xE000).contains(&unit) {
            out.push_str(&text[copied..at]);
            out.push_str("\\ufffd");
            at += 6;
            copied = at;
            changed = true;
        } else {
            at += 6;
        }
    }
    if !changed {
        return None;
    }
    out.push_str(&text[copied..]);
    Some(out)
}

/// The HTTP side of an exchange: status and headers of the response.
#[derive(Debug, Clone)]
pub(crate) struct HttpReply {
    pub(crate) status: StatusCode,
    /// The body when it was not JSON-RPC (an error page, a 202's text), bounded.
    pub(crate) text: String,
}

/// A message a whole-run check holds against the server: why, an excerpt of it, and an excerpt of
/// what the client had sent when it came.
#[derive(Debug, Clone)]
pub(crate) struct Flagged {
    pub(crate) why: String,
    pub(crate) excerpt: String,
    pub(crate) sent: String,
}

/// What the whole-run checks hold against the server: the first message with a wrong JSON-RPC 2.0
/// envelope, and the first request other than `ping` (the checking client declares no
/// capabilities, so nothing else may be asked of it; `why` is the method).
#[derive(Debug, Clone, Default)]
pub(crate) struct RunFindings {
    pub(crate) bad_envelope: Option<Flagged>,
    pub(crate) undeclared_request: Option<Flagged>,
}

/// The client's side of every wire of a run: how it answers the server's requests, and where it
/// notes [`RunFindings`] as each message arrives, on the session's wire or any connection a check
/// opens beside it, whether or not the exchange the message came in ever completes.
#[derive(Debug, Clone)]
pub(crate) struct ClientSide {
    responder: Responder,
    findings: Arc<Mutex<RunFindings>>,
}

impl ClientSide {
    pub(crate) fn new(responder: Responder) -> Self {
        Self {
            responder,
            findings: Arc::default(),
        }
    }

    /// What has been found so far.
    pub(crate) fn findings(&self) -> RunFindings {
        self.findings
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Judges one message that came in while `sent` was waiting for its answer.
    fn judge(&self, received: &Received, sent: &str) {
        let Some(message) = &received.message else {
            return;
        };
        let envelope = envelope_problem(message);
        let undeclared = is_server_request(message)
            .then(|| message.get("method").and_then(Value::as_str))
            .filter(|method| *method != Some("ping"))
            .map(|method| method.unwrap_or("a request").to_owned());
        if envelope.is_none() && undeclared.is_none() {
            return;
        }
        let flag = |why| Flagged {
            why,
            excerpt: excerpt(&received.raw),
            sent: excerpt(sent),
        };
        let mut findings = self.findings.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(why) = envelope
            && findings.bad_envelope.is_none()
        {
            findings.bad_envelope = Some(flag(why));
        }
        if let Some(method) = undeclared
            && findings.undeclared_request.is_none()
        {
            findings.undeclared_request = Some(flag(method));
        }
    }
}

/// What one message sent brought back.
#[derive(Debug, Clone, Default)]
pub(crate) struct Exchange {
    /// The message as it was sent.
    pub(crate) sent: String,
    /// Everything the server sent, in order, up to and including the answer.
    pub(crate) received: Vec<Received>,
    /// The answer: the message whose id is the one sent (or `null`, for input without an id).
    pub(crate) answer: Option<Value>,
    /// The first requests the server sent meanwhile (each was answered by the responder).
    pub(crate) server_requests: Vec<Value>,
    /// How many messages came in all, kept or not.
    pub(crate) received_count: usize,
    /// HTTP only: the response to the POST.
    pub(crate) http: Option<HttpReply>,
    /// From the first byte written to the answer (or the end of waiting).
    pub(crate) elapsed: Duration,
}

impl Exchange {
    /// The answer's `result`, if the answer is a success.
    pub(crate) fn result(&self) -> Option<&Value> {
        self.answer.as_ref()?.get("result")
    }

    /// The answer's `error`, if the answer is an error.
    pub(crate) fn error(&self) -> Option<&Value> {
        self.answer.as_ref()?.get("error")
    }

    /// The answer's error code, if it is an error with an integer code.
    pub(crate) fn error_code(&self) -> Option<i64> {
        self.error()?.get("code")?.as_i64()
    }

    /// What came back, for a report: the answer, else everything received, else the HTTP reply.
    pub(crate) fn received_excerpt(&self) -> String {
        if let Some(answer) = &self.answer {
            return excerpt(&answer.to_string());
        }
        if !self.received.is_empty() {
            // Joined only as far as an excerpt shows: what was kept can still be a megabyte.
            let mut joined = String::new();
            for (at, received) in self.received.iter().enumerate() {
                if at > 0 {
                    joined.push('\n');
                }
                joined.push_str(&received.raw);
                if joined.len() > EXCERPT_CHARS * 4 {
                    break;
                }
            }
            return excerpt(&joined);
        }
        match &self.http {
            Some(reply) if reply.text.is_empty() => format!("HTTP {}, no body", reply.status),
            Some(reply) => excerpt(&format!("HTTP {}: {}", reply.status, reply.text)),
            None => "nothing".to_owned(),
        }
    }
}

/// An exchange under way: what has come back so far, and until when to wait for the answer.
#[derive(Debug)]
pub(crate) struct Pending<'a> {
    exchange: Exchange,
    id: Option<&'a Value>,
    started: Instant,
    deadline: Instant,
    timeout: Duration,
    /// The bytes of `exchange.received`.
    kept_bytes: usize,
}

/// What to do after a message came in.
pub(crate) enum Step {
    /// It was the answer: the exchange is complete.
    Answered,
    /// It was the server's request: send it this answer, then wait on.
    Respond(Vec<u8>),
    /// Wait on.
    Continue,
}

impl<'a> Pending<'a> {
    /// Starts an exchange of `bytes`, answered by the message with `id` (none: a notification).
    pub(crate) fn new(bytes: &[u8], id: Option<&'a Value>, timeout: Duration) -> Self {
        let started = Instant::now();
        Self {
            exchange: Exchange {
                sent: String::from_utf8_lossy(bytes).into_owned(),
                ..Exchange::default()
            },
            id,
            started,
            deadline: started + timeout,
            timeout,
            kept_bytes: 0,
        }
    }

    /// Whether the deadline has passed. Each wire asks before it waits again: a server that
    /// always has another message ready would otherwise keep a read that is never pending from
    /// ever reaching its timeout.
    pub(crate) fn expired(&self) -> bool {
        Instant::now() >= self.deadline
    }

    /// When waiting ends.
    pub(crate) fn deadline(&self) -> Instant {
        self.deadline
    }

    /// The id the answer carries, if an answer is awaited.
    pub(crate) fn id(&self) -> Option<&'a Value> {
        self.id
    }

    /// The exchange so far (to add the HTTP reply).
    pub(crate) fn exchange_mut(&mut self) -> &mut Exchange {
        &mut self.exchange
    }

    /// Records `received`, has `client` judge it and answer it if it is a request, and says
    /// what it means.
    pub(crate) fn take(&mut self, received: Received, client: &ClientSide) -> Step {
        client.judge(&received, &self.exchange.sent);
        let exchange = &mut self.exchange;
        exchange.received_count += 1;
        let step = match (&received.message, self.id) {
            (Some(message), Some(id)) if answers(message, id) => {
                exchange.answer = Some(message.clone());
                Step::Answered
            }
            (Some(message), _) if is_server_request(message) => {
                if exchange.server_requests.len() < SERVER_REQUESTS_KEPT {
                    exchange.server_requests.push(message.clone());
                }
                Step::Respond(respond(&client.responder, message))
            }
            _ => Step::Continue,
        };
        // A server that floods messages before its answer is still answered and judged, but only
        // the first messages are kept as evidence; a response past the budget is kept slimmed
        // (id, error code and message, isError), so a refusal among them is still seen.
        if exchange.received.len() < RECEIVED_KEPT {
            let size = received.raw.len();
            if self.kept_bytes.saturating_add(size) <= RECEIVED_BYTES_KEPT {
                self.kept_bytes += size;
                exchange.received.push(received);
            } else if let Some(slim) = received.message.as_ref().and_then(slim_response) {
                exchange.received.push(Received {
                    raw: slim.to_string(),
                    message: Some(slim),
                });
            }
        }
        step
    }

    /// The exchange, complete.
    pub(crate) fn finish(mut self) -> Exchange {
        self.exchange.elapsed = self.started.elapsed();
        self.exchange
    }

    /// The error for an answer that did not come in time.
    pub(crate) fn timed_out(&self) -> WireError {
        WireError::Timeout(self.timeout)
    }
}

/// A response with what a check looks for in it and nothing more, each part bounded: its id (a
/// number, or a string of at most [`SLIM_CHARS`]), its error's integer code and message (cut
/// short), its result's boolean `isError`. `None` for anything but a response.
fn slim_response(message: &Value) -> Option<Value> {
    let object = message.as_object()?;
    if object.contains_key("method") {
        return None;
    }
    let short = |value: Option<&Value>| match value {
        Some(Value::String(text)) => Value::String(text.chars().take(SLIM_CHARS).collect()),
        Some(number @ Value::Number(_)) => number.clone(),
        Some(flag @ Value::Bool(_)) => flag.clone(),
        _ => Value::Null,
    };
    let mut slim = serde_json::Map::new();
    for key in ["jsonrpc", "id"] {
        if object.contains_key(key) {
            slim.insert(key.to_owned(), short(object.get(key)));
        }
    }
    if let Some(error) = object.get("error") {
        slim.insert(
            "error".to_owned(),
            json!({ "code": short(error.get("code")), "message": short(error.get("message")) }),
        );
    } else if let Some(result) = object.get("result") {
        slim.insert(
            "result".to_owned(),
            json!({ "isError": short(result.get("isError")) }),
        );
    } else {
        return None;
    }
    Some(Value::Object(slim))
}

/// At most [`EXCERPT_CHARS`] of `text`, as it is: a report's reader sanitises it for a terminal
/// (JSON and JUnit escape it themselves).
pub(crate) fn excerpt(text: &str) -> String {
    let mut chars = text.chars();
    let mut cut: String = chars.by_ref().take(EXCERPT_CHARS).collect();
    let more = chars.count();
    if more > 0 {
        cut.push_str(&format!("… ({more} more characters)"));
    }
    cut
}

/// Answers a request the server sends the client (`ping`, `roots/list`, `sampling/createMessage`):
/// given the request, the answer's `result` or `error` member (id and version are added).
#[derive(Clone)]
pub(crate) struct Responder(pub(crate) Arc<dyn Fn(&Value) -> Value + Send + Sync>);

impl std::fmt::Debug for Responder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Responder")
    }
}

/// Why a message could not be sent or its answer read at all (as opposed to a wrong answer, which
/// a check judges).
#[derive(Debug, thiserror::Error)]
pub enum WireError {
    /// The transport failed: spawn, connect, I/O, the server gone.
    #[error(transparent)]
    Transport(#[from] TransportError),
    /// No answer came within the deadline.
    #[error("no answer within {0:?}")]
    Timeout(Duration),
    /// The server's output ended before the answer.
    #[error("the server's output ended before the answer")]
    Ended,
    /// An event stream broke off or carried an event over the size limit.
    #[error("the event stream failed: {0}")]
    Stream(String),
    /// The legacy SSE stream never named the endpoint to post to, or named one elsewhere.
    #[error("the SSE stream did not name a usable endpoint: {0}")]
    Endpoint(String),
}

impl WireError {
    /// Whether the server did not answer in time (as opposed to the connection failing).
    pub fn is_timeout(&self) -> bool {
        match self {
            WireError::Timeout(_) => true,
            WireError::Transport(error) => error.is_timeout(),
            _ => false,
        }
    }

    /// Whether the connection is gone (the server exited, closed its output, refused or broke the
    /// connection, or wrote a stdio line over the limit, after which no line can be told from
    /// the next), so that nothing more can be asked of it.
    pub fn is_connection_lost(&self) -> bool {
        match self {
            WireError::Ended => true,
            WireError::Transport(error) => {
                !error.is_timeout()
                    && (error.is_server_exited()
                        || error.is_message_too_large()
                        || error.is_closed()
                        || error.is_connection_refused()
                        || error.is_dns()
                        || error.is_tls()
                        || error.is_io()
                        || error.is_spawn())
            }
            WireError::Stream(_) => true,
            WireError::Timeout(_) | WireError::Endpoint(_) => false,
        }
    }
}

/// One of the three carriers.
#[derive(Debug)]
pub(crate) enum Wire {
    Stdio(StdioWire),
    Http(HttpWire),
    Sse(SseWire),
}

impl Wire {
    /// Opens the carrier: spawns the process, or (legacy SSE) opens the event stream. Streamable
    /// HTTP connects on its first message.
    pub(crate) async fn open(
        target: &Target,
        http: &HttpClient,
        client_side: ClientSide,
        timeout: Duration,
    ) -> Result<Self, WireError> {
        Ok(match target {
            Target::Stdio(spec) => Wire::Stdio(StdioWire::spawn(spec, client_side)?),
            Target::StreamableHttp {
                url,
                headers,
                credential,
            } => Wire::Http(HttpWire::new(
                http.clone(),
                url.clone(),
                Presented::new(headers, credential),
                client_side,
            )),
            Target::Sse {
                url,
                headers,
                credential,
            } => Wire::Sse(
                SseWire::open(
                    http.clone(),
                    url,
                    Presented::new(headers, credential),
                    client_side,
                    timeout,
                )
                .await?,
            ),
        })
    }

    /// Sends `bytes` and waits up to `timeout` for the message whose id is `id` (`None`: a
    /// notification, nothing awaited beyond the HTTP status).
    pub(crate) async fn exchange(
        &mut self,
        bytes: Vec<u8>,
        id: Option<&Value>,
        overrides: &Overrides,
        timeout: Duration,
    ) -> Result<Exchange, WireError> {
        match self {
            Wire::Stdio(wire) => wire.exchange(bytes, id, timeout).await,
            Wire::Http(wire) => wire.exchange(bytes, id, overrides, timeout).await,
            Wire::Sse(wire) => wire.exchange(bytes, id, timeout).await,
        }
    }

    /// The streamable HTTP carrier, for the checks only it has (sessions, headers, DNS rebinding).
    pub(crate) fn http(&mut self) -> Option<&mut HttpWire> {
        match self {
            Wire::Http(wire) => Some(wire),
            _ => None,
        }
    }

    /// The stdio carrier, for the checks only it has (stdout purity, exit on stdin close).
    pub(crate) fn stdio(&mut self) -> Option<&mut StdioWire> {
        match self {
            Wire::Stdio(wire) => Some(wire),
            _ => None,
        }
    }
}

/// What is wrong with one message's envelope, if anything.
pub(crate) fn envelope_problem(message: &Value) -> Option<String> {
    let Some(object) = message.as_object() else {
        return Some("a message is not a JSON object".into());
    };
    if object.get("jsonrpc") != Some(&json!("2.0")) {
        return Some(format!(
            "\"jsonrpc\" is {}, not \"2.0\"",
            object
                .get("jsonrpc")
                .map_or("missing".to_owned(), Value::to_string)
        ));
    }
    let id_ok = |id: &Value| id.is_string() || id.as_i64().is_some() || id.as_u64().is_some();
    if let Some(method) = object.get("method") {
        if !method.is_string() {
            return Some("\"method\" is not a string".into());
        }
        return match object.get("id") {
            Some(id) if !id_ok(id) => Some(format!(
                "a request's id {id} is neither a string nor an integer"
            )),
            _ => None,
        };
    }
    match (object.get("result"), object.get("error")) {
        (Some(_), Some(_)) => return Some("a response carries both result and error".into()),
        (None, None) => return Some("a message has neither method, result nor error".into()),
        (Some(_), None) => {
            if !object.get("id").is_some_and(id_ok) {
                return Some("a result's id is missing or not a string or integer".into());
            }
        }
        (None, Some(error)) => {
            if error.get("code").is_none_or(|code| code.as_i64().is_none()) {
                return Some("an error's code is not an integer".into());
            }
            if !error.get("message").is_some_and(Value::is_string) {
                return Some("an error's message is not a string".into());
            }
            // MCP's schema lets an error leave its id out (JSON-RPC says null) when the request's
            // id could not be read; either is accepted, anything else is not.
            if !object.get("id").is_none_or(|id| id.is_null() || id_ok(id)) {
                return Some("an error's id is not a string, an integer or null".into());
            }
        }
    }
    None
}

/// Whether `message` is the answer to `id`: a response (result or error) carrying that id. With
/// `id` null, any response with a null id (the answer to input the server could not read).
pub(crate) fn answers(message: &Value, id: &Value) -> bool {
    let Some(object) = message.as_object() else {
        return false;
    };
    if object.contains_key("method") {
        return false;
    }
    if !(object.contains_key("result") || object.contains_key("error")) {
        return false;
    }
    object.get("id").unwrap_or(&Value::Null) == id
}

/// Whether `message` is a request from the server (a method and an id).
pub(crate) fn is_server_request(message: &Value) -> bool {
    message.get("method").is_some() && message.get("id").is_some_and(|id| !id.is_null())
}

/// The answer the responder gives a server's request, with the request's id.
pub(crate) fn respond(responder: &Responder, request: &Value) -> Vec<u8> {
    let mut answer = (responder.0)(request);
    if let Some(object) = answer.as_object_mut() {
        object.insert("jsonrpc".into(), "2.0".into());
        object.insert(
            "id".into(),
            request.get("id").cloned().unwrap_or(Value::Null),
        );
    }
    answer.to_string().into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lone_surrogate_escapes_are_replaced_and_pairs_kept() {
        let echoed = r#"{"a":"x\ud800y\ud83d\ude00\\ud800"}"#;
        let fixed = without_lone_surrogates(echoed).expect("one lone surrogate");
        assert_eq!(fixed, r#"{"a":"x\ufffdy\ud83d\ude00\\ud800"}"#);
        let message = Received::new(echoed.to_owned()).message.expect("parses");
        assert_eq!(message["a"], "x\u{fffd}y\u{1f600}\\ud800");
        assert_eq!(without_lone_surrogates(r#"{"a":"\ud83d\ude00"}"#), None);
    }

    fn client_side() -> ClientSide {
        ClientSide::new(Responder(Arc::new(|_| json!({ "result": {} }))))
    }

    #[tokio::test]
    async fn a_flood_is_answered_and_judged_in_full_but_kept_only_in_part() {
        let client = client_side();
        let id = json!(7);
        let mut pending = Pending::new(b"{}", Some(&id), Duration::from_secs(5));
        let padding = "p".repeat(4096);
        for n in 0..2_000 {
            let request =
                json!({"jsonrpc": "2.0", "id": n, "method": "ping", "params": {"pad": padding}});
            assert!(matches!(
                pending.take(Received::new(request.to_string()), &client),
                Step::Respond(_)
            ));
        }
        // Past what is kept, messages are still judged, and a response is kept slimmed.
        let bad = json!({"id": 1, "result": {}});
        pending.take(Received::new(bad.to_string()), &client);
        let asked = json!({"jsonrpc": "2.0", "id": "s", "method": "sampling/createMessage"});
        pending.take(Received::new(asked.to_string()), &client);
        let refusal = json!({"jsonrpc": "2.0", "id": "big", "error": {"code": -32602, "message": "x".repeat(3 << 20)}});
        pending.take(Received::new(refusal.to_string()), &client);
        let answer = json!({"jsonrpc": "2.0", "id": 7, "result": {}});
        assert!(matches!(
            pending.take(Received::new(answer.to_string()), &client),
            Step::Answered
        ));
        let mut exchange = pending.finish();
        assert_eq!(exchange.received_count, 2_004);
        let kept: usize = exchange.received.iter().map(|r| r.raw.len()).sum();
        assert!(
            kept <= RECEIVED_BYTES_KEPT + 4 * EXCERPT_CHARS,
            "{kept} bytes kept"
        );
        assert!(exchange.received.len() < 2_000);
        let slimmed = exchange
            .received
            .iter()
            .filter_map(|received| received.message.as_ref())
            .find(|message| message["id"] == "big")
            .expect("the refusal, slimmed");
        assert_eq!(slimmed["error"]["code"], -32602);
        assert!(slimmed.to_string().len() < 3 * SLIM_CHARS);
        assert_eq!(exchange.server_requests.len(), SERVER_REQUESTS_KEPT);
        assert_eq!(exchange.answer, Some(answer));
        let findings = client.findings();
        let flagged = findings.bad_envelope.expect("the envelope without jsonrpc");
        assert!(
            flagged.why.contains("\"jsonrpc\" is missing"),
            "{}",
            flagged.why
        );
        assert_eq!(flagged.sent, "{}");
        let undeclared = findings.undeclared_request.expect("sampling was asked for");
        assert_eq!(undeclared.why, "sampling/createMessage");
        // Without an answer, the excerpt is of what was kept, joined only as far as it shows.
        exchange.answer = None;
        let shown = exchange.received_excerpt();
        assert!(
            shown.chars().count() < EXCERPT_CHARS + 64,
            "{}",
            shown.len()
        );
        assert!(shown.starts_with(r#"{"id":0,"#), "{}", &shown[..40]);
    }

    #[tokio::test]
    async fn a_message_in_an_exchange_that_never_completes_is_still_judged() {
        let client = client_side();
        let id = json!(1);
        let mut pending = Pending::new(b"{\"id\":1}", Some(&id), Duration::from_secs(5));
        let asked = json!({"jsonrpc": "2.0", "id": "r", "method": "roots/list"});
        pending.take(Received::new(asked.to_string()), &client);
        drop(pending);
        let findings = client.findings();
        assert_eq!(
            findings.undeclared_request.map(|flagged| flagged.why),
            Some("roots/list".to_owned())
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_pending_exchange_expires_at_its_deadline() {
        let pending = Pending::new(b"{}", None, Duration::from_secs(2));
        assert!(!pending.expired());
        tokio::time::advance(Duration::from_secs(2)).await;
        assert!(pending.expired());
    }
}
