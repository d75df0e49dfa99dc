//! The OAuth demo driven by hand over plain HTTP/1.1, the way a client's requests reach it.

use std::{collections::HashMap, net::SocketAddr};

use base64::Engine as _;
use http::{HeaderMap, Method, Request, StatusCode, header};
use http_body_util::{BodyExt as _, Full};
use hyper::body::Bytes;
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};
use tokio::net::TcpStream;

use super::{DemoAuthHandle, DemoAuthOptions, DemoAuthServer};
use crate::tests::bounded;

mod clients;
mod discovery;
mod flow;
mod resource;
mod sse;

/// The redirect URI the tests' client registers; nothing listens there, as the tests read the
/// `Location` of the authorization response instead of following it.
const REDIRECT_URI: &str = "http://127.0.0.1:1/callback";

/// Starts the demo with `options` on a free loopback port.
async fn start(options: DemoAuthOptions) -> DemoAuthHandle {
    let addr = SocketAddr::from(([127, 0, 0, 1], 0));
    bounded("binding", DemoAuthServer::bind(addr, options))
        .await
        .expect("a loopback port")
        .spawn()
}

/// One HTTP response, its body read whole (or, for an event stream, up to the first JSON-RPC
/// response in it).
#[derive(Debug)]
struct Reply {
    status: StatusCode,
    headers: HeaderMap,
    body: Bytes,
}

impl Reply {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|value| value.to_str().ok())
    }

    fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|error| panic!("not JSON ({error}): {:?}", self.body))
    }

    /// The `error` of an RFC 6749 error body.
    fn error(&self) -> String {
        self.json()["error"]
            .as_str()
            .unwrap_or_else(|| panic!("no error in {:?}", self.body))
            .to_owned()
    }

    /// The JSON-RPC message of an MCP response, sent as JSON or as the first SSE event with data.
    fn message(&self) -> Value {
        if self.header("content-type") == Some("application/json") {
            return self.json();
        }
        let text = String::from_utf8_lossy(&self.body);
        let data = text
            .lines()
            .filter_map(|line| line.strip_prefix("data:"))
            .map(str::trim)
            .find(|data| !data.is_empty())
            .unwrap_or_else(|| panic!("no data event in {text:?}"));
        serde_json::from_str(data).expect("a JSON-RPC message")
    }

    /// The query parameters of the `Location` of a redirect.
    fn location_params(&self) -> HashMap<String, String> {
        assert_eq!(self.status, StatusCode::FOUND, "{self:?}");
        let location = self.header("location").expect("a Location");
        let url = url::Url::parse(location).expect("an absolute URL");
        url.query_pairs().into_owned().collect()
    }
}

/// Sends one request on a new connection.
async fn send(handle: &DemoAuthHandle, request: Request<Full<Bytes>>) -> Reply {
    let addr = handle.local_addr();
    bounded("an HTTP exchange", exchange(addr, request)).await
}

async fn exchange(addr: SocketAddr, mut request: Request<Full<Bytes>>) -> Reply {
    let stream = TcpStream::connect(addr).await.expect("the server accepts");
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .expect("an HTTP/1.1 connection");
    let driver = tokio::spawn(connection);
    request.headers_mut().insert(
        header::HOST,
        addr.to_string().parse().expect("a header value"),
    );
    let response = sender.send_request(request).await.expect("a response");
    let (parts, mut body) = response.into_parts();
    let streaming = parts
        .headers
        .get(header::CONTENT_TYPE)
        .is_some_and(|value| value.as_bytes().starts_with(b"text/event-stream"));
    let mut bytes = Vec::new();
    while let Some(frame) = body.frame().await {
        if let Ok(data) = frame.expect("a body frame").into_data() {
            bytes.extend_from_slice(&data);
        }
        // An event stream may stay open after the response: stop at the first complete event
        // with a JSON-RPC response in it.
        let text = String::from_utf8_lossy(&bytes);
        if streaming && text.contains("\"jsonrpc\"") && text.ends_with("\n\n") {
            break;
        }
    }
    driver.abort();
    Reply {
        status: parts.status,
        headers: parts.headers,
        body: Bytes::from(bytes),
    }
}

fn request(method: Method, path: &str) -> http::request::Builder {
    Request::builder().method(method).uri(path)
}

async fn get(handle: &DemoAuthHandle, path: &str) -> Reply {
    let request = request(Method::GET, path)
        .body(Full::default())
        .expect("a request");
    send(handle, request).await
}

/// POSTs a form, with HTTP Basic client credentials if given.
async fn post_form(
    handle: &DemoAuthHandle,
    path: &str,
    form: &[(&str, &str)],
    basic: Option<(&str, &str)>,
) -> Reply {
    let body = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(form)
        .finish();
    let mut builder = request(Method::POST, path)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
    if let Some((id, secret)) = basic {
        let encoded = base64::engine::general_purpose::STANDARD.encode(format!("{id}:{secret}"));
        builder = builder.header(header::AUTHORIZATION, format!("Basic {encoded}"));
    }
    let request = builder
        .body(Full::new(Bytes::from(body)))
        .expect("a request");
    send(handle, request).await
}

async fn post_json(handle: &DemoAuthHandle, path: &str, body: &Value) -> Reply {
    let request = request(Method::POST, path)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Full::new(Bytes::from(body.to_string())))
        .expect("a request");
    send(handle, request).await
}

/// POSTs a JSON-RPC message to the MCP endpoint, with a bearer token and a session if given.
async fn mcp_post(
    handle: &DemoAuthHandle,
    token: Option<&str>,
    session: Option<&str>,
    message: &Value,
) -> Reply {
    let mut builder = request(Method::POST, crate::MCP_PATH)
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::ACCEPT, "application/json, text/event-stream");
    if let Some(token) = token {
        builder = builder.header(header::AUTHORIZATION, format!("Bearer {token}"));
    }
    if let Some(session) = session {
        builder = builder
            .header("mcp-session-id", session)
            .header("mcp-protocol-version", PROTOCOL_VERSION);
    }
    let request = builder
        .body(Full::new(Bytes::from(message.to_string())))
        .expect("a request");
    send(handle, request).await
}

const PROTOCOL_VERSION: &str = "2025-06-18";

fn initialize_message() -> Value {
    json!({
        "jsonrpc": "2.0",
        "id": 1,
        "method": "initialize",
        "params": {
            "protocolVersion": PROTOCOL_VERSION,
            "capabilities": {},
            "clientInfo": { "name": "oauth-demo-test", "version": "0" },
        },
    })
}

/// Opens an MCP session with `token`: initialize, then the initialized notification. Returns the
/// session id.
async fn open_session(handle: &DemoAuthHandle, token: &str) -> String {
    let reply = mcp_post(handle, Some(token), None, &initialize_message()).await;
    assert_eq!(reply.status, StatusCode::OK, "{reply:?}");
    let session = reply
        .header("mcp-session-id")
        .expect("a session id")
        .to_owned();
    let initialized = json!({ "jsonrpc": "2.0", "method": "notifications/initialized" });
    let reply = mcp_post(handle, Some(token), Some(&session), &initialized).await;
    assert_eq!(reply.status, StatusCode::ACCEPTED, "{reply:?}");
    session
}

fn tool_call(name: &str, arguments: Value) -> Value {
    json!({
        "jsonrpc": "2.0",
        "id": 2,
        "method": "tools/call",
        "params": { "name": name, "arguments": arguments },
    })
}

/// A PKCE pair: a 43-character verifier and its S256 challenge.
fn pkce(seed: &str) -> (String, String) {
    let verifier = format!("{seed:-<43}");
    let challenge = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(Sha256::digest(verifier.as_bytes()));
    (verifier, challenge)
}

/// Registers a public client for [`REDIRECT_URI`] and returns its id.
async fn register_public(handle: &DemoAuthHandle) -> String {
    let metadata = json!({
        "client_name": "oauth demo test",
        "redirect_uris": [REDIRECT_URI],
        "token_endpoint_auth_method": "none",
        "grant_types": ["authorization_code", "refresh_token"],
        "response_types": ["code"],
    });
    let reply = post_json(handle, "/register", &metadata).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{reply:?}");
    reply.json()["client_id"]
        .as_str()
        .expect("a client id")
        .to_owned()
}

/// The authorization request's parameters for `client_id`, with the challenge of `pkce(seed)`,
/// this server's resource and `state`; `extra` replaces or adds parameters (an empty value
/// removes one).
fn authorization_query(
    handle: &DemoAuthHandle,
    client_id: &str,
    seed: &str,
    extra: &[(&str, &str)],
) -> String {
    let (_, challenge) = pkce(seed);
    let resource = handle.url();
    let mut params: Vec<(&str, &str)> = vec![
        ("response_type", "code"),
        ("client_id", client_id),
        ("redirect_uri", REDIRECT_URI),
        ("code_challenge", &challenge),
        ("code_challenge_method", "S256"),
        ("resource", &resource),
        ("state", "the-state"),
    ];
    for &(name, value) in extra {
        params.retain(|(existing, _)| *existing != name);
        if !value.is_empty() {
            params.push((name, value));
        }
    }
    url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(params)
        .finish()
}

/// `GET /authorize` with [`authorization_query`].
async fn authorize(
    handle: &DemoAuthHandle,
    client_id: &str,
    seed: &str,
    extra: &[(&str, &str)],
) -> Reply {
    let query = authorization_query(handle, client_id, seed, extra);
    get(handle, &format!("/authorize?{query}")).await
}

/// A code for a public `client_id`, with `pkce(seed)`.
async fn code_for(handle: &DemoAuthHandle, client_id: &str, seed: &str, scope: &str) -> String {
    let extra: &[(&str, &str)] = if scope.is_empty() {
        &[]
    } else {
        &[("scope", scope)]
    };
    let reply = authorize(handle, client_id, seed, extra).await;
    let params = reply.location_params();
    assert_eq!(params.get("state").map(String::as_str), Some("the-state"));
    params.get("code").expect("a code").clone()
}

/// The token request redeeming `code` for a public client, for the MCP endpoint.
async fn redeem(handle: &DemoAuthHandle, client_id: &str, code: &str, verifier: &str) -> Reply {
    redeem_for(handle, &handle.url(), client_id, code, verifier).await
}

/// The token request redeeming `code` for a public client, for `resource`.
async fn redeem_for(
    handle: &DemoAuthHandle,
    resource: &str,
    client_id: &str,
    code: &str,
    verifier: &str,
) -> Reply {
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", REDIRECT_URI),
        ("client_id", client_id),
        ("code_verifier", verifier),
        ("resource", resource),
    ];
    post_form(handle, "/token", &form, None).await
}

/// The token response for a code authorized without `resource`, as a 2025-03-26 client asks (PKCE
/// verifier of `"legacy"`).
async fn redeem_without_resource(handle: &DemoAuthHandle, client_id: &str) -> Reply {
    let authorized = authorize(handle, client_id, "legacy", &[("resource", "")]).await;
    let code = authorized.location_params()["code"].clone();
    let verifier = pkce("legacy").0;
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", REDIRECT_URI),
        ("client_id", client_id),
        ("code_verifier", verifier.as_str()),
    ];
    post_form(handle, "/token", &form, None).await
}

/// A registered public client's tokens for the MCP endpoint (scope `scope`, or the default when
/// empty): the token response's JSON.
async fn log_in(handle: &DemoAuthHandle, scope: &str) -> (String, Value) {
    log_in_to(handle, &handle.url(), scope).await
}

/// As [`log_in`], for the resource `resource` (the MCP endpoint's URL, or the SSE endpoint's).
async fn log_in_to(handle: &DemoAuthHandle, resource: &str, scope: &str) -> (String, Value) {
    let client_id = register_public(handle).await;
    let mut extra = vec![("resource", resource)];
    if !scope.is_empty() {
        extra.push(("scope", scope));
    }
    let reply = authorize(handle, &client_id, "log-in", &extra).await;
    let code = reply.location_params()["code"].clone();
    let reply = redeem_for(handle, resource, &client_id, &code, &pkce("log-in").0).await;
    assert_eq!(reply.status, StatusCode::OK, "{reply:?}");
    (client_id, reply.json())
}

fn string<'a>(value: &'a Value, name: &str) -> &'a str {
    value[name]
        .as_str()
        .unwrap_or_else(|| panic!("no {name} in {value}"))
}
