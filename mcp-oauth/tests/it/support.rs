//! What the modules of this test binary share: a scripted HTTP stub server on 127.0.0.1, a direct
//! HTTP client, authorization server metadata, form decoding and scratch directories.
//!
//! The workspace's shared test helpers (`mcp-tests`) depend on this crate, so it keeps its own.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use mcp_oauth::discovery::ServerMetadata;
use mcp_transport::http::{HttpClient, HttpOptions, ProxyConfig};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use url::Url;

/// One request as the stub saw it.
#[derive(Debug, Clone)]
pub(crate) struct Request {
    pub(crate) method: String,
    /// The request target: path and query.
    pub(crate) target: String,
    /// The request line and headers, as sent, up to and including the blank line.
    pub(crate) head: String,
    /// Header names lowercased.
    pub(crate) headers: HashMap<String, String>,
    pub(crate) body: String,
}

impl Request {
    /// The body decoded as `application/x-www-form-urlencoded`.
    pub(crate) fn form(&self) -> HashMap<String, String> {
        form(&self.body)
    }
}

/// What the stub answers to one request.
#[derive(Debug, Clone)]
pub(crate) struct Response {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl Response {
    /// `status` with an empty body and no other headers.
    pub(crate) fn status(status: u16) -> Self {
        Self {
            status,
            headers: Vec::new(),
            body: String::new(),
        }
    }

    /// `status` with `body` as `application/json`.
    pub(crate) fn json(status: u16, body: impl Into<String>) -> Self {
        Self::status(status)
            .header("content-type", "application/json")
            .body(body)
    }

    /// Adds a header.
    pub(crate) fn header(mut self, name: &str, value: impl std::fmt::Display) -> Self {
        self.headers.push((name.to_owned(), value.to_string()));
        self
    }

    /// Sets the body (its `content-length` is added when sent).
    pub(crate) fn body(mut self, body: impl Into<String>) -> Self {
        self.body = body.into();
        self
    }

    fn to_http(&self) -> String {
        let mut response = format!("HTTP/1.1 {} Scripted\r\n", self.status);
        for (name, value) in &self.headers {
            response.push_str(&format!("{name}: {value}\r\n"));
        }
        response.push_str(&format!(
            "content-length: {}\r\nconnection: close\r\n\r\n{}",
            self.body.len(),
            self.body
        ));
        response
    }
}

/// A scripted HTTP/1.1 server on 127.0.0.1: one connection at a time, each answered by the route
/// and closed. Records every request.
pub(crate) struct Stub {
    /// `http://127.0.0.1:PORT`, without a trailing slash.
    pub(crate) base: String,
    seen: Arc<Mutex<Vec<Request>>>,
}

impl Stub {
    /// Answers each request with `route(request, base)`; `base` is [`Stub::base`].
    pub(crate) async fn start(route: impl Fn(&Request, &str) -> Response + Send + 'static) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind loopback");
        let base = format!("http://{}", listener.local_addr().expect("address"));
        let seen: Arc<Mutex<Vec<Request>>> = Arc::default();
        let log = Arc::clone(&seen);
        let own = base.clone();
        tokio::spawn(async move {
            while let Ok((mut stream, _)) = listener.accept().await {
                let request = read_request(&mut stream).await;
                let response = route(&request, &own);
                log.lock().expect("log").push(request);
                let _ = stream.write_all(response.to_http().as_bytes()).await;
            }
        });
        Self { base, seen }
    }

    /// Answers every request with `status` and the JSON `body`.
    pub(crate) async fn json(status: u16, body: impl Into<String>) -> Self {
        let response = Response::json(status, body);
        Self::start(move |_, _| response.clone()).await
    }

    /// The base as a URL, `http://127.0.0.1:PORT/`.
    pub(crate) fn url(&self) -> Url {
        Url::parse(&self.base).expect("a URL")
    }

    /// `path` (starting with `/`) on this server.
    pub(crate) fn join(&self, path: &str) -> Url {
        self.url().join(path).expect("a URL")
    }

    /// The requests so far, in order.
    pub(crate) fn requests(&self) -> Vec<Request> {
        self.seen.lock().expect("log").clone()
    }

    /// The first request; panics when there was none.
    pub(crate) fn first(&self) -> Request {
        self.requests().into_iter().next().expect("a request")
    }

    /// The request targets (path and query) so far, in order.
    pub(crate) fn targets(&self) -> Vec<String> {
        self.requests()
            .into_iter()
            .map(|request| request.target)
            .collect()
    }
}

/// Reads one request: the head byte by byte up to the blank line, then `Content-Length` bytes.
async fn read_request(stream: &mut tokio::net::TcpStream) -> Request {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if stream.read(&mut byte).await.unwrap_or(0) == 0 {
            break;
        }
        head.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&head).into_owned();
    let mut request_line = head.lines().next().unwrap_or("").split_whitespace();
    let method = request_line.next().unwrap_or("").to_owned();
    let target = request_line.next().unwrap_or("/").to_owned();
    let headers: HashMap<String, String> = head
        .lines()
        .skip(1)
        .filter_map(|line| {
            let (name, value) = line.split_once(':')?;
            Some((name.trim().to_ascii_lowercase(), value.trim().to_owned()))
        })
        .collect();
    let length: usize = headers
        .get("content-length")
        .and_then(|value| value.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0u8; length];
    let _ = stream.read_exact(&mut body).await;
    Request {
        method,
        target,
        head,
        headers,
        body: String::from_utf8_lossy(&body).into_owned(),
    }
}

/// An HTTP client that never uses a proxy.
pub(crate) fn http() -> HttpClient {
    let mut options = HttpOptions::default();
    options.proxy = ProxyConfig::Direct;
    HttpClient::new(options).expect("a client")
}

/// An authorization server at `base` offering S256, with `/authorize` and `/token`.
pub(crate) fn metadata(base: &str) -> ServerMetadata {
    metadata_with(base, serde_json::json!({}))
}

/// [`metadata`] with the fields of the `extra` object added.
pub(crate) fn metadata_with(base: &str, extra: serde_json::Value) -> ServerMetadata {
    let mut document = serde_json::json!({
        "issuer": base,
        "authorization_endpoint": format!("{base}/authorize"),
        "token_endpoint": format!("{base}/token"),
        "code_challenge_methods_supported": ["S256"],
    });
    if let (Some(document), Some(extra)) = (document.as_object_mut(), extra.as_object()) {
        document.extend(extra.clone());
    }
    serde_json::from_value(document).expect("metadata")
}

/// Decodes an `application/x-www-form-urlencoded` body.
pub(crate) fn form(body: &str) -> HashMap<String, String> {
    url::form_urlencoded::parse(body.as_bytes())
        .into_owned()
        .collect()
}

/// A fresh, private (mode 0700) directory under the system temp dir, removed on drop; `label` and a
/// counter in its name keep tests running side by side apart.
pub(crate) struct TempDir(PathBuf);

impl TempDir {
    pub(crate) fn new(label: &str) -> Self {
        use std::os::unix::fs::PermissionsExt;
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let path = std::env::temp_dir().join(format!(
            "mcp-oauth-{label}-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir(&path).expect("create the temp dir");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o700)).expect("chmod");
        Self(path)
    }

    pub(crate) fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
