//! The streamable HTTP transport: `POST /mcp` with sessions, `DELETE /mcp` to end one, no `GET`
//! stream, and Host/Origin validation against DNS rebinding, all on a loopback address only.
//! `GET /sessions` (a test hook) answers how many sessions are open.

use std::io::Write as _;
use std::{
    collections::HashSet,
    convert::Infallible,
    hash::{BuildHasher as _, RandomState},
    io,
    net::SocketAddr,
    sync::{Arc, Mutex, PoisonError},
};

use bytes::Bytes;
use http_body_util::{BodyExt as _, Full, Limited};
use hyper::{
    Method, Request, Response, StatusCode,
    body::Incoming as Body,
    header::{self, HeaderMap, HeaderValue},
    server::conn::http1,
    service::service_fn,
};
use hyper_util::rt::TokioIo;
use serde_json::Value;
use tokio::net::TcpListener;

use super::{Incoming, MAX_MESSAGE, RpcError, Server, Violation, parse};

const SESSION: &str = "mcp-session-id";
const VERSION: &str = "mcp-protocol-version";
const LOCAL_HOSTS: [&str; 3] = ["127.0.0.1", "localhost", "[::1]"];

struct State {
    server: Server,
    port: u16,
    sessions: Mutex<HashSet<String>>,
}

type Answer = Response<Full<Bytes>>;

/// Serves `server` over streamable HTTP at `/mcp` on `addr`, which must be a loopback address, until
/// the process ends. `on_bound` gets the bound address (port 0 picks a free one) before the first
/// connection is accepted.
pub async fn serve_http(
    addr: SocketAddr,
    server: Server,
    on_bound: impl FnOnce(SocketAddr),
) -> io::Result<()> {
    if !addr.ip().is_loopback() {
        let message = format!("refusing to serve on {addr}: only loopback addresses are allowed");
        return Err(io::Error::new(io::ErrorKind::InvalidInput, message));
    }
    let listener = TcpListener::bind(addr).await?;
    let bound = listener.local_addr()?;
    on_bound(bound);
    let state = Arc::new(State {
        server,
        port: bound.port(),
        sessions: Mutex::new(HashSet::new()),
    });
    loop {
        let stream = match listener.accept().await {
            Ok((stream, _)) => stream,
            Err(error) => {
                eprintln!("accept failed: {error}");
                continue;
            }
        };
        let state = Arc::clone(&state);
        tokio::spawn(async move {
            let service = service_fn(move |request| {
                let state = Arc::clone(&state);
                async move { Ok::<_, Infallible>(handle(&state, request).await) }
            });
            let connection = http1::Builder::new().serve_connection(TokioIo::new(stream), service);
            if let Err(error) = connection.await {
                eprintln!("connection failed: {error}");
            }
        });
    }
}

async fn handle(state: &State, request: Request<Body>) -> Answer {
    if !state.server.violates(Violation::NoDnsRebinding)
        && let Err(why) = check_host_and_origin(request.headers(), state.port)
    {
        eprintln!("refused: {why}");
        // As web frameworks' host-check middleware answers: JSON, but not JSON-RPC (a checker
        // must not judge it as a message).
        return json(StatusCode::FORBIDDEN, &serde_json::json!({ "error": why }));
    }
    // A test hook beside the endpoint: how many sessions are open (a checker must leave none).
    if request.uri().path() == "/sessions" && request.method() == Method::GET {
        let open = lock(&state.sessions).len();
        let mut answer = Response::new(Full::new(Bytes::from(open.to_string())));
        *answer.status_mut() = StatusCode::OK;
        return answer;
    }
    if request.uri().path() != "/mcp" {
        return plain(StatusCode::NOT_FOUND, "the MCP endpoint is /mcp");
    }
    match *request.method() {
        Method::POST => post(state, request).await,
        Method::DELETE => match session(state, request.headers()) {
            Ok(id) => {
                lock(&state.sessions).remove(&id);
                plain(StatusCode::OK, "")
            }
            Err((status, why)) => refuse(&state.server, status, why),
        },
        _ => {
            let mut answer = plain(
                StatusCode::METHOD_NOT_ALLOWED,
                "use POST, or DELETE to end a session",
            );
            answer
                .headers_mut()
                .insert(header::ALLOW, HeaderValue::from_static("POST, DELETE"));
            answer
        }
    }
}

async fn post(state: &State, request: Request<Body>) -> Answer {
    let server = &state.server;
    let is_json = header_str(request.headers(), header::CONTENT_TYPE.as_str())
        .is_some_and(|value| value.starts_with("application/json"));
    if !is_json {
        let why = "Content-Type must be application/json";
        return refuse(server, StatusCode::UNSUPPORTED_MEDIA_TYPE, why);
    }
    let headers = request.headers().clone();
    let body = match Limited::new(request.into_body(), MAX_MESSAGE)
        .collect()
        .await
    {
        Ok(body) => body.to_bytes(),
        Err(error) => {
            eprintln!("reading a body failed: {error}");
            return refuse(
                server,
                StatusCode::PAYLOAD_TOO_LARGE,
                "body too large or unreadable",
            );
        }
    };
    let (id, method, params) = match parse(&body) {
        Incoming::Invalid { id, error } => {
            if server.dies_of(&error) {
                eprintln!("malformed input: crashing, as --violate dies-on-bad-input asks");
                std::process::exit(1);
            }
            return json(StatusCode::BAD_REQUEST, &server.error_response(id, error));
        }
        Incoming::Request { id, method, params } => (id, method, params),
        Incoming::Notification { .. } | Incoming::Response => {
            return match session(state, &headers) {
                Ok(_) => plain(StatusCode::ACCEPTED, ""),
                Err((status, why)) => refuse(server, status, why),
            };
        }
    };
    if method == "initialize" {
        let reply = server.reply(id, &method, &params);
        let mut answer = json(StatusCode::OK, &reply.response);
        if reply.response.get("result").is_some() {
            let session = new_session_id();
            lock(&state.sessions).insert(session.clone());
            if let Ok(value) = HeaderValue::from_str(&session) {
                answer.headers_mut().insert(SESSION, value);
            }
        }
        return answer;
    }
    if let Err((status, why)) = session(state, &headers) {
        return refuse(server, status, why);
    }
    if let Some(version) = header_str(&headers, VERSION)
        && !server.accepts_version(version)
    {
        return refuse(
            server,
            StatusCode::BAD_REQUEST,
            "unsupported MCP-Protocol-Version",
        );
    }
    let reply = server.reply(id, &method, &params);
    if let Some(stray) = reply.stray_after {
        // Nobody may be reading stdout over HTTP (the test harness stops after the address), and
        // a log line must not take the request down with a broken pipe.
        let _ = writeln!(std::io::stdout(), "{stray}");
    }
    if reply.before.is_empty() {
        return json(StatusCode::OK, &reply.response);
    }
    let mut stream = String::new();
    for message in reply.before.iter().chain([&reply.response]) {
        stream.push_str(&format!("event: message\ndata: {message}\n\n"));
    }
    let mut answer = Response::new(Full::new(Bytes::from(stream)));
    let sse = HeaderValue::from_static("text/event-stream");
    answer.headers_mut().insert(header::CONTENT_TYPE, sse);
    answer
}

/// The request's session id, or why not: 400 without one, 404 for one unknown or ended.
fn session(state: &State, headers: &HeaderMap) -> Result<String, (StatusCode, &'static str)> {
    let Some(id) = header_str(headers, SESSION) else {
        return Err((StatusCode::BAD_REQUEST, "Mcp-Session-Id header is required"));
    };
    if lock(&state.sessions).contains(id) {
        Ok(id.to_owned())
    } else {
        Err((StatusCode::NOT_FOUND, "session not found"))
    }
}

/// An HTTP-level refusal, with a JSON-RPC error body (id null, code -32000).
fn refuse(server: &Server, status: StatusCode, why: &str) -> Answer {
    let error = RpcError {
        code: -32000,
        message: why.into(),
    };
    json(status, &server.error_response(Value::Null, error))
}

/// DNS-rebinding protection: the Host must be this server's loopback address and port, and an Origin,
/// when present, a loopback one (any port).
fn check_host_and_origin(headers: &HeaderMap, port: u16) -> Result<(), &'static str> {
    let host = header_str(headers, header::HOST.as_str()).ok_or("missing Host header")?;
    let host_ok = LOCAL_HOSTS
        .iter()
        .any(|local| host.eq_ignore_ascii_case(&format!("{local}:{port}")));
    if !host_ok {
        return Err("Host is not this loopback server");
    }
    let Some(origin) = headers.get(header::ORIGIN) else {
        return Ok(());
    };
    let origin = origin
        .to_str()
        .map_err(|_| "Origin is not ASCII")?
        .to_ascii_lowercase();
    let rest = origin
        .strip_prefix("http://")
        .or_else(|| origin.strip_prefix("https://"));
    let origin_ok = rest.is_some_and(|rest| {
        LOCAL_HOSTS
            .iter()
            .any(|local| match rest.strip_prefix(local) {
                Some("") => true,
                Some(port) => port.strip_prefix(':').is_some_and(|digits| {
                    !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())
                }),
                None => false,
            })
    });
    if origin_ok {
        Ok(())
    } else {
        Err("Origin is not a loopback origin")
    }
}

fn header_str<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|value| value.to_str().ok())
}

/// 128 random bits as 32 hex digits: visible ASCII, as the spec requires.
fn new_session_id() -> String {
    let random = RandomState::new();
    format!(
        "{:016x}{:016x}",
        random.hash_one(1_u8),
        random.hash_one(2_u8)
    )
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

fn json(status: StatusCode, message: &Value) -> Answer {
    let mut answer = Response::new(Full::new(Bytes::from(message.to_string())));
    *answer.status_mut() = status;
    let content_type = HeaderValue::from_static("application/json");
    answer
        .headers_mut()
        .insert(header::CONTENT_TYPE, content_type);
    answer
}

fn plain(status: StatusCode, text: &'static str) -> Answer {
    let mut answer = Response::new(Full::new(Bytes::from_static(text.as_bytes())));
    *answer.status_mut() = status;
    answer
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(host: &str, origin: Option<&str>) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(header::HOST, HeaderValue::from_str(host).expect("ascii"));
        if let Some(origin) = origin {
            headers.insert(
                header::ORIGIN,
                HeaderValue::from_str(origin).expect("ascii"),
            );
        }
        headers
    }

    #[test]
    fn only_loopback_hosts_and_origins_pass() {
        assert!(check_host_and_origin(&headers("127.0.0.1:8080", None), 8080).is_ok());
        assert!(
            check_host_and_origin(&headers("[::1]:8080", Some("http://localhost:3000")), 8080)
                .is_ok()
        );
        assert!(check_host_and_origin(&headers("evil.example.com", None), 8080).is_err());
        assert!(check_host_and_origin(&headers("localhost:8081", None), 8080).is_err());
        let evil = headers("localhost:8080", Some("http://evil.example.com"));
        assert!(check_host_and_origin(&evil, 8080).is_err());
        let sneaky = headers("localhost:8080", Some("http://localhost.evil.com"));
        assert!(check_host_and_origin(&sneaky, 8080).is_err());
    }
}
