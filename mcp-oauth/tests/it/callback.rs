//! The loopback callback server, driven over real TCP on 127.0.0.1 by a tiny HTTP/1.1 client.

use std::io;
use std::time::Duration;

use mcp_oauth::callback::{
    Authorization, CallbackError, CallbackOptions, CallbackServer, DEFAULT_TIMEOUT,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::task::JoinHandle;

const STATE: &str = "0123456789abcdef0123456789abcdef";

struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl Reply {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }
}

/// One request on a fresh connection (`Connection: close`), read to the end.
async fn send(port: u16, method: &str, target: &str) -> Reply {
    let head = format!(
        "{method} {target} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n"
    );
    send_raw(port, head.as_bytes()).await
}

/// `bytes` as they are on a fresh connection, and the reply read to the end.
async fn send_raw(port: u16, bytes: &[u8]) -> Reply {
    let mut stream = TcpStream::connect(("127.0.0.1", port))
        .await
        .expect("connect to the callback server");
    stream.write_all(bytes).await.expect("write");
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).await.expect("read");
    let text = String::from_utf8(raw).expect("UTF-8 response");
    let (head, body) = text.split_once("\r\n\r\n").expect("a complete response");
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|line| line.split(' ').nth(1))
        .and_then(|code| code.parse().ok())
        .expect("a status line");
    let headers = lines
        .filter_map(|line| line.split_once(": "))
        .map(|(key, value)| (key.to_owned(), value.to_owned()))
        .collect();
    Reply {
        status,
        headers,
        body: body.to_owned(),
    }
}

async fn get(port: u16, target: &str) -> Reply {
    send(port, "GET", target).await
}

/// A bound server expecting [`STATE`], its port, and its `wait` running on a task.
fn start() -> (u16, JoinHandle<Result<Authorization, CallbackError>>) {
    let server = CallbackServer::bind(CallbackOptions::new()).expect("bind");
    server.expect(STATE);
    let port = server.port();
    (port, tokio::spawn(server.wait(DEFAULT_TIMEOUT)))
}

async fn assert_refused(port: u16) {
    let error = TcpStream::connect(("127.0.0.1", port))
        .await
        .expect_err("the port should be closed");
    assert_eq!(error.kind(), io::ErrorKind::ConnectionRefused);
}

/// Completes a still-waiting flow, proving that what came before did not end it.
async fn finish(port: u16, waiting: JoinHandle<Result<Authorization, CallbackError>>) {
    let reply = get(port, &format!("/callback?code=late&state={STATE}")).await;
    assert_eq!(reply.status, 200);
    let authorization = waiting.await.expect("join").expect("authorized");
    assert_eq!(authorization.code, "late");
}

#[tokio::test]
async fn redirect_uri_uses_the_ip_literal_and_the_bound_port() {
    let server = CallbackServer::bind(CallbackOptions::new()).expect("bind");
    assert_ne!(server.port(), 0);
    assert_eq!(
        server.redirect_uri(),
        format!("http://127.0.0.1:{}/callback", server.port())
    );
    let custom = CallbackServer::bind(CallbackOptions::new().with_path("/oauth/cb")).expect("bind");
    assert!(custom.redirect_uri().ends_with("/oauth/cb"));
}

#[tokio::test]
async fn success_returns_code_state_and_iss_and_closes_the_listener() {
    let server = CallbackServer::bind(CallbackOptions::new()).expect("bind");
    server.expect(STATE);
    let port = server.port();
    assert!(server.is_listening());
    let waiting = tokio::spawn(server.wait(DEFAULT_TIMEOUT));

    let reply = get(
        port,
        &format!("/callback?code=abc%2B1+2&state={STATE}&iss=https%3A%2F%2Fas.example"),
    )
    .await;
    assert_eq!(reply.status, 200);
    let authorization = waiting.await.expect("join").expect("authorized");
    assert_eq!(authorization.code, "abc+1 2");
    assert_eq!(authorization.state, STATE);
    assert_eq!(authorization.iss.as_deref(), Some("https://as.example"));
    assert_refused(port).await;
}

#[tokio::test]
async fn wrong_state_is_rejected_and_flow_keeps_waiting() {
    let (port, waiting) = start();
    let reply = get(port, "/callback?code=stolen&state=0000").await;
    assert_eq!(reply.status, 400);
    assert!(!waiting.is_finished());
    finish(port, waiting).await;
}

#[tokio::test]
async fn missing_state_is_rejected() {
    let (port, waiting) = start();
    assert_eq!(get(port, "/callback?code=abc").await.status, 400);
    assert_eq!(get(port, "/callback?code=abc&state=").await.status, 400);
    finish(port, waiting).await;
}

#[tokio::test]
async fn duplicate_state_or_code_is_rejected() {
    let (port, waiting) = start();
    let twice = format!("/callback?code=a&state={STATE}&state={STATE}");
    assert_eq!(get(port, &twice).await.status, 400);
    let two_codes = format!("/callback?code=a&code=b&state={STATE}");
    assert_eq!(get(port, &two_codes).await.status, 400);
    finish(port, waiting).await;
}

#[tokio::test]
async fn matching_state_without_code_is_rejected() {
    let (port, waiting) = start();
    assert_eq!(
        get(port, &format!("/callback?state={STATE}")).await.status,
        400
    );
    assert_eq!(
        get(port, &format!("/callback?code=&state={STATE}"))
            .await
            .status,
        400
    );
    finish(port, waiting).await;
}

#[tokio::test]
async fn error_with_matching_state_is_authorization_denied() {
    let (port, waiting) = start();
    let target = format!(
        "/callback?error=access_denied&error_description=User+said+no&state={STATE}&iss=https%3A%2F%2Fas.example"
    );
    assert_eq!(get(port, &target).await.status, 200);
    let error = waiting.await.expect("join").expect_err("denied");
    assert!(error.is_denied());
    match error {
        CallbackError::AuthorizationDenied {
            error,
            description,
            iss,
        } => {
            assert_eq!(error, "access_denied");
            assert_eq!(description.as_deref(), Some("User said no"));
            assert_eq!(iss.as_deref(), Some("https://as.example"));
        }
        other => panic!("expected AuthorizationDenied, got {other:?}"),
    }
    assert_refused(port).await;
}

#[tokio::test]
async fn error_with_wrong_state_is_rejected_and_flow_keeps_waiting() {
    let (port, waiting) = start();
    let reply = get(port, "/callback?error=access_denied&state=forged").await;
    assert_eq!(reply.status, 400);
    finish(port, waiting).await;
}

#[tokio::test]
async fn other_methods_get_405_and_flow_keeps_waiting() {
    let (port, waiting) = start();
    let target = format!("/callback?code=abc&state={STATE}");
    for method in ["POST", "HEAD", "PUT"] {
        let reply = send(port, method, &target).await;
        assert_eq!(reply.status, 405, "{method}");
        assert_eq!(reply.header("allow"), Some("GET"));
    }
    finish(port, waiting).await;
}

#[tokio::test]
async fn other_paths_get_404_and_flow_keeps_waiting() {
    let (port, waiting) = start();
    for path in ["/", "/callback/", "/callbackx", "/CALLBACK", "/favicon.ico"] {
        let reply = get(port, &format!("{path}?code=abc&state={STATE}")).await;
        assert_eq!(reply.status, 404, "{path}");
    }
    finish(port, waiting).await;
}

#[tokio::test]
async fn every_response_has_security_headers_and_reflects_no_query_text() {
    let script = "%3Cscript%3Ealert(1)%3C%2Fscript%3E";
    let (port, denied) = start();
    let mut replies = vec![
        get(port, &format!("/callback?code={script}&state=wrong")).await,
        get(port, &format!("/elsewhere?code={script}")).await,
        send(port, "POST", &format!("/callback?code={script}")).await,
        get(
            port,
            &format!("/callback?error={script}&error_description={script}&state={STATE}"),
        )
        .await,
    ];
    denied
        .await
        .expect("join")
        .expect_err("the error callback denies the authorization");
    let (port, authorized) = start();
    replies.push(get(port, &format!("/callback?code={script}&state={STATE}")).await);
    assert_eq!(
        authorized.await.expect("join").expect("authorized").code,
        "<script>alert(1)</script>"
    );

    for reply in &replies {
        assert_eq!(reply.header("cache-control"), Some("no-store"));
        assert_eq!(reply.header("referrer-policy"), Some("no-referrer"));
        let csp = reply.header("content-security-policy").expect("CSP");
        assert!(csp.starts_with("default-src 'none'"), "{csp}");
        assert_eq!(reply.header("x-content-type-options"), Some("nosniff"));
        assert_eq!(
            reply.header("content-type"),
            Some("text/html; charset=utf-8")
        );
        for needle in ["script", "alert", "%3C", "wrong", STATE] {
            assert!(!reply.body.contains(needle), "body reflects {needle:?}");
        }
    }
}

#[tokio::test(start_paused = true)]
async fn no_response_within_the_timeout_is_timeout_and_closes_the_listener() {
    let server = CallbackServer::bind(CallbackOptions::new()).expect("bind");
    server.expect(STATE);
    let port = server.port();
    let error = server
        .wait(DEFAULT_TIMEOUT)
        .await
        .expect_err("nothing arrives");
    assert!(error.is_timeout());
    assert!(matches!(error, CallbackError::Timeout { after } if after == DEFAULT_TIMEOUT));
    assert_refused(port).await;
}

#[tokio::test]
async fn wait_without_expected_state_is_an_error() {
    let server = CallbackServer::bind(CallbackOptions::new()).expect("bind");
    let error = server
        .wait(Duration::from_secs(1))
        .await
        .expect_err("no state");
    assert!(matches!(error, CallbackError::NoStateExpected));
}

#[tokio::test]
async fn dropping_the_server_closes_the_port_at_once() {
    let server = CallbackServer::bind(CallbackOptions::new()).expect("bind");
    let port = server.port();
    drop(
        TcpStream::connect(("127.0.0.1", port))
            .await
            .expect("listening"),
    );
    drop(server);
    assert_refused(port).await;
}

#[tokio::test]
async fn dropping_the_wait_future_closes_the_port_at_once() {
    let server = CallbackServer::bind(CallbackOptions::new()).expect("bind");
    server.expect(STATE);
    let port = server.port();
    let mut waiting = Box::pin(server.wait(DEFAULT_TIMEOUT));
    tokio::select! {
        biased;
        _ = &mut waiting => panic!("nothing was sent"),
        () = std::future::ready(()) => {}
    }
    drop(waiting);
    assert_refused(port).await;
}

#[test]
fn dropping_the_server_needs_no_runtime() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let server = runtime
        .block_on(async { CallbackServer::bind(CallbackOptions::new()) })
        .expect("bind");
    let port = server.port();
    drop(runtime);
    drop(server);
    let error = std::net::TcpStream::connect(("127.0.0.1", port)).expect_err("closed");
    assert_eq!(error.kind(), io::ErrorKind::ConnectionRefused);
}

#[tokio::test]
async fn busy_fixed_port_is_port_in_use() {
    let blocker = std::net::TcpListener::bind("127.0.0.1:0").expect("bind blocker");
    let port = blocker.local_addr().expect("addr").port();
    let error = CallbackServer::bind(CallbackOptions::new().with_port(port))
        .expect_err("the port is taken");
    assert!(matches!(error, CallbackError::PortInUse(p) if p == port));
    assert!(error.to_string().contains(&port.to_string()));
}

#[tokio::test]
async fn free_fixed_port_is_used() {
    let probe = CallbackServer::bind(CallbackOptions::new()).expect("bind");
    let port = probe.port();
    drop(probe);
    let server = CallbackServer::bind(CallbackOptions::new().with_port(port)).expect("bind");
    assert_eq!(
        server.redirect_uri(),
        format!("http://127.0.0.1:{port}/callback")
    );
}

#[tokio::test]
async fn invalid_path_is_rejected() {
    let error = CallbackServer::bind(CallbackOptions::new().with_path("callback"))
        .expect_err("no leading slash");
    assert!(matches!(error, CallbackError::InvalidPath { .. }));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_flows_get_distinct_ports_and_their_own_state() {
    let first = CallbackServer::bind(CallbackOptions::new()).expect("bind");
    let second = CallbackServer::bind(CallbackOptions::new()).expect("bind");
    assert_ne!(first.port(), second.port());
    first.expect("state-one");
    second.expect("state-two");
    let (port_one, port_two) = (first.port(), second.port());
    let one = tokio::spawn(first.wait(DEFAULT_TIMEOUT));
    let two = tokio::spawn(second.wait(DEFAULT_TIMEOUT));

    // Each flow accepts only its own state.
    assert_eq!(
        get(port_one, "/callback?code=x&state=state-two")
            .await
            .status,
        400
    );
    let (reply_one, reply_two) = tokio::join!(
        get(port_one, "/callback?code=c1&state=state-one"),
        get(port_two, "/callback?code=c2&state=state-two"),
    );
    assert_eq!((reply_one.status, reply_two.status), (200, 200));
    assert_eq!(one.await.expect("join").expect("authorized").code, "c1");
    assert_eq!(two.await.expect("join").expect("authorized").code, "c2");
}

#[tokio::test]
async fn twenty_idle_connections_do_not_keep_the_real_redirect_out() {
    let (port, waiting) = start();
    // A local process holding sockets open without ever sending a request (slowloris), more than
    // the listener serves at once.
    let mut idle = Vec::new();
    for _ in 0..20 {
        idle.push(
            TcpStream::connect(("127.0.0.1", port))
                .await
                .expect("connect an idle socket"),
        );
    }
    let reply = get(port, &format!("/callback?code=real&state={STATE}")).await;
    assert_eq!(reply.status, 200);
    let authorization = waiting.await.expect("join").expect("authorized");
    assert_eq!(authorization.code, "real");
    drop(idle);
}

#[tokio::test]
async fn every_response_closes_its_connection() {
    let (port, waiting) = start();
    let mut replies = vec![
        get(port, "/callback?code=a&state=wrong").await,
        get(port, "/elsewhere").await,
        send(port, "POST", "/callback").await,
        send_raw(port, b"GET /callback?code=a HTTP/1.1\r\nHost: h\r\n\r\n").await,
    ];
    replies.push(get(port, &format!("/callback?code=c&state={STATE}")).await);
    assert_eq!(waiting.await.expect("join").expect("authorized").code, "c");
    for reply in &replies {
        assert_eq!(
            reply.header("connection"),
            Some("close"),
            "{}",
            reply.status
        );
        assert_eq!(
            reply.header("content-length"),
            Some(reply.body.len().to_string().as_str())
        );
        assert!(reply.header("date").is_some());
    }
}

#[tokio::test]
async fn a_malformed_request_head_is_400_and_flow_keeps_waiting() {
    let (port, waiting) = start();
    let heads = [
        format!("GET /callback?code=a&state={STATE} HTTP/9.9\r\n\r\n"),
        format!("GET /callback?code=a&state={STATE}\r\n\r\n"),
        format!("GET /callback?code=a&state={STATE} HTTP/1.1\r\nHost h\r\n\r\n"),
        "hello\r\n\r\n".to_owned(),
    ];
    for head in heads {
        let reply = send_raw(port, head.as_bytes()).await;
        assert_eq!(reply.status, 400, "{head:?}");
        assert_eq!(reply.header("cache-control"), Some("no-store"));
        assert!(!reply.body.contains(STATE));
    }
    finish(port, waiting).await;
}

#[tokio::test]
async fn an_oversized_request_head_is_431_and_flow_keeps_waiting() {
    let (port, waiting) = start();
    let head = format!(
        "GET /callback?code=a&state={STATE} HTTP/1.1\r\nX-Filler: {}\r\n\r\n",
        "a".repeat(17 * 1024)
    );
    let reply = send_raw(port, head.as_bytes()).await;
    assert_eq!(reply.status, 431);
    assert_eq!(
        reply
            .header("content-security-policy")
            .map(|csp| csp.starts_with("default-src 'none'")),
        Some(true)
    );
    finish(port, waiting).await;
}

#[tokio::test]
async fn head_gets_405_without_a_body() {
    let (port, waiting) = start();
    let reply = send(port, "HEAD", "/callback").await;
    assert_eq!(reply.status, 405);
    assert_eq!(reply.header("allow"), Some("GET"));
    assert!(reply.body.is_empty());
    finish(port, waiting).await;
}

#[tokio::test]
async fn a_request_body_never_read_does_not_cut_the_response_short() {
    let (port, waiting) = start();
    // The body is never read; the server drains it while closing, so no reset destroys the 405.
    let body = "x".repeat(32 * 1024);
    let request = format!(
        "POST /callback HTTP/1.1\r\nHost: h\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    let reply = send_raw(port, request.as_bytes()).await;
    assert_eq!(reply.status, 405);
    assert!(reply.body.contains("Only GET"));
    finish(port, waiting).await;
}

#[tokio::test(start_paused = true)]
async fn a_request_head_not_complete_within_ten_seconds_is_closed_unanswered() {
    let server = CallbackServer::bind(CallbackOptions::new()).expect("bind");
    server.expect(STATE);
    let mut stream = TcpStream::connect(("127.0.0.1", server.port()))
        .await
        .expect("connect");
    let started = tokio::time::Instant::now();
    stream
        .write_all(b"GET /callback?code=a HTTP/1.1\r\n")
        .await
        .expect("write");
    // More of the head later does not restart the clock: the whole head must arrive in time.
    tokio::time::sleep(Duration::from_secs(6)).await;
    stream.write_all(b"Host: h\r\n").await.expect("write");
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).await.expect("read");
    assert!(raw.is_empty(), "{:?}", String::from_utf8_lossy(&raw));
    let elapsed = started.elapsed();
    assert!(elapsed >= Duration::from_secs(10), "{elapsed:?}");
    assert!(elapsed < Duration::from_secs(16), "{elapsed:?}");
    assert!(server.is_listening());
}
