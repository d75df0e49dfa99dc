//! One conversation with the server under check: the handshake of its protocol era, then requests
//! with fresh ids, each kept with what came back.

use std::time::Duration;

use http::{HeaderName, HeaderValue};
use mcp_transport::HttpClient;
use serde_json::{Map, Value, json};

use crate::wire::{ClientSide, Exchange, Overrides, Responder, Target, Wire, WireError};

/// The revision whose lifecycle is `server/discover` and per-request `_meta`.
pub const MODERN_VERSION: &str = "2026-07-28";
/// The newest revision with the `initialize` handshake.
pub const LEGACY_VERSION: &str = "2025-11-25";
/// Every revision a check knows.
pub(crate) const KNOWN_VERSIONS: [&str; 5] = [
    "2024-11-05",
    "2025-03-26",
    "2025-06-18",
    "2025-11-25",
    "2026-07-28",
];

/// The `_meta` keys of a modern request.
pub(crate) const META_VERSION: &str = "io.modelcontextprotocol/protocolVersion";
pub(crate) const META_CLIENT_INFO: &str = "io.modelcontextprotocol/clientInfo";
pub(crate) const META_CAPABILITIES: &str = "io.modelcontextprotocol/clientCapabilities";

/// The lifecycle the server is checked in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Era {
    /// `initialize`, then a session (2025-11-25 and earlier).
    Legacy,
    /// `server/discover` and `_meta` on every request (2026-07-28).
    Modern,
}

impl Era {
    /// The revision a session of this era speaks unless the server negotiates another.
    pub fn version(self) -> &'static str {
        match self {
            Era::Legacy => LEGACY_VERSION,
            Era::Modern => MODERN_VERSION,
        }
    }

    /// The request that shows the server alive: `ping`, which 2026-07-28 removed, else
    /// `server/discover`.
    pub(crate) fn alive_method(self) -> &'static str {
        match self {
            Era::Legacy => "ping",
            Era::Modern => "server/discover",
        }
    }
}

/// The params of an `initialize` asking for `version`, the client declaring no capabilities.
pub(crate) fn initialize_params(version: &str) -> Value {
    json!({
        "protocolVersion": version,
        "capabilities": {},
        "clientInfo": client_info(),
    })
}

/// A session with the server: the wire, the era, and what the handshake said.
#[derive(Debug)]
pub(crate) struct Session {
    pub(crate) wire: Wire,
    pub(crate) era: Era,
    /// The version the session speaks (the server's answer to `initialize`, or 2026-07-28).
    pub(crate) version: String,
    /// The `initialize` or `server/discover` result.
    pub(crate) handshake: Value,
    /// The handshake's exchange, for the checks that judge it.
    pub(crate) handshake_exchange: Exchange,
    /// The `notifications/initialized` exchange (the legacy era), for the checks of its status.
    pub(crate) initialized: Option<Exchange>,
    /// How the client answers the server's requests, and what the whole-run checks find; shared
    /// with every connection a check opens beside the session's.
    pub(crate) client_side: ClientSide,
    pub(crate) timeout: Duration,
    next_id: i64,
}

/// How long a killed stdio copy is waited for before the next one starts.
pub(crate) const KILL_WAIT: Duration = Duration::from_secs(2);

/// Whether a `server/discover` result lists 2026-07-28 among its supported versions.
fn lists_modern(result: &Value) -> bool {
    result
        .get("supportedVersions")
        .and_then(Value::as_array)
        .is_some_and(|versions| versions.iter().any(|v| v == MODERN_VERSION))
}

/// Why a session could not start.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    /// The server could not be reached, or did not answer the handshake.
    #[error("{what}: {source}")]
    Wire {
        /// The step that failed.
        what: &'static str,
        /// Why.
        #[source]
        source: WireError,
    },
    /// The server wants credentials it was not given, or better ones (HTTP 401 or 403 to the
    /// handshake).
    #[error("{what}: the server answered HTTP {status}: it needs a login or a token")]
    AuthRequired {
        /// The step that was refused.
        what: &'static str,
        /// 401 or 403.
        status: u16,
    },
    /// The server answered the handshake with an error or something that is not a result.
    #[error("{what} failed: {answer}")]
    Refused {
        /// The era whose handshake it was.
        era: Era,
        /// The step that failed.
        what: &'static str,
        /// What was sent (an excerpt).
        sent: String,
        /// What came back (an excerpt).
        answer: String,
    },
}

/// The responder every session uses: `ping` answered, anything else refused as unsupported (the
/// client declares no capability, so a server must not ask for sampling, elicitation or roots).
pub(crate) fn responder() -> Responder {
    Responder(std::sync::Arc::new(|request: &Value| {
        match request.get("method").and_then(Value::as_str) {
            Some("ping") => json!({ "result": {} }),
            _ => {
                json!({ "error": { "code": -32601, "message": "the checking client declared no such capability" } })
            }
        }
    }))
}

/// The client's identity in a handshake.
pub(crate) fn client_info() -> Value {
    json!({ "name": "mcpcord-check", "version": env!("CARGO_PKG_VERSION") })
}

/// The modern `_meta` of a request: version, identity and (no) capabilities.
pub(crate) fn modern_meta() -> Value {
    json!({
        META_VERSION: MODERN_VERSION,
        META_CLIENT_INFO: client_info(),
        META_CAPABILITIES: {},
    })
}

impl Session {
    /// Connects and shakes hands in `era`; `client_side` answers and judges what the server sends.
    pub(crate) async fn open(
        target: &Target,
        http: &HttpClient,
        era: Era,
        timeout: Duration,
        client_side: &ClientSide,
    ) -> Result<Self, OpenError> {
        let mut session = Self::connect(target, http, era, timeout, client_side).await?;
        if let Err(error) = session.handshake().await {
            session.close_now().await;
            return Err(error);
        }
        Ok(session)
    }

    /// Connects and finds the era as a dual-era client does: `server/discover` first (waiting at
    /// most `probe`: an old server may stay silent), and on anything but a discover result that
    /// lists 2026-07-28, `initialize` on the same connection. A new connection is made only if the
    /// first one ended, or if a server silent on the probe then refuses `initialize` and may be a
    /// slow server of the new era (its late discover answer lists 2026-07-28; over streamable
    /// HTTP, where that answer is lost, always): it is asked again, given the whole timeout.
    pub(crate) async fn open_auto(
        target: &Target,
        http: &HttpClient,
        probe: Duration,
        timeout: Duration,
        client_side: &ClientSide,
    ) -> Result<Self, OpenError> {
        // Connecting (a legacy SSE stream's endpoint event) gets the whole timeout; only the
        // answer to server/discover is waited for briefly.
        let mut session = Self::connect(target, http, Era::Modern, timeout, client_side).await?;
        session.timeout = probe;
        let probed = session.handshake().await;
        let probe_timed_out =
            matches!(&probed, Err(OpenError::Wire { source, .. }) if source.is_timeout());
        let modern = probed.is_ok() && lists_modern(&session.handshake);
        session.timeout = timeout;
        if modern {
            return Ok(session);
        }
        tracing::debug!("server/discover was not answered as 2026-07-28; trying initialize");
        session.era = Era::Legacy;
        session.version = LEGACY_VERSION.to_owned();
        session.handshake = Value::Null;
        match session.handshake().await {
            Err(OpenError::Wire { source, .. }) if source.is_connection_lost() => {
                session.close_now().await;
                Self::open(target, http, Era::Legacy, timeout, client_side).await
            }
            // Silent on discover, then refusing initialize: perhaps a server of the new era
            // slower to start than the probe waited. On one stream (stdio, legacy SSE) its late
            // discover answer came before the refusal, and decides; over streamable HTTP it went
            // to an abandoned request, so discover is asked again. Either way the new session
            // must list 2026-07-28, or the refusal stands.
            Err(refused @ OpenError::Refused { .. }) if probe_timed_out => {
                let retry = match target {
                    Target::StreamableHttp { .. } => true,
                    Target::Stdio(_) | Target::Sse { .. } => session
                        .handshake_exchange
                        .received
                        .iter()
                        .filter_map(|received| received.message.as_ref()?.get("result"))
                        .any(lists_modern),
                };
                session.close_now().await;
                if !retry {
                    return Err(refused);
                }
                match Self::open(target, http, Era::Modern, timeout, client_side).await {
                    Ok(session) if lists_modern(&session.handshake) => Ok(session),
                    _ => Err(refused),
                }
            }
            outcome => outcome.map(|()| session),
        }
    }

    /// Opens the wire, without a handshake.
    async fn connect(
        target: &Target,
        http: &HttpClient,
        era: Era,
        timeout: Duration,
        client_side: &ClientSide,
    ) -> Result<Self, OpenError> {
        let wire = Wire::open(target, http, client_side.clone(), timeout)
            .await
            .map_err(|source| OpenError::Wire {
                what: "connecting",
                source,
            })?;
        let session = Self {
            wire,
            era,
            version: era.version().to_owned(),
            handshake: Value::Null,
            handshake_exchange: Exchange::default(),
            initialized: None,
            client_side: client_side.clone(),
            timeout,
            next_id: 0,
        };
        Ok(session)
    }

    async fn handshake(&mut self) -> Result<(), OpenError> {
        let (what, exchange) = match self.era {
            Era::Legacy => {
                let exchange = self
                    .request("initialize", initialize_params(LEGACY_VERSION))
                    .await;
                ("initialize", exchange)
            }
            Era::Modern => (
                "server/discover",
                self.request("server/discover", json!({})).await,
            ),
        };
        let exchange = exchange.map_err(|source| OpenError::Wire { what, source })?;
        if let Some(status) = exchange
            .http
            .as_ref()
            .map(|reply| reply.status.as_u16())
            .filter(|status| matches!(status, 401 | 403))
        {
            return Err(OpenError::AuthRequired { what, status });
        }
        let Some(result) = exchange
            .result()
            .filter(|result| result.is_object())
            .cloned()
        else {
            let refused = OpenError::Refused {
                era: self.era,
                what,
                sent: crate::wire::excerpt(&exchange.sent),
                answer: exchange.received_excerpt(),
            };
            // Kept: what came before the refusal may say more (a late discover answer).
            self.handshake_exchange = exchange;
            return Err(refused);
        };
        if self.era == Era::Legacy {
            if let Some(version) = result.get("protocolVersion").and_then(Value::as_str) {
                self.version = version.to_owned();
            }
            if let Some(http) = self.wire.http()
                && let Ok(version) = HeaderValue::from_str(&self.version)
            {
                http.protocol_version = Some(version);
            }
            let initialized = self
                .notify("notifications/initialized", json!({}))
                .await
                .map_err(|source| OpenError::Wire {
                    what: "notifications/initialized",
                    source,
                })?;
            self.initialized = Some(initialized);
        }
        self.handshake = result;
        self.handshake_exchange = exchange;
        Ok(())
    }

    /// Ends the session now: a stdio copy is killed and waited for (at most [`KILL_WAIT`]), so
    /// that a server allowing one copy at a time can start the next; a connection is dropped.
    pub(crate) async fn close_now(mut self) {
        if let Some(stdio) = self.wire.stdio() {
            stdio.kill_and_wait(KILL_WAIT).await;
        }
    }

    /// The server's declared capabilities.
    pub(crate) fn capabilities(&self) -> &Value {
        self.handshake.get("capabilities").unwrap_or(&Value::Null)
    }

    /// Whether the server declared `capability` (`tools`, `resources`...), and, with `flag`, that
    /// flag inside it (`subscribe`) as `true`.
    pub(crate) fn declares(&self, capability: &str, flag: Option<&str>) -> bool {
        match (self.capabilities().get(capability), flag) {
            (Some(value), None) => value.is_object(),
            (Some(value), Some(flag)) => value.get(flag).and_then(Value::as_bool) == Some(true),
            (None, _) => false,
        }
    }

    fn take_id(&mut self) -> Value {
        self.next_id += 1;
        Value::from(self.next_id)
    }

    /// A request as the era wants it: a fresh id, and for the modern era `_meta` and (over HTTP)
    /// the standard headers.
    pub(crate) fn build(&mut self, method: &str, params: Value) -> (Value, Overrides) {
        let mut params = match params {
            Value::Object(map) => map,
            _ => Map::new(),
        };
        if self.era == Era::Modern {
            let meta = params
                .entry("_meta")
                .or_insert_with(|| Value::Object(Map::new()));
            if let (Some(meta), Value::Object(ours)) = (meta.as_object_mut(), modern_meta()) {
                for (key, value) in ours {
                    meta.entry(key).or_insert(value);
                }
            }
        }
        let id = self.take_id();
        let message = json!({ "jsonrpc": "2.0", "id": id, "method": method, "params": params });
        let overrides = match self.era {
            Era::Modern => modern_headers(&message),
            Era::Legacy => Overrides::default(),
        };
        (message, overrides)
    }

    /// Sends a request and returns the exchange.
    pub(crate) async fn request(
        &mut self,
        method: &str,
        params: Value,
    ) -> Result<Exchange, WireError> {
        let (message, overrides) = self.build(method, params);
        self.send(&message, &overrides).await
    }

    /// Sends `message` as built (a check may have changed it) and waits for the answer to its id.
    pub(crate) async fn send(
        &mut self,
        message: &Value,
        overrides: &Overrides,
    ) -> Result<Exchange, WireError> {
        let id = message.get("id").cloned();
        let bytes = message.to_string().into_bytes();
        self.raw(bytes, id.as_ref(), overrides).await
    }

    /// Sends `bytes` as they are and waits for the answer whose id is `id`.
    pub(crate) async fn raw(
        &mut self,
        bytes: Vec<u8>,
        id: Option<&Value>,
        overrides: &Overrides,
    ) -> Result<Exchange, WireError> {
        self.wire.exchange(bytes, id, overrides, self.timeout).await
    }

    /// Sends a notification.
    pub(crate) async fn notify(
        &mut self,
        method: &str,
        params: Value,
    ) -> Result<Exchange, WireError> {
        let message = json!({ "jsonrpc": "2.0", "method": method, "params": params });
        self.wire
            .exchange(
                message.to_string().into_bytes(),
                None,
                &Overrides::default(),
                self.timeout,
            )
            .await
    }

    /// Every page of a list (`tools/list` and the like), following `nextCursor`: the items, and the
    /// exchanges. Stops at a cursor seen before, or after `max_pages`.
    pub(crate) async fn list_all(
        &mut self,
        method: &str,
        key: &str,
        max_pages: usize,
    ) -> Result<Listed, WireError> {
        let mut listed = Listed::default();
        let mut cursor: Option<String> = None;
        for _ in 0..max_pages {
            let params = match &cursor {
                Some(cursor) => json!({ "cursor": cursor }),
                None => json!({}),
            };
            let exchange = self.request(method, params).await?;
            let Some(result) = exchange.result() else {
                listed.failed = Some(exchange);
                return Ok(listed);
            };
            if let Some(items) = result.get(key).and_then(Value::as_array) {
                listed.items.extend(items.iter().cloned());
                listed
                    .item_pages
                    .extend(std::iter::repeat_n(listed.pages.len(), items.len()));
            }
            let next = result
                .get("nextCursor")
                .and_then(Value::as_str)
                .map(str::to_owned);
            listed.pages.push(exchange);
            match next {
                None => return Ok(listed),
                Some(next) if listed.cursors.contains(&next) => {
                    listed.looped = Some(next);
                    return Ok(listed);
                }
                Some(next) => {
                    listed.cursors.push(next.clone());
                    cursor = Some(next);
                }
            }
        }
        listed.unfinished = true;
        Ok(listed)
    }
}

/// A whole list as read page by page.
#[derive(Debug, Default)]
pub(crate) struct Listed {
    pub(crate) items: Vec<Value>,
    /// The page (from 0) each item came on.
    pub(crate) item_pages: Vec<usize>,
    pub(crate) pages: Vec<Exchange>,
    pub(crate) cursors: Vec<String>,
    /// The answer that was not a result, if a page failed.
    pub(crate) failed: Option<Exchange>,
    /// A cursor the server handed out twice.
    pub(crate) looped: Option<String>,
    /// Still a `nextCursor` after the most pages a check reads.
    pub(crate) unfinished: bool,
}

/// The 2026-07-28 request headers of `message`: `MCP-Protocol-Version`, and the standard
/// `Mcp-Method` and `Mcp-Name` (encoded as the transport encodes them, Base64 sentinel included).
pub(crate) fn modern_headers(message: &Value) -> Overrides {
    let mut overrides = Overrides::default();
    for (name, value) in mcp_transport::http::standard_headers(message.to_string().as_bytes()) {
        overrides.headers.insert(name, value);
    }
    overrides.headers.insert(
        HeaderName::from_static("mcp-protocol-version"),
        HeaderValue::from_static(MODERN_VERSION),
    );
    overrides
}
