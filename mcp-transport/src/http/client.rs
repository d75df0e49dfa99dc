//! The one shared HTTP client: hyper-util's pooled client over rustls, with proxies and timeouts.
//!
//! - TLS is rustls with ring; the webpki roots plus the platform's, loaded once per process, plus
//!   an optional extra CA file.
//! - Proxies come from the environment (or the options), https through CONNECT tunnels.
//! - Names are resolved by our own getaddrinfo resolver, so a DNS failure has a type (a temporary
//!   one is retryable, a name that does not exist is not).
//! - Redirects: same-origin 307/308 only, at most [`MAX_REDIRECTS`]; anything else would carry the
//!   session and credentials to another origin.
//! - At most 16 idle pooled connections per host by default.
//! - Errors become [`TransportError`]s by walking the source chain's types, never its text.
//! - After each write the socket leaves the kernel's delayed-ACK mode (`TCP_QUICKACK`, Linux): the
//!   one socket option set beyond `TCP_NODELAY`, against a 40 ms stall per call with servers that
//!   do not set `TCP_NODELAY`; rustix sets it without `unsafe`, one `setsockopt` per write (the
//!   whole story is on `ConnectedIo::acknowledge_promptly`).

use std::error::Error as StdError;
use std::io;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use futures::future::BoxFuture;
use http::{Request, Response, StatusCode, Uri};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::rt::{Read, ReadBufCursor, Write};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::dns::Name;
use hyper_util::client::legacy::connect::proxy::Tunnel;
use hyper_util::client::legacy::connect::{Connected, Connection, HttpConnector};
use hyper_util::client::proxy::matcher::Matcher;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use tokio::net::TcpStream;
use tower_service::Service;

use crate::error::{TimeoutPhase, TransportError};

/// The most same-origin 307/308 redirects followed for one request.
pub const MAX_REDIRECTS: usize = 10;

/// Where proxies come from.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum ProxyConfig {
    /// `HTTPS_PROXY`, `HTTP_PROXY`, `ALL_PROXY` and `NO_PROXY` (upper or lower case), read once when
    /// the client is built.
    #[default]
    FromEnv,
    /// Connect directly, whatever the environment says.
    Direct,
    /// These proxies and exclusions, in the same syntax as the environment variables.
    Explicit {
        /// The proxy for `http://` URLs.
        http: Option<String>,
        /// The proxy for `https://` URLs (tunnelled with CONNECT).
        https: Option<String>,
        /// Hosts, domains and networks reached directly (`NO_PROXY` syntax).
        no_proxy: Option<String>,
    },
}

/// How the shared HTTP client connects.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct HttpOptions {
    /// The limit on opening a TCP connection. Default 10 s.
    pub connect_timeout: Duration,
    /// The limit on waiting for a response's headers (and a JSON body). Streams are not limited.
    /// Default 60 s.
    pub request_timeout: Duration,
    /// The limit on the DELETE that ends a session. Default 2 s.
    pub close_timeout: Duration,
    /// A PEM file of extra trusted CA certificates, on top of the webpki and platform roots.
    pub extra_ca_file: Option<PathBuf>,
    /// The `User-Agent` header. Default `mcpcord/<version>`.
    pub user_agent: String,
    /// Where proxies come from. Default: the environment.
    pub proxy: ProxyConfig,
    /// How long an idle pooled connection is kept. Default 90 s.
    pub pool_idle_timeout: Duration,
    /// How many idle connections are kept per host. Default 16: enough for bursts of parallel
    /// requests; each one kept costs buffers and a task, so a burst of connects to one server
    /// (discovery asks for four lists at once) does not leave hundreds behind.
    pub pool_max_idle_per_host: usize,
}

impl Default for HttpOptions {
    fn default() -> Self {
        Self {
            connect_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(60),
            close_timeout: Duration::from_secs(2),
            extra_ca_file: None,
            user_agent: concat!("mcpcord/", env!("CARGO_PKG_VERSION")).to_owned(),
            proxy: ProxyConfig::FromEnv,
            pool_idle_timeout: Duration::from_secs(90),
            pool_max_idle_per_host: 16,
        }
    }
}

/// Why the HTTP client could not be built.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum HttpClientBuildError {
    /// The extra CA file could not be read or held no usable certificate.
    #[error("extra CA file {path}: {reason}")]
    CaFile {
        /// The file.
        path: PathBuf,
        /// What was wrong.
        reason: String,
    },
    /// The `User-Agent` is not a valid header value.
    #[error("invalid User-Agent {0:?}")]
    UserAgent(String),
}

type PooledClient = Client<HttpsConnector<Connector>, Full<Bytes>>;

/// One HTTP client for every connection: a keep-alive pool over TLS (rustls with ring; webpki and
/// platform roots), HTTP/1.1 and HTTP/2 by ALPN, `TCP_NODELAY`, connect and request timeouts, and
/// proxies. Cloning is cheap and shares the pool.
///
/// Use [`HttpClient::streamable`] to get the per-server client rmcp's streamable HTTP transport runs on.
#[derive(Clone)]
pub struct HttpClient {
    inner: Arc<Inner>,
}

struct Inner {
    client: PooledClient,
    proxy: Arc<Matcher>,
    options: HttpOptions,
    user_agent: http::HeaderValue,
}

impl std::fmt::Debug for HttpClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpClient")
            .field("options", &self.inner.options)
            .finish_non_exhaustive()
    }
}

impl HttpClient {
    /// Builds a client. Must be called inside a tokio runtime only when it is used, not built.
    ///
    /// # Errors
    /// [`HttpClientBuildError`] for an unreadable or empty extra CA file or an invalid User-Agent.
    pub fn new(options: HttpOptions) -> Result<Self, HttpClientBuildError> {
        let user_agent = http::HeaderValue::from_str(&options.user_agent)
            .map_err(|_| HttpClientBuildError::UserAgent(options.user_agent.clone()))?;
        let tls = tls_config(options.extra_ca_file.as_ref())?;
        let proxy = Arc::new(proxy_matcher(&options.proxy));
        let mut http = HttpConnector::new_with_resolver(Resolver);
        http.set_nodelay(true);
        http.enforce_http(false);
        http.set_connect_timeout(Some(options.connect_timeout));
        let connector = Connector {
            http,
            proxy: Arc::clone(&proxy),
        };
        let https = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(tls)
            .https_or_http()
            .enable_http1()
            .enable_http2()
            .wrap_connector(connector);
        let client = Client::builder(TokioExecutor::new())
            .timer(TokioTimer::new())
            .pool_timer(TokioTimer::new())
            .pool_idle_timeout(options.pool_idle_timeout)
            .pool_max_idle_per_host(options.pool_max_idle_per_host)
            .build(https);
        Ok(Self {
            inner: Arc::new(Inner {
                client,
                proxy,
                options,
                user_agent,
            }),
        })
    }

    /// The options this client was built with.
    pub fn options(&self) -> &HttpOptions {
        &self.inner.options
    }

    /// Sends `request`, following only same-origin 307/308 redirects (at most [`MAX_REDIRECTS`]), and
    /// returns once the response headers arrive, within `timeout`. The body is left to the caller to
    /// read as it arrives (an event stream), bounded by the caller.
    ///
    /// # Errors
    /// The transport's errors: connect, TLS, proxy, timeout, too many redirects.
    pub async fn send(
        &self,
        request: Request<Full<Bytes>>,
        timeout: Duration,
    ) -> Result<Response<Incoming>, TransportError> {
        let (mut parts, body) = request.into_parts();
        parts
            .headers
            .entry(http::header::USER_AGENT)
            .or_insert_with(|| self.inner.user_agent.clone());
        for _hop in 0..=MAX_REDIRECTS {
            let mut attempt = Request::from_parts(parts.clone(), body.clone());
            self.add_proxy_authorization(&mut attempt);
            let uri = attempt.uri().clone();
            let response =
                match tokio::time::timeout(timeout, self.inner.client.request(attempt)).await {
                    Ok(Ok(response)) => response,
                    Ok(Err(error)) => {
                        return Err(classify_client_error(&error, &uri, &self.inner.options));
                    }
                    Err(_) => {
                        return Err(TransportError::Timeout {
                            phase: TimeoutPhase::Request,
                            after: timeout,
                        });
                    }
                };
            if !matches!(
                response.status(),
                StatusCode::TEMPORARY_REDIRECT | StatusCode::PERMANENT_REDIRECT
            ) {
                return Ok(response);
            }
            match same_origin_location(&uri, &response) {
                Some(next) => {
                    tracing::debug!(from = %uri, to = %next, "following same-origin redirect");
                    parts.uri = next;
                }
                // A redirect elsewhere would carry the session and credentials to another origin.
                None => return Ok(response),
            }
        }
        Err(TransportError::Protocol {
            detail: format!("more than {MAX_REDIRECTS} redirects"),
        })
    }

    /// One plain HTTP exchange with a bounded body, for the OAuth flow's metadata, registration and
    /// token requests: same-origin 307/308 only, the request timeout around headers and body, and a
    /// response body of at most `max_body` bytes.
    ///
    /// # Errors
    /// The transport's errors; [`TransportError::MessageTooLarge`] for a longer body.
    pub async fn fetch(
        &self,
        request: Request<Vec<u8>>,
        max_body: usize,
    ) -> Result<Response<Vec<u8>>, TransportError> {
        let timeout = self.inner.options.request_timeout;
        let (parts, body) = request.into_parts();
        let request = Request::from_parts(parts, Full::new(Bytes::from(body)));
        let exchange = async {
            let (parts, body) = self.send(request, timeout).await?.into_parts();
            Ok(Response::from_parts(
                parts,
                collect_bounded(body, max_body).await?,
            ))
        };
        tokio::time::timeout(timeout, exchange)
            .await
            .unwrap_or(Err(TransportError::Timeout {
                phase: TimeoutPhase::Request,
                after: timeout,
            }))
    }

    fn add_proxy_authorization(&self, request: &mut Request<Full<Bytes>>) {
        // CONNECT tunnels carry their own credentials; a plain-http proxy needs them on each request.
        if request.uri().scheme() != Some(&http::uri::Scheme::HTTP) {
            return;
        }
        if let Some(auth) = self
            .inner
            .proxy
            .intercept(request.uri())
            .and_then(|intercept| intercept.basic_auth().cloned())
        {
            request
                .headers_mut()
                .insert(http::header::PROXY_AUTHORIZATION, auth);
        }
    }
}

/// Reads a whole body, refusing it as soon as it passes `max` bytes (never after buffering more).
///
/// # Errors
/// [`TransportError::MessageTooLarge`], or an I/O error if the connection breaks.
pub(crate) async fn collect_bounded(
    mut body: Incoming,
    max: usize,
) -> Result<Vec<u8>, TransportError> {
    use http_body_util::BodyExt;
    let mut bytes = Vec::new();
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|error| {
            TransportError::io("reading an HTTP response body", io::Error::other(error))
        })?;
        if let Ok(data) = frame.into_data() {
            if data.len() > max - bytes.len() {
                return Err(TransportError::MessageTooLarge {
                    what: "an HTTP response body",
                    limit: max,
                });
            }
            bytes.extend_from_slice(&data);
        }
    }
    Ok(bytes)
}

fn same_origin_location(current: &Uri, response: &Response<Incoming>) -> Option<Uri> {
    let location = response
        .headers()
        .get(http::header::LOCATION)?
        .to_str()
        .ok()?;
    let base = url::Url::parse(&current.to_string()).ok()?;
    let next = base.join(location).ok()?;
    (next.origin() == base.origin())
        .then(|| next.as_str().parse().ok())
        .flatten()
}

/// The rustls configuration: ring, webpki roots, the platform's roots (loaded once per process) and
/// the extra CA file.
fn tls_config(
    extra_ca_file: Option<&PathBuf>,
) -> Result<rustls::ClientConfig, HttpClientBuildError> {
    let mut roots = base_roots().clone();
    if let Some(path) = extra_ca_file {
        use rustls::pki_types::CertificateDer;
        use rustls::pki_types::pem::PemObject;
        let ca_error = |reason: String| HttpClientBuildError::CaFile {
            path: path.clone(),
            reason,
        };
        let certificates = CertificateDer::pem_file_iter(path)
            .map_err(|error| ca_error(error.to_string()))?
            .collect::<Result<Vec<_>, _>>()
            .map_err(|error| ca_error(error.to_string()))?;
        if certificates.is_empty() {
            return Err(ca_error("no PEM certificate in it".to_owned()));
        }
        for certificate in certificates {
            roots
                .add(certificate)
                .map_err(|error| ca_error(error.to_string()))?;
        }
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|error| HttpClientBuildError::CaFile {
            path: PathBuf::new(),
            reason: error.to_string(),
        })?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(config)
}

fn base_roots() -> &'static rustls::RootCertStore {
    static ROOTS: OnceLock<rustls::RootCertStore> = OnceLock::new();
    ROOTS.get_or_init(|| {
        let mut roots = rustls::RootCertStore::empty();
        roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        let native = rustls_native_certs::load_native_certs();
        for error in &native.errors {
            tracing::debug!(%error, "could not load some platform certificates");
        }
        let (added, ignored) = roots.add_parsable_certificates(native.certs);
        tracing::debug!(added, ignored, "loaded platform certificates");
        roots
    })
}

fn proxy_matcher(config: &ProxyConfig) -> Matcher {
    match config {
        ProxyConfig::FromEnv => Matcher::from_env(),
        ProxyConfig::Direct => Matcher::builder().build(),
        ProxyConfig::Explicit {
            http,
            https,
            no_proxy,
        } => {
            let mut builder = Matcher::builder();
            if let Some(http) = http {
                builder = builder.http(http.clone());
            }
            if let Some(https) = https {
                builder = builder.https(https.clone());
            }
            if let Some(no_proxy) = no_proxy {
                builder = builder.no(no_proxy.clone());
            }
            builder.build()
        }
    }
}

/// A DNS failure, kept as its own type so errors are classified by type, never by message.
#[derive(Debug, thiserror::Error)]
#[error("could not resolve {host}: {detail}")]
struct DnsError {
    host: String,
    detail: String,
    /// The resolver said to try again (EAI_AGAIN: no answer yet, or a SERVFAIL).
    temporary: bool,
}

/// Resolves names with getaddrinfo on tokio's blocking pool, keeping its error code, so a temporary
/// failure can be retried and a name that does not exist cannot.
#[derive(Debug, Clone, Copy)]
struct Resolver;

impl Service<Name> for Resolver {
    type Response = std::vec::IntoIter<SocketAddr>;
    type Error = DnsError;
    type Future = BoxFuture<'static, Result<Self::Response, DnsError>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), DnsError>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, name: Name) -> Self::Future {
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let lookup = {
                let host = host.clone();
                tokio::task::spawn_blocking(move || resolve(&host))
            };
            match lookup.await {
                Ok(Ok(addresses)) => Ok(addresses.into_iter()),
                Ok(Err(error)) => Err(DnsError {
                    host,
                    detail: error.to_string(),
                    temporary: matches!(error.kind(), dns_lookup::LookupErrorKind::Again),
                }),
                Err(join) => Err(DnsError {
                    host,
                    detail: join.to_string(),
                    temporary: false,
                }),
            }
        })
    }
}

fn resolve(host: &str) -> Result<Vec<SocketAddr>, dns_lookup::LookupError> {
    let mut addresses: Vec<SocketAddr> = Vec::new();
    for entry in dns_lookup::getaddrinfo(Some(host), None, None)? {
        // Entries repeat per socket type; an unreadable one is skipped, not fatal.
        if let Ok(entry) = entry
            && !addresses.contains(&entry.sockaddr)
        {
            addresses.push(entry.sockaddr);
        }
    }
    Ok(addresses)
}

/// Connects directly, through a CONNECT tunnel (https via a proxy), or to a plain-http proxy.
#[derive(Clone)]
struct Connector {
    http: HttpConnector<Resolver>,
    proxy: Arc<Matcher>,
}

type BoxError = Box<dyn StdError + Send + Sync>;

impl Service<Uri> for Connector {
    type Response = ConnectedIo;
    type Error = BoxError;
    type Future = BoxFuture<'static, Result<ConnectedIo, BoxError>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        self.http.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, destination: Uri) -> Self::Future {
        let mut http = self.http.clone();
        let intercept = self.proxy.intercept(&destination);
        Box::pin(async move {
            match intercept {
                None => Ok(ConnectedIo {
                    io: http.call(destination).await?,
                    via_http_proxy: false,
                }),
                Some(proxy) if destination.scheme() == Some(&http::uri::Scheme::HTTPS) => {
                    let mut tunnel = Tunnel::new(proxy.uri().clone(), http);
                    if let Some(auth) = proxy.basic_auth() {
                        tunnel = tunnel.with_auth(auth.clone());
                    }
                    Ok(ConnectedIo {
                        io: tunnel.call(destination).await?,
                        via_http_proxy: false,
                    })
                }
                Some(proxy) => Ok(ConnectedIo {
                    io: http.call(proxy.uri().clone()).await?,
                    via_http_proxy: true,
                }),
            }
        })
    }
}

/// A TCP connection that knows whether it leads to a plain-http proxy (so requests on it use the
/// absolute form).
struct ConnectedIo {
    io: TokioIo<TcpStream>,
    via_http_proxy: bool,
}

impl ConnectedIo {
    /// Leaves the kernel's delayed-ACK ("pingpong") mode after each write, so that what the server
    /// sends back is acknowledged at once.
    ///
    /// Why: Linux delays an ACK for up to 40 ms on a connection it deems interactive, which it
    /// does whenever the application writes soon after it last received, as every keep-alive
    /// client does when it sends its next request. Most servers write a response's headers and
    /// its body separately (an SSE response's headers go out before the first event exists), and
    /// a server without `TCP_NODELAY` (rmcp's own on axum, as it ships) holds the body back until
    /// the headers are acknowledged (Nagle). Together they stalled every other call by 40 ms:
    /// 45 calls/s where a fresh connection per request gets 2,000. The alternatives are worse or
    /// impossible: a connection per request pays a TCP (and TLS) handshake each time; HTTP/1.1
    /// has nothing to send that would carry the ACK; stock servers offer no HTTP/2 over plain
    /// TCP. `TCP_QUICKACK` is not sticky, hence once per write; it costs one `setsockopt`.
    fn acknowledge_promptly(&self) {
        #[cfg(any(target_os = "linux", target_os = "android"))]
        {
            let _ = rustix::net::sockopt::set_tcp_quickack(self.io.inner(), true);
        }
    }
}

impl Connection for ConnectedIo {
    fn connected(&self) -> Connected {
        self.io.connected().proxy(self.via_http_proxy)
    }
}

impl Read for ConnectedIo {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: ReadBufCursor<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_read(cx, buf)
    }
}

impl Write for ConnectedIo {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let written = Pin::new(&mut this.io).poll_write(cx, buf);
        if matches!(written, Poll::Ready(Ok(_))) {
            this.acknowledge_promptly();
        }
        written
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_shutdown(cx)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let written = Pin::new(&mut this.io).poll_write_vectored(cx, bufs);
        if matches!(written, Poll::Ready(Ok(_))) {
            this.acknowledge_promptly();
        }
        written
    }
}

/// Turns a hyper-util client error into a [`TransportError`] by the types in its source chain.
pub(crate) fn classify_client_error(
    error: &hyper_util::client::legacy::Error,
    uri: &Uri,
    options: &HttpOptions,
) -> TransportError {
    let host = uri.host().unwrap_or_default().to_owned();
    let address = match (uri.host(), uri.port_u16()) {
        (Some(host), Some(port)) => format!("{host}:{port}"),
        (Some(host), None) if uri.scheme() == Some(&http::uri::Scheme::HTTPS) => {
            format!("{host}:443")
        }
        (Some(host), None) => format!("{host}:80"),
        _ => uri.to_string(),
    };
    let mut cause: Option<&(dyn StdError + 'static)> = Some(error);
    while let Some(current) = cause {
        if let Some(dns) = current.downcast_ref::<DnsError>() {
            return TransportError::Dns {
                host: dns.host.clone(),
                detail: dns.detail.clone(),
                temporary: dns.temporary,
            };
        }
        if let Some(tls) = current.downcast_ref::<rustls::Error>() {
            return TransportError::Tls {
                host,
                detail: tls.to_string(),
            };
        }
        if let Some(io_error) = current.downcast_ref::<io::Error>() {
            // A wrapping io::Error (TLS, proxy) hides its payload from `source()`: look inside it.
            if let Some(inner) = io_error.get_ref() {
                cause = Some(inner);
                continue;
            }
            return match io_error.kind() {
                io::ErrorKind::ConnectionRefused => TransportError::ConnectionRefused { address },
                io::ErrorKind::TimedOut if error.is_connect() => TransportError::Timeout {
                    phase: TimeoutPhase::Connect,
                    after: options.connect_timeout,
                },
                _ => TransportError::io(format!("HTTP request to {address}"), clone_io(io_error)),
            };
        }
        cause = current.source();
    }
    let context = if error.is_connect() {
        format!("connecting to {address}")
    } else {
        format!("HTTP request to {address}")
    };
    TransportError::io(context, io::Error::other(error_chain(error)))
}

fn clone_io(error: &io::Error) -> io::Error {
    io::Error::new(error.kind(), error.to_string())
}

/// The messages of an error and its sources, joined: for errors whose types say nothing more.
fn error_chain(error: &(dyn StdError + 'static)) -> String {
    let mut text = error.to_string();
    let mut cause = error.source();
    while let Some(current) = cause {
        text.push_str(": ");
        text.push_str(&current.to_string());
        cause = current.source();
    }
    text
}
