//! Serving the demo over HTTP on a loopback address: the listener, the serve loop (shared with the
//! OAuth variant, which brings its own service), the MCP endpoints (streamable HTTP, and the legacy
//! HTTP+SSE transport of `sse`) and the plain service that routes to them.

use std::{
    convert::Infallible,
    future::Future,
    net::{IpAddr, SocketAddr},
    pin::{Pin, pin},
    sync::Arc,
    time::Duration,
};

use http::{
    HeaderValue, Request, Response, StatusCode,
    header::{ALLOW, CONTENT_TYPE},
};
use http_body_util::{BodyExt as _, Full, LengthLimitError, Limited, combinators::BoxBody};
use hyper::body::{Body, Bytes, Incoming};
use hyper_util::{rt::TokioIo, server::graceful::GracefulShutdown};
use rmcp::transport::streamable_http_server::{
    StreamableHttpServerConfig, StreamableHttpService, session::local::LocalSessionManager,
};
use tokio::{net::TcpListener, sync::oneshot, task::JoinSet, time::Instant};

use super::{
    DemoEra, DemoError, DemoServer,
    handle::{Alive, DemoHttpHandle, DemoHttpWatch},
    sse::{MESSAGES_PATH, SSE_PATH, SseEndpoint},
};

/// The path the demo serves MCP at.
pub const MCP_PATH: &str = "/mcp";

/// How long [`DemoHttpHandle::close`] lets in-flight requests and legacy SSE sessions finish
/// before cutting them off.
const CLOSE_GRACE: Duration = Duration::from_secs(1);

/// The demo bound to a loopback address, ready to serve streamable HTTP at [`MCP_PATH`] and the
/// legacy HTTP+SSE transport (MCP 2024-11-05) at [`SSE_PATH`] and [`MESSAGES_PATH`].
///
/// Binding and serving are separate so a caller learns the address (port 0 picks a free one)
/// before the first request. Serve it in place with [`serve`](Self::serve), or on a task with
/// [`spawn`](Self::spawn). Either way, the listener and every connection it accepted close when
/// serving stops, including when the future or handle is dropped.
#[derive(Debug)]
pub struct DemoHttpServer {
    // Field order matters: the listener closes before `alive` reports everything closed.
    listener: TcpListener,
    local_addr: SocketAddr,
    alive: Alive,
    era: DemoEra,
}

impl DemoHttpServer {
    /// Binds `addr`, which must be loopback (`127.0.0.1:0` picks a free port).
    ///
    /// # Errors
    /// [`DemoError::NotLoopback`] for any other address, checked before binding;
    /// [`DemoError::Bind`] if the socket cannot be bound (e.g. the port is taken).
    pub async fn bind(addr: SocketAddr) -> Result<Self, DemoError> {
        if !addr.ip().is_loopback() {
            return Err(DemoError::NotLoopback(addr));
        }
        let bind_error = |source| DemoError::Bind { addr, source };
        let listener = TcpListener::bind(addr).await.map_err(bind_error)?;
        let local_addr = listener.local_addr().map_err(bind_error)?;
        Ok(Self {
            listener,
            local_addr,
            alive: Alive::new(),
            era: DemoEra::Both,
        })
    }

    /// Speaks only `era`'s protocol revisions at [`MCP_PATH`] (the legacy HTTP+SSE endpoint is
    /// of the legacy era whatever this says).
    pub fn with_era(mut self, era: DemoEra) -> Self {
        self.era = era;
        self
    }

    /// The address actually bound.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// The MCP endpoint, e.g. `http://127.0.0.1:41234/mcp`.
    pub fn url(&self) -> String {
        url(self.local_addr)
    }

    /// The legacy HTTP+SSE endpoint, e.g. `http://127.0.0.1:41234/sse`: a `GET` there opens a
    /// session whose first event names where to `POST` the client's messages.
    pub fn sse_url(&self) -> String {
        sse_url(self.local_addr)
    }

    /// A watch on this server's sockets: open until the listener and every accepted connection are
    /// closed.
    pub fn watch(&self) -> DemoHttpWatch {
        self.alive.watch()
    }

    /// Serves connections until accepting fails.
    ///
    /// Dropping this future closes the listener and every connection at once and ends rmcp's
    /// sessions; that is the way to stop it. For a graceful stop, use [`spawn`](Self::spawn) and
    /// [`DemoHttpHandle::close`].
    ///
    /// # Errors
    /// [`DemoError::Accept`] if the listener fails for a reason other than one client's connection
    /// (e.g. the process ran out of file descriptors).
    pub async fn serve(self) -> Result<(), DemoError> {
        let service = McpOnly::new(self.local_addr.ip(), self.era);
        self.serve_with(service).await
    }

    /// Serves on a new Tokio task, returning the handle that owns it: dropping the handle stops the
    /// server at once; [`DemoHttpHandle::close`] stops it gracefully.
    ///
    /// # Panics
    /// Outside a Tokio runtime, as [`tokio::spawn`] does.
    pub fn spawn(self) -> DemoHttpHandle {
        let service = McpOnly::new(self.local_addr.ip(), self.era);
        self.spawn_with(service)
    }

    /// [`serve`](Self::serve) with another service on the same listener (the OAuth variant).
    pub(crate) async fn serve_with(self, service: impl DemoService) -> Result<(), DemoError> {
        self.serve_until(service, std::future::pending()).await
    }

    /// [`spawn`](Self::spawn) with another service on the same listener (the OAuth variant).
    ///
    /// # Panics
    /// Outside a Tokio runtime, as [`tokio::spawn`] does.
    pub(crate) fn spawn_with(self, service: impl DemoService) -> DemoHttpHandle {
        let local_addr = self.local_addr;
        let watch = self.watch();
        let sse_sessions = service.endpoints().sse.sessions();
        let (stop, stopped) = oneshot::channel();
        let task = tokio::spawn(self.serve_until(service, async move {
            // A dropped sender stops serving too, though the handle aborts the task anyway.
            let _ = stopped.await;
        }));
        DemoHttpHandle::new(local_addr, watch, sse_sessions, stop, task)
    }

    /// Serves `service` until `stop` completes, then stops gracefully: no new connections, rmcp's
    /// sessions end (which ends their SSE streams, the legacy ones included), in-flight requests and
    /// the legacy sessions' services get [`CLOSE_GRACE`] to finish, and whatever is left is cut off.
    /// Returns once every connection and every legacy session's task is gone.
    async fn serve_until<S: DemoService>(
        self,
        service: S,
        stop: impl Future<Output = ()>,
    ) -> Result<(), DemoError> {
        // Also on cancellation: dropping this future ends the sessions.
        let _sessions = EndSessionsOnDrop(service.endpoints().clone());
        let graceful = GracefulShutdown::new();
        // Connections live in this set, so dropping this future aborts them all.
        let mut connections = JoinSet::new();
        let builder = hyper::server::conn::http1::Builder::new();
        let mut stop = pin!(stop);
        loop {
            let stream = tokio::select! {
                () = &mut stop => break,
                accepted = self.listener.accept() => match accepted {
                    Ok((stream, _peer)) => stream,
                    Err(error) if is_per_connection(&error) => continue,
                    Err(source) => {
                        return Err(DemoError::Accept { addr: self.local_addr, source });
                    }
                },
                // Reap finished connections so the set does not grow without bound.
                Some(_) = connections.join_next(), if !connections.is_empty() => continue,
            };
            // SSE responses go out in small writes; without this, Nagle plus the client's delayed
            // ACK add ~40 ms to every response. Failing to set it costs only latency.
            let _ = stream.set_nodelay(true);
            let connection =
                graceful.watch(builder.serve_connection(TokioIo::new(stream), service.clone()));
            let alive = self.alive.clone();
            connections.spawn(async move {
                let _alive = alive;
                // A connection's error concerns that client only (it hung up, sent garbage).
                let _ = connection.await;
            });
        }
        drop(self);
        let endpoints = service.endpoints();
        endpoints.end_sessions();
        // Idle connections close at once, busy ones after their response; past the grace period,
        // the set aborts whatever is left, and returns once every connection is gone. The legacy
        // sessions wind down meanwhile, within the same grace period.
        let deadline = Instant::now() + CLOSE_GRACE;
        let _ = tokio::time::timeout_at(deadline, graceful.shutdown()).await;
        connections.shutdown().await;
        endpoints.sse.shutdown(deadline).await;
        Ok(())
    }
}

/// `http://ADDR/mcp`.
pub(crate) fn url(addr: SocketAddr) -> String {
    format!("http://{addr}{MCP_PATH}")
}

/// `http://ADDR/sse`.
pub(crate) fn sse_url(addr: SocketAddr) -> String {
    format!("http://{addr}{SSE_PATH}")
}

/// Accept errors that concern one incoming connection, not the listener.
fn is_per_connection(error: &std::io::Error) -> bool {
    use std::io::ErrorKind::{ConnectionAborted, ConnectionRefused, ConnectionReset, Interrupted};
    matches!(
        error.kind(),
        ConnectionAborted | ConnectionRefused | ConnectionReset | Interrupted
    )
}

/// The hosts a request to a server bound to `ip` may name: the loopback names and `ip` itself,
/// as they appear in a URL (IPv6 in brackets).
fn loopback_hosts(ip: IpAddr) -> Vec<String> {
    let mut hosts: Vec<String> = ["localhost", "127.0.0.1", "[::1]"]
        .map(str::to_owned)
        .into();
    let bound = match ip {
        IpAddr::V4(ip) => ip.to_string(),
        IpAddr::V6(ip) => format!("[{ip}]"),
    };
    if !hosts.contains(&bound) {
        hosts.push(bound);
    }
    hosts
}

/// The body of every response the demo sends.
pub(crate) type DemoBody = BoxBody<Bytes, Infallible>;

/// What a demo service's `call` returns: boxed, so services can be named and cloned freely.
pub(crate) type DemoFuture =
    Pin<Box<dyn Future<Output = Result<Response<DemoBody>, Infallible>> + Send>>;

/// rmcp's streamable HTTP service for the demo server.
type McpService = StreamableHttpService<DemoServer, LocalSessionManager>;

/// A service the shared serve loop can run: one per connection (cloned), never failing (errors
/// are responses), and routing to [`McpEndpoints`] whose sessions must end when serving stops.
pub(crate) trait DemoService:
    hyper::service::Service<
        Request<Incoming>,
        Response = Response<DemoBody>,
        Error = Infallible,
        Future = DemoFuture,
    > + Clone
    + Send
    + 'static
{
    /// The MCP endpoints behind this service; the serve loop ends their sessions when it stops.
    fn endpoints(&self) -> &McpEndpoints;
}

/// The demo's MCP transports on one origin: rmcp's streamable HTTP service at [`MCP_PATH`], and
/// the legacy HTTP+SSE endpoint at [`SSE_PATH`] and [`MESSAGES_PATH`]. Each session of either runs
/// its own [`DemoServer`].
#[derive(Clone)]
pub(crate) struct McpEndpoints {
    streamable: McpService,
    pub(crate) sse: SseEndpoint,
}

impl McpEndpoints {
    /// The endpoints of a server bound to `ip`, a loopback address.
    ///
    /// rmcp checks the `Host` header against DNS rebinding, and we add an `Origin` check so a web
    /// page from elsewhere cannot drive the demo through the user's browser: both admit the
    /// loopback names, and the address actually bound (which may be another 127.x.y.z). Requests
    /// without `Origin` (every non-browser client) are unaffected by the second. The legacy
    /// endpoint applies the same two checks, and takes its limits from the same configuration.
    pub(crate) fn new(ip: IpAddr, era: DemoEra) -> Self {
        let hosts = loopback_hosts(ip);
        let origins: Vec<String> = hosts
            .iter()
            .map(|host| format!("http://{host}:*"))
            .collect();
        let config = StreamableHttpServerConfig::default()
            .with_allowed_hosts(hosts.clone())
            .with_allowed_origins(origins);
        Self {
            sse: SseEndpoint::new(&hosts, &config),
            streamable: StreamableHttpService::new(
                move || Ok(DemoServer::with_era(era)),
                Arc::default(),
                config,
            ),
        }
    }

    /// Whether `path` is one of the MCP endpoints.
    pub(crate) fn serves(path: &str) -> bool {
        path == MCP_PATH || path == SSE_PATH || path == MESSAGES_PATH
    }

    /// Answers a request to one of the endpoints ([`serves`](Self::serves) its path).
    pub(crate) async fn handle<B>(&self, request: Request<B>) -> Response<DemoBody>
    where
        B: Body<Data = Bytes> + Send + 'static,
        B::Error: std::fmt::Display + Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        if request.uri().path() == MCP_PATH {
            self.streamable.handle(request).await
        } else {
            self.sse.handle(request).await
        }
    }

    /// Ends every session of either transport (and its rmcp service), and makes both refuse new
    /// ones.
    pub(crate) fn end_sessions(&self) {
        self.streamable.config.cancellation_token.cancel();
        self.sse.end_sessions();
    }
}

/// The MCP endpoints ([`McpEndpoints`]); 404 everywhere else.
#[derive(Clone)]
struct McpOnly {
    mcp: McpEndpoints,
}

impl McpOnly {
    /// The service for a server bound to `ip`, a loopback address.
    fn new(ip: IpAddr, era: DemoEra) -> Self {
        Self {
            mcp: McpEndpoints::new(ip, era),
        }
    }
}

impl DemoService for McpOnly {
    fn endpoints(&self) -> &McpEndpoints {
        &self.mcp
    }
}

impl hyper::service::Service<Request<Incoming>> for McpOnly {
    type Response = Response<DemoBody>;
    type Error = Infallible;
    type Future = DemoFuture;

    fn call(&self, request: Request<Incoming>) -> Self::Future {
        if !McpEndpoints::serves(request.uri().path()) {
            return Box::pin(std::future::ready(Ok(not_found())));
        }
        let mcp = self.mcp.clone();
        Box::pin(async move { Ok(mcp.handle(request).await) })
    }
}

/// Why a request body could not be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BodyError {
    TooLarge,
    Broken,
}

/// Reads a whole body, giving up as soon as it passes `limit` bytes.
pub(crate) async fn read_body<B>(body: B, limit: usize) -> Result<Bytes, BodyError>
where
    B: Body<Data = Bytes>,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    match Limited::new(body, limit).collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(error) if error.downcast_ref::<LengthLimitError>().is_some() => {
            Err(BodyError::TooLarge)
        }
        Err(_) => Err(BodyError::Broken),
    }
}

/// A plain-text response.
pub(crate) fn text(status: StatusCode, text: &'static str) -> Response<DemoBody> {
    let mut response = Response::new(Full::new(Bytes::from_static(text.as_bytes())).boxed());
    *response.status_mut() = status;
    response.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
}

/// A 405 naming the one method allowed.
pub(crate) fn method_not_allowed(allow: &'static str) -> Response<DemoBody> {
    let mut response = text(StatusCode::METHOD_NOT_ALLOWED, "method not allowed\n");
    response
        .headers_mut()
        .insert(ALLOW, HeaderValue::from_static(allow));
    response
}

/// The 404 for any path the demo does not serve.
pub(crate) fn not_found() -> Response<DemoBody> {
    let body = Full::new(Bytes::from_static(
        b"not found: the mcpcord demo serves MCP at /mcp, and over legacy HTTP+SSE at /sse\n",
    ));
    let mut response = Response::new(body.boxed());
    *response.status_mut() = StatusCode::NOT_FOUND;
    response.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
}

/// Ends the MCP sessions when serving stops, however it stops.
struct EndSessionsOnDrop(McpEndpoints);

impl Drop for EndSessionsOnDrop {
    fn drop(&mut self) {
        self.0.end_sessions();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bound_loopback_address_is_an_allowed_host_besides_the_usual_names() {
        let hosts = |ip: &str| loopback_hosts(ip.parse().expect("an IP address"));
        assert_eq!(hosts("127.0.0.1"), ["localhost", "127.0.0.1", "[::1]"]);
        assert_eq!(hosts("::1"), ["localhost", "127.0.0.1", "[::1]"]);
        assert_eq!(
            hosts("127.0.0.2"),
            ["localhost", "127.0.0.1", "[::1]", "127.0.0.2"]
        );
    }
}
