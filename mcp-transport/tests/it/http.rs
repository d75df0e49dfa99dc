//! The streamable HTTP client against a scripted hyper server on 127.0.0.1.

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use futures::StreamExt;
use futures::future::BoxFuture;
use http::{HeaderMap, Request, Response};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use mcp_retry::{Decision, Retryable};
use mcp_transport::TransportError;
use mcp_transport::auth::{
    AuthChallenge, Authorizer, ChallengeOutcome, Credential, DpopSigner, StaticBearer,
};
use mcp_transport::http::{HttpClient, ProxyConfig, StreamableClient};
use rmcp::model::{ClientJsonRpcMessage, ServerJsonRpcMessage};
use rmcp::transport::streamable_http_client::{
    StreamableHttpClient, StreamableHttpError, StreamableHttpPostResponse,
    StreamableHttpResponseLimits,
};

use crate::scripted::{Body, Server, direct};

/// A response of `status` with exactly `headers` and `body`.
fn respond(status: u16, headers: &[(&str, &str)], body: &str) -> Response<Body> {
    let mut builder = Response::builder().status(status);
    for (name, value) in headers {
        builder = builder.header(*name, *value);
    }
    builder
        .body(Full::new(Bytes::from(body.to_owned())).boxed())
        .expect("a valid response")
}

const PING_RESULT: &str = r#"{"jsonrpc":"2.0","id":1,"result":{}}"#;

fn ping() -> ClientJsonRpcMessage {
    serde_json::from_str(r#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#).expect("a ping")
}

fn notification() -> ClientJsonRpcMessage {
    serde_json::from_str(r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#)
        .expect("a notification")
}

fn client(authorizer: Option<Arc<dyn Authorizer>>) -> StreamableClient {
    HttpClient::new(direct())
        .expect("client")
        .streamable(authorizer, HeaderMap::new())
}

async fn post(
    client: &StreamableClient,
    url: &str,
    message: ClientJsonRpcMessage,
    session: Option<&str>,
) -> Result<StreamableHttpPostResponse, StreamableHttpError<TransportError>> {
    client
        .post_message(
            url.into(),
            message,
            session.map(Arc::from),
            None,
            HashMap::new(),
        )
        .await
}

fn our_error(error: StreamableHttpError<TransportError>) -> TransportError {
    TransportError::from_streamable(error)
}

#[tokio::test]
async fn json_response_is_parsed_with_its_session_id() {
    let server = Server::answering(|_| {
        respond(
            200,
            &[
                ("content-type", "application/json"),
                ("mcp-session-id", "s-1"),
            ],
            PING_RESULT,
        )
    })
    .await;
    let response = post(&client(None), &server.url, ping(), None)
        .await
        .unwrap();
    match response {
        StreamableHttpPostResponse::Json(ServerJsonRpcMessage::Response(_), Some(session)) => {
            assert_eq!(session, "s-1")
        }
        other => panic!("unexpected {other:?}"),
    }
    let seen = &server.requests()[0];
    assert_eq!(seen.method, "POST");
    assert_eq!(
        seen.headers["accept"],
        "application/json, text/event-stream"
    );
    assert_eq!(seen.headers["content-type"], "application/json");
    assert!(
        seen.headers["user-agent"]
            .to_str()
            .unwrap()
            .starts_with("mcpcord/")
    );
}

#[tokio::test]
async fn session_id_and_bearer_token_are_sent() {
    let server = Server::answering(|_| respond(202, &[], "")).await;
    let authorizer: Arc<dyn Authorizer> = Arc::new(StaticBearer::new("secret-token"));
    let response = post(
        &client(Some(authorizer)),
        &server.url,
        notification(),
        Some("s-9"),
    )
    .await
    .unwrap();
    assert!(matches!(response, StreamableHttpPostResponse::Accepted));
    let seen = &server.requests()[0];
    assert_eq!(seen.headers["mcp-session-id"], "s-9");
    assert_eq!(seen.headers["authorization"], "Bearer secret-token");
}

#[tokio::test]
async fn sse_response_yields_events() {
    let body = "event: message\nid: 1\ndata: {\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{}}\n\n";
    let server =
        Server::answering(move |_| respond(200, &[("content-type", "text/event-stream")], body))
            .await;
    let response = post(&client(None), &server.url, ping(), None)
        .await
        .unwrap();
    let StreamableHttpPostResponse::Sse(mut events, _) = response else {
        panic!("not SSE")
    };
    let event = events
        .next()
        .await
        .expect("an event")
        .expect("a valid event");
    assert_eq!(event.id.as_deref(), Some("1"));
    assert!(event.data.unwrap_or_default().contains("\"result\""));
}

/// A ping posted to `server` with response `limits`.
async fn post_with_limits(
    server: &Server,
    limits: StreamableHttpResponseLimits,
) -> Result<StreamableHttpPostResponse, StreamableHttpError<TransportError>> {
    client(None)
        .post_message_with_response_limits(
            server.url.as_str().into(),
            ping(),
            None,
            None,
            HashMap::new(),
            limits,
        )
        .await
}

#[tokio::test]
async fn oversized_sse_event_fails_before_parsing() {
    let data = "x".repeat(10_000);
    let body = format!("data: {data}\n\n");
    let server =
        Server::answering(move |_| respond(200, &[("content-type", "text/event-stream")], &body))
            .await;
    let mut limits = StreamableHttpResponseLimits::default();
    limits.max_sse_event_size = 1024;
    let response = post_with_limits(&server, limits).await.unwrap();
    let StreamableHttpPostResponse::Sse(mut events, _) = response else {
        panic!("not SSE")
    };
    let error = events
        .next()
        .await
        .expect("an item")
        .expect_err("too large");
    assert!(error.to_string().contains("1024-byte limit"), "{error}");
}

#[tokio::test]
async fn oversized_json_is_refused() {
    let body = format!(
        r#"{{"jsonrpc":"2.0","id":1,"result":{{"pad":"{}"}}}}"#,
        "y".repeat(5000)
    );
    let server =
        Server::answering(move |_| respond(200, &[("content-type", "application/json")], &body))
            .await;
    let mut limits = StreamableHttpResponseLimits::default();
    limits.max_json_response_size = 1000;
    let error = post_with_limits(&server, limits).await.unwrap_err();
    let error = our_error(error);
    assert!(error.is_message_too_large(), "{error:?}");
}

#[tokio::test]
async fn not_found_with_a_session_is_session_expired() {
    let server = Server::answering(|_| respond(404, &[], "no such session")).await;
    let error = post(&client(None), &server.url, ping(), Some("gone"))
        .await
        .unwrap_err();
    assert!(matches!(error, StreamableHttpError::SessionExpired));
    let error = our_error(error);
    assert_eq!(error.retry_decision(), Decision::Retry);
}

#[tokio::test]
async fn not_found_without_a_session_is_a_status_error() {
    let server =
        Server::answering(|_| respond(404, &[("content-type", "text/plain")], "nothing here"))
            .await;
    let error = our_error(
        post(&client(None), &server.url, ping(), None)
            .await
            .unwrap_err(),
    );
    assert_eq!(error.status(), Some(404));
    assert!(!error.is_retryable());
    assert_eq!(error.to_string(), "HTTP 404 Not Found: nothing here");
}

#[tokio::test]
async fn too_many_requests_carries_retry_after() {
    let server = Server::answering(|_| respond(429, &[("retry-after", "2")], "slow down")).await;
    let error = our_error(
        post(&client(None), &server.url, ping(), None)
            .await
            .unwrap_err(),
    );
    assert_eq!(error.retry_after(), Some(Duration::from_secs(2)));
    assert_eq!(
        error.retry_decision(),
        Decision::RetryAfter(Duration::from_secs(2))
    );
}

#[tokio::test]
async fn server_error_is_retryable_with_a_sanitised_excerpt() {
    let server =
        Server::answering(|_| respond(500, &[("content-type", "text/plain")], "boom\u{7}\ntrace"))
            .await;
    let error = our_error(
        post(&client(None), &server.url, ping(), None)
            .await
            .unwrap_err(),
    );
    assert_eq!(error.status(), Some(500));
    assert!(error.is_retryable());
    assert_eq!(
        error.to_string(),
        "HTTP 500 Internal Server Error: boom  trace"
    );
}

#[tokio::test]
async fn json_rpc_error_in_a_failed_response_is_delivered() {
    let body = r#"{"jsonrpc":"2.0","id":1,"error":{"code":-32600,"message":"bad"}}"#;
    let server =
        Server::answering(move |_| respond(400, &[("content-type", "application/json")], body))
            .await;
    let response = post(&client(None), &server.url, ping(), None)
        .await
        .unwrap();
    assert!(matches!(
        response,
        StreamableHttpPostResponse::Json(ServerJsonRpcMessage::Error(_), _)
    ));
}

const CHALLENGE: &str = r#"Bearer error="invalid_token", resource_metadata="http://127.0.0.1/.well-known/oauth-protected-resource/mcp", scope="fixture.read""#;

#[tokio::test]
async fn unauthorized_carries_the_parsed_challenge() {
    let server = Server::answering(|_| respond(401, &[("www-authenticate", CHALLENGE)], "")).await;
    let error = post(&client(None), &server.url, ping(), None)
        .await
        .unwrap_err();
    assert!(matches!(error, StreamableHttpError::AuthRequired(_)));
    let error = our_error(error);
    assert!(error.is_auth_required(), "{error:?}");
    assert!(!error.is_retryable());
    let challenge = error.challenge().expect("a challenge");
    assert_eq!(challenge.scope(), Some("fixture.read"));
    assert!(challenge.resource_metadata().is_some());
}

#[tokio::test]
async fn forbidden_with_insufficient_scope_names_the_scope() {
    let header = r#"Bearer error="insufficient_scope", scope="admin""#;
    let server =
        Server::answering(move |_| respond(403, &[("www-authenticate", header)], "")).await;
    let error = post(&client(None), &server.url, ping(), None)
        .await
        .unwrap_err();
    match &error {
        StreamableHttpError::InsufficientScope(scope) => {
            assert_eq!(scope.get_required_scope(), Some("admin"))
        }
        other => panic!("unexpected {other:?}"),
    }
}

/// Hands out "old" until challenged, then "new"; counts challenges.
#[derive(Debug, Default)]
struct Rotating {
    challenged: AtomicUsize,
}

impl Authorizer for Rotating {
    fn bearer_token(&self) -> BoxFuture<'_, Result<Option<String>, TransportError>> {
        Box::pin(async move {
            Ok(Some(
                if self.challenged.load(Ordering::SeqCst) == 0 {
                    "old"
                } else {
                    "new"
                }
                .to_owned(),
            ))
        })
    }

    fn on_challenge<'a>(
        &'a self,
        challenge: &'a AuthChallenge,
    ) -> BoxFuture<'a, Result<ChallengeOutcome, TransportError>> {
        Box::pin(async move {
            assert_eq!(challenge.rejected_token.as_deref(), Some("old"));
            self.challenged.fetch_add(1, Ordering::SeqCst);
            Ok(ChallengeOutcome::RetryWithNewToken)
        })
    }
}

#[tokio::test]
async fn a_challenge_is_retried_once_with_the_new_token() {
    let server = Server::answering(|seen| {
        if seen
            .headers
            .get("authorization")
            .is_some_and(|value| value == "Bearer new")
        {
            respond(200, &[("content-type", "application/json")], PING_RESULT)
        } else {
            respond(401, &[("www-authenticate", CHALLENGE)], "")
        }
    })
    .await;
    let authorizer = Arc::new(Rotating::default());
    let response = post(&client(Some(authorizer.clone())), &server.url, ping(), None)
        .await
        .unwrap();
    assert!(matches!(response, StreamableHttpPostResponse::Json(..)));
    assert_eq!(authorizer.challenged.load(Ordering::SeqCst), 1);
    assert_eq!(server.requests().len(), 2);
}

#[tokio::test]
async fn a_second_challenge_is_final() {
    let server = Server::answering(|_| respond(401, &[("www-authenticate", CHALLENGE)], "")).await;
    let authorizer = Arc::new(Rotating::default());
    let error = post(&client(Some(authorizer.clone())), &server.url, ping(), None)
        .await
        .unwrap_err();
    assert!(matches!(error, StreamableHttpError::AuthRequired(_)));
    assert_eq!(authorizer.challenged.load(Ordering::SeqCst), 1);
    assert_eq!(server.requests().len(), 2, "one retry, no loop");
}

/// A DPoP-bound "bound" token whose proofs name the nonce they carry ("proof-N;nonce=...").
#[derive(Debug, Default)]
struct Proving {
    proofs: AtomicUsize,
    nonce: std::sync::Mutex<Option<String>>,
    challenged: AtomicUsize,
}

impl DpopSigner for Proving {
    fn proof(
        &self,
        method: &http::Method,
        _url: &str,
        access_token: &str,
    ) -> Result<String, TransportError> {
        let n = self.proofs.fetch_add(1, Ordering::SeqCst);
        let nonce = self
            .nonce
            .lock()
            .expect("nonce")
            .clone()
            .unwrap_or_default();
        Ok(format!("proof-{n};{method};{access_token};nonce={nonce}"))
    }

    fn nonce(&self, nonce: &str) {
        *self.nonce.lock().expect("nonce") = Some(nonce.to_owned());
    }
}

/// Hands out the bound token with `signer`; counts challenges, and asks for no retry.
#[derive(Debug)]
struct BoundAuthorizer(Arc<Proving>);

impl Authorizer for BoundAuthorizer {
    fn bearer_token(&self) -> BoxFuture<'_, Result<Option<String>, TransportError>> {
        Box::pin(async { Ok(Some("bound".to_owned())) })
    }

    fn credential(&self) -> BoxFuture<'_, Result<Option<Credential>, TransportError>> {
        let signer: Arc<dyn DpopSigner> = self.0.clone();
        Box::pin(async move { Ok(Some(Credential::dpop("bound", signer))) })
    }

    fn on_challenge<'a>(
        &'a self,
        _challenge: &'a AuthChallenge,
    ) -> BoxFuture<'a, Result<ChallengeOutcome, TransportError>> {
        Box::pin(async move {
            self.0.challenged.fetch_add(1, Ordering::SeqCst);
            Ok(ChallengeOutcome::Fail)
        })
    }
}

const NONCE_CHALLENGE: &str = r#"DPoP error="use_dpop_nonce", algs="ES256""#;

#[tokio::test]
async fn a_bound_token_goes_as_dpop_with_a_fresh_proof_and_a_nonce_refusal_is_retried_once() {
    let server = Server::answering(|seen| {
        let proof = seen
            .headers
            .get("dpop")
            .and_then(|value| value.to_str().ok());
        if proof.is_some_and(|proof| proof.ends_with("nonce=n-1")) {
            respond(200, &[("content-type", "application/json")], PING_RESULT)
        } else {
            respond(
                401,
                &[("www-authenticate", NONCE_CHALLENGE), ("dpop-nonce", "n-1")],
                "",
            )
        }
    })
    .await;
    let signer = Arc::new(Proving::default());
    let authorizer = Arc::new(BoundAuthorizer(signer.clone()));
    let response = post(&client(Some(authorizer)), &server.url, ping(), None)
        .await
        .unwrap();
    assert!(matches!(response, StreamableHttpPostResponse::Json(..)));
    let seen = server.requests();
    assert_eq!(seen.len(), 2);
    for request in &seen {
        assert_eq!(request.headers["authorization"], "DPoP bound");
    }
    assert_eq!(seen[0].headers["dpop"], "proof-0;POST;bound;nonce=");
    assert_eq!(seen[1].headers["dpop"], "proof-1;POST;bound;nonce=n-1");
    // The nonce is no reason to ask the authorizer for another token.
    assert_eq!(signer.challenged.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn a_second_nonce_refusal_goes_to_the_authorizer_and_no_further() {
    let server = Server::answering(|_| {
        respond(
            401,
            &[
                ("www-authenticate", NONCE_CHALLENGE),
                ("dpop-nonce", "n-again"),
            ],
            "",
        )
    })
    .await;
    let signer = Arc::new(Proving::default());
    let authorizer = Arc::new(BoundAuthorizer(signer.clone()));
    let error = post(&client(Some(authorizer)), &server.url, ping(), None)
        .await
        .unwrap_err();
    assert!(matches!(error, StreamableHttpError::AuthRequired(_)));
    assert_eq!(server.requests().len(), 2, "one nonce retry, no loop");
    assert_eq!(signer.challenged.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn a_nonce_refusal_without_a_nonce_is_not_retried() {
    let server =
        Server::answering(|_| respond(401, &[("www-authenticate", NONCE_CHALLENGE)], "")).await;
    let signer = Arc::new(Proving::default());
    let authorizer = Arc::new(BoundAuthorizer(signer.clone()));
    post(&client(Some(authorizer)), &server.url, ping(), None)
        .await
        .unwrap_err();
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test]
async fn same_origin_307_is_followed_with_the_body() {
    let server = Server::answering(|seen| {
        if seen.path == "/mcp" {
            respond(307, &[("location", "/moved")], "")
        } else {
            respond(200, &[("content-type", "application/json")], PING_RESULT)
        }
    })
    .await;
    let response = post(&client(None), &server.url, ping(), None)
        .await
        .unwrap();
    assert!(matches!(response, StreamableHttpPostResponse::Json(..)));
    let paths: Vec<String> = server
        .requests()
        .into_iter()
        .map(|seen| seen.path)
        .collect();
    assert_eq!(paths, ["/mcp", "/moved"]);
}

#[tokio::test]
async fn cross_origin_redirect_is_not_followed() {
    let server =
        Server::answering(|_| respond(308, &[("location", "http://127.0.0.2:1/elsewhere")], ""))
            .await;
    let error = our_error(
        post(&client(None), &server.url, ping(), None)
            .await
            .unwrap_err(),
    );
    assert_eq!(error.status(), Some(308));
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test]
async fn redirect_loops_stop() {
    let server = Server::answering(|_| respond(307, &[("location", "/mcp")], "")).await;
    let error = our_error(
        post(&client(None), &server.url, ping(), None)
            .await
            .unwrap_err(),
    );
    assert!(error.is_protocol(), "{error:?}");
    assert_eq!(server.requests().len(), 11);
}

#[tokio::test]
async fn get_stream_405_means_no_stream() {
    let server = Server::answering(|_| respond(405, &[], "")).await;
    let error = client(None)
        .get_stream(
            server.url.as_str().into(),
            Some("s".into()),
            None,
            None,
            HashMap::new(),
        )
        .await
        .err()
        .expect("an error");
    assert!(matches!(
        error,
        StreamableHttpError::ServerDoesNotSupportSse
    ));
}

#[tokio::test]
async fn get_stream_sends_last_event_id() {
    let server = Server::answering(|_| {
        respond(200, &[("content-type", "text/event-stream")], "data: x\n\n")
    })
    .await;
    let stream = client(None)
        .get_stream(
            server.url.as_str().into(),
            Some("s".into()),
            Some("42".into()),
            None,
            HashMap::new(),
        )
        .await;
    if let Err(error) = stream {
        panic!("the stream opens: {error:?}");
    }
    assert_eq!(server.requests()[0].headers["last-event-id"], "42");
}

#[tokio::test]
async fn delete_tolerates_405() {
    let server = Server::answering(|_| respond(405, &[], "")).await;
    let result = client(None)
        .delete_session(server.url.as_str().into(), "s".into(), None, HashMap::new())
        .await;
    if let Err(error) = result {
        panic!("405 is not an error for DELETE: {error:?}");
    }
    assert_eq!(server.requests()[0].method, "DELETE");
    assert_eq!(server.requests()[0].headers["mcp-session-id"], "s");
}

#[tokio::test]
async fn reserved_custom_header_is_refused() {
    let server = Server::answering(|_| respond(202, &[], "")).await;
    let mut headers = HashMap::new();
    headers.insert(
        http::HeaderName::from_static("mcp-session-id"),
        http::HeaderValue::from_static("x"),
    );
    let error = client(None)
        .post_message(server.url.as_str().into(), ping(), None, None, headers)
        .await
        .unwrap_err();
    assert!(matches!(
        error,
        StreamableHttpError::ReservedHeaderConflict(_)
    ));
}

#[tokio::test]
async fn connection_refused_names_the_address_and_is_retryable() {
    // Bind then drop, so the port is very likely closed.
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let url = format!("http://127.0.0.1:{port}/mcp");
    let error = our_error(post(&client(None), &url, ping(), None).await.unwrap_err());
    assert!(error.is_connection_refused(), "{error:?}");
    assert!(error.is_retryable());
    assert_eq!(
        error.to_string(),
        format!("connection refused by 127.0.0.1:{port}; is the server running?")
    );
}

#[tokio::test(start_paused = true)]
async fn a_silent_server_times_out() {
    // Accepts connections and never answers.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/mcp", listener.local_addr().unwrap());
    let _keep = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((stream, _)) = listener.accept().await {
            held.push(stream);
        }
    });
    let mut options = direct();
    options.request_timeout = Duration::from_secs(3);
    let client = HttpClient::new(options)
        .unwrap()
        .streamable(None, HeaderMap::new());
    let error = our_error(post(&client, &url, ping(), None).await.unwrap_err());
    assert!(error.is_timeout(), "{error:?}");
    assert!(error.is_retryable());
    assert_eq!(error.to_string(), "the HTTP request timed out after 3s");
}

/// A loopback HTTPS server with a fresh self-signed certificate; returns its URL and the CA PEM.
async fn tls_server() -> (
    String,
    String,
    tokio::task::JoinHandle<()>,
    Arc<Mutex<Vec<String>>>,
) {
    let certified =
        rcgen::generate_simple_self_signed(vec!["localhost".to_owned(), "127.0.0.1".to_owned()])
            .expect("a certificate");
    let pem = certified.cert.pem();
    let key = rustls::pki_types::PrivateKeyDer::Pkcs8(certified.signing_key.serialize_der().into());
    let mut config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .expect("protocol versions")
    .with_no_client_auth()
    .with_single_cert(vec![certified.cert.der().clone()], key)
    .expect("a server config");
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind loopback");
    let url = format!(
        "https://localhost:{}/mcp",
        listener.local_addr().expect("address").port()
    );
    let versions: Arc<Mutex<Vec<String>>> = Arc::default();
    let log = Arc::clone(&versions);
    let task = tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            let log = Arc::clone(&log);
            tokio::spawn(async move {
                let Ok(stream) = acceptor.accept(stream).await else {
                    return;
                };
                // Records the HTTP version of each request, so tests can check what ALPN chose.
                let service = service_fn(move |request: Request<Incoming>| {
                    log.lock()
                        .expect("log")
                        .push(format!("{:?}", request.version()));
                    async {
                        Ok::<_, Infallible>(respond(
                            200,
                            &[("content-type", "application/json")],
                            PING_RESULT,
                        ))
                    }
                });
                let _ = hyper_util::server::conn::auto::Builder::new(
                    hyper_util::rt::TokioExecutor::new(),
                )
                .serve_connection(TokioIo::new(stream), service)
                .await;
            });
        }
    });
    (url, pem, task, versions)
}

#[tokio::test]
async fn self_signed_certificate_is_refused_as_a_tls_error() {
    let (url, _pem, server, _) = tls_server().await;
    let error = our_error(post(&client(None), &url, ping(), None).await.unwrap_err());
    server.abort();
    assert!(error.is_tls(), "{error:?}");
    assert!(!error.is_retryable());
    assert!(
        error
            .to_string()
            .starts_with("TLS with localhost failed: invalid peer certificate"),
        "{error}"
    );
}

#[tokio::test]
async fn extra_ca_file_makes_a_self_signed_certificate_trusted() {
    let (url, pem, server, versions) = tls_server().await;
    let dir = std::env::temp_dir().join(format!("mcp-transport-ca-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let ca_file = dir.join("ca.pem");
    std::fs::write(&ca_file, pem).unwrap();
    let mut options = direct();
    options.extra_ca_file = Some(ca_file);
    let client = HttpClient::new(options)
        .unwrap()
        .streamable(None, HeaderMap::new());
    let response = post(&client, &url, ping(), None).await;
    server.abort();
    std::fs::remove_dir_all(&dir).unwrap();
    assert!(
        matches!(response, Ok(StreamableHttpPostResponse::Json(..))),
        "{response:?}"
    );
    assert_eq!(
        versions.lock().unwrap().as_slice(),
        ["HTTP/2.0"],
        "ALPN chose HTTP/2"
    );
}

#[test]
fn unusable_ca_file_is_a_build_error_naming_it() {
    let mut options = direct();
    options.extra_ca_file = Some("/no/such/ca.pem".into());
    let error = HttpClient::new(options).unwrap_err();
    assert!(
        error
            .to_string()
            .starts_with("extra CA file /no/such/ca.pem:"),
        "{error}"
    );
}

#[tokio::test]
async fn invalid_urls_are_refused_up_front() {
    let client = HttpClient::new(direct()).unwrap();
    for url in ["ftp://example.com/mcp", "not a url", "/relative"] {
        let error = client
            .transport(url, None, Default::default())
            .expect_err("refused");
        assert!(error.is_protocol(), "{url}: {error:?}");
    }
}

/// A minimal forward proxy on loopback: CONNECT is tunnelled to its target; any other request is
/// answered by the proxy itself with a ping result. Records each request line.
async fn start_proxy() -> (String, Arc<Mutex<Vec<String>>>, tokio::task::JoinHandle<()>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind loopback");
    let url = format!("http://{}", listener.local_addr().expect("address"));
    let lines: Arc<Mutex<Vec<String>>> = Arc::default();
    let log = Arc::clone(&lines);
    let task = tokio::spawn(async move {
        while let Ok((mut client, _)) = listener.accept().await {
            let log = Arc::clone(&log);
            tokio::spawn(async move {
                let mut head = Vec::new();
                let mut byte = [0u8; 1];
                while !head.ends_with(b"\r\n\r\n") {
                    if client.read(&mut byte).await.unwrap_or(0) == 0 {
                        return;
                    }
                    head.push(byte[0]);
                }
                let head = String::from_utf8_lossy(&head).into_owned();
                let line = head.lines().next().unwrap_or_default().to_owned();
                log.lock().expect("log").push(line.clone());
                if let Some(target) = line
                    .strip_prefix("CONNECT ")
                    .and_then(|rest| rest.split(' ').next())
                {
                    let Ok(mut upstream) = tokio::net::TcpStream::connect(target).await else {
                        return;
                    };
                    let _ = client
                        .write_all(b"HTTP/1.1 200 Connection Established\r\n\r\n")
                        .await;
                    let _ = tokio::io::copy_bidirectional(&mut client, &mut upstream).await;
                } else {
                    let length: usize = head
                        .lines()
                        .find_map(|header| {
                            let (name, value) = header.split_once(':')?;
                            name.eq_ignore_ascii_case("content-length")
                                .then(|| value.trim().parse().ok())?
                        })
                        .unwrap_or(0);
                    let mut body = vec![0u8; length];
                    let _ = client.read_exact(&mut body).await;
                    let response = format!(
                        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{PING_RESULT}",
                        PING_RESULT.len()
                    );
                    let _ = client.write_all(response.as_bytes()).await;
                }
            });
        }
    });
    (url, lines, task)
}

#[tokio::test]
async fn http_proxy_gets_absolute_form_requests() {
    let (proxy, lines, task) = start_proxy().await;
    let mut options = direct();
    options.proxy = ProxyConfig::Explicit {
        http: Some(proxy),
        https: None,
        no_proxy: None,
    };
    let client = HttpClient::new(options)
        .unwrap()
        .streamable(None, HeaderMap::new());
    // Nothing listens at the target: only the proxy can answer.
    let response = post(&client, "http://127.0.0.1:9/mcp", ping(), None).await;
    task.abort();
    assert!(
        matches!(response, Ok(StreamableHttpPostResponse::Json(..))),
        "{response:?}"
    );
    assert_eq!(
        lines.lock().unwrap().as_slice(),
        ["POST http://127.0.0.1:9/mcp HTTP/1.1"]
    );
}

#[tokio::test]
async fn https_goes_through_a_connect_tunnel() {
    let (proxy, lines, proxy_task) = start_proxy().await;
    let (url, pem, server, versions) = tls_server().await;
    let dir = std::env::temp_dir().join(format!("mcp-transport-proxy-ca-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let ca_file = dir.join("ca.pem");
    std::fs::write(&ca_file, pem).unwrap();
    let mut options = direct();
    options.extra_ca_file = Some(ca_file);
    options.proxy = ProxyConfig::Explicit {
        http: None,
        https: Some(proxy),
        no_proxy: None,
    };
    let client = HttpClient::new(options)
        .unwrap()
        .streamable(None, HeaderMap::new());
    let response = post(&client, &url, ping(), None).await;
    proxy_task.abort();
    server.abort();
    std::fs::remove_dir_all(&dir).unwrap();
    assert!(
        matches!(response, Ok(StreamableHttpPostResponse::Json(..))),
        "{response:?}"
    );
    let target = url
        .trim_start_matches("https://")
        .trim_end_matches("/mcp")
        .to_owned();
    assert_eq!(
        lines.lock().unwrap().as_slice(),
        [format!("CONNECT {target} HTTP/1.1")]
    );
    assert_eq!(versions.lock().unwrap().as_slice(), ["HTTP/2.0"]);
}

#[tokio::test]
async fn no_proxy_hosts_are_reached_directly() {
    let (proxy, lines, task) = start_proxy().await;
    let server =
        Server::answering(|_| respond(200, &[("content-type", "application/json")], PING_RESULT))
            .await;
    let mut options = direct();
    options.proxy = ProxyConfig::Explicit {
        http: Some(proxy),
        https: None,
        no_proxy: Some("127.0.0.1".to_owned()),
    };
    let client = HttpClient::new(options)
        .unwrap()
        .streamable(None, HeaderMap::new());
    let response = post(&client, &server.url, ping(), None).await;
    task.abort();
    assert!(
        matches!(response, Ok(StreamableHttpPostResponse::Json(..))),
        "{response:?}"
    );
    assert!(lines.lock().unwrap().is_empty());
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test]
async fn unresolvable_host_is_a_dns_error_naming_it() {
    // `.invalid` never resolves (RFC 6761). Whether the resolver says "no such name" (final) or "try
    // again" (no DNS server reachable) depends on the machine; the decision must follow what it said.
    let error = our_error(
        post(
            &client(None),
            "http://no-such-host.invalid/mcp",
            ping(),
            None,
        )
        .await
        .unwrap_err(),
    );
    match &error {
        TransportError::Dns {
            host, temporary, ..
        } => {
            assert_eq!(host, "no-such-host.invalid");
            assert_eq!(error.is_retryable(), *temporary);
        }
        other => panic!("unexpected {other:?}"),
    }
    assert!(
        error
            .to_string()
            .starts_with("could not resolve host no-such-host.invalid: "),
        "{error}"
    );
}

#[test]
fn temporary_dns_failures_are_retried_and_missing_names_are_not() {
    let dns = |temporary| TransportError::Dns {
        host: "example.test".into(),
        detail: String::new(),
        temporary,
    };
    assert_eq!(dns(true).retry_decision(), Decision::Retry);
    assert_eq!(dns(false).retry_decision(), Decision::Stop);
}

#[tokio::test]
async fn sequential_requests_reuse_one_pooled_connection() {
    let server =
        Server::answering(|_| respond(200, &[("content-type", "application/json")], PING_RESULT))
            .await;
    let client = client(None);
    for _ in 0..5 {
        post(&client, &server.url, ping(), None).await.unwrap();
    }
    assert_eq!(server.requests().len(), 5);
    assert_eq!(server.connections.load(Ordering::SeqCst), 1);
}
